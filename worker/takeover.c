/*
 * takeover.c -- a cluster node's sessions that another node made or
 * kept (DESIGN 9: any node serves any request).
 *
 * A session-era request whose session is not here, whose id opens (the
 * cluster key: any node's) and names our worker index, asks the agent to
 * take the session over (AGT_TAKE): a compare-and-set of its owner in
 * Redis, which gives us its record (agent/cluster.c).  The request waits
 * meanwhile, busy and held (c_refs), at most TAKE_PENDING_MAX of them a
 * worker; the agent answers within redis-timeout.  Taken, the record is
 * adopted and the request goes on as if it had just come (once: a second
 * miss is 404); no such session in the cluster: 404; Redis out of reach
 * or too many waiting: 503 with Retry-After.
 *
 * The node that had it hears of it (AGT_LOST: the agent's subscriber, or
 * a write of its record that Redis refused) and drops the session here,
 * ending its streams: the client's next request takes it where it goes.
 *
 * A task is taken the same way when it finished, or its node died (one
 * still running is then failed); one running on a node that lives stays
 * that node's: the request goes there (AGT_FWD: the agent publishes it
 * to that node, agent/forward.c), is served by the worker keeping the
 * task as if it had come to it (takeover_fwd_in), and its answer is ours,
 * as it is.  No answer in time: 503 naming the node.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "mcp.h"
#include "msg.h"
#include "registry.h"
#include "worker.h"

#define TAKE_PENDING_MAX	1024	/* requests waiting on takeovers */

struct taking {
	TAILQ_ENTRY(taking)	 t_entry;
	struct conn		*t_conn;
	uint32_t		 t_id;
	int			 t_task;	/* a task's, not a session's */
	int			 t_fwd;		/* sent to the task's node: */
	char			 t_node[CONF_NODE_MAX_BYTES];
};
static TAILQ_HEAD(, taking)	takes = TAILQ_HEAD_INITIALIZER(takes);
static unsigned			ntakes;
static uint32_t			take_ids;

static void
unavailable(struct conn *c, const char *why)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "Service Unavailable: %s; try again", why);
	/* with the request's id: it was parsed (null is for one that was not) */
	mcp_write_error_id(worker->w_mcp, c->c_req->r_rpcid,
	    c->c_req->r_rpcidlen, MCP_SERVER_ERROR, msg);
	reply_out(c, 503, "Retry-After: 1\r\n");
}

static int	ask(struct conn *, const char *, int);

int
takeover_ask(struct conn *c, const struct mcp_route *rt)
{
	int owner;

	if (worker->w_child->c_conf->c_cluster == NULL || c->c_req->r_took ||
	    rt->rt_verdict != MCP_ROUTE_NO_SESSION || rt->rt_sid == NULL ||
	    rt->rt_sid[0] == '\0' ||
	    mcp_session_find(worker->w_mcp, rt->rt_sid, &owner) != NULL ||
	    owner != (int)worker->w_child->c_index)
		return 0;	/* not one of the cluster's, or not ours */
	return ask(c, rt->rt_sid, 0);
}

/*
 * A tasks/ request for a task of our index that is not here: one that
 * finished, or whose node died, is taken over (a running one of a dead
 * node as failed); one still running on a node that lives is that
 * node's: 503, Retry-After, naming it (HAProxy sends the retry there).
 */
int
takeover_task(struct conn *c, const struct mcp_route *rt)
{
	if (worker->w_child->c_conf->c_cluster == NULL || c->c_req->r_took ||
	    rt->rt_task_id[0] == '\0')
		return 0;
	return ask(c, rt->rt_task_id, 1);
}

static int
ask(struct conn *c, const char *id, int task)
{
	struct hreq	*r = c->c_req;
	struct taking	*t;
	struct chan	*agent;

	r->r_took = 1;
	if ((agent = agentc()) == NULL) {
		unavailable(c, "the session is out of reach");
		return 1;
	}
	if (ntakes >= TAKE_PENDING_MAX) {
		unavailable(c, "too many sessions being taken over");
		return 1;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		unavailable(c, "out of memory");
		return 1;
	}
	t->t_conn = c;
	t->t_id = ++take_ids;
	t->t_task = task;
	if (chan_send(agent, MSG_AGT_TAKE, -1, (uint64_t)t->t_id, id) == -1) {
		free(t);
		unavailable(c, "the session is out of reach");
		return 1;
	}
	TAILQ_INSERT_TAIL(&takes, t, t_entry);
	ntakes++;
	c->c_refs++;		/* held until the answer, even if closed */
	c->c_busy = 1;
	return 1;
}

/*
 * The end of a wait: its connection, to answer; NULL when the client
 * went meanwhile (and the connection with it, when nothing else holds it).
 */
static struct conn *
take_end(struct taking *t)
{
	struct conn *c = t->t_conn;

	TAILQ_REMOVE(&takes, t, t_entry);
	ntakes--;
	free(t);
	c->c_busy = 0;
	if (--c->c_refs == 0 && c->c_dead) {
		conn_release(c);
		return NULL;
	}
	return c->c_dead ? NULL : c;
}

/*
 * A tasks/ request for a task that runs on node (len bytes) goes there:
 * -1 when it cannot (too large to go through Redis, the agent's channel
 * full), and it is answered 503 naming the node.
 */
static int
forward(struct taking *t, const char *node, size_t len)
{
	struct conn	*c = t->t_conn;
	struct hreq	*r = c->c_req;
	char		 name[CONF_NODE_MAX_BYTES];
	struct mcp_headers mh;
	struct chan	*agent;

	if (len >= sizeof(name) || r->r_bodylen > AGT_FWD_BODY_MAX_BYTES ||
	    strlen(r->r_principal) >= AGT_FWD_PRINCIPAL_MAX_BYTES ||
	    strlen(r->r_head.rh_proto) >= AGT_FWD_VERSION_MAX_BYTES ||
	    strlen(r->r_head.rh_method) >= AGT_FWD_METHOD_MAX_BYTES ||
	    strlen(r->r_head.rh_name) >= AGT_FWD_NAME_MAX_BYTES ||
	    (agent = agentc()) == NULL)
		return -1;
	memcpy(name, node, len);
	name[len] = '\0';
	memcpy(t->t_node, name, len + 1);
	head_mcp_headers(&r->r_head, &mh);
	if (chan_send(agent, MSG_AGT_FWD, -1, name, (uint64_t)t->t_id,
	    (uint64_t)worker->w_child->c_index, r->r_principal,
	    r->r_head.rh_proto, mh.h_method != NULL ? mh.h_method : "",
	    mh.h_name != NULL ? mh.h_name : "",
	    r->r_body != NULL ? r->r_body : "", r->r_bodylen) == -1)
		return -1;
	t->t_fwd = 1;
	return 0;
}

/* The agent's word on a takeover: the request goes on, or is answered. */
static void
taken(struct taking *t, int verdict, const char *rec, size_t len)
{
	struct conn	*c = t->t_conn;
	char		 err[256], msg[128];
	int		 task = t->t_task;

	if (verdict == AGT_TAKEN_RECORD) {
		/* adopted now; its replay events follow, then AGT_TAKEN_OK */
		if (!c->c_dead && mcp_registry_adopt(worker->w_mcp, rec, len,
		    task ? MCP_ADOPT_START : MCP_ADOPT_LIVE, err,
		    sizeof(err)) == -1)
			log_warnx("a %s taken over: %s", task ? "task" :
			    "session", err);
		return;
	}
	if (verdict == AGT_TAKEN_ELSEWHERE && task && !c->c_dead &&
	    forward(t, rec, len) == 0)
		return;		/* the node's answer comes */
	if ((c = take_end(t)) == NULL)
		return;
	switch (verdict) {
	case AGT_TAKEN_OK:
		/* a task: finished, or its node died (running: failed) */
		if (len > 0 && mcp_registry_adopt(worker->w_mcp, rec, len, task ?
		    MCP_ADOPT_START : MCP_ADOPT_LIVE, err, sizeof(err)) == -1)
			log_warnx("a %s taken over: %s", task ? "task" :
			    "session", err);
		/* its rates were taken when it came */
		c->c_req->r_admitted = 1;
		endpoint_authed(c);	/* a second miss is 404 */
		break;
	case AGT_TAKEN_NONE:
		if (task)
			endpoint_authed(c);	/* not found, as the engine says */
		else
			endpoint_no_session(c);
		break;
	case AGT_TAKEN_ELSEWHERE:
		snprintf(msg, sizeof(msg), "the task runs on node %.*s",
		    (int)(len < 64 ? len : 64), rec);
		unavailable(c, msg);
		break;
	default:
		unavailable(c, "the session is out of reach");
		break;
	}
	request_served(c);
}

void
takeover_taken(const struct msg *m)
{
	struct taking *t;

	TAILQ_FOREACH(t, &takes, t_entry)
		if (t->t_id == m->m_f[0].u)
			break;
	if (t == NULL || t->t_fwd)
		return;		/* asked on a channel gone since */
	if (m->m_f[1].u > AGT_TAKEN_RECORD ||
	    (m->m_f[1].u == AGT_TAKEN_RECORD && m->m_f[2].s.len == 0))
		fatalx("a bad AGT_TAKEN from the agent");
	taken(t, (int)m->m_f[1].u, m->m_f[2].s.p, m->m_f[2].s.len);
}

/*
 * Another node took a session over: it is not ours to serve.  It ends
 * here -- its streams close, its calls are cancelled -- without a word to
 * the registry (its record is the other node's now).
 */
void
takeover_lost(const struct msg *m)
{
	struct mcp_session	*s;
	char			 id[MCP_SID_MAX_CHARS + 1];
	int			 owner;

	if (msg_strcpy(id, sizeof(id), &m->m_f[0]) == -1)
		return;		/* no id of ours is that long */
	if (worker->w_mcp == NULL ||
	    (s = mcp_session_find(worker->w_mcp, id, &owner)) == NULL)
		return;
	log_info("session %s: taken over by another node", id);
	mcp_session_forget(worker->w_mcp, s);
}

/* The answer of the node a task runs on, to a request sent there. */
void
takeover_fwd_answer(const struct msg *m)
{
	struct taking	*t;
	struct conn	*c;
	char		 msg[96];

	TAILQ_FOREACH(t, &takes, t_entry)
		if (t->t_id == m->m_f[0].u)
			break;
	if (t == NULL || !t->t_fwd)
		return;		/* asked on a channel gone since */
	if (m->m_f[1].u != 0 && (m->m_f[1].u < 200 || m->m_f[1].u > 599))
		fatalx("a bad AGT_FWD_ANSWER from the agent");
	snprintf(msg, sizeof(msg), "node %s, where the task runs, did not "
	    "answer", t->t_node);
	if ((c = take_end(t)) == NULL)
		return;
	if (m->m_f[1].u == 0)
		unavailable(c, msg);
	else {
		c->c_req->r_rpc_code = rpc_code(m->m_f[2].s.p, m->m_f[2].s.len);
		reply(c, (int)m->m_f[1].u, "application/json",
		    m->m_f[1].u == 503 ? "Retry-After: 1\r\n" : NULL,
		    m->m_f[2].s.p, m->m_f[2].s.len);
	}
	request_served(c);
}

/*
 * What the engine answers a node's request: the one response it sends,
 * kept here until the agent has it (the engine answers tasks/ requests
 * at once, within mcp_serve).
 */
static struct {
	struct mcp_stream	 st;
	char			*body;
	size_t			 len;
	int			 status;
	int			 done;
} cap;

static void
cap_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
	if (cap.done || !final)
		return;		/* (a tasks/ request sends one answer) */
	cap.done = 1;
	cap.status = st->s_status != 0 ? st->s_status : 200;
	st->s_status = 0;
	if (json != NULL && len > 0 && (cap.body = malloc(len)) != NULL) {
		memcpy(cap.body, json, len);
		cap.len = len;
	}
}

static void
cap_ref(struct mcp_stream *st)
{
}

static const struct mcp_stream_ops cap_ops = {
	cap_send, cap_ref, cap_ref, NULL
};

static int
forwardable(const struct mcp_msg *m)
{
	return m->m_kind == MCP_REQUEST &&
	    (strcmp(m->m_method, "tasks/get") == 0 ||
	    strcmp(m->m_method, "tasks/update") == 0 ||
	    strcmp(m->m_method, "tasks/cancel") == 0);
}

/* Serve a node's request into cap: NULL, or why it has no answer there. */
static const char *
fwd_serve(struct mcp_server *srv, struct mcp_msg *m, struct mcp_route *rt,
    const struct mcp_headers *mh)
{
	struct mcp_session *sess = NULL;

	if (mcp_route(srv, m, rt) == MCP_ROUTE_PEER)
		return "Service Unavailable: on the task's node another worker "
		    "keeps it (do the nodes run as many workers?)";
	(void)mcp_serve(srv, rt, &sess, m, &cap.st, mh);
	if (!cap.done)
		return "Service Unavailable: the task's node did not answer at "
		    "once; try again";
	if (cap.len > AGT_FWD_BODY_MAX_BYTES)
		return "Service Unavailable: the answer is too large to go to "
		    "another node; ask the node the task runs on";
	return NULL;
}

/*
 * Another node's request for a task of ours (AGT_FWD_IN): served as if it
 * had come here with that principal and protocol version (the node that
 * took it checked its token and headers); its answer goes back.
 */
void
takeover_fwd_in(const struct msg *m)
{
	struct mcp_server	*srv = worker->w_mcp;
	struct mcp_route	 rt;
	struct mcp_msg		 mm;
	struct jw		*w;
	struct chan		*agent;
	char			 from[CONF_NODE_MAX_BYTES];
	char			 principal[AGT_FWD_PRINCIPAL_MAX_BYTES];
	char			 version[AGT_FWD_VERSION_MAX_BYTES];
	char			 method[AGT_FWD_METHOD_MAX_BYTES];
	char			 name[AGT_FWD_NAME_MAX_BYTES];
	struct mcp_headers	 mh;
	const char		*body, *why = NULL;
	size_t			 len;
	int			 status;

	if (msg_strcpy(from, sizeof(from), &m->m_f[0]) == -1 ||
	    msg_strcpy(principal, sizeof(principal), &m->m_f[3]) == -1 ||
	    msg_strcpy(version, sizeof(version), &m->m_f[4]) == -1 ||
	    msg_strcpy(method, sizeof(method), &m->m_f[5]) == -1 ||
	    msg_strcpy(name, sizeof(name), &m->m_f[6]) == -1)
		fatalx("a bad AGT_FWD_IN from the agent");
	if ((agent = agentc()) == NULL || srv == NULL)
		return;		/* no answer: the other node says 503 */
	memset(&cap, 0, sizeof(cap));
	cap.st.s_ops = &cap_ops;
	w = mcp_server_out(srv);
	status = 400;
	if (mcp_msg_parse(srv, &mm, m->m_f[7].s.len ? m->m_f[7].s.p : "",
	    m->m_f[7].s.len) == -1)
		why = NULL;	/* the parse wrote its error */
	else if (!forwardable(&mm))
		why = "Invalid Request: only tasks/get, tasks/update and "
		    "tasks/cancel go to another node";
	else {
		memset(&rt, 0, sizeof(rt));
		rt.rt_version = version[0] != '\0' ? version : NULL;
		rt.rt_by_header = 1;
		rt.rt_principal = principal[0] != '\0' ? principal : NULL;
		/* the headers that mirror the body, checked as if here */
		memset(&mh, 0, sizeof(mh));
		mh.h_version = rt.rt_version;
		mh.h_method = method[0] != '\0' ? method : NULL;
		mh.h_name = name[0] != '\0' ? name : NULL;
		status = 503;
		if ((why = fwd_serve(srv, &mm, &rt, &mh)) == NULL)
			status = cap.status;
	}
	if (why != NULL)
		mcp_write_error(srv, &mm, status == 400 ?
		    JSONRPC_INVALID_REQUEST : MCP_SERVER_ERROR, why);
	body = why != NULL || !cap.done ? w->buf :
	    cap.body != NULL ? cap.body : "";
	len = why != NULL || !cap.done ? w->len : cap.len;
	if (chan_send(agent, MSG_AGT_FWD_OUT, -1, from, m->m_f[1].u,
	    (uint64_t)status, body, len) == -1)
		log_warnx("the answer to node %s's request for a task", from);
	free(cap.body);
	cap.body = NULL;
}

/* Without the agent, what waits on it gets 503 now. */
void
takeover_agent_lost(void)
{
	struct taking	*t;
	struct conn	*c;
	char		 msg[96];

	while ((t = TAILQ_FIRST(&takes)) != NULL) {
		if (!t->t_fwd) {
			taken(t, AGT_TAKEN_UNAVAILABLE, NULL, 0);
			continue;
		}
		snprintf(msg, sizeof(msg), "node %s, where the task runs, "
		    "is out of reach", t->t_node);
		if ((c = take_end(t)) != NULL) {
			unavailable(c, msg);
			request_served(c);
		}
	}
}
