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

static void	call_error_data(struct mcpd_call *, int, int, const char *,
		    const char *);
static void	result_json(struct mcpd_call *, const char *, size_t, int,
		    int, size_t, int);
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
	memset(&c->c_stateless, 0, sizeof(*c) -
	    offsetof(struct mcpd_call, c_stateless));
	c->c_log_level = -1;
	if (srv->sv_ctx != NULL) {
		struct mcp_ctx *x = srv->sv_ctx;

		c->c_stateless = 1;
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

static void
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
	c->c_linked = 0;
	c->c_stream->s_ops->so_unref(c->c_stream);
	call_release(c);
}

/* A call that ended outside a handler: forget it. */
void
call_done_async(struct mcpd_call *c)
{
	call_unlink(c);
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
	if (c->c_task != NULL)
		task_call_gone(c);
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

/*
 * Finish with a result object's text (one_line: a plugin's, checked);
 * has_type: it has a resultType; meta_off: where its _meta object starts.
 */
static const char *
read_cache(struct mcpd_call *c)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "\"ttlMs\":%u,\"cacheScope\":\"%s\"",
	    c->c_read_ttl_ms, c->c_read_public ? "public" : "private");
	return buf;
}

static void
result_json(struct mcpd_call *c, const char *json, size_t len, int one_line,
    int has_type, size_t meta_off, int has_ttl)
{
	struct jw *w = &c->c_srv->sv_out;

	if (c->c_task != NULL) {
		c->c_done = 1;		/* what task_end() calls sees it */
		task_end(c, 0, json, len);
		call_finish(c);
		return;
	}
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
	if (c->c_task != NULL) {
		c->c_done = 1;
		task_end(c, 0, w->buf + w->mark, w->len - w->mark);
		call_finish(c);
		return;
	}
	if (c->c_stateless)
		mcp_stamp_result(c->c_srv, w, "complete", 0, 0, NULL);
	mcp_end_response(w);
	call_send(c, 1);
	call_finish(c);
}

/* Finish with an error; data: its data member's JSON, or NULL. */
static void
call_error_data(struct mcpd_call *c, int code, int status,
    const char *message, const char *data)
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
	w->mark = w->len;
	jw_obj(w);
	jw_key(w, "code");
	jw_int(w, code);
	jw_key(w, "message");
	jw_str(w, message);
	if (data != NULL) {
		jw_key(w, "data");
		jw_raw(w, data, strlen(data));
	}
	jw_obj_end(w);
	if (c->c_task != NULL) {
		/* a task that failed keeps the error object */
		c->c_done = 1;
		task_end(c, 1, w->buf + w->mark, w->len - w->mark);
		call_finish(c);
		return;
	}
	jw_obj_end(w);
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

	if (c->c_done)
		return;
	if (c->c_stateless) {
		/* only a request that asked for a level gets messages */
		if (c->c_log_level < 0 || (int)level < c->c_log_level)
			return;
	} else if (c->c_sess == NULL || (int)level < c->c_sess->s_log_level)
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
cap_bit(const char *cap)
{
	if (strcmp(cap, "sampling") == 0)
		return CAP_SAMPLING;
	if (strcmp(cap, "elicitation") == 0)
		return CAP_ELICIT;
	if (strcmp(cap, "roots") == 0)
		return CAP_ROOTS;
	if (strcmp(cap, "io.modelcontextprotocol/tasks") == 0 ||
	    strcmp(cap, "tasks") == 0)
		return CAP_TASKS;
	return 0;
}

/* the capability a request to the client needs */
static const char *
method_cap(const char *method)
{
	if (strcmp(method, "sampling/createMessage") == 0)
		return "sampling";
	if (strcmp(method, "elicitation/create") == 0)
		return "elicitation";
	if (strcmp(method, "roots/list") == 0)
		return "roots";
	return NULL;
}

/* The answer the client gave to key in an earlier round, or NULL. */
static const char *
answer_find(const struct mcpd_call *c, const char *key, size_t *len)
{
	const char	*p = c->c_answers, *end = p + c->c_answers_len;
	const char	*found = NULL, *v;

	/* later entries (this round's inputResponses) win */
	while (p != NULL && p < end) {
		v = p + strlen(p) + 1;
		if (strcmp(p, key) == 0) {
			found = v;
			*len = strlen(v);
		}
		p = v + strlen(v) + 1;
	}
	return found;
}

/*
 * The stateless era: a request to the client is an input request of this
 * round, or (when the client answered it in an earlier one) an answer
 * delivered once the handler has returned.
 */
static int
input_request(struct mcpd_call *c, const char *key, const char *method,
    const char *params, mcpd_reply_fn reply, void *arg)
{
	struct mrtr_reply	*d;
	const char		*ans, *cap;
	char			 data[128];
	size_t			 len;

	if ((cap = method_cap(method)) != NULL &&
	    !(c->c_caps & cap_bit(cap))) {
		snprintf(data, sizeof(data), "{\"requiredCapabilities\":"
		    "{\"%s\":{}}}", cap);
		call_error_data(c, MCP_MISSING_CAPABILITY, 400,
		    "Missing required client capability", data);
		return -1;
	}
	if (c->c_task != NULL)
		return task_input(c, key, method, params, reply, arg);
	if (c->c_kind == CALL_COMPLETE)
		return -1;	/* input_required is for tools, prompts, reads */
	if ((ans = answer_find(c, key, &len)) != NULL) {
		if ((d = reallocarray(c->c_due, c->c_ndue + 1,
		    sizeof(*d))) == NULL)
			return -1;
		c->c_due = d;
		d += c->c_ndue;
		if ((d->json = strndup(ans, len)) == NULL)
			return -1;
		d->len = len;
		d->fn = reply;
		d->arg = arg;
		c->c_ndue++;
		return 0;
	}
	if (c->c_nasks >= MCP_INPUTS_MAX)
		return -1;
	if (c->c_wait == NULL && (c->c_wait = calloc(MCP_INPUTS_MAX,
	    sizeof(*c->c_wait))) == NULL)
		return -1;
	c->c_wait[c->c_nasks].fn = reply;
	c->c_wait[c->c_nasks].arg = arg;
	if (c->c_asks == NULL) {
		if ((c->c_asks = calloc(1, sizeof(*c->c_asks))) == NULL)
			return -1;
		jw_init(c->c_asks);
		jw_obj(c->c_asks);
	}
	jw_key(c->c_asks, key);
	jw_obj(c->c_asks);
	jw_key(c->c_asks, "method");
	jw_str(c->c_asks, method);
	if (params != NULL) {
		jw_key(c->c_asks, "params");
		jw_raw_line(c->c_asks, params, strlen(params));
	}
	jw_obj_end(c->c_asks);
	c->c_nasks++;
	return 0;
}

/* Finish with InputRequiredResult: this round's questions, our state. */
static void
input_required(struct mcpd_call *c)
{
	static const char gone[] = "{\"code\":-32000,\"message\":\"input "
	    "required: the client answers in a retry of the request\"}";
	struct jw	*w = &c->c_srv->sv_out;
	struct jw	 st;
	unsigned	 i;

	jw_init(&st);
	/* what we know so far travels with the client, sealed */
	if (state_seal(c->c_srv, c, c->c_answers ? c->c_answers : "",
	    c->c_answers_len, &st) == -1) {
		jw_free(&st);
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR,
		    "cannot seal the request state");
		return;
	}
	mcp_begin_response(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id));
	jw_obj(w);
	jw_key(w, "resultType");
	jw_str(w, "input_required");
	if (c->c_asks != NULL) {
		jw_obj_end(c->c_asks);
		jw_key(w, "inputRequests");
		jw_raw(w, c->c_asks->buf, c->c_asks->len);
	}
	if (st.len > 0) {
		jw_key(w, "requestState");
		jw_raw(w, st.buf, st.len);
	}
	jw_obj_end(w);
	jw_free(&st);
	mcp_stamp_result(c->c_srv, w, "input_required", 1, 0, NULL);
	mcp_end_response(w);
	call_send(c, 1);
	call_finish(c);
	/* every reply is called once: this round's never will be answered */
	for (i = 0; i < c->c_nasks; i++)
		c->c_wait[i].fn(c, 1, gone, sizeof(gone) - 1,
		    c->c_wait[i].arg);
	c->c_nasks = 0;
}

void
call_settle(struct mcpd_call *c)
{
	struct mrtr_reply d;

	if (!c->c_stateless)
		return;
	while (!c->c_done && c->c_ndue > 0) {
		d = c->c_due[0];
		memmove(c->c_due, c->c_due + 1, --c->c_ndue * sizeof(d));
		d.fn(c, 0, d.json, d.len, d.arg);
		free(d.json);
	}
	if (!c->c_done && c->c_nasks > 0)
		input_required(c);
}

int
mcpd_call_request(struct mcpd_call *c, const char *method,
    const char *params, mcpd_reply_fn reply, void *arg)
{
	return mcpd_call_input(c, NULL, method, params, reply, arg);
}

int
mcpd_call_input(struct mcpd_call *c, const char *key, const char *method,
    const char *params, mcpd_reply_fn reply, void *arg)
{
	struct mcp_session	*s = c->c_sess;
	struct jw		*w = &c->c_srv->sv_out;
	struct creq		*q;
	jsmntok_t		 toks[512];
	struct json		 j;

	char			 auto_key[32];

	if (c->c_done || c->c_cancelled)
		return -1;
	c->c_nreq++;
	if (c->c_stateless) {
		if (key == NULL) {
			snprintf(auto_key, sizeof(auto_key), "input-%u",
			    c->c_nreq);
			key = auto_key;
		}
		if (params != NULL && (json_parse(&j, params, strlen(params),
		    toks, 512) != JSON_OK || json_type(&j, 0) != JSON_OBJECT))
			return -1;
		return input_request(c, key, method, params, reply, arg);
	}
	if (s == NULL)
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
