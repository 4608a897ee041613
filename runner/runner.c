/*
 * NAME
 *	runner.c -- the runner: every exec tool of mcpd.conf runs here
 *
 * DESCRIPTION
 *	Workers never fork.  A call of an exec tool (mcp/exec.c) sends the
 *	tool's name and digest and the program's words, the call's arguments
 *	substituted, over the worker's channel to the runner (msg_run.def,
 *	wired by the supervisor), and waits for RUN_DONE.  The runner finds
 *	the tool in its own copy of the configuration (the current one, or
 *	one of the RUN_CONFS_KEEP before it that a worker may still serve
 *	with), checks the words against the tool's command (a worker fills
 *	placeholders, nothing else) and the tool's concurrency (per tool
 *	name, across the node), and forks a shepherd (shepherd.c): the run's
 *	subreaper, which starts the tool with its environment (its env names
 *	and RUN_PATH, nothing else), its directory and its limits, and kills
 *	whatever the run leaves behind.
 *
 *	A run ends when its shepherd is reaped: then every process of it is
 *	gone and its output closed.  Meanwhile the runner reads the output
 *	(stdout up to max-output, the rest read and dropped; the end of
 *	stderr) and kills the run -- SHEP_KILL to the shepherd -- at the
 *	tool's timeout, which bounds the whole run, when the call is
 *	cancelled (RUN_CANCEL), when the worker's channel closes (the worker
 *	died or exited: each of its runs) and when the supervisor's does
 *	(every run, then exit).  A shepherd still there RUN_KILL_WAIT_MS
 *	after that is SIGKILLed; the runner is a subreaper too and kills any
 *	process that comes to it.  Should the runner die, its shepherds see
 *	their channel close (and PR_SET_PDEATHSIG) and kill their runs.
 *
 *	How each run ended is counted by tool name in the scoreboard's tools
 *	block (metrics.h: mcpd_tool_runs_total), and each failure is logged
 *	with the tool and why, RUN_LOG_BURST lines at once and
 *	RUN_LOG_PER_SEC a second after that.
 *
 *	mcpd --stdio has no runner process: that process is its engine's
 *	runner, over a socketpair (runner_local()), without a scoreboard.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "metrics.h"
#include "priv.h"
#include "runner.h"
#include "util.h"

#define RUN_CONFS_KEEP		4	/* configurations a worker may use */
#define RUN_KILL_WAIT_MS	2000	/* a shepherd's kill, then SIGKILL */
#define RUN_READ_BYTES		16384	/* read from a pipe at once */
#define RUN_DRAIN_ROUNDS	64	/* reads of a pipe when the run ended */
#define RUN_LOG_BURST		20	/* failure lines at once, then */
#define RUN_LOG_PER_SEC		5	/* this many a second */
#define RUN_LOG_LINE_BYTES	1024	/* one failure line */

/* why the runner kills a run */
enum run_kill {
	KILL_NONE,
	KILL_TIMEOUT,
	KILL_CANCEL,	/* its call was cancelled */
	KILL_GONE,	/* its worker's channel closed */
	KILL_STOP	/* the runner stops: its supervisor is gone */
};

/*
 * Who a tool's processes are: its own user (looked up as its configuration
 * arrives), else the runner's.
 */
struct rcred {
	uid_t	cr_uid;
	gid_t	cr_gid;
	int	cr_ok;		/* else the user or group is unknown now */
};

/* A configuration the runner knows, newest first. */
struct rconf {
	TAILQ_ENTRY(rconf)	 rc_entry;
	struct conf		*rc_conf;
	unsigned char		*rc_digest;	/* a digest a tool */
	int			*rc_name;	/* tool i's names[], or -1 */
	struct rcred		*rc_cred;	/* tool i's user */
	uint32_t		 rc_runs;	/* in progress */
	int			 rc_owned;	/* ours (else child.c's) */
};

/* A tool name: its concurrency, its entry of the tools block. */
struct rname {
	char		n_name[MX_TOOL_NAME_WORDS * 8];
	uint32_t	n_running;
};

/* A worker process's channel. */
struct rclient {
	TAILQ_ENTRY(rclient)	 cl_entry;
	struct chan		*cl_chan;
	uint32_t		 cl_index;	/* the worker's */
	uint32_t		 cl_num;	/* for the log */
	int			 cl_args_fd;	/* RUN_ARGS, for RUN_START */
};

struct run {
	TAILQ_ENTRY(run)	 r_entry;
	struct rclient		*r_client;	/* NULL: nobody to answer */
	uint32_t		 r_id;
	struct rconf		*r_rc;
	const struct conf_tool	*r_tool;
	int			 r_name;	/* names[], or -1 */
	char			*r_words;	/* what r_argv points into */
	char			*r_argv[CONF_ARGV_MAX + 1];
	pid_t			 r_pid;		/* the shepherd */
	uid_t			 r_uid;		/* the tool's */
	gid_t			 r_gid;
	int			 r_reaped;
	int			 r_ctl;
	int			 r_out;
	int			 r_err;
	ev_io			 r_out_ev;
	ev_io			 r_err_ev;
	ev_timer		 r_to;		/* timeout, then kill's */
	uint64_t		 r_start_us;
	char			*r_buf;		/* stdout kept */
	size_t			 r_len;
	size_t			 r_cap;
	int			 r_overflow;
	char			 r_tail[RUN_TAIL_BYTES];
	size_t			 r_tail_len;
	int			 r_exited;	/* the main process ended */
	int			 r_status;
	int			 r_nostart;	/* a stage and an errno */
	int			 r_stage;
	int			 r_errno;
	int			 r_killed;	/* processes the kill ended */
	enum run_kill		 r_kill;
	int			 r_kill_sent;
	int			 r_forced;	/* the shepherd was SIGKILLed */
};

static struct runner {
	struct ev_loop		*loop;
	struct child		*child;		/* NULL: mcpd --stdio */
	struct scoreboard	*sb;		/* NULL: no counts */
	int			 started;
	int			 quitting;
	TAILQ_HEAD(, rconf)	 confs;
	uint32_t		 nconfs;
	TAILQ_HEAD(, rclient)	 clients;
	TAILQ_HEAD(, run)	 runs;
	uint32_t		 nruns;
	uint32_t		 nchans;
	struct rname		 names[MX_TOOLS_MAX];
	uint8_t			 keep[MX_TOOLS_MAX];	/* names[] in use */
	ev_child		 child_ev;
	double			 log_tokens;
	ev_tstamp		 log_at;
	uint32_t		 log_dropped;
} R;

static void	check_drained(void);

/* Rate-limited warnings */

static void __attribute__((format(printf, 1, 2)))
run_log(const char *fmt, ...)
{
	char		buf[RUN_LOG_LINE_BYTES];
	ev_tstamp	now = ev_now(R.loop);
	va_list		ap;

	R.log_tokens += (now - R.log_at) * RUN_LOG_PER_SEC;
	R.log_at = now;
	if (R.log_tokens > RUN_LOG_BURST)
		R.log_tokens = RUN_LOG_BURST;
	if (R.log_tokens < 1.0) {
		R.log_dropped++;
		return;
	}
	R.log_tokens -= 1.0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (R.log_dropped > 0)
		log_warnx("%s (%u failures before it not logged)", buf,
		    R.log_dropped);
	else
		log_warnx("%s", buf);
	R.log_dropped = 0;
}

/* Tool names and their entries */

static void
keep_names(void)
{
	struct rconf	*rc;
	uint32_t	 i;

	memset(R.keep, 0, sizeof(R.keep));
	TAILQ_FOREACH(rc, &R.confs, rc_entry)
		for (i = 0; i < rc->rc_conf->c_ntools; i++)
			if (rc->rc_name[i] >= 0)
				R.keep[rc->rc_name[i]] = 1;
}

/* The entry of a name: the scoreboard's when there is one. */
static int
name_entry(const char *name)
{
	int i, free_at = -1, spare = -1;

	if (R.sb != NULL) {
		i = mx_tool_entry(R.sb, name, R.keep);
	} else {
		for (i = 0; i < MX_TOOLS_MAX; i++) {
			if (R.names[i].n_name[0] == '\0') {
				if (free_at == -1)
					free_at = i;
			} else if (strcmp(R.names[i].n_name, name) == 0)
				return i;
			else if (spare == -1 && !R.keep[i])
				spare = i;
		}
		i = free_at != -1 ? free_at : spare;
	}
	if (i >= 0 && strcmp(R.names[i].n_name, name) != 0) {
		snprintf(R.names[i].n_name, sizeof(R.names[i].n_name), "%s",
		    name);
		R.names[i].n_running = 0;
	}
	return i;
}

/* Configurations */

static void
conf_drop(struct rconf *rc)
{
	TAILQ_REMOVE(&R.confs, rc, rc_entry);
	R.nconfs--;
	if (rc->rc_owned)
		conf_free(&rc->rc_conf);
	free(rc->rc_digest);
	free(rc->rc_name);
	free(rc->rc_cred);
	free(rc);
}

/* The newest RUN_CONFS_KEEP stay, and older ones while they have runs. */
static void
conf_trim(void)
{
	struct rconf	*rc, *next;
	uint32_t	 n = 0;

	for (rc = TAILQ_FIRST(&R.confs); rc != NULL; rc = next) {
		next = TAILQ_NEXT(rc, rc_entry);
		if (++n > RUN_CONFS_KEEP && rc->rc_runs == 0)
			conf_drop(rc);
	}
	keep_names();
}

/*
 * A tool's user and group now (the parse checked them; the user database
 * may have changed since): said once here when they are gone, and each
 * run is refused.
 */
static void
cred_set(const struct conf_tool *t, struct rcred *cr)
{
	char	err[256];

	cr->cr_ok = 1;
	cr->cr_uid = getuid();
	cr->cr_gid = getgid();
	if (t->t_user == NULL)
		return;
	if (priv_lookup(t->t_user, t->t_group, &cr->cr_uid, &cr->cr_gid,
	    err, sizeof(err)) == -1) {
		log_warnx("tool %s: %s: its runs fail", t->t_name, err);
		cr->cr_ok = 0;
	}
}

static void
conf_add(struct conf *c, int owned)
{
	struct rconf	*rc;
	uint32_t	 i;
	int		 warned = 0;

	if ((rc = calloc(1, sizeof(*rc))) == NULL ||
	    (rc->rc_digest = calloc(c->c_ntools + 1,
	    CONF_TOOL_DIGEST_BYTES)) == NULL ||
	    (rc->rc_name = calloc(c->c_ntools + 1, sizeof(int))) == NULL ||
	    (rc->rc_cred = calloc(c->c_ntools + 1,
	    sizeof(*rc->rc_cred))) == NULL)
		fatal("runner: configuration");
	rc->rc_conf = c;
	rc->rc_owned = owned;
	for (i = 0; i < c->c_ntools; i++) {
		if (conf_tool_digest(&c->c_tools[i], rc->rc_digest +
		    i * CONF_TOOL_DIGEST_BYTES) == -1)
			fatal("runner: tool digest");
		cred_set(&c->c_tools[i], &rc->rc_cred[i]);
		if ((rc->rc_name[i] = name_entry(c->c_tools[i].t_name)) >= 0)
			R.keep[rc->rc_name[i]] = 1;
		else if (!warned++)
			log_warnx("tool %s: its runs are not counted (more "
			    "than %d tool names in the configurations kept)",
			    c->c_tools[i].t_name, MX_TOOLS_MAX);
	}
	TAILQ_INSERT_HEAD(&R.confs, rc, rc_entry);
	R.nconfs++;
	conf_trim();
}

/* The tool of that name and digest in a configuration we keep. */
static struct rconf *
tool_find(const char *name, const unsigned char *digest, uint32_t *idx)
{
	struct rconf	*rc;
	uint32_t	 i;

	TAILQ_FOREACH(rc, &R.confs, rc_entry) {
		for (i = 0; i < rc->rc_conf->c_ntools; i++) {
			if (strcmp(rc->rc_conf->c_tools[i].t_name, name) == 0 &&
			    memcmp(rc->rc_digest + i * CONF_TOOL_DIGEST_BYTES,
			    digest, CONF_TOOL_DIGEST_BYTES) == 0) {
				*idx = i;
				return rc;
			}
		}
	}
	return NULL;
}

/* The words of a run against the tool's command */

/* exactly one placeholder: left out when its argument is (subst.c) */
static int
droppable(const char *tmpl)
{
	const char *e;

	return tmpl[0] == '{' && tmpl[1] != '{' &&
	    (e = strchr(tmpl, '}')) != NULL && e[1] == '\0';
}

/* As configured up to its first placeholder ("{{" is "{"). */
static int
word_fits(const char *tmpl, const char *w)
{
	const char *p = tmpl;

	while (*p != '\0') {
		if (p[0] == '{' && p[1] == '{') {
			if (*w++ != '{')
				return 0;
			p += 2;
		} else if (p[0] == '{' && strchr(p, '}') != NULL)
			return 1;
		else if (*w++ != *p++)
			return 0;
	}
	return *w == '\0';
}

/*
 * The records (msg_run.def) of len bytes in buf, as argv pointing into
 * buf: 0, or -1 when they are not the tool's command with its
 * placeholders filled.
 */
static int
words_parse(const struct conf_tool *t, char *buf, size_t len, char **argv)
{
	uint32_t	 n = 0, next = 0, k, idx;
	size_t		 off = 0;
	char		*nul;

	while (off < len) {
		idx = (unsigned char)buf[off++];
		if (off >= len ||
		    (nul = memchr(buf + off, '\0', len - off)) == NULL ||
		    idx < next || idx >= t->t_argc || n == CONF_ARGV_MAX)
			return -1;
		for (k = next; k < idx; k++)
			if (!droppable(t->t_argv[k]))
				return -1;
		if (!word_fits(t->t_argv[idx], buf + off))
			return -1;
		argv[n++] = buf + off;
		off = nul - buf + 1;
		next = idx + 1;
	}
	for (k = next; k < t->t_argc; k++)
		if (!droppable(t->t_argv[k]))
			return -1;
	if (n == 0)
		return -1;
	argv[n] = NULL;
	return 0;
}

/* The tool's environment: its env names that are set, and a PATH. */
static char **
env_build(const struct conf_tool *t, const char *principal)
{
	char		**envp;
	const char	 *v;
	size_t		  len;
	uint32_t	  i, n = 0;
	int		  path = 0;

	if ((envp = calloc(t->t_nenv + 3, sizeof(*envp))) == NULL)
		return NULL;
	/* the caller's; one in mcpd's own environment is never passed */
	if (principal[0] != '\0') {
		len = sizeof(RUN_PRINCIPAL_VAR) + strlen(principal) + 1;
		if ((envp[n] = malloc(len)) == NULL)
			goto fail;
		snprintf(envp[n++], len, "%s=%s", RUN_PRINCIPAL_VAR, principal);
	}
	for (i = 0; i < t->t_nenv; i++) {
		if ((v = getenv(t->t_env[i])) == NULL)
			continue;
		if (strcmp(t->t_env[i], "PATH") == 0)
			path = 1;
		if (strcmp(t->t_env[i], RUN_PRINCIPAL_VAR) == 0)
			continue;
		len = strlen(t->t_env[i]) + strlen(v) + 2;
		if ((envp[n] = malloc(len)) == NULL)
			goto fail;
		snprintf(envp[n++], len, "%s=%s", t->t_env[i], v);
	}
	if (!path && (envp[n++] = strdup(RUN_PATH)) == NULL)
		goto fail;
	return envp;
fail:
	for (i = 0; i < n; i++)
		free(envp[i]);
	free(envp);
	return NULL;
}

static void
env_free(char **envp)
{
	char **e;

	if (envp == NULL)
		return;
	for (e = envp; *e != NULL; e++)
		free(*e);
	free(envp);
}

/* Answers */

static int
output_memfd(const char *buf, size_t len)
{
	return memfd_sealed("mcpd-output", buf, len, NULL, 0);
}

static void
answer(struct rclient *cl, uint32_t id, enum mx_run o, uint32_t detail,
    uint64_t ms, const char *out, size_t outlen, const char *tail,
    size_t taillen, const char *msg)
{
	uint64_t	inmemfd = 0;
	int		fd;

	if (cl == NULL)
		return;
	if (out == NULL)
		out = "";
	if (outlen > RUN_INLINE_MAX_BYTES) {
		if ((fd = output_memfd(out, outlen)) == -1 ||
		    chan_send(cl->cl_chan, MSG_RUN_OUTPUT, fd,
		    (uint64_t)outlen) == -1) {
			log_warn("worker %u: the output of run %u",
			    cl->cl_index, id);
			o = MX_RUN_ERROR;
			msg = "its output could not be passed on";
			outlen = 0;
		} else
			inmemfd = 1;
	}
	if (chan_send(cl->cl_chan, MSG_RUN_DONE, -1, (uint64_t)id, (uint64_t)o,
	    (uint64_t)detail, ms, (uint64_t)outlen, inmemfd,
	    inmemfd ? "" : out, inmemfd ? (size_t)0 : outlen, tail, taillen,
	    msg) == -1)
		log_warn("worker %u: the end of run %u", cl->cl_index, id);
}

/* A run refused before it started: counted, logged, answered. */
static void
refuse(struct rclient *cl, uint32_t id, const char *tool, int name,
    enum mx_run o, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void
refuse(struct rclient *cl, uint32_t id, const char *tool, int name,
    enum mx_run o, const char *fmt, ...)
{
	char	msg[RUN_MSG_MAX_BYTES];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (R.sb != NULL && name >= 0)
		mx_tool_ran(R.sb, name, o);
	run_log("tool %s: %s", tool, msg);
	answer(cl, id, o, 0, 0, NULL, 0, "", 0, msg);
}

/* Runs */

static void
pipe_eof(struct run *r, int *fd, ev_io *w)
{
	ev_io_stop(R.loop, w);
	close(*fd);
	*fd = -1;
}

static void
keep_tail(struct run *r, const char *buf, size_t n)
{
	size_t keep;

	if (n >= sizeof(r->r_tail)) {
		memcpy(r->r_tail, buf + n - sizeof(r->r_tail),
		    sizeof(r->r_tail));
		r->r_tail_len = sizeof(r->r_tail);
		return;
	}
	keep = sizeof(r->r_tail) - n;
	if (r->r_tail_len > keep) {
		memmove(r->r_tail, r->r_tail + r->r_tail_len - keep, keep);
		r->r_tail_len = keep;
	}
	memcpy(r->r_tail + r->r_tail_len, buf, n);
	r->r_tail_len += n;
}

static void
keep_out(struct run *r, const char *buf, size_t n)
{
	size_t	max = r->r_tool->t_output_max, take, cap;
	char	*p;

	if (r->r_len + n > max) {
		r->r_overflow = 1;	/* read and dropped */
		n = max - r->r_len;
	}
	if (n == 0)
		return;
	if (r->r_len + n > r->r_cap) {
		cap = r->r_cap ? r->r_cap : RUN_READ_BYTES;
		while (cap < r->r_len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		if ((p = realloc(r->r_buf, cap)) == NULL) {
			r->r_overflow = 1;
			return;
		}
		r->r_buf = p;
		r->r_cap = cap;
	}
	take = n;
	memcpy(r->r_buf + r->r_len, buf, take);
	r->r_len += take;
}

/* One read of a pipe: 1 data, 0 nothing now, -1 it closed. */
static int
pipe_read(struct run *r, int is_out)
{
	char	buf[RUN_READ_BYTES];
	ssize_t	n;

	n = read(is_out ? r->r_out : r->r_err, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	if (is_out)
		keep_out(r, buf, n);
	else
		keep_tail(r, buf, n);
	return 1;
}

static void
pipe_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct run	*r = w->data;
	int		 is_out = w == &r->r_out_ev;

	if (pipe_read(r, is_out) == -1)
		pipe_eof(r, is_out ? &r->r_out : &r->r_err, w);
}

/*
 * What is left in a pipe whose run is over: its writers are gone, but
 * for one outside the run (it passed the descriptor on), whose writes
 * are not waited for.
 */
static void
pipe_drain(struct run *r, int is_out)
{
	int	*fd = is_out ? &r->r_out : &r->r_err;
	int	 i;

	if (*fd == -1)
		return;
	for (i = 0; i < RUN_DRAIN_ROUNDS; i++)
		if (pipe_read(r, is_out) != 1)
			break;
	pipe_eof(r, fd, is_out ? &r->r_out_ev : &r->r_err_ev);
}

/* The shepherd's records, all of them (it has ended). */
static void
ctl_drain(struct run *r)
{
	struct shep_rec	rec;
	ssize_t		n;

	while ((n = recv(r->r_ctl, &rec, sizeof(rec), MSG_DONTWAIT)) ==
	    (ssize_t)sizeof(rec)) {
		switch (rec.sr_kind) {
		case SHEP_NOSTART:
			r->r_nostart = 1;
			r->r_stage = rec.sr_a;
			r->r_errno = rec.sr_b;
			break;
		case SHEP_EXITED:
			r->r_exited = 1;
			r->r_status = rec.sr_a;
			break;
		case SHEP_GONE:
			r->r_killed = rec.sr_a;
			break;
		}
	}
}

static void
run_kill(struct run *r, enum run_kill why)
{
	char c = SHEP_KILL;

	if (r->r_kill == KILL_NONE)
		r->r_kill = why;
	if (r->r_kill_sent || r->r_reaped)
		return;
	r->r_kill_sent = 1;
	/* a shepherd that cannot hear it is SIGKILLed at the deadline */
	(void)send(r->r_ctl, &c, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	ev_timer_stop(R.loop, &r->r_to);
	ev_timer_set(&r->r_to, RUN_KILL_WAIT_MS / 1000.0, 0.);
	ev_timer_start(R.loop, &r->r_to);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = w->data;

	if (!r->r_kill_sent) {
		run_kill(r, KILL_TIMEOUT);
		return;
	}
	log_warnx("tool %s: its shepherd (pid %ld) is there %d ms after "
	    "the kill; SIGKILL", r->r_tool->t_name, (long)r->r_pid,
	    RUN_KILL_WAIT_MS);
	r->r_forced = 1;
	if (kill(r->r_pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)r->r_pid);
}

static const char *
stage_name(int stage)
{
	switch (stage) {
	case SHEP_STAGE_FORK:		return "fork";
	case SHEP_STAGE_LIMITS:		return "limits";
	case SHEP_STAGE_DIRECTORY:	return "directory";
	case SHEP_STAGE_USER:		return "user";
	default:			return "exec";
	}
}

/* How it ended, its detail (a status or a signal) and why in words. */
static enum mx_run
outcome(const struct run *r, uint32_t *detail, char *msg, size_t len)
{
	const struct conf_tool *t = r->r_tool;

	*detail = 0;
	msg[0] = '\0';
	if (r->r_nostart) {
		if (r->r_stage == SHEP_STAGE_EXEC)
			snprintf(msg, len, "cannot run %s: %s", r->r_argv[0],
			    strerror(r->r_errno));
		else if (r->r_stage == SHEP_STAGE_USER)
			snprintf(msg, len, "cannot run %s as user %s (uid %lu, "
			    "gid %lu): %s", r->r_argv[0], t->t_user != NULL ?
			    t->t_user : "of mcpd", (unsigned long)r->r_uid,
			    (unsigned long)r->r_gid, strerror(r->r_errno));
		else if (r->r_stage == SHEP_STAGE_DIRECTORY)
			snprintf(msg, len, "cannot run %s: directory %s: %s",
			    r->r_argv[0], t->t_cwd ? t->t_cwd : "/",
			    strerror(r->r_errno));
		else
			snprintf(msg, len, "cannot run %s: %s: %s",
			    r->r_argv[0], stage_name(r->r_stage),
			    strerror(r->r_errno));
		return MX_RUN_FAILED_TO_START;
	}
	switch (r->r_kill) {
	case KILL_TIMEOUT:
		return MX_RUN_TIMEOUT;
	case KILL_CANCEL:
	case KILL_GONE:
		return MX_RUN_CANCELLED;
	case KILL_STOP:
		snprintf(msg, len, "killed: the runner is stopping");
		return MX_RUN_KILLED;
	case KILL_NONE:
		break;
	}
	if (!r->r_exited) {
		snprintf(msg, len, "killed: its shepherd ended before it");
		return MX_RUN_KILLED;
	}
	if (WIFSIGNALED(r->r_status)) {
		*detail = WTERMSIG(r->r_status);
		return MX_RUN_KILLED;
	}
	if (!WIFEXITED(r->r_status) || WEXITSTATUS(r->r_status) != 0) {
		*detail = WIFEXITED(r->r_status) ? WEXITSTATUS(r->r_status) :
		    255;
		return MX_RUN_ERROR;
	}
	return r->r_overflow ? MX_RUN_OVERFLOW : MX_RUN_OK;
}

static void
run_log_end(const struct run *r, enum mx_run o, uint32_t detail,
    const char *msg, uint64_t us)
{
	const struct conf_tool	*t = r->r_tool;
	char			 took[48], left[48];

	snprintf(took, sizeof(took), "run ended in %llu.%03llu s",
	    (unsigned long long)(us / 1000000),
	    (unsigned long long)(us / 1000 % 1000));
	left[0] = '\0';
	if (r->r_killed > 0)
		snprintf(left, sizeof(left), ", %d process%s killed",
		    r->r_killed, r->r_killed == 1 ? "" : "es");
	switch (o) {
	case MX_RUN_OK:
		if (r->r_killed > 0)
			log_info("tool %s: %s%s (left behind by the run)",
			    t->t_name, took, left);
		break;
	case MX_RUN_ERROR:
		run_log("tool %s: exit status %u (%s%s)", t->t_name, detail,
		    took, left);
		break;
	case MX_RUN_KILLED:
		if (msg[0] != '\0')
			run_log("tool %s: %s (%s%s)", t->t_name, msg, took,
			    left);
		else
			run_log("tool %s: killed by signal %u (%s%s)",
			    t->t_name, detail, took, left);
		break;
	case MX_RUN_TIMEOUT:
		run_log("tool %s: timed out after %u.%03u s, %s%s", t->t_name,
		    t->t_timeout_ms / 1000, t->t_timeout_ms % 1000, took, left);
		break;
	case MX_RUN_OVERFLOW:
		run_log("tool %s: output past max-output %u bytes, cut (%s%s)",
		    t->t_name, t->t_output_max, took, left);
		break;
	case MX_RUN_FAILED_TO_START:
		run_log("tool %s: %s", t->t_name, msg);
		break;
	case MX_RUN_CANCELLED:
		log_debug("tool %s: cancelled (%s%s)", t->t_name, took, left);
		break;
	default:
		break;
	}
}

static void
run_free(struct run *r)
{
	ev_io_stop(R.loop, &r->r_out_ev);
	ev_io_stop(R.loop, &r->r_err_ev);
	ev_timer_stop(R.loop, &r->r_to);
	if (r->r_out != -1)
		close(r->r_out);
	if (r->r_err != -1)
		close(r->r_err);
	if (r->r_ctl != -1)
		close(r->r_ctl);
	free(r->r_buf);
	free(r->r_words);
	free(r);
}

/* The shepherd was reaped: every process of the run is gone. */
static void
run_end(struct run *r)
{
	char		msg[RUN_MSG_MAX_BYTES];
	uint64_t	us = now_us() - r->r_start_us;
	uint32_t	detail;
	enum mx_run	o;

	ctl_drain(r);
	pipe_drain(r, 1);
	pipe_drain(r, 0);
	o = outcome(r, &detail, msg, sizeof(msg));
	run_log_end(r, o, detail, msg, us);
	if (r->r_name >= 0) {
		if (R.names[r->r_name].n_running > 0)
			R.names[r->r_name].n_running--;
		if (R.sb != NULL) {
			mx_tool_ran(R.sb, r->r_name, o);
			mx_tool_running(R.sb, r->r_name, -1);
		}
	}
	answer(r->r_client, r->r_id, o, detail, us / 1000, r->r_buf, r->r_len,
	    r->r_tail, r->r_tail_len, msg);
	TAILQ_REMOVE(&R.runs, r, r_entry);
	R.nruns--;
	r->r_rc->rc_runs--;
	run_free(r);
	conf_trim();
	check_drained();
}

/*
 * Children of ours that are no shepherd of a run: what a SIGKILLed
 * shepherd left (we are a subreaper); they go, and theirs come next.
 */
static void
sweep(void)
{
	static pid_t	 pids[PROC_CHILDREN_MAX];
	struct run	*r;
	int		 n, i, k = 0;

	if ((n = proc_children(pids, PROC_CHILDREN_MAX)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		TAILQ_FOREACH(r, &R.runs, r_entry)
			if (r->r_pid == pids[i] && !r->r_reaped)
				break;
		if (r == NULL && priv_kill(pids[i], SIGKILL) == 0)
			k++;
	}
	if (k > 0)
		log_warnx("killed %d process%s of runs whose shepherd is gone",
		    k, k == 1 ? "" : "es");
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct run	*r;
	char		 st[64];

	TAILQ_FOREACH(r, &R.runs, r_entry)
		if (r->r_pid == w->rpid && !r->r_reaped)
			break;
	if (r == NULL) {
		log_debug("reaped pid %ld (%s), of a run whose shepherd is "
		    "gone", (long)w->rpid, wait_status_str(w->rstatus, st,
		    sizeof(st)));
		sweep();
		return;
	}
	r->r_reaped = 1;
	if (!WIFEXITED(w->rstatus) || WEXITSTATUS(w->rstatus) != 0) {
		if (!r->r_forced)
			log_warnx("tool %s: its shepherd (pid %ld) ended %s",
			    r->r_tool->t_name, (long)r->r_pid,
			    wait_status_str(w->rstatus, st, sizeof(st)));
		sweep();
	}
	run_end(r);
}

static void
run_start(struct rclient *cl, uint32_t id, struct rconf *rc, uint32_t ti,
    char *words, size_t wlen, const char *principal)
{
	const struct conf_tool	*t = &rc->rc_conf->c_tools[ti];
	struct shepherd_spec	 sp;
	struct run		*r;
	char			**envp = NULL;
	int			 ctl[2] = { -1, -1 }, out[2] = { -1, -1 },
				 err[2] = { -1, -1 }, name = rc->rc_name[ti];
	pid_t			 pid;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		free(words);
		refuse(cl, id, t->t_name, name, MX_RUN_FAILED_TO_START,
		    "out of memory");
		return;
	}
	r->r_words = words;
	if (words_parse(t, words, wlen, r->r_argv) == -1) {
		free(r->r_words);
		free(r);
		refuse(cl, id, t->t_name, name, MX_RUN_FAILED_TO_START,
		    "worker %u asked for words that are not its command",
		    cl->cl_index);
		return;
	}
	if (name >= 0 && R.names[name].n_running >= t->t_concurrency) {
		free(r->r_words);
		free(r);
		refuse(cl, id, t->t_name, name, MX_RUN_BUSY, "%u runs in "
		    "progress already (concurrency %u); try again later",
		    R.names[name].n_running, t->t_concurrency);
		return;
	}
	if (!rc->rc_cred[ti].cr_ok) {
		free(r->r_words);
		free(r);
		refuse(cl, id, t->t_name, name, MX_RUN_FAILED_TO_START,
		    "user %s%s%s is not known (any more)", t->t_user,
		    t->t_group != NULL ? ", group " : "",
		    t->t_group != NULL ? t->t_group : "");
		return;
	}
	if ((envp = env_build(t, principal)) == NULL ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) == -1 ||
	    pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    fd_nonblock(ctl[0]) == -1 || fd_nonblock(out[0]) == -1 ||
	    fd_nonblock(err[0]) == -1)
		goto fail;
	memset(&sp, 0, sizeof(sp));
	sp.s_tool = t->t_name;
	sp.s_argv = r->r_argv;
	sp.s_envp = envp;
	sp.s_cwd = t->t_cwd != NULL ? t->t_cwd : "/";
	sp.s_mem_max = t->t_mem_max;
	sp.s_nproc_max = t->t_nproc_max;
	sp.s_ctl = ctl[1];
	sp.s_out = out[1];
	sp.s_err = err[1];
	sp.s_runner = getpid();
	sp.s_uid = rc->rc_cred[ti].cr_uid;
	sp.s_gid = rc->rc_cred[ti].cr_gid;
	sp.s_switch = sp.s_uid != 0;
	r->r_uid = sp.s_uid;
	r->r_gid = sp.s_gid;
	switch (pid = fork()) {
	case -1:
		goto fail;
	case 0:
		shepherd_main(&sp);
		/* NOTREACHED */
	}
	env_free(envp);
	close(ctl[1]);
	close(out[1]);
	close(err[1]);
	r->r_client = cl;
	r->r_id = id;
	r->r_rc = rc;
	r->r_tool = t;
	r->r_name = name;
	r->r_pid = pid;
	r->r_ctl = ctl[0];
	r->r_out = out[0];
	r->r_err = err[0];
	r->r_start_us = now_us();
	ev_io_init(&r->r_out_ev, pipe_cb, r->r_out, EV_READ);
	ev_io_init(&r->r_err_ev, pipe_cb, r->r_err, EV_READ);
	ev_timer_init(&r->r_to, timeout_cb, t->t_timeout_ms / 1000.0, 0.);
	r->r_out_ev.data = r->r_err_ev.data = r->r_to.data = r;
	ev_io_start(R.loop, &r->r_out_ev);
	ev_io_start(R.loop, &r->r_err_ev);
	ev_now_update(R.loop);
	ev_timer_start(R.loop, &r->r_to);
	TAILQ_INSERT_TAIL(&R.runs, r, r_entry);
	R.nruns++;
	rc->rc_runs++;
	if (name >= 0) {
		R.names[name].n_running++;
		mx_tool_running(R.sb, name, 1);
	}
	log_debug("tool %s: run %u of worker %u, shepherd pid %ld",
	    t->t_name, id, cl->cl_index, (long)pid);
	return;
fail:
	refuse(cl, id, t->t_name, name, MX_RUN_FAILED_TO_START,
	    "cannot run %s: %s", r->r_argv[0], strerror(errno));
	env_free(envp);
	if (ctl[0] != -1) {
		close(ctl[0]);
		close(ctl[1]);
	}
	if (out[0] != -1) {
		close(out[0]);
		close(out[1]);
	}
	if (err[0] != -1) {
		close(err[0]);
		close(err[1]);
	}
	free(r->r_words);
	free(r);
}

/* Workers */

static struct run *
run_of(struct rclient *cl, uint32_t id)
{
	struct run *r;

	TAILQ_FOREACH(r, &R.runs, r_entry)
		if (r->r_client == cl && r->r_id == id)
			return r;
	return NULL;
}

/* RUN_START: its words, inline or in the RUN_ARGS memfd before. */
static void
on_start(struct rclient *cl, struct msg *m)
{
	char		 name[MX_TOOL_NAME_WORDS * 8];
	char		 principal[RUN_PRINCIPAL_MAX_BYTES];
	struct rconf	*rc;
	uint64_t	 id = m->m_f[0].u, len = m->m_f[3].u;
	uint32_t	 ti;
	off_t		 size;
	ssize_t		 n;
	size_t		 off;
	char		*words;

	if (id > UINT32_MAX || msg_strcpy(name, sizeof(name),
	    &m->m_f[1]) == -1 || m->m_f[2].s.len != CONF_TOOL_DIGEST_BYTES ||
	    len > RUN_ARGV_MAX_BYTES || m->m_f[4].u > 1 ||
	    msg_strcpy(principal, sizeof(principal), &m->m_f[6]) == -1 ||
	    run_of(cl, (uint32_t)id) != NULL)
		fatalx("worker %u: a bad RUN_START", cl->cl_index);
	if ((words = malloc(len + 1)) == NULL)
		fatal("run words");
	if (m->m_f[4].u) {
		if (cl->cl_args_fd == -1)
			fatalx("worker %u: RUN_START without its RUN_ARGS",
			    cl->cl_index);
		size = lseek(cl->cl_args_fd, 0, SEEK_END);
		if (size < 0 || (uint64_t)size != len)
			fatalx("worker %u: RUN_ARGS of %lld bytes, not %llu",
			    cl->cl_index, (long long)size,
			    (unsigned long long)len);
		for (off = 0; off < len; off += n)
			if ((n = pread(cl->cl_args_fd, words + off, len - off,
			    off)) <= 0)
				fatal("read RUN_ARGS");
		close(cl->cl_args_fd);
		cl->cl_args_fd = -1;
	} else {
		if (m->m_f[5].s.len != len)
			fatalx("worker %u: RUN_START's words are not %llu "
			    "bytes", cl->cl_index, (unsigned long long)len);
		memcpy(words, m->m_f[5].s.p, len);
	}
	words[len] = '\0';
	if ((rc = tool_find(name, (const unsigned char *)m->m_f[2].s.p,
	    &ti)) == NULL) {
		free(words);
		refuse(cl, (uint32_t)id, name, -1, MX_RUN_FAILED_TO_START,
		    "the runner knows no such tool (a reload under way?); "
		    "try again");
		return;
	}
	if (R.child != NULL && R.child->c_chan == NULL) {
		free(words);
		refuse(cl, (uint32_t)id, name, rc->rc_name[ti],
		    MX_RUN_FAILED_TO_START, "the runner is stopping");
		return;
	}
	run_start(cl, (uint32_t)id, rc, ti, words, len, principal);
}

static void
client_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct rclient	*cl = arg;
	struct run	*r;

	switch (m->m_type) {
	case MSG_RUN_ARGS:
		if (cl->cl_args_fd != -1)
			close(cl->cl_args_fd);
		cl->cl_args_fd = m->m_fd;
		break;
	case MSG_RUN_START:
		on_start(cl, m);
		break;
	case MSG_RUN_CANCEL:
		/* none: it ended meanwhile, and its RUN_DONE is on its way */
		if (m->m_f[0].u <= UINT32_MAX &&
		    (r = run_of(cl, (uint32_t)m->m_f[0].u)) != NULL)
			run_kill(r, KILL_CANCEL);
		break;
	default:
		fatalx("unexpected %s from worker %u",
		    msg_name(&msg_proto_run, m->m_type), cl->cl_index);
	}
}

static void
client_gone(struct rclient *cl)
{
	struct run	*r;
	uint32_t	 n = 0;

	TAILQ_FOREACH(r, &R.runs, r_entry) {
		if (r->r_client != cl)
			continue;
		r->r_client = NULL;
		run_kill(r, KILL_GONE);
		n++;
	}
	if (n > 0)
		log_warnx("worker %u (channel %u) went away: killing its %u "
		    "run%s", cl->cl_index, cl->cl_num, n, n == 1 ? "" : "s");
	else
		log_debug("worker %u (channel %u) went away", cl->cl_index,
		    cl->cl_num);
	TAILQ_REMOVE(&R.clients, cl, cl_entry);
	chan_free(&cl->cl_chan);
	if (cl->cl_args_fd != -1)
		close(cl->cl_args_fd);
	free(cl);
	check_drained();
}

static void
client_err(struct chan *ch, const char *reason, void *arg)
{
	struct rclient *cl = arg;

	/* a worker's channel carries no garbage: a bug, restart us */
	if (reason != NULL)
		fatalx("channel to worker %u: %s", cl->cl_index, reason);
	client_gone(cl);
}

static void
client_add(uint32_t index, int fd)
{
	struct rclient	*cl;
	char		 name[32];

	snprintf(name, sizeof(name), "worker %u", index);
	if ((cl = calloc(1, sizeof(*cl))) == NULL || fd_nonblock(fd) == -1 ||
	    (cl->cl_chan = chan_new(R.loop, fd, &msg_proto_run, 1,
	    client_dispatch, client_err, cl, name)) == NULL)
		fatal("runner: channel to %s", name);
	chan_set_accept(cl->cl_chan, "worker>runner");
	cl->cl_index = index;
	cl->cl_num = ++R.nchans;
	cl->cl_args_fd = -1;
	TAILQ_INSERT_TAIL(&R.clients, cl, cl_entry);
	log_debug("channel %u to worker %u", cl->cl_num, index);
}

/* The process */

/*
 * Asked to stop, the runner finishes the runs it has (its drain deadline
 * bounds them) and exits; an idle one exits at once.  A draining worker
 * that asks for a run after that gets "the runner stopped".
 */
static void
check_drained(void)
{
	if (R.quitting && R.child != NULL && R.nruns == 0)
		child_drained(R.child);
}

static void
common_init(struct ev_loop *loop)
{
	TAILQ_INIT(&R.confs);
	TAILQ_INIT(&R.clients);
	TAILQ_INIT(&R.runs);
	R.loop = loop;
	R.started = 1;
	R.log_tokens = RUN_LOG_BURST;
	R.log_at = ev_now(loop);
	/* what a SIGKILLed shepherd leaves comes to us, not to init */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	ev_child_init(&R.child_ev, child_cb, 0, 0);
	ev_child_start(loop, &R.child_ev);
	ev_unref(loop);
}

/* On the first of SUP_RUNNER and START: both come after CONF. */
static void
runner_init(struct child *c)
{
	struct rlimit rl;

	if (R.started)
		return;
	if (c->c_conf == NULL)
		fatalx("runner: a channel before the configuration");
	R.child = c;
	R.sb = c->c_slot != NULL ? &c->c_sb : NULL;
	/* a run takes three descriptors while it lasts */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit NOFILE");
	}
	common_init(c->c_loop);
	/* no run of a predecessor is in progress: its shepherds killed them */
	mx_tools_idle(R.sb);
	conf_add(c->c_conf, 0);
}

static void
runner_listener(struct child *c, enum listen_kind kind, int fd,
    const char *addr, uint16_t port, int standby)
{
	close(fd);
}

static void
runner_client(struct child *c, uint32_t index, int fd)
{
	runner_init(c);
	client_add(index, fd);
}

static void
runner_start(struct child *c)
{
	runner_init(c);
	log_debug("ready: %u tools", c->c_conf->c_ntools);
}

/* A new configuration: the one before stays while workers may use it. */
static void
runner_reconf(struct child *c, struct conf *old)
{
	struct rconf *rc;

	TAILQ_FOREACH(rc, &R.confs, rc_entry)
		if (rc->rc_conf == old)
			break;
	if (rc != NULL)
		rc->rc_owned = 1;
	else
		conf_free(&old);
	conf_add(c->c_conf, 0);
	log_debug("configuration: %u tools, %u configurations kept",
	    c->c_conf->c_ntools, R.nconfs);
}

static void
runner_quit(struct child *c)
{
	struct run	*r;
	uint32_t	 n = 0;

	R.quitting = 1;
	if (c->c_chan == NULL) {
		/* the supervisor is gone: no run of ours outlives it */
		TAILQ_FOREACH(r, &R.runs, r_entry) {
			run_kill(r, KILL_STOP);
			n++;
		}
		if (n > 0)
			log_warnx("supervisor gone: killing %u run%s", n,
			    n == 1 ? "" : "s");
	}
	check_drained();
}

static uint64_t
runner_busy(struct child *c)
{
	return R.nruns;
}

void
runner_local(struct ev_loop *loop, struct conf *conf, int fd)
{
	common_init(loop);
	conf_add(conf, 0);
	client_add(0, fd);
}

const struct role_ops runner_ops = {
	.r_listener = runner_listener,
	.r_runner = runner_client,
	.r_reconf = runner_reconf,
	.r_start = runner_start,
	.r_quit = runner_quit,
	.r_busy = runner_busy,
};
