/*
 * tasks.c -- the tasks extension of 2026-07-28 (io.modelcontextprotocol/
 * tasks) as the client sees it: mcpd_call_task() makes a tool call a task,
 * and tasks/get, tasks/update and tasks/cancel act on it.
 *
 * The client gets a task id at once and polls tasks/get; questions the call
 * asks wait in the task (input_required) until tasks/update answers them;
 * tasks/cancel cancels the call.  The task keeps the call's result or error
 * for the task TTL from its creation, then it is forgotten (taskstore.c
 * keeps the records).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

/*
 * The same for a call that goes on: its replies run as a handler runs.
 * Returns c, or NULL when a reply ended it (and it is gone).
 */
static struct mcpd_call *
inputs_fail(struct mcp_task *k, struct mcpd_call *c, const char *why)
{
	int outer = c->c_in_handler;

	c->c_in_handler = 1;
	task_inputs_drop(k, c, why);
	c->c_in_handler = outer;
	if (!outer && c->c_done) {
		call_unlink(c);
		return NULL;
	}
	return c;
}

/* Forget a task; its call, if still running, is cancelled and goes nowhere. */
static void
task_forget(struct mcp_server *srv, struct mcp_task *k)
{
	struct mcpd_call *c = k->k_call;

	task_unlink(srv, k);
	if (c != NULL) {
		/* expired while running (and gone from the registry) */
		k->k_status = T_CANCELLED;
		if ((c = inputs_fail(k, c, "the task expired")) != NULL) {
			k->k_call = NULL;
			c->c_task = NULL;
			if (!c->c_done)
				call_cancel(c, "the task expired");
		}
	}
	task_free(k);
}

/* Forget the tasks whose time is up. */
static void
expire(struct mcp_server *srv)
{
	struct mcp_task *k;

	while ((k = task_expired(srv)) != NULL)
		task_forget(srv, k);
}

void
tasks_free(struct mcp_server *srv)
{
	struct mcp_task *k;

	while ((k = TAILQ_FIRST(&srv->sv_tasks)) != NULL)
		task_forget(srv, k);
	taskstore_free(srv);
}

static struct mcp_task *
task_find(struct mcp_server *srv, const char *id)
{
	unsigned char rnd[SEALID_RND_BYTES];

	if (task_id_open(srv, id, rnd) == -1)
		return NULL;
	expire(srv);
	return task_lookup(srv, rnd);
}

/* a stream that takes nothing: where a task's call writes after */
static void	null_send(struct mcp_stream *, const char *, size_t, int);
static void	null_ref(struct mcp_stream *);

static const struct mcp_stream_ops null_ops = {
	null_send, null_ref, null_ref, NULL
};
static struct mcp_stream null_stream = { &null_ops, NULL, 0 };

static void
null_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
}

static void
null_ref(struct mcp_stream *st)
{
}

int
mcpd_call_task(struct mcpd_call *c)
{
	struct mcp_server	*srv = c->c_srv;
	struct mcp_task		*k;
	struct jw		*w = &srv->sv_out;
	struct mcp_stream	*st;

	/* (after a question of this round: answer it first, in a retry) */
	if (c->c_done || c->c_cancelled || c->c_task != NULL ||
	    !c->c_stateless || !(c->c_caps & CAP_TASKS) || !c->c_task_ok ||
	    c->c_kind != CALL_TOOL || c->c_nasks > 0)
		return -1;
	expire(srv);
	if (srv->sv_ntasks >= MCP_TASKS_MAX) {
		log_warnx("%u tasks: a call runs without one", srv->sv_ntasks);
		return -1;
	}
	if ((k = task_new(srv, c)) == NULL)
		return -1;
	/* the task exists before the client hears of it */
	mcp_begin_response(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id));
	jw_obj(w);
	jw_key(w, "resultType");
	jw_str(w, "task");
	task_write(w, k);
	jw_obj_end(w);
	mcp_stamp_result(srv, w, "task", 1, 0, NULL);
	mcp_end_response(w);
	st = c->c_stream;
	mcp_send(st, w, 1);
	/* the request is answered: the call writes nowhere from now on */
	c->c_stream = &null_stream;
	if (c->c_linked)
		st->s_ops->so_unref(st);
	log_debug("%s%stask %s for request %s", c->c_trace[0] ? c->c_trace :
	    "", c->c_trace[0] ? ": " : "", k->k_id, c->c_id);
	return 0;
}

/* Run fn's replies for a task's call the way a handler runs. */
static void
deliver(struct mcpd_call *c, struct task_input *in, const char *json,
    size_t len)
{
	int outer = c->c_in_handler;

	c->c_in_handler = 1;
	in->i_fn(c, 0, json, len, in->i_arg);
	c->c_in_handler = outer;
	if (!outer && c->c_done)
		call_unlink(c);
}

/* The answer to tasks/get (the task k), tasks/update and tasks/cancel ({}). */
static enum mcp_disp
answer(struct mcp_server *srv, const struct mcp_msg *m, struct mcp_stream *st,
    const struct mcp_task *k)
{
	struct jw *w = &srv->sv_out;

	rpc_begin_result(srv, m);
	jw_obj(w);
	if (k != NULL)
		task_write(w, k);
	jw_obj_end(w);
	return rpc_end_result(srv, st, 1);
}

static enum mcp_disp
do_update(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_task *k)
{
	struct task_input	 got[MCP_INPUTS_MAX];
	const char		*texts[MCP_INPUTS_MAX];
	size_t			 lens[MCP_INPUTS_MAX];
	struct mcpd_call	*c = k->k_call;
	char			 key[128];
	unsigned		 ngot = 0, i;
	int			 ir, t, v, end;

	ir = rpc_param(m, "inputResponses", JSON_NONE);
	if (ir != -1 && json_type(&m->m_j, ir) != JSON_OBJECT)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Invalid params: inputResponses must be an object");
	if (ir == -1 || task_terminal(k) || c == NULL)
		return answer(srv, m, st, NULL);
	/*
	 * Take every answered question off the task before the ack, so a
	 * tasks/get right after it sees only what is still open; keys we
	 * did not ask (or asked and had answered) are ignored.
	 */
	end = json_skip(&m->m_j, ir);
	for (t = ir + 1; t < end; t = json_skip(&m->m_j, v)) {
		v = t + 1;
		if (json_strcpy(&m->m_j, t, key, sizeof(key)) == -1)
			continue;
		for (i = 0; i < k->k_nin; i++)
			if (strcmp(k->k_in[i].i_key, key) == 0)
				break;
		if (i == k->k_nin || json_type(&m->m_j, v) != JSON_OBJECT)
			continue;
		got[ngot] = k->k_in[i];
		texts[ngot] = json_text(&m->m_j, v, &lens[ngot]);
		ngot++;
		memmove(&k->k_in[i], &k->k_in[i + 1],
		    (k->k_nin - i - 1) * sizeof(k->k_in[0]));
		k->k_nin--;
	}
	if (ngot > 0 && k->k_nin == 0)
		task_set_status(srv, k, T_WORKING);
	else if (ngot > 0)
		k->k_updated = loop_ms(srv);
	/* the answers go to the call; it may ask again, or end */
	for (i = 0; i < ngot; i++) {
		if (k->k_call != NULL && !c->c_done)
			deliver(c, &got[i], texts[i], lens[i]);
		free(got[i].i_key);
		free(got[i].i_request);
	}
	return answer(srv, m, st, NULL);
}

static enum mcp_disp
do_cancel(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_task *k)
{
	struct mcpd_call *c = k->k_call;

	if (!task_terminal(k)) {
		task_set_status(srv, k, T_CANCELLED);
		if (c != NULL && (c = inputs_fail(k, c,
		    "the task was cancelled")) != NULL && !c->c_done)
			call_cancel(c, "the task was cancelled");
	}
	return answer(srv, m, st, NULL);
}

int
tasks_method(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int caps, enum mcp_disp *d)
{
	struct mcp_task	*k;
	char		 id[SEALID_LEN + 2], data[128];
	int		 which;

	if (strcmp(m->m_method, "tasks/get") == 0)
		which = 0;
	else if (strcmp(m->m_method, "tasks/update") == 0)
		which = 1;
	else if (strcmp(m->m_method, "tasks/cancel") == 0)
		which = 2;
	else
		return -1;
	if (!(caps & CAP_TASKS)) {
		snprintf(data, sizeof(data), "{\"requiredCapabilities\":"
		    "{\"extensions\":{\"%s\":{}}}}", MCP_TASKS_EXT);
		*d = rpc_error(srv, m, st, 400, MCP_MISSING_CAPABILITY,
		    "Missing required client capability", data);
		return 0;
	}
	/* another principal's task is one that does not exist */
	if (rpc_param_str(m, "taskId", id, sizeof(id)) == -1 ||
	    (k = task_find(srv, id)) == NULL ||
	    !mcp_owned_by(k->k_owner, srv->sv_principal)) {
		*d = rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Failed to retrieve task: Task not found");
		return 0;
	}
	switch (which) {
	case 0:
		*d = answer(srv, m, st, k);
		break;
	case 1:
		*d = do_update(srv, m, st, k);
		break;
	default:
		*d = do_cancel(srv, m, st, k);
		break;
	}
	return 0;
}
