/*
 * inflight.c -- a call in flight: the handler is entered and left (a call
 * that has not ended by then keeps a reference on its stream, and waits on
 * its session's list or the orphans'), its timers fire, and it may be
 * cancelled, by the client or because what it belonged to went away.
 *
 * Whatever ends a call while handler code runs, the call stays valid until
 * that code has returned (c_in_handler); then it is let go here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

void
call_enter(struct mcpd_call *c)
{
	c->c_in_handler = 1;
}

enum mcp_disp
call_leave(struct mcpd_call *c)
{
	struct mcp_session *s = c->c_sess;

	call_settle(c);
	c->c_in_handler = 0;
	if (c->c_done) {
		call_release(c);
		return MCP_DONE;
	}
	c->c_stream->s_ops->so_ref(c->c_stream);
	if (s != NULL) {
		TAILQ_INSERT_TAIL(&s->s_calls, c, c_entry);
		s->s_ncalls++;
	} else
		TAILQ_INSERT_TAIL(&c->c_srv->sv_orphans, c, c_entry);
	c->c_linked = 1;
	/* a task: the request got its answer (the task id) already */
	return c->c_task != NULL ? MCP_DONE : MCP_ASYNC;
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct call_timer	*t = w->data;
	struct mcpd_call	*c = t->ct_call;

	t->ct_used = 0;
	if (c->c_done)
		return;
	/* whatever finishes it, c stays until below */
	c->c_in_handler = 1;
	t->ct_fn(c, t->ct_arg);
	call_settle(c);
	c->c_in_handler = 0;
	if (c->c_done)
		call_unlink(c);
}

int
mcpd_call_after(struct mcpd_call *c, unsigned ms, mcpd_timer_fn fn,
    void *arg)
{
	int i;

	if (c->c_done)
		return -1;
	for (i = 0; i < MCP_CALL_TIMERS_MAX; i++) {
		struct call_timer *t = &c->c_timers[i];

		if (t->ct_used)
			continue;
		t->ct_used = 1;
		t->ct_call = c;
		t->ct_fn = fn;
		t->ct_arg = arg;
		ev_timer_init(&t->ct_ev, timer_cb, ms / 1000.0, 0.);
		t->ct_ev.data = t;
		ev_timer_start(c->c_srv->sv_loop, &t->ct_ev);
		return 0;
	}
	return -1;
}

void
call_cancel(struct mcpd_call *c, const char *reason)
{
	if (c->c_done || c->c_cancelled)
		return;
	c->c_cancelled = 1;
	c->c_in_handler = 1;	/* whatever finishes it, c stays until below */
	/* our own requests for this call are moot now: say so, fail them */
	creq_cancel_call(c, reason);
	log_debug("request %s: %s", c->c_id, reason);
	if (!c->c_done && c->c_on_cancel != NULL)
		c->c_on_cancel(c, c->c_cancel_arg);
	c->c_in_handler = 0;
	if (c->c_done)
		call_unlink(c);
}
