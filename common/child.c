/*
 * child.c -- the supervisor protocol as every child speaks it.
 *
 * Start-up: the supervisor sends CONF (memfd with the normalized text, parsed
 * here by the same parser), SCOREBOARD, the LISTENERs, then START; the role
 * sets up and we answer READY.  Stop: QUIT with a drain deadline, SIGTERM
 * (the supervisor's ladder: stop now), or EOF on the channel (the supervisor
 * is gone: drain ORPHAN_DRAIN_MS at most, then exit, so nothing is orphaned).
 * A malformed frame from the supervisor is a bug: log it and exit 1, and the
 * supervisor restarts us.
 *
 * The first CONF is where a child started as root becomes the user of the
 * configuration (priv_drop), before it does anything of its own: it is
 * the first thing that names the user.
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "child.h"
#include "log.h"
#include "priv.h"
#include "util.h"

static struct child		 self;
static const struct role_ops	*ops;
static char			 self_name[32];
static int			 self_debug, self_fg;
static int			 self_stuck;	/* MCPD_FAULT stuck-stop */

const char *
child_name(const struct child *c)
{
	return self_name;
}

/*
 * MCPD_FAULT=ROLE[.INDEX]:ACTION -- fault injection for the integration
 * tests (mcpd(8), ENVIRONMENT).  Actions: crash-start (abort before READY),
 * exit-norestart (exit EXIT_NORESTART before READY), hang-start (never READY),
 * stuck-stop (ignore QUIT and SIGTERM, so only SIGKILL ends it).
 */
static const char *
fault(void)
{
	static char	 buf[64];
	const char	*env = getenv("MCPD_FAULT"), *colon;
	char		 who[32];
	size_t		 n;

	if (env == NULL || (colon = strchr(env, ':')) == NULL)
		return NULL;
	n = colon - env;
	if (n >= sizeof(who))
		return NULL;
	memcpy(who, env, n);
	who[n] = '\0';
	if (strcmp(who, role_name(self.c_role)) != 0) {
		char idx[48];

		snprintf(idx, sizeof(idx), "%s.%u", role_name(self.c_role),
		    self.c_index);
		if (strcmp(who, idx) != 0)
			return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", colon + 1);
	return buf;
}

static void
drain_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	log_warnx("drain deadline passed with %llu in progress; exiting",
	    (unsigned long long)(ops->r_busy ? ops->r_busy(&self) : 0));
	if (ops->r_deadline != NULL)
		ops->r_deadline(&self);
	exit(0);
}

static void
start_quit(uint32_t ms, const char *why)
{
	if (self.c_quitting)
		return;
	self.c_quitting = 1;
	log_info("%s; draining for at most %u.%03u s", why, ms / 1000,
	    ms % 1000);
	if (self.c_slot != NULL)
		SB_SET(self.c_slot, s_state, SB_DRAINING);
	ev_timer_init(&self.c_drain_to, drain_timeout_cb, ms / 1000.0, 0.);
	ev_timer_start(self.c_loop, &self.c_drain_to);
	if (ops->r_quit != NULL)
		ops->r_quit(&self);
	else
		child_drained(&self);
}

void
child_drained(struct child *c)
{
	log_debug("drained; exiting");
	if (c->c_chan != NULL)
		chan_flush(c->c_chan);
	exit(0);
}

static void
on_conf(int fd)
{
	struct conf_errors	 errs;
	struct conf		*old = self.c_conf;
	FILE			*f;
	int			 i;

	if ((f = fdopen(fd, "r")) == NULL)
		fatal("fdopen config");

	memset(&errs, 0, sizeof(errs));
	self.c_conf = conf_parse_file(f, "<supervisor>", &errs);
	fclose(f);
	if (self.c_conf != NULL && self.c_started) {
		/* the role takes over the old one (its catalog uses it) */
		if (ops->r_reconf != NULL)
			ops->r_reconf(&self, old);
		else
			conf_free(&old);
		return;
	}
	conf_free(&old);
	if (self.c_conf == NULL) {
		for (i = 0; i < errs.e_count && i < CONF_ERRORS_MAX; i++)
			log_warnx("%s", errs.e_msg[i]);
		fatalx("configuration from the supervisor does not parse");
	}
	if (!self_fg && self.c_conf->c_log_file[0] != '\0')
		log_init(LOG_TO_FILE, self_debug, self.c_conf->c_log_file);
	/* the runner switches a tool's process to the tool's user */
	priv_drop(self.c_conf, self.c_role == ROLE_RUNNER &&
	    priv_tools_switch(self.c_conf));
}

static void
on_scoreboard(int fd, uint64_t slot, uint64_t restarts)
{
	struct sb_slot *s;

	if (slot >= SB_SLOTS || slot == 0)
		fatalx("scoreboard slot %llu out of range",
		    (unsigned long long)slot);
	if (sb_attach(&self.c_sb, fd) == -1)
		fatal("scoreboard");
	s = self.c_slot = &self.c_sb.sb_slots[slot];
	SB_SET(s, s_pid, getpid());
	SB_SET(s, s_role, self.c_role);
	SB_SET(s, s_index, self.c_index);
	SB_SET(s, s_gen, self.c_gen);
	SB_SET(s, s_start_ms, wall_ms());
	SB_SET(s, s_restarts, restarts);
	SB_SET(s, s_conns, 0);
	SB_SET(s, s_accepted, 0);
	SB_SET(s, s_state, SB_STARTING);
}

/*
 * The heartbeat: every WATCHDOG_BEAT_MS the loop turns, and says so in our
 * slot; a loop that stops turning (blocked, SIGSTOPped) is one the
 * supervisor's watchdog kills and replaces.
 */
static void
beat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static unsigned beats;

	SB_SET(self.c_slot, s_beat_ms, now_ms());
	sb_usage(self.c_slot, beats++ % SB_FDS_BEATS == 0);
}

static void
on_start(void)
{
	const char *f;

	if (self.c_conf == NULL || self.c_slot == NULL)
		fatalx("START before CONF and SCOREBOARD");
	if ((f = fault()) != NULL) {
		log_warnx("MCPD_FAULT: %s", f);
		if (strcmp(f, "crash-start") == 0)
			abort();
		if (strcmp(f, "exit-norestart") == 0)
			exit(EXIT_NORESTART);
		if (strcmp(f, "hang-start") == 0)
			return;
		if (strcmp(f, "stuck-stop") == 0)
			self_stuck = 1;
	}
	if (ops->r_start != NULL)
		ops->r_start(&self);
	self.c_started = 1;
	beat_cb(self.c_loop, &self.c_beat_to, 0);
	ev_timer_init(&self.c_beat_to, beat_cb, WATCHDOG_BEAT_MS / 1000.0,
	    WATCHDOG_BEAT_MS / 1000.0);
	ev_timer_start(self.c_loop, &self.c_beat_to);
	ev_unref(self.c_loop);		/* it keeps no loop alive */
	SB_SET(self.c_slot, s_state, SB_READY);
	if (chan_send(self.c_chan, MSG_CHILD_READY, -1,
	    (uint64_t)MCPD_PROTO_VERSION, (uint64_t)self.c_gen,
	    (uint64_t)getpid()) == -1)
		fatal("send READY");
	log_debug("ready");
}

static void
dispatch_sup(struct chan *ch, struct msg *m, void *arg)
{
	char addr[CONF_ADDR_MAX_BYTES];

	switch (m->m_type) {
	case MSG_SUP_CONF:
		on_conf(m->m_fd);
		break;
	case MSG_SUP_SCOREBOARD:
		on_scoreboard(m->m_fd, m->m_f[0].u, m->m_f[1].u);
		break;
	case MSG_SUP_LISTENER:
		if (msg_strcpy(addr, sizeof(addr), &m->m_f[1]) == -1 ||
		    m->m_f[0].u > LISTEN_ADMIN || m->m_f[2].u > 65535 ||
		    m->m_f[3].u > 1)
			fatalx("bad LISTENER message");
		if (ops->r_listener != NULL && !self.c_quitting)
			ops->r_listener(&self, (enum listen_kind)m->m_f[0].u,
			    m->m_fd, addr, (uint16_t)m->m_f[2].u,
			    (int)m->m_f[3].u);
		else
			close(m->m_fd);
		break;
	case MSG_SUP_WORKERS:
		if (m->m_f[0].u == 0 || m->m_f[0].u > WORKERS_MAX)
			fatalx("bad WORKERS message");
		self.c_nworkers = (uint32_t)m->m_f[0].u;
		break;
	case MSG_SUP_PEER:
		/* a draining worker still hands over: to the new workers */
		if (ops->r_peer != NULL && m->m_f[2].u <= UINT32_MAX)
			ops->r_peer(&self, (uint32_t)m->m_f[0].u,
			    (m->m_f[1].u & SUP_PEER_INBOUND) != 0,
			    (uint32_t)m->m_f[2].u, m->m_fd);
		else
			close(m->m_fd);
		break;
	case MSG_SUP_RUNNER:
		if (ops->r_runner != NULL && !self.c_quitting)
			ops->r_runner(&self, (uint32_t)m->m_f[0].u, m->m_fd);
		else
			close(m->m_fd);
		break;
	case MSG_SUP_AGENT:
		if (ops->r_agent != NULL && !self.c_quitting)
			ops->r_agent(&self, (uint32_t)m->m_f[0].u, m->m_fd);
		else
			close(m->m_fd);
		break;
	case MSG_SUP_KEY:
		if (m->m_f[0].s.len >= sizeof(self.c_node) ||
		    cluster_keys_unwire((const unsigned char *)m->m_f[1].s.p,
		    m->m_f[1].s.len, &self.c_keys) == -1)
			fatalx("bad KEY message");
		msg_strcpy(self.c_node, sizeof(self.c_node), &m->m_f[0]);
		if (self.c_have_key && ops->r_keys != NULL)
			ops->r_keys(&self);
		self.c_have_key = 1;
		break;
	case MSG_SUP_START:
		on_start();
		break;
	case MSG_SUP_QUIT:
		if (self_stuck) {
			log_warnx("MCPD_FAULT stuck-stop: ignoring QUIT");
			break;
		}
		start_quit(m->m_f[0].u > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)m->m_f[0].u, "asked to stop");
		break;
	case MSG_SUP_LOG_REOPEN:
		if (log_reopen() == -1)
			log_warn("reopen log file");
		if (ops->r_reopen != NULL)
			ops->r_reopen(&self);
		break;
	default:
		fatalx("unexpected %s from the supervisor",
		    msg_name(&msg_proto_sup, m->m_type));
	}
}

static void
chan_err(struct chan *ch, const char *reason, void *arg)
{
	if (reason != NULL)
		fatalx("supervisor channel: %s", reason);
	chan_free(&self.c_chan);
	start_quit(ORPHAN_DRAIN_MS, "supervisor channel closed");
}

static void
sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (self_stuck) {
		log_warnx("MCPD_FAULT stuck-stop: ignoring SIGTERM");
		return;
	}
	log_info("SIGTERM: exiting with %llu in progress",
	    (unsigned long long)(ops->r_busy ? ops->r_busy(&self) : 0));
	exit(0);
}

/* Terminal signals reach the whole process group: the supervisor decides. */
static void
sigignore_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
}

/*
 * A worker keeps its channel to the supervisor on its highest descriptor.
 * When a process dies the kernel releases its files last-closed-first, so
 * a dying worker's channel closes before its 20,000 connections are torn
 * down (~300 ms) and the supervisor starts its successor at once (see
 * proc_lost()); on descriptor 3 it closed last.  Every descriptor the
 * worker may use is raised to first (the hard limit is its budget).
 */
static int
chan_high(void)
{
	struct rlimit	rl;
	int		hi;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return CHILD_CHAN_FD;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 &&
		    getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return CHILD_CHAN_FD;
	}
	hi = rl.rlim_cur > CHILD_CHAN_HIGH_MAX ? CHILD_CHAN_HIGH_MAX :
	    (int)rl.rlim_cur;
	if (--hi <= CHILD_CHAN_FD ||
	    dup3(CHILD_CHAN_FD, hi, O_CLOEXEC) == -1)
		return CHILD_CHAN_FD;
	close(CHILD_CHAN_FD);
	return hi;
}

void
child_main(enum proc_role role, uint32_t index, uint32_t gen, int debug,
    int foreground)
{
	int	chanfd;

	switch (role) {
	case ROLE_WORKER:
		ops = &worker_ops;
		snprintf(self_name, sizeof(self_name), "worker %u", index);
		break;
	case ROLE_AGENT:
		ops = &agent_ops;
		snprintf(self_name, sizeof(self_name), "agent");
		break;
	case ROLE_RUNNER:
		ops = &runner_ops;
		snprintf(self_name, sizeof(self_name), "runner");
		break;
	default:
		fatalx("bad child role %d", role);
	}
	self_debug = debug;
	self_fg = foreground;
	log_procname(self_name);
	log_init(foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG, debug, NULL);
	proctitle_set("%s", self_name);
	signal(SIGPIPE, SIG_IGN);

	self.c_role = role;
	self.c_index = index;
	self.c_gen = gen;
	self.c_sb.sb_fd = -1;
	if ((self.c_loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("libev: no event loop");
	chanfd = role == ROLE_WORKER ? chan_high() : CHILD_CHAN_FD;
	if (fd_nonblock(chanfd) == -1 || fd_cloexec(chanfd, 1) == -1)
		fatal("channel fd %d", chanfd);
	self.c_chan = chan_new(self.c_loop, chanfd, &msg_proto_sup, 1,
	    dispatch_sup, chan_err, &self, "supervisor");
	if (self.c_chan == NULL)
		fatal("channel");
	chan_set_gen(self.c_chan, gen, 0);
	chan_set_accept(self.c_chan, "sup>child");

	ev_signal_init(&self.c_sigterm, sigterm_cb, SIGTERM);
	ev_signal_init(&self.c_sigint, sigignore_cb, SIGINT);
	ev_signal_init(&self.c_sighup, sigignore_cb, SIGHUP);
	ev_signal_init(&self.c_sigusr1, sigignore_cb, SIGUSR1);
	ev_signal_init(&self.c_sigquit, sigignore_cb, SIGQUIT);
	ev_signal_start(self.c_loop, &self.c_sigterm);
	ev_signal_start(self.c_loop, &self.c_sigint);
	ev_signal_start(self.c_loop, &self.c_sighup);
	ev_signal_start(self.c_loop, &self.c_sigusr1);
	ev_signal_start(self.c_loop, &self.c_sigquit);
	ev_unref(self.c_loop);	/* signals alone do not keep us alive */
	ev_unref(self.c_loop);
	ev_unref(self.c_loop);
	ev_unref(self.c_loop);
	ev_unref(self.c_loop);

	ev_run(self.c_loop, 0);
	exit(0);
}
