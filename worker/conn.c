/*
 * conn.c -- a worker's HTTP/1.1 connections: reading and parsing requests,
 * their deadlines, keep-alive and pipelining (what they send: out.c).
 *
 * An idle connection owns no buffer.  Requests are read into one
 * per-worker scratch buffer and parsed in place by http-parser; the head
 * goes through head.c's rules, the state of a request being read or served
 * (struct hreq) comes from a pool, so a warmed-up worker allocates nothing
 * per request.  What a request is for is decided by serve(): the admin
 * paths (admin.c) or the MCP endpoint (endpoint.c).  While a request is in
 * flight the connection reads nothing more (a stateless one reads on, so
 * that a client closing its stream cancels it): pipelined requests wait
 * their turn and answers keep their order.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "registry.h"
#include "scoreboard.h"
#include "util.h"

#define QUIT_IDLE_MS		250	/* idle keep-alive grace at stop */
#define BODY_CAP_MIN_BYTES	4096	/* first body buffer */

static char			 scratch[READ_SCRATCH_BYTES];
static http_parser_settings	 settings;
static struct hreq		*pool;
static size_t			 npool;
static size_t			 conns_cap;
static ev_timer			 sweep_to;
struct conn			**conns;
size_t				 nconns;
struct conn			*deadlist;

static void	conn_resume(struct conn *);

struct hreq *
hreq_get(void)
{
	struct hreq	*r;
	char		*body;
	size_t		 cap;

	if ((r = pool) != NULL) {
		pool = r->r_next;
		npool--;
	} else if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	body = r->r_body;
	cap = r->r_bodycap;
	memset(r, 0, offsetof(struct hreq, r_principal));
	r->r_principal[0] = r->r_audit_name[0] = r->r_scopes[0] = '\0';
	head_init(&r->r_head, worker->w_http.h_header_max);
	r->r_body = body;
	r->r_bodycap = cap;
	r->r_mx = -1;
	return r;
}

/* A request in flight past its first loop iteration: counted. */
void
pending_take(struct hreq *r)
{
	if (r->r_pending || r->r_mx == MX_LISTEN)
		return;
	r->r_pending = 1;
	worker->w_pending++;
}

static void
pending_drop(struct hreq *r)
{
	if (!r->r_pending)
		return;
	r->r_pending = 0;
	worker->w_pending--;
}

void
hreq_put(struct hreq *r)
{
	pending_drop(r);
	if (npool >= HREQ_POOL_MAX || r->r_bodycap > HREQ_BODY_KEEP_BYTES) {
		free(r->r_body);
		free(r);
		return;
	}
	r->r_next = pool;
	pool = r;
	npool++;
}

/* The end of a connection's memory, and of its counts. */
static void
conn_free(struct conn *c)
{
	if (c->c_has_addr)
		worker_addr_release(c->c_addr);
	free(c);
	worker_conn_closed();
}

/* The request is answered: count it. */
static void
count_request(struct hreq *r)
{
	enum mx_outcome	o;
	int		st = r->r_status ? r->r_status : 200;

	if (r->r_mx < 0 || worker->w_metrics == NULL)
		return;
	if (st == 503 || st == 429)
		o = MX_REJECTED;
	else if (st >= 500 || r->r_rpc_code == JSONRPC_INTERNAL_ERROR ||
	    (r->r_rpc_code == MCP_SERVER_ERROR && st < 400))
		o = MX_FAILURE;
	else if (st >= 400 || r->r_rpc_code != 0)
		o = MX_ERROR;
	else
		o = MX_OK;
	mx_request(worker->w_metrics, (enum mx_method)r->r_mx, o,
	    now_us() - r->r_t0_us);
	r->r_mx = -1;
}

/* The request is answered: take the next one.  It may free c. */
void
request_done(struct conn *c)
{
	struct hreq *r = c->c_req;

	c->c_busy = 0;
	c->c_served = 1;
	if (r != NULL) {
		audit_request(c);
		count_request(r);
		pending_drop(r);
		if (r->r_get && r->r_sess != NULL)
			mcp_session_detach(r->r_sess, &c->c_stream);
		c->c_req = NULL;
		hreq_put(r);
	}
	if (!c->c_dead)
		conn_resume(c);
}

/* What a request is for: the admin paths, or the MCP endpoint. */
static void
serve(struct conn *c)
{
	struct hreq *r = c->c_req;

	r->r_t0_us = now_us();
	if (admin_serve(c) || auth_serve_metadata(c))
		return;
	if (c->c_kind != LISTEN_HTTP ||
	    !head_path_is(&r->r_head, worker->w_http.h_path)) {
		reply(c, 404, "application/json", NULL,
		    "{\"error\":\"not found\"}\n", 22);
		return;
	}
	endpoint_serve(c);
}

/* Parser callbacks */

static int
on_message_begin(http_parser *p)
{
	struct conn *c = p->data;

	if (c->c_req == NULL && (c->c_req = hreq_get()) == NULL)
		return -1;
	c->c_inreq = 1;
	conn_arm(c);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	return head_url(&c->c_req->r_head, at, len);
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	return head_field(&c->c_req->r_head, at, len);
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	return head_value(&c->c_req->r_head, at, len);
}

/* A request refused from its head: answered, and the connection closes. */
static int
refuse_head(struct conn *c, int status, const char *message)
{
	c->c_inreq = 0;
	c->c_close = 1;
	c->c_req->r_answered = 1;
	c->c_req->r_t0_us = now_us();
	reply_error(c, status, MCP_SERVER_ERROR, message, NULL);
	return -1;
}

static int
on_headers_complete(http_parser *p)
{
	struct conn	*c = p->data;
	struct hreq	*r = c->c_req;
	const char	*e;

	if (head_end(&r->r_head) == -1)
		return -1;
	r->r_in_body = 1;
	if (p->http_major != 1 || p->http_minor > 1)
		return refuse_head(c, 505, "HTTP Version Not Supported: "
		    "HTTP/1.1 or HTTP/1.0 only");
	/*
	 * No Transfer-Encoding in a request (RFC 9112 6.3 allows 411): every
	 * MCP client sends a length, and http-parser is lenient with chunk
	 * framing (LF in an extension, any two bytes after chunk data).
	 */
	if (head_has(&r->r_head, HH_TE))
		return refuse_head(c, 411, "Length Required: send the body "
		    "with Content-Length, not Transfer-Encoding");
	if (p->content_length != ULLONG_MAX &&
	    p->content_length > worker->w_http.h_body_max) {
		/* refuse now, before the client uploads all of it */
		r->r_too_big = 1;
		c->c_inreq = 0;
		serve(c);
		return -1;
	}
	if (head_has(&r->r_head, HH_EXPECT)) {
		e = head_get(&r->r_head, HH_EXPECT);
		if (strcasecmp(e, "100-continue") != 0)
			return refuse_head(c, 417, "Expectation Failed: only "
			    "100-continue");
		/* the body may come: say so now (HTTP/1.0 knows no 100) */
		if (p->http_minor >= 1 && p->content_length != ULLONG_MAX &&
		    p->content_length > 0)
			reply_continue(c);
	}
	conn_arm(c);
	return 0;
}

/* Body bytes of a request, within max-body-size: 0, or -1 (no memory). */
static int
body_add(struct hreq *r, const char *at, size_t len)
{
	size_t	 cap;
	char	*b;

	if (r->r_too_big)
		return 0;
	if (r->r_bodylen + len > worker->w_http.h_body_max) {
		r->r_too_big = 1;
		return 0;
	}
	if (r->r_bodylen + len + 1 > r->r_bodycap) {
		cap = r->r_bodycap ? r->r_bodycap : BODY_CAP_MIN_BYTES;
		while (cap < r->r_bodylen + len + 1)
			cap *= 2;
		if ((b = realloc(r->r_body, cap)) == NULL)
			return -1;
		r->r_body = b;
		r->r_bodycap = cap;
	}
	memcpy(r->r_body + r->r_bodylen, at, len);
	r->r_bodylen += len;
	r->r_body[r->r_bodylen] = '\0';
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	conn_arm(c);		/* body-timeout: between two reads */
	return body_add(c->c_req, at, len);
}

static int
on_message_complete(http_parser *p)
{
	struct conn *c = p->data;

	c->c_inreq = 0;
	serve(c);
	if (c->c_busy || c->c_close || c->c_handoff) {
		/* in flight, or done with this connection: stop parsing */
		http_parser_pause(p, 1);
		return 0;
	}
	request_done(c);
	return 0;
}

/* Connection I/O */

/*
 * A connection's deadline, ms from now (0: none).  Its timer is moved only
 * when it would fire too late: one that fires early finds the deadline
 * later and waits again (libev's "be smart about timeouts").  A request
 * moves the deadline twice and a busy connection has none, so moving the
 * timer each time was a heap update per step, 1.8% of a worker's time at
 * 100,000 connections.
 */
static void
conn_deadline(struct conn *c, uint32_t ms)
{
	struct ev_loop	*l = worker->w_loop;
	ev_tstamp	 now = ev_now(l);

	if (ms == 0) {
		c->c_deadline = 0;	/* the timer, if it fires, does nothing */
		return;
	}
	c->c_deadline = now + ms / 1000.0;
	if (ev_is_active(&c->c_to) &&
	    ev_timer_remaining(l, &c->c_to) <= ms / 1000.0 + 0.001)
		return;
	ev_timer_stop(l, &c->c_to);
	ev_timer_set(&c->c_to, ms / 1000.0, 0.);
	ev_timer_start(l, &c->c_to);
}

/* a stream that stays open: quiet, it gets keep-alive comments */
static int
streaming(const struct conn *c)
{
	return c->c_req != NULL && (c->c_req->r_get ||
	    (c->c_busy && c->c_req->r_sse));
}

void
conn_arm(struct conn *c)
{
	const struct hcfg	*h = &worker->w_http;
	uint32_t		 ms;

	if (c->c_dead || c->c_overflow)
		return;		/* an overflow's timer closes it */
	if (streaming(c))
		ms = h->h_keepalive_ms;
	else if (c->c_busy)
		ms = 0;			/* the engine's timeouts apply */
	else if (c->c_inreq)
		ms = c->c_req != NULL && c->c_req->r_in_body ? h->h_body_ms :
		    h->h_header_ms;
	else if (!c->c_served)
		ms = h->h_header_ms;	/* not a byte yet: its first header */
	else
		ms = h->h_idle_ms;
	conn_deadline(c, ms);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	if (c->c_overflow) {
		conn_close(c);
		return;
	}
	if (c->c_deadline == 0)
		return;		/* none now: the next conn_arm starts it */
	if (c->c_deadline > ev_now(loop) + 0.001) {
		ev_timer_set(w, c->c_deadline - ev_now(loop), 0.);
		ev_timer_start(loop, w);
		return;
	}
	if (streaming(c)) {
		conn_arm(c);	/* the next one; before c may go */
		sse_comment(c, "keepalive");
		conn_flush(c);
		return;
	}
	if (c->c_inreq) {
		c->c_close = 1;
		reply(c, 408, NULL, NULL, NULL, 0);
		conn_flush(c);
		return;
	}
	conn_close(c);
}

/* keep what follows a paused request for when it is answered */
static void
keep_pending(struct conn *c, const char *buf, size_t n)
{
	char *p;

	if (n == 0 || c->c_close)
		return;
	if ((p = malloc(c->c_pendlen + n)) == NULL) {
		c->c_close = 1;
		return;
	}
	if (c->c_pendlen)
		memcpy(p, c->c_pend, c->c_pendlen);
	memcpy(p + c->c_pendlen, buf, n);
	free(c->c_pend);
	c->c_pend = p;
	c->c_pendlen += n;
}

/* The parser refused the request: say why, then close. */
static void
parse_error(struct conn *c, int err)
{
	struct hreq	*r = c->c_req;
	char		 why[160];

	log_debug("fd %d: %s", c->c_fd, http_errno_description(err));
	/*
	 * A head our rules refused came after a whole request line, whose
	 * method holds (a HEAD gets no body); else the parser's guess of the
	 * method is no request's method.
	 */
	if (r == NULL || r->r_head.rh_err == HEAD_OK)
		c->c_parser.method = HTTP_GET;
	c->c_close = 1;		/* said in the answer */
	if (r != NULL && (r->r_too_big || r->r_answered))
		;	/* answered from the headers already */
	else if (r != NULL && r->r_head.rh_err != HEAD_OK)
		reply_error(c, head_status(&r->r_head), MCP_SERVER_ERROR,
		    head_why(&r->r_head, why, sizeof(why)), NULL);
	else
		reply(c, 400, "application/json", NULL,
		    "{\"error\":\"bad request\"}\n", 24);
}

/* Feed bytes to the parser; the connection may be closed on return. */
static void
parse(struct conn *c, const char *buf, size_t n)
{
	size_t	done, k;
	int	err;

	out_cork(c);
	c->c_inparse = 1;
	done = http_parser_execute(&c->c_parser, &settings, buf, n);
	/*
	 * An Upgrade (h2c, websocket) is not taken: the request was served
	 * as HTTP/1.1, and what follows it is the next request, which the
	 * parser leaves to us after one with Upgrade.
	 */
	while (HTTP_PARSER_ERRNO(&c->c_parser) == HPE_OK && done < n &&
	    c->c_parser.upgrade && !c->c_close && !c->c_dead &&
	    (k = http_parser_execute(&c->c_parser, &settings, buf + done,
	    n - done)) > 0)
		done += k;
	c->c_inparse = 0;
	out_uncork(c);
	err = HTTP_PARSER_ERRNO(&c->c_parser);
	if (err == HPE_PAUSED) {
		keep_pending(c, buf + done, n - done);
		/*
		 * A request of the stateless era in flight: read on (within
		 * a bound), so a client closing its stream cancels it.
		 */
		if (!c->c_busy || c->c_req == NULL ||
		    !c->c_req->r_stateless || c->c_pendlen >
		    worker->w_http.h_body_max + worker->w_http.h_header_max)
			ev_io_stop(worker->w_loop, &c->c_rd);
		if (c->c_handoff) {
			endpoint_handoff(c);
			return;
		}
	} else if (err != HPE_OK)
		parse_error(c, err);
	conn_flush(c);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn	*c = w->data;
	ssize_t		 n;

	n = recv(c->c_fd, scratch, sizeof(scratch), 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		if (c->c_busy && c->c_req != NULL && !c->c_req->r_get &&
		    !c->c_req->r_stateless) {
			/* half-closed while answering: finish, then close */
			c->c_close = 1;
			ev_io_stop(loop, &c->c_rd);
			return;
		}
		conn_close(c);
		return;
	}
	parse(c, scratch, n);
}

/*
 * After a request is answered: parse what waited (all of it: parse()
 * keeps what a new pause leaves before this buffer goes), read again.
 */
static void
conn_resume(struct conn *c)
{
	char	*p;
	size_t	 n;

	if (c->c_close) {
		conn_flush(c);
		return;
	}
	http_parser_pause(&c->c_parser, 0);
	if (c->c_pend != NULL) {
		p = c->c_pend;
		n = c->c_pendlen;
		c->c_pend = NULL;
		c->c_pendlen = 0;
		if (!c->c_busy)
			ev_io_start(worker->w_loop, &c->c_rd);
		parse(c, p, n);
		free(p);
		return;
	}
	if (c->c_out == NULL)
		ev_io_start(worker->w_loop, &c->c_rd);
	conn_arm(c);
	conn_flush(c);		/* a quitting worker closes it now */
}

/*
 * Between two requests (or before the first), everything out: nothing of
 * it is ours but fd and what was read ahead.
 */
static int
conn_idle(const struct conn *c)
{
	return !c->c_inreq && !c->c_busy && c->c_out == NULL &&
	    c->c_refs == 0 && !c->c_close &&
	    (c->c_req == NULL || !c->c_req->r_get);
}

/*
 * A quitting worker's idle connection goes to its successor (a new
 * generation), which reads its next request: its client sees no close.
 * Without one (the node stops) it is closed.
 */
static void
conn_pass(struct conn *c)
{
	int fd;

	if (peer_successor() && (fd = dup(c->c_fd)) != -1 &&
	    peer_pass(fd, c->c_kind, c->c_auth, c->c_served, c->c_pend,
	    c->c_pendlen) == 0)
		log_debug("fd %d: idle: handed to our successor", c->c_fd);
	conn_close(c);		/* our copy only, when handed */
}

/* Close when done and everything is out. */
void
conn_flush(struct conn *c)
{
	if (c->c_dead || c->c_inparse || out_corked(c))
		return;		/* parse() flushes when the parser is done */
	if (c->c_close && c->c_out == NULL && !c->c_busy) {
		conn_close(c);
		return;
	}
	if (worker->w_quitting && conn_idle(c)) {
		conn_pass(c);
		return;
	}
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn	*c = w->data;
	ssize_t		 n;

	while (c->c_outoff < c->c_outlen) {
		n = send(c->c_fd, c->c_out + c->c_outoff,
		    c->c_outlen - c->c_outoff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			conn_close(c);
			return;
		}
		c->c_outoff += n;
	}
	free(c->c_out);
	c->c_out = NULL;
	c->c_outlen = c->c_outoff = c->c_outcap = 0;
	ev_io_stop(loop, &c->c_wr);
	if (!c->c_busy && !c->c_close && c->c_pend == NULL &&
	    !ev_is_active(&c->c_rd))
		ev_io_start(loop, &c->c_rd);
	conn_flush(c);
}

void
conn_close(struct conn *c)
{
	struct hreq *r = c->c_req;

	if (c->c_dead)
		return;
	out_uncork(c);		/* what it answered goes first */
	/* a stream going on, or output that will never go: resumable */
	if (c->c_busy || c->c_outlen > c->c_outoff)
		sse_share(c);
	ev_io_stop(worker->w_loop, &c->c_rd);
	ev_io_stop(worker->w_loop, &c->c_wr);
	ev_timer_stop(worker->w_loop, &c->c_to);
	close(c->c_fd);
	free(c->c_out);
	c->c_out = NULL;
	c->c_outlen = c->c_outoff = c->c_outcap = 0;
	free(c->c_pend);
	c->c_pend = NULL;
	if (r != NULL && r->r_get && r->r_sess != NULL)
		mcp_session_detach(r->r_sess, &c->c_stream);
	if (c->c_slot < nconns && conns[c->c_slot] == c) {
		conns[c->c_slot] = conns[--nconns];
		conns[c->c_slot]->c_slot = c->c_slot;
	}
	if (c->c_resumes != NULL) {
		c->c_resumes->c_resumer = NULL;
		c->c_resumes = NULL;
	}
	c->c_dead = 1;
	if (c->c_refs > 0) {
		/* a call still holds the stream: keep it resumable */
		c->c_next_dead = deadlist;
		deadlist = c;
		/*
		 * The stateless era resumes nothing: a closed stream cancels
		 * its request (or ends a listen stream).  That may free c.
		 */
		if (r != NULL && r->r_stateless)
			mcp_stream_gone(worker->w_mcp, &c->c_stream);
		return;
	}
	c->c_req = NULL;
	if (r != NULL)
		hreq_put(r);
	conn_free(c);
}

void
conn_release(struct conn *c)
{
	struct conn **pp;

	for (pp = &deadlist; *pp != NULL; pp = &(*pp)->c_next_dead) {
		if (*pp == c) {
			*pp = c->c_next_dead;
			break;
		}
	}
	if (c->c_req != NULL)
		hreq_put(c->c_req);
	conn_free(c);
}

/* This worker's gauges in its scoreboard block. */
void
update_gauges(void)
{
	struct sb_metrics	*m = worker->w_metrics;
	uint64_t		 out = 0;
	size_t			 i;

	if (m == NULL || worker->w_mcp == NULL)
		return;
	for (i = 0; i < nconns; i++)
		if (conns[i]->c_out != NULL)
			out += conns[i]->c_outlen - conns[i]->c_outoff;
	MX_SET(&m->m_gauge[MX_G_SESSIONS], mcp_session_count(worker->w_mcp));
	MX_SET(&m->m_gauge[MX_G_LISTENERS],
	    mcp_listener_count(worker->w_mcp));
	MX_SET(&m->m_gauge[MX_G_TASKS], mcp_task_count(worker->w_mcp));
	MX_SET(&m->m_gauge[MX_G_PENDING], worker->w_pending);
	MX_SET(&m->m_gauge[MX_G_OUTPUT_BYTES], out);
	MX_SET(&m->m_gauge[MX_G_REGISTRY_LAG],
	    agentc() != NULL ? chan_unread(agentc()) : 0);
}

static void
sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	unsigned n;

	update_gauges();
	/*
	 * Draining, our sessions are our successor's: it keeps their idle
	 * clock (ours is stale), and an expiry here would delete them there
	 * and in the agent
	 */
	if (worker->w_quitting)
		return;
	n = mcp_session_expire(worker->w_mcp, worker->w_http.h_session_ms,
	    worker->w_http.h_session_start_ms);
	if (n > 0)
		log_debug("%u idle sessions expired", n);
}

void
http_init(struct worker *w)
{
	http_parser_settings_init(&settings);
	settings.on_message_begin = on_message_begin;
	settings.on_url = on_url;
	settings.on_header_field = on_header_field;
	settings.on_header_value = on_header_value;
	settings.on_headers_complete = on_headers_complete;
	settings.on_body = on_body;
	settings.on_message_complete = on_message_complete;
	ev_timer_init(&sweep_to, sweep_cb, SESSION_SWEEP_MS / 1000.0,
	    SESSION_SWEEP_MS / 1000.0);
	ev_timer_start(w->w_loop, &sweep_to);
	ev_unref(w->w_loop);
	sweep_cb(w->w_loop, &sweep_to, 0);	/* what we adopted, too */
}

/* A new connection, or NULL after closing fd. */
static struct conn *
conn_new(struct worker *w, int fd, enum listen_kind kind, int auth,
    const unsigned char *addr, int counted)
{
	struct conn *c;

	if (nconns == conns_cap) {
		size_t		 n = conns_cap ? conns_cap * 2 : 64;
		struct conn	**p;

		if ((p = reallocarray(conns, n, sizeof(*p))) == NULL)
			goto fail;
		conns = p;
		conns_cap = n;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->c_fd = fd;
	c->c_kind = kind;
	c->c_auth = auth;
	if (addr != NULL) {
		memcpy(c->c_addr, addr, ADDR_KEY_BYTES);
		c->c_has_addr = counted != 0;
	}
	c->c_slot = nconns;
	conns[nconns++] = c;
	c->c_stream.s_ops = &conn_stream_ops;
	c->c_stream.s_owner = c;
	http_parser_init(&c->c_parser, HTTP_REQUEST);
	c->c_parser.data = c;
	ev_io_init(&c->c_rd, read_cb, fd, EV_READ);
	ev_io_init(&c->c_wr, write_cb, fd, EV_WRITE);
	ev_init(&c->c_to, timeout_cb);
	c->c_rd.data = c->c_wr.data = c->c_to.data = c;
	ev_io_start(w->w_loop, &c->c_rd);
	conn_arm(c);
	return c;
fail:
	log_warn("connection");
	close(fd);
	if (addr != NULL && counted)
		worker_addr_release(addr);
	worker_conn_closed();
	return NULL;
}

void
http_conn_new(struct worker *w, int fd, enum listen_kind kind, int auth,
    const char *pre, size_t prelen, const unsigned char *addr, int counted)
{
	struct conn *c;

	if ((c = conn_new(w, fd, kind, auth, addr, counted)) != NULL &&
	    pre != NULL && prelen > 0)
		parse(c, pre, prelen);
}

/* A connection another worker handed over, counted as its client's. */
static struct conn *
conn_handed(struct worker *w, int fd, const struct handoff *h)
{
	unsigned char key[ADDR_KEY_BYTES];

	worker_addr_take(fd, key);
	return conn_new(w, fd, h->h_kind, h->h_auth, key,
	    w->w_per_address != 0);
}

/*
 * A connection handed over by another worker, with its request as that
 * worker read it (peer.c): served as if it had been read here.
 */
void
http_adopt(struct worker *w, int fd, const struct handoff *h)
{
	struct conn	*c;
	struct hreq	*r;

	if ((c = conn_handed(w, fd, h)) == NULL)
		return;
	if ((r = c->c_req = hreq_get()) == NULL) {
		conn_close(c);
		return;
	}
	c->c_parser.method = h->h_method;
	c->c_parser.http_major = h->h_major;
	c->c_parser.http_minor = h->h_minor;
	c->c_parser.flags |= h->h_keepalive ? F_CONNECTION_KEEP_ALIVE :
	    F_CONNECTION_CLOSE;
	memcpy(&r->r_head, h->h_head, sizeof(r->r_head));
	r->r_admitted = h->h_admitted;
	if (h->h_bodylen > 0 && body_add(r, h->h_body, h->h_bodylen) == -1) {
		conn_close(c);
		return;
	}
	keep_pending(c, h->h_pend, h->h_pendlen);
	ev_io_stop(w->w_loop, &c->c_rd);
	serve(c);
	if (!c->c_dead && c->c_busy)
		http_parser_pause(&c->c_parser, 1);
	request_served(c);
}

/* A keep-alive connection a draining worker handed over between requests. */
void
http_adopt_idle(struct worker *w, int fd, const struct handoff *h)
{
	struct conn *c;

	if ((c = conn_handed(w, fd, h)) == NULL)
		return;
	c->c_served = h->h_served;
	if (h->h_pendlen > 0) {
		conn_arm(c);
		parse(c, h->h_pend, h->h_pendlen);
	} else if (w->w_quitting && peer_successor())
		conn_pass(c);		/* draining too: on to the newest */
	else if (w->w_quitting)
		conn_deadline(c, QUIT_IDLE_MS);	/* as http_quit does */
	else
		conn_arm(c);		/* the idle timeout */
}

void
request_served(struct conn *c)
{
	if (c->c_dead)
		return;
	if (c->c_handoff) {
		endpoint_handoff(c);
		return;
	}
	if (!c->c_busy && !c->c_close) {
		request_done(c);	/* may free c */
		return;
	}
	conn_flush(c);
}

/*
 * Stop.  With a successor (a new generation of our index), every
 * keep-alive connection goes to it as soon as it is between two requests,
 * now or after its answer: its client sees no close, and nothing it sends
 * meets one.  Without (the node stops), every connection is closed after
 * its next answer, and an idle keep-alive one is not closed at once: its
 * client may be sending the next request right now, and closing would
 * reset it unanswered (in a closed loop under load it is sending it: a
 * reload failed ~1 request in 10,000 that way).  It gets QUIT_IDLE_MS to
 * send one; quiet for that long, it is closed.  A connection that has not
 * sent its first request yet was just accepted, and its client is about
 * to send it: it gets its answer too (or the drain deadline).  Standalone
 * SSE streams end now.
 */
void
http_quit(struct worker *w)
{
	size_t i;

	if (w->w_mcp != NULL)	/* quitting before it started */
		mcp_listen_end_all(w->w_mcp);
	for (i = nconns; i-- > 0;) {
		struct conn *c = conns[i];

		if (c->c_req != NULL && c->c_req->r_get) {
			sse_end(c);
			c->c_close = 1;
			c->c_busy = 0;
			request_done(c);
		} else if (peer_successor()) {
			if (conn_idle(c))
				conn_pass(c);
			/* else after its answer (conn_flush) */
		} else if (c->c_served && !c->c_inreq && !c->c_busy &&
		    c->c_out == NULL) {
			/* timeout_cb closes it; an answer before, too */
			ev_timer_stop(worker->w_loop, &c->c_to);
			conn_deadline(c, QUIT_IDLE_MS);
		} else
			c->c_close = 1;
	}
}
