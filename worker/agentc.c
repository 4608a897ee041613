/*
 * agentc.c -- a worker's channel to the agent (msg_agent.def).
 *
 * The supervisor gives it (SUP_AGENT) when the worker starts and again
 * when the agent was restarted.  What comes goes where it belongs: keys
 * and answers on tokens to auth.c, the records a starting worker adopts
 * to registry.c.  When the channel closes, what waits on the agent gets
 * its answer at once (503); a new agent gets every session's record
 * again (registry_resend).
 */
#include "config.h"

#include <unistd.h>

#include "auth.h"
#include "conf.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "worker.h"
#include "util.h"

static struct chan *agent;	/* NULL: none now */

struct chan *
agentc(void)
{
	return agent;
}

static void
agent_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	switch (m->m_type) {
	case MSG_AGT_KEYS:
		auth_keys(m);
		break;
	case MSG_AGT_INTROSPECTED:
		auth_introspected(m);
		break;
	case MSG_AGT_SESS_REC:
		registry_record(m->m_f[0].s.p, m->m_f[0].s.len);
		break;
	case MSG_AGT_EV_REC:
		registry_adopt_event(m);
		break;
	case MSG_AGT_ADOPTED:
		registry_adopted((unsigned)m->m_f[0].u);
		break;
	case MSG_AGT_TAKEN:
		takeover_taken(m);
		break;
	case MSG_AGT_LOST:
		takeover_lost(m);
		break;
	case MSG_AGT_FWD_ANSWER:
		takeover_fwd_answer(m);
		break;
	case MSG_AGT_FWD_IN:
		takeover_fwd_in(m);
		break;
	case MSG_AGT_NOTIFY_IN:
		peer_notify_in(m);
		break;
	default:
		fatalx("unexpected %s from the agent",
		    msg_name(&msg_proto_agent, m->m_type));
	}
}

static void
agent_err(struct chan *ch, const char *reason, void *arg)
{
	/* an internal channel carries no garbage: a bug, restart us */
	if (reason != NULL)
		fatalx("channel to the agent: %s", reason);
	log_debug("channel to the agent closed");
	chan_free(&agent);
	auth_agent_lost();
	takeover_agent_lost();
}

void
agentc_open(struct ev_loop *loop, const struct conf *c, int fd)
{
	auth_load(c);
	if (agent != NULL) {
		chan_free(&agent);
		auth_agent_lost();
		takeover_agent_lost();
	}
	if (fd_nonblock(fd) == -1 ||
	    (agent = chan_new(loop, fd, &msg_proto_agent, 1, agent_dispatch,
	    agent_err, NULL, "agent")) == NULL)
		fatal("channel to the agent");
	chan_set_accept(agent, "agent>worker");
	/* every record at once to a new agent: up to what it would keep */
	chan_set_queue_max(agent, (size_t)c->c_registry_bytes);
	log_debug("channel to the agent");
	registry_resend();	/* a new agent: it has nothing of ours */
}
