/*
 * NAME
 *	fuzz_http.c -- libFuzzer target for the HTTP/1.1 + MCP transport
 *
 * DESCRIPTION
 *	A worker (worker/http.c, worker.c, peer.c) as worker_start() would
 *	set it up from conf_defaults(), with the catalog of fuzz_tools.c; an
 *	input is what clients send it.  It is split into connections at each
 *	"#NEXT\n", and a connection's bytes into pieces at each "#PAUSE\n":
 *	the first piece is handed to http_conn_new() as bytes already read
 *	(an empty one: none, as after accept), the others are written to the
 *	socket one at a time, the event loop running in between; "#WAIT\n"
 *	instead of "#PAUSE\n" also lets the connections' timeouts fire: in
 *	an input with one, they are all TIMEOUT_MS (the body limit is 4K);
 *	after a piece that ends with "#HUP\n" the client hangs up.  A
 *	connection that starts with "#ADMIN\n" is on the admin listener; with
 *	"#ADOPT\n" (after it, if both) its first request, when the first
 *	piece has a whole one, comes as a hand-over from worker 1 instead,
 *	through http_adopt() as peer.c's on_conn() passes it; an
 *	input that starts with "#JSON\n" has session-responses json (else
 *	sse, the default).  Before a piece is sent, "$SID" becomes the last
 *	Mcp-Session-Id the server gave in this input (or the id of a session
 *	made for the input, protocol 2025-11-25, every client capability),
 *	"$OSID" the id of a session of worker 1 (a hand-over: worker 1 is a
 *	socket whose frames are read and dropped), "$EVT" the last SSE event
 *	id seen.
 *
 *	What comes back on each connection is parsed as HTTP responses (a
 *	parser on our side knows which requests were HEAD): it must parse,
 *	an application/json body must be JSON, and every data line of an
 *	event stream a JSON-RPC 2.0 object.  Then every connection is closed,
 *	the loop runs, the input's sessions are closed (their calls end), and
 *	the worker must be back to no connection, with no fd left open.
 *
 *	Build: make fuzz (fuzz.am), or by hand as fuzz_jsonrpc.c says, with
 *	fuzz_http.c and fuzz_tools.c.  Run with the dictionary:
 *
 *	./fuzz_http -dict=$SRC/tests/fuzz/http.dict corpus \
 *	    $SRC/tests/fuzz/corpus/http
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <http_parser.h>

#include "log.h"
#include "mcp_int.h"
#include "util.h"
#include "worker.h"
#include "head.h"

#include "fuzz_tools.h"

#define CLIENTS_MAX	8	/* connections per input */
#define PIECES_MAX	8	/* writes per connection */
#define PUMP_MAX	256	/* loop turns per pump */
#define PUMP_IDLE	6	/* turns without a byte: done */
#define METHODS_MAX	64	/* requests we remember per connection */
#define BODY_MAX	(16 * 1024 * 1024)
#define TOKS		8192
#define SNDBUF		4096	/* the server's socket: writes queue */
#define BODY_MAX_HTTP	4096	/* bytes of a request body */
#define TIMEOUT_MS	5	/* every timeout, in an input with #WAIT */
#define WAIT_MS		(TIMEOUT_MS + 3)

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

enum rhdr {
	R_NONE,
	R_SID,
	R_CTYPE
};

/* A client: its end of the socket, and parsers for both directions. */
struct client {
	int		 cl_fd;		/* -1: closed */
	http_parser	 cl_req;	/* what we send */
	int		 cl_req_err;
	unsigned char	 cl_methods[METHODS_MAX];
	unsigned	 cl_mhead, cl_mtail;
	http_parser	 cl_resp;	/* what comes back */
	char		 cl_field[32];
	size_t		 cl_fieldlen;
	int		 cl_in_value;
	enum rhdr	 cl_cur;
	char		 cl_ctype[128];
	int		 cl_json;
	int		 cl_sse;
	char		*cl_body;
	size_t		 cl_bodylen;
	size_t		 cl_bodycap;
	size_t		 cl_checked;	/* SSE bytes checked */
	size_t		 cl_in;		/* bytes received */
	char		*cl_dump;	/* the first bytes, for a report */
	size_t		 cl_dumplen;
};

static struct ev_loop		*loop;
static struct conf		 conf;
static struct sb_slot		 slot;
static struct child		 child;
static struct worker		 wk;
static struct mcp_server	*other;		/* worker 1's sessions */
static char			 osid[MCP_SID_MAX_CHARS + 1];
static int			 peer_fd = -1;	/* worker 1's end */
static struct client		 clients[CLIENTS_MAX];
static size_t			 nclients;
static char			 last_sid[MCP_SID_MAX_CHARS + 1];
static char			 last_evt[80];
static char			 perm_sid[MCP_SID_MAX_CHARS + 1];
static jsmntok_t		 toks[TOKS];
static http_parser_settings	 req_settings, resp_settings;
static int			 waited;	/* #WAIT in this input */
static int			 verbose;	/* FUZZ_VERBOSE: show bytes */

static void
dump(const struct client *cl)
{
	fprintf(stderr, "--- %zu bytes from the server, the first %zu:\n",
	    cl->cl_in, cl->cl_dumplen);
	fwrite(cl->cl_dump, 1, cl->cl_dumplen, stderr);
	fprintf(stderr, "\n---\n");
}

#define CCHECK(cl, c) do {						\
	if (!(c)) {							\
		dump(cl);						\
		CHECK(c);						\
	}								\
} while (0)

/* What we send: which requests were HEAD, in order. */

static void
push_method(struct client *cl, unsigned m)
{
	if (cl->cl_mtail - cl->cl_mhead < METHODS_MAX)
		cl->cl_methods[cl->cl_mtail++ % METHODS_MAX] = m;
}

static int
req_complete(http_parser *p)
{
	push_method(p->data, p->method);
	return 0;
}

static void
sent(struct client *cl, const char *buf, size_t len)
{
	size_t done;

	if (verbose) {
		fprintf(stderr, ">>> %zu\n", (size_t)(cl - clients));
		fwrite(buf, 1, len, stderr);
		fprintf(stderr, "\n");
	}
	if (cl->cl_req_err)
		return;
	done = http_parser_execute(&cl->cl_req, &req_settings, buf, len);
	if (HTTP_PARSER_ERRNO(&cl->cl_req) != HPE_OK || done != len) {
		/* the server answers it 400 or 431, with its body (GET) */
		cl->cl_req_err = 1;
		push_method(cl, HTTP_GET);
	}
}

/* What comes back */

static int
resp_begin(http_parser *p)
{
	struct client *cl = p->data;

	cl->cl_ctype[0] = '\0';
	cl->cl_fieldlen = 0;
	cl->cl_in_value = 0;
	cl->cl_cur = R_NONE;
	cl->cl_bodylen = 0;
	cl->cl_checked = 0;
	cl->cl_json = cl->cl_sse = 0;
	return 0;
}

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
resp_field(http_parser *p, const char *at, size_t len)
{
	struct client *cl = p->data;

	if (cl->cl_in_value) {
		cl->cl_in_value = 0;
		cl->cl_fieldlen = 0;
	}
	if (cl->cl_fieldlen + len < sizeof(cl->cl_field))
		memcpy(cl->cl_field + cl->cl_fieldlen, at, len);
	cl->cl_fieldlen += len;
	return 0;
}

static int
resp_value(http_parser *p, const char *at, size_t len)
{
	struct client *cl = p->data;

	if (!cl->cl_in_value) {
		cl->cl_in_value = 1;
		cl->cl_cur = R_NONE;
		if (cl->cl_fieldlen < sizeof(cl->cl_field)) {
			cl->cl_field[cl->cl_fieldlen] = '\0';
			if (strcasecmp(cl->cl_field, "mcp-session-id") == 0) {
				cl->cl_cur = R_SID;
				last_sid[0] = '\0';
			} else if (strcasecmp(cl->cl_field,
			    "content-type") == 0)
				cl->cl_cur = R_CTYPE;
		}
	}
	if (cl->cl_cur == R_SID)
		append(last_sid, sizeof(last_sid), at, len);
	else if (cl->cl_cur == R_CTYPE)
		append(cl->cl_ctype, sizeof(cl->cl_ctype), at, len);
	return 0;
}

static int
resp_headers(http_parser *p)
{
	struct client	*cl = p->data;
	unsigned	 m = HTTP_GET;

	if (cl->cl_mhead < cl->cl_mtail)
		m = cl->cl_methods[cl->cl_mhead++ % METHODS_MAX];
	cl->cl_json = strncmp(cl->cl_ctype, "application/json", 16) == 0;
	cl->cl_sse = strncmp(cl->cl_ctype, "text/event-stream", 17) == 0;
	return m == HTTP_HEAD;		/* no body */
}

/* One data line of an event: a JSON-RPC message. */
static void
check_data(struct client *cl, const char *s, size_t len)
{
	struct json	j;
	int		v, rv;

	if (len == 0)
		return;		/* a priming event */
	/* CR ends a line too: it would cut the message */
	CCHECK(cl, memchr(s, '\r', len) == NULL);
	rv = json_parse(&j, s, len, toks, TOKS);
	if (rv != JSON_OK)
		fprintf(stderr, "SSE data, not JSON (%d): %.*s\n", rv,
		    (int)len, s);
	CCHECK(cl, rv == JSON_OK);
	CCHECK(cl, json_type(&j, 0) == JSON_OBJECT);
	CCHECK(cl, (v = json_get(&j, 0, "jsonrpc")) != -1 &&
	    json_streq(&j, v, "2.0"));
}

/* The complete events in the body: "field: value" lines, a blank line. */
static void
check_sse(struct client *cl)
{
	const char	*b = cl->cl_body, *e, *nl, *line;
	size_t		 len;

	for (;;) {
		b = cl->cl_body + cl->cl_checked;
		e = memmem(b, cl->cl_bodylen - cl->cl_checked, "\n\n", 2);
		if (e == NULL)
			return;
		for (line = b; line <= e; line = nl + 1) {
			nl = memchr(line, '\n', e + 1 - line);
			len = nl - line;
			if (len == 0 || line[0] == ':')
				continue;
			if (len >= 6 && memcmp(line, "data: ", 6) == 0)
				check_data(cl, line + 6, len - 6);
			else if (len >= 4 && memcmp(line, "id: ", 4) == 0) {
				CCHECK(cl, len - 4 < sizeof(last_evt));
				memcpy(last_evt, line + 4, len - 4);
				last_evt[len - 4] = '\0';
			} else
				CCHECK(cl, (len == 14 && memcmp(line,
				    "event: message", 14) == 0) ||
				    (len > 7 && memcmp(line, "retry: ",
				    7) == 0));
		}
		cl->cl_checked = e + 2 - cl->cl_body;
	}
}

static int
resp_body(http_parser *p, const char *at, size_t len)
{
	struct client	*cl = p->data;
	char		*nb;
	size_t		 cap;

	if (cl->cl_bodylen + len > BODY_MAX)
		return 0;
	if (cl->cl_bodylen + len > cl->cl_bodycap) {
		cap = cl->cl_bodycap ? cl->cl_bodycap : 4096;
		while (cap < cl->cl_bodylen + len)
			cap *= 2;
		if ((nb = realloc(cl->cl_body, cap)) == NULL)
			abort();
		cl->cl_body = nb;
		cl->cl_bodycap = cap;
	}
	memcpy(cl->cl_body + cl->cl_bodylen, at, len);
	cl->cl_bodylen += len;
	if (cl->cl_sse)
		check_sse(cl);
	return 0;
}

static int
resp_complete(http_parser *p)
{
	struct client	*cl = p->data;
	struct json	 j;
	int		 rv;

	if (cl->cl_json && cl->cl_bodylen > 0) {
		rv = json_parse(&j, cl->cl_body, cl->cl_bodylen, toks, TOKS);
		if (rv != JSON_OK)
			fprintf(stderr, "JSON body (%d): %.*s\n", rv,
			    (int)cl->cl_bodylen, cl->cl_body);
		CCHECK(cl, rv == JSON_OK);
	}
	if (cl->cl_sse)
		/* the stream ended after a whole event */
		CCHECK(cl, cl->cl_checked == cl->cl_bodylen);
	return 0;
}

static void
received(struct client *cl, const char *buf, size_t len)
{
	size_t	done, n;
	int	err;

	if (cl->cl_dumplen < 4096) {
		n = 4096 - cl->cl_dumplen < len ? 4096 - cl->cl_dumplen : len;
		memcpy(cl->cl_dump + cl->cl_dumplen, buf, n);
		cl->cl_dumplen += n;
	}
	cl->cl_in += len;
	if (verbose) {
		fprintf(stderr, "<<< %zu\n", (size_t)(cl - clients));
		fwrite(buf, 1, len, stderr);
		fprintf(stderr, "\n");
	}
	done = http_parser_execute(&cl->cl_resp, &resp_settings, buf, len);
	err = HTTP_PARSER_ERRNO(&cl->cl_resp);
	if (err != HPE_OK)
		fprintf(stderr, "response: %s\n", http_errno_description(err));
	CCHECK(cl, err == HPE_OK && done == len);
}

/* The event loop and the sockets */

static size_t
drain(void)
{
	char	buf[65536];
	ssize_t	n;
	size_t	i, got = 0;

	for (i = 0; i < nclients; i++) {
		struct client *cl = &clients[i];

		while (cl->cl_fd != -1) {
			n = read(cl->cl_fd, buf, sizeof(buf));
			if (n > 0) {
				received(cl, buf, n);
				got += n;
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			/* closed by the server (or reset) */
			close(cl->cl_fd);
			cl->cl_fd = -1;
		}
	}
	/* worker 1 takes hand-overs: frames and fds dropped */
	while ((n = recv(peer_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		got += n;
	return got;
}

static void
pump(void)
{
	int i, idle = 0;

	for (i = 0; i < PUMP_MAX && idle < PUMP_IDLE; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		if (drain() > 0)
			idle = 0;
		else
			idle++;
	}
}

/* The piece with $SID, $OSID, $EVT filled in; *lenp in and out. */
static char *
subst(const char *p, size_t *lenp)
{
	static const struct {
		const char	*name;
		size_t		 len;
	} vars[] = { { "$SID", 4 }, { "$OSID", 5 }, { "$EVT", 4 } };
	const char	*v, *end = p + *lenp;
	char		*out;
	size_t		 n = 0, k, vl;
	int		 i;

	/* each variable is at most 80 bytes for at least 4 */
	if ((out = malloc(*lenp * 20 + 1)) == NULL)
		abort();
	while (p < end) {
		for (i = 0; i < 3; i++)
			if ((size_t)(end - p) >= vars[i].len &&
			    memcmp(p, vars[i].name, vars[i].len) == 0)
				break;
		if (i == 3) {
			out[n++] = *p++;
			continue;
		}
		if (i == 0)
			v = last_sid[0] ? last_sid : perm_sid;
		else if (i == 1)
			v = osid;
		else
			v = last_evt[0] ? last_evt : "0-0-0";
		vl = strlen(v);
		for (k = 0; k < vl; k++)
			out[n++] = v[k];
		p += vars[i].len;
	}
	*lenp = n;
	return out;
}

static void
client_send(struct client *cl, const char *buf, size_t len)
{
	ssize_t	n;
	int	tries = 0;

	sent(cl, buf, len);
	while (len > 0 && cl->cl_fd != -1) {
		n = write(cl->cl_fd, buf, len);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return;		/* the server closed it */
			if (++tries > 16)
				return;		/* it reads no more */
			pump();
			continue;
		}
		buf += n;
		len -= n;
	}
}

static const char *
find(const char *p, const char *end, const char *s)
{
	const char *r = memmem(p, end - p, s, strlen(s));

	return r != NULL ? r : end;
}

/*
 * The end of the piece at p: at the next #PAUSE, #WAIT or #HUP, or end.
 * *skip is the marker's length, *how its first letter.
 */
static const char *
piece_end(const char *p, const char *end, size_t *skip, int *how)
{
	static const char *const marks[] = {
		"#PAUSE\n", "#WAIT\n", "#HUP\n"
	};
	const char	*e = end, *m;
	size_t		 i;

	*skip = 0;
	*how = 0;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if ((m = find(p, e, marks[i])) < e) {
			e = m;
			*skip = strlen(marks[i]);
			*how = marks[i][1];
		}
	}
	return e;
}

/* Once per input: run the loop until the connections' timers fire. */
static void
wait_timeouts(void)
{
	ev_tstamp until;

	if (waited)
		return;
	waited = 1;
	until = ev_time() + WAIT_MS / 1000.0;
	while (ev_time() < until) {
		ev_run(loop, EVRUN_NOWAIT);
		drain();
		usleep(1000);
	}
	pump();
}

/*
 * A hand-over from worker 1 (peer.c on_conn()): the first request of the
 * piece, parsed here as worker 1 would have, and the bytes after it.
 */
struct adopt {
	struct rhead	 a_head;
	char		*a_body;
	size_t		 a_bodylen;
	int		 a_done;
};

static int
ad_url(http_parser *p, const char *at, size_t len)
{
	struct adopt *a = p->data;

	return head_url(&a->a_head, at, len);
}

static int
ad_field(http_parser *p, const char *at, size_t len)
{
	struct adopt *a = p->data;

	return head_field(&a->a_head, at, len);
}

static int
ad_value(http_parser *p, const char *at, size_t len)
{
	struct adopt *a = p->data;

	return head_value(&a->a_head, at, len);
}

static int
ad_headers(http_parser *p)
{
	struct adopt *a = p->data;

	return head_end(&a->a_head);
}

static int
ad_body(http_parser *p, const char *at, size_t len)
{
	struct adopt	*a = p->data;
	char		*b;

	if ((b = realloc(a->a_body, a->a_bodylen + len)) == NULL)
		abort();
	memcpy(b + a->a_bodylen, at, len);
	a->a_body = b;
	a->a_bodylen += len;
	return 0;
}

static int
ad_complete(http_parser *p)
{
	struct adopt *a = p->data;

	a->a_done = 1;
	http_parser_pause(p, 1);
	return 0;
}

/*
 * 0: handed over (sv0 is the server's), -1: not a whole request.  The head
 * travels as peer.c's record does: packed, then unpacked by the receiver.
 */
static int
adopt(int sv0, enum listen_kind kind, const char *buf, size_t len)
{
	static http_parser_settings	 st;
	static char			 packed[PEER_HEAD_MAX_BYTES];
	static struct rhead		 head;
	http_parser			 p;
	struct adopt			*a;
	struct handoff			 h;
	size_t				 done, n;

	http_parser_settings_init(&st);
	st.on_url = ad_url;
	st.on_header_field = ad_field;
	st.on_header_value = ad_value;
	st.on_headers_complete = ad_headers;
	st.on_body = ad_body;
	st.on_message_complete = ad_complete;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		abort();
	head_init(&a->a_head, wk.w_http.h_header_max);
	http_parser_init(&p, HTTP_REQUEST);
	p.data = a;
	done = http_parser_execute(&p, &st, buf, len);
	if (!a->a_done || a->a_bodylen > BODY_MAX_HTTP ||
	    (n = handoff_head_pack(&a->a_head, packed, sizeof(packed))) == 0) {
		free(a->a_body);
		free(a);
		return -1;
	}
	CHECK(handoff_head_unpack(&head, wk.w_http.h_header_max, packed,
	    n) == 0);
	memset(&h, 0, sizeof(h));
	h.h_kind = kind;
	h.h_auth = -1;		/* the listeners here have no auth */
	h.h_method = p.method;
	h.h_major = p.http_major;
	h.h_minor = p.http_minor;
	h.h_keepalive = http_should_keep_alive(&p);
	h.h_head = &head;
	h.h_body = a->a_body != NULL ? a->a_body : "";
	h.h_bodylen = a->a_bodylen;
	h.h_pend = buf + done;
	h.h_pendlen = len - done;
	http_adopt(&wk, sv0, &h);
	free(a->a_body);
	free(a);
	return 0;
}

/* One connection: its pieces, the loop after each. */
static void
connection(const char *p, const char *end)
{
	struct client		*cl = &clients[nclients];
	enum listen_kind	 kind = LISTEN_HTTP;
	const char		*e;
	char			*buf;
	size_t			 len;
	size_t			 skip;
	int			 sv[2], i, how, sndbuf = SNDBUF, adopted = 0;

	if (end - p >= 7 && memcmp(p, "#ADMIN\n", 7) == 0) {
		kind = LISTEN_ADMIN;
		p += 7;
	}
	if (end - p >= 7 && memcmp(p, "#ADOPT\n", 7) == 0) {
		adopted = 1;
		p += 7;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		abort();
	memset(cl, 0, sizeof(*cl));
	cl->cl_fd = sv[1];
	http_parser_init(&cl->cl_req, HTTP_REQUEST);
	cl->cl_req.data = cl;
	http_parser_init(&cl->cl_resp, HTTP_RESPONSE);
	cl->cl_resp.data = cl;
	if ((cl->cl_dump = malloc(4096)) == NULL)
		abort();
	nclients++;

	/* what accept_cb() (or on_conn()) does */
	wk.w_conns++;
	SB_SET(child.c_slot, s_conns, wk.w_conns);
	SB_ADD(child.c_slot, s_accepted, 1);

	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		abort();
	e = piece_end(p, end, &skip, &how);
	len = e - p;
	buf = subst(p, &len);
	sent(cl, buf, len);
	if (!adopted || adopt(sv[0], kind, buf, len) == -1)
		http_conn_new(&wk, sv[0], kind, -1, len ? buf : NULL, len,
		    NULL, 0);
	free(buf);
	pump();
	for (i = 1; i < PIECES_MAX && e < end; i++) {
		if (how == 'H') {
			/* the client hangs up: what follows goes nowhere */
			if (cl->cl_fd != -1) {
				close(cl->cl_fd);
				cl->cl_fd = -1;
			}
			pump();
			return;
		}
		if (how == 'W')
			wait_timeouts();
		p = e + skip;
		e = piece_end(p, end, &skip, &how);
		len = e - p;
		buf = subst(p, &len);
		client_send(cl, buf, len);
		free(buf);
		pump();
	}
}

/* A session for the input: every capability, the latest protocol. */
static void
perm_session(void)
{
	struct mcp_session *s;

	CHECK((s = mcp_session_new(wk.w_mcp)) != NULL);
	snprintf(s->s_proto, sizeof(s->s_proto), "%s", MCP_VERSION_LATEST);
	s->s_initialized = 1;
	s->s_cap_sampling = s->s_cap_elicitation = s->s_cap_roots = 1;
	snprintf(perm_sid, sizeof(perm_sid), "%s", mcp_session_id(s));
}

/* Open fds, counted in /proc/self/fd */
static int
nfds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	CHECK((d = opendir("/proc/self/fd")) != NULL);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char key[NODE_KEY_BYTES] = "fuzz_http node key";
	struct mcp_session	*s;
	int			 sp[2];

	verbose = getenv("FUZZ_VERBOSE") != NULL;
	signal(SIGPIPE, SIG_IGN);	/* as child_main() */
	log_init(LOG_TO_FILE, 0, "/dev/null");
	loop = ev_default_loop(0);
	CHECK(loop != NULL);

	/* worker 0 of generation 1, as child_main() and worker_start() */
	conf_defaults(&conf);
	child.c_role = ROLE_WORKER;
	child.c_index = 0;
	child.c_gen = 1;
	child.c_loop = loop;
	child.c_conf = &conf;
	child.c_slot = &slot;
	child.c_keys.n = 1;
	memcpy(child.c_keys.k[0].ck_key, key, sizeof(key));
	child.c_have_key = 1;
	worker = &wk;
	wk.w_child = &child;
	wk.w_loop = loop;
	wk.w_cap = 1024;
	wk.w_accepting = 1;
	ev_timer_init(&wk.w_pause_to, NULL, 0., 0.);
	/* hcfg_load(), with a smaller body limit */
	snprintf(wk.w_http.h_path, sizeof(wk.w_http.h_path), "%s",
	    conf.c_mcp_path);
	wk.w_http.h_body_max = BODY_MAX_HTTP;
	wk.w_http.h_header_max = conf.c_max_header_size;
	wk.w_http.h_session_ms = conf.c_session_timeout_ms;
	wk.w_http.h_sse_always = conf.c_session_responses == RESPONSES_SSE;
	CHECK((wk.w_mcp = mcp_server_new(loop, "mcpd", "fuzz")) != NULL);
	mcp_server_set_key(wk.w_mcp, key, child.c_index);
	fuzz_tools(wk.w_mcp);
	http_init(&wk);

	/* worker 1: a session there, and the mesh socket to it */
	CHECK((other = mcp_server_new(loop, "mcpd", "fuzz")) != NULL);
	mcp_server_set_key(other, key, 1);
	CHECK((s = mcp_session_new(other)) != NULL);
	snprintf(osid, sizeof(osid), "%s", mcp_session_id(s));
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
	peer_add(&child, 1, 0, 1, sp[0]);
	peer_fd = sp[1];

	http_parser_settings_init(&req_settings);
	req_settings.on_message_complete = req_complete;
	http_parser_settings_init(&resp_settings);
	resp_settings.on_message_begin = resp_begin;
	resp_settings.on_header_field = resp_field;
	resp_settings.on_header_value = resp_value;
	resp_settings.on_headers_complete = resp_headers;
	resp_settings.on_body = resp_body;
	resp_settings.on_message_complete = resp_complete;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *end = p + size, *e;
	struct mcp_session	*s;
	size_t			 i;
	int			 fds = nfds();

	CHECK(wk.w_conns == 0);
	last_sid[0] = last_evt[0] = '\0';
	waited = 0;
	/* the timeouts: short when the input waits for them */
	if (memmem(data, size, "#WAIT\n", 6) != NULL) {
		wk.w_http.h_header_ms = wk.w_http.h_body_ms = TIMEOUT_MS;
		wk.w_http.h_idle_ms = wk.w_http.h_keepalive_ms = TIMEOUT_MS;
	} else {
		wk.w_http.h_header_ms = conf.c_header_timeout_ms;
		wk.w_http.h_body_ms = conf.c_body_timeout_ms;
		wk.w_http.h_idle_ms = conf.c_idle_timeout_ms;
		wk.w_http.h_keepalive_ms = conf.c_sse_keepalive_ms;
	}
	wk.w_http.h_sse_always = conf.c_session_responses == RESPONSES_SSE;
	if (size >= 6 && memcmp(p, "#JSON\n", 6) == 0) {
		wk.w_http.h_sse_always = 0;
		p += 6;
	}
	perm_session();
	nclients = 0;
	while (p < end && nclients < CLIENTS_MAX) {
		e = find(p, end, "#NEXT\n");
		connection(p, e);
		p = e + (e < end ? 6 : 0);
	}

	/* the clients go away; then their sessions */
	for (i = 0; i < nclients; i++) {
		if (clients[i].cl_fd != -1) {
			close(clients[i].cl_fd);
			clients[i].cl_fd = -1;
		}
	}
	pump();
	while ((s = TAILQ_FIRST(&wk.w_mcp->sv_sessions)) != NULL)
		mcp_session_close(wk.w_mcp, s);
	pump();
	if (wk.w_conns != 0)
		fprintf(stderr, "%llu connections left\n",
		    (unsigned long long)wk.w_conns);
	CHECK(wk.w_conns == 0);
	CHECK(SB_GET(&slot, s_conns) == 0);
	CHECK(TAILQ_EMPTY(&wk.w_mcp->sv_orphans));
	if (nfds() != fds)
		fprintf(stderr, "%d fds open, %d before\n", nfds(), fds);
	CHECK(nfds() == fds);
	for (i = 0; i < nclients; i++) {
		free(clients[i].cl_body);
		free(clients[i].cl_dump);
	}
	return 0;
}
