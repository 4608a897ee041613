/*
 * call.c -- the call context: a request that a handler (a plugin's, or the
 * catalog's) serves now or later, and how it ends: exactly once, with a
 * result or an error, written to its stream or kept by its task.  On the
 * way it may send progress and log notifications.
 *
 * A call is taken from a free list, so a tool that answers at once costs no
 * allocation.  Its questions to the client are ask.c's; what happens while
 * it is in flight (timers, cancellation) is inflight.c's.
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
static size_t		 nfree;

static void	result_json(struct mcpd_call *, const char *, size_t, int,
		    int, size_t, int);

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
	memset(&c->c_stateless, 0, sizeof(*c) -
	    offsetof(struct mcpd_call, c_stateless));
	c->c_log_level = -1;
	if (srv->sv_ctx != NULL) {
		struct mcp_ctx *x = srv->sv_ctx;

		c->c_stateless = 1;
		memcpy(c->c_owner, x->x_owner, sizeof(c->c_owner));
		c->c_caps = x->x_caps;
		c->c_log_level = x->x_log_level;
		memcpy(c->c_trace, x->x_trace, sizeof(c->c_trace));
		memcpy(c->c_name, x->x_name, sizeof(c->c_name));
		/* the answers to our questions of earlier rounds */
		c->c_answers = x->x_answers;
		c->c_answers_len = x->x_answers_len;
		x->x_answers = NULL;
		x->x_answers_len = 0;
	}
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

void
call_release(struct mcpd_call *c)
{
	unsigned i;

	free(c->c_answers);
	c->c_answers = NULL;
	if (c->c_asks != NULL) {
		jw_free(c->c_asks);
		free(c->c_asks);
		c->c_asks = NULL;
	}
	for (i = 0; i < c->c_ndue; i++)
		free(c->c_due[i].json);
	free(c->c_due);
	c->c_due = NULL;
	c->c_ndue = 0;
	free(c->c_wait);
	c->c_wait = NULL;
	if (nfree < CALL_FREE_MAX)
		freelist[nfree++] = c;
	else
		free(c);
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

void
call_unlink(struct mcpd_call *c)
{
	struct mcp_session *s = c->c_sess;

	if (s != NULL) {
		TAILQ_REMOVE(&s->s_calls, c, c_entry);
		s->s_ncalls--;
	} else
		TAILQ_REMOVE(&c->c_srv->sv_orphans, c, c_entry);
	c->c_linked = 0;
	c->c_stream->s_ops->so_unref(c->c_stream);
	call_release(c);
}

void
call_finish(struct mcpd_call *c)
{
	struct mcp_session	*s = c->c_sess;
	struct creq		*q;
	int			 async = !c->c_in_handler;

	c->c_done = 1;
	stop_timers(c);
	if (c->c_task != NULL)
		task_call_gone(c);
	if (s != NULL && c->c_pending > 0)
		TAILQ_FOREACH(q, &s->s_creqs, q_entry)
			if (q->q_call == c)
				q->q_call = NULL;
	if (async)
		call_unlink(c);
}

void
call_send(struct mcpd_call *c, int final)
{
	if (c->c_cancelled) {
		if (final)
			c->c_stream->s_ops->so_send(c->c_stream, NULL, 0, 1);
		return;
	}
	mcp_send(c->c_stream, &c->c_srv->sv_out, final);
}

/* A task keeps what its call ends with: 1 when c is a task's call. */
static int
end_in_task(struct mcpd_call *c, int is_error, const char *json, size_t len)
{
	if (c->c_task == NULL)
		return 0;
	c->c_done = 1;		/* what task_end() calls sees it */
	task_end(c, is_error, json, len);
	call_finish(c);
	return 1;
}

void
mcpd_call_result(struct mcpd_call *c, const char *json)
{
	jsmntok_t	 toks[256];
	struct json	 j;
	size_t		 meta_off = 0;
	int		 rv, has_type = 0, has_ttl = 0;

	if (c->c_done)
		return;
	/* a plugin's JSON is checked before a client sees it */
	rv = json_parse(&j, json, strlen(json), toks, 256);
	if (rv == JSON_E_TOKENS)
		rv = json_parse(&j, json, strlen(json), c->c_srv->sv_toks,
		    JSON_TOKENS_MAX);
	if (rv != JSON_OK || json_type(&j, 0) != JSON_OBJECT) {
		log_warnx("%s%sa plugin answered with invalid JSON (%s)",
		    c->c_trace[0] ? c->c_trace : "", c->c_trace[0] ? ": " : "",
		    json_strerror(rv));
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR,
		    "the tool produced an invalid result");
		return;
	}
	if (c->c_stateless) {
		int meta = json_get(&j, 0, "_meta");

		has_type = json_get(&j, 0, "resultType") != -1;
		has_ttl = json_get(&j, 0, "ttlMs") != -1;
		if (meta != -1 && json_type(&j, meta) == JSON_OBJECT)
			meta_off = (size_t)j.t[meta].start;
	}
	result_json(c, json, strlen(json), 1, has_type, meta_off, has_ttl);
}

/* the stateless era: how long a read's result may be kept, and by whom */
static const char *
read_cache(struct mcpd_call *c)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "\"ttlMs\":%u,\"cacheScope\":\"%s\"",
	    c->c_read_ttl_ms, c->c_read_public ? "public" : "private");
	return buf;
}

/*
 * Finish with a result object's text (one_line: a plugin's, checked);
 * has_type: it has a resultType; meta_off: where its _meta object starts.
 */
static void
result_json(struct mcpd_call *c, const char *json, size_t len, int one_line,
    int has_type, size_t meta_off, int has_ttl)
{
	struct jw *w = &c->c_srv->sv_out;

	if (end_in_task(c, 0, json, len))
		return;
	mcp_begin_response(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id));
	if (one_line)
		jw_raw_line(w, json, len);
	else
		jw_raw(w, json, len);
	if (c->c_stateless)
		mcp_stamp_result(c->c_srv, w, "complete", has_type,
		    meta_off ? w->mark + meta_off : 0,
		    c->c_kind == CALL_READ && !has_ttl ? read_cache(c) : NULL);
	mcp_end_response(w);
	call_send(c, 1);
	call_finish(c);
}

void
call_result_raw(struct mcpd_call *c, const char *json, size_t len)
{
	if (!c->c_done)
		result_json(c, json, len, 0, 0, 0, 0);
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
	if (end_in_task(c, 0, w->buf + w->mark, w->len - w->mark))
		return;
	if (c->c_stateless)
		mcp_stamp_result(c->c_srv, w, "complete", 0, 0, NULL);
	mcp_end_response(w);
	call_send(c, 1);
	call_finish(c);
}

void
call_error_data(struct mcpd_call *c, int code, int status,
    const char *message, const char *data)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_done)
		return;
	rpc_begin_error(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id), code,
	    message, data);
	/* a task that failed keeps the error object */
	if (end_in_task(c, 1, w->buf + w->mark, w->len - w->mark))
		return;
	mcp_end_response(w);
	if (status != 0)
		c->c_stream->s_status = status;
	call_send(c, 1);
	call_finish(c);
}

void
mcpd_call_error(struct mcpd_call *c, int code, const char *message)
{
	char data[sizeof(c->c_uri) * 2 + 16];

	/* since 2026-07-28 a resource not found is -32602, with its URI */
	if (c->c_stateless && code == MCP_RESOURCE_NOT_FOUND &&
	    c->c_kind == CALL_READ) {
		memcpy(data, "{\"uri\":", 7);
		if (mcpd_json_quote(c->c_uri, data + 7, sizeof(data) - 8) < 0)
			memcpy(data + 7, "\"\"", 3);
		strcat(data, "}");
		call_error_data(c, JSONRPC_INVALID_PARAMS, 0, message, data);
		return;
	}
	call_error_data(c, code, 0, message, NULL);
}

void
mcpd_call_progress(struct mcpd_call *c, double progress, double total,
    const char *message)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_done || c->c_token[0] == '\0')
		return;
	rpc_begin_notification(w, "notifications/progress");
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

	if (c->c_done)
		return;
	if (c->c_stateless) {
		/* only a request that asked for a level gets messages */
		if (c->c_log_level < 0 || (int)level < c->c_log_level)
			return;
	} else if (c->c_sess == NULL || (int)level < c->c_sess->s_log_level)
		return;
	rpc_begin_notification(w, "notifications/message");
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
	if (c->c_stateless)
		return MCP_VERSION_STATELESS;
	return c->c_sess != NULL ? c->c_sess->s_proto : MCP_VERSION_LATEST;
}

int
mcpd_call_client_has(const struct mcpd_call *c, const char *cap)
{
	const struct mcp_session *s = c->c_sess;

	if (c->c_stateless)
		return (c->c_caps & cap_bit(cap)) != 0;
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
