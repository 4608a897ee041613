/*
 * priv.c -- giving up root (priv.h says the contract).
 *
 * Capabilities without libcap: the raw capget/capset system calls with
 * <linux/capability.h>, the bounding set with prctl(PR_CAPBSET_*).  The
 * order is the one that works: the bounding set while we still have
 * CAP_SETPCAP, the groups and the gid while we still have CAP_SETGID,
 * the uid last.  PR_SET_KEEPCAPS keeps the permitted set across the uid
 * change when the runner needs CAP_SETUID and CAP_SETGID later.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mcpd.h"
#include "priv.h"

/* capabilities as one 64-bit mask: two __user_cap_data_struct words */
#define CAP_BIT(c)	(1ULL << (c))
#define CAP_SETID_MASK	(CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID))
/* capability numbers probed for the bounding set (the kernel has ~41) */
#define CAP_PROBE_MAX		64
/* getpwnam_r/getgrnam_r buffer when sysconf does not say */
#define PW_BUF_BYTES		16384
/* a group's member list may need more; doubled up to this */
#define GR_BUF_MAX_BYTES	(1024 * 1024)

struct capsets {
	uint64_t	cs_eff;
	uint64_t	cs_prm;
	uint64_t	cs_inh;
};

static int
cap_get(struct capsets *cs)
{
	struct __user_cap_header_struct	h;
	struct __user_cap_data_struct	d[_LINUX_CAPABILITY_U32S_3];

	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	cs->cs_eff = d[0].effective | (uint64_t)d[1].effective << 32;
	cs->cs_prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	cs->cs_inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int
cap_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct	h;
	struct __user_cap_data_struct	d[_LINUX_CAPABILITY_U32S_3];

	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)prm;
	d[1].permitted = (uint32_t)(prm >> 32);
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

/* "not found" from getpw*_r/getgr*_r: 0 or one of these (getpwnam(3)) */
static int
not_found(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF ||
	    e == EPERM;
}

static size_t
pw_buf_size(int name)
{
	long	n = sysconf(name);

	return n > 0 ? (size_t)n : PW_BUF_BYTES;
}

int
priv_user(const char *name, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd	 pw, *r = NULL;
	char		*buf;
	size_t		 len = pw_buf_size(_SC_GETPW_R_SIZE_MAX);
	int		 e;

	if ((buf = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e = getpwnam_r(name, &pw, buf, len, &r);
	if (r == NULL) {
		if (not_found(e))
			snprintf(err, errlen, "unknown user \"%s\"", name);
		else
			snprintf(err, errlen, "user \"%s\": %s", name,
			    strerror(e));
		free(buf);
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	free(buf);
	return 0;
}

int
priv_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group	 gr, *r = NULL;
	char		*buf;
	size_t		 len = pw_buf_size(_SC_GETGR_R_SIZE_MAX);
	int		 e;

	/* a group of many members needs more than sysconf says */
	for (;;) {
		if ((buf = malloc(len)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		e = getgrnam_r(name, &gr, buf, len, &r);
		if (e != ERANGE || len >= GR_BUF_MAX_BYTES)
			break;
		free(buf);
		len *= 2;
	}
	if (r == NULL) {
		if (not_found(e))
			snprintf(err, errlen, "unknown group \"%s\"", name);
		else
			snprintf(err, errlen, "group \"%s\": %s", name,
			    strerror(e));
		free(buf);
		return -1;
	}
	*gid = gr.gr_gid;
	free(buf);
	return 0;
}

int
priv_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid,
    char *err, size_t errlen)
{
	if (priv_user(user, uid, gid, err, errlen) == -1)
		return -1;
	if (group != NULL && group[0] != '\0' &&
	    priv_group(group, gid, err, errlen) == -1)
		return -1;
	return 0;
}

int
priv_tools_switch(const struct conf *c)
{
	uint32_t	i;

	for (i = 0; i < c->c_ntools; i++)
		if (c->c_tools[i].t_user != NULL)
			return 1;
	return 0;
}

int
priv_announce(const struct conf *c, const char *who, uid_t *uid, gid_t *gid)
{
	char	err[256], grp[CONF_USER_MAX_BYTES + 16];

	if (c->c_user[0] == '\0') {
		if (geteuid() == 0)
			log_warnx("no \"user\" in %s: %s run as root (see "
			    "user in mcpd.conf(5))", c->c_file, who);
		return 0;
	}
	if (priv_lookup(c->c_user, c->c_group, uid, gid, err,
	    sizeof(err)) == -1) {
		log_warnx("user: %s", err);
		return 0;
	}
	if (geteuid() != 0) {
		if (*uid != geteuid() || *gid != getegid())
			log_warnx("user %s: ignored: mcpd does not run as "
			    "root, so %s stay uid %lu gid %lu", c->c_user, who,
			    (unsigned long)geteuid(), (unsigned long)getegid());
		return 0;
	}
	if (c->c_group[0] != '\0')
		snprintf(grp, sizeof(grp), "group %s", c->c_group);
	else
		snprintf(grp, sizeof(grp), "the user's group");
	log_info("%s run as user %s (uid %lu), %s (gid %lu), no "
	    "supplementary groups, no capabilities%s", who, c->c_user,
	    (unsigned long)*uid, grp, (unsigned long)*gid,
	    priv_tools_switch(c) ? " (the runner holds CAP_SETUID and "
	    "CAP_SETGID: a tool names a user)" : "");
	return 1;
}

static void drop_fail(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A drop that fails: never serve as root by accident, never retry. */
static void
drop_fail(const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_crit("cannot drop privileges: %s; exiting with status %d "
	    "(not restarted)", msg, EXIT_NORESTART);
	exit(EXIT_NORESTART);
}

/*
 * Empty the bounding set but keep: no program this process runs gains
 * what we dropped through file capabilities.  A kernel without CAP_SETPCAP
 * for us (some containers) cannot; that is said, not fatal: with no uid 0
 * and no capability the bounding set gives nothing.
 */
static void
bounding_drop(uint64_t keep)
{
	int	c, warned = 0;

	for (c = 0; c < CAP_PROBE_MAX; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == -1)
			break;		/* past the kernel's last one */
		if ((keep & CAP_BIT(c)) != 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && !warned) {
			log_warn("capability bounding set: drop %d", c);
			warned = 1;
		}
	}
}

void
priv_drop(const struct conf *c, int keep_setid)
{
	struct capsets	 cs;
	char		 err[256];
	uid_t		 uid, ru, eu, su;
	gid_t		 gid, rg, eg, sg;
	uint64_t	 keep = keep_setid ? CAP_SETID_MASK : 0;
	int		 n;

	/* the supervisor said once what this means (priv_announce) */
	if (c->c_user[0] == '\0' || geteuid() != 0)
		return;
	if (priv_lookup(c->c_user, c->c_group, &uid, &gid, err,
	    sizeof(err)) == -1)
		drop_fail("%s", err);
	if (uid == 0 || gid == 0)
		drop_fail("user %s, group %s: uid %lu gid %lu is root",
		    c->c_user, c->c_group[0] ? c->c_group : "(primary)",
		    (unsigned long)uid, (unsigned long)gid);

	bounding_drop(keep);
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		drop_fail("PR_SET_KEEPCAPS: %s", strerror(errno));
	if (setgroups(0, NULL) == -1)
		drop_fail("setgroups: %s", strerror(errno));
	if (setresgid(gid, gid, gid) == -1)
		drop_fail("setresgid %lu: %s", (unsigned long)gid,
		    strerror(errno));
	if (setresuid(uid, uid, uid) == -1)
		drop_fail("setresuid %lu: %s", (unsigned long)uid,
		    strerror(errno));
	/* held, not effective: setuid(0) fails until priv_become */
	if (cap_set(0, keep, 0) == -1)
		drop_fail("capset: %s", strerror(errno));
	if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		drop_fail("PR_SET_KEEPCAPS: %s", strerror(errno));
	/* kernels before 4.3 have no ambient set: nothing to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		drop_fail("clear the ambient capabilities: %s",
		    strerror(errno));

	/* believe nothing: look */
	if (getresuid(&ru, &eu, &su) == -1 || ru != uid || eu != uid ||
	    su != uid || getuid() != uid || geteuid() != uid)
		drop_fail("uid is not %lu after setresuid",
		    (unsigned long)uid);
	if (getresgid(&rg, &eg, &sg) == -1 || rg != gid || eg != gid ||
	    sg != gid || getgid() != gid || getegid() != gid)
		drop_fail("gid is not %lu after setresgid",
		    (unsigned long)gid);
	if ((n = getgroups(0, NULL)) != 0)
		drop_fail("%d supplementary groups after setgroups", n);
	if (cap_get(&cs) == -1)
		drop_fail("capget: %s", strerror(errno));
	if (cs.cs_eff != 0 || cs.cs_inh != 0 || cs.cs_prm != keep)
		drop_fail("capabilities left: effective %#llx, permitted "
		    "%#llx, inheritable %#llx", (unsigned long long)cs.cs_eff,
		    (unsigned long long)cs.cs_prm,
		    (unsigned long long)cs.cs_inh);
	if (setuid(0) != -1)
		drop_fail("setuid(0) succeeded after the drop");
	if (setgid(0) != -1)
		drop_fail("setgid(0) succeeded after the drop");
	log_debug("running as uid %lu gid %lu, no supplementary groups%s",
	    (unsigned long)uid, (unsigned long)gid, keep ? ", CAP_SETUID and "
	    "CAP_SETGID permitted (not effective) for tools" : "");
}

int
priv_become(uid_t uid, gid_t gid)
{
	struct capsets	cs;
	uid_t		ru, eu, su;
	gid_t		rg, eg, sg;

	if (uid == 0 || gid == 0) {
		errno = EPERM;
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		if (cap_get(&cs) == -1)
			return -1;
		/* raise what priv_drop() held back (root has it already) */
		if ((cs.cs_prm & CAP_SETID_MASK) != CAP_SETID_MASK) {
			errno = EPERM;
			return -1;
		}
		if (cap_set(CAP_SETID_MASK, CAP_SETID_MASK, 0) == -1 ||
		    setgroups(0, NULL) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1)
			return -1;
	}
	/* the tool starts with none, whatever it runs */
	if (cap_set(0, 0, 0) == -1)
		return -1;
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || cap_get(&cs) == -1 || cs.cs_eff != 0 ||
	    cs.cs_prm != 0 || setuid(0) != -1) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
priv_watch(uid_t uid)
{
	struct capsets	cs;
	uid_t		ru, eu, su;

	if (getresuid(&ru, &eu, &su) == -1)
		return -1;
	if (eu == uid)
		return 0;
	if (uid == 0) {
		errno = EPERM;
		return -1;
	}
	if (cap_get(&cs) == -1)
		return -1;
	if ((cs.cs_prm & CAP_SETID_MASK) != CAP_SETID_MASK) {
		errno = EPERM;
		return -1;
	}
	if (cap_set(CAP_BIT(CAP_SETUID), CAP_SETID_MASK, 0) == -1 ||
	    setresuid(-1, uid, -1) == -1 ||
	    cap_set(0, CAP_SETID_MASK, 0) == -1)
		return -1;
	if (getresuid(&ru, &eu, &su) == -1 || eu != uid || ru == uid ||
	    su == uid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The real uid of a process, from /proc/PID/status: 0, or -1. */
static int
proc_uid(pid_t pid, uid_t *uid)
{
	char		 path[64], buf[4096], *p;
	unsigned long	 u;
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nUid:")) == NULL ||
	    sscanf(p + 5, "%lu", &u) != 1)
		return -1;
	*uid = (uid_t)u;
	return 0;
}

int
priv_kill(pid_t pid, int sig)
{
	pid_t	c;
	uid_t	uid;
	int	status, e;

	if (kill(pid, sig) == 0)
		return 0;
	if ((e = errno) != EPERM)
		return -1;
	if (proc_uid(pid, &uid) == -1 || uid == 0) {
		errno = e;
		return -1;
	}
	switch (c = fork()) {
	case -1:
		return -1;
	case 0:
		if (priv_watch(uid) == -1)
			_exit(errno & 0xff);
		_exit(kill(pid, sig) == 0 ? 0 : errno & 0xff);
	}
	while (waitpid(c, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = WIFEXITED(status) ? WEXITSTATUS(status) : EPERM;
		return -1;
	}
	return 0;
}
