/*
 * http.c -- HTTP/1.1 connections of a worker (keep-alive, pipelining).
 *
 * For now a worker answers GET /healthz with its identity and 404 to
 * anything else; the MCP endpoint comes with the engine.  A connection owns
 * no buffer while idle: requests are read into one per-worker scratch
 * buffer and parsed in place by http-parser, and output is written at once,
 * allocating only for what the socket would not take.  While output is
 * pending we stop reading (the client must read its answers first).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <http_parser.h>

#include "log.h"
#include "util.h"
#include "worker.h"

#define HTTP_OUT_MAX		(1024 * 1024)	/* bytes pending per connection */

struct conn {
	int			 c_fd;
	enum listen_kind	 c_kind;
	http_parser		 c_parser;
	ev_io			 c_rd;
	ev_io			 c_wr;
	ev_timer		 c_idle_to;
	char			*c_out;		/* unsent output, or NULL */
	uint32_t		 c_outlen;
	uint32_t		 c_outoff;
	uint16_t		 c_urlpos;	/* bytes of URL seen */
	uint8_t			 c_urlmatch;	/* URL is /healthz so far */
	uint8_t			 c_close;	/* close once output is out */
	uint8_t			 c_inreq;	/* a request is being read */
	uint8_t			 c_served;	/* answered at least one */
};

static const char	 healthz[] = "/healthz";
static char		 scratch[READ_SCRATCH_BYTES];
static http_parser_settings settings;
static int		 settings_done;

/* For http_quit: every connection, so idle ones can be closed. */
static struct conn	**conns;
static size_t		  nconns, conns_cap;

static void	conn_close(struct conn *);
static void	conn_write(struct conn *);

static int
conns_add(struct conn *c)
{
	if (nconns == conns_cap) {
		size_t		 n = conns_cap ? conns_cap * 2 : 64;
		struct conn	**p;

		if ((p = reallocarray(conns, n, sizeof(*p))) == NULL)
			return -1;
		conns = p;
		conns_cap = n;
	}
	conns[nconns++] = c;
	return 0;
}

static void
conns_del(struct conn *c)
{
	size_t i;

	for (i = nconns; i-- > 0;) {
		if (conns[i] == c) {
			conns[i] = conns[--nconns];
			return;
		}
	}
}

static int
on_message_begin(http_parser *p)
{
	struct conn *c = p->data;

	c->c_inreq = 1;
	c->c_urlpos = 0;
	c->c_urlmatch = 1;
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct conn	*c = p->data;
	size_t		 i;

	for (i = 0; i < len && c->c_urlmatch; i++) {
		if (c->c_urlpos > sizeof(healthz) - 1)
			break;		/* in the query string: irrelevant */
		if (c->c_urlpos < sizeof(healthz) - 1 ?
		    at[i] != healthz[c->c_urlpos] : at[i] != '?')
			c->c_urlmatch = 0;
		c->c_urlpos++;
	}
	return 0;
}

static void
out_append(struct conn *c, const char *buf, size_t len)
{
	ssize_t	 n = 0;
	char	*p;

	if (c->c_out == NULL) {
		n = send(c->c_fd, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				c->c_close = 1;
				return;
			}
			n = 0;
		}
		if ((size_t)n == len)
			return;
	}
	if (c->c_outlen - c->c_outoff + (len - n) > HTTP_OUT_MAX) {
		log_debug("fd %d: client does not read its answers; closing",
		    c->c_fd);
		c->c_close = 1;
		return;
	}
	if ((p = realloc(c->c_out, c->c_outlen + (len - n))) == NULL) {
		c->c_close = 1;
		return;
	}
	memcpy(p + c->c_outlen, buf + n, len - n);
	c->c_out = p;
	c->c_outlen += len - n;
	ev_io_stop(worker->w_loop, &c->c_rd);
	ev_io_start(worker->w_loop, &c->c_wr);
}

static int
on_message_complete(http_parser *p)
{
	struct conn	*c = p->data;
	struct child	*ch = worker->w_child;
	char		 body[256], hdr[256];
	const char	*status;
	int		 blen, hlen, keep, head, ok;

	head = p->method == HTTP_HEAD;
	ok = c->c_urlmatch && c->c_urlpos >= sizeof(healthz) - 1 &&
	    (p->method == HTTP_GET || head);
	if (ok) {
		status = "200 OK";
		blen = snprintf(body, sizeof(body),
		    "{\"status\":\"ok\",\"pid\":%ld,\"worker\":%u,"
		    "\"generation\":%u,\"connections\":%llu}\n",
		    (long)getpid(), ch->c_index, ch->c_gen,
		    (unsigned long long)worker->w_conns);
	} else {
		status = "404 Not Found";
		blen = snprintf(body, sizeof(body),
		    "{\"error\":\"not found\"}\n");
	}
	keep = http_should_keep_alive(p) && !worker->w_quitting;
	hlen = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %d\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "\r\n", status, blen, keep ? "" : "Connection: close\r\n");
	out_append(c, hdr, hlen);
	if (!head)
		out_append(c, body, blen);
	c->c_inreq = 0;
	c->c_served = 1;
	if (!keep) {
		c->c_close = 1;
		http_parser_pause(p, 1);
	}
	return 0;
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_close(w->data);
}

static void
conn_close(struct conn *c)
{
	ev_io_stop(worker->w_loop, &c->c_rd);
	ev_io_stop(worker->w_loop, &c->c_wr);
	ev_timer_stop(worker->w_loop, &c->c_idle_to);
	close(c->c_fd);
	free(c->c_out);
	conns_del(c);
	free(c);
	worker_conn_closed();
}

/* Close if done; otherwise rearm the idle timer.  1: closed. */
static int
conn_settle(struct conn *c)
{
	if (c->c_close && c->c_out == NULL) {
		conn_close(c);
		return 1;
	}
	if (worker->w_quitting && c->c_served && !c->c_inreq &&
	    c->c_out == NULL) {
		conn_close(c);
		return 1;
	}
	ev_timer_again(worker->w_loop, &c->c_idle_to);
	return 0;
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn	*c = w->data;
	ssize_t		 n;
	size_t		 done;

	n = recv(c->c_fd, scratch, sizeof(scratch), 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		conn_close(c);
		return;
	}
	done = http_parser_execute(&c->c_parser, &settings, scratch, n);
	if (HTTP_PARSER_ERRNO(&c->c_parser) != HPE_OK &&
	    HTTP_PARSER_ERRNO(&c->c_parser) != HPE_PAUSED) {
		static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: 24\r\nConnection: close\r\n\r\n"
		    "{\"error\":\"bad request\"}\n";

		log_debug("fd %d: %s", c->c_fd, http_errno_description(
		    HTTP_PARSER_ERRNO(&c->c_parser)));
		out_append(c, bad, sizeof(bad) - 1);
		c->c_close = 1;
	} else if (done < (size_t)n && !c->c_close)
		c->c_close = 1;
	if (c->c_close)
		ev_io_stop(loop, &c->c_rd);
	conn_settle(c);
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	conn_write(c);
	if (c->c_out == NULL && !c->c_close)
		ev_io_start(loop, &c->c_rd);
	conn_settle(c);
}

static void
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->c_outoff < c->c_outlen) {
		n = send(c->c_fd, c->c_out + c->c_outoff,
		    c->c_outlen - c->c_outoff, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			c->c_close = 1;
			break;
		}
		c->c_outoff += n;
	}
	free(c->c_out);
	c->c_out = NULL;
	c->c_outlen = c->c_outoff = 0;
	ev_io_stop(worker->w_loop, &c->c_wr);
}

void
http_conn_new(struct worker *w, int fd, enum listen_kind kind)
{
	struct conn *c;

	if (!settings_done) {
		http_parser_settings_init(&settings);
		settings.on_message_begin = on_message_begin;
		settings.on_url = on_url;
		settings.on_message_complete = on_message_complete;
		settings_done = 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || conns_add(c) == -1) {
		log_warn("connection");
		free(c);
		close(fd);
		worker->w_conns++;	/* balanced by worker_conn_closed */
		worker_conn_closed();
		return;
	}
	c->c_fd = fd;
	c->c_kind = kind;
	http_parser_init(&c->c_parser, HTTP_REQUEST);
	c->c_parser.data = c;
	ev_io_init(&c->c_rd, read_cb, fd, EV_READ);
	ev_io_init(&c->c_wr, write_cb, fd, EV_WRITE);
	ev_init(&c->c_idle_to, idle_cb);
	c->c_idle_to.repeat = KEEPALIVE_IDLE_MS / 1000.0;
	c->c_rd.data = c->c_wr.data = c->c_idle_to.data = c;
	ev_io_start(w->w_loop, &c->c_rd);
	ev_timer_again(w->w_loop, &c->c_idle_to);
}

/*
 * Stop: close idle keep-alive connections now, the others after their next
 * answer.  A connection that has not sent its first request yet was just
 * accepted, and its client is about to send it: closing it unanswered would
 * fail a request that never reached us, so it gets its answer too (or the
 * drain deadline).
 */
void
http_quit(struct worker *w)
{
	size_t i;

	for (i = nconns; i-- > 0;) {
		struct conn *c = conns[i];

		if (c->c_served && !c->c_inreq && c->c_out == NULL)
			conn_close(c);
		else
			c->c_close = 1;
	}
}
