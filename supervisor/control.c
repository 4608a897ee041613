/*
 * control.c -- the control socket that mcpctl(8) talks to.
 *
 * A Unix SOCK_SEQPACKET socket, mode 0600, so every request and reply is a
 * frame of the same msgpack codec as the internal channels (msg_ctl.def).
 * Every request names CTL_PROTO_VERSION; a client of another version gets
 * an error, not a guess.  File descriptors are never accepted here, and a
 * malformed frame drops that client only.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "sup.h"
#include "util.h"

struct ctl_client {
	struct chan	*cc_chan;
	ev_timer	 cc_idle_to;
	int		 cc_done;
};

static void
client_free(struct ctl_client *cc)
{
	ev_timer_stop(sup->s_loop, &cc->cc_idle_to);
	chan_free(&cc->cc_chan);
	free(cc);
	sup->s_nctl--;
}

static void
client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	client_free(w->data);
}

static void
reply_status(struct chan *ch)
{
	struct proc	*p;
	uint64_t	 now = now_ms();
	size_t		 i;
	const char	*state;

	state = sup->s_state == SUP_STARTING ? "starting" :
	    sup->s_state == SUP_RUNNING ? "running" : "stopping";
	chan_send(ch, MSG_CTL_DAEMON, -1, (uint64_t)getpid(),
	    (uint64_t)sup->s_gen, now - sup->s_start_ms, sup->s_conf_path,
	    (uint64_t)proc_nworkers(), state);
	chan_send(ch, MSG_CTL_PROC, -1, "supervisor", (uint64_t)0,
	    (uint64_t)getpid(), (uint64_t)sup->s_gen, state,
	    now - sup->s_start_ms, (uint64_t)0, (uint64_t)0, (uint64_t)0);
	/* members in start order; a member without a process shows why */
	for (i = 0; i < sup->s_rs.n; i++) {
		struct member	*m = &sup->s_members[i];
		uint64_t	 delay = 0, conns = 0, up = 0;
		const char	*st;

		p = m->m_proc;
		if (p != NULL) {
			st = pstate_name(p->p_state);
			up = now - p->p_start_ms;
			conns = SB_GET(&sup->s_sb.sb_slots[p->p_slot],
			    s_conns);
		} else if (m->m_start_at != 0) {
			st = "throttled";
			delay = m->m_start_at > now ? m->m_start_at - now : 0;
		} else if (sup->s_rs.c[i].state == RS_GONE)
			st = "gone";
		else
			st = "stopped";
		chan_send(ch, MSG_CTL_PROC, -1, role_name(m->m_role),
		    (uint64_t)m->m_index, (uint64_t)(p ? p->p_pid : 0),
		    (uint64_t)(p ? p->p_gen : 0), st, up,
		    (uint64_t)sup->s_rs.c[i].restarts, conns, delay);
	}
	/* processes of a retired generation, still draining */
	TAILQ_FOREACH(p, &sup->s_procs, p_entry) {
		if (p->p_member >= 0)
			continue;
		chan_send(ch, MSG_CTL_PROC, -1, role_name(p->p_role),
		    (uint64_t)p->p_index, (uint64_t)p->p_pid,
		    (uint64_t)p->p_gen, "retiring", now - p->p_start_ms,
		    (uint64_t)0, SB_GET(&sup->s_sb.sb_slots[p->p_slot],
		    s_conns), (uint64_t)0);
	}
	{
		const char	*why;
		int		 t = alert_tier(&why);

		chan_send(ch, MSG_CTL_ALERT, -1, (uint64_t)t,
		    mx_tier_name(t), why, SB_HDR_GET(&sup->s_sb,
		    SB_H_SHEDDING));
	}
	{
		struct sb_metrics m;

		mx_collect(&sup->s_sb, &m);
		chan_send(ch, MSG_CTL_REGISTRY, -1,
		    m.m_gauge[MX_G_REGISTRY_RECORDS],
		    m.m_gauge[MX_G_REGISTRY_EVENTS],
		    m.m_gauge[MX_G_REGISTRY_BYTES],
		    m.m_gauge[MX_G_REGISTRY_LAG]);
	}
	chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)0, "");
}

#define CTL_TEXT_CHUNK	(32 * 1024)	/* bytes of text in one frame */

/* The figures of the scoreboard, as text pieces that fit a frame. */
static void
reply_stats(struct chan *ch, int json)
{
	char	*text;
	size_t	 len, off, n;

	text = json ? mx_json(&sup->s_sb, &len) : mx_table(&sup->s_sb, &len);
	if (text == NULL) {
		chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)1, "out of memory");
		return;
	}
	for (off = 0; off < len; off += n) {
		n = len - off < CTL_TEXT_CHUNK ? len - off : CTL_TEXT_CHUNK;
		chan_send(ch, MSG_CTL_TEXT, -1, text + off, n);
		chan_flush(ch);
	}
	free(text);
	chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)0, "");
}

static void
reply_cluster(struct chan *ch, int json)
{
	const struct conf_cluster *cl = sup->s_conf->c_cluster;
	char	*text;
	size_t	 len;

	text = mx_cluster_report(&sup->s_sb, cl != NULL ? cl->cl_node : "",
	    json, &len);
	if (text == NULL) {
		chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)1, "out of memory");
		return;
	}
	/* at most 64 members of a line each: one frame */
	chan_send(ch, MSG_CTL_TEXT, -1, text, len);
	free(text);
	chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)0, "");
}

static void
client_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct ctl_client	*cc = arg;
	char			 err[CONF_ERRORS_MAX * 200];
	int			 rv;

	if (cc->cc_done)
		return;
	cc->cc_done = 1;
	if (m->m_f[0].u != CTL_PROTO_VERSION) {
		snprintf(err, sizeof(err), "control protocol %llu, "
		    "mcpd speaks %d", (unsigned long long)m->m_f[0].u,
		    CTL_PROTO_VERSION);
		chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)1, err);
		return;
	}
	switch (m->m_type) {
	case MSG_CTL_STATUS:
		reply_status(ch);
		break;
	case MSG_CTL_STATS:
		reply_stats(ch, m->m_f[1].u != 0);
		break;
	case MSG_CTL_CLUSTER:
		reply_cluster(ch, m->m_f[1].u != 0);
		break;
	case MSG_CTL_RELOAD:
		log_info("reload requested over the control socket");
		rv = sup_reload(err, sizeof(err));
		chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)(rv == -1), err);
		break;
	case MSG_CTL_STOP:
		chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)0, "stopping");
		chan_flush(ch);
		sup_stop("stop requested over the control socket");
		break;
	default:
		chan_send(ch, MSG_CTL_RESULT, -1, (uint64_t)1,
		    "not a request");
		break;
	}
}

static void
client_err(struct chan *ch, const char *reason, void *arg)
{
	if (reason != NULL)
		log_warnx("control client: %s; dropped", reason);
	client_free(arg);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client	*cc;
	int			 fd;

	fd = accept4(sup->s_ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control accept");
		return;
	}
	if (sup->s_nctl >= CTL_CLIENTS_MAX ||
	    (cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warnx("control: more than %d clients; refusing one",
		    CTL_CLIENTS_MAX);
		close(fd);
		return;
	}
	cc->cc_chan = chan_new(loop, fd, &msg_proto_ctl, 0, client_dispatch,
	    client_err, cc, "mcpctl");
	if (cc->cc_chan == NULL) {
		close(fd);
		free(cc);
		return;
	}
	chan_set_accept(cc->cc_chan, "ctl>sup");
	ev_timer_init(&cc->cc_idle_to, client_idle_cb, CTL_IDLE_MS / 1000.0,
	    0.);
	cc->cc_idle_to.data = cc;
	ev_timer_start(loop, &cc->cc_idle_to);
	sup->s_nctl++;
}

int
control_open(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	/* we hold the pidfile lock: a socket file left here is stale */
	if (unlink(path) == -1 && errno != ENOENT)
		goto fail;
	old = umask(S_IRWXG | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, S_IRUSR | S_IWUSR) == -1 ||
	    listen(fd, CTL_CLIENTS_MAX) == -1)
		goto fail;
	sup->s_ctl_fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Called once the event loop exists (after daemonizing). */
void
control_start(void)
{
	ev_io_init(&sup->s_ctl_ev, accept_cb, sup->s_ctl_fd, EV_READ);
	ev_io_start(sup->s_loop, &sup->s_ctl_ev);
}

void
control_close(const char *path)
{
	if (sup->s_ctl_fd == -1)
		return;
	ev_io_stop(sup->s_loop, &sup->s_ctl_ev);
	close(sup->s_ctl_fd);
	sup->s_ctl_fd = -1;
	unlink(path);
}
