/*
 * ask.c -- the questions a call asks the client (sampling, elicitation,
 * roots) and their answers, in both eras.
 *
 * Session era: a server-to-client request on the call's stream, correlated
 * by a per-session integer id, that times out.  Stateless era: there is no
 * way back to the client mid-request, so the questions of a round are
 * gathered and the request ends with an InputRequiredResult carrying them
 * and our sealed state (state.c); the client retries with its answers
 * (inputResponses), which are delivered to the handler as replies.  A
 * task's call asks through its task instead (taskstore.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

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
	rpc_begin_notification(w, "notifications/cancelled");
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
	const char	*p = c->c_answers, *end;
	const char	*found = NULL, *v;

	if (p == NULL)
		return NULL;		/* no answer yet (NULL + 0 is UB) */
	end = p + c->c_answers_len;

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
	rpc_write_request(c->c_asks, method, params);
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

	rpc_begin_request(w, q->q_id, method, params);
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
creq_cancel_call(struct mcpd_call *c, const char *reason)
{
	struct creq *q, *next;

	if (c->c_sess == NULL || c->c_pending == 0)
		return;
	for (q = TAILQ_FIRST(&c->c_sess->s_creqs); q != NULL; q = next) {
		next = TAILQ_NEXT(q, q_entry);
		if (q->q_call != c)
			continue;
		creq_cancel_notify(q, reason);
		creq_fail(c->c_sess, q, reason);
	}
}

void
creq_drop_session(struct mcp_session *s)
{
	struct creq *q;

	while ((q = TAILQ_FIRST(&s->s_creqs)) != NULL)
		creq_fail(s, q, "the session ended");
}

/* the sealed answers of earlier rounds, then this round's (which win) */
int
ask_gather_answers(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_ctx *x, enum call_kind kind)
{
	struct mcpd_call	 fake;
	char			*buf = NULL, *nb, key[128], msg[200];
	size_t			 len = 0, n, vlen, klen;
	const char		*why, *text;
	int			 rs, ir, k, v, end;

	rs = rpc_param(m, "requestState", JSON_NONE);
	ir = rpc_param(m, "inputResponses", JSON_NONE);
	if (rs == -1 && ir == -1)
		return 0;
	if (rs != -1) {
		if (json_type(&m->m_j, rs) != JSON_STRING) {
			rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
			    "Invalid params: requestState must be a string",
			    NULL);
			return -1;
		}
		memset(&fake, 0, sizeof(fake));
		fake.c_kind = kind;
		memcpy(fake.c_name, x->x_name, sizeof(fake.c_name));
		text = json_raw(&m->m_j, rs, &n);
		if (state_open(srv, &fake, text, n, &buf, &len, &why) == -1) {
			snprintf(msg, sizeof(msg), "Invalid params: %s", why);
			log_info("%s%srejected a requestState: %s",
			    x->x_trace[0] ? x->x_trace : "",
			    x->x_trace[0] ? ": " : "", why);
			rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS, msg,
			    NULL);
			return -1;
		}
	}
	if (ir != -1) {
		if (json_type(&m->m_j, ir) != JSON_OBJECT) {
			free(buf);
			rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
			    "Invalid params: inputResponses must be an object",
			    NULL);
			return -1;
		}
		end = json_skip(&m->m_j, ir);
		for (k = ir + 1; k < end; k = json_skip(&m->m_j, v)) {
			v = k + 1;
			if (json_strcpy(&m->m_j, k, key, sizeof(key)) == -1)
				continue;	/* not a key of ours */
			if (json_type(&m->m_j, v) != JSON_OBJECT) {
				free(buf);
				snprintf(msg, sizeof(msg), "Invalid params: "
				    "inputResponses.%.64s must be an object",
				    key);
				rpc_error(srv, m, st, 400,
				    JSONRPC_INVALID_PARAMS, msg, NULL);
				return -1;
			}
			text = json_text(&m->m_j, v, &vlen);
			klen = strlen(key);
			if (len + klen + vlen + 2 > MCP_STATE_MAX_BYTES) {
				free(buf);
				rpc_error(srv, m, st, 400,
				    JSONRPC_INVALID_PARAMS, "Invalid params: "
				    "inputResponses too large", NULL);
				return -1;
			}
			if ((nb = realloc(buf, len + klen + vlen + 2)) ==
			    NULL) {
				free(buf);
				rpc_error(srv, m, st, 500,
				    JSONRPC_INTERNAL_ERROR, "out of memory", NULL);
				return -1;
			}
			buf = nb;
			memcpy(buf + len, key, klen + 1);
			len += klen + 1;
			/* one line: raw newlines only between tokens */
			memcpy(buf + len, text, vlen);
			for (n = 0; n < vlen; n++)
				if (buf[len + n] == '\n' || buf[len + n] == '\r')
					buf[len + n] = ' ';
			buf[len + vlen] = '\0';
			len += vlen + 1;
		}
	}
	x->x_answers = buf;
	x->x_answers_len = len;
	return 0;
}
