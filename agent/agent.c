/*
 * agent.c -- the agent: this node's one client of the network outside,
 * and later its registry replica, notification hub and cluster member.
 *
 * Today it does what a worker must not (DESIGN 9a: workers need no
 * outbound network): it fetches the issuers' keys (keys.c) and asks
 * authorization servers about opaque tokens (introspect.c), over libcurl
 * (fetch.c).  Each worker process has a channel to it (msg_agent.def),
 * wired by the supervisor when either starts; a worker that comes gets
 * the keys at once.  It keeps the node's registry replica (registry.c):
 * the workers' session and task records and replay events, which a
 * starting worker adopts.  It holds no listener.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agtev.h"
#include "child.h"
#include "jwt.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "scoreboard.h"
#include "util.h"

#define ADOPT_QUEUE_BYTES	(CHAN_QUEUE_MAX_BYTES / 2) /* then wait */

/* A channel to a worker process; num tells old and new ones apart. */
struct wchan {
	TAILQ_ENTRY(wchan)	 w_entry;
	struct chan		*w_chan;
	uint32_t		 w_index;
	uint32_t		 w_num;
	/* an adoption being sent: the ids of then, sent up to w_next */
	char			**w_ids;
	size_t			 w_nids;
	size_t			 w_next;
	unsigned		 w_sent;
	ev_timer		 w_adopt_to;
	struct agt_ev		 w_ev;		/* one coming in parts */
	int			 w_adopted;	/* it asked for its records */
};

static struct {
	struct child		*child;
	TAILQ_HEAD(, wchan)	 chans;
	uint32_t		 nchans;	/* made so far */
	int			 quitting;
	int			 inited;
} A;

static void	agent_send_keys(int, uint32_t, const char *, const char *,
		    size_t);
static void	agent_answer(uint32_t, uint32_t, int, const char *,
		    const char *, uint64_t);
static void	agent_check_drained(void);
static void	agent_taken(uint32_t, uint32_t, int, const char *, size_t);
static void	agent_lost(const char *);
static void	agent_notify(const char *, const char *);
static void	agent_events(uint32_t, const struct agt_ev *);
static void	agent_fwd_answer(uint32_t, uint32_t, int, const char *,
		    size_t);
static int	agent_fwd_ask(const char *, uint64_t, uint32_t,
		    const struct fwd_req *);

/* what cluster.c sends the workers through us */
static const struct cluster_out cout = {
	.co_taken = agent_taken,
	.co_lost = agent_lost,
	.co_notify = agent_notify,
	.co_events = agent_events,
};

/* what forward.c sends the workers through us */
static const struct forward_out fout = {
	.fo_answer = agent_fwd_answer,
	.fo_ask = agent_fwd_ask,
};

/* what keys.c and introspect.c send the workers through us */
static const struct agent_out out = {
	.ao_keys = agent_send_keys,
	.ao_answer = agent_answer,
	.ao_idle = agent_check_drained,
};

static void
agent_init(struct child *c)
{
	if (A.inited)
		return;
	A.inited = 1;
	A.child = c;
	TAILQ_INIT(&A.chans);
	fetch_init(c->c_loop);
	keys_load(c->c_loop, c->c_conf, &out);
	introspect_load(c->c_conf, &out);
	registry_load(c->c_conf);
	registry_metrics(sb_metrics_of(&c->c_sb, c->c_slot));
	if (c->c_conf->c_cluster != NULL) {
		forward_init(c->c_loop, c->c_conf->c_cluster->cl_node,
		    c->c_conf->c_cluster->cl_redis_timeout_ms, &fout);
		cluster_init(c->c_loop, c->c_conf, c->c_sb.sb_cluster, &cout);
	}
}

static void
agent_check_drained(void)
{
	struct wchan *w;

	if (!A.quitting || introspect_busy() > 0)
		return;
	/* the last answers are in the channels' batches: out first */
	TAILQ_FOREACH(w, &A.chans, w_entry)
		chan_flush(w->w_chan);
	child_drained(A.child);
}

static struct wchan *
wchan_of(uint32_t num)
{
	struct wchan *w;

	TAILQ_FOREACH(w, &A.chans, w_entry)
		if (w->w_num == num)
			return w;
	return NULL;
}

static void
agent_send_keys(int worker, uint32_t auth, const char *name,
    const char *doc, size_t len)
{
	struct wchan	*w;
	int		 fd;

	TAILQ_FOREACH(w, &A.chans, w_entry) {
		if (worker != -1 && w->w_num != (uint32_t)worker)
			continue;
		if ((fd = memfd_sealed("mcpd-jwks", doc, len, NULL, 0)) == -1) {
			log_warn("auth %s: keys to worker %u", name,
			    w->w_index);
			continue;
		}
		if (chan_send(w->w_chan, MSG_AGT_KEYS, fd, (uint64_t)auth,
		    name, (uint64_t)len) == -1)
			log_warn("auth %s: keys to worker %u", name,
			    w->w_index);
	}
}

static void
agent_taken(uint32_t num, uint32_t qid, int verdict, const char *rec,
    size_t len)
{
	struct wchan *w;

	if ((w = wchan_of(num)) != NULL &&
	    chan_send(w->w_chan, MSG_AGT_TAKEN, -1, (uint64_t)qid,
	    (uint64_t)verdict, rec != NULL ? rec : "", len) == -1)
		log_warnx("worker %u: the answer to a takeover", w->w_index);
}

/*
 * Another node took a session over: every worker hears it (the one that
 * has it drops it), and our copy goes (its record is the other node's).
 */
static void
agent_lost(const char *id)
{
	struct wchan *w;

	TAILQ_FOREACH(w, &A.chans, w_entry)
		(void)chan_send(w->w_chan, MSG_AGT_LOST, -1, id);
	registry_drop(id);
}

/* a replay event of a session taken over, after its record */
static void
agent_events(uint32_t num, const struct agt_ev *ev)
{
	struct wchan *w;

	if ((w = wchan_of(num)) != NULL &&
	    agt_ev_send(w->w_chan, MSG_AGT_EV_REC, ev->ev_sid, ev->ev_stream,
	    ev->ev_seq, ev->ev_data, ev->ev_len, ev->ev_final) == -1)
		log_warnx("worker %u: a replay event of a session taken over",
		    w->w_index);
}

/* the answer of the node a task runs on, or none (0) */
static void
agent_fwd_answer(uint32_t num, uint32_t qid, int status, const char *body,
    size_t len)
{
	struct wchan *w;

	if ((w = wchan_of(num)) != NULL &&
	    chan_send(w->w_chan, MSG_AGT_FWD_ANSWER, -1, (uint64_t)qid,
	    (uint64_t)status, body != NULL ? body : "", len) == -1)
		log_warnx("worker %u: the answer of a task's node",
		    w->w_index);
}

/*
 * Another node's request for a task of our worker index: to the worker
 * that serves the index now (the newest process of its slot).
 */
static int
agent_fwd_ask(const char *from, uint64_t id, uint32_t index,
    const struct fwd_req *rq)
{
	struct wchan *w, *best = NULL;

	TAILQ_FOREACH(w, &A.chans, w_entry)
		if (w->w_index == index && w->w_adopted &&
		    (best == NULL || w->w_num > best->w_num))
			best = w;
	if (best == NULL || chan_send(best->w_chan, MSG_AGT_FWD_IN, -1, from,
	    id, (uint64_t)index, rq->principal, rq->version, rq->method,
	    rq->name, rq->body, rq->len) == -1)
		return -1;	/* (forward.c counts it) */
	return 0;
}

/* a change another node announced: every worker tells its listeners */
static void
agent_notify(const char *method, const char *uri)
{
	struct wchan *w;

	TAILQ_FOREACH(w, &A.chans, w_entry)
		(void)chan_send(w->w_chan, MSG_AGT_NOTIFY_IN, -1, method, uri);
}

static void
agent_answer(uint32_t worker, uint32_t id, int verdict,
    const char *principal, const char *scopes, uint64_t until)
{
	struct wchan *w;

	if ((w = wchan_of(worker)) != NULL &&
	    chan_send(w->w_chan, MSG_AGT_INTROSPECTED, -1, (uint64_t)id,
	    (uint64_t)verdict, principal, scopes, until) == -1)
		log_warn("an introspection to worker %u", w->w_index);
}

static void
adopt_end(struct wchan *w)
{
	size_t i;

	ev_timer_stop(A.child->c_loop, &w->w_adopt_to);
	for (i = 0; i < w->w_nids; i++)
		free(w->w_ids[i]);
	free(w->w_ids);
	w->w_ids = NULL;
	w->w_nids = w->w_next = 0;
}

/*
 * The records of the worker's slot, as many as its channel takes before
 * half its queue is full; the rest on the next turns.  A record gone
 * since the snapshot is skipped.
 */
static void
adopt_send(struct wchan *w)
{
	const char	*rec;
	size_t		 len;

	while (w->w_next < w->w_nids &&
	    chan_queued(w->w_chan) < ADOPT_QUEUE_BYTES) {
		rec = registry_get(w->w_index, w->w_ids[w->w_next++], &len);
		if (rec == NULL)
			continue;
		if (chan_send(w->w_chan, MSG_AGT_SESS_REC, -1, rec,
		    len) == -1 || registry_send_events(w->w_index,
		    w->w_ids[w->w_next - 1], w->w_chan) == -1) {
			adopt_end(w);
			return;
		}
		w->w_sent++;
	}
	if (w->w_next < w->w_nids) {
		chan_flush(w->w_chan);
		ev_timer_set(&w->w_adopt_to, 0.001, 0.);
		ev_timer_start(A.child->c_loop, &w->w_adopt_to);
		return;
	}
	chan_send(w->w_chan, MSG_AGT_ADOPTED, -1, (uint64_t)w->w_sent);
	log_debug("worker %u adopts %u sessions", w->w_index, w->w_sent);
	adopt_end(w);
}

static void
adopt_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	adopt_send(t->data);
}

/*
 * The worker that took over w's slot (a newer generation's, which adopted
 * the slot's records), while w drains: or NULL.
 */
static struct wchan *
successor(const struct wchan *w)
{
	struct wchan *s, *best = NULL;

	TAILQ_FOREACH(s, &A.chans, w_entry)
		if (s->w_index == w->w_index && s->w_num > w->w_num &&
		    s->w_adopted && (best == NULL || s->w_num > best->w_num))
			best = s;
	return best;
}

static void
wchan_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct wchan	*w = arg, *s;
	char		 tok[JWT_MAX_BYTES + 1];
	char		 id[AGT_EV_SID_MAX_BYTES];

	switch (m->m_type) {
	case MSG_AGT_SESS_PUT:
		if (msg_strcpy(id, sizeof(id), &m->m_f[0]) == -1)
			fatalx("worker %u: a bad AGT_SESS_PUT", w->w_index);
		registry_put(w->w_index, id, m->m_f[1].s.p, m->m_f[1].s.len);
		if (A.child->c_conf->c_cluster != NULL)
			cluster_put(id, m->m_f[1].s.p, m->m_f[1].s.len);
		/*
		 * A draining worker's new session (a reload's old
		 * generation, still serving its connections): the worker
		 * that adopted its slot gets it too, for the client's next
		 * connection
		 */
		if ((s = successor(w)) != NULL)
			(void)chan_send(s->w_chan, MSG_AGT_SESS_REC, -1,
			    m->m_f[1].s.p, (size_t)m->m_f[1].s.len);
		break;
	case MSG_AGT_SESS_DEL:
		if (msg_strcpy(id, sizeof(id), &m->m_f[0]) == -1)
			fatalx("worker %u: a bad AGT_SESS_DEL", w->w_index);
		registry_del(w->w_index, id);
		if (A.child->c_conf->c_cluster != NULL)
			cluster_del(id);
		break;
	case MSG_AGT_NOTIFY: {
		char method[CLUSTER_METHOD_MAX_BYTES];
		char uri[CLUSTER_URI_MAX_BYTES];

		if (msg_strcpy(method, sizeof(method), &m->m_f[0]) == -1 ||
		    msg_strcpy(uri, sizeof(uri), &m->m_f[1]) == -1)
			fatalx("worker %u: a bad AGT_NOTIFY", w->w_index);
		if (A.child->c_conf->c_cluster != NULL)
			cluster_notify(method, uri);
		break;
	}
	case MSG_AGT_TAKE:
		if (m->m_f[0].u > UINT32_MAX ||
		    msg_strcpy(id, sizeof(id), &m->m_f[1]) == -1)
			fatalx("worker %u: a bad AGT_TAKE", w->w_index);
		if (A.child->c_conf->c_cluster == NULL)
			agent_taken(w->w_num, (uint32_t)m->m_f[0].u,
			    AGT_TAKEN_NONE, NULL, 0);
		else
			cluster_take(w->w_num, (uint32_t)m->m_f[0].u, id);
		break;
	case MSG_AGT_FWD: {
		char		node[CONF_NODE_MAX_BYTES];
		struct fwd_req	rq;

		if (m->m_f[1].u > UINT32_MAX ||
		    msg_strcpy(node, sizeof(node), &m->m_f[0]) == -1 ||
		    forward_req(&rq, m, 3) == -1)
			fatalx("worker %u: a bad AGT_FWD", w->w_index);
		/* no epoch yet, or fenced: nothing to ask with */
		if (A.child->c_conf->c_cluster == NULL || cluster_epoch() == 0)
			agent_fwd_answer(w->w_num, (uint32_t)m->m_f[1].u, 0,
			    NULL, 0);
		else
			forward_ask(w->w_num, (uint32_t)m->m_f[1].u, node,
			    w->w_index, &rq);
		break;
	}
	case MSG_AGT_FWD_OUT: {
		char node[CONF_NODE_MAX_BYTES];

		if (msg_strcpy(node, sizeof(node), &m->m_f[0]) == -1 ||
		    m->m_f[2].u > 599 ||
		    m->m_f[3].s.len > AGT_FWD_BODY_MAX_BYTES)
			fatalx("worker %u: a bad AGT_FWD_OUT", w->w_index);
		if (A.child->c_conf->c_cluster != NULL)
			forward_reply(node, m->m_f[1].u, (int)m->m_f[2].u,
			    m->m_f[3].s.p, m->m_f[3].s.len);
		break;
	}
	case MSG_AGT_EV_PUT:
		switch (agt_ev_take(&w->w_ev, m)) {
		case 1:
			registry_event(w->w_index, &w->w_ev);
			if (A.child->c_conf->c_cluster != NULL)
				cluster_event(&w->w_ev);
			if ((s = successor(w)) != NULL)
				(void)agt_ev_send(s->w_chan, MSG_AGT_EV_REC,
				    w->w_ev.ev_sid, w->w_ev.ev_stream,
				    w->w_ev.ev_seq, w->w_ev.ev_data,
				    w->w_ev.ev_len, w->w_ev.ev_final);
			break;
		case 0:
			break;		/* more to come */
		default:
			fatalx("worker %u: a bad AGT_EV_PUT", w->w_index);
		}
		break;
	case MSG_AGT_RESYNC:
		/*
		 * the channel was too full for a change: an event whose
		 * parts stopped half way is not coming on
		 */
		agt_ev_free(&w->w_ev);
		registry_forget(w->w_index);
		break;
	case MSG_AGT_ADOPT:
		w->w_adopted = 1;
		adopt_end(w);
		w->w_ids = registry_ids(w->w_index, &w->w_nids);
		w->w_sent = 0;
		adopt_send(w);
		break;
	case MSG_AGT_KEY_MISS:
		keys_miss((uint32_t)m->m_f[0].u);
		break;
	case MSG_AGT_INTROSPECT:
		if (m->m_f[0].u > UINT32_MAX || m->m_f[1].u > UINT32_MAX ||
		    msg_strcpy(tok, sizeof(tok), &m->m_f[2]) == -1)
			fatalx("worker %u: a bad AGT_INTROSPECT", w->w_index);
		introspect_ask(w->w_num, (uint32_t)m->m_f[0].u,
		    (uint32_t)m->m_f[1].u, tok, m->m_f[2].s.len);
		explicit_bzero(tok, sizeof(tok));
		break;
	default:
		fatalx("unexpected %s from worker %u",
		    msg_name(&msg_proto_agent, m->m_type), w->w_index);
	}
}

static void
wchan_err(struct chan *ch, const char *reason, void *arg)
{
	struct wchan *w = arg;

	/* a worker's channel carries no garbage: a bug, restart us */
	if (reason != NULL)
		fatalx("channel to worker %u: %s", w->w_index, reason);
	log_debug("worker %u (channel %u) went away", w->w_index, w->w_num);
	introspect_forget(w->w_num);
	adopt_end(w);
	agt_ev_free(&w->w_ev);
	TAILQ_REMOVE(&A.chans, w, w_entry);
	chan_free(&w->w_chan);
	free(w);
}

static void
agent_worker(struct child *c, uint32_t index, int fd)
{
	struct wchan	*w;
	char		 name[32];

	agent_init(c);
	snprintf(name, sizeof(name), "worker %u", index);
	if ((w = calloc(1, sizeof(*w))) == NULL || fd_nonblock(fd) == -1 ||
	    (w->w_chan = chan_new(c->c_loop, fd, &msg_proto_agent, 1,
	    wchan_dispatch, wchan_err, w, name)) == NULL)
		fatal("agent: channel to %s", name);
	chan_set_accept(w->w_chan, "worker>agent");
	w->w_index = index;
	w->w_num = ++A.nchans;
	ev_init(&w->w_adopt_to, adopt_cb);
	w->w_adopt_to.data = w;
	TAILQ_INSERT_TAIL(&A.chans, w, w_entry);
	log_debug("channel %u to worker %u", w->w_num, index);
	keys_send_all((int)w->w_num);
}

static void
agent_listener(struct child *c, enum listen_kind kind, int fd,
    const char *addr, uint16_t port, int standby)
{
	close(fd);	/* the agent serves no clients */
}

static void
agent_start(struct child *c)
{
	agent_init(c);
}

/* A new configuration: the keys of unchanged auth blocks stay. */
static void
agent_reconf(struct child *c, struct conf *old)
{
	if (c->c_conf->c_cluster != NULL && old->c_cluster != NULL)
		cluster_reconf(old->c_cluster, c->c_conf->c_cluster);
	conf_free(&old);
	keys_load(c->c_loop, c->c_conf, &out);
	introspect_load(c->c_conf, &out);
	registry_load(c->c_conf);
	keys_send_all(-1);
}

/*
 * Asked to stop, the agent answers what workers asked (fetch-timeout
 * bounds it) and exits.
 */
static void
agent_quit(struct child *c)
{
	A.quitting = 1;
	A.child = c;
	agent_check_drained();
}

static uint64_t
agent_busy(struct child *c)
{
	return introspect_busy();
}

const struct role_ops agent_ops = {
	.r_listener = agent_listener,
	.r_agent = agent_worker,
	.r_reconf = agent_reconf,
	.r_start = agent_start,
	.r_quit = agent_quit,
	.r_busy = agent_busy,
};
