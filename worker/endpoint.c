/*
 * endpoint.c -- the MCP endpoint over HTTP (Streamable HTTP): POST, GET and
 * DELETE of both protocol eras, and the stream the engine answers on.
 *
 * The engine says who serves a request (mcp_route()): when another worker
 * keeps what it names, the connection is handed over (peer.c) with the
 * request as read here; else the request is served here, and what the
 * engine sends comes back through stream_send().  An answer that is the
 * request's only message is JSON (Content-Length); a session-era answer
 * preceded by a notification, or any answer when session-responses is
 * sse, is an SSE stream whose events are kept in the session's replay ring
 * so that a client can resume it with GET and Last-Event-ID (SEP-1699).
 * The stateless era (2026-07-28) resumes nothing: its streams carry no
 * event ids, and a client closing one cancels the request.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "registry.h"
#include "util.h"

static void	stream_send(struct mcp_stream *, const char *, size_t, int);
static void	stream_ref(struct mcp_stream *);
static void	stream_unref(struct mcp_stream *);
static void	stream_close(struct mcp_stream *);

const struct mcp_stream_ops conn_stream_ops = {
	stream_send, stream_ref, stream_unref, stream_close
};

/* The session of a request, looked up again: it may have ended. */
static struct mcp_session *
req_session(struct hreq *r)
{
	int owner;

	if (r->r_head.rh_sid[0] == '\0')
		return NULL;
	return mcp_session_find(worker->w_mcp, r->r_head.rh_sid, &owner);
}

/* The end of a resumed stream that followed a dead connection's call. */
static void
resumed_end(struct conn *g)
{
	g->c_resumes = NULL;
	sse_end(g);
	g->c_busy = 0;
	request_done(g);
}

/* The next event of this request's stream: sent, and kept for replay. */
static void
sse_event(struct conn *c, const char *json, size_t len, int final)
{
	struct hreq		*r = c->c_req;
	struct mcp_session	*s;
	uint64_t		 seq = ++r->r_event;

	if (r->r_stateless) {
		if (!c->c_dead)
			sse_write_plain(c, json, len);
		return;
	}
	/*
	 * Copied to the registry unless written whole to a live client now
	 * (the kernel delivers that even if we die): see sse_share()
	 */
	if ((s = req_session(r)) != NULL)
		mcp_session_record(s, r->r_stream, seq, json, len, final,
		    r->r_shared || c->c_dead || r->r_detached ||
		    c->c_outlen > c->c_outoff);
	if (len == 0) {
		/* the mark of a stream that ended without an answer */
		if (c->c_resumer != NULL && final) {
			struct conn *g = c->c_resumer;

			c->c_resumer = NULL;
			resumed_end(g);
		}
		return;
	}
	if (!c->c_dead && !r->r_detached)
		sse_write(c, r->r_stream, seq, json, len);
	else if (c->c_resumer != NULL) {
		struct conn *g = c->c_resumer;

		sse_write(g, r->r_stream, seq, json, len);
		if (final) {
			c->c_resumer = NULL;
			resumed_end(g);
		}
	}
}

static void
stream_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
	struct conn	*c = st->s_owner;
	struct hreq	*r = c->c_req;
	int		 status;

	if (r == NULL)
		return;
	if (final && json != NULL)
		r->r_rpc_code = rpc_code(json, len);
	if (c->c_dead || r->r_detached) {
		/* kept for a client that resumes with Last-Event-ID */
		if (r->r_sse && json != NULL)
			sse_event(c, json, len, final);
		else if (r->r_sse && final)
			sse_event(c, "", 0, 1);		/* ended quietly */
		return;
	}
	if (r->r_batch) {
		/* each answer is an event; the stream ends with the last */
		if (json != NULL)
			sse_event(c, json, len, 0);
		if (!final || --r->r_batch_pending > 0 || r->r_batch_open)
			return;
		sse_end(c);
		if (c->c_indispatch)
			return;
		request_done(c);
		return;
	}
	if (json != NULL) {
		if (r->r_headers_sent && !r->r_sse)
			return;		/* answered already */
		/*
		 * JSON when it comes alone; always for an error that has its
		 * own HTTP status (a refusal is no stream)
		 */
		if (!r->r_headers_sent && final && (st->s_status != 0 ||
		    !worker->w_http.h_sse_always || r->r_stateless)) {
			status = st->s_status ? st->s_status : 200;
			st->s_status = 0;
			reply(c, status, "application/json", NULL, json, len);
			r->r_headers_sent = 1;
		} else {
			if (!r->r_headers_sent)
				sse_headers(c);
			sse_event(c, json, len, final);
		}
	} else if (final) {
		if (!r->r_headers_sent)
			sse_headers(c);	/* cancelled: an empty stream */
		if (r->r_sse && !r->r_stateless)
			sse_event(c, "", 0, 1);	/* ended quietly */
	}
	if (!final)
		return;
	if (r->r_sse)
		sse_end(c);
	if (c->c_indispatch)
		return;			/* dispatched() finishes it */
	request_done(c);
}

/*
 * The engine ends a stream early: a standalone GET stream of a session
 * that ended, or (SEP-1699) a POST stream whose client will resume it.
 */
static void
stream_close(struct mcp_stream *st)
{
	struct conn		*c = st->s_owner;
	struct hreq		*r = c->c_req;
	struct mcp_session	*s;

	if (c->c_dead || r == NULL)
		return;
	if (r->r_get) {
		if (r->r_sess != NULL)
			mcp_session_detach(r->r_sess, st);
		r->r_sess = NULL;
		sse_end(c);
		c->c_busy = 0;
		c->c_close = 1;
		request_done(c);
		return;
	}
	if (c->c_indispatch) {
		/* dispatched() closes it once dispatch has returned */
		r->r_close_stream = 1;
		return;
	}
	if (!r->r_sse || !c->c_busy || (s = req_session(r)) == NULL ||
	    strcmp(mcp_session_protocol(s), "2025-11-25") < 0)
		return;		/* no priming event: nothing to resume from */
	/*
	 * End the response cleanly and close the connection once it is out;
	 * the call goes on, its events kept for the client's GET.
	 */
	sse_end(c);
	r->r_detached = 1;
	sse_share(c);
	c->c_close = 1;
	c->c_busy = 0;
	ev_timer_stop(worker->w_loop, &c->c_to);
	conn_flush(c);
}

static void
stream_ref(struct mcp_stream *st)
{
	struct conn *c = st->s_owner;

	c->c_refs++;
}

static void
stream_unref(struct mcp_stream *st)
{
	struct conn *c = st->s_owner;

	if (--c->c_refs > 0)
		return;
	if (!c->c_dead) {
		/* a quitting worker's: now it may go to our successor */
		if (worker->w_quitting)
			conn_flush(c);
		return;
	}
	if (c->c_resumer != NULL) {
		/* the call ended without a last event: end the resumed one */
		resumed_end(c->c_resumer);
		c->c_resumer = NULL;
	}
	conn_release(c);
}

/*
 * What the engine's dispatch left to do: nothing to send (202), nothing
 * more (the answer went), or a request in flight.
 */
static void
dispatched(struct conn *c, enum mcp_disp d)
{
	struct hreq *r = c->c_req;

	switch (d) {
	case MCP_ACCEPTED:
		reply(c, 202, NULL, NULL, NULL, 0);
		c->c_busy = 0;
		break;
	case MCP_DONE:
		c->c_busy = 0;
		break;
	case MCP_ASYNC:
		pending_take(r);
		if (r->r_stateless) {
			/*
			 * No headers yet: an answer that comes alone later is
			 * JSON; the first notification opens an SSE stream.
			 * Read on: the client closing the connection cancels
			 * the call.
			 */
			ev_io_start(worker->w_loop, &c->c_rd);
			conn_arm(c);
			break;
		}
		/* stream_send(final) ends it; until then read nothing */
		if (!r->r_headers_sent)
			sse_headers(c);
		/* it outlives its dispatch: resumable after our death too */
		sse_share(c);
		conn_arm(c);
		if (r->r_close_stream)
			stream_close(&c->c_stream);
		break;
	}
}

/* Another worker keeps what the request names: it goes there. */
static void
handoff_to(struct conn *c, const struct mcp_route *rt)
{
	c->c_handoff = rt->rt_owner + 1;
	c->c_handoff_task = rt->rt_task;
}

/*
 * A session of our index we do not know may be one our predecessor (a
 * reload's older generation, draining) made after we adopted the index's
 * records, whose record is still on its way through the agent: the
 * request goes to the predecessor, which has it or answers 404 itself;
 * and so does a tasks/ request for a task of our index that is not here
 * (a task the predecessor started is its own to finish).  Always to an
 * older process: no request goes round in circles.
 */
static int
handoff_back(struct conn *c, const struct mcp_route *rt)
{
	int owner;

	if (!peer_predecessor())
		return 0;
	if (rt->rt_task_missing)	/* a task it started is its own */
		owner = (int)worker->w_child->c_index;
	else if (rt->rt_verdict != MCP_ROUTE_NO_SESSION || rt->rt_sid == NULL ||
	    mcp_session_find(worker->w_mcp, rt->rt_sid, &owner) != NULL ||
	    owner != (int)worker->w_child->c_index)
		return 0;
	c->c_handoff = owner + 1;
	c->c_handoff_task = rt->rt_task_missing;
	c->c_handoff_back = 1;
	return 1;
}

/* A refusal of the route (no session, ...): its error, as JSON. */
static void
route_refused(struct conn *c, const struct mcp_msg *m,
    const struct mcp_route *rt)
{
	int status = mcp_route_error(worker->w_mcp, m, rt);

	reply_out(c, status, status == 503 ? "Retry-After: 1\r\n" : NULL);
}

/* The request's route, from its headers. */
static void
route_of(struct conn *c, const struct mcp_msg *m, struct mcp_route *rt)
{
	struct rhead *h = &c->c_req->r_head;

	memset(rt, 0, sizeof(*rt));
	rt->rt_version = h->rh_proto[0] != '\0' ? h->rh_proto : NULL;
	rt->rt_sid = h->rh_sid[0] != '\0' ? h->rh_sid : NULL;
	rt->rt_by_header = 1;
	rt->rt_principal = c->c_req->r_principal;
	/* scopes count where tokens are checked: not without auth */
	rt->rt_scopes = c->c_auth >= 0 ? c->c_req->r_scopes : NULL;
	(void)mcp_route(worker->w_mcp, m, rt);
}

/* What an audited request names: params.name, or params.uri. */
static void
audit_name(struct hreq *r, const struct mcp_msg *m)
{
	int v;

	r->r_audit_name[0] = '\0';
	if (m->m_params < 0 || (r->r_mx != MX_TOOLS_CALL &&
	    r->r_mx != MX_PROMPTS_GET && r->r_mx != MX_RESOURCES_READ))
		return;
	v = json_get(&m->m_j, m->m_params, r->r_mx == MX_RESOURCES_READ ?
	    "uri" : "name");
	/* too long, not a string, a NUL: "-" */
	if (v < 0 || json_strcpy(&m->m_j, v, r->r_audit_name,
	    sizeof(r->r_audit_name)) == -1)
		r->r_audit_name[0] = '\0';
}

/*
 * Step-up for a batch: one message that needs a scope the token lacks
 * refuses the whole POST, before anything of it runs or is sent; that
 * message is the one audited.  1 when it was answered 403.
 */
static int
batch_scope_refused(struct conn *c, const char *body, const int *start,
    const int *len, int n)
{
	struct hreq		*r = c->c_req;
	struct mcp_server	*srv = worker->w_mcp;
	struct mcp_msg		 m;
	const char		*need;
	int			 i;

	if (c->c_auth < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (mcp_msg_parse(srv, &m, body + start[i], (size_t)len[i]) ==
		    -1 || (need = mcp_scope_lacking(srv, &m, r->r_scopes)) ==
		    NULL)
			continue;
		r->r_mx = (int)mx_method_of(m.m_method);
		audit_name(r, &m);
		auth_insufficient_scope(c, need);
		return 1;
	}
	return 0;
}

/*
 * A JSON-RPC batch: only sessions that negotiated 2025-03-26 may send one
 * (later revisions removed them).  Every answer goes out as an event of one
 * SSE stream, which ends with the last; a batch of notifications gets 202.
 */
static void
serve_batch(struct conn *c, struct mcp_msg *bm)
{
	struct hreq		*r = c->c_req;
	struct mcp_server	*srv = worker->w_mcp;
	struct jw		*w = mcp_server_out(srv);
	struct mcp_msg		 m;
	int			 start[BATCH_MAX], len[BATCH_MAX];
	int			 n, i, k;

	n = bm->m_j.t[0].size;
	if (strcmp(mcp_session_protocol(r->r_sess), "2025-03-26") != 0) {
		reply_error(c, 400, JSONRPC_INVALID_REQUEST,
		    "Bad Request: batches are accepted only in sessions of "
		    "protocol 2025-03-26", NULL);
		return;
	}
	if (n == 0 || n > BATCH_MAX) {
		reply_error(c, 400, JSONRPC_INVALID_REQUEST,
		    n == 0 ? "Invalid Request: an empty batch" :
		    "Invalid Request: more than 100 messages in a batch",
		    NULL);
		return;
	}
	/* the tokens are reused by every parse: note the elements first */
	for (i = 0, k = 1; i < n; i++, k = json_skip(&bm->m_j, k)) {
		start[i] = bm->m_j.t[k].start;
		len[i] = bm->m_j.t[k].end - bm->m_j.t[k].start;
	}
	if (batch_scope_refused(c, r->r_body, start, len, n))
		return;
	r->r_batch = 1;
	r->r_batch_open = 1;
	r->r_batch_pending = 0;
	c->c_busy = 1;
	for (i = 0; i < n; i++) {
		if (mcp_msg_parse(srv, &m, r->r_body + start[i], len[i]) ==
		    -1 || m.m_kind == MCP_BATCH) {
			if (m.m_kind == MCP_BATCH)
				mcp_write_error(srv, NULL,
				    JSONRPC_INVALID_REQUEST,
				    "Invalid Request: a batch in a batch");
			if (!r->r_headers_sent)
				sse_headers(c);
			sse_event(c, w->buf, w->len, 0);
			continue;
		}
		if (m.m_kind == MCP_REQUEST) {
			if (!r->r_headers_sent)
				sse_headers(c);
			r->r_batch_pending++;
		}
		c->c_indispatch = 1;
		mcp_dispatch(srv, &r->r_sess, &m, &c->c_stream);
		c->c_indispatch = 0;
	}
	r->r_batch_open = 0;
	if (!r->r_headers_sent) {
		reply(c, 202, NULL, NULL, NULL, 0);
		c->c_busy = 0;
	} else if (r->r_batch_pending == 0) {
		sse_end(c);
		c->c_busy = 0;
	}
}

static void
serve_post(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct rhead		*h = &r->r_head;
	struct mcp_server	*srv = worker->w_mcp;
	struct mcp_headers	 mh;
	struct mcp_route	 rt;
	struct mcp_msg		 m;
	enum mcp_disp		 d;

	if (!head_list_has(h->rh_accept, "application/json") ||
	    !head_list_has(h->rh_accept, "text/event-stream")) {
		reply_error(c, 406, MCP_SERVER_ERROR,
		    "Not Acceptable: Client must accept both application/json "
		    "and text/event-stream", NULL);
		return;
	}
	if (!head_list_has(h->rh_ctype, "application/json")) {
		reply_error(c, 415, MCP_SERVER_ERROR, "Unsupported Media "
		    "Type: Content-Type must be application/json", NULL);
		return;
	}
	if (mcp_msg_parse(srv, &m, r->r_body ? r->r_body : "",
	    r->r_bodylen) == -1) {
		reply_out(c, 400, NULL);
		return;
	}
	r->r_mx = m.m_kind == MCP_REQUEST ? (int)mx_method_of(m.m_method) :
	    m.m_kind == MCP_BATCH ? MX_OTHER : MX_NOTIFICATION;
	audit_name(r, &m);
	if (admit_request(c, &m) == -1)
		return;
	if (m.m_kind == MCP_REQUEST) {
		const char	*id;
		size_t		 n;

		/* for the head of its stream, and an error before it */
		if ((id = mcp_msg_id(&m, &n)) != NULL && n <= sizeof(r->r_rpcid)) {
			memcpy(r->r_rpcid, id, n);
			r->r_rpcidlen = n;
		}
	}
	switch (route_of(c, &m, &rt), rt.rt_verdict) {
	case MCP_ROUTE_PEER:
		handoff_to(c, &rt);
		return;
	case MCP_ROUTE_SERVE:
		if (rt.rt_task_missing && (handoff_back(c, &rt) ||
		    takeover_task(c, &rt)))
			return;
		break;
	case MCP_ROUTE_SCOPE:
		auth_insufficient_scope(c, rt.rt_need);
		return;
	default:
		if (!handoff_back(c, &rt) && !takeover_ask(c, &rt))
			route_refused(c, &m, &rt);
		return;
	}
	if (rt.rt_new_session && admit_session(c, &m) == -1)
		return;
	r->r_sess = rt.rt_sess;
	if (rt.rt_era == MCP_ERA_STATELESS) {
		/* Mcp-Session-Id and Last-Event-ID mean nothing here */
		r->r_stateless = 1;
		h->rh_sid[0] = h->rh_lastevent[0] = '\0';
	} else if (m.m_kind == MCP_BATCH) {
		serve_batch(c, &m);
		return;
	}
	head_mcp_headers(h, &mh);
	c->c_busy = 1;
	c->c_indispatch = 1;
	d = mcp_serve(srv, &rt, &r->r_sess, &m, &c->c_stream, &mh);
	c->c_indispatch = 0;
	dispatched(c, d);
}

static void
replay_cb(void *arg, uint64_t seq, const char *data, size_t len, int final)
{
	struct conn *c = arg;

	sse_write(c, c->c_req->r_stream, seq, data, len);
	c->c_req->r_event = seq;
}

/* The connection whose request still feeds stream: closed or detached. */
static struct conn *
stream_owner(uint64_t stream, const char *sid)
{
	struct conn	*d;
	size_t		 i;

	for (d = deadlist; d != NULL; d = d->c_next_dead)
		if (d->c_req != NULL && d->c_req->r_stream == stream &&
		    strcmp(d->c_req->r_head.rh_sid, sid) == 0 &&
		    d->c_resumer == NULL)
			return d;
	for (i = 0; i < nconns; i++) {
		d = conns[i];
		if (d->c_req != NULL && d->c_req->r_detached &&
		    d->c_req->r_stream == stream &&
		    strcmp(d->c_req->r_head.rh_sid, sid) == 0 &&
		    d->c_resumer == NULL)
			return d;
	}
	return NULL;
}

/*
 * A resumed stream whose request is not in flight here and whose answer
 * is not in the ring, although its head is (so nothing of it was
 * dropped): the request died with the process that served it (a
 * predecessor whose session we adopted), or its answer was too big to
 * keep.  The client gets an error for it, as the stream's last event,
 * rather than a stream that ends without one (which it would resume
 * again and again).
 */
static void
resume_lost(struct conn *c, const char *id, size_t idlen)
{
	struct hreq	*r = c->c_req;
	char		 buf[RPCID_MAX_BYTES + 256];
	int		 n;
	uint64_t	 seq = ++r->r_event;

	n = snprintf(buf, sizeof(buf), "{\"jsonrpc\":\"2.0\",\"id\":%.*s,"
	    "\"error\":{\"code\":%d,\"message\":\"The answer to this "
	    "request is lost: the process serving it died, or the answer "
	    "was too big to keep for resumption\"}}", (int)idlen, id,
	    JSONRPC_INTERNAL_ERROR);
	mcp_session_record(r->r_sess, r->r_stream, seq, buf, (size_t)n, 1, 0);
	sse_write(c, r->r_stream, seq, buf, (size_t)n);
}

/*
 * GET with Last-Event-ID: replay what the stream sent after that event
 * and, when its request is still in flight, follow it to the end; the
 * session's standalone stream goes on open (it was cut: by its
 * worker's death, a proxy, the network).
 */
static void
resume(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct conn		*d;
	const char		*head;
	size_t			 hlen;
	unsigned		 w;
	unsigned long long	 stream, seq;
	char			 tail;

	if (sscanf(r->r_head.rh_lastevent, "%u-%llu-%llu%c", &w, &stream,
	    &seq, &tail) != 3 || w != worker->w_child->c_index) {
		reply_error(c, 400, MCP_SERVER_ERROR,
		    "Bad Request: unknown Last-Event-ID", NULL);
		return;
	}
	sse_headers_plain(c, NULL);
	r->r_stream = stream;
	r->r_event = seq;
	if (stream != 0 && stream == mcp_session_get_of(r->r_sess)) {
		/*
		 * The standalone stream: what it missed, then on.  The
		 * client says the one it had is gone: one we still hold
		 * (its connection not yet seen closed) is ended.
		 */
		mcp_session_take_get(r->r_sess, &c->c_stream);
		(void)mcp_session_replay(r->r_sess, stream, seq, replay_cb, c);
		r->r_get = 1;
		c->c_busy = 1;
		conn_arm(c);
		return;
	}
	if (mcp_session_replay(r->r_sess, stream, seq, replay_cb, c)) {
		sse_end(c);
		return;		/* the answer was among them */
	}
	if ((d = stream_owner(stream, r->r_head.rh_sid)) != NULL) {
		d->c_resumer = c;
		c->c_resumes = d;
		c->c_busy = 1;
		conn_arm(c);
		return;
	}
	if ((head = mcp_session_stream_head(r->r_sess, stream, &hlen)) !=
	    NULL && hlen > 0)
		resume_lost(c, head, hlen);
	sse_end(c);		/* nothing more will come on it */
}

/* The session a GET or DELETE names: NULL after answering or handing over */
static struct mcp_session *
session_of(struct conn *c)
{
	struct mcp_route rt;

	switch (route_of(c, NULL, &rt), rt.rt_verdict) {
	case MCP_ROUTE_SERVE:
		return rt.rt_sess;
	case MCP_ROUTE_PEER:
		handoff_to(c, &rt);
		return NULL;
	default:
		if (!handoff_back(c, &rt) && !takeover_ask(c, &rt))
			route_refused(c, NULL, &rt);
		return NULL;
	}
}

void
endpoint_no_session(struct conn *c)
{
	struct mcp_route rt;

	memset(&rt, 0, sizeof(rt));
	rt.rt_verdict = MCP_ROUTE_NO_SESSION;
	route_refused(c, NULL, &rt);
}

static void
serve_get(struct conn *c)
{
	struct hreq *r = c->c_req;

	if (!head_list_has(r->r_head.rh_accept, "text/event-stream")) {
		reply_error(c, 406, MCP_SERVER_ERROR,
		    "Not Acceptable: Client must accept text/event-stream",
		    NULL);
		return;
	}
	if ((r->r_sess = session_of(c)) == NULL)
		return;
	if (r->r_head.rh_lastevent[0] != '\0') {
		resume(c);
		return;
	}
	if (mcp_session_attach(r->r_sess, &c->c_stream) == -1) {
		r->r_sess = NULL;
		reply_error(c, 409, MCP_SERVER_ERROR,
		    "Conflict: Only one SSE stream is allowed per session",
		    NULL);
		return;
	}
	r->r_get = 1;
	c->c_busy = 1;
	sse_headers(c);
	mcp_session_set_get(r->r_sess, r->r_stream);
	conn_arm(c);
}

static void
serve_delete(struct conn *c)
{
	struct hreq *r = c->c_req;

	if ((r->r_sess = session_of(c)) == NULL)
		return;
	mcp_session_close(worker->w_mcp, r->r_sess);
	r->r_sess = NULL;
	reply(c, 200, NULL, NULL, NULL, 0);
}

void
endpoint_serve(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct rhead		*h = &r->r_head;
	const struct conf	*conf = worker->w_child->c_conf;

	/* DNS rebinding: a foreign Host or Origin never reaches MCP */
	if (!conf_host_allowed(conf, head_host(h), strlen(head_host(h)))) {
		reply_error(c, 403, MCP_SERVER_ERROR,
		    "Forbidden: Invalid Host header", NULL);
		return;
	}
	if (head_has(h, HH_ORIGIN) && !conf_origin_allowed(conf,
	    h->rh_origin, strlen(h->rh_origin))) {
		reply_error(c, 403, MCP_SERVER_ERROR,
		    "Forbidden: Invalid Origin header", NULL);
		return;
	}
	if (auth_check(c) != 0)
		return;		/* answered, or waiting for the agent */
	endpoint_authed(c);
}

/* The request, its token accepted (or none needed). */
void
endpoint_authed(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct mcp_route	 rt;
	int			 method = c->c_parser.method;

	if (r->r_too_big) {
		c->c_close = 1;
		reply_error(c, 413, MCP_SERVER_ERROR, "Payload Too Large",
		    NULL);
		return;
	}
	switch (method) {
	case HTTP_POST:
		serve_post(c);
		return;
	case HTTP_GET:
	case HTTP_DELETE:
		/* no GET stream and no session to end in 2026-07-28 */
		if (route_of(c, NULL, &rt), rt.rt_era == MCP_ERA_STATELESS) {
			reply_error(c, 405, MCP_SERVER_ERROR,
			    "Method Not Allowed", "Allow: POST\r\n");
			return;
		}
		if (method == HTTP_GET)
			serve_get(c);
		else
			serve_delete(c);
		return;
	default:
		reply_error(c, 405, MCP_SERVER_ERROR, "Method Not Allowed",
		    "Allow: GET, POST, DELETE\r\n");
		return;
	}
}

/*
 * A request for what a worker kept that went away lately (its successor
 * starting: peer_away) waits for it, parked, at most registry-handoff-wait
 * and registry-handoff-queue of them a worker; then it is handed over when
 * the successor's channel comes (endpoint_peer_back), or answered 503.
 * The connection is held (c_refs) and busy meanwhile.
 */
#define HANDOFF_PARK_TICK_MS	100	/* how often the deadlines are seen */

struct parked {
	TAILQ_ENTRY(parked)	 p_entry;
	struct conn		*p_conn;
	uint32_t		 p_owner;
	ev_tstamp		 p_until;
};
static TAILQ_HEAD(, parked)	parked = TAILQ_HEAD_INITIALIZER(parked);
static unsigned			nparked;
static ev_timer			park_to;

static void	park_cb(struct ev_loop *, ev_timer *, int);

static int
park(struct conn *c, uint32_t owner)
{
	struct parked		*p;
	const struct conf	*conf = worker->w_child->c_conf;

	if (conf->c_handoff_wait_ms == 0 ||
	    nparked >= conf->c_handoff_queue ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->p_conn = c;
	p->p_owner = owner;
	p->p_until = ev_now(worker->w_loop) +
	    conf->c_handoff_wait_ms / 1000.0;
	TAILQ_INSERT_TAIL(&parked, p, p_entry);
	nparked++;
	c->c_refs++;
	c->c_busy = 1;
	if (!ev_is_active(&park_to)) {
		ev_timer_init(&park_to, park_cb, HANDOFF_PARK_TICK_MS / 1000.0,
		    HANDOFF_PARK_TICK_MS / 1000.0);
		ev_timer_start(worker->w_loop, &park_to);
	}
	log_debug("fd %d: worker %u is away: the request waits for its "
	    "successor", c->c_fd, owner);
	return 0;
}

/* Let a parked request go: handed over (back: 1), or answered. */
static void
unpark(struct parked *p, int back)
{
	struct conn *c = p->p_conn;

	TAILQ_REMOVE(&parked, p, p_entry);
	nparked--;
	free(p);
	c->c_busy = 0;
	if (--c->c_refs == 0 && c->c_dead) {
		conn_release(c);
		return;
	}
	if (c->c_dead)
		return;
	endpoint_handoff_now(c, back);
}

static void
park_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct parked	*p, *next;
	ev_tstamp	 now = ev_now(loop);

	for (p = TAILQ_FIRST(&parked); p != NULL; p = next) {
		next = TAILQ_NEXT(p, p_entry);
		if (p->p_until <= now || p->p_conn->c_dead)
			unpark(p, 0);
	}
	if (nparked == 0)
		ev_timer_stop(loop, t);
}

void
endpoint_peer_back(uint32_t index)
{
	struct parked *p, *next;

	for (p = TAILQ_FIRST(&parked); p != NULL; p = next) {
		next = TAILQ_NEXT(p, p_entry);
		if (p->p_owner == index)
			unpark(p, 1);
	}
}

/*
 * The worker of index owner is away: its successor is expected.  (A
 * worker a reload did away with is not coming back: 404.)
 */
static int
owner_away(uint32_t owner)
{
	return (worker->w_child->c_nworkers == 0 ||
	    owner < worker->w_child->c_nworkers) && peer_away(owner);
}

/* Give the connection and its request to the worker its route named. */
void
endpoint_handoff(struct conn *c)
{
	endpoint_handoff_now(c, 1);
}

/* (may: park it when its keeper is away) */
void
endpoint_handoff_now(struct conn *c, int may)
{
	struct hreq		*r = c->c_req;
	struct handoff		 h;
	struct mcp_route	 rt;
	uint32_t		 owner = c->c_handoff - 1;
	int			 fd, back;

	memset(&h, 0, sizeof(h));
	h.h_kind = c->c_kind;
	h.h_auth = c->c_auth;
	h.h_method = c->c_parser.method;
	h.h_major = c->c_parser.http_major;
	h.h_minor = c->c_parser.http_minor;
	h.h_keepalive = http_should_keep_alive(&c->c_parser);
	h.h_admitted = 1;
	h.h_head = &r->r_head;
	h.h_body = r->r_body != NULL ? r->r_body : "";
	h.h_bodylen = r->r_bodylen;
	h.h_pend = c->c_pend;
	h.h_pendlen = c->c_pendlen;
	memset(&rt, 0, sizeof(rt));
	rt.rt_task = c->c_handoff_task;
	rt.rt_owner = owner;
	rt.rt_away = !c->c_handoff_back && owner_away(owner);
	if (may && rt.rt_away && c->c_out == NULL && park(c, owner) == 0)
		return;		/* c_handoff kept: tried again */
	back = c->c_handoff_back;
	c->c_handoff = 0;
	c->c_handoff_task = 0;
	c->c_handoff_back = 0;
	if (c->c_out != NULL || (fd = dup(c->c_fd)) == -1 ||
	    (back ? peer_handoff_back(fd, &h) :
	    peer_handoff(owner, fd, &h)) == -1) {
		/*
		 * The owner died this moment (our write found it out: its
		 * channel is broken, peer_away): its successor is coming, as
		 * above -- not a 404 for a session that lives on in the
		 * agent.  Else the owner is gone, and what it kept with it;
		 * or it is there and its channel full: 503.
		 */
		if (!back && !rt.rt_away && (rt.rt_away = owner_away(owner)) &&
		    may && c->c_out == NULL) {
			c->c_handoff = owner + 1;
			c->c_handoff_task = rt.rt_task;
			if (park(c, owner) == 0)
				return;
			c->c_handoff = 0;
			c->c_handoff_task = 0;
		}
		if (c->c_out == NULL && !back && !rt.rt_away &&
		    peer_there(owner))
			reply_error(c, 503, MCP_SERVER_ERROR, "Service "
			    "Unavailable: the worker that keeps it is busy; "
			    "try again", "Retry-After: 1\r\n");
		else {
			rt.rt_verdict = MCP_ROUTE_GONE;
			route_refused(c, NULL, &rt);
		}
		c->c_busy = 0;
		request_done(c);
		return;
	}
	log_debug("fd %d: %s of worker %u: handed over%s", c->c_fd,
	    rt.rt_task ? "task" : "session", owner,
	    back ? " to our predecessor" : "");
	conn_close(c);		/* our copy only: the socket lives on */
}
