/*
 * call.c -- the call context: a request that a plugin (or the catalog)
 * serves, now or later.
 *
 * A call is taken from a free list, so a tool that answers at once costs no
 * allocation.  It ends exactly once, with a result or an error; a call still
 * running when its handler returns keeps a reference on its stream until
 * then.  Requests to the client (sampling, elicitation, roots) are
 * correlated by a per-session integer id and time out.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

#define CALL_FREE_MAX	256	/* call objects kept for reuse */

static struct mcpd_call	*freelist[CALL_FREE_MAX];

static void	result_json(struct mcpd_call *, const char *, size_t, int);
static size_t		 nfree;

struct mcpd_call *
call_new(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_stream *st, enum call_kind kind, const struct mcp_msg *m)
{
	struct mcpd_call	*c;
	const char		*t;
	size_t			 n;
	int			 meta, tok;

	if (s != NULL && s->s_ncalls >= MCP_CALLS_MAX)
		return NULL;
	if (nfree > 0)
		c = freelist[--nfree];
	else if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	memset(c, 0, offsetof(struct mcpd_call, c_timers));
	memset(c->c_timers, 0, sizeof(c->c_timers));
	c->c_uri[0] = '\0';
	c->c_srv = srv;
	c->c_sess = s;
	c->c_stream = st;
	c->c_kind = kind;
	if (m->m_id >= 0) {
		t = json_text(&m->m_j, m->m_id, &n);
		if (n < sizeof(c->c_id)) {
			memcpy(c->c_id, t, n);
			c->c_id[n] = '\0';
		}
	}
	if (m->m_params >= 0 && json_type(&m->m_j, m->m_params) ==
	    JSON_OBJECT && (meta = json_get(&m->m_j, m->m_params, "_meta")) !=
	    -1 && json_type(&m->m_j, meta) == JSON_OBJECT &&
	    (tok = json_get(&m->m_j, meta, "progressToken")) != -1 &&
	    (json_type(&m->m_j, tok) == JSON_STRING ||
	    json_type(&m->m_j, tok) == JSON_NUMBER)) {
		t = json_text(&m->m_j, tok, &n);
		if (n < sizeof(c->c_token)) {
			memcpy(c->c_token, t, n);
			c->c_token[n] = '\0';
		}
	}
	return c;
}

static void
call_release(struct mcpd_call *c)
{
	if (nfree < CALL_FREE_MAX)
		freelist[nfree++] = c;
	else
		free(c);
}

void
call_enter(struct mcpd_call *c)
{
	c->c_in_handler = 1;
}

static void
stop_timers(struct mcpd_call *c)
{
	int i;

	for (i = 0; i < MCP_CALL_TIMERS_MAX; i++) {
		if (c->c_timers[i].ct_used) {
			ev_timer_stop(c->c_srv->sv_loop, &c->c_timers[i].ct_ev);
			c->c_timers[i].ct_used = 0;
		}
	}
}

/* An in-flight call that ended: off the lists, drop the stream, reuse. */
static void
call_unlink(struct mcpd_call *c)
{
	struct mcp_session *s = c->c_sess;

	if (s != NULL) {
		TAILQ_REMOVE(&s->s_calls, c, c_entry);
		s->s_ncalls--;
	} else
		TAILQ_REMOVE(&c->c_srv->sv_orphans, c, c_entry);
	c->c_stream->s_ops->so_unref(c->c_stream);
	call_release(c);
}

/* The call ended: forget it everywhere. */
static void
call_finish(struct mcpd_call *c)
{
	struct mcp_session	*s = c->c_sess;
	struct creq		*q;
	int			 async = !c->c_in_handler;

	c->c_done = 1;
	stop_timers(c);
	if (s != NULL && c->c_pending > 0)
		TAILQ_FOREACH(q, &s->s_creqs, q_entry)
			if (q->q_call == c)
				q->q_call = NULL;
	if (async)
		call_unlink(c);
}

enum mcp_disp
call_leave(struct mcpd_call *c)
{
	struct mcp_session *s = c->c_sess;

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
	return MCP_ASYNC;
}

/* Send what the call writes; after a cancel nothing is sent. */
static void
call_send(struct mcpd_call *c, int final)
{
	if (c->c_cancelled) {
		if (final)
			c->c_stream->s_ops->so_send(c->c_stream, NULL, 0, 1);
		return;
	}
	mcp_send(c->c_stream, &c->c_srv->sv_out, final);
}

void
mcpd_call_result(struct mcpd_call *c, const char *json)
{
	jsmntok_t	 toks[256];
	struct json	 j;
	int		 rv;

	if (c->c_done)
		return;
	/* a plugin's JSON is checked before a client sees it */
	rv = json_parse(&j, json, strlen(json), toks, 256);
	if (rv == JSON_E_TOKENS)
		rv = json_parse(&j, json, strlen(json), c->c_srv->sv_toks,
		    JSON_TOKENS_MAX);
	if (rv != JSON_OK || json_type(&j, 0) != JSON_OBJECT) {
		log_warnx("a plugin answered with invalid JSON (%s)",
		    json_strerror(rv));
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR,
		    "the tool produced an invalid result");
		return;
	}
	result_json(c, json, strlen(json), 1);
}

/* Finish with a result object's text (one_line: a plugin's, checked). */
static void
result_json(struct mcpd_call *c, const char *json, size_t len, int one_line)
{
	struct jw *w = &c->c_srv->sv_out;

	mcp_begin_response(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id));
	if (one_line)
		jw_raw_line(w, json, len);
	else
		jw_raw(w, json, len);
	mcp_end_response(w);
	call_send(c, 1);
	call_finish(c);
}

void
call_result_raw(struct mcpd_call *c, const char *json, size_t len)
{
	if (!c->c_done)
		result_json(c, json, len, 0);
}

void
mcpd_call_result_text(struct mcpd_call *c, const char *text, int is_error)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_done)
		return;
	mcp_begin_response(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id));
	jw_obj(w);
	jw_key(w, "content");
	jw_arr(w);
	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "text");
	jw_key(w, "text");
	jw_str(w, text);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_key(w, "isError");
	jw_bool(w, is_error);
	jw_obj_end(w);
	mcp_end_response(w);
	call_send(c, 1);
	call_finish(c);
}

void
mcpd_call_error(struct mcpd_call *c, int code, const char *message)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_done)
		return;
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "id");
	if (c->c_id[0])
		jw_raw(w, c->c_id, strlen(c->c_id));
	else
		jw_null(w);
	jw_key(w, "error");
	jw_obj(w);
	jw_key(w, "code");
	jw_int(w, code);
	jw_key(w, "message");
	jw_str(w, message);
	jw_obj_end(w);
	jw_obj_end(w);
	call_send(c, 1);
	call_finish(c);
}

void
mcpd_call_progress(struct mcpd_call *c, double progress, double total,
    const char *message)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_done || c->c_token[0] == '\0')
		return;
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "method");
	jw_str(w, "notifications/progress");
	jw_key(w, "params");
	jw_obj(w);
	jw_key(w, "progressToken");
	jw_raw(w, c->c_token, strlen(c->c_token));
	jw_key(w, "progress");
	jw_double(w, progress);
	if (total >= 0) {
		jw_key(w, "total");
		jw_double(w, total);
	}
	if (message != NULL) {
		jw_key(w, "message");
		jw_str(w, message);
	}
	jw_obj_end(w);
	jw_obj_end(w);
	call_send(c, 0);
}

void
mcpd_call_log(struct mcpd_call *c, enum mcpd_log_level level,
    const char *logger, const char *text)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_done || c->c_sess == NULL ||
	    (int)level < c->c_sess->s_log_level)
		return;
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "method");
	jw_str(w, "notifications/message");
	jw_key(w, "params");
	jw_obj(w);
	jw_key(w, "level");
	jw_str(w, mcp_level_name(level));
	if (logger != NULL) {
		jw_key(w, "logger");
		jw_str(w, logger);
	}
	jw_key(w, "data");
	jw_str(w, text);
	jw_obj_end(w);
	jw_obj_end(w);
	call_send(c, 0);
}

static void
creq_free(struct mcp_session *s, struct creq *q)
{
	ev_timer_stop(s->s_srv->sv_loop, &q->q_to);
	TAILQ_REMOVE(&s->s_creqs, q, q_entry);
	free(q);
}

static void
creq_fail(struct mcp_session *s, struct creq *q, const char *why)
{
	struct mcpd_call	*c = q->q_call;
	mcpd_reply_fn		 fn = q->q_reply;
	void			*arg = q->q_arg;
	char			 err[200];
	int			 n;

	creq_free(s, q);
	if (c == NULL)
		return;
	c->c_pending--;
	n = snprintf(err, sizeof(err), "{\"code\":%d,\"message\":\"%s\"}",
	    MCP_SERVER_ERROR, why);
	fn(c, 1, err, n, arg);
}

/* Tell the client we no longer wait for its answer (both directions). */
static void
creq_cancel_notify(struct creq *q, const char *reason)
{
	struct mcpd_call	*c = q->q_call;
	struct jw		*w;

	if (c == NULL || c->c_done)
		return;
	w = &c->c_srv->sv_out;
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "method");
	jw_str(w, "notifications/cancelled");
	jw_key(w, "params");
	jw_obj(w);
	jw_key(w, "requestId");
	jw_int(w, q->q_id);
	jw_key(w, "reason");
	jw_str(w, reason);
	jw_obj_end(w);
	jw_obj_end(w);
	mcp_send(c->c_stream, w, 0);
}

static void
creq_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct creq *q = w->data;

	creq_cancel_notify(q, "timed out");
	creq_fail(q->q_sess, q, "the client did not answer in time");
}

int
mcpd_call_request(struct mcpd_call *c, const char *method,
    const char *params, mcpd_reply_fn reply, void *arg)
{
	struct mcp_session	*s = c->c_sess;
	struct jw		*w = &c->c_srv->sv_out;
	struct creq		*q;
	jsmntok_t		 toks[512];
	struct json		 j;

	if (c->c_done || c->c_cancelled || s == NULL)
		return -1;
	if ((strcmp(method, "sampling/createMessage") == 0 &&
	    !s->s_cap_sampling) ||
	    (strcmp(method, "elicitation/create") == 0 &&
	    !s->s_cap_elicitation) ||
	    (strcmp(method, "roots/list") == 0 && !s->s_cap_roots))
		return -1;
	if (params != NULL && (json_parse(&j, params, strlen(params), toks,
	    512) != JSON_OK || json_type(&j, 0) != JSON_OBJECT))
		return -1;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->q_id = ++s->s_next_req;
	q->q_call = c;
	q->q_reply = reply;
	q->q_arg = arg;
	q->q_sess = s;
	ev_timer_init(&q->q_to, creq_timeout_cb,
	    MCP_CLIENT_REQ_TIMEOUT_MS / 1000.0, 0.);
	q->q_to.data = q;
	ev_timer_start(c->c_srv->sv_loop, &q->q_to);
	TAILQ_INSERT_TAIL(&s->s_creqs, q, q_entry);
	c->c_pending++;

	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "id");
	jw_int(w, q->q_id);
	jw_key(w, "method");
	jw_str(w, method);
	if (params != NULL) {
		jw_key(w, "params");
		jw_raw_line(w, params, strlen(params));
	}
	jw_obj_end(w);
	call_send(c, 0);
	return 0;
}

void
call_reply(struct mcp_session *s, int64_t id, int is_error,
    const char *json, size_t len)
{
	struct creq		*q;
	struct mcpd_call	*c;
	mcpd_reply_fn		 fn;
	void			*arg;

	TAILQ_FOREACH(q, &s->s_creqs, q_entry)
		if (q->q_id == id)
			break;
	if (q == NULL)
		return;		/* late, or not ours: ignore */
	c = q->q_call;
	fn = q->q_reply;
	arg = q->q_arg;
	creq_free(s, q);
	if (c == NULL)
		return;
	c->c_pending--;
	fn(c, is_error, json, len, arg);
}

void
creq_drop_session(struct mcp_session *s)
{
	struct creq *q;

	while ((q = TAILQ_FIRST(&s->s_creqs)) != NULL)
		creq_fail(s, q, "the session ended");
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct call_timer *t = w->data;

	t->ct_used = 0;
	if (!t->ct_call->c_done)
		t->ct_fn(t->ct_call, t->ct_arg);
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
mcpd_call_on_cancel(struct mcpd_call *c, mcpd_cancel_fn fn, void *arg)
{
	c->c_on_cancel = fn;
	c->c_cancel_arg = arg;
}

void
mcpd_call_close_stream(struct mcpd_call *c)
{
	if (!c->c_done && c->c_stream->s_ops->so_close != NULL)
		c->c_stream->s_ops->so_close(c->c_stream);
}

int
mcpd_call_cancelled(const struct mcpd_call *c)
{
	return c->c_cancelled;
}

const char *
mcpd_call_protocol(const struct mcpd_call *c)
{
	return c->c_sess != NULL ? c->c_sess->s_proto : MCP_VERSION_LATEST;
}

int
mcpd_call_client_has(const struct mcpd_call *c, const char *cap)
{
	const struct mcp_session *s = c->c_sess;

	if (s == NULL)
		return 0;
	if (strcmp(cap, "sampling") == 0)
		return s->s_cap_sampling;
	if (strcmp(cap, "elicitation") == 0)
		return s->s_cap_elicitation;
	if (strcmp(cap, "roots") == 0)
		return s->s_cap_roots;
	return 0;
}

void
call_cancel(struct mcpd_call *c, const char *reason)
{
	struct creq *q, *next;

	if (c->c_done || c->c_cancelled)
		return;
	c->c_cancelled = 1;
	c->c_in_handler = 1;	/* whatever finishes it, c stays until below */
	/* our own requests for this call are moot now: say so, fail them */
	if (c->c_sess != NULL && c->c_pending > 0) {
		for (q = TAILQ_FIRST(&c->c_sess->s_creqs); q != NULL; q = next) {
			next = TAILQ_NEXT(q, q_entry);
			if (q->q_call != c)
				continue;
			creq_cancel_notify(q, reason);
			creq_fail(c->c_sess, q, reason);
		}
	}
	log_debug("request %s: %s", c->c_id, reason);
	if (!c->c_done && c->c_on_cancel != NULL)
		c->c_on_cancel(c, c->c_cancel_arg);
	c->c_in_handler = 0;
	if (c->c_done)
		call_unlink(c);
}

/* The session closed under a running call: it finishes without one. */
void
call_session_gone(struct mcpd_call *c)
{
	struct mcp_session *s = c->c_sess;

	TAILQ_REMOVE(&s->s_calls, c, c_entry);
	s->s_ncalls--;
	c->c_sess = NULL;
	TAILQ_INSERT_TAIL(&c->c_srv->sv_orphans, c, c_entry);
}
