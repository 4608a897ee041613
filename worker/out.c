/*
 * out.c -- what a connection sends: its output buffer, the cork, response
 * heads and the framing of an SSE stream.
 *
 * An answer is written at once when the socket takes it; what it does not
 * take waits in the connection's buffer, bounded by max-output-buffer (a
 * client that does not read is closed, not fed).  While a connection's
 * input is parsed its answers gather in one buffer of the worker (the
 * cork) and go in one write, one packet.  SSE events are chunks of a
 * chunked response; in the session era each carries an id, unique across
 * the session's streams (worker, stream, event), for resumption.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

#define OUT_CAP_MIN_BYTES	4096	/* first output buffer */
#define CORK_MAX_BYTES		(64 * 1024) /* answers gathered */
/*
 * A response head: the status line and our few headers (a session id, a
 * length, Connection), and one WWW-Authenticate challenge, the longest
 * extra line there is (a 768-byte head cut a long resource-uri's)
 */
#define REPLY_HEAD_MAX_BYTES	(768 + AUTH_HEADER_MAX_BYTES)

static char		 corkbuf[CORK_MAX_BYTES];
static size_t		 corklen;
static struct conn	*cork_owner;	/* whose answers gather */
static uint64_t		 streams;	/* SSE streams opened */
uint64_t		 overflows;

static void
out_queue(struct conn *c, const char *buf, size_t len)
{
	uint64_t	 max = worker->w_http.h_out_max ?
			    worker->w_http.h_out_max : HTTP_OUT_MAX_BYTES;
	char		*p;
	size_t		 cap;

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
		/* what was sent goes first; then the room doubles */
		if (c->c_outoff > 0) {
			memmove(c->c_out, c->c_out + c->c_outoff,
			    c->c_outlen - c->c_outoff);
			c->c_outlen -= c->c_outoff;
			c->c_outoff = 0;
		}
		cap = c->c_outcap ? c->c_outcap : OUT_CAP_MIN_BYTES;
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
	memcpy(c->c_out + c->c_outlen, buf, len);
	c->c_outlen += len;
	ev_io_start(worker->w_loop, &c->c_wr);
	/* events that wait here die with us: the registry keeps them */
	sse_share(c);
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

/* c's answers gather from now, unless another's do */
void
out_cork(struct conn *c)
{
	if (cork_owner == NULL)
		cork_owner = c;
}

/* what c gathered goes */
void
out_uncork(struct conn *c)
{
	if (cork_owner == c) {
		cork_owner = NULL;
		cork_flush(c);
	}
}

int
out_corked(const struct conn *c)
{
	return c == cork_owner;
}

static void
out_writev(struct conn *c, struct iovec *iov, int n)
{
	size_t	total = 0;
	int	i;

	if (c->c_dead)
		return;
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (c->c_req != NULL)
		c->c_req->r_bytes += total;
	if (c == cork_owner && c->c_out == NULL) {
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
	if (!http_should_keep_alive(&c->c_parser) || c->c_close)
		return 0;
	/* a quitting worker hands it to its successor: conn_flush */
	if (worker->w_quitting)
		return peer_successor();
	return !admit_stopping();	/* the daemon is going: keep none */
}

/*
 * The code of a JSON-RPC error response, 0 for a result: our own
 * messages begin {"jsonrpc":"2.0","id":ID,"error":{"code":N, so a look at
 * the start is enough.
 */
int
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

const char *
status_reason(int status)
{
	switch (status) {
	case 200:	return "OK";
	case 202:	return "Accepted";
	case 400:	return "Bad Request";
	case 401:	return "Unauthorized";
	case 403:	return "Forbidden";
	case 404:	return "Not Found";
	case 405:	return "Method Not Allowed";
	case 406:	return "Not Acceptable";
	case 408:	return "Request Timeout";
	case 409:	return "Conflict";
	case 411:	return "Length Required";
	case 413:	return "Payload Too Large";
	case 415:	return "Unsupported Media Type";
	case 417:	return "Expectation Failed";
	case 429:	return "Too Many Requests";
	case 431:	return "Request Header Fields Too Large";
	case 500:	return "Internal Server Error";
	case 503:	return "Service Unavailable";
	case 505:	return "HTTP Version Not Supported";
	default:	return "Error";
	}
}

/* A complete response with a body. */
void
reply(struct conn *c, int status, const char *ctype, const char *extra,
    const char *body, size_t len)
{
	reply_as(c, status, status_reason(status), ctype, extra, body, len);
}

void
reply_as(struct conn *c, int status, const char *reason, const char *ctype,
    const char *extra, const char *body, size_t len)
{
	struct hreq	*r = c->c_req;
	char		 hdr[REPLY_HEAD_MAX_BYTES];
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

/* An interim answer to Expect: 100-continue: the client sends its body. */
void
reply_continue(struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	out_write(c, cont, sizeof(cont) - 1);
}

void
reply_out(struct conn *c, int status, const char *extra)
{
	struct jw *w = mcp_server_out(worker->w_mcp);

	reply(c, status, "application/json", extra, w->buf, w->len);
}

void
reply_error(struct conn *c, int status, int code, const char *message,
    const char *extra)
{
	mcp_write_error(worker->w_mcp, NULL, code, message);
	reply_out(c, status, extra);
}

/* The headers of an SSE response; sid: the session's id, or NULL. */
void
sse_headers_plain(struct conn *c, const char *sid)
{
	struct hreq	*r = c->c_req;
	char		 hdr[512];
	int		 n, close = !keep_alive(c);

	/*
	 * A connection that ends with this stream says so (a quitting
	 * worker's: its client would send the next request into a close)
	 */
	if (close)
		c->c_close = 1;
	n = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "%s%s%s%s"
	    "\r\n", close ? "Connection: close\r\n" : "",
	    sid ? "Mcp-Session-Id: " : "", sid ? sid : "", sid ? "\r\n" : "");
	out_write(c, hdr, n);
	r->r_headers_sent = 1;
	r->r_sse = 1;
}

/*
 * The streams of this worker are numbered from here on: past every stream
 * an adopted session's events name, and at start past the microseconds
 * since the epoch, so that a successor (which adopts the events of its
 * predecessor's streams; a predecessor that opened more than a stream a
 * microsecond is unheard of) never gives a new stream the number of an
 * old one a client may resume.
 */
void
sse_streams_past(uint64_t n)
{
	if (streams < n)
		streams = n;
}

/*
 * The events of the connection's session stream go to the registry from
 * now on, with what it lacks of them so far: the stream outlives its
 * dispatch, its output backs up, or its connection closed or was ended
 * under it.  Until then an event written whole to the socket is not
 * copied (mcp.h).
 */
void
sse_share(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct mcp_session	*s;
	int			 owner;

	if (r == NULL || r->r_shared || !r->r_sse || r->r_stateless ||
	    r->r_head.rh_sid[0] == '\0' ||
	    (s = mcp_session_find(worker->w_mcp, r->r_head.rh_sid,
	    &owner)) == NULL)
		return;
	r->r_shared = 1;
	mcp_session_share_stream(s, r->r_stream);
}

/* A new stream of this worker, primed for resumption. */
void
sse_headers(struct conn *c)
{
	struct hreq *r = c->c_req;

	sse_headers_plain(c, r->r_sess ? mcp_session_id(r->r_sess) : NULL);
	r->r_stream = ++streams;
	/* what the stream answers (mcp.h): an id, none for a GET's */
	if (r->r_sess != NULL && !r->r_batch && !r->r_get &&
	    r->r_rpcidlen > 0)
		mcp_session_record(r->r_sess, r->r_stream, 0, r->r_rpcid,
		    r->r_rpcidlen, 0, 0);
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

/* One SSE event in one chunk: head (id and data: ...), the JSON, the end. */
static void
sse_chunk(struct conn *c, const char *head, size_t hn, const char *json,
    size_t len)
{
	char		size[24];
	struct iovec	iov[4];
	int		sn;

	sn = snprintf(size, sizeof(size), "%zx\r\n", hn + len + 2);
	iov[0].iov_base = size;
	iov[0].iov_len = sn;
	iov[1].iov_base = (void *)head;
	iov[1].iov_len = hn;
	iov[2].iov_base = (void *)json;
	iov[2].iov_len = len;
	iov[3].iov_base = "\n\n\r\n";
	iov[3].iov_len = 4;
	out_writev(c, iov, 4);
}

/* An event with the id of stream, seq: unique across a session's streams. */
void
sse_write(struct conn *c, uint64_t stream, uint64_t seq, const char *json,
    size_t len)
{
	char	head[128];
	int	hn;

	hn = snprintf(head, sizeof(head), "event: message\nid: %u-%llu-%llu\n"
	    "data: ", worker->w_child->c_index, (unsigned long long)stream,
	    (unsigned long long)seq);
	sse_chunk(c, head, hn, json, len);
}

/* An event without an id (the stateless era resumes nothing). */
void
sse_write_plain(struct conn *c, const char *json, size_t len)
{
	static const char head[] = "event: message\ndata: ";

	sse_chunk(c, head, sizeof(head) - 1, json, len);
}

void
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

void
sse_end(struct conn *c)
{
	out_write(c, "0\r\n\r\n", 5);
	if (!keep_alive(c))
		c->c_close = 1;
}
