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
 * still running is then failed); one running on a node that lives is
 * that node's (503 naming it).
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
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
};
static TAILQ_HEAD(, taking)	takes = TAILQ_HEAD_INITIALIZER(takes);
static unsigned			ntakes;
static uint32_t			take_ids;

static void
unavailable(struct conn *c, const char *why)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "Service Unavailable: %s; try again", why);
	reply_error(c, 503, MCP_SERVER_ERROR, msg, "Retry-After: 1\r\n");
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
	TAILQ_REMOVE(&takes, t, t_entry);
	ntakes--;
	free(t);
	c->c_busy = 0;
	if (--c->c_refs == 0 && c->c_dead) {
		conn_release(c);
		return;
	}
	if (c->c_dead)
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
	if (t == NULL)
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

/* Without the agent, what waits on it gets 503 now. */
void
takeover_agent_lost(void)
{
	struct taking *t;

	while ((t = TAILQ_FIRST(&takes)) != NULL)
		taken(t, AGT_TAKEN_UNAVAILABLE, NULL, 0);
}
