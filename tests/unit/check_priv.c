/*
 * NAME
 *	check_priv.c -- the drop from root and the runner's switch
 *
 * DESCRIPTION
 *	priv_drop() as a child does it (with and without the runner's
 *	CAP_SETUID and CAP_SETGID) and priv_become() as the runner's child
 *	of a tool will, each in a process of its own that the test forks
 *	(whatever CK_FORK says: the test runner keeps root), judged by what
 *	the kernel says in /proc/self/status and by setuid(0).  A drop that
 *	cannot be done exits EXIT_NORESTART.
 *
 *	Changing ids needs root: run as another user, the cases that need
 *	it pass without testing (and say so); CI runs as root.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "mcpd.h"
#include "priv.h"

/* ids no test machine gives to anything that matters (nobody, nogroup) */
#define OTHER_UID	65534
#define OTHER_GID	65534
#define CAP_SETID_BITS	0xc0ULL	/* CAP_SETGID 6, CAP_SETUID 7 */

/* The hex value of a "Name:\t..." line of /proc/self/status. */
static int
status_hex(const char *name, unsigned long long *v)
{
	FILE	*f;
	char	 line[256];
	size_t	 n = strlen(name);
	int	 found = 0;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			found = sscanf(line + n + 1, "%llx", v) == 1;
	fclose(f);
	return found;
}

/* What a dropped process is: the ids, no groups, these capabilities. */
static int
is(uid_t uid, gid_t gid, unsigned long long prm, unsigned long long bnd)
{
	unsigned long long	v;
	uid_t			r, e, s;
	gid_t			rg, eg, sg;

	if (getresuid(&r, &e, &s) == -1 || r != uid || e != uid || s != uid)
		return 10;
	if (getresgid(&rg, &eg, &sg) == -1 || rg != gid || eg != gid ||
	    sg != gid)
		return 11;
	if (getgroups(0, NULL) != 0)
		return 12;
	if (!status_hex("CapEff", &v) || v != 0)
		return 13;
	if (!status_hex("CapPrm", &v) || v != prm)
		return 14;
	if (!status_hex("CapInh", &v) || v != 0)
		return 15;
	if (bnd != (unsigned long long)-1 &&
	    (!status_hex("CapBnd", &v) || v != bnd))
		return 16;
	if (setuid(0) != -1 || setgid(0) != -1)
		return 17;
	return 0;
}

/* fn in a process of its own: its exit status (or 128 + signal). */
static int
forked(int (*fn)(void *), void *arg)
{
	pid_t	pid;
	int	st;

	fflush(NULL);
	if ((pid = fork()) == -1)
		ck_abort_msg("fork");
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) == -1)
		ck_abort_msg("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A user that exists, is not root and whose group is not root. */
static int
some_user(struct conf *c, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	int		 found = 0;

	setpwent();
	while (!found && (pw = getpwent()) != NULL) {
		if (pw->pw_uid == 0 || pw->pw_gid == 0 ||
		    strlen(pw->pw_name) >= sizeof(c->c_user))
			continue;
		snprintf(c->c_user, sizeof(c->c_user), "%s", pw->pw_name);
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		found = 1;
	}
	endpwent();
	return found;
}

static int
root(void)
{
	if (geteuid() == 0)
		return 1;
	fprintf(stderr, "check_priv: not root: id changes not tested\n");
	return 0;
}

static struct conf	conf;
static uid_t		conf_uid;
static gid_t		conf_gid;

static void
setup(void)
{
	conf_defaults(&conf);
	if (!some_user(&conf, &conf_uid, &conf_gid))
		ck_abort_msg("no user in the user database but root");
}

static int
become_other(void *arg)
{
	int r;

	if (priv_become(OTHER_UID, OTHER_GID) == -1)
		return 1;
	if ((r = is(OTHER_UID, OTHER_GID, 0, (unsigned long long)-1)) != 0)
		return r;
	/* one-way */
	if (priv_become(conf_uid, conf_gid) != -1 || errno != EPERM)
		return 2;
	return 0;
}

/* From root (a runner that never dropped): the tool's ids, nothing else. */
START_TEST(test_become)
{
	if (!root())
		return;
	ck_assert_int_eq(forked(become_other, NULL), 0);
}
END_TEST

/* No tool runs as root or group root, whatever the caller asks. */
START_TEST(test_become_root)
{
	errno = 0;
	ck_assert_int_eq(priv_become(0, OTHER_GID), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(priv_become(OTHER_UID, 0), -1);
	ck_assert_int_eq(errno, EPERM);
}
END_TEST

/* Already the ids asked: nothing to change, no capability needed. */
static int
become_self(void *arg)
{
	if (priv_become(conf_uid, conf_gid) == -1)
		return 1;
	if (priv_become(conf_uid, conf_gid) == -1)
		return 2;
	return is(conf_uid, conf_gid, 0, (unsigned long long)-1);
}

START_TEST(test_become_self)
{
	if (!root())
		return;
	ck_assert_int_eq(forked(become_self, NULL), 0);
}
END_TEST

/* A worker or the agent: the user, no groups, no capability at all. */
static int
drop_worker(void *arg)
{
	int r;

	priv_drop(&conf, 0);
	if ((r = is(conf_uid, conf_gid, 0, 0)) != 0)
		return r;
	/* nothing left to switch with */
	if (priv_become(OTHER_UID, OTHER_GID) != -1 || errno != EPERM)
		return 3;
	return 0;
}

START_TEST(test_drop)
{
	if (!root())
		return;
	ck_assert_int_eq(forked(drop_worker, NULL), 0);
}
END_TEST

/*
 * The runner when a tool names a user: CAP_SETUID and CAP_SETGID held
 * (permitted and bounding, not effective: setuid(0) fails); a tool's
 * child switches with them and keeps none.
 */
static int
drop_runner(void *arg)
{
	int r;

	priv_drop(&conf, 1);
	if ((r = is(conf_uid, conf_gid, CAP_SETID_BITS, CAP_SETID_BITS)) != 0)
		return r;
	if (priv_become(OTHER_UID, OTHER_GID) == -1)
		return 4;
	return is(OTHER_UID, OTHER_GID, 0, CAP_SETID_BITS);
}

START_TEST(test_drop_runner)
{
	if (!root())
		return;
	ck_assert_int_eq(forked(drop_runner, NULL), 0);
}
END_TEST

/* "group" instead of the user's own. */
static int
drop_group(void *arg)
{
	snprintf(conf.c_group, sizeof(conf.c_group), "%s", (char *)arg);
	priv_drop(&conf, 0);
	return is(conf_uid, getgrnam(arg)->gr_gid, 0, 0);
}

START_TEST(test_drop_group)
{
	struct group	*gr;
	char		 name[CONF_USER_MAX_BYTES];
	int		 found = 0;

	if (!root())
		return;
	setgrent();
	while (!found && (gr = getgrent()) != NULL)
		if (gr->gr_gid != 0 && gr->gr_gid != conf_gid &&
		    strlen(gr->gr_name) < sizeof(name)) {
			snprintf(name, sizeof(name), "%s", gr->gr_name);
			found = 1;
		}
	endgrent();
	ck_assert_msg(found, "no group but root and the user's");
	ck_assert_int_eq(forked(drop_group, name), 0);
}
END_TEST

/* No user: nothing changes (the supervisor warned). */
static int
drop_none(void *arg)
{
	conf.c_user[0] = '\0';
	priv_drop(&conf, 0);
	return getuid() == 0 && geteuid() == 0 && setuid(0) == 0 ? 0 : 1;
}

START_TEST(test_drop_none)
{
	if (!root())
		return;
	ck_assert_int_eq(forked(drop_none, NULL), 0);
}
END_TEST

/* A user gone since the supervisor looked: never serve, never restart. */
static int
drop_unknown(void *arg)
{
	snprintf(conf.c_user, sizeof(conf.c_user), "mcpd-no-such-user");
	priv_drop(&conf, 0);
	return 0;
}

START_TEST(test_drop_unknown)
{
	if (!root())
		return;
	ck_assert_int_eq(forked(drop_unknown, NULL), EXIT_NORESTART);
}
END_TEST

/* A tool that names a user: the runner's switch is needed. */
START_TEST(test_tools_switch)
{
	struct conf_tool	t[2];

	memset(t, 0, sizeof(t));
	conf.c_tools = t;
	conf.c_ntools = 2;
	ck_assert_int_eq(priv_tools_switch(&conf), 0);
	t[1].t_user = conf.c_user;
	ck_assert_int_eq(priv_tools_switch(&conf), 1);
	conf.c_tools = NULL;
	conf.c_ntools = 0;
}
END_TEST

static Suite *
priv_suite(void)
{
	Suite	*s = suite_create("priv");
	TCase	*tc = tcase_create("priv");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_become);
	tcase_add_test(tc, test_become_root);
	tcase_add_test(tc, test_become_self);
	tcase_add_test(tc, test_drop);
	tcase_add_test(tc, test_drop_runner);
	tcase_add_test(tc, test_drop_group);
	tcase_add_test(tc, test_drop_none);
	tcase_add_test(tc, test_drop_unknown);
	tcase_add_test(tc, test_tools_switch);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(priv_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
