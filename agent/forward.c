/*
 * forward.c -- a tasks/ request for a task that runs on another node
 * (DESIGN 9: "its update/cancel delivered to the owner").
 *
 * A task is its node's while its call runs there: the call, its questions
 * and its cancellation live in that process.  A tasks/get, tasks/update or
 * tasks/cancel that lands on another node (the take script said the task
 * runs on a node that lives) goes to it through Redis: a NODE_ASK frame
 * (msg_node.def) PUBLISHed on the channel mcpd:fwd:NODE, which that node's
 * agent hands to the worker keeping the task; its answer -- HTTP status
 * and JSON-RPC body, exactly what the client would have had there -- comes
 * back as a NODE_ANSWER on our own channel, and goes to the worker that
 * asked.
 *
 * A request waits at most FWD_WAIT_TIMEOUTS redis-timeouts, and at most
 * FWD_PENDING_MAX of them wait at once; Redis out of reach, nobody
 * subscribed to the channel (the node went), a frame that does not fit,
 * or no answer in time: status 0, and the worker answers 503 with
 * Retry-After (by then the task may be taken over: its node died).
 *
 * What comes on our channel is from Redis: decoded strictly (msg.c), each
 * field bounded; anything else is dropped with a line in the log.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <hiredis/hiredis.h>
#include <msgpack.h>

#include "agent.h"
#include "conf.h"
#include "log.h"
#include "mcpd.h"
#include "msg.h"

#define FWD_PENDING_MAX		1024	/* requests waiting on answers */
#define FWD_WAIT_TIMEOUTS	2	/* redis-timeouts an answer may take */
#define FWD_LOG_SECS		60	/* a refusal's line, at most this often */

struct fwd_op {
	TAILQ_ENTRY(fwd_op)	 f_entry;
	uint64_t		 f_id;		/* NODE_ASK's request id */
	uint32_t		 f_num;		/* the worker channel that asked */
	uint32_t		 f_qid;		/* its query id */
	ev_tstamp		 f_until;
};
TAILQ_HEAD(fwd_ops, fwd_op);

static struct {
	struct ev_loop		*loop;
	const struct forward_out *out;
	char			 node[CONF_NODE_MAX_BYTES];
	ev_tstamp		 wait;		/* seconds */
	struct fwd_ops		 ops;		/* oldest first */
	unsigned		 nops;
	uint64_t		 ids;
	ev_timer		 timer;
	/* what came from Redis that we refused, unanswered: logged rarely */
	uint64_t		 refused;
	uint64_t		 unanswered;
	time_t			 logged;
} F;

static void	arm(void);

/*
 * Frames on our channel that we refuse, and requests whose node never
 * answered, counted; a line at most every FWD_LOG_SECS (whoever can
 * PUBLISH to Redis could fill the log otherwise).
 */
static void
note(uint64_t *count)
{
	time_t now = time(NULL);

	(*count)++;
	if (now - F.logged < FWD_LOG_SECS)
		return;
	F.logged = now;
	log_warnx("cluster: tasks/ requests between nodes: %llu refused "
	    "(not a node's frame, or for no worker of ours), %llu not "
	    "answered within %.1f s, so far",
	    (unsigned long long)F.refused, (unsigned long long)F.unanswered,
	    F.wait);
}

static struct fwd_op *
op_find(uint64_t id)
{
	struct fwd_op *op;

	TAILQ_FOREACH(op, &F.ops, f_entry)
		if (op->f_id == id)
			return op;
	return NULL;
}

/* op is answered: by the other node (status, body), or not (0) */
static void
op_end(struct fwd_op *op, int status, const char *body, size_t len)
{
	uint32_t num = op->f_num, qid = op->f_qid;

	TAILQ_REMOVE(&F.ops, op, f_entry);
	F.nops--;
	free(op);
	arm();
	F.out->fo_answer(num, qid, status, body, len);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fwd_op	*op;
	ev_tstamp	 now = ev_now(loop);

	while ((op = TAILQ_FIRST(&F.ops)) != NULL && op->f_until <= now) {
		note(&F.unanswered);
		op_end(op, 0, NULL, 0);
	}
	arm();
}

/* the timer follows the oldest request (each waits as long) */
static void
arm(void)
{
	struct fwd_op *op;

	ev_timer_stop(F.loop, &F.timer);
	if ((op = TAILQ_FIRST(&F.ops)) == NULL)
		return;
	ev_timer_set(&F.timer, op->f_until - ev_now(F.loop) + 0.001, 0.);
	ev_timer_start(F.loop, &F.timer);
}

void
forward_init(struct ev_loop *loop, const char *node, uint32_t timeout_ms,
    const struct forward_out *out)
{
	F.loop = loop;
	F.out = out;
	snprintf(F.node, sizeof(F.node), "%s", node);
	F.wait = FWD_WAIT_TIMEOUTS * timeout_ms / 1000.0;
	TAILQ_INIT(&F.ops);
	ev_init(&F.timer, timer_cb);
}

void
forward_reconf(uint32_t timeout_ms)
{
	F.wait = FWD_WAIT_TIMEOUTS * timeout_ms / 1000.0;
}

/* PUBLISH's answer: how many listen on the channel */
static void
published_cb(const redisReply *r, void *arg)
{
	struct fwd_op	*op;
	uint64_t	 id = (uint64_t)(uintptr_t)arg;

	if ((op = op_find(id)) == NULL)
		return;		/* answered (or given up) already */
	if (r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer < 1) {
		if (r != NULL && r->type == REDIS_REPLY_ERROR)
			log_warnx("cluster: a task's request: %s", r->str);
		op_end(op, 0, NULL, 0);	/* no node listens: it went */
	}
}

static int
publish(const char *node, const msgpack_sbuffer *sb, redis_reply_fn fn,
    uint64_t id)
{
	char		 chan[sizeof(FORWARD_CHANNEL) +
			     CONF_NODE_MAX_BYTES];
	const char	*argv[3] = { "PUBLISH", chan, sb->data };
	size_t		 lens[3] = { 7, 0, sb->size };

	snprintf(chan, sizeof(chan), FORWARD_CHANNEL "%s", node);
	lens[1] = strlen(chan);
	return redis_cmd(fn, (void *)(uintptr_t)id, 3, argv, lens);
}

void
forward_ask(uint32_t num, uint32_t qid, const char *node, uint32_t index,
    const struct fwd_req *rq)
{
	msgpack_sbuffer	 sb;
	struct fwd_op	*op;

	if (F.nops >= FWD_PENDING_MAX || !conf_node_valid(node, strlen(node)) ||
	    strcmp(node, F.node) == 0 || (op = calloc(1, sizeof(*op))) == NULL) {
		F.out->fo_answer(num, qid, 0, NULL, 0);
		return;
	}
	op->f_id = ++F.ids;
	op->f_num = num;
	op->f_qid = qid;
	op->f_until = ev_now(F.loop) + F.wait;
	msgpack_sbuffer_init(&sb);
	if (msg_pack(&sb, &msg_proto_node, MSG_NODE_ASK, 0, 0, F.node,
	    op->f_id, (uint64_t)index, rq->principal, rq->version,
	    rq->method, rq->name, rq->body, rq->len) == -1 ||
	    publish(node, &sb, published_cb, op->f_id) == -1) {
		msgpack_sbuffer_destroy(&sb);
		free(op);
		F.out->fo_answer(num, qid, 0, NULL, 0);
		return;
	}
	msgpack_sbuffer_destroy(&sb);
	TAILQ_INSERT_TAIL(&F.ops, op, f_entry);
	F.nops++;
	if (F.nops == 1)
		arm();
}

static void
replied_cb(const redisReply *r, void *arg)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warnx("cluster: the answer to a task's request: %s",
		    r->str);
}

void
forward_reply(const char *node, uint64_t id, int status, const char *body,
    size_t len)
{
	msgpack_sbuffer sb;

	if (!conf_node_valid(node, strlen(node)))
		return;
	msgpack_sbuffer_init(&sb);
	if (msg_pack(&sb, &msg_proto_node, MSG_NODE_ANSWER, 0, 0, id,
	    (uint64_t)status, body, len) == -1 ||
	    publish(node, &sb, replied_cb, 0) == -1)
		log_warnx("cluster: the answer to node %s's request for a "
		    "task could not go", node);
	msgpack_sbuffer_destroy(&sb);
}

/*
 * The request's fields from m_f[first] on (principal, version, Mcp-Method,
 * Mcp-Name, body), each checked against its bound; -1 if one does not
 * fit.  The strings are rq's own; the body points into m.
 */
int
forward_req(struct fwd_req *rq, const struct msg *m, unsigned first)
{
	const union msg_field *f = &m->m_f[first];

	if (msg_strcpy(rq->principal, sizeof(rq->principal), &f[0]) == -1 ||
	    msg_strcpy(rq->version, sizeof(rq->version), &f[1]) == -1 ||
	    msg_strcpy(rq->method, sizeof(rq->method), &f[2]) == -1 ||
	    msg_strcpy(rq->name, sizeof(rq->name), &f[3]) == -1 ||
	    f[4].s.len > AGT_FWD_BODY_MAX_BYTES)
		return -1;
	rq->body = f[4].s.len > 0 ? f[4].s.p : "";
	rq->len = f[4].s.len;
	return 0;
}

/*
 * What another node's agent published on our channel, checked (the caller
 * passes it on only while this run of the node may serve: an epoch, not
 * fenced).
 */
void
forward_message(const char *frame, size_t len)
{
	static struct msg msgs[MSG_PER_FRAME_MAX];
	struct msg	*mp = &msgs[0];
	struct fwd_op	*op;
	char		 err[160], from[CONF_NODE_MAX_BYTES];
	struct fwd_req	 rq;

	if (msg_unpack_frame(&msg_proto_node, frame, len, -1, 0, msgs, err,
	    sizeof(err)) != 1) {
		note(&F.refused);	/* (the codec knows only the two types) */
		return;
	}
	switch (mp->m_type) {
	case MSG_NODE_ASK:
		if (msg_strcpy(from, sizeof(from), &mp->m_f[0]) == -1 ||
		    !conf_node_valid(from, strlen(from)) ||
		    mp->m_f[2].u >= WORKERS_MAX ||
		    forward_req(&rq, mp, 3) == -1 ||
		    F.out->fo_ask(from, mp->m_f[1].u, (uint32_t)mp->m_f[2].u,
		    &rq) == -1)
			note(&F.refused);	/* its node waits, and gives up */
		break;
	case MSG_NODE_ANSWER:
		if ((op = op_find(mp->m_f[0].u)) == NULL)
			return;		/* given up on, or not ours */
		if (mp->m_f[1].u < 200 || mp->m_f[1].u > 599 ||
		    mp->m_f[2].s.len > AGT_FWD_BODY_MAX_BYTES) {
			note(&F.refused);
			op_end(op, 0, NULL, 0);
			return;
		}
		op_end(op, (int)mp->m_f[1].u, mp->m_f[2].s.p, mp->m_f[2].s.len);
		break;
	}
}

/* The link went: what waits has no answer coming. */
void
forward_link_down(void)
{
	struct fwd_op *op;

	while ((op = TAILQ_FIRST(&F.ops)) != NULL)
		op_end(op, 0, NULL, 0);
}

void
forward_close(void)
{
	forward_link_down();
	ev_timer_stop(F.loop, &F.timer);
}
