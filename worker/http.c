/*
 * http.c -- HTTP/1.1 connections of a worker: the MCP Streamable HTTP
 * endpoint (session era) and GET /healthz.
 *
 * An idle connection owns no buffer.  Requests are read into one
 * per-worker scratch buffer and parsed in place by http-parser; the state
 * of a request being read or served (struct hreq) comes from a pool, so a
 * warmed-up worker allocates nothing per request.  A request is answered
 * with JSON (Content-Length) when its only message is the response, and
 * with SSE (chunked) as soon as a notification or a request to the client
 * comes first.  While a request is in flight the connection reads nothing
 * more: pipelined requests wait their turn (answers keep their order).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <sodium.h>

#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "scoreboard.h"
#include "util.h"
#include "worker.h"

#define HTTP_OUT_MAX		(8 * 1024 * 1024) /* unsent bytes per conn, default */
#define OUT_CAP_MIN		4096	/* first output buffer, bytes */
#define HDR_FIELD_MAX		80	/* bytes of a header name we track */
#define BATCH_MAX		100	/* messages in a batch (2025-03-26) */
#define QUIT_IDLE_MS		250	/* idle keep-alive grace at stop, ms */
#define CORK_MAX		(64 * 1024) /* answers gathered, bytes */

enum hdr {
	H_NONE,
	H_HOST,
	H_ORIGIN,
	H_ACCEPT,
	H_CTYPE,
	H_SID,
	H_PROTO,
	H_LASTEVENT,
	H_METHOD,
	H_NAME,
	H_PARAM,
	H_AUTH
};

struct hreq {
	struct hreq		*r_next;	/* pool */
	char			 r_url[256];
	size_t			 r_urllen;
	int			 r_url_long;
	char			 r_field[HDR_FIELD_MAX];
	size_t			 r_fieldlen;
	int			 r_in_value;
	enum hdr		 r_cur;
	char			 r_host[256];
	char			 r_origin[256];
	char			 r_accept[256];
	char			 r_ctype[128];
	char			 r_sid[MCP_SID_LEN + 2];
	char			 r_proto[32];
	char			 r_lastevent[80];
	char			 r_method[80];		/* Mcp-Method */
	char			 r_name[1024];		/* Mcp-Name */
	char			 r_auth[1024];		/* Authorization */
	int			 r_has_method;
	int			 r_has_name;
	/* Mcp-Param-*: name NUL value NUL ..., at r_poff[] */
	char			 r_params[MCP_PARAM_HEADER_BYTES];
	size_t			 r_paramslen;
	uint16_t		 r_poff[MCP_PARAM_HEADERS_MAX];
	uint16_t		 r_pval[MCP_PARAM_HEADERS_MAX];
	unsigned		 r_nparams;
	int			 r_params_over;
	int			 r_has_origin;
	uint32_t		 r_hdrbytes;
	char			*r_body;	/* kept across reuse */
	size_t			 r_bodylen;
	size_t			 r_bodycap;
	int			 r_too_big;
	/* answering */
	struct mcp_session	*r_sess;
	int			 r_headers_sent;
	int			 r_sse;
	int			 r_get;		/* standalone GET stream */
	uint64_t		 r_stream;	/* this worker's stream number */
	unsigned		 r_batch_pending; /* requests not answered */
	int			 r_batch;	/* answering a batch */
	int			 r_batch_open;	/* still dispatching it */
	int			 r_close_stream; /* asked to, in dispatch */
	int			 r_detached;	/* response ended, call goes on */
	uint64_t		 r_event;
	int			 r_stateless;	/* a request of 2026-07-28 */
	/* metrics: what it was, when it came, how it ended */
	int			 r_mx;		/* enum mx_method; -1: none */
	uint64_t		 r_t0_us;
	int			 r_status;	/* HTTP status of the answer */
	int			 r_rpc_code;	/* its JSON-RPC error, 0: none */
	int			 r_pending;	/* counted in w_pending */
};

struct conn {
	int			 c_fd;
	enum listen_kind	 c_kind;
	http_parser		 c_parser;
	ev_io			 c_rd;
	ev_io			 c_wr;
	ev_timer		 c_to;
	ev_tstamp		 c_deadline;	/* of c_to; 0: none */
	char			*c_out;		/* unsent output, or NULL */
	size_t			 c_outlen;
	size_t			 c_outoff;
	size_t			 c_outcap;	/* bytes allocated at c_out */
	char			*c_pend;	/* read, not yet parsed */
	size_t			 c_pendlen;
	struct hreq		*c_req;
	struct mcp_stream	 c_stream;
	int			 c_refs;	/* engine's references */
	size_t			 c_slot;	/* in conns[] */
	uint8_t			 c_close;	/* close once output is out */
	uint8_t			 c_served;	/* answered at least once */
	uint8_t			 c_busy;	/* a request in flight */
	uint8_t			 c_dead;	/* fd closed, refs pending */
	uint8_t			 c_inreq;	/* a request is being read */
	uint8_t			 c_indispatch;	/* inside mcp_dispatch() */
	uint8_t			 c_inparse;	/* inside http_parser_execute */
	uint8_t			 c_overflow;	/* output over HTTP_OUT_MAX */
	uint8_t			 c_handoff_task;	/* the hand-over is a task's */
	uint8_t			 c_has_addr;	/* counted for its address */
	unsigned char		 c_addr[ADDR_KEY];
	int			 c_handoff;	/* owner + 1: hand it over */
	struct conn		*c_resumer;	/* dead: who took my stream */
	struct conn		*c_resumes;	/* GET: the dead conn I follow */
	struct conn		*c_next_dead;	/* dead conns a call holds */
};

static char			 scratch[READ_SCRATCH_BYTES];
static char			 corkbuf[CORK_MAX];
static size_t			 corklen;
static struct conn		*cork_owner;	/* whose answers gather */
static http_parser_settings	 settings;
static struct hreq		*pool;
static size_t			 npool;
static struct conn		**conns;
static size_t			 nconns, conns_cap;
static ev_timer			 sweep_to;
static uint64_t			 streams;	/* SSE streams opened */
static uint64_t			 overflows;	/* closed: client did not read */
static struct conn		*deadlist;	/* closed, still referenced */

static void	conn_close(struct conn *);
static void	conn_flush(struct conn *);
static void	conn_resume(struct conn *);
static void	conn_arm(struct conn *);
static void	stream_send(struct mcp_stream *, const char *, size_t, int);
static void	stream_ref(struct mcp_stream *);
static void	stream_unref(struct mcp_stream *);

static void	stream_close(struct mcp_stream *);
static void	sse_end(struct conn *);
static void	request_done(struct conn *);
static void	update_gauges(void);

static const struct mcp_stream_ops conn_stream_ops = {
	stream_send, stream_ref, stream_unref, stream_close
};

static struct hreq *
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
	memset(r, 0, sizeof(*r));
	r->r_body = body;
	r->r_bodycap = cap;
	r->r_mx = -1;
	return r;
}

/* A request in flight past its first loop iteration: counted. */
static void
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

static void
hreq_put(struct hreq *r)
{
	pending_drop(r);
	if (npool >= HREQ_POOL_MAX || r->r_bodycap > HREQ_BODY_KEEP) {
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

/* Output */

static void
out_queue(struct conn *c, const char *buf, size_t len)
{
	char *p;

	uint64_t max = worker->w_http.h_out_max ? worker->w_http.h_out_max :
	    HTTP_OUT_MAX;

	if (c->c_outlen - c->c_outoff + len > max) {
		/*
		 * A client that does not read (a listen stream nobody drains):
		 * nothing more is queued, and the connection is closed from
		 * the loop (not here: the caller is still using it).
		 */
		if (!c->c_overflow) {
			c->c_overflow = 1;
			overflows++;
			if (worker->w_metrics != NULL)
				MX_ADD(&worker->w_metrics->m_rejected[
				    MX_R_OUTPUT], 1);
			log_info("fd %d: client does not read: %llu bytes "
			    "queued (max-output-buffer); closing (%llu so far)",
			    c->c_fd, (unsigned long long)max,
			    (unsigned long long)overflows);
			ev_timer_stop(worker->w_loop, &c->c_to);
			ev_timer_set(&c->c_to, 0., 0.);
			ev_timer_start(worker->w_loop, &c->c_to);
		}
		c->c_close = 1;
		return;
	}
	if (c->c_outlen + len > c->c_outcap) {
		size_t cap;

		/* what was sent goes first; then the room doubles */
		if (c->c_outoff > 0) {
			memmove(c->c_out, c->c_out + c->c_outoff,
			    c->c_outlen - c->c_outoff);
			c->c_outlen -= c->c_outoff;
			c->c_outoff = 0;
		}
		cap = c->c_outcap ? c->c_outcap : OUT_CAP_MIN;
		while (cap < c->c_outlen + len)
			cap *= 2;
		if (cap != c->c_outcap) {
			if ((p = realloc(c->c_out, cap)) == NULL) {
				c->c_close = 1;
				return;
			}
			c->c_out = p;
			c->c_outcap = cap;
		}
	}
	p = c->c_out;
	memcpy(p + c->c_outlen, buf, len);
	c->c_out = p;
	c->c_outlen += len;
	ev_io_start(worker->w_loop, &c->c_wr);
}

/* Write now what the socket takes, queue the rest. */
static void
out_send(struct conn *c, struct iovec *iov, int n)
{
	ssize_t	w = 0;
	int	i;

	if (c->c_out == NULL) {
		w = writev(c->c_fd, iov, n);
		if (w == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				c->c_close = 1;
				return;
			}
			w = 0;
		}
	}
	for (i = 0; i < n; i++) {
		if ((size_t)w >= iov[i].iov_len) {
			w -= iov[i].iov_len;
			continue;
		}
		out_queue(c, (char *)iov[i].iov_base + w, iov[i].iov_len - w);
		w = 0;
	}
}

/*
 * The cork: while a connection's input is parsed, what it answers is
 * gathered in corkbuf and goes in one write at the end (a session-era
 * answer as SSE was five writes, five packets: head, priming event,
 * chunk size, event, last chunk).  One connection holds the cork at a
 * time; answers to others (notifications) go at once.
 */
static void
cork_flush(struct conn *c)
{
	struct iovec iov = { corkbuf, corklen };

	if (corklen == 0)
		return;
	corklen = 0;
	if (!c->c_dead)
		out_send(c, &iov, 1);
}

static void
out_writev(struct conn *c, struct iovec *iov, int n)
{
	size_t	total = 0;
	int	i;

	if (c->c_dead)
		return;
	if (c == cork_owner && c->c_out == NULL) {
		for (i = 0; i < n; i++)
			total += iov[i].iov_len;
		if (corklen + total <= sizeof(corkbuf)) {
			for (i = 0; i < n; i++) {
				memcpy(corkbuf + corklen, iov[i].iov_base,
				    iov[i].iov_len);
				corklen += iov[i].iov_len;
			}
			return;
		}
		cork_flush(c);	/* too big to gather: what came first goes */
	}
	out_send(c, iov, n);
}

static void
out_write(struct conn *c, const char *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	out_writev(c, &iov, 1);
}

static int
keep_alive(struct conn *c)
{
	return http_should_keep_alive(&c->c_parser) && !worker->w_quitting &&
	    !c->c_close;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * The code of a JSON-RPC error response, 0 for a result: our own
 * messages begin {"jsonrpc":"2.0","id":ID,"error":{"code":N, so a look at
 * the start is enough.
 */
static int
rpc_code(const char *json, size_t len)
{
	const char	*p = json, *end = json + (len < 300 ? len : 300);

	/* from quote to quote: the member after the id says it */
	while ((p = memchr(p, '"', end - p)) != NULL) {
		if (end - p >= 17 && memcmp(p, "\"error\":{\"code\":", 16) == 0)
			return atoi(p + 16);
		if (end - p >= 9 && memcmp(p, "\"result\":", 9) == 0)
			return 0;
		p++;
	}
	return 0;
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

/*
 * Response heads are written into a fixed buffer: what does not fit is
 * cut (the head buffers are sized for the longest head we send; the
 * extra headers we pass are ours, bounded).
 */
struct hbuf {
	char	*buf;
	size_t	 len, cap;
};

static void
hb_mem(struct hbuf *h, const char *s, size_t n)
{
	if (n > h->cap - h->len)
		n = h->cap - h->len;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
}

static void
hb_str(struct hbuf *h, const char *s)
{
	hb_mem(h, s, strlen(s));
}

static void
hb_num(struct hbuf *h, unsigned long long v)
{
	char	d[24];
	size_t	i = sizeof(d);

	do {
		d[--i] = '0' + v % 10;
		v /= 10;
	} while (v != 0);
	hb_mem(h, d + i, sizeof(d) - i);
}

/* A complete response with a body. */
static void
reply(struct conn *c, int status, const char *reason, const char *ctype,
    const char *extra, const char *body, size_t len)
{
	struct hreq	*r = c->c_req;
	char		 hdr[768];
	struct iovec	 iov[2];
	struct hbuf	 h = { hdr, 0, sizeof(hdr) };

	/* by hand: snprintf was 3% of a worker's time on this path */
	hb_str(&h, "HTTP/1.1 ");
	hb_num(&h, (unsigned long long)status);
	hb_str(&h, " ");
	hb_str(&h, reason);
	hb_str(&h, "\r\nContent-Length: ");
	hb_num(&h, (unsigned long long)len);
	hb_str(&h, "\r\n");
	if (ctype != NULL) {
		hb_str(&h, "Content-Type: ");
		hb_str(&h, ctype);
		hb_str(&h, "\r\n");
	}
	if (r != NULL && r->r_sess != NULL) {
		hb_str(&h, "Mcp-Session-Id: ");
		hb_str(&h, mcp_session_id(r->r_sess));
		hb_str(&h, "\r\n");
	}
	if (extra != NULL)
		hb_str(&h, extra);
	if (!keep_alive(c)) {
		c->c_close = 1;
		hb_str(&h, "Connection: close\r\n");
	}
	hb_str(&h, "\r\n");
	if (r != NULL) {
		r->r_status = status;
		if (body != NULL && status != 202)
			r->r_rpc_code = rpc_code(body, len);
	}
	iov[0].iov_base = hdr;
	iov[0].iov_len = h.len;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = len;
	/* HEAD: the length of what GET would send, and no body */
	out_writev(c, iov, len > 0 && c->c_parser.method != HTTP_HEAD ? 2 : 1);
	c->c_served = 1;
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 200:	return "OK";
	case 400:	return "Bad Request";
	case 404:	return "Not Found";
	case 429:	return "Too Many Requests";
	case 500:	return "Internal Server Error";
	case 503:	return "Service Unavailable";
	default:	return "Error";
	}
}

/* An HTTP error with a JSON-RPC error body (id null). */
static void
reply_error(struct conn *c, int status, const char *reason, int code,
    const char *message, const char *extra)
{
	struct jw *w = mcp_server_out(worker->w_mcp);

	mcp_write_error(worker->w_mcp, NULL, code, message);
	reply(c, status, reason, "application/json", extra, w->buf, w->len);
}

/* The headers of an SSE response; sid: the session's id, or NULL. */
static void
sse_headers_plain(struct conn *c, const char *sid)
{
	struct hreq	*r = c->c_req;
	char		 hdr[512];
	int		 n;

	n = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "%s%s%s"
	    "\r\n",
	    sid ? "Mcp-Session-Id: " : "", sid ? sid : "", sid ? "\r\n" : "");
	out_write(c, hdr, n);
	r->r_headers_sent = 1;
	r->r_sse = 1;
}

/* A new stream of this worker, primed for resumption. */
static void
sse_headers(struct conn *c)
{
	struct hreq *r = c->c_req;

	sse_headers_plain(c, r->r_sess ? mcp_session_id(r->r_sess) : NULL);
	r->r_stream = ++streams;
	/*
	 * SEP-1699: an event id before anything else, and how soon to come
	 * back, so a 2025-11-25 client can resume this stream with GET and
	 * Last-Event-ID if it breaks (or we close it) before the answer.
	 */
	if (r->r_sess != NULL &&
	    strcmp(mcp_session_protocol(r->r_sess), "2025-11-25") >= 0) {
		char	prime[128], size[16];
		int	pn, sn;

		pn = snprintf(prime, sizeof(prime), "id: %u-%llu-0\n"
		    "retry: %d\ndata: \n\n", worker->w_child->c_index,
		    (unsigned long long)r->r_stream, SSE_RETRY_MS);
		sn = snprintf(size, sizeof(size), "%x\r\n", pn);
		out_write(c, size, sn);
		memcpy(prime + pn, "\r\n", 2);
		out_write(c, prime, pn + 2);
	}
}

/* One SSE event in one chunk, with the id of stream, seq. */
static void
sse_write(struct conn *c, uint64_t stream, uint64_t seq, const char *json,
    size_t len)
{
	char		 head[128], size[24];
	struct iovec	 iov[4];
	int		 hn, sn;

	/* unique across the session's streams: worker, stream, event */
	hn = snprintf(head, sizeof(head), "event: message\nid: %u-%llu-%llu\n"
	    "data: ", worker->w_child->c_index, (unsigned long long)stream,
	    (unsigned long long)seq);
	sn = snprintf(size, sizeof(size), "%zx\r\n", hn + len + 2);
	iov[0].iov_base = size;
	iov[0].iov_len = sn;
	iov[1].iov_base = head;
	iov[1].iov_len = hn;
	iov[2].iov_base = (void *)json;
	iov[2].iov_len = len;
	iov[3].iov_base = "\n\n\r\n";
	iov[3].iov_len = 4;
	out_writev(c, iov, 4);
}

/* One SSE event without an id (the stateless era resumes nothing). */
static void
sse_write_plain(struct conn *c, const char *json, size_t len)
{
	static const char head[] = "event: message\ndata: ";
	char		 size[24];
	struct iovec	 iov[4];
	int		 sn;

	sn = snprintf(size, sizeof(size), "%zx\r\n", sizeof(head) - 1 +
	    len + 2);
	iov[0].iov_base = size;
	iov[0].iov_len = sn;
	iov[1].iov_base = (void *)head;
	iov[1].iov_len = sizeof(head) - 1;
	iov[2].iov_base = (void *)json;
	iov[2].iov_len = len;
	iov[3].iov_base = "\n\n\r\n";
	iov[3].iov_len = 4;
	out_writev(c, iov, 4);
}

/* The session of a request, looked up again: it may have ended. */
static struct mcp_session *
req_session(struct hreq *r)
{
	int owner;

	if (r->r_sid[0] == '\0')
		return NULL;
	return mcp_session_find(worker->w_mcp, r->r_sid, &owner);
}

/* The next event of this request's stream: sent, and kept for replay. */
static void
sse_event(struct conn *c, const char *json, size_t len, int final)
{
	struct hreq		*r = c->c_req;
	struct mcp_session	*s = req_session(r);
	uint64_t		 seq = ++r->r_event;

	if (r->r_stateless) {
		if (!c->c_dead)
			sse_write_plain(c, json, len);
		return;
	}
	if (s != NULL)
		mcp_session_record(s, r->r_stream, seq, json, len, final);
	if (!c->c_dead && !r->r_detached)
		sse_write(c, r->r_stream, seq, json, len);
	else if (c->c_resumer != NULL) {
		struct conn *g = c->c_resumer;

		sse_write(g, r->r_stream, seq, json, len);
		if (final) {
			sse_end(g);
			g->c_resumes = NULL;
			c->c_resumer = NULL;
			g->c_busy = 0;
			request_done(g);
		}
	}
}

static void
sse_comment(struct conn *c, const char *text)
{
	char	buf[128];
	int	n, m;

	m = snprintf(buf + 16, sizeof(buf) - 16, ": %s\n\n", text);
	n = snprintf(buf, 16, "%x\r\n", m);
	memmove(buf + n, buf + 16, m);
	memcpy(buf + n + m, "\r\n", 2);
	out_write(c, buf, n + m + 2);
}

static void
sse_end(struct conn *c)
{
	out_write(c, "0\r\n\r\n", 5);
	if (!keep_alive(c))
		c->c_close = 1;
}

/* The request is answered: take the next one.  It may free c. */
static void
request_done(struct conn *c)
{
	struct hreq *r = c->c_req;

	c->c_busy = 0;
	c->c_served = 1;
	if (r != NULL) {
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

static void
stream_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
	struct conn	*c = st->s_owner;
	struct hreq	*r = c->c_req;

	if (r == NULL)
		return;
	if (final && json != NULL)
		r->r_rpc_code = rpc_code(json, len);
	if (c->c_dead || r->r_detached) {
		/* kept for a client that resumes with Last-Event-ID */
		if (r->r_sse && json != NULL)
			sse_event(c, json, len, final);
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
		if (!r->r_headers_sent && final &&
		    (!worker->w_http.h_sse_always || r->r_stateless)) {
			int status = st->s_status ? st->s_status : 200;

			st->s_status = 0;
			reply(c, status, status_reason(status),
			    "application/json", NULL, json, len);
			r->r_rpc_code = rpc_code(json, len);
			r->r_headers_sent = 1;
		} else {
			if (!r->r_headers_sent)
				sse_headers(c);
			sse_event(c, json, len, final);
		}
	} else if (final && !r->r_headers_sent)
		sse_headers(c);		/* cancelled: an empty stream */
	if (!final)
		return;
	if (r->r_sse)
		sse_end(c);
	if (c->c_indispatch)
		return;			/* serve_post() finishes it */
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
		/* serve_post() closes it once dispatch has returned */
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

	struct conn **pp;

	if (--c->c_refs > 0 || !c->c_dead)
		return;
	for (pp = &deadlist; *pp != NULL; pp = &(*pp)->c_next_dead) {
		if (*pp == c) {
			*pp = c->c_next_dead;
			break;
		}
	}
	if (c->c_resumer != NULL) {
		/* the call ended without a last event: end the resumed one */
		struct conn *g = c->c_resumer;

		g->c_resumes = NULL;
		sse_end(g);
		g->c_busy = 0;
		request_done(g);
	}
	if (c->c_req != NULL)
		hreq_put(c->c_req);
	conn_free(c);
}

/* Header and policy checks */

static int
hdr_has(const char *v, const char *tok)
{
	size_t	n = strlen(tok);
	int	c0 = tolower((unsigned char)tok[0]);

	for (; *v != '\0'; v++)
		if (tolower((unsigned char)*v) == c0 &&
		    strncasecmp(v, tok, n) == 0)
			return 1;
	return 0;
}

static int
path_is(const struct hreq *r, const char *path)
{
	size_t n = strlen(path);

	return !r->r_url_long && strncmp(r->r_url, path, n) == 0 &&
	    (r->r_url[n] == '\0' || r->r_url[n] == '?');
}

/* The MCP endpoint */

/*
 * The session named by the request: NULL after answering 404, or after
 * arranging the hand-over to the worker that owns it.
 */
static struct mcp_session *
session_of(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct mcp_session	*s;
	int			 owner;

	if ((s = mcp_session_find(worker->w_mcp, r->r_sid, &owner)) != NULL)
		return s;
	if (owner >= 0 && (uint32_t)owner != worker->w_child->c_index) {
		c->c_handoff = owner + 1;
		return NULL;
	}
	reply_error(c, 404, "Not Found", -32001, "Session not found", NULL);
	return NULL;
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
	struct {
		int	start;
		int	len;
	}			 el[BATCH_MAX];
	int			 n, i, k;

	n = bm->m_j.t[0].size;
	if (r->r_sid[0] == '\0') {
		reply_error(c, 400, "Bad Request", MCP_SERVER_ERROR,
		    "Bad Request: Mcp-Session-Id header is required", NULL);
		return;
	}
	if ((r->r_sess = session_of(c)) == NULL)
		return;
	if (strcmp(mcp_session_protocol(r->r_sess), "2025-03-26") != 0) {
		reply_error(c, 400, "Bad Request", JSONRPC_INVALID_REQUEST,
		    "Bad Request: batches are accepted only in sessions of "
		    "protocol 2025-03-26", NULL);
		return;
	}
	if (n == 0 || n > BATCH_MAX) {
		reply_error(c, 400, "Bad Request", JSONRPC_INVALID_REQUEST,
		    n == 0 ? "Invalid Request: an empty batch" :
		    "Invalid Request: more than 100 messages in a batch",
		    NULL);
		return;
	}
	/* the tokens are reused by every parse: note the elements first */
	for (i = 0, k = 1; i < n; i++, k = json_skip(&bm->m_j, k)) {
		el[i].start = bm->m_j.t[k].start;
		el[i].len = bm->m_j.t[k].end - bm->m_j.t[k].start;
	}
	r->r_batch = 1;
	r->r_batch_open = 1;
	r->r_batch_pending = 0;
	c->c_busy = 1;
	for (i = 0; i < n; i++) {
		if (mcp_msg_parse(srv, &m, r->r_body + el[i].start,
		    el[i].len) == -1 || m.m_kind == MCP_BATCH) {
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
		reply(c, 202, "Accepted", NULL, NULL, NULL, 0);
		c->c_busy = 0;
	} else if (r->r_batch_pending == 0) {
		sse_end(c);
		c->c_busy = 0;
	}
}

/* the worker that keeps the task a tasks/ request names, or -1 */
static int
task_owner(const struct mcp_msg *m)
{
	char	id[128];
	int	p, v;

	if (m->m_params < 0 || json_type(&m->m_j, m->m_params) != JSON_OBJECT ||
	    (v = json_get(&m->m_j, m->m_params, "taskId")) == -1 ||
	    json_strcpy(&m->m_j, v, id, sizeof(id)) == -1)
		return -1;
	p = mcp_task_owner(worker->w_mcp, id);
	return p >= 0 && p < WORKERS_MAX ? p : -1;
}

static void
trim(char *s)
{
	size_t n = strlen(s), k = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[k] == ' ' || s[k] == '\t')
		k++;
	if (k > 0)
		memmove(s, s + k, n - k + 1);
}

/* The emergency tier's response is on (the supervisor says so). */
static int
shedding(void)
{
	const struct scoreboard *sb = &worker->w_child->c_sb;

	return sb->sb_hdr != NULL && SB_HDR_GET(sb, SB_H_SHEDDING) != 0;
}

/* Who a request is from, for request-rate: its bearer token, hashed, or
 * its address. */
static const unsigned char *
principal(struct conn *c)
{
	static unsigned char	 key[ADDR_KEY];
	const char		*a = c->c_req->r_auth;

	if (strncasecmp(a, "Bearer ", 7) != 0)
		return c->c_addr;
	crypto_generichash(key, sizeof(key), (const unsigned char *)a + 7,
	    strlen(a + 7), NULL, 0);
	return key;
}

/* 429: a principal past its request-rate */
static void
too_many(struct conn *c, const struct mcp_msg *m)
{
	struct jw *w = mcp_server_out(worker->w_mcp);

	mcp_write_error_data(worker->w_mcp, m->m_kind == MCP_REQUEST ? m :
	    NULL, MCP_SERVER_ERROR, "Rate limit exceeded: too many requests a "
	    "second", MCP_RETRY_DATA);
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[MX_R_RATE], 1);
	reply(c, 429, "Too Many Requests", "application/json",
	    "Retry-After: 1\r\n", w->buf, w->len);
}

/* 503 and Retry-After, with a JSON-RPC error for the request's id */
static void
overloaded(struct conn *c, const struct mcp_msg *m, enum mx_reason why,
    const char *what)
{
	struct jw	*w = mcp_server_out(worker->w_mcp);
	char		 msg[128];

	snprintf(msg, sizeof(msg), "Server overloaded: %s", what);
	mcp_write_error_data(worker->w_mcp, m->m_kind == MCP_REQUEST ? m :
	    NULL, MCP_SERVER_ERROR, msg, MCP_RETRY_DATA);
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[why], 1);
	reply(c, 503, "Service Unavailable", "application/json",
	    "Retry-After: 1\r\n", w->buf, w->len);
}

/*
 * A request of the stateless era (2026-07-28): no session is looked at or
 * made, Mcp-Session-Id and Last-Event-ID mean nothing, the headers that
 * mirror the body are checked by the engine.  The answer is JSON when it is
 * the only message, else an SSE stream without event ids (this era does
 * not resume streams); closing it cancels the request.
 */
static void
serve_stateless(struct conn *c, struct mcp_msg *m)
{
	struct hreq		*r = c->c_req;
	struct mcp_headers	 h;
	enum mcp_disp		 d;
	unsigned		 i;
	int			 owner;

	/* a task lives on the worker its id names: take the request there */
	if (m->m_kind == MCP_REQUEST && strncmp(m->m_method, "tasks/", 6) == 0 &&
	    (owner = task_owner(m)) >= 0 &&
	    (uint32_t)owner != worker->w_child->c_index) {
		c->c_handoff = owner + 1;
		c->c_handoff_task = 1;
		return;
	}
	/* field values without the whitespace around them (RFC 9110 5.5) */
	trim(r->r_method);
	trim(r->r_name);
	for (i = 0; i < r->r_nparams; i++)
		trim(r->r_params + r->r_pval[i]);
	memset(&h, 0, sizeof(h));
	h.h_version = r->r_proto[0] != '\0' ? r->r_proto : NULL;
	h.h_method = r->r_has_method ? r->r_method : NULL;
	h.h_name = r->r_has_name ? r->r_name : NULL;
	for (i = 0; i < r->r_nparams; i++) {
		h.h_pname[i] = r->r_params + r->r_poff[i];
		h.h_pvalue[i] = r->r_params + r->r_pval[i];
	}
	h.h_nparams = r->r_nparams;
	h.h_too_many = r->r_params_over;
	r->r_stateless = 1;
	r->r_sess = NULL;
	r->r_sid[0] = r->r_lastevent[0] = '\0';	/* ignored here */
	c->c_busy = 1;
	c->c_indispatch = 1;
	d = mcp_dispatch_stateless(worker->w_mcp, m, &c->c_stream, &h);
	c->c_indispatch = 0;
	switch (d) {
	case MCP_ACCEPTED:
		reply(c, 202, "Accepted", NULL, NULL, NULL, 0);
		c->c_busy = 0;
		break;
	case MCP_DONE:
		c->c_busy = 0;
		break;
	case MCP_ASYNC:
		pending_take(r);
		/*
		 * No headers yet: an answer that comes alone later is JSON;
		 * the first notification opens an SSE stream.  Read on: the
		 * client closing the connection cancels the call.
		 */
		ev_io_start(worker->w_loop, &c->c_rd);
		conn_arm(c);
		break;
	}
}

static void
serve_post(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct mcp_server	*srv = worker->w_mcp;
	struct mcp_msg		 m;
	struct jw		*w = mcp_server_out(srv);
	enum mcp_disp		 d;
	int			 init;

	if (!hdr_has(r->r_accept, "application/json") ||
	    !hdr_has(r->r_accept, "text/event-stream")) {
		reply_error(c, 406, "Not Acceptable", MCP_SERVER_ERROR,
		    "Not Acceptable: Client must accept both application/json "
		    "and text/event-stream", NULL);
		return;
	}
	if (!hdr_has(r->r_ctype, "application/json")) {
		reply_error(c, 415, "Unsupported Media Type",
		    MCP_SERVER_ERROR, "Unsupported Media Type: Content-Type "
		    "must be application/json", NULL);
		return;
	}
	if (mcp_msg_parse(srv, &m, r->r_body ? r->r_body : "",
	    r->r_bodylen) == -1) {
		reply(c, 400, "Bad Request", "application/json", NULL, w->buf,
		    w->len);
		return;
	}
	r->r_mx = m.m_kind == MCP_REQUEST ? (int)mx_method_of(m.m_method) :
	    m.m_kind == MCP_BATCH ? MX_OTHER : MX_NOTIFICATION;
	/* the emergency tier: new work waits outside (accepted work not) */
	if ((m.m_kind == MCP_REQUEST || m.m_kind == MCP_BATCH) &&
	    r->r_mx != MX_TASKS && shedding()) {
		overloaded(c, &m, MX_R_SHED, "shedding load");
		return;
	}
	/* a principal's request rate: its bearer token, else its address */
	if ((m.m_kind == MCP_REQUEST || m.m_kind == MCP_BATCH) &&
	    worker->w_http.h_request_rate != 0 &&
	    !worker_rate(RATE_REQUEST, principal(c),
	    worker->w_http.h_request_rate)) {
		too_many(c, &m);
		return;
	}
	/* the requests in flight are bounded: new work waits outside */
	if ((m.m_kind == MCP_REQUEST || m.m_kind == MCP_BATCH) &&
	    worker->w_http.h_pending_max != 0 &&
	    worker->w_pending >= worker->w_http.h_pending_max &&
	    r->r_mx != MX_LISTEN) {
		overloaded(c, &m, MX_R_PENDING, "too many requests in flight");
		return;
	}
	/* the era, before anything of a session is looked at */
	switch (mcp_era(r->r_proto, &m)) {
	case MCP_ERA_UNSUPPORTED:
		r->r_stateless = 1;	/* an error, answered as JSON */
		c->c_stream.s_status = 0;
		c->c_busy = 1;
		c->c_indispatch = 1;
		mcp_unsupported_version(srv, &m, &c->c_stream, r->r_proto);
		c->c_indispatch = 0;
		c->c_busy = 0;
		return;
	case MCP_ERA_STATELESS:
		serve_stateless(c, &m);
		return;
	case MCP_ERA_SESSION:
		break;
	}
	if (m.m_kind == MCP_BATCH) {
		serve_batch(c, &m);
		return;
	}
	init = m.m_kind == MCP_REQUEST &&
	    strcmp(m.m_method, "initialize") == 0;
	/* sessions are bounded, and so is the rate they are opened at */
	if (init && r->r_sid[0] == '\0') {
		if (worker->w_http.h_sessions_max != 0 &&
		    mcp_session_count(srv) >= worker->w_http.h_sessions_max) {
			overloaded(c, &m, MX_R_SESSIONS, "too many sessions");
			return;
		}
		if (!worker_rate(RATE_INITIALIZE, c->c_addr,
		    worker->w_http.h_initialize_rate)) {
			overloaded(c, &m, MX_R_SESSIONS, "too many new "
			    "sessions from one address");
			return;
		}
	}
	if (r->r_sid[0] == '\0') {
		if (!init) {
			reply_error(c, 400, "Bad Request", MCP_SERVER_ERROR,
			    "Bad Request: Mcp-Session-Id header is required",
			    NULL);
			return;
		}
	} else {
		if ((r->r_sess = session_of(c)) == NULL)
			return;
		if (init) {
			reply_error(c, 400, "Bad Request",
			    JSONRPC_INVALID_REQUEST,
			    "Invalid Request: Server already initialized",
			    NULL);
			return;
		}
	}
	c->c_busy = 1;
	c->c_indispatch = 1;
	d = mcp_dispatch(srv, &r->r_sess, &m, &c->c_stream);
	c->c_indispatch = 0;
	switch (d) {
	case MCP_ACCEPTED:
		reply(c, 202, "Accepted", NULL, NULL, NULL, 0);
		c->c_busy = 0;
		break;
	case MCP_DONE:
		c->c_busy = 0;
		break;
	case MCP_ASYNC:
		pending_take(r);
		/* stream_send(final) ends it; until then read nothing */
		if (!r->r_headers_sent)
			sse_headers(c);
		conn_arm(c);
		if (r->r_close_stream)
			stream_close(&c->c_stream);
		break;
	}
}

static void
replay_cb(void *arg, uint64_t seq, const char *data, size_t len, int final)
{
	struct conn *c = arg;

	sse_write(c, c->c_req->r_stream, seq, data, len);
}

/* The connection whose request still feeds stream: closed or detached. */
static struct conn *
stream_owner(uint64_t stream, const char *sid)
{
	struct conn	*d;
	size_t		 i;

	for (d = deadlist; d != NULL; d = d->c_next_dead)
		if (d->c_req != NULL && d->c_req->r_stream == stream &&
		    strcmp(d->c_req->r_sid, sid) == 0 && d->c_resumer == NULL)
			return d;
	for (i = 0; i < nconns; i++) {
		d = conns[i];
		if (d->c_req != NULL && d->c_req->r_detached &&
		    d->c_req->r_stream == stream &&
		    strcmp(d->c_req->r_sid, sid) == 0 && d->c_resumer == NULL)
			return d;
	}
	return NULL;
}

/*
 * GET with Last-Event-ID: replay what the stream sent after that event
 * and, when its request is still in flight, follow it to the end.
 */
static void
resume(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct conn		*d;
	unsigned		 w;
	unsigned long long	 stream, seq;
	char			 tail;

	if (sscanf(r->r_lastevent, "%u-%llu-%llu%c", &w, &stream, &seq,
	    &tail) != 3 || w != worker->w_child->c_index) {
		reply_error(c, 400, "Bad Request", MCP_SERVER_ERROR,
		    "Bad Request: unknown Last-Event-ID", NULL);
		return;
	}
	sse_headers_plain(c, NULL);
	r->r_stream = stream;
	if (mcp_session_replay(r->r_sess, stream, seq, replay_cb, c)) {
		sse_end(c);
		return;		/* the answer was among them */
	}
	if ((d = stream_owner(stream, r->r_sid)) != NULL) {
		d->c_resumer = c;
		c->c_resumes = d;
		c->c_busy = 1;
		conn_arm(c);
		return;
	}
	sse_end(c);		/* nothing more will come on it */
}

static void
serve_get(struct conn *c)
{
	struct hreq	*r = c->c_req;

	if (!hdr_has(r->r_accept, "text/event-stream")) {
		reply_error(c, 406, "Not Acceptable", MCP_SERVER_ERROR,
		    "Not Acceptable: Client must accept text/event-stream",
		    NULL);
		return;
	}
	if (r->r_sid[0] == '\0') {
		reply_error(c, 400, "Bad Request", MCP_SERVER_ERROR,
		    "Bad Request: Mcp-Session-Id header is required", NULL);
		return;
	}
	if ((r->r_sess = session_of(c)) == NULL)
		return;
	if (r->r_lastevent[0] != '\0') {
		resume(c);
		return;
	}
	if (mcp_session_attach(r->r_sess, &c->c_stream) == -1) {
		r->r_sess = NULL;
		reply_error(c, 409, "Conflict", MCP_SERVER_ERROR,
		    "Conflict: Only one SSE stream is allowed per session",
		    NULL);
		return;
	}
	r->r_get = 1;
	c->c_busy = 1;
	sse_headers(c);
	conn_arm(c);
}

static void
serve_delete(struct conn *c)
{
	struct hreq	*r = c->c_req;

	if (r->r_sid[0] == '\0') {
		reply_error(c, 400, "Bad Request", MCP_SERVER_ERROR,
		    "Bad Request: Mcp-Session-Id header is required", NULL);
		return;
	}
	if ((r->r_sess = session_of(c)) == NULL)
		return;
	mcp_session_close(worker->w_mcp, r->r_sess);
	r->r_sess = NULL;
	reply(c, 200, "OK", NULL, NULL, NULL, 0);
}

/* Prometheus text: every process's figures, added up from the scoreboard */
static void
serve_metrics(struct conn *c)
{
	char	*text;
	size_t	 len;

	update_gauges();
	if ((text = mx_prometheus(&worker->w_child->c_sb, &len)) == NULL) {
		reply(c, 500, "Internal Server Error", NULL, NULL, NULL, 0);
		return;
	}
	reply(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    "Cache-Control: no-store\r\n", text, len);
	free(text);
}

static void
serve(struct conn *c)
{
	struct hreq	*r = c->c_req;
	struct child	*ch = worker->w_child;
	http_parser	*p = &c->c_parser;
	char		 body[256];
	int		 n;

	r->r_t0_us = now_us();
	if (c->c_kind == LISTEN_ADMIN && path_is(r, "/metrics") &&
	    (p->method == HTTP_GET || p->method == HTTP_HEAD)) {
		serve_metrics(c);
		return;
	}
	if (path_is(r, "/readyz") && (p->method == HTTP_GET ||
	    p->method == HTTP_HEAD)) {
		if (worker->w_quitting)
			reply(c, 503, "Service Unavailable", "text/plain",
			    "Cache-Control: no-store\r\n", "draining\n", 9);
		else
			reply(c, 200, "OK", "text/plain",
			    "Cache-Control: no-store\r\n", "ready\n", 6);
		return;
	}
	if (path_is(r, "/healthz") && (p->method == HTTP_GET ||
	    p->method == HTTP_HEAD)) {
		n = snprintf(body, sizeof(body),
		    "{\"status\":\"ok\",\"pid\":%ld,\"worker\":%u,"
		    "\"generation\":%u,\"connections\":%llu,\"sessions\":%u,"
		    "\"listeners\":%u,\"tasks\":%u,\"overflows\":%llu,"
		    "\"pending\":%llu}\n",
		    (long)getpid(), ch->c_index, ch->c_gen,
		    (unsigned long long)worker->w_conns,
		    mcp_session_count(worker->w_mcp),
		    mcp_listener_count(worker->w_mcp),
		    mcp_task_count(worker->w_mcp),
		    (unsigned long long)overflows,
		    (unsigned long long)worker->w_pending);
		reply(c, 200, "OK", "application/json", "Cache-Control: "
		    "no-store\r\n", body, n);
		return;
	}
	if (c->c_kind != LISTEN_HTTP || !path_is(r, worker->w_http.h_path)) {
		reply(c, 404, "Not Found", "application/json", NULL,
		    "{\"error\":\"not found\"}\n", 22);
		return;
	}
	/* DNS rebinding: a foreign Host or Origin never reaches MCP */
	if (!conf_host_allowed(worker->w_child->c_conf, r->r_host,
	    strlen(r->r_host))) {
		reply_error(c, 403, "Forbidden", MCP_SERVER_ERROR,
		    "Forbidden: Invalid Host header", NULL);
		return;
	}
	if (r->r_has_origin && !conf_origin_allowed(worker->w_child->c_conf,
	    r->r_origin, strlen(r->r_origin))) {
		reply_error(c, 403, "Forbidden", MCP_SERVER_ERROR,
		    "Forbidden: Invalid Origin header", NULL);
		return;
	}
	if (r->r_too_big) {
		c->c_close = 1;
		reply_error(c, 413, "Payload Too Large", MCP_SERVER_ERROR,
		    "Payload Too Large", NULL);
		return;
	}
	if ((p->method == HTTP_GET || p->method == HTTP_DELETE) &&
	    mcp_version_stateless(r->r_proto)) {
		/* no GET stream and no session to end in 2026-07-28 */
		reply_error(c, 405, "Method Not Allowed", MCP_SERVER_ERROR,
		    "Method Not Allowed", "Allow: POST\r\n");
		return;
	}
	switch (p->method) {
	case HTTP_POST:
		serve_post(c);
		break;
	case HTTP_GET:
		serve_get(c);
		break;
	case HTTP_DELETE:
		serve_delete(c);
		break;
	default:
		reply_error(c, 405, "Method Not Allowed", MCP_SERVER_ERROR,
		    "Method Not Allowed", "Allow: GET, POST, DELETE\r\n");
		break;
	}
}

/* Parser callbacks */

static void
append(char *dst, size_t dstlen, const char *at, size_t len)
{
	size_t n = strlen(dst);

	if (n + len >= dstlen)
		len = dstlen - 1 - n;
	memcpy(dst + n, at, len);
	dst[n + len] = '\0';
}

static int
count_header(struct conn *c, size_t len)
{
	struct hreq *r = c->c_req;

	r->r_hdrbytes += len;
	return r->r_hdrbytes > worker->w_http.h_header_max ? -1 : 0;
}

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
	struct conn	*c = p->data;
	struct hreq	*r = c->c_req;

	if (count_header(c, len) == -1)
		return -1;
	if (r->r_urllen + len >= sizeof(r->r_url)) {
		r->r_url_long = 1;
		return 0;
	}
	memcpy(r->r_url + r->r_urllen, at, len);
	r->r_urllen += len;
	r->r_url[r->r_urllen] = '\0';
	return 0;
}

static void
header_commit(struct hreq *r)
{
#define KNOWN(s, h)	{ s, sizeof(s) - 1, h }
	static const struct {
		const char	*name;
		size_t		 len;
		enum hdr	 h;
	} known[] = {
		KNOWN("host", H_HOST), KNOWN("origin", H_ORIGIN),
		KNOWN("accept", H_ACCEPT), KNOWN("content-type", H_CTYPE),
		KNOWN("mcp-session-id", H_SID),
		KNOWN("mcp-protocol-version", H_PROTO),
		KNOWN("last-event-id", H_LASTEVENT),
		KNOWN("mcp-method", H_METHOD), KNOWN("mcp-name", H_NAME),
		KNOWN("authorization", H_AUTH)
	};
#undef KNOWN
	size_t i, n, off;

	r->r_cur = H_NONE;
	r->r_field[r->r_fieldlen < HDR_FIELD_MAX ? r->r_fieldlen :
	    HDR_FIELD_MAX - 1] = '\0';
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (r->r_fieldlen == known[i].len &&
		    strcasecmp(r->r_field, known[i].name) == 0) {
			r->r_cur = known[i].h;
			break;
		}
	if (r->r_cur == H_ORIGIN)
		r->r_has_origin = 1;
	else if (r->r_cur == H_METHOD)
		r->r_has_method = 1;
	else if (r->r_cur == H_NAME)
		r->r_has_name = 1;
	if (strncasecmp(r->r_field, "mcp-param-", 10) == 0) {
		/* the name after the prefix, then the value */
		n = strlen(r->r_field + 10);
		off = r->r_paramslen == 0 ? 0 : r->r_paramslen + 1;
		if (r->r_nparams == MCP_PARAM_HEADERS_MAX ||
		    off + n + 2 >= sizeof(r->r_params)) {
			r->r_params_over = 1;
			return;
		}
		memcpy(r->r_params + off, r->r_field + 10, n + 1);
		r->r_poff[r->r_nparams] = off;
		r->r_pval[r->r_nparams] = off + n + 1;
		r->r_paramslen = off + n + 1;
		r->r_params[r->r_paramslen] = '\0';
		r->r_nparams++;
		r->r_cur = H_PARAM;
	}
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct conn	*c = p->data;
	struct hreq	*r = c->c_req;

	if (count_header(c, len) == -1)
		return -1;
	if (r->r_in_value) {
		r->r_in_value = 0;
		r->r_fieldlen = 0;
	}
	if (r->r_fieldlen + len < HDR_FIELD_MAX)
		memcpy(r->r_field + r->r_fieldlen, at, len);
	r->r_fieldlen += len;
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct conn	*c = p->data;
	struct hreq	*r = c->c_req;

	if (count_header(c, len) == -1)
		return -1;
	if (!r->r_in_value) {
		r->r_in_value = 1;
		header_commit(r);
	}
	switch (r->r_cur) {
#define KEEP(field)	append(field, sizeof(field), at, len); break
	case H_HOST:		KEEP(r->r_host);
	case H_ORIGIN:		KEEP(r->r_origin);
	case H_ACCEPT:		KEEP(r->r_accept);
	case H_CTYPE:		KEEP(r->r_ctype);
	case H_SID:		KEEP(r->r_sid);
	case H_PROTO:		KEEP(r->r_proto);
	case H_LASTEVENT:	KEEP(r->r_lastevent);
	case H_METHOD:		KEEP(r->r_method);
	case H_NAME:		KEEP(r->r_name);
	case H_AUTH:		KEEP(r->r_auth);
#undef KEEP
	case H_PARAM:
		if (r->r_paramslen + len + 1 >= sizeof(r->r_params)) {
			r->r_params_over = 1;
			break;
		}
		memcpy(r->r_params + r->r_paramslen, at, len);
		r->r_paramslen += len;
		r->r_params[r->r_paramslen] = '\0';
		break;
	case H_NONE:
		break;
	}
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct conn	*c = p->data;
	struct hreq	*r = c->c_req;

	if (p->content_length != ULLONG_MAX &&
	    p->content_length > worker->w_http.h_body_max) {
		/* refuse now, before the client uploads all of it */
		r->r_too_big = 1;
		c->c_inreq = 0;
		serve(c);
		return -1;
	}
	conn_arm(c);
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct conn	*c = p->data;
	struct hreq	*r = c->c_req;
	size_t		 cap;
	char		*b;

	if (r->r_too_big)
		return 0;
	if (r->r_bodylen + len > worker->w_http.h_body_max) {
		r->r_too_big = 1;
		return 0;
	}
	if (r->r_bodylen + len + 1 > r->r_bodycap) {
		cap = r->r_bodycap ? r->r_bodycap : 4096;
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

static void
conn_arm(struct conn *c)
{
	const struct hcfg	*h = &worker->w_http;
	uint32_t		 ms;

	if (c->c_dead || c->c_overflow)
		return;		/* an overflow's timer closes it */
	if (c->c_req != NULL && (c->c_req->r_get ||
	    (c->c_busy && c->c_req->r_sse)))
		ms = h->h_keepalive_ms;	/* a quiet stream stays alive */
	else if (c->c_busy)
		ms = 0;			/* the engine's timeouts apply */
	else if (c->c_inreq)
		ms = c->c_parser.state >= 0 && c->c_req != NULL &&
		    c->c_req->r_bodylen > 0 ? h->h_body_ms : h->h_header_ms;
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
	if (c->c_req != NULL && (c->c_req->r_get ||
	    (c->c_busy && c->c_req->r_sse))) {
		conn_arm(c);	/* the next one; before c may go */
		sse_comment(c, "keepalive");
		conn_flush(c);
		return;
	}
	if (c->c_inreq) {
		c->c_close = 1;
		reply(c, 408, "Request Timeout", NULL, NULL, NULL, 0);
		conn_flush(c);
		return;
	}
	conn_close(c);
}

static void
set_ref(struct msg_field_ref *f, const char *s)
{
	f->p = s;
	f->len = strlen(s);
}

/* Give the connection and its request to the session's owner. */
static void
handoff(struct conn *c)
{
	struct hreq	*r = c->c_req;
	struct handoff	 h;
	uint32_t	 owner = c->c_handoff - 1;
	int		 fd, task;

	c->c_handoff = 0;
	task = c->c_handoff_task;
	c->c_handoff_task = 0;
	memset(&h, 0, sizeof(h));
	h.h_kind = c->c_kind;
	h.h_method = c->c_parser.method;
	h.h_major = c->c_parser.http_major;
	h.h_minor = c->c_parser.http_minor;
	h.h_keepalive = http_should_keep_alive(&c->c_parser);
	set_ref(&h.h_url, r->r_url);
	set_ref(&h.h_host, r->r_host);
	set_ref(&h.h_origin, r->r_origin);
	h.h_has_origin = r->r_has_origin;
	set_ref(&h.h_accept, r->r_accept);
	set_ref(&h.h_ctype, r->r_ctype);
	set_ref(&h.h_sid, r->r_sid);
	set_ref(&h.h_proto, r->r_proto);
	set_ref(&h.h_lastevent, r->r_lastevent);
	h.h_has_mcp_method = r->r_has_method;
	set_ref(&h.h_mcp_method, r->r_method);
	h.h_has_mcp_name = r->r_has_name;
	set_ref(&h.h_mcp_name, r->r_name);
	h.h_body.p = r->r_body != NULL ? r->r_body : "";
	h.h_body.len = r->r_bodylen;
	h.h_pend.p = c->c_pend;
	h.h_pend.len = c->c_pendlen;
	if (c->c_out != NULL || (fd = dup(c->c_fd)) == -1 ||
	    peer_handoff(owner, fd, &h) == -1) {
		/* the owner is gone, and its sessions and tasks with it */
		if (task)
			reply_error(c, 200, "OK", JSONRPC_INVALID_PARAMS,
			    "Failed to retrieve task: Task not found", NULL);
		else
			reply_error(c, 404, "Not Found", -32001,
			    "Session not found", NULL);
		c->c_busy = 0;
		request_done(c);
		return;
	}
	log_debug("fd %d: session of worker %u: handed over", c->c_fd, owner);
	conn_close(c);		/* our copy only: the socket lives on */
}

/* Feed bytes to the parser; the connection may be closed on return. */
static void
parse(struct conn *c, const char *buf, size_t n)
{
	size_t	done;
	int	err;

	if (cork_owner == NULL)
		cork_owner = c;
	c->c_inparse = 1;
	done = http_parser_execute(&c->c_parser, &settings, buf, n);
	c->c_inparse = 0;
	if (cork_owner == c) {
		cork_owner = NULL;
		cork_flush(c);
	}
	err = HTTP_PARSER_ERRNO(&c->c_parser);
	if (err == HPE_PAUSED) {
		/* keep what follows for when this request is answered */
		if (done < n && !c->c_close) {
			char *p = malloc(c->c_pendlen + n - done);

			if (p == NULL) {
				c->c_close = 1;
			} else {
				if (c->c_pendlen)
					memcpy(p, c->c_pend, c->c_pendlen);
				memcpy(p + c->c_pendlen, buf + done, n - done);
				free(c->c_pend);
				c->c_pend = p;
				c->c_pendlen += n - done;
			}
		}
		/*
		 * A request of the stateless era in flight: read on (within
		 * a bound), so a client closing its stream cancels it.
		 */
		if (!c->c_busy || c->c_req == NULL ||
		    !c->c_req->r_stateless || c->c_pendlen >
		    worker->w_http.h_body_max + worker->w_http.h_header_max)
			ev_io_stop(worker->w_loop, &c->c_rd);
		if (c->c_handoff) {
			handoff(c);
			return;
		}
	} else if (err != HPE_OK) {
		log_debug("fd %d: %s", c->c_fd, http_errno_description(err));
		/* the parser's guess of the method is no request's method */
		c->c_parser.method = HTTP_GET;
		if (c->c_req != NULL && c->c_req->r_too_big)
			;	/* answered 413 from the headers already */
		else if (c->c_req != NULL && c->c_req->r_hdrbytes >
		    worker->w_http.h_header_max)
			reply(c, 431, "Request Header Fields Too Large", NULL,
			    NULL, NULL, 0);
		else
			reply(c, 400, "Bad Request", "application/json", NULL,
			    "{\"error\":\"bad request\"}\n", 24);
		c->c_close = 1;
	}
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

/* After a request is answered: parse what waited, read again. */
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
		memcpy(scratch, p, n < sizeof(scratch) ? n : sizeof(scratch));
		free(p);
		if (!c->c_busy)
			ev_io_start(worker->w_loop, &c->c_rd);
		parse(c, scratch, n < sizeof(scratch) ? n : sizeof(scratch));
		return;
	}
	if (c->c_out == NULL)
		ev_io_start(worker->w_loop, &c->c_rd);
	conn_arm(c);
	conn_flush(c);		/* a quitting worker closes it now */
}

/* Close when done and everything is out. */
static void
conn_flush(struct conn *c)
{
	if (c->c_dead || c->c_inparse || c == cork_owner)
		return;		/* parse() flushes when the parser is done */
	if (c->c_close && c->c_out == NULL && !c->c_busy) {
		conn_close(c);
		return;
	}
	if (worker->w_quitting && c->c_served && !c->c_inreq &&
	    !c->c_busy && c->c_out == NULL) {
		conn_close(c);
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

static void
conn_close(struct conn *c)
{
	struct hreq *r = c->c_req;

	if (c->c_dead)
		return;
	if (c == cork_owner) {	/* what it answered goes first */
		cork_owner = NULL;
		cork_flush(c);
	}
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

/* This worker's gauges in its scoreboard block. */
static void
update_gauges(void)
{
	struct sb_metrics	*m = worker->w_metrics;
	uint64_t		 busy = 0, out = 0;
	size_t			 i;

	if (m == NULL || worker->w_mcp == NULL)
		return;
	for (i = 0; i < nconns; i++) {
		if (conns[i]->c_busy)
			busy++;
		if (conns[i]->c_out != NULL)
			out += conns[i]->c_outlen - conns[i]->c_outoff;
	}
	MX_SET(&m->m_gauge[MX_G_SESSIONS], mcp_session_count(worker->w_mcp));
	MX_SET(&m->m_gauge[MX_G_LISTENERS],
	    mcp_listener_count(worker->w_mcp));
	MX_SET(&m->m_gauge[MX_G_TASKS], mcp_task_count(worker->w_mcp));
	MX_SET(&m->m_gauge[MX_G_PENDING], worker->w_pending);
	(void)busy;
	MX_SET(&m->m_gauge[MX_G_OUTPUT_BYTES], out);
}

static void
sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	unsigned n;

	update_gauges();
	n = mcp_session_expire(worker->w_mcp, worker->w_http.h_session_ms);
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
}

void
http_conn_new(struct worker *w, int fd, enum listen_kind kind,
    const char *pre, size_t prelen, const unsigned char *addr, int counted)
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
	if (addr != NULL) {
		memcpy(c->c_addr, addr, ADDR_KEY);
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
	if (pre != NULL && prelen > 0)
		parse(c, pre, prelen);
	return;
fail:
	log_warn("connection");
	close(fd);
	if (addr != NULL && counted)
		worker_addr_release(addr);
	worker_conn_closed();
}

static void
copy_ref(char *dst, size_t dstlen, const struct msg_field_ref *f)
{
	size_t n = f->len < dstlen ? f->len : dstlen - 1;

	if (n > 0)	/* msgpack gives NULL for an empty string */
		memcpy(dst, f->p, n);
	dst[n] = '\0';
}

/* A connection handed over by another worker, with its request. */
void
http_adopt(struct worker *w, int fd, const struct handoff *h)
{
	struct conn	*c;
	struct hreq	*r;
	unsigned char	 key[ADDR_KEY];

	worker_addr_take(fd, key);
	http_conn_new(w, fd, h->h_kind, NULL, 0, key, w->w_per_address != 0);
	if (nconns == 0 || (c = conns[nconns - 1])->c_fd != fd)
		return;		/* could not take it: closed */
	if ((r = c->c_req = hreq_get()) == NULL) {
		conn_close(c);
		return;
	}
	c->c_parser.method = h->h_method;
	c->c_parser.http_major = h->h_major;
	c->c_parser.http_minor = h->h_minor;
	c->c_parser.flags |= h->h_keepalive ? F_CONNECTION_KEEP_ALIVE :
	    F_CONNECTION_CLOSE;
	if (h->h_url.len >= sizeof(r->r_url))
		r->r_url_long = 1;
	copy_ref(r->r_url, sizeof(r->r_url), &h->h_url);
	copy_ref(r->r_host, sizeof(r->r_host), &h->h_host);
	copy_ref(r->r_origin, sizeof(r->r_origin), &h->h_origin);
	r->r_has_origin = h->h_has_origin;
	copy_ref(r->r_accept, sizeof(r->r_accept), &h->h_accept);
	copy_ref(r->r_ctype, sizeof(r->r_ctype), &h->h_ctype);
	copy_ref(r->r_sid, sizeof(r->r_sid), &h->h_sid);
	copy_ref(r->r_proto, sizeof(r->r_proto), &h->h_proto);
	copy_ref(r->r_lastevent, sizeof(r->r_lastevent), &h->h_lastevent);
	r->r_has_method = h->h_has_mcp_method;
	copy_ref(r->r_method, sizeof(r->r_method), &h->h_mcp_method);
	r->r_has_name = h->h_has_mcp_name;
	copy_ref(r->r_name, sizeof(r->r_name), &h->h_mcp_name);
	if (h->h_body.len > 0 && on_body(&c->c_parser, h->h_body.p,
	    h->h_body.len) == -1) {
		conn_close(c);
		return;
	}
	if (h->h_pend.len > 0 && (c->c_pend = malloc(h->h_pend.len)) != NULL) {
		memcpy(c->c_pend, h->h_pend.p, h->h_pend.len);
		c->c_pendlen = h->h_pend.len;
	}
	ev_io_stop(w->w_loop, &c->c_rd);
	serve(c);
	if (c->c_dead)
		return;
	if (c->c_handoff) {
		handoff(c);
		return;
	}
	if (!c->c_busy && !c->c_close) {
		request_done(c);	/* may free c */
		return;
	}
	if (c->c_busy)
		http_parser_pause(&c->c_parser, 1);
	conn_flush(c);
}

/*
 * Stop: every connection is closed after its next answer.  An idle
 * keep-alive connection is not closed at once: its client may be sending
 * the next request right now, and closing would reset it unanswered (in a
 * closed loop under load it is sending it: a reload failed ~1 request in
 * 10,000 that way).  It gets QUIT_IDLE_MS to send one; quiet for that
 * long, it is closed.  A connection that has not sent its first request
 * yet was just accepted, and its client is about to send it: it gets its
 * answer too (or the drain deadline).  Standalone SSE streams end now.
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
		} else if (c->c_served && !c->c_inreq && !c->c_busy &&
		    c->c_out == NULL) {
			/* timeout_cb closes it; an answer before, too */
			ev_timer_stop(worker->w_loop, &c->c_to);
			conn_deadline(c, QUIT_IDLE_MS);
		} else
			c->c_close = 1;
	}
}
