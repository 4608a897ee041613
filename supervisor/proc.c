/*
 * proc.c -- the supervisor's children: spawn, readiness, stop ladder, reap.
 *
 * Children are forked and re-exec'd ("mcpd -P worker -I 3 -G 2") with the
 * channel on CHILD_CHAN_FD; the configuration, the scoreboard and the
 * listeners follow over the channel.  What to do when a child ends is
 * decided by the pure policy in restart.c; this file carries it out and
 * logs every decision with its numbers.
 *
 * A member is a child spec instance (agent, runner, worker i) and the
 * policy's child of the same index; a proc is one running process.  During
 * a generation swap a member briefly has a new proc while its old one, no
 * longer a member's (p_member == -1), drains.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "sup.h"
#include "util.h"

static void	proc_timeout_cb(struct ev_loop *, ev_timer *, int);
static void	proc_dispatch(struct chan *, struct msg *, void *);
static void	proc_chan_err(struct chan *, const char *, void *);
static void	apply(const struct rs_decision *, uint64_t);
static uint32_t	shutdown_ms(const struct proc *);
static void	signal_proc(struct proc *, int);

static uint64_t	watchdog_last;	/* when the watchdog last looked */

const char *
pstate_name(enum pstate s)
{
	switch (s) {
	case P_STARTING:	return "starting";
	case P_READY:		return "ready";
	case P_STOPPING:	return "draining";
	case P_TERMINATING:	return "terminating";
	case P_KILLED:		return "killed";
	}
	return "?";
}

const char *
proc_name(const struct proc *p, char *buf, size_t len)
{
	if (p->p_role == ROLE_WORKER)
		snprintf(buf, len, "worker %u", p->p_index);
	else
		snprintf(buf, len, "%s", role_name(p->p_role));
	return buf;
}

static const char *
member_name(int i, char *buf, size_t len)
{
	struct member *m = &sup->s_members[i];

	if (m->m_role == ROLE_WORKER)
		snprintf(buf, len, "worker %u", m->m_index);
	else
		snprintf(buf, len, "%s", role_name(m->m_role));
	return buf;
}

/*
 * The watchdog: a ready child whose loop has not turned (its heartbeat in
 * the scoreboard, every WATCHDOG_BEAT_MS) for watchdog-timeout is blocked
 * or stopped; it is killed, and its death is handled like any other (a
 * permanent worker's successor takes over its listening socket).  Before
 * READY the ready-timeout rules, after QUIT the stop ladder.
 */
static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static uint64_t	 resumed;
	static unsigned	 beats;
	struct proc	*p;
	uint64_t	 now = now_ms(), beat;
	uint32_t	 limit;
	char		 name[32];

	if ((limit = sup->s_conf->c_watchdog_timeout_ms) == 0)
		return;
	/*
	 * Our own loop did not turn for as long: we were stopped too (the
	 * whole node frozen -- SIGSTOP, a paused machine), or stalled.  What
	 * the children did meanwhile is not theirs to answer for: each has
	 * watchdog-timeout from now to beat again.
	 */
	if (now - watchdog_last > limit) {
		log_warnx("watchdog: the supervisor itself did not run for "
		    "%llu.%03llu s; the children's heartbeats are judged "
		    "from now", (unsigned long long)(now - watchdog_last) / 1000,
		    (unsigned long long)(now - watchdog_last) % 1000);
		resumed = now;
	}
	watchdog_last = now;
	/* our own figures, in slot 0 (mcpd_resident_memory_bytes, ...) */
	sb_usage(&sup->s_sb.sb_slots[0], beats++ % SB_FDS_BEATS == 0);
	TAILQ_FOREACH(p, &sup->s_procs, p_entry) {
		if (p->p_state != P_READY || p->p_pid <= 0)
			continue;
		beat = SB_GET(&sup->s_sb.sb_slots[p->p_slot], s_beat_ms);
		if (beat != 0 && beat < resumed)
			beat = resumed;
		if (beat == 0 || now < beat || now - beat <= limit)
			continue;
		proc_name(p, name, sizeof(name));
		log_err("%s (pid %ld): its event loop has not turned for "
		    "%llu.%03llu s (watchdog-timeout %u.%03u s); killing it",
		    name, (long)p->p_pid, (unsigned long long)(now - beat) /
		    1000, (unsigned long long)(now - beat) % 1000,
		    limit / 1000, limit % 1000);
		p->p_state = P_KILLED;
		signal_proc(p, SIGKILL);
	}
}

void
proc_init(void)
{
	TAILQ_INIT(&sup->s_procs);
	watchdog_last = now_ms();
	ev_timer_init(&sup->s_watchdog_to, watchdog_cb,
	    WATCHDOG_BEAT_MS / 1000.0, WATCHDOG_BEAT_MS / 1000.0);
	ev_timer_start(sup->s_loop, &sup->s_watchdog_to);
	ev_unref(sup->s_loop);
	rs_init(&sup->s_rs, &(struct rs_params){
	    .strategy = sup->s_conf->c_strategy,
	    .max_restarts = sup->s_conf->c_restart_intensity,
	    .period_ms = sup->s_conf->c_restart_period_ms,
	    .throttle_min_ms = sup->s_conf->c_throttle_min_ms,
	    .throttle_max_ms = sup->s_conf->c_throttle_max_ms,
	    .reset_ms = sup->s_conf->c_throttle_reset_ms,
	    .auto_shutdown = sup->s_conf->c_auto_shutdown,
	});
}

int
proc_add_member(enum proc_role role, uint32_t index, enum conf_restart rt,
    int significant)
{
	int i;

	if ((i = rs_add(&sup->s_rs, rt, significant)) == -1)
		return -1;
	memset(&sup->s_members[i], 0, sizeof(sup->s_members[i]));
	sup->s_members[i].m_role = role;
	sup->s_members[i].m_index = index;
	return i;
}

uint32_t
proc_nworkers(void)
{
	size_t		i;
	uint32_t	n = 0;

	for (i = 0; i < sup->s_rs.n; i++)
		if (sup->s_members[i].m_role == ROLE_WORKER &&
		    !sup->s_members[i].m_removing)
			n++;
	return n;
}

static int
slot_alloc(void)
{
	uint32_t i;

	for (i = 1; i < SB_SLOTS; i++) {
		if (!sup->s_slot_used[i]) {
			sup->s_slot_used[i] = 1;
			sb_clear(&sup->s_sb, i);
			return i;
		}
	}
	return -1;
}

static int
conf_memfd(void)
{
	return memfd_sealed("mcpd-conf", sup->s_conf_text, sup->s_conf_len,
	    NULL, 0);
}

static void
exec_child(int chanfd, enum proc_role role, uint32_t index, uint32_t gen)
{
	char		 sidx[16], sgen[16];
	char		*argv[12];
	sigset_t	 none;
	int		 argc = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(chanfd, CHILD_CHAN_FD) == -1)
		_exit(127);
	close_from(CHILD_CHAN_FD + 1);
	snprintf(sidx, sizeof(sidx), "%u", index);
	snprintf(sgen, sizeof(sgen), "%u", gen);
	argv[argc++] = "mcpd";
	argv[argc++] = "-P";
	argv[argc++] = (char *)role_name(role);
	argv[argc++] = "-I";
	argv[argc++] = sidx;
	argv[argc++] = "-G";
	argv[argc++] = sgen;
	if (sup->s_debug)
		argv[argc++] = "-d";
	if (sup->s_foreground)
		argv[argc++] = "-f";
	argv[argc] = NULL;
	execv("/proc/self/exe", argv);
	_exit(127);
}

/*
 * The worker mesh: a new worker and every current worker get a channel to
 * each other, each replacing what it had for the other's index (a
 * restarted or new-generation worker takes over its predecessor's place;
 * the replaced channel stays open for what the predecessor hands over).
 * A process that is no longer a member's (an older generation, ready or
 * draining; a worker being removed) gets one to the new worker too, for
 * the requests it hands over until it exits; the new worker only reads
 * from that one (SUP_PEER_INBOUND), its channel for that index is the
 * current member's.  A predecessor of the new worker's own index gets
 * one too: its successor, which takes its idle keep-alive connections.
 */
static void
wire_peers(struct proc *p)
{
	struct proc	*q;
	int		 sp[2], member;

	TAILQ_FOREACH(q, &sup->s_procs, p_entry) {
		if (q == p || q->p_role != ROLE_WORKER || q->p_chan == NULL ||
		    q->p_state > P_STOPPING)
			continue;
		/* a predecessor of ours: its successor, for its idle conns */
		member = q->p_index != p->p_index && q->p_member >= 0 &&
		    q->p_state < P_STOPPING &&
		    !sup->s_members[q->p_member].m_removing;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sp) == -1) {
			log_warn("worker mesh socketpair");
			return;
		}
		chan_send(p->p_chan, MSG_SUP_PEER, sp[0], (uint64_t)q->p_index,
		    (uint64_t)(member ? 0 : SUP_PEER_INBOUND),
		    (uint64_t)q->p_gen);
		chan_send(q->p_chan, MSG_SUP_PEER, sp[1], (uint64_t)p->p_index,
		    (uint64_t)0, (uint64_t)p->p_gen);
	}
}

/*
 * The channels of a service process to the workers: the exec tools'
 * (msg_run.def, to the runner) and the agent's (msg_agent.def).  A new
 * worker gets one to the service, and a new service one to every worker,
 * a draining one too (its calls in flight may still run tools, its
 * requests still wait for an introspection).  A worker of a new
 * generation has its own, beside its predecessor's.
 */
static void
wire_service_pair(struct proc *w, struct proc *s, uint32_t type)
{
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("%s channel socketpair",
		    type == MSG_SUP_RUNNER ? "runner" : "agent");
		return;
	}
	chan_send(w->p_chan, type, sp[0], (uint64_t)w->p_index);
	chan_send(s->p_chan, type, sp[1], (uint64_t)w->p_index);
}

static void
wire_service(struct proc *p, enum proc_role role, uint32_t type)
{
	struct proc *q;

	TAILQ_FOREACH(q, &sup->s_procs, p_entry) {
		if (q == p || q->p_chan == NULL || q->p_state > P_STOPPING)
			continue;
		if (p->p_role == ROLE_WORKER && q->p_role == role &&
		    q->p_member >= 0 && q->p_state < P_STOPPING)
			wire_service_pair(p, q, type);
		else if (p->p_role == role && q->p_role == ROLE_WORKER)
			wire_service_pair(q, p, type);
	}
}

static struct proc *
spawn(enum proc_role role, uint32_t index, int member)
{
	struct proc	*p;
	char		 name[32];
	int		 sp[2], slot, fd;
	pid_t		 pid;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("spawn");
		return NULL;
	}
	p->p_role = role;
	p->p_index = index;
	p->p_gen = sup->s_gen;
	p->p_member = member;
	proc_name(p, name, sizeof(name));
	if ((slot = slot_alloc()) == -1) {
		log_warnx("%s: no free scoreboard slot", name);
		free(p);
		return NULL;
	}
	p->p_slot = slot;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("%s: socketpair", name);
		goto fail;
	}
	switch (pid = fork()) {
	case -1:
		log_warn("%s: fork", name);
		close(sp[0]);
		close(sp[1]);
		goto fail;
	case 0:
		exec_child(sp[1], role, index, p->p_gen);
		/* NOTREACHED */
	}
	close(sp[1]);
	fd_nonblock(sp[0]);
	p->p_pid = pid;
	p->p_start_ms = now_ms();
	p->p_state = P_STARTING;
	p->p_chan = chan_new(sup->s_loop, sp[0], &msg_proto_sup, 0,
	    proc_dispatch, proc_chan_err, p, name);
	if (p->p_chan == NULL)
		fatal("channel");
	chan_set_gen(p->p_chan, sup->s_gen, p->p_gen);
	chan_set_accept(p->p_chan, "child>sup");
	TAILQ_INSERT_TAIL(&sup->s_procs, p, p_entry);
	sup->s_nprocs++;

	/* everything the child needs, then START; it answers READY */
	if ((fd = conf_memfd()) == -1)
		log_warn("%s: config memfd", name);
	else
		chan_send(p->p_chan, MSG_SUP_CONF, fd);
	if ((fd = dup(sup->s_sb.sb_fd)) != -1)
		chan_send(p->p_chan, MSG_SUP_SCOREBOARD, fd, (uint64_t)slot,
		    (uint64_t)(member >= 0 ?
		    sup->s_rs.c[member].restarts : 0));
	if (role == ROLE_WORKER)
		proc_send_listeners(p);
	if (role == ROLE_WORKER)
		wire_peers(p);
	if (role == ROLE_WORKER || role == ROLE_RUNNER)
		wire_service(p, ROLE_RUNNER, MSG_SUP_RUNNER);
	if (role == ROLE_WORKER || role == ROLE_AGENT)
		wire_service(p, ROLE_AGENT, MSG_SUP_AGENT);
	if (role == ROLE_WORKER)
		proc_send_keys(p);
	chan_send(p->p_chan, MSG_SUP_START, -1);

	/*
	 * The deadline counts from now: the loop's time is from before the
	 * forks of this iteration (under load, tens of ms before).
	 */
	ev_now_update(sup->s_loop);
	ev_timer_init(&p->p_to, proc_timeout_cb,
	    sup->s_conf->c_ready_timeout_ms / 1000.0, 0.);
	p->p_to.data = p;
	ev_timer_start(sup->s_loop, &p->p_to);
	log_debug("%s: started pid %ld, generation %u, slot %d", name,
	    (long)pid, p->p_gen, slot);
	return p;
fail:
	sup->s_slot_used[slot] = 0;
	free(p);
	return NULL;
}

void
proc_start_member(int i)
{
	struct member	*m = &sup->s_members[i];
	struct proc	*p;
	char		 name[32];

	m->m_start_at = 0;
	if ((p = spawn(m->m_role, m->m_index, i)) == NULL) {
		/* like a crash before READY: let the policy pace retries */
		struct rs_decision d;

		log_warnx("%s: could not start", member_name(i, name,
		    sizeof(name)));
		rs_started(&sup->s_rs, i, now_ms());
		rs_exited(&sup->s_rs, i, RS_EXIT_ABNORMAL, now_ms(), &d);
		apply(&d, now_ms());
		return;
	}
	m->m_proc = p;
	rs_started(&sup->s_rs, i, p->p_start_ms);
}

static void
start_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	proc_schedule();
}

/*
 * Start every member whose start is due and whose previous process is gone,
 * in start order, and arm the timer for the next one.
 */
void
proc_schedule(void)
{
	uint64_t	now = now_ms(), next = 0;
	size_t		i;

	if (sup->s_state == SUP_STOPPING)
		return;
	for (i = 0; i < sup->s_rs.n; i++) {
		struct member *m = &sup->s_members[i];

		if (m->m_start_at == 0 || m->m_removing)
			continue;
		if (m->m_proc != NULL || m->m_start_at > now) {
			if (m->m_proc == NULL &&
			    (next == 0 || m->m_start_at < next))
				next = m->m_start_at;
			continue;
		}
		proc_start_member(i);
	}
	ev_timer_stop(sup->s_loop, &sup->s_start_to);
	if (next != 0) {
		ev_timer_init(&sup->s_start_to, start_timer_cb,
		    (next - now) / 1000.0, 0.);
		ev_timer_start(sup->s_loop, &sup->s_start_to);
	}
}

static void
signal_proc(struct proc *p, int sig)
{
	if (p->p_pid > 0 && kill(p->p_pid, sig) == -1 && errno != ESRCH)
		log_warn("kill %ld", (long)p->p_pid);
}

/* The stop ladder: QUIT with a drain deadline, SIGTERM, then SIGKILL. */
void
proc_stop(struct proc *p, uint32_t drain_ms)
{
	if (p->p_state >= P_STOPPING)
		return;
	p->p_asked = 1;
	p->p_state = P_STOPPING;
	p->p_drain_ms = drain_ms;
	if (p->p_chan == NULL || chan_send(p->p_chan, MSG_SUP_QUIT, -1,
	    (uint64_t)drain_ms) == -1) {
		p->p_state = P_TERMINATING;
		p->p_term_ms = shutdown_ms(p);
		signal_proc(p, SIGTERM);
		drain_ms = 0;
	}
	ev_timer_stop(sup->s_loop, &p->p_to);
	/* the child stops itself at the deadline; give it a moment more */
	ev_now_update(sup->s_loop);
	ev_timer_set(&p->p_to, (drain_ms + QUIT_GRACE_MS) / 1000.0, 0.);
	ev_timer_start(sup->s_loop, &p->p_to);
}

static uint32_t
shutdown_ms(const struct proc *p)
{
	return sup->s_conf->c_spec[p->p_role].s_shutdown_ms;
}

static void
proc_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proc	*p = w->data;
	char		 name[32];
	uint32_t	 ms;

	proc_name(p, name, sizeof(name));
	switch (p->p_state) {
	case P_STARTING:
		/* never before its time, whatever the loop's clock said */
		ms = now_ms() - p->p_start_ms;
		if (ms < sup->s_conf->c_ready_timeout_ms) {
			ev_timer_set(w, (sup->s_conf->c_ready_timeout_ms - ms) /
			    1000.0, 0.);
			ev_timer_start(loop, w);
			break;
		}
		log_warnx("%s (pid %ld) not READY within %u.%03u s; killing",
		    name, (long)p->p_pid,
		    sup->s_conf->c_ready_timeout_ms / 1000,
		    sup->s_conf->c_ready_timeout_ms % 1000);
		p->p_state = P_KILLED;
		signal_proc(p, SIGKILL);
		break;
	case P_READY:
		break;
	case P_STOPPING:
		ms = shutdown_ms(p);
		log_warnx("%s (pid %ld) still running %u.%03u s after QUIT; "
		    "sending SIGTERM, SIGKILL in %u.%03u s", name,
		    (long)p->p_pid, (p->p_drain_ms + QUIT_GRACE_MS) / 1000,
		    (p->p_drain_ms + QUIT_GRACE_MS) % 1000, ms / 1000,
		    ms % 1000);
		p->p_state = P_TERMINATING;
		p->p_term_ms = ms;
		signal_proc(p, SIGTERM);
		ev_timer_set(&p->p_to, ms / 1000.0, 0.);
		ev_timer_start(loop, &p->p_to);
		break;
	case P_TERMINATING:
		log_warnx("%s (pid %ld) ignored SIGTERM for %u.%03u s; "
		    "sending SIGKILL", name, (long)p->p_pid,
		    p->p_term_ms / 1000, p->p_term_ms % 1000);
		p->p_state = P_KILLED;
		signal_proc(p, SIGKILL);
		break;
	case P_KILLED:
		break;
	}
}

void
proc_kill_all(int sig)
{
	struct proc	*p;
	char		 name[32];

	TAILQ_FOREACH_REVERSE(p, &sup->s_procs, proclist, p_entry) {
		if (sig == SIGKILL) {
			if (p->p_state == P_KILLED)
				continue;
			log_warnx("%s (pid %ld): sending SIGKILL",
			    proc_name(p, name, sizeof(name)), (long)p->p_pid);
			p->p_state = P_KILLED;
			ev_timer_stop(sup->s_loop, &p->p_to);
		} else if (sig == SIGTERM) {
			if (p->p_state >= P_TERMINATING)
				continue;
			p->p_state = P_TERMINATING;
			p->p_term_ms = FAST_STOP_MS;
			ev_timer_stop(sup->s_loop, &p->p_to);
			ev_timer_set(&p->p_to, FAST_STOP_MS / 1000.0, 0.);
			ev_timer_start(sup->s_loop, &p->p_to);
		}
		signal_proc(p, sig);
	}
}

/* Carry out a policy decision: stop the listed survivors, schedule starts. */
static void
apply(const struct rs_decision *d, uint64_t now)
{
	char	name[32];
	size_t	k;

	switch (d->action) {
	case RS_NONE:
		return;
	case RS_ESCALATE:
		log_crit("%s; stopping every child and exiting", d->reason);
		sup_shutdown(EXIT_ESCALATED, "restart intensity exceeded");
		return;
	case RS_SHUTDOWN:
		log_notice("%s; shutting down", d->reason);
		sup_shutdown(EXIT_OK, "a significant child ended");
		return;
	case RS_RESTART:
		break;
	}
	for (k = 0; k < d->nstop; k++) {
		struct member *m = &sup->s_members[d->stop[k]];

		if (m->m_proc != NULL) {
			log_info("%s: stopping for the group restart",
			    member_name(d->stop[k], name, sizeof(name)));
			proc_stop(m->m_proc, shutdown_ms(m->m_proc));
		}
	}
	for (k = 0; k < d->nstart; k++)
		sup->s_members[d->start[k]].m_start_at = now + d->delay_ms;
	proc_schedule();
}

static void
proc_free(struct proc *p)
{
	ev_timer_stop(sup->s_loop, &p->p_to);
	chan_free(&p->p_chan);
	free(p->p_dec);
	sb_clear(&sup->s_sb, p->p_slot);
	sup->s_slot_used[p->p_slot] = 0;
	TAILQ_REMOVE(&sup->s_procs, p, p_entry);
	sup->s_nprocs--;
	free(p);
}

/*
 * The listening sockets worker p serves, those it was not given yet.  An
 * HTTP listener's group: socket j is worker j % W's, and the worker
 * before it has it on standby (it looks at its queue ten times a second,
 * and takes what waits there), so that a socket whose worker is gone,
 * full or throttled is still served; one watcher a socket, no thundering
 * herd.  The group never shrinks: after a reload that changes W the
 * running workers get the sockets the new W gives them.
 */
void
proc_send_listeners(struct proc *p)
{
	char		 name[32];
	uint32_t	 i, j, k, n, nw = conf_workers(sup->s_conf), me;
	int		 fd, http, sfd;

	if (p->p_role != ROLE_WORKER || p->p_chan == NULL ||
	    p->p_state >= P_STOPPING)
		return;
	if (nw == 0)
		nw = 1;
	chan_send(p->p_chan, MSG_SUP_WORKERS, -1, (uint64_t)nw);
	me = p->p_index % nw;
	proc_name(p, name, sizeof(name));
	for (i = 0; i < sup->s_nlisteners; i++) {
		struct slistener *l = &sup->s_listeners[i];

		http = l->sl_conf.l_kind == LISTEN_HTTP;
		n = l->sl_ngroup ? l->sl_ngroup : 1;
		for (j = 0; j < n; j++) {
			if (http && j % nw != me && (j + 1) % nw != me)
				continue;
			sfd = listen_fd_for(l, j);
			for (k = 0; k < p->p_nsent; k++)
				if (p->p_sent[k] == sfd)
					break;
			if (k < p->p_nsent || p->p_nsent == PROC_SOCKETS_MAX)
				continue;
			if ((fd = dup(sfd)) == -1) {
				log_warn("%s: dup listener", name);
				continue;
			}
			p->p_sent[p->p_nsent++] = sfd;
			chan_send(p->p_chan, MSG_SUP_LISTENER, fd,
			    (uint64_t)l->sl_conf.l_kind, l->sl_conf.l_addr,
			    (uint64_t)l->sl_conf.l_port,
			    (uint64_t)(http && nw > 1 && j % nw != me));
		}
	}
}

/* Fewer workers: drop trailing members whose process is gone. */
static void
pop_removed(void)
{
	while (sup->s_rs.n > 0) {
		struct member *m = &sup->s_members[sup->s_rs.n - 1];

		if (!m->m_removing || m->m_proc != NULL)
			break;
		rs_pop(&sup->s_rs);
	}
}

/* The log line of an exit and what was decided. */
static void
decided(const char *name, pid_t pid, const char *st, uint64_t up,
    const struct rs_decision *d)
{
	switch (d->action) {
	case RS_RESTART:
		log_warnx("%s (pid %ld) exited %s after %llu.%03llu s; "
		    "restarting in %u.%03u s (%s)", name, (long)pid, st,
		    (unsigned long long)(up / 1000),
		    (unsigned long long)(up % 1000), d->delay_ms / 1000,
		    d->delay_ms % 1000, d->reason);
		break;
	default:
		log_warnx("%s (pid %ld) exited %s after %llu.%03llu s; %s "
		    "(%s)", name, (long)pid, st,
		    (unsigned long long)(up / 1000),
		    (unsigned long long)(up % 1000),
		    d->action == RS_NONE ? "not restarted" :
		    rs_action_name(d->action), d->reason);
		break;
	}
}

void
proc_reap(pid_t pid, int status)
{
	struct proc		*p;
	struct rs_decision	 d;
	enum rs_exit		 how;
	char			 name[32], st[96];
	uint64_t		 now = now_ms(), up;
	int			 i, asked;

	TAILQ_FOREACH(p, &sup->s_procs, p_entry)
		if (p->p_pid == pid)
			break;
	if (p == NULL) {
		log_debug("reaped unknown pid %ld", (long)pid);
		return;
	}
	proc_name(p, name, sizeof(name));
	wait_status_str(status, st, sizeof(st));
	up = now - p->p_start_ms;
	asked = p->p_asked;
	i = p->p_member;
	if (i >= 0)
		sup->s_members[i].m_proc = NULL;
	if (p->p_dec != NULL) {
		/* decided when its channel closed (proc_lost) */
		struct rs_decision *dd = p->p_dec;
		int applied = p->p_dec_applied;

		p->p_dec = NULL;
		proc_free(p);
		decided(name, pid, st, up, dd);
		if (!applied && sup->s_state != SUP_STOPPING)
			apply(dd, now);
		free(dd);
		sup_check_started();
		if (sup->s_state == SUP_STOPPING && sup->s_nprocs == 0)
			ev_break(sup->s_loop, EVBREAK_ALL);
		return;
	}

	if (i < 0 || sup->s_state == SUP_STOPPING ||
	    (asked && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		log_info("%s (pid %ld, generation %u) exited %s after "
		    "%llu.%03llu s%s", name, (long)pid, p->p_gen, st,
		    (unsigned long long)(up / 1000),
		    (unsigned long long)(up % 1000),
		    i < 0 ? " (retired generation)" : "");
		proc_free(p);
		if (i >= 0) {
			rs_stopped(&sup->s_rs, i);
			pop_removed();
		}
		if (sup->s_state == SUP_STOPPING && sup->s_nprocs == 0)
			ev_break(sup->s_loop, EVBREAK_ALL);
		else
			proc_schedule();
		return;
	}
	if (asked)
		/* stopped for a group restart but did not exit cleanly */
		how = RS_EXIT_NORMAL;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		how = RS_EXIT_NORMAL;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NORESTART)
		how = RS_EXIT_NORESTART;
	else
		how = RS_EXIT_ABNORMAL;
	proc_free(p);
	if (asked) {
		log_info("%s (pid %ld) exited %s after %llu.%03llu s, as asked",
		    name, (long)pid, st, (unsigned long long)(up / 1000),
		    (unsigned long long)(up % 1000));
		rs_stopped(&sup->s_rs, i);
		pop_removed();
		proc_schedule();
		return;
	}
	rs_exited(&sup->s_rs, i, how, now, &d);
	decided(name, pid, st, up, &d);
	apply(&d, now);
	/* a member that is gone for good no longer holds up readiness */
	sup_check_started();
}

static void
proc_ready(struct proc *p, struct msg *m)
{
	struct proc	*old;
	char		 name[32];
	uint64_t	 now = now_ms();

	proc_name(p, name, sizeof(name));
	if (m->m_f[0].u != MCPD_PROTO_VERSION || m->m_f[1].u != p->p_gen ||
	    m->m_f[2].u != (uint64_t)p->p_pid) {
		log_warnx("%s: READY with protocol %llu generation %llu pid "
		    "%llu, want %d %u %ld; killing", name,
		    (unsigned long long)m->m_f[0].u,
		    (unsigned long long)m->m_f[1].u,
		    (unsigned long long)m->m_f[2].u, MCPD_PROTO_VERSION,
		    p->p_gen, (long)p->p_pid);
		p->p_state = P_KILLED;
		signal_proc(p, SIGKILL);
		return;
	}
	if (p->p_state != P_STARTING)
		return;
	p->p_state = P_READY;
	p->p_ready_ms = now;
	ev_timer_stop(sup->s_loop, &p->p_to);
	log_info("%s (pid %ld, generation %u) ready in %llu ms", name,
	    (long)p->p_pid, p->p_gen,
	    (unsigned long long)(now - p->p_start_ms));
	if (p->p_member < 0)
		return;
	rs_ready(&sup->s_rs, p->p_member, now);
	/* generation swap: the old process of this member may go now */
	TAILQ_FOREACH(old, &sup->s_procs, p_entry) {
		if (old->p_member == -1 && old->p_role == p->p_role &&
		    old->p_index == p->p_index && old->p_gen < p->p_gen &&
		    old->p_state < P_STOPPING)
			proc_stop(old, sup->s_conf->c_drain_timeout_ms);
	}
	sup_check_started();
}

static void
proc_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct proc	*p = arg;
	char		 name[32];

	switch (m->m_type) {
	case MSG_CHILD_READY:
		proc_ready(p, m);
		break;
	default:
		log_warnx("%s: unexpected %s; killing it",
		    proc_name(p, name, sizeof(name)),
		    msg_name(&msg_proto_sup, m->m_type));
		if (m->m_fd != -1)
			close(m->m_fd);
		p->p_state = P_KILLED;
		signal_proc(p, SIGKILL);
		break;
	}
}

/*
 * A ready permanent worker closed its channel unasked: it is dying (killed
 * or crashed: a worker that means to exit is asked to first).  The kernel
 * closes a process's descriptors in order, the channel among the first;
 * with 20,000 connections the rest take it ~300 ms before the exit can be
 * reaped.  The restart decision is taken now, and a successor starts now;
 * the reap logs it with the exit status.  Any other decision (not
 * restarted, escalation) waits for the reap, as before.
 */
static void
proc_lost(struct proc *p)
{
	char		 name[32];
	uint64_t	 now = now_ms();
	int		 i = p->p_member;

	if (i < 0 || p->p_asked || p->p_state != P_READY ||
	    p->p_role != ROLE_WORKER || sup->s_state == SUP_STOPPING ||
	    sup->s_rs.c[i].restart != RESTART_PERMANENT ||
	    (p->p_dec = calloc(1, sizeof(*p->p_dec))) == NULL)
		return;
	sup->s_members[i].m_proc = NULL;
	p->p_member = -1;
	rs_exited(&sup->s_rs, i, RS_EXIT_ABNORMAL, now, p->p_dec);
	if (p->p_dec->action != RS_RESTART)
		return;
	log_info("%s (pid %ld) closed its channel unasked: taken for dead, "
	    "its successor starts now", proc_name(p, name, sizeof(name)),
	    (long)p->p_pid);
	apply(p->p_dec, now);
	p->p_dec_applied = 1;
}

static void
proc_chan_err(struct chan *ch, const char *reason, void *arg)
{
	struct proc	*p = arg;
	char		 name[32];

	proc_name(p, name, sizeof(name));
	if (reason == NULL) {
		log_debug("%s: channel closed", name);
		/* first: its successor, starting now, is not wired to it */
		chan_free(&p->p_chan);
		proc_lost(p);
	} else {
		/* an internal channel carries no garbage: the child is broken */
		log_warnx("%s (pid %ld): bad frame: %s; killing it", name,
		    (long)p->p_pid, reason);
		p->p_state = P_KILLED;
		signal_proc(p, SIGKILL);
	}
	chan_free(&p->p_chan);
}

/*
 * Hand the current configuration to the runner and the agent.  The runner
 * checks every run against its own copy of the tool, and keeps the older
 * ones a while for the workers that still run with them; the agent
 * fetches the keys of new auth blocks.  Sent before the workers get
 * theirs, so that it is there before a run of a new tool.
 */
void
proc_reconf_services(void)
{
	struct proc	*p;
	int		 fd;

	TAILQ_FOREACH(p, &sup->s_procs, p_entry) {
		if ((p->p_role != ROLE_RUNNER && p->p_role != ROLE_AGENT) ||
		    p->p_chan == NULL ||
		    p->p_state >= P_STOPPING)
			continue;
		if ((fd = conf_memfd()) == -1) {
			log_warn("config memfd");
			continue;
		}
		chan_send(p->p_chan, MSG_SUP_CONF, fd);
	}
}

/* Hand the current configuration to the running workers (catalog only). */
/* The keys that seal ids, to worker p, or (NULL) to every worker. */
void
proc_send_keys(struct proc *p)
{
	unsigned char	 wire[CLUSTER_KEYS_MAX * CLUSTER_KEY_WIRE_BYTES];
	const char	*node = sup->s_conf->c_cluster != NULL ?
			    sup->s_conf->c_cluster->cl_node : "";
	size_t		 len;
	struct proc	*q;

	len = cluster_keys_wire(&sup->s_keys, wire);
	if (p != NULL)
		chan_send(p->p_chan, MSG_SUP_KEY, -1, node, wire, len);
	else
		TAILQ_FOREACH(q, &sup->s_procs, p_entry)
			if (q->p_role == ROLE_WORKER && q->p_chan != NULL)
				chan_send(q->p_chan, MSG_SUP_KEY, -1, node,
				    wire, len);
	sodium_memzero(wire, sizeof(wire));
}

unsigned
proc_reconf_workers(void)
{
	struct proc	*p;
	unsigned	 n = 0;
	int		 fd;

	TAILQ_FOREACH(p, &sup->s_procs, p_entry) {
		if (p->p_role != ROLE_WORKER || p->p_member < 0 ||
		    p->p_chan == NULL || p->p_state >= P_STOPPING)
			continue;
		if ((fd = conf_memfd()) == -1) {
			log_warn("config memfd");
			continue;
		}
		if (chan_send(p->p_chan, MSG_SUP_CONF, fd) == 0)
			n++;
	}
	return n;
}

/*
 * A new generation: every worker is started again with the current
 * configuration; each old process drains once its successor is READY.
 */
void
proc_swap_workers(void)
{
	size_t i;

	for (i = 0; i < sup->s_rs.n; i++) {
		struct member *m = &sup->s_members[i];

		if (m->m_role != ROLE_WORKER || m->m_removing)
			continue;
		if (m->m_proc != NULL) {
			m->m_proc->p_member = -1;
			/*
			 * not READY yet, but it may have started: what it
			 * holds drains (or goes to its successor) as a ready
			 * one's does
			 */
			if (m->m_proc->p_state == P_STARTING)
				proc_stop(m->m_proc,
				    sup->s_conf->c_drain_timeout_ms);
			m->m_proc = NULL;
			rs_stopped(&sup->s_rs, i);
		}
		m->m_start_at = 1;
	}
	proc_schedule();
}

/*
 * Start or stop workers to have n of them.  Worker members are the tail of
 * the member list with indices 0..k-1, and those being removed are its end,
 * so pop_removed() can drop them once their process is gone.  A member
 * revived while its process still drains gets a new process; the old one
 * finishes as if it were of a retired generation.
 */
void
proc_resize_workers(uint32_t n)
{
	const struct conf_spec	*spec = &sup->s_conf->c_spec[ROLE_WORKER];
	uint32_t		 next = 0;
	char			 name[32];
	size_t			 i;

	for (i = 0; i < sup->s_rs.n; i++) {
		struct member *m = &sup->s_members[i];

		if (m->m_role != ROLE_WORKER)
			continue;
		next = m->m_index + 1;
		if (m->m_index < n && m->m_removing) {
			m->m_removing = 0;
			if (m->m_proc != NULL) {
				m->m_proc->p_member = -1;
				m->m_proc = NULL;
				rs_stopped(&sup->s_rs, i);
			}
			m->m_start_at = 1;
		} else if (m->m_index >= n && !m->m_removing) {
			m->m_removing = 1;
			m->m_start_at = 0;
			if (m->m_proc != NULL) {
				log_info("%s: stopping, %u workers wanted",
				    member_name(i, name, sizeof(name)), n);
				proc_stop(m->m_proc,
				    sup->s_conf->c_drain_timeout_ms);
			}
		}
	}
	for (; next < n; next++) {
		int k;

		if ((k = proc_add_member(ROLE_WORKER, next, spec->s_restart,
		    spec->s_significant)) == -1) {
			log_warnx("cannot add worker %u", next);
			break;
		}
		sup->s_members[k].m_start_at = 1;
	}
	pop_removed();
	proc_schedule();
}
