/*
 * NAME
 *	fuzz_jsonrpc.c -- libFuzzer target for the MCP engine
 *
 * DESCRIPTION
 *	One mcp_server, made once, with the catalog of fuzz_tools.c,
 *	registered through the plugin API: tools that answer at once, later
 *	(timers), by asking the client, with the client's own JSON or with
 *	invalid JSON; a resource, templates, a prompt, a completion handler.
 *
 *	An input is newline-delimited JSON, as on mcpd --stdio: each line
 *	goes to mcp_msg_parse() and, when it parses, to mcp_dispatch() with a
 *	stream of its own.  Every message a stream receives must be one line
 *	of JSON (no CR or LF: stdio frames by lines, SSE data too), an object
 *	with "jsonrpc":"2.0": a final one a response (an id and exactly one of
 *	result and error), the others notifications or requests (a method);
 *	the id of a response is the request's (null only for a batch or an id
 *	too long to keep); nothing follows the final one; what mcp_dispatch()
 *	returns agrees with what the stream saw and with its references.  A
 *	line that does not parse must leave a JSON-RPC error in the server's
 *	output buffer.
 *
 *	A request whose params._meta names a protocol version goes to
 *	mcp_dispatch_stateless() instead (the 2026-07-28 era): with the
 *	headers an HTTP client would send (taken from the message itself)
 *	when the line's length is even, without (stdio) when odd.
 *
 *	Lines go to the current session: the one the last initialize made,
 *	kept across inputs.  An initialize line of odd length makes a new one,
 *	of even length goes to the current one (already initialized).  Past
 *	SESS_KEEP sessions, or LIVE_MAX requests in flight, every session is
 *	closed (their calls must all end); so a crash may need the inputs
 *	before it: replay the crash file after an initialize line.  Lines
 *	starting with '#' are commands:
 *
 *		#tick		run the event loop (timers: later answers)
 *		#close		close the current session (DELETE)
 *		#attach		attach the standalone (GET) stream to it
 *		#detach		detach that
 *		#expire		expire idle sessions (idle limit 0)
 *		#update URI	notifications/resources/updated for URI
 *
 *	Build: make fuzz (fuzz.am); by hand (clang, libclang-rt-14-dev, a
 *	configured build tree for config.h and common/parse.c), link it with
 *	every library source but supervisor/main.c and ctl/mcpctl.c:
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *	    -fno-sanitize-recover=undefined -I$BUILD -I$SRC/common \
 *	    -I$SRC/mcp -I$SRC/worker -I$SRC/supervisor -I$SRC/stdio \
 *	    -o fuzz_jsonrpc $SRC/tests/fuzz/fuzz_jsonrpc.c <library .c> \
 *	    -lmsgpackc -lsodium -lev -lhttp_parser -lm
 *	./fuzz_jsonrpc -max_total_time=60 corpus $SRC/tests/fuzz/corpus/jsonrpc
 */
#include "config.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

#include "fuzz_tools.h"

#define SESS_KEEP	100	/* sessions kept across inputs */
#define LIVE_MAX	1000	/* streams with a request in flight */
#define TICKS		4	/* loop iterations of a #tick */
#define ID_TEXT_MAX	(MCP_ID_MAX_BYTES * 2)
#define TOKS		4096

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* the stream of one request */
struct fstream {
	struct mcp_stream	 f_st;
	int			 f_refs;
	int			 f_final;	/* the final message came */
	int			 f_sends;
	int			 f_closed;	/* so_close */
	int			 f_batch;
	char			 f_id[ID_TEXT_MAX];	/* "": no id */
	size_t			 f_idlen;
	int			 f_idlong;
};

static struct ev_loop		*loop;
static struct mcp_server	*srv;
static struct mcp_session	*cur;	/* kept for the next line, input */
static unsigned			 live;	/* fstreams allocated */
static jsmntok_t		 toks[TOKS];
static struct mcp_session	*get_sess;	/* get_stream is attached to */
static struct fstream		 get_stream;	/* the standalone stream */

static void	fs_send(struct mcp_stream *, const char *, size_t, int);
static void	fs_ref(struct mcp_stream *);
static void	fs_unref(struct mcp_stream *);
static void	fs_close(struct mcp_stream *);

static const struct mcp_stream_ops fs_ops = {
	.so_send = fs_send,
	.so_ref = fs_ref,
	.so_unref = fs_unref,
	.so_close = fs_close
};

/* One message for the client: JSON-RPC 2.0, of the kind final says. */
static void
check_msg(const struct fstream *f, const char *json, size_t len, int final)
{
	struct json	 j;
	const char	*t;
	size_t		 n;
	int		 v, id, res, err, meth, rv;

	rv = json_parse(&j, json, len, toks, TOKS);
	if (rv != JSON_OK)
		fprintf(stderr, "not JSON (%d): %.*s\n", rv, (int)len, json);
	CHECK(rv == JSON_OK);
	/* one line on stdio, one data line in SSE */
	if (memchr(json, '\n', len) != NULL || memchr(json, '\r', len) != NULL)
		fprintf(stderr, "a line break in: %.*s\n", (int)len, json);
	CHECK(memchr(json, '\n', len) == NULL);
	CHECK(memchr(json, '\r', len) == NULL);
	CHECK(json_type(&j, 0) == JSON_OBJECT);
	CHECK((v = json_get(&j, 0, "jsonrpc")) != -1 &&
	    json_streq(&j, v, "2.0"));
	id = json_get(&j, 0, "id");
	res = json_get(&j, 0, "result");
	err = json_get(&j, 0, "error");
	meth = json_get(&j, 0, "method");
	if (!final) {
		/* a notification, or a request to the client */
		CHECK(meth != -1 && json_type(&j, meth) == JSON_STRING);
		CHECK(res == -1 && err == -1);
		if (id != -1)
			CHECK(json_type(&j, id) == JSON_NUMBER);
		return;
	}
	CHECK(meth == -1);
	CHECK(id != -1);
	CHECK((res != -1) != (err != -1));
	if (res != -1)
		CHECK(json_type(&j, res) == JSON_OBJECT);
	else {
		CHECK(json_type(&j, err) == JSON_OBJECT);
		CHECK((v = json_get(&j, err, "code")) != -1 &&
		    json_type(&j, v) == JSON_NUMBER);
		CHECK((v = json_get(&j, err, "message")) != -1 &&
		    json_type(&j, v) == JSON_STRING);
	}
	if (f == NULL)
		return;
	/* the request's id, or null when there was none to keep */
	t = json_text(&j, id, &n);
	if (json_type(&j, id) == JSON_NULL) {
		if (!(f->f_batch || f->f_idlong || f->f_idlen == 0))
			fprintf(stderr, "id null, request id %s\n", f->f_id);
		CHECK(f->f_batch || f->f_idlong || f->f_idlen == 0);
	} else {
		if (n != f->f_idlen || memcmp(t, f->f_id, n) != 0)
			fprintf(stderr, "id %.*s, request id %s\n", (int)n, t,
			    f->f_id);
		CHECK(n == f->f_idlen && memcmp(t, f->f_id, n) == 0);
	}
}

static void
fs_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
	struct fstream *f = st->s_owner;

	if (f == &get_stream) {
		/* the standalone stream has no request: nothing is final */
		CHECK(!final && json != NULL);
		CHECK(get_sess != NULL);
		check_msg(NULL, json, len, 0);
		return;
	}
	CHECK(!f->f_final);
	f->f_sends++;
	if (json == NULL) {
		/* a cancelled request ends without an answer */
		CHECK(final);
	} else
		check_msg(f, json, len, final);
	if (final)
		f->f_final = 1;
}

static void
fs_free(struct fstream *f)
{
	CHECK(live > 0);
	live--;
	free(f);
}

static void
fs_ref(struct mcp_stream *st)
{
	struct fstream *f = st->s_owner;

	CHECK(f != &get_stream);
	CHECK(!f->f_final);
	f->f_refs++;
}

static void
fs_unref(struct mcp_stream *st)
{
	struct fstream *f = st->s_owner;

	CHECK(f != &get_stream);
	CHECK(f->f_refs > 0);
	/* the engine lets go only of a request that ended */
	CHECK(f->f_final);
	if (--f->f_refs == 0)
		fs_free(f);
}

static void
fs_close(struct mcp_stream *st)
{
	struct fstream *f = st->s_owner;

	if (f == &get_stream) {
		/* its session ends */
		CHECK(get_sess != NULL);
		get_sess = NULL;
		return;
	}
	f->f_closed = 1;
}

/* Sessions */

static int
sess_alive(const struct mcp_session *s)
{
	const struct mcp_session *x;

	TAILQ_FOREACH(x, &srv->sv_sessions, s_entry)
		if (x == s)
			return 1;
	return 0;
}

static void
sess_close(struct mcp_session *s)
{
	if (s == cur)
		cur = NULL;
	mcp_session_close(srv, s);
	/* the standalone stream of a session that ends is closed */
	CHECK(get_sess != s);
}

/* Keep the current session, close the others. */
static void
sess_trim(void)
{
	struct mcp_session	*s, *next;
	struct mcpd_call	*c, *cn;

	/* the stateless era: listen streams end, requests are cancelled */
	mcp_listen_end_all(srv);
	for (c = TAILQ_FIRST(&srv->sv_orphans); c != NULL; c = cn) {
		cn = TAILQ_NEXT(c, c_entry);
		if (c->c_stateless)
			call_cancel(c, "trim");
	}

	for (s = TAILQ_FIRST(&srv->sv_sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, s_entry);
		if (s != cur)
			sess_close(s);
	}
	/* every call of a closed session was told, and finished */
	CHECK(TAILQ_EMPTY(&srv->sv_orphans));
	CHECK(srv->sv_nsessions == (cur != NULL));
}

static void
tick(int n)
{
	while (n-- > 0)
		ev_run(loop, EVRUN_NOWAIT);
}

static void
command(const char *line, size_t len)
{
	char uri[600];

	if (len == 5 && memcmp(line, "#tick", 5) == 0)
		tick(TICKS);
	else if (len == 6 && memcmp(line, "#close", 6) == 0) {
		if (cur != NULL)
			sess_close(cur);
	} else if (len == 7 && memcmp(line, "#attach", 7) == 0) {
		if (cur != NULL && get_sess == NULL) {
			CHECK(mcp_session_attach(cur, &get_stream.f_st) == 0);
			get_sess = cur;
			/* one standalone stream per session */
			CHECK(mcp_session_attach(cur, &get_stream.f_st) == -1);
		}
	} else if (len == 7 && memcmp(line, "#detach", 7) == 0) {
		if (get_sess != NULL) {
			mcp_session_detach(get_sess, &get_stream.f_st);
			get_sess = NULL;
		}
	} else if (len == 7 && memcmp(line, "#expire", 7) == 0) {
		mcp_session_expire(srv, 0, 0);
		if (cur != NULL && !sess_alive(cur))
			cur = NULL;
		/* a session with a standalone stream is in use */
		CHECK(get_sess == NULL || sess_alive(get_sess));
	} else if (len > 8 && len - 8 < sizeof(uri) &&
	    memcmp(line, "#update ", 8) == 0) {
		memcpy(uri, line + 8, len - 8);
		uri[len - 8] = '\0';
		mcp_resource_updated(srv, uri);
	}
}

/* The stateless era, with the headers that mirror the body (even len). */
static enum mcp_disp
stateless(struct mcp_msg *m, struct mcp_stream *st, size_t len)
{
	static char		 name[1024], pval[256];
	struct mcp_headers	 h;
	const char		*keys[] = { "name", "uri", "taskId" };
	size_t			 i;
	int			 v, meta;

	if (len & 1)
		return mcp_dispatch_stateless(srv, m, st, NULL);
	memset(&h, 0, sizeof(h));
	h.h_method = m->m_method;
	if (m->m_params >= 0 && json_type(&m->m_j, m->m_params) == JSON_OBJECT) {
		for (i = 0; i < 3; i++)
			if ((v = json_get(&m->m_j, m->m_params, keys[i])) != -1 &&
			    json_strcpy(&m->m_j, v, name, sizeof(name)) != -1) {
				h.h_name = name;
				break;
			}
		if ((meta = json_get(&m->m_j, m->m_params, "_meta")) != -1 &&
		    json_type(&m->m_j, meta) == JSON_OBJECT &&
		    (v = json_get(&m->m_j, meta,
		    "io.modelcontextprotocol/protocolVersion")) != -1 &&
		    json_strcpy(&m->m_j, v, pval, sizeof(pval)) != -1)
			h.h_version = pval;
	}
	return mcp_dispatch_stateless(srv, m, st, &h);
}

/* One line: parse, dispatch, check. */
static void
message(const char *data, size_t len)
{
	struct mcp_msg		 m;
	struct mcp_session	*s;
	struct fstream		*f;
	struct jw		*w = mcp_server_out(srv);
	enum mcp_disp		 d;
	const char		*t;
	char			*buf;
	size_t			 n;

	/* a copy of its own size: ASan sees any read past the end */
	if ((buf = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(buf, data, len);
	if (mcp_msg_parse(srv, &m, buf, len) == -1) {
		/* the error response is in the output buffer */
		CHECK(w->err == 0);
		check_msg(NULL, w->buf, w->len, 1);
		free(buf);
		return;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		abort();
	live++;
	f->f_st.s_ops = &fs_ops;
	f->f_st.s_owner = f;
	f->f_batch = m.m_kind == MCP_BATCH;
	if (m.m_id >= 0) {
		t = json_text(&m.m_j, m.m_id, &n);
		f->f_idlong = n >= MCP_ID_MAX_BYTES;
		if (n < sizeof(f->f_id)) {
			memcpy(f->f_id, t, n);
			f->f_idlen = n;
		} else
			f->f_idlong = 1;
	}

	if (mcp_era(NULL, &m) == MCP_ERA_STATELESS) {
		d = stateless(&m, &f->f_st, len);
		goto checks;
	}
	/* initialize of odd length makes a session; the rest uses cur */
	s = m.m_kind == MCP_REQUEST && strcmp(m.m_method, "initialize") == 0 &&
	    (len & 1) ? NULL : cur;
	d = mcp_dispatch(srv, &s, &m, &f->f_st);
	if (s != NULL && s != cur && sess_alive(s))
		cur = s;
checks:
	switch (d) {
	case MCP_DONE:
		CHECK(m.m_kind == MCP_REQUEST || m.m_kind == MCP_BATCH);
		CHECK(f->f_final && f->f_refs == 0);
		break;
	case MCP_ASYNC:
		CHECK(m.m_kind == MCP_REQUEST);
		CHECK(!f->f_final && f->f_refs == 1);
		break;
	case MCP_ACCEPTED:
		CHECK(m.m_kind == MCP_NOTIFICATION ||
		    m.m_kind == MCP_RESPONSE);
		CHECK(f->f_sends == 0 && f->f_refs == 0);
		break;
	default:
		CHECK(!"mcp_dispatch");
	}
	if (f->f_refs == 0)
		fs_free(f);
	free(buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* warnings about the plugin's bad JSON would flood stderr */
	log_init(LOG_TO_FILE, 0, "/dev/null");
	loop = ev_default_loop(0);
	CHECK(loop != NULL);
	srv = mcp_server_new(loop, "mcpd-fuzz", "0");
	CHECK(srv != NULL);
	fuzz_tools(srv);
	get_stream.f_st.s_ops = &fs_ops;
	get_stream.f_st.s_owner = &get_stream;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;
	size_t		 len;

	if (cur != NULL && !sess_alive(cur))
		cur = NULL;
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		len = nl - p;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0 && p[0] == '#')
			command(p, len);
		else if (len > 0)
			message(p, len);
		p = nl + 1;
	}
	if (srv->sv_nsessions > SESS_KEEP || live > LIVE_MAX) {
		cur = NULL;
		sess_trim();
		CHECK(live == 0 && get_sess == NULL);
	}
	return 0;
}
