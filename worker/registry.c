/*
 * registry.c -- a worker's sessions, copied to the agent (agent/
 * registry.c) so that they outlive the worker.
 *
 * The engine says when a session's record changes and when a session
 * ends (mcp.h, mcp_set_registry); each goes to the agent in the batch of
 * this loop iteration: a request never waits for it.  What a kill -9
 * loses is what the worker changed in the iteration it died in, and what
 * was still queued on the channel (written by the next iterations).
 *
 * A worker that starts -- the successor of one that died, or one of a
 * new generation after a reload -- asks the agent for the records of its
 * index and makes their sessions its own before it reports READY and
 * accepts a connection (registry_adopt: blocking, at most
 * registry-adopt-wait).  Their clients go on with the ids they have; an
 * adopted session's idle clock is its record's, it has no SSE stream open
 * and no call in flight (those died with the worker).
 *
 * A worker told to quit with a successor (a reload's new worker of its
 * index) sends it every record, then each change, on the peer channel its
 * connections take next (registry_handover, put, del): in order with
 * them, and with the exact idle clocks.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "agtev.h"
#include "child.h"
#include "http.h"
#include "log.h"
#include "mcp.h"
#include "msg.h"
#include "registry.h"
#include "worker.h"

#define RESYNC_CHECK_MS	1000	/* a channel that was full: room now? */
#define LOST_LOG_SECS	60	/* "records not sent", at most this often */

static struct {
	int		started;	/* sessions go to the agent */
	int		resync;		/* a change was not sent: all again */
	uint64_t	lost;		/* changes not sent, so far */
	time_t		lost_logged;
	ev_timer	resync_to;
	int		handover;	/* records to our successor only */
	int		readopt;	/* tasks of a predecessor that died */
	int		adopting;
	unsigned	adopted;	/* records taken */
	unsigned	refused;
	unsigned	want;		/* AGT_ADOPTED's count; -1u: not yet */
	unsigned	events;		/* replay events taken */
	struct agt_ev	ev;		/* the one coming in parts */
} G;

/*
 * A change the channel did not take (the agent slow or stuck: its queue
 * full): the records are sent again, all of them after a RESYNC, once it
 * has room; till then nothing more is sent.
 */
static void
lost(void)
{
	time_t now = time(NULL);

	G.lost++;
	if (!G.resync)
		ev_timer_again(worker->w_loop, &G.resync_to);
	G.resync = 1;
	if (now - G.lost_logged >= LOST_LOG_SECS) {
		G.lost_logged = now;
		log_warnx("the channel to the agent is full: session and task "
		    "records go again once it has room (%llu changes waited)",
		    (unsigned long long)G.lost);
	}
}

static void
put(void *arg, const char *id, const char *rec, size_t len)
{
	struct chan *ch = agentc();

	if (G.handover) {
		peer_pass_record(id, rec, len, 0);
		return;
	}
	if (worker->w_quitting)		/* its successor serves it next */
		peer_pass_record(id, rec, len, 1);
	if (ch == NULL)
		return;		/* a new agent gets everything (agentc_open) */
	if (G.resync || chan_send(ch, MSG_AGT_SESS_PUT, -1, id, rec,
	    len) == -1)
		lost();
}

static void
del(void *arg, const char *id)
{
	struct chan *ch = agentc();

	if (worker->w_quitting)
		peer_pass_record(id, "", 0, 1);
	if (ch == NULL)
		return;
	if (G.resync || chan_send(ch, MSG_AGT_SESS_DEL, -1, id) == -1)
		lost();
}

static void
event(void *arg, const char *id, uint64_t stream, uint64_t seq,
    const char *data, size_t len, int final)
{
	struct chan *ch = agentc();

	if (ch == NULL || G.handover)
		return;
	if (G.resync || agt_ev_send(ch, MSG_AGT_EV_PUT, id, stream, seq, data,
	    len, final) == -1)
		lost();
}

static void
resync_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct chan	*ch = agentc();
	unsigned	 n;

	if (!G.resync)
		return;
	if (ch == NULL) {
		G.resync = 0;		/* a new agent gets everything */
		return;
	}
	if (chan_queued(ch) > CHAN_QUEUE_MAX_BYTES) {
		ev_timer_again(loop, t);
		return;
	}
	G.resync = 0;
	if (chan_send(ch, MSG_AGT_RESYNC, -1) == -1) {
		lost();
		return;
	}
	n = mcp_registry_resend(worker->w_mcp);
	log_info("the channel to the agent has room again: %u records sent "
	    "anew", n);
}

static const struct mcp_registry_ops ops = { put, del, event };

void
registry_start(void)
{
	if (worker->w_mcp == NULL)
		return;
	mcp_set_registry(worker->w_mcp, &ops, NULL);
	ev_init(&G.resync_to, resync_cb);
	G.resync_to.repeat = RESYNC_CHECK_MS / 1000.0;
	G.started = 1;
}

void
registry_record(const char *rec, size_t len)
{
	char err[256];

	if (worker->w_mcp == NULL)
		return;
	/*
	 * Not adopting: a session a predecessor of our slot made while it
	 * drains (a reload's old generation), which the agent forwards
	 */
	switch (mcp_registry_adopt(worker->w_mcp, rec, len, G.readopt ?
	    MCP_ADOPT_TASKS : !G.adopting ? MCP_ADOPT_LIVE :
	    peer_predecessor() ? MCP_ADOPT_RELOAD : MCP_ADOPT_START, err,
	    sizeof(err))) {
	case 0:
		G.adopted++;
		break;
	case 1:
		break;
	default:
		G.refused++;
		log_warnx("adopting: %s", err);
	}
}

/*
 * Our predecessor's change to a session while it drains (PEER_SESS), in
 * order with the connections it hands us: a record, or "" for a session
 * deleted.
 */
void
registry_update(const char *id, const char *rec, size_t len, int change)
{
	struct mcp_session	*s;
	char			 err[256];
	int			 owner;

	if (worker->w_mcp == NULL)
		return;
	if (len == 0) {
		if ((s = mcp_session_find(worker->w_mcp, id, &owner)) != NULL)
			mcp_session_close(worker->w_mcp, s);
		return;
	}
	if (mcp_registry_adopt(worker->w_mcp, rec, len, change ?
	    MCP_ADOPT_UPDATE : MCP_ADOPT_LIVE, err, sizeof(err)) == -1)
		log_warnx("our predecessor's session: %s", err);
}

/*
 * Told to quit with a successor: every session record goes to it on the
 * channel our connections will take, so that a session we made after it
 * adopted our index's records is there before a request for it is (the
 * agent forwards it too, but on another road).
 */
void
registry_handover(void)
{
	unsigned n;

	if (!G.started || worker->w_mcp == NULL || !peer_successor())
		return;
	peer_pass_room((size_t)worker->w_child->c_conf->c_registry_bytes);
	G.handover = 1;
	n = mcp_registry_resend(worker->w_mcp);
	G.handover = 0;
	log_debug("%u session records to our successor", n);
}

void
registry_adopt_event(const struct msg *m)
{
	switch (agt_ev_take(&G.ev, m)) {
	case 0:
		return;		/* more of it to come */
	case 1:
		break;
	default:
		log_warnx("adopting: a replay event in parts out of order");
		return;
	}
	if (worker->w_mcp == NULL || G.readopt)
		return;		/* adopting, forwarded, or taken before */
	/* a new stream of ours is never numbered as one adopted */
	sse_streams_past(G.ev.ev_stream);
	if (mcp_registry_adopt_event(worker->w_mcp, G.ev.ev_sid,
	    G.ev.ev_stream, G.ev.ev_seq, G.ev.ev_data, G.ev.ev_len,
	    G.ev.ev_final) == 0)
		G.events++;
}

void
registry_adopted(unsigned n)
{
	if (G.readopt) {
		G.readopt = 0;
		log_info("our predecessor died draining: %u records looked "
		    "at again, %u tasks taken", n, G.adopted);
		return;
	}
	if (!G.adopting)
		return;
	G.want = n;
}

/*
 * Our predecessor (a reload's older worker of our index) exited without
 * its last word: it died, and the tasks it ran with it.  We did not take
 * them at start (they were its own to finish): the agent's copies are
 * taken now, a running one failed, like a successor's after a crash.
 * The records come in the loop, like forwarded ones.
 */
void
registry_predecessor_died(void)
{
	struct chan *ch = agentc();

	if (ch == NULL || worker->w_mcp == NULL || G.adopting || G.readopt)
		return;
	if (chan_send(ch, MSG_AGT_ADOPT, -1) == -1)
		return;
	G.readopt = 1;
	G.adopted = 0;
}

void
registry_adopt(void)
{
	struct chan	*ch = agentc();
	struct timespec	 t0, t;
	long		 ms, wait;
	int		 r;

	if (ch == NULL || worker->w_mcp == NULL) {
		log_warnx("no agent: no session of worker %u is adopted",
		    worker->w_child->c_index);
		return;
	}
	if ((wait = worker->w_child->c_conf->c_adopt_wait_ms) == 0)
		return;		/* registry-adopt-wait 0s: a fresh start */
	G.adopting = 1;
	G.want = (unsigned)-1;
	G.adopted = G.refused = G.events = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (chan_send(ch, MSG_AGT_ADOPT, -1) == -1)
		goto lost;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (G.want != (unsigned)-1 || ms >= wait)
			break;
		if ((r = chan_wait(ch, (int)(wait - ms))) == -1)
			goto lost;
		ch = agentc();
	}
	G.adopting = 0;
	agt_ev_free(&G.ev);
	if (G.want == (unsigned)-1)
		log_warnx("adopting: the agent did not answer in %ld ms; %u "
		    "sessions adopted", wait, G.adopted);
	else if (G.adopted > 0 || G.refused > 0)
		log_info("adopted %u sessions and tasks and %u replay events "
		    "of worker %u in %ld ms%s", G.adopted, G.events,
		    worker->w_child->c_index, ms, G.refused > 0 ?
		    " (some records refused)" : "");
	/* what we adopted is ours: the agent hears of it from us now */
	return;
lost:
	G.adopting = 0;
	agt_ev_free(&G.ev);
	log_warnx("adopting: the channel to the agent closed; %u sessions "
	    "adopted", G.adopted);
}

void
registry_resend(void)
{
	unsigned n;

	if (!G.started || worker->w_mcp == NULL)
		return;
	G.resync = 0;
	n = mcp_registry_resend(worker->w_mcp);
	log_debug("%u session and task records to the new agent", n);
}
