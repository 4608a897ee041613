/*
 * alert.c -- the four alert tiers and the emergency response.
 *
 * Every second the supervisor adds up the scoreboard and judges the last
 * alert-window: the ratio of failures (the server's fault: internal
 * errors, timeouts, 5xx other than 503; clean rejections are not failures)
 * among the requests answered, their 95th percentile latency, the
 * connections against their soft and hard limits, and the requests in
 * flight against max-pending.  The worst condition sets the tier:
 *
 *	green		none holds
 *	yellow		errors >= alert-yellow-errors, or p95 >= alert-yellow-p95,
 *			or connections >= connections-soft-limit, or the
 *			daemon's memory >= memory-soft-limit
 *	red		errors >= alert-red-errors, or p95 >= alert-red-p95,
 *			or connections >= max-connections, or memory >=
 *			memory-hard-limit, or (a cluster node) Redis out of
 *			reach for ALERT_REDIS_MS
 *	emergency	errors >= alert-emergency-errors, or requests in flight
 *			>= alert-emergency-pending of max-pending
 *
 * Ratios and percentiles need alert-min-requests answers in the window.
 * A change of tier is logged (warning, err, crit), published in the
 * scoreboard header (mcpd_alert_tier, mcpctl status) and runs alert-command
 * (one at a time, killed after ALERT_CMD_TIMEOUT_MS) as the user the
 * children run as, when they drop root.  In the emergency
 * tier the workers shed load -- refuse new connections and answer new work
 * 503 -- until the tier has stayed below emergency for alert-hold.
 *
 * The window is kept as ALERT_SNAPS snapshots of the running totals, one
 * every window/ALERT_SNAPS seconds (at least one a second): the window's
 * figures are now minus the oldest snapshot in it, histograms included.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "priv.h"
#include "sup.h"
#include "util.h"

#define ALERT_TICK_MS		1000	/* evaluation interval */
#define ALERT_SNAPS		60	/* snapshots kept over the window */
#define ALERT_CMD_TIMEOUT_MS	10000	/* an alert-command runs at most */
#define ALERT_REDIS_MS		5000	/* a cluster node cut from Redis: red */

struct snap {
	uint64_t	total;		/* answered requests */
	uint64_t	failures;
	uint64_t	hist[MX_HIST_BUCKETS];	/* every method's latency */
	uint64_t	at_ms;
	int		used;
};

static struct snap	*snaps;		/* ALERT_SNAPS, a ring */
static unsigned		 snap_head;
static uint64_t		 snap_last_ms;
static struct sb_metrics *cur;		/* a scratch sum */
static ev_timer		 tick_ev;
static int		 tier;
static char		 reason[256];
static uint64_t		 calm_since_ms;	/* below emergency since */
static int		 shedding;

/* the alert command: one at a time, the latest change waits */
static pid_t		 cmd_pid = -1;
static ev_timer		 cmd_to;
static int		 cmd_pending;
static int		 cmd_tier, cmd_prev;
static char		 cmd_reason[256];

int
alert_tier(const char **why)
{
	if (why != NULL)
		*why = reason;
	return tier;
}

static void	cmd_run(void);

static void
cmd_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (cmd_pid > 0) {
		log_warnx("alert-command (pid %ld) still running after %d ms; "
		    "killing it", (long)cmd_pid, ALERT_CMD_TIMEOUT_MS);
		kill(cmd_pid, SIGKILL);
	}
}

int
alert_reap(pid_t pid, int status)
{
	if (pid != cmd_pid || pid <= 0)
		return 0;
	ev_timer_stop(sup->s_loop, &cmd_to);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warnx("alert-command %s: exit status %d",
		    sup->s_conf->c_alert_command, WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128 + WTERMSIG(status));
	cmd_pid = -1;
	if (cmd_pending)
		cmd_run();
	return 1;
}

/*
 * fork and execve, as the children's user when they drop root (which
 * posix_spawn cannot do).  Returns 0 or an errno, the child's when it
 * could not become the user or run path: it says so on a close-on-exec
 * pipe, which an execve that works closes empty.
 */
static int
cmd_spawn(const char *path, char **argv, char **envp)
{
	sigset_t	none;
	ssize_t		n;
	int		p[2], e, fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		return errno;
	switch (cmd_pid = fork()) {
	case -1:
		e = errno;
		close(p[0]);
		close(p[1]);
		return e;
	case 0:
		/* system calls only until execve */
		close(p[0]);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if ((fd = open("/dev/null", O_RDONLY)) != -1 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
		if (!sup->s_drop || priv_become(sup->s_uid, sup->s_gid) == 0)
			execve(path, argv, envp);
		e = errno;
		(void)!write(p[1], &e, sizeof(e));
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (n == (ssize_t)sizeof(e)) {
		/* it exits at once: alert_reap() sees an unknown pid */
		waitpid(cmd_pid, NULL, 0);
		cmd_pid = -1;
		return e;
	}
	return 0;
}

/* Run alert-command for the latest change, unless one runs already. */
static void
cmd_run(void)
{
	char		 e_tier[64], e_prev[64], e_reason[300];
	char		*argv[2], *envp[5];
	const char	*path = sup->s_conf->c_alert_command;
	int		 rv;

	if (cmd_pid > 0)
		return;		/* it runs: the change waits for it */
	cmd_pending = 0;
	snprintf(e_tier, sizeof(e_tier), "MCPD_ALERT_TIER=%s",
	    mx_tier_name(cmd_tier));
	snprintf(e_prev, sizeof(e_prev), "MCPD_ALERT_PREVIOUS=%s",
	    mx_tier_name(cmd_prev));
	snprintf(e_reason, sizeof(e_reason), "MCPD_ALERT_REASON=%s",
	    cmd_reason);
	argv[0] = (char *)path;
	argv[1] = NULL;
	envp[0] = e_tier;
	envp[1] = e_prev;
	envp[2] = e_reason;
	envp[3] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	    "/sbin:/bin";
	envp[4] = NULL;
	if ((rv = cmd_spawn(path, argv, envp)) != 0) {
		log_warnx("alert-command %s: %s", path, strerror(rv));
		cmd_pid = -1;
		return;
	}
	ev_timer_init(&cmd_to, cmd_timeout_cb, ALERT_CMD_TIMEOUT_MS / 1000.0,
	    0.);
	ev_timer_start(sup->s_loop, &cmd_to);
}

static void
transition(int to, const char *why)
{
	int from = tier;

	tier = to;
	snprintf(reason, sizeof(reason), "%s", why);
	SB_HDR_SET(&sup->s_sb, SB_H_ALERT_TIER, to);
	if (to > from)
		switch (to) {
		case 1:
			log_warnx("alert: yellow (was %s): %s",
			    mx_tier_name(from), why);
			break;
		case 2:
			log_err("alert: red (was %s): %s",
			    mx_tier_name(from), why);
			break;
		default:
			log_crit("alert: emergency (was %s): "
			    "%s", mx_tier_name(from), why);
			break;
		}
	else
		log_info("alert: %s (was %s)%s%s", mx_tier_name(to),
		    mx_tier_name(from), why[0] ? ": " : "", why);
	if (sup->s_conf->c_alert_command[0] != '\0') {
		cmd_tier = to;
		cmd_prev = from;
		snprintf(cmd_reason, sizeof(cmd_reason), "%s", why);
		cmd_pending = 1;
		cmd_run();
	}
}

static void
set_shedding(int on, uint64_t now)
{
	if (on == shedding)
		return;
	shedding = on;
	SB_HDR_SET(&sup->s_sb, SB_H_SHEDDING, on);
	if (on)
		log_crit("emergency: shedding load: new "
		    "connections and new work get 503");
	else
		log_info("shedding ends: below emergency for %u ms",
		    (unsigned)(now - calm_since_ms));
}

static uint64_t
proc_rss(pid_t pid, long page)
{
	char			 path[64];
	unsigned long long	 size, res;
	FILE			*fp;

	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(fp, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(fp);
	return res * (uint64_t)page;
}

/* "0.62%" */
static void
fmt_ppm(char *buf, size_t len, uint64_t ppm)
{
	snprintf(buf, len, "%.4g%%", ppm / 10000.0);
}

/* The resident memory of the daemon: the supervisor and its children. */
static uint64_t
node_rss(void)
{
	struct proc	*p;
	uint64_t	 sum = 0;
	long		 page = sysconf(_SC_PAGESIZE);

	sum += proc_rss(getpid(), page);
	TAILQ_FOREACH(p, &sup->s_procs, p_entry)
		if (p->p_pid > 0)
			sum += proc_rss(p->p_pid, page);
	return sum;
}

/* What one tick measured, for the rules of red and yellow. */
struct judged {
	uint64_t	ppm;		/* failures a million, or 0 */
	uint64_t	total;		/* requests in the window */
	uint64_t	p95_us;
	uint64_t	conns;
	uint64_t	soft;		/* connections-soft-limit in effect */
	uint64_t	rss;		/* bytes, or 0: not looked at */
};

/*
 * The rule of red (level 1) or yellow (level 0): failures, p95,
 * connections and memory against that level's thresholds.  1 with why,
 * or 0.
 */
static int
over(const struct conf *c, int level, const struct judged *j, char *why,
    size_t len)
{
	uint64_t	 climit = level ? c->c_max_connections : j->soft;
	uint64_t	 mlimit = level ? c->c_memory_hard : c->c_memory_soft;
	char		 a[32], b[32];

	if (j->ppm >= c->c_alert_errors_ppm[level]) {
		fmt_ppm(a, sizeof(a), j->ppm);
		fmt_ppm(b, sizeof(b), c->c_alert_errors_ppm[level]);
		snprintf(why, len, "failures %s >= %s of %llu requests", a, b,
		    (unsigned long long)j->total);
	} else if (j->p95_us >= (uint64_t)c->c_alert_p95_ms[level] * 1000)
		snprintf(why, len, "p95 %llu ms >= %u ms",
		    (unsigned long long)j->p95_us / 1000,
		    c->c_alert_p95_ms[level]);
	else if (j->conns >= climit)
		snprintf(why, len, "%llu connections >= the %s limit %llu",
		    (unsigned long long)j->conns, level ? "hard" : "soft",
		    (unsigned long long)climit);
	else if (mlimit != 0 && j->rss >= mlimit)
		snprintf(why, len, "memory %llu MiB >= memory-%s-limit %llu "
		    "MiB", (unsigned long long)(j->rss >> 20),
		    level ? "hard" : "soft", (unsigned long long)(mlimit >> 20));
	else
		return 0;
	return 1;
}

/*
 * A cluster node whose agent has been cut from Redis for ALERT_REDIS_MS:
 * red (what needs shared state fails; what does not is served, so no
 * shedding).  1 with why.
 */
static int
redis_down(const struct conf *c, char *why, size_t len)
{
	const struct mx_cluster	*cl = sup->s_sb.sb_cluster;
	uint64_t		 since, now = wall_ms();

	if (c->c_cluster == NULL || cl == NULL ||
	    MX_GET(&cl->c_enabled) == 0 || MX_GET(&cl->c_up) ||
	    (since = MX_GET(&cl->c_down_since_ms)) == 0 || since > now ||
	    now - since < ALERT_REDIS_MS)
		return 0;
	snprintf(why, len, "cluster: redis unreachable for %llu s",
	    (unsigned long long)((now - since) / 1000));
	return 1;
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	const struct conf	*c = sup->s_conf;
	struct snap		*now_s, *old, *in = NULL, *out = NULL, tmp;
	struct mx_hist		 h;
	uint64_t		 now = now_ms(), step, total, fails, p95 = 0;
	uint64_t		 ppm = 0, pending, pmax;
	struct judged		 j;
	char			 why[256], a[32], b[32];
	unsigned		 i, k;
	int			 t = 0;

	mx_collect(&sup->s_sb, cur);
	memset(&tmp, 0, sizeof(tmp));
	for (i = 0; i < MX_METHODS; i++) {
		for (k = 0; k < MX_OUTCOMES; k++)
			if (k != MX_REJECTED)
				tmp.total += cur->m_req[i][k];
		tmp.failures += cur->m_req[i][MX_FAILURE];
		if (cur->m_lat[i].h_count == 0)
			continue;
		for (k = 0; k < MX_HIST_BUCKETS; k++)
			tmp.hist[k] += cur->m_lat[i].h_b[k];
	}
	tmp.at_ms = now;
	tmp.used = 1;
	/*
	 * The oldest snapshot still inside the window; when a late tick
	 * left none inside, the youngest outside it (the window a tick
	 * longer, never the whole life of the daemon).
	 */
	for (i = 0; i < ALERT_SNAPS; i++) {
		struct snap *s = &snaps[(snap_head + i) % ALERT_SNAPS];

		if (!s->used)
			continue;
		if (now - s->at_ms <= c->c_alert_window_ms) {
			if (in == NULL || s->at_ms < in->at_ms)
				in = s;
		} else if (out == NULL || s->at_ms > out->at_ms)
			out = s;
	}
	old = in != NULL ? in : out;
	total = tmp.total - (old ? old->total : 0);
	fails = tmp.failures - (old ? old->failures : 0);
	if (total >= c->c_alert_min_requests && total > 0) {
		ppm = fails * 1000000 / total;
		memset(&h, 0, sizeof(h));
		for (k = 0; k < MX_HIST_BUCKETS; k++)
			h.h_b[k] = tmp.hist[k] - (old ? old->hist[k] : 0);
		p95 = mx_hist_quantile(&h, 0.95);
	}
	/* keep a snapshot every window/ALERT_SNAPS, at least a second apart */
	step = c->c_alert_window_ms / ALERT_SNAPS;
	if (step < ALERT_TICK_MS)
		step = ALERT_TICK_MS;
	/* a tick a little early still takes its snapshot */
	if (snap_last_ms == 0 || now - snap_last_ms + ALERT_TICK_MS / 4 >=
	    step) {
		snap_head = (snap_head + ALERT_SNAPS - 1) % ALERT_SNAPS;
		now_s = &snaps[snap_head];
		*now_s = tmp;
		snap_last_ms = now;
	}

	memset(&j, 0, sizeof(j));
	j.ppm = ppm;
	j.total = total;
	j.p95_us = p95;
	j.conns = sb_worker_conns(&sup->s_sb);
	j.rss = c->c_memory_soft || c->c_memory_hard ? node_rss() : 0;
	j.soft = c->c_connections_soft ? c->c_connections_soft :
	    c->c_max_connections * 8 / 10;
	pending = cur->m_gauge[MX_G_PENDING];
	pmax = (uint64_t)c->c_max_pending * c->c_alert_pending_ppm / 1000000;
	why[0] = '\0';
	fmt_ppm(a, sizeof(a), ppm);
	if (ppm >= c->c_alert_errors_ppm[2]) {
		t = 3;
		fmt_ppm(b, sizeof(b), c->c_alert_errors_ppm[2]);
		snprintf(why, sizeof(why), "failures %s >= %s of %llu requests "
		    "in %u s", a, b, (unsigned long long)total,
		    c->c_alert_window_ms / 1000);
	} else if (pmax > 0 && pending >= pmax) {
		t = 3;
		snprintf(why, sizeof(why), "%llu requests in flight >= %llu",
		    (unsigned long long)pending, (unsigned long long)pmax);
	} else if (over(c, 1, &j, why, sizeof(why)))
		t = 2;
	else if (redis_down(c, why, sizeof(why)))
		t = 2;
	else if (over(c, 0, &j, why, sizeof(why)))
		t = 1;
	if (t != tier)
		transition(t, why);
	else
		snprintf(reason, sizeof(reason), "%s", why);
	/* the emergency response: shed until calm for alert-hold */
	if (t == 3) {
		calm_since_ms = 0;
		set_shedding(1, now);
	} else if (shedding) {
		if (calm_since_ms == 0)
			calm_since_ms = now;
		if (now - calm_since_ms >= c->c_alert_hold_ms)
			set_shedding(0, now);
	}
}

void
alert_start(void)
{
	if ((snaps = calloc(ALERT_SNAPS, sizeof(*snaps))) == NULL ||
	    (cur = calloc(1, sizeof(*cur))) == NULL)
		fatal("alert state");
	SB_HDR_SET(&sup->s_sb, SB_H_ALERT_TIER, 0);
	SB_HDR_SET(&sup->s_sb, SB_H_SHEDDING, 0);
	ev_timer_init(&tick_ev, tick_cb, ALERT_TICK_MS / 1000.0,
	    ALERT_TICK_MS / 1000.0);
	ev_timer_start(sup->s_loop, &tick_ev);
	ev_unref(sup->s_loop);
}
