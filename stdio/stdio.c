/*
 * stdio.c -- mcpd --stdio: one client on stdin/stdout, in one process.
 *
 * For desktop clients that spawn their servers: newline-delimited JSON-RPC
 * on stdin and stdout (nothing else ever goes to stdout), logs on stderr.
 * The same engine as the workers, with one implicit session; stdin EOF
 * ends the process once the requests in flight are answered (at most
 * STDIO_DRAIN_MS later).
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "log.h"
#include "mcp.h"
#include "priv.h"
#include "runner.h"
#include "stdio_mode.h"
#include "util.h"

#define STDIO_READ_BYTES	(64 * 1024)
#define STDIO_OUT_MAX_BYTES		(64 * 1024 * 1024) /* unwritten bytes */
#define STDIO_DRAIN_MS		5000

static struct ev_loop		*loop;
static struct mcp_server	*srv;
static struct mcp_session	*sess;
static char			*line;		/* a partial line */
static size_t			 linelen, linecap, linemax;
static char			*out;
static size_t			 outlen, outoff, outcap;
static ev_io			 rd_ev, wr_ev;
static ev_timer			 drain_to;
static int			 eof, inflight;
static uint32_t			 pending_max;	/* max-pending-per-connection */

static void
out_flush(void)
{
	ssize_t n;

	while (outoff < outlen) {
		n = write(STDOUT_FILENO, out + outoff, outlen - outoff);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				ev_io_start(loop, &wr_ev);
				return;
			}
			fatal("stdout");
		}
		outoff += n;
	}
	outlen = outoff = 0;
	ev_io_stop(loop, &wr_ev);
	if (eof && inflight == 0)
		exit(0);
}

static void
out_add(const char *buf, size_t len)
{
	char *p;

	if (outlen + len + 1 > STDIO_OUT_MAX_BYTES)
		fatalx("the client does not read stdout (%d bytes waiting)",
		    STDIO_OUT_MAX_BYTES);
	if (outlen + len + 1 > outcap) {
		size_t cap = outcap ? outcap : 4096;

		/* doubling: a stream of small messages copies little */
		while (cap < outlen + len + 1)
			cap *= 2;
		if ((p = realloc(out, cap)) == NULL)
			fatal("stdout buffer");
		out = p;
		outcap = cap;
	}
	memcpy(out + outlen, buf, len);
	out[outlen + len] = '\n';
	outlen += len + 1;
}

static void
st_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
	if (json != NULL)
		out_add(json, len);
	out_flush();
}

static void
st_ref(struct mcp_stream *st)
{
	inflight++;
}

static void
st_unref(struct mcp_stream *st)
{
	inflight--;
	if (eof && inflight == 0 && outlen == 0)
		exit(0);
}

static const struct mcp_stream_ops st_ops = {
	st_send, st_ref, st_unref, NULL
};
static struct mcp_stream stream = { &st_ops, NULL, 0 };

static void
handle(const char *msg, size_t len)
{
	struct mcp_msg		m;
	struct mcp_route	rt;
	struct jw		*w = mcp_server_out(srv);

	while (len > 0 && (msg[len - 1] == '\r' || msg[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	if (mcp_msg_parse(srv, &m, msg, len) == -1) {
		out_add(w->buf, w->len);
		out_flush();
		return;
	}
	/* requests in flight are bounded: past it, come back later */
	if (m.m_kind == MCP_REQUEST && pending_max != 0 &&
	    (uint32_t)inflight >= pending_max) {
		mcp_write_error_data(srv, &m, MCP_SERVER_ERROR, "Server "
		    "overloaded: too many requests in flight", MCP_RETRY_DATA);
		out_add(w->buf, w->len);
		out_flush();
		return;
	}
	/*
	 * The era is the engine's to say, as for HTTP; this transport has one
	 * session of its own (no session header), and no other worker.
	 */
	memset(&rt, 0, sizeof(rt));
	(void)mcp_route(srv, &m, &rt);
	(void)mcp_serve(srv, &rt, &sess, &m, &stream, NULL);
	/* stdout is also where notifications of no request go */
	if (sess != NULL)
		(void)mcp_session_attach(sess, &stream);
}

static void
drain_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	log_warnx("stdin closed; %d requests still running after %d ms",
	    inflight, STDIO_DRAIN_MS);
	exit(0);
}

/* more of a partial line: 0, or -1 past the body limit */
static int
line_add(const char *p, size_t k)
{
	char *q;

	if (linelen + k > linemax)
		return -1;
	if (linelen + k > linecap) {
		if ((q = realloc(line, linelen + k)) == NULL)
			fatal("stdin line");
		line = q;
		linecap = linelen + k;
	}
	memcpy(line + linelen, p, k);
	linelen += k;
	return 0;
}

static void
read_cb(struct ev_loop *l, ev_io *w, int revents)
{
	char	 buf[STDIO_READ_BYTES], *nl, *p;
	ssize_t	 n;
	size_t	 rest;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		fatal("stdin");
	}
	if (n == 0) {
		eof = 1;
		ev_io_stop(loop, &rd_ev);
		if (linelen > 0)
			handle(line, linelen);
		/* nobody listens any more: listen streams end now */
		mcp_listen_end_all(srv);
		if (inflight == 0 && outlen == 0)
			exit(0);
		ev_timer_init(&drain_to, drain_cb, STDIO_DRAIN_MS / 1000.0,
		    0.);
		ev_timer_start(loop, &drain_to);
		return;
	}
	p = buf;
	rest = n;
	while ((nl = memchr(p, '\n', rest)) != NULL) {
		size_t k = nl - p;

		if (linelen > 0) {
			if (line_add(p, k) == -1)
				goto toolong;
			handle(line, linelen);
			linelen = 0;
		} else
			handle(p, k);
		p = nl + 1;
		rest -= k + 1;
	}
	if (rest > 0 && line_add(p, rest) == -1)
		goto toolong;
	return;
toolong:
	/* a message past the body limit: answer, then skip to its end */
	mcp_write_error(srv, NULL, JSONRPC_INVALID_REQUEST,
	    "message exceeds max-body-size");
	out_add(mcp_server_out(srv)->buf, mcp_server_out(srv)->len);
	out_flush();
	linelen = 0;
}

static void
write_cb(struct ev_loop *l, ev_io *w, int revents)
{
	out_flush();
}

void
stdio_main(const char *conffile, int debug)
{
	struct conf_errors	 errs;
	struct conf		*conf;
	unsigned char		 key[NODE_KEY_BYTES];
	char			 err[512];
	uint32_t		 i;
	uid_t			 uid;
	gid_t			 gid;
	int			 sp[2];

	log_procname("stdio");
	log_init(LOG_TO_STDERR, debug, NULL);
	memset(&errs, 0, sizeof(errs));
	if ((conf = conf_parse(conffile, &errs)) == NULL) {
		for (i = 0; i < (uint32_t)errs.e_count &&
		    i < CONF_ERRORS_MAX; i++)
			fprintf(stderr, "%s\n", errs.e_msg[i]);
		exit(1);
	}
	/* one process: it gives up root, and is its tools' runner */
	(void)priv_announce(conf, "mcpd --stdio and its tools", &uid, &gid);
	priv_drop(conf, priv_tools_switch(conf));
	signal(SIGPIPE, SIG_IGN);
	if ((loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("libev: no event loop");
	if ((srv = mcp_server_new(loop, "mcpd", PACKAGE_VERSION)) == NULL)
		fatalx("MCP engine: out of memory");
	randombytes_buf(key, sizeof(key));
	mcp_server_set_key(srv, key, 0);
	if (mcp_load_conf(srv, conf, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* no runner process: this one runs the exec tools (runner.c) */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("runner socketpair");
	runner_local(loop, conf, sp[1]);
	mcp_exec_runner(loop, sp[0]);
	for (i = 0; i < conf->c_nplugins; i++) {
		if (mcp_plugin_load(srv, conf->c_plugins[i].p_path,
		    conf->c_plugins[i].p_arg[0] ? conf->c_plugins[i].p_arg :
		    NULL, err, sizeof(err)) == -1)
			fatalx("%s", err);
	}
	linemax = conf->c_max_body_size;
	pending_max = conf->c_max_pending_conn;
	/* conf stays: the catalog refers to it */
	fd_nonblock(STDIN_FILENO);
	fd_nonblock(STDOUT_FILENO);
	ev_io_init(&rd_ev, read_cb, STDIN_FILENO, EV_READ);
	ev_io_init(&wr_ev, write_cb, STDOUT_FILENO, EV_WRITE);
	ev_io_start(loop, &rd_ev);
	log_debug("serving one client on stdin/stdout");
	ev_run(loop, 0);
	exit(0);
}
