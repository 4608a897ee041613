/*
 * mcpbench -- a load generator for MCP servers over Streamable HTTP.
 *
 * P load processes (fork), each with its share of C keep-alive
 * connections on one libev loop.  A connection sends one request at a
 * time: in a closed loop the next as soon as the answer came, in an open
 * loop at the times a fixed total rate schedules (latency is counted from
 * the intended send time, so a slow server cannot hide its queue).  Every
 * answer is checked (HTTP status, JSON-RPC id, result or error).  Each
 * process keeps one log-linear histogram (common/metrics.c: 1 us..67 s,
 * <= 0.8 %) and sends it to the parent at the end, which adds them up
 * exactly: percentiles are never averaged.
 *
 * Connections go to 127.0.0.0/8 only (unless -A): to spread them over many
 * (source, destination) pairs, each binds a source address of 127.0.0.0/8
 * with IP_BIND_ADDRESS_NO_PORT and the targets may be several ports.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <poll.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "metrics.h"
#include "util.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define TARGETS_MAX		64
#define MIX_MAX			16
#define PROCS_MAX		64
#define CONNS_PER_PROC_MAX	19000	/* REFERENCE A: 20000 open files */
#define DURATION_MAX		3600.0	/* seconds */
#define IN_MAX			(1024 * 1024)	/* an answer, bytes */
#define BACKLOG_MAX		4096	/* open loop: late sends a connection */
#define IN_MIN			4096	/* a partial answer's first buffer */
#define PROGRESS_S		1.0
#define PACE_S			0.0005	/* open loop: sends go in batches */
#define PACE_MAX_S		0.01	/* ...at least this often */
#define PACE_SLACK_US		2000	/* lateness of the pace timer not
					   counted, us */
#define RECONNECT_S		0.01	/* before replacing a connection */

/* 2026-07-28; 2025-11-25 with a session; 2025-11-25 without one (what the
 * TypeScript SDK calls its stateless mode) */
enum era { ERA_STATELESS, ERA_SESSION, ERA_NOSESSION };

enum errkind {
	E_REFUSED,	/* connect failed */
	E_RESET,	/* the connection closed or failed mid-request */
	E_TIMEOUT,	/* no answer within -T */
	E_HTTP,		/* a status other than 200 */
	E_JSONRPC,	/* a JSON-RPC error */
	E_INVALID,	/* not an answer to our request */
	E_KINDS
};

static const char *const errnames[E_KINDS] = {
	"refused", "reset", "timeout", "http", "jsonrpc", "invalid"
};

struct mixent {
	char		 method[64];
	char		 name[256];	/* tool, prompt or URI; "" */
	size_t		 argbytes;	/* tools/call: a text argument this long */
	unsigned	 weight;
};

#define HEADER_BYTES_MAX	4096	/* -H */

struct opts {
	struct sockaddr_in	 dst[TARGETS_MAX];
	unsigned		 ndst;
	char			 path[128];
	unsigned		 conns;
	unsigned		 procs;
	double			 duration;
	double			 warmup;
	double			 rate;		/* total, a second; 0: closed */
	double			 ramp;		/* connections a second; 0: all */
	double			 timeout;
	uint64_t		 max_requests;
	enum era		 era;
	int			 idle;		/* hold listen streams only */
	int			 spread;	/* bind 127.x source addresses */
	int			 allow_remote;
	int			 no_id;		/* -I: any 200 result will do */
	const char		*header;	/* -H: one more header line */
	uint64_t		 churn;		/* -K: requests a connection */
	int			 keep_sid;	/* -k: a session outlives its conn */
	const char		*json;
	struct mixent		 mix[MIX_MAX];
	unsigned		 nmix;
	unsigned		 wsum;
};

/* what a load process reports: progress each second, then its end */
struct report {
	uint32_t	type;		/* 1 progress, 2 final */
	uint32_t	proc;
	uint64_t	ok;
	uint64_t	errors[E_KINDS];
	uint64_t	http[6];	/* by status class 1xx..5xx */
	uint64_t	conns_open;
	uint64_t	conns_failed;
	uint64_t	late;		/* open loop: sends after their time */
	uint64_t	dropped;	/* open loop: backlog overflow */
	uint64_t	reconnects;	/* -K: connections replaced */
	uint64_t	sessions_lost;	/* -k: 404 for a session we had */
	double		cpu_user;
	double		cpu_sys;
	uint64_t	p50_us, p99_us;	/* progress only */
	struct mx_hist	hist;		/* final only */
};

struct conn {
	struct opts	*o;
	int		 fd;
	unsigned	 idx;
	ev_io		 io;
	ev_timer	 to;		/* answer deadline */
	int		 connected;
	int		 busy;		/* a request is out */
	int		 phase;		/* session era: 0 init, 1 notif, 2 ready */
	char		 sid[128];
	uint64_t	 next_id;
	uint64_t	 sent_us;	/* the intended send time */
	int		 counted;	/* the answer counts (after warm-up) */
	int		 no_more;	/* do not reconnect */
	int		 srv_close;	/* the answer said Connection: close */
	int		 renew;		/* -K: the next connection, a new session */
	int		 lazy;		/* open loop: reopen when a send is due */
	uint64_t	 lazy_at;	/* that send's intended time */
	int		 wr_armed;	/* the watcher waits to write too */
	uint64_t	 done;		/* requests answered on this one */
	uint64_t	*backlog;	/* BACKLOG_MAX, made when first late */
	unsigned	 bl_head, bl_n;
	char		*in;		/* a partial answer, or NULL */
	size_t		 inlen, incap;
	char		*out;
	size_t		 outlen, outoff;
};

static struct ev_loop	*loop;
static struct report	 rep;
static uint64_t		 t_start_us, t_count_us, t_end_us;
static int		 report_fd = -1;
static unsigned		 nconns_local;
static struct conn	*conns;
static unsigned		 opened;
static ev_timer		 ramp_ev, progress_ev, end_ev, pace_ev;
static double		 pace_rate;	/* sends a second, this process */
static double		 pace_next_us;	/* the next send's intended time */
static unsigned		 pace_cur;	/* the connection it goes to */
static uint64_t		 sent_total;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mcpbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static const struct option longopts[] = {
	{ "json", required_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static const char usage_text[] =
    "usage: mcpbench [-AIikS] [-c connections] [-d seconds] [-e era]\n"
    "                [-H header] [-j | --json file] [-K requests]\n"
    "                [-m mix]\n"
    "                [-n requests]"
    " [-P processes] [-p path] [-R ramp] [-r rate]\n"
    "                [-T timeout] [-w warmup]\n"
    "                host:port ...\n"
    "       mcpbench -h | --help | -V | --version\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void
help(void)
{
	fputs(usage_text, stdout);
	fputs("\n"
	    "Load an MCP server over HTTP and report rate and latency.\n"
	    "  -c N      connections (25)         -d S   seconds of load (10)\n"
	    "  -e ERA    stateless or session      -m MIX requests, e.g. "
	    "tools/call:echo:256B=80,tools/list=20\n"
	    "  -r RATE   open loop, requests a second in all (0: closed "
	    "loop)\n"
	    "  -R RAMP   connections opened a second  -P N  load processes\n"
	    "  -k        session era: a session outlives its connection\n"
	    "  -K N      a new connection after N requests\n"
	    "  -w S      warm-up seconds, not counted  -T S  answer timeout\n"
	    "  -j FILE   the report as JSON\n"
	    "See mcpbench(1) for every option.\n", stdout);
	exit(0);
}

/* "tools/call:echo:256B=80,resources/read:test://x=15,tools/list=5" */
static void
parse_mix(struct opts *o, const char *spec)
{
	char		*s, *tok, *save = NULL, *eq, *p;
	struct mixent	*m;

	if ((s = strdup(spec)) == NULL)
		die("out of memory");
	o->nmix = o->wsum = 0;
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (o->nmix == MIX_MAX)
			die("-m: at most %d entries", MIX_MAX);
		m = &o->mix[o->nmix];
		memset(m, 0, sizeof(*m));
		m->weight = 1;
		if ((eq = strrchr(tok, '=')) != NULL) {
			*eq = '\0';
			m->weight = (unsigned)strtoul(eq + 1, &p, 10);
			if (*p != '\0' || m->weight == 0)
				die("-m: bad weight in \"%s\"", tok);
		}
		if ((p = strchr(tok, ':')) != NULL)
			*p++ = '\0';
		snprintf(m->method, sizeof(m->method), "%s", tok);
		if (p != NULL) {
			char *sz = strrchr(p, ':');

			/* tools/call:NAME:SIZE: the size ends in B */
			if (sz != NULL && sz[strlen(sz) - 1] == 'B') {
				*sz++ = '\0';
				m->argbytes = strtoul(sz, NULL, 10);
			}
			snprintf(m->name, sizeof(m->name), "%s", p);
		}
		o->wsum += m->weight;
		o->nmix++;
	}
	free(s);
	if (o->nmix == 0)
		die("-m: empty");
}

static void
parse_target(struct opts *o, const char *arg)
{
	char			 host[64];
	const char		*colon = strrchr(arg, ':');
	struct sockaddr_in	*sin;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(host))
		die("%s: want host:port", arg);
	if (o->ndst == TARGETS_MAX)
		die("at most %d targets", TARGETS_MAX);
	memcpy(host, arg, colon - arg);
	host[colon - arg] = '\0';
	sin = &o->dst[o->ndst];
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    sin->sin_port == 0)
		die("%s: want an IPv4 address and a port", arg);
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127 && !o->allow_remote)
		die("%s: not in 127.0.0.0/8 (-A to load another host)", arg);
	o->ndst++;
}

/* Output */

static void	conn_write(struct conn *);
static void	conn_fail(struct conn *, enum errkind);
static void	send_next(struct conn *, uint64_t intended);

static void
out_add(struct conn *c, const char *p, size_t n)
{
	char *q;

	if ((q = realloc(c->out, c->outlen + n)) == NULL)
		die("out of memory");
	memcpy(q + c->outlen, p, n);
	c->out = q;
	c->outlen += n;
}

/* One POST: the body, and the headers this era wants. */
static void
post(struct conn *c, const char *method, const char *name,
    const char *body, size_t len)
{
	char	hdr[HEADER_BYTES_MAX + 1024];
	int	n;

	n = snprintf(hdr, sizeof(hdr), "POST %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
	    "Accept: application/json, text/event-stream\r\n"
	    "Content-Length: %zu\r\n", c->o->path, len);
	if (c->o->era == ERA_STATELESS) {
		n += snprintf(hdr + n, sizeof(hdr) - n, "MCP-Protocol-Version: "
		    "2026-07-28\r\nMcp-Method: %s\r\n", method);
		if (name[0] != '\0')
			n += snprintf(hdr + n, sizeof(hdr) - n, "Mcp-Name: %s\r\n",
			    name);
	} else if (c->sid[0] != '\0')
		n += snprintf(hdr + n, sizeof(hdr) - n, "MCP-Protocol-Version: "
		    "2025-11-25\r\nMcp-Session-Id: %s\r\n", c->sid);
	else if (c->o->era == ERA_NOSESSION)
		n += snprintf(hdr + n, sizeof(hdr) - n, "MCP-Protocol-Version: "
		    "2025-11-25\r\n");
	if (c->o->header != NULL)
		n += snprintf(hdr + n, sizeof(hdr) - n, "%s\r\n",
		    c->o->header);
	n += snprintf(hdr + n, sizeof(hdr) - n, "\r\n");
	out_add(c, hdr, (size_t)n);
	out_add(c, body, len);
	conn_write(c);
}

#define META	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":" \
		"\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* A request of the mix, picked by weight. */
static void
send_request(struct conn *c)
{
	static char		*arg;
	static size_t		 argcap;
	const struct mixent	*m = &c->o->mix[0];
	char			 params[512], *body;
	unsigned		 w, i;
	int			 n;
	size_t			 need;

	w = (unsigned)(random() % c->o->wsum);
	for (i = 0; i < c->o->nmix; i++) {
		if (w < c->o->mix[i].weight) {
			m = &c->o->mix[i];
			break;
		}
		w -= c->o->mix[i].weight;
	}
	if (m->argbytes + 1 > argcap) {
		argcap = m->argbytes + 1;
		if ((arg = realloc(arg, argcap)) == NULL)
			die("out of memory");
	}
	memset(arg, 'x', m->argbytes);
	arg[m->argbytes] = '\0';
	if (strcmp(m->method, "tools/call") == 0 ||
	    strcmp(m->method, "prompts/get") == 0)
		snprintf(params, sizeof(params), "\"name\":\"%s\",\"arguments\":"
		    "{\"text\":\"", m->name);
	else if (strcmp(m->method, "resources/read") == 0)
		snprintf(params, sizeof(params), "\"uri\":\"%s\",", m->name);
	else
		params[0] = '\0';
	need = strlen(params) + m->argbytes + 256;
	if ((body = malloc(need)) == NULL)
		die("out of memory");
	c->next_id++;
	if (params[0] != '\0' && strchr(params, '{') != NULL)
		n = snprintf(body, need, "{\"jsonrpc\":\"2.0\",\"id\":%llu,"
		    "\"method\":\"%s\",\"params\":{%s%s\"}%s%s}}",
		    (unsigned long long)c->next_id, m->method, params, arg,
		    c->o->era == ERA_STATELESS ? "," : "",
		    c->o->era == ERA_STATELESS ? META : "");
	else
		n = snprintf(body, need, "{\"jsonrpc\":\"2.0\",\"id\":%llu,"
		    "\"method\":\"%s\",\"params\":{%s%s}}",
		    (unsigned long long)c->next_id, m->method, params,
		    c->o->era == ERA_STATELESS ? META : "\"_x\":0");
	post(c, m->method, m->name, body, (size_t)n);
	free(body);
}

static void
send_initialize(struct conn *c)
{
	static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"mcpbench\","
	    "\"version\":\"1\"}}}";

	post(c, "initialize", "", body, sizeof(body) - 1);
}

static void
send_initialized(struct conn *c)
{
	static const char body[] = "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}";

	post(c, "notifications/initialized", "", body, sizeof(body) - 1);
}

static void
send_listen(struct conn *c)
{
	char	body[512];
	int	n;

	if (c->o->era == ERA_STATELESS)
		n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"subscriptions/listen\",\"params\":{"
		    "\"notifications\":{\"toolsListChanged\":true}," META "}}");
	else
		n = 0;
	if (n > 0)
		post(c, "subscriptions/listen", "", body, (size_t)n);
}

/* Timing and counting */

static void
arm_deadline(struct conn *c)
{
	ev_timer_set(&c->to, c->o->timeout, 0.);
	ev_timer_start(loop, &c->to);
}

static void
send_next(struct conn *c, uint64_t intended)
{
	if (rep.type == 2)
		return;		/* the end: nothing new */
	if (c->o->max_requests && sent_total >= c->o->max_requests)
		return;
	c->busy = 1;
	c->sent_us = intended;
	c->counted = intended >= t_count_us;
	sent_total++;
	send_request(c);
	arm_deadline(c);
}

static void
answered(struct conn *c, int ok, enum errkind why)
{
	uint64_t now = now_us();

	ev_timer_stop(loop, &c->to);
	c->busy = 0;
	if (c->counted && now <= t_end_us) {
		if (ok) {
			rep.ok++;
			mx_hist_add(&rep.hist, now - c->sent_us);
		} else
			rep.errors[why]++;
	}
	/*
	 * churn: a new connection after so many requests; or the server
	 * closes this one (a worker that stops): not an error either
	 */
	if (c->srv_close || (c->o->churn && ++c->done >= c->o->churn)) {
		/*
		 * -K starts a new session; a worker that stops does not end
		 * the session (-k: the next connection goes on with it)
		 */
		c->renew = !c->srv_close;
		c->done = 0;
		rep.reconnects++;
		conn_fail(c, E_KINDS);
		return;
	}
	if (c->o->rate == 0)
		send_next(c, now_us());
	else if (c->bl_n > 0) {
		uint64_t t = c->backlog[c->bl_head];

		c->bl_head = (c->bl_head + 1) % BACKLOG_MAX;
		c->bl_n--;
		rep.late++;
		send_next(c, t);
	}
}

/* Input: one HTTP response at a time */

static char *
find_header(char *head, const char *name)
{
	size_t	 n = strlen(name);
	char	*p = head;

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			return p;
		}
	}
	return NULL;
}

/* a complete chunked body in s (after the head): its end, or NULL */
static char *
chunked_end(char *s, char *end)
{
	unsigned long	 n;
	char		*p = s, *q;

	for (;;) {
		if ((q = memmem(p, end - p, "\r\n", 2)) == NULL)
			return NULL;
		n = strtoul(p, NULL, 16);
		p = q + 2;
		if (n == 0)
			return end - p >= 2 ? p + 2 : NULL;
		if ((size_t)(end - p) < n + 2)
			return NULL;
		p += n + 2;
	}
}

/* Judge the answer in c->in[0..len): 1 ok, 0 with *why. */
static int
judge(struct conn *c, char *head, char *body, size_t blen, int status,
    enum errkind *why)
{
	char	id[40], *sidh;
	int	n;

	if (status >= 100 && status < 600)
		rep.http[status / 100 - 1]++;
	if (c->o->era == ERA_SESSION && c->phase == 0) {
		if (status != 200 || (sidh = find_header(head,
		    "Mcp-Session-Id")) == NULL) {
			*why = E_HTTP;
			return 0;
		}
		n = (int)strcspn(sidh, "\r\n");
		snprintf(c->sid, sizeof(c->sid), "%.*s", n, sidh);
		return 1;
	}
	if (c->o->era == ERA_SESSION && c->phase == 1) {
		if (status != 202) {
			*why = E_HTTP;
			return 0;
		}
		return 1;
	}
	if (status == 404 && c->o->era == ERA_SESSION && c->o->keep_sid) {
		/* the session is gone: counted, and a new one next time */
		rep.sessions_lost++;
		c->sid[0] = '\0';
		c->phase = 0;
		c->srv_close = 1;
	}
	if (status != 200) {
		*why = E_HTTP;
		return 0;
	}
	snprintf(id, sizeof(id), "\"id\":%llu", (unsigned long long)c->next_id);
	if (!c->o->no_id && memmem(body, blen, id, strlen(id)) == NULL) {
		*why = E_INVALID;
		return 0;
	}
	if (memmem(body, blen, "\"error\":{", 9) != NULL) {
		*why = E_JSONRPC;
		return 0;
	}
	if (memmem(body, blen, "\"result\":", 9) == NULL) {
		*why = E_INVALID;
		return 0;
	}
	return 1;
}

static void
on_response(struct conn *c, char *head, char *body, size_t blen, int status)
{
	enum errkind	why = E_INVALID;
	int		ok = judge(c, head, body, blen, status, &why);

	if (c->o->era == ERA_SESSION && c->phase < 2) {
		ev_timer_stop(loop, &c->to);
		if (!ok) {
			rep.errors[why]++;
			c->no_more = 1;	/* the server has no sessions to give */
			conn_fail(c, why);
			return;
		}
		if (c->srv_close) {	/* the worker stops: start again */
			rep.reconnects++;
			conn_fail(c, E_KINDS);
			return;
		}
		if (++c->phase == 1) {
			send_initialized(c);
			arm_deadline(c);
			return;
		}
		/* ready: the first request */
		c->busy = 0;
		if (c->o->rate == 0)
			send_next(c, now_us());
		return;
	}
	answered(c, ok, why);
}

static int
try_parse(struct conn *c)
{
	char	*hend, *bend, *cl, *body, *end = c->in + c->inlen;
	int	 status;
	size_t	 used, blen;

	if ((hend = memmem(c->in, c->inlen, "\r\n\r\n", 4)) == NULL)
		return 0;
	*hend = '\0';
	body = hend + 4;
	if (sscanf(c->in, "HTTP/1.1 %d", &status) != 1) {
		*hend = '\r';
		return -1;
	}
	if ((cl = find_header(c->in, "Content-Length")) != NULL) {
		blen = strtoul(cl, NULL, 10);
		if ((size_t)(end - body) < blen) {
			*hend = '\r';
			return 0;
		}
		bend = body + blen;
	} else if (find_header(c->in, "Transfer-Encoding") != NULL) {
		if ((bend = chunked_end(body, end)) == NULL) {
			*hend = '\r';
			return 0;
		}
		blen = (size_t)(bend - body);
	} else {
		bend = body;
		blen = 0;
	}
	used = (size_t)(bend - c->in);
	c->srv_close = (cl = find_header(c->in, "Connection")) != NULL &&
	    strncasecmp(cl, "close", 5) == 0;
	on_response(c, c->in, body, blen, status);
	if (c->fd == -1)
		return 0;	/* closed meanwhile (churn, a failure) */
	memmove(c->in, bend, c->inlen - used);
	c->inlen -= used;
	return 1;
}

/*
 * Answers are read into one buffer of the process; only a partial one
 * is kept by its connection (a million idle connections hold no buffer).
 */
static void
conn_read(struct conn *c)
{
	static char	 scratch[IN_MAX];
	ssize_t		 n;
	size_t		 cap;
	int		 r = 0;
	char		*q;

	if (c->in == NULL) {
		c->in = scratch;
		c->inlen = 0;
		cap = IN_MAX;
	} else if (c->inlen == c->incap) {
		if (c->incap == IN_MAX) {
			conn_fail(c, E_INVALID);
			return;
		}
		if ((q = realloc(c->in, c->incap * 2)) == NULL)
			die("out of memory");
		c->in = q;
		cap = c->incap *= 2;
	} else
		cap = c->incap;
	n = recv(c->fd, c->in + c->inlen, cap - c->inlen, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		if (c->busy && c->counted)
			rep.errors[E_RESET]++;
		conn_fail(c, E_RESET);
	} else if (n > 0) {
		c->inlen += (size_t)n;
		while (c->fd != -1 && (r = try_parse(c)) == 1)
			;
		if (r == -1)
			conn_fail(c, E_INVALID);
	}
	if (c->fd == -1)
		c->inlen = 0;
	if (c->in == scratch) {
		c->in = NULL;
		if (c->inlen > 0) {
			c->incap = IN_MIN;
			while (c->incap < c->inlen * 2 && c->incap < IN_MAX)
				c->incap *= 2;
			if ((c->in = malloc(c->incap)) == NULL)
				die("out of memory");
			memcpy(c->in, scratch, c->inlen);
		}
	} else if (c->inlen == 0) {
		free(c->in);
		c->in = NULL;
	}
}

static void
conn_write(struct conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN) {
				if (!c->wr_armed) {
					ev_io_stop(loop, &c->io);
					ev_io_set(&c->io, c->fd,
					    EV_READ | EV_WRITE);
					ev_io_start(loop, &c->io);
					c->wr_armed = 1;
				}
				return;
			}
			if (errno == EINTR)
				continue;
			conn_fail(c, E_RESET);
			return;
		}
		c->outoff += (size_t)n;
	}
	c->outlen = c->outoff = 0;
	/*
	 * Back to reading only if writing was watched: stopping and starting
	 * the watcher for nothing cost libev 1.7 epoll_ctl calls a request,
	 * failing ones, at 100,000 connections.
	 */
	if (c->connected && c->wr_armed) {
		c->wr_armed = 0;
		ev_io_stop(loop, &c->io);
		ev_io_set(&c->io, c->fd, EV_READ);
		ev_io_start(loop, &c->io);
	}
}

static void
conn_ready(struct conn *c)
{
	c->connected = 1;
	rep.conns_open++;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_READ);
	ev_io_start(loop, &c->io);
	if (c->o->idle) {
		send_listen(c);
		return;
	}
	if (c->o->era == ERA_SESSION && c->phase < 2) {
		c->busy = 1;
		send_initialize(c);
		arm_deadline(c);
		return;
	}
	if (c->o->rate == 0)
		send_next(c, now_us());
	else if (c->lazy_at != 0) {
		send_next(c, c->lazy_at);
		c->lazy_at = 0;
	}
	if (c->outlen > 0)
		conn_write(c);
}

static void
io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct conn	*c = w->data;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (!c->connected) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0) {
			rep.conns_failed++;
			rep.errors[E_REFUSED]++;
			conn_fail(c, E_REFUSED);
			return;
		}
		conn_ready(c);
		return;
	}
	if (revents & EV_WRITE)
		conn_write(c);
	if (c->fd != -1 && (revents & EV_READ))
		conn_read(c);
}

static void
timeout_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	if (c->counted)
		rep.errors[E_TIMEOUT]++;
	conn_fail(c, E_TIMEOUT);
}

static void	conn_open(struct conn *);

/* Open loop: a send of this connection intended at now. */
static void
tick(struct conn *c, uint64_t now)
{
	if (!c->connected && c->lazy && c->fd == -1 && rep.type != 2) {
		c->lazy = 0;
		c->lazy_at = now;	/* sent once it is connected */
		ev_init(&c->to, timeout_cb);
		c->to.data = c;
		conn_open(c);
		return;
	}
	if (!c->connected || (c->o->era == ERA_SESSION && c->phase < 2))
		return;
	if (!c->busy) {
		send_next(c, now);
		return;
	}
	if (c->bl_n == BACKLOG_MAX) {
		rep.dropped++;
		return;
	}
	if (c->backlog == NULL &&
	    (c->backlog = calloc(BACKLOG_MAX, sizeof(*c->backlog))) == NULL)
		die("out of memory");
	c->backlog[(c->bl_head + c->bl_n) % BACKLOG_MAX] = now;
	c->bl_n++;
}

/*
 * The open loop's pace: every PACE_S the sends due since the last time,
 * each at its own intended time, to the connections in turn (each gets
 * rate / connections a second, evenly spaced).  One timer a process, not
 * one a connection: a send a wakeup cost the load processes twice their
 * CPU at 100,000 connections.  The timer fires up to a millisecond late
 * (epoll's resolution): a send's latency counts from the time it went,
 * or PACE_SLACK_US after its intended time if that is earlier, so the
 * load process's own timer is not the server's delay but any real
 * lateness (a process falling behind) is.
 */
static void
pace_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	uint64_t	now = now_us(), t;
	double		gap = 1e6 / pace_rate;

	while (pace_next_us <= now) {
		t = (uint64_t)pace_next_us;
		t = t + PACE_SLACK_US < now ? t + PACE_SLACK_US : now;
		tick(&conns[pace_cur], t);
		pace_cur = (pace_cur + 1) % nconns_local;
		pace_next_us += gap;
	}
}

static void
reopen_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	ev_init(&c->to, timeout_cb);
	c->to.data = c;
	conn_open(c);
}

static void
conn_fail(struct conn *c, enum errkind why)
{
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->to);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->connected && rep.conns_open > 0)
		rep.conns_open--;
	c->connected = 0;
	c->busy = 0;
	c->inlen = c->outlen = c->outoff = 0;
	/*
	 * -k: a connection lost (not replaced by -K) comes back with the
	 * session it had, as a client does after a reset
	 */
	if (!c->o->keep_sid || c->renew || c->sid[0] == '\0' ||
	    c->phase < 2) {
		c->phase = 0;
		c->sid[0] = '\0';
	}
	/*
	 * Open loop: a connection lost with nothing to set up first (no
	 * session to make) comes back when its next send is due, as a
	 * client does -- not at once, to sit silent until then (a proxy's
	 * timeout for a first request, HAProxy's 408, would end it).
	 * Churn (-K) replaces it at once: that is what it measures.
	 */
	c->lazy = c->o->rate > 0 && !c->renew && why != E_REFUSED &&
	    !c->no_more && (c->o->era != ERA_SESSION || c->phase == 2);
	c->renew = 0;
	c->srv_close = 0;
	c->wr_armed = 0;
	rep.dropped += c->bl_n;	/* late sends of a connection gone */
	c->bl_n = 0;
	/*
	 * A new connection in its place soon, while the run lasts (not when
	 * the server refuses, nor when it has no sessions to give).
	 */
	if (rep.type != 2 && why != E_REFUSED && !c->no_more && !c->lazy) {
		ev_timer_stop(loop, &c->to);
		ev_timer_init(&c->to, reopen_cb, RECONNECT_S, 0.);
		c->to.data = c;
		ev_timer_start(loop, &c->to);
	}
}

static void
conn_open(struct conn *c)
{
	const struct opts	*o = c->o;
	const struct sockaddr_in *dst = &o->dst[c->idx % o->ndst];
	struct sockaddr_in	 src;
	int			 one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->spread && (ntohl(dst->sin_addr.s_addr) >> 24) == 127) {
		/* 127.0.x.y: many (source, destination) pairs (REFERENCE A) */
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000000u |
		    (1 + (c->idx / o->ndst) % 0xfffe));
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) == -1)
			die("bind %s: %s", inet_ntoa(src.sin_addr),
			    strerror(errno));
	}
	if (connect(c->fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1 &&
	    errno != EINPROGRESS) {
		rep.conns_failed++;
		rep.errors[E_REFUSED]++;
		close(c->fd);
		c->fd = -1;
		return;
	}
	ev_io_init(&c->io, io_cb, c->fd, EV_WRITE);
	c->io.data = c;
	ev_io_start(loop, &c->io);
}

static void
ramp_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	unsigned n = nconns_local;
	double per_tick;

	if (conns[0].o->ramp > 0) {
		per_tick = conns[0].o->ramp / conns[0].o->procs * 0.01;
		n = opened + (unsigned)ceil(per_tick);
		if (n > nconns_local)
			n = nconns_local;
	}
	for (; opened < n; opened++)
		conn_open(&conns[opened]);
	if (opened == nconns_local)
		ev_timer_stop(loop, &ramp_ev);
}

static void
write_report(void)
{
	struct rusage	ru;
	ssize_t		n;

	getrusage(RUSAGE_SELF, &ru);
	rep.cpu_user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	rep.cpu_sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (rep.type == 1) {
		rep.p50_us = mx_hist_quantile(&rep.hist, 0.50);
		rep.p99_us = mx_hist_quantile(&rep.hist, 0.99);
	}
	n = write(report_fd, &rep, sizeof(rep));
	(void)n;
}

static void
progress_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	rep.type = 1;
	write_report();
}

static void
end_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	rep.type = 2;
	write_report();
	ev_break(loop, EVBREAK_ALL);
}

/* One load process: its connections, until the end. */
static void __attribute__((noreturn))
load(struct opts *o, unsigned proc, int fd)
{
	unsigned	i, first, n;
	double		per_conn;

	report_fd = fd;
	srandom((unsigned)(getpid() ^ now_us()));
	loop = ev_default_loop(EVFLAG_AUTO);
	memset(&rep, 0, sizeof(rep));
	rep.proc = proc;
	n = o->conns / o->procs + (proc < o->conns % o->procs);
	first = proc * (o->conns / o->procs) + (proc < o->conns % o->procs ?
	    proc : o->conns % o->procs);
	nconns_local = n;
	if ((conns = calloc(n ? n : 1, sizeof(*conns))) == NULL)
		die("out of memory");
	per_conn = o->rate > 0 ? o->rate / o->conns : 0;
	for (i = 0; i < n; i++) {
		struct conn *c = &conns[i];

		c->o = o;
		c->fd = -1;
		c->idx = first + i;
		ev_init(&c->to, timeout_cb);
		c->to.data = c;
	}
	t_start_us = now_us();
	if (per_conn > 0 && !o->idle && n > 0) {
		double every;

		pace_rate = per_conn * n;
		/* a send a wakeup at low rates (53 processes at 2000 wakeups
		   a second for 190 sends each took a core) */
		every = 1.0 / pace_rate;
		every = every < PACE_S ? PACE_S : every > PACE_MAX_S ?
		    PACE_MAX_S : every;
		pace_next_us = (double)t_start_us + every * 1e6;
		ev_timer_init(&pace_ev, pace_cb, every, every);
		ev_timer_start(loop, &pace_ev);
	}
	t_count_us = t_start_us + (uint64_t)(o->warmup * 1e6);
	t_end_us = t_count_us + (uint64_t)(o->duration * 1e6);
	ev_timer_init(&ramp_ev, ramp_cb, 0., 0.01);
	ev_timer_start(loop, &ramp_ev);
	ev_timer_init(&progress_ev, progress_cb, PROGRESS_S, PROGRESS_S);
	ev_timer_start(loop, &progress_ev);
	ev_timer_init(&end_ev, end_cb, o->warmup + o->duration, 0.);
	ev_timer_start(loop, &end_ev);
	ev_run(loop, 0);
	_exit(0);
}

/* The parent: progress lines, then the merged report. */

static void
print_json(FILE *fp, const struct opts *o, const struct report *t,
    double secs, unsigned procs_done)
{
	static const double qs[] = {
		0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0
	};
	uint64_t	errs = 0;
	size_t		i;

	for (i = 0; i < E_KINDS; i++)
		errs += t->errors[i];
	fprintf(fp, "{\"targets\":%u,\"connections\":%u,\"processes\":%u,"
	    "\"era\":\"%s\",\"mode\":\"%s\",\"rate_target\":%.0f,"
	    "\"duration_s\":%.3f,\"warmup_s\":%.3f,",
	    o->ndst, o->conns, o->procs, o->era == ERA_SESSION ? "session" :
	    "stateless", o->rate > 0 ? "open" : "closed", o->rate, secs,
	    o->warmup);
	fprintf(fp, "\"requests\":%llu,\"ok\":%llu,\"errors\":%llu,"
	    "\"rate\":%.1f,\"errors_by_kind\":{",
	    (unsigned long long)(t->ok + errs), (unsigned long long)t->ok,
	    (unsigned long long)errs, secs > 0 ? t->ok / secs : 0);
	for (i = 0; i < E_KINDS; i++)
		fprintf(fp, "%s\"%s\":%llu", i ? "," : "", errnames[i],
		    (unsigned long long)t->errors[i]);
	fprintf(fp, "},\"http\":{");
	for (i = 0; i < 5; i++)
		fprintf(fp, "%s\"%zuxx\":%llu", i ? "," : "", i + 1,
		    (unsigned long long)t->http[i]);
	fprintf(fp, "},\"connections_open\":%llu,\"connections_failed\":%llu,"
	    "\"late\":%llu,\"dropped\":%llu,\"reconnects\":%llu,"
	    "\"sessions_lost\":%llu,\"latency_us\":{\"count\":%llu,"
	    "\"mean\":%.1f", (unsigned long long)t->conns_open,
	    (unsigned long long)t->conns_failed, (unsigned long long)t->late,
	    (unsigned long long)t->dropped, (unsigned long long)t->reconnects,
	    (unsigned long long)t->sessions_lost,
	    (unsigned long long)t->hist.h_count, t->hist.h_count ?
	    (double)t->hist.h_sum_us / t->hist.h_count : 0.0);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		fprintf(fp, ",\"p%g\":%llu", qs[i] * 100,
		    (unsigned long long)mx_hist_quantile(&t->hist, qs[i]));
	fprintf(fp, "},\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f},"
	    "\"processes_reported\":%u}\n", t->cpu_user, t->cpu_sys,
	    procs_done);
}

/* One report from a load process: its end goes into the total. */
static void
report_one(const struct opts *o, const struct report *r, struct report *last,
    struct report *total, unsigned *done, int tty, uint64_t t0)
{
	unsigned i, k;

	if (r->type == 2) {
		/* exact: buckets add up */
		total->ok += r->ok;
		for (k = 0; k < E_KINDS; k++)
			total->errors[k] += r->errors[k];
		for (k = 0; k < 6; k++)
			total->http[k] += r->http[k];
		total->conns_open += r->conns_open;
		total->conns_failed += r->conns_failed;
		total->late += r->late;
		total->reconnects += r->reconnects;
		total->sessions_lost += r->sessions_lost;
		total->dropped += r->dropped;
		total->cpu_user += r->cpu_user;
		total->cpu_sys += r->cpu_sys;
		mx_hist_merge(&total->hist, &r->hist);
		(*done)++;
	} else if (tty) {
		uint64_t ok = 0, err = 0, open = 0, p50 = 0, p99 = 0;

		for (k = 0; k < o->procs; k++) {
			ok += last[k].ok;
			open += last[k].conns_open;
			for (i = 0; i < E_KINDS; i++)
				err += last[k].errors[i];
			if (last[k].p50_us > p50)
				p50 = last[k].p50_us;
			if (last[k].p99_us > p99)
				p99 = last[k].p99_us;
		}
		fprintf(stderr, "\r%6.1f s  %7llu conns  %9llu ok  %7.0f/s  "
		    "p50 %6llu us  p99 %7llu us  %llu errors ",
		    (now_us() - t0) / 1e6, (unsigned long long)open,
		    (unsigned long long)ok, ok / ((now_us() - t0) / 1e6),
		    (unsigned long long)p50, (unsigned long long)p99,
		    (unsigned long long)err);
	}
}

int
main(int argc, char **argv)
{
	static struct opts	 o;
	static struct report	 r, total, last[PROCS_MAX];
	struct rlimit		 rl;
	struct pollfd		 pfds[PROCS_MAX];
	pid_t			 pids[PROCS_MAX];
	size_t			 got[PROCS_MAX];
	int			 pfd[2], ch, tty = isatty(STDERR_FILENO);
	unsigned		 i, done = 0, k;
	uint64_t		 t0;
	ssize_t			 n;
	char			 c0[64];
	FILE			*fp;

	o.conns = 25;
	o.procs = 1;
	o.duration = 10;
	o.timeout = 10;
	o.era = ERA_STATELESS;
	o.spread = 1;
	snprintf(o.path, sizeof(o.path), "/mcp");
	parse_mix(&o, "tools/list");
	while ((ch = getopt_long(argc, argv,
	    "Ac:d:e:H:hIiK:kj:m:n:P:p:R:r:ST:Vw:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
			break;
		case 'V':
			printf("mcpbench %s\n", PACKAGE_VERSION);
			exit(0);
		case 'A':
			o.allow_remote = 1;
			break;
		case 'I':
			o.no_id = 1;
			break;
		case 'H':
			if (strlen(optarg) > HEADER_BYTES_MAX ||
			    strchr(optarg, ':') == NULL ||
			    strpbrk(optarg, "\r\n") != NULL)
				die("-H: one \"Name: value\" line of at most "
				    "%d bytes", HEADER_BYTES_MAX);
			o.header = optarg;
			break;
		case 'c':
			o.conns = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o.duration = strtod(optarg, NULL);
			break;
		case 'e':
			if (strcmp(optarg, "stateless") == 0)
				o.era = ERA_STATELESS;
			else if (strcmp(optarg, "session") == 0)
				o.era = ERA_SESSION;
			else if (strcmp(optarg, "nosession") == 0)
				o.era = ERA_NOSESSION;
			else
				die("-e: stateless, session or nosession");
			break;
		case 'i':
			o.idle = 1;
			break;
		case 'j':
			o.json = optarg;
			break;
		case 'K':
			o.churn = strtoull(optarg, NULL, 10);
			break;
		case 'k':
			o.keep_sid = 1;
			break;
		case 'm':
			parse_mix(&o, optarg);
			break;
		case 'n':
			o.max_requests = strtoull(optarg, NULL, 10);
			break;
		case 'P':
			o.procs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			snprintf(o.path, sizeof(o.path), "%s", optarg);
			break;
		case 'R':
			o.ramp = strtod(optarg, NULL);
			break;
		case 'r':
			o.rate = strtod(optarg, NULL);
			break;
		case 'S':
			o.spread = 0;
			break;
		case 'T':
			o.timeout = strtod(optarg, NULL);
			break;
		case 'w':
			o.warmup = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < (unsigned)argc; i++)
		parse_target(&o, argv[i]);
	if (o.procs < 1 || o.procs > PROCS_MAX)
		die("-P: 1 to %d", PROCS_MAX);
	if (o.conns < o.procs)
		die("-c: at least one connection a process");
	if (o.conns / o.procs + 1 > CONNS_PER_PROC_MAX)
		die("-c: at most %d connections a process (use -P)",
		    CONNS_PER_PROC_MAX);
	if (o.duration <= 0 || o.duration + o.warmup > DURATION_MAX)
		die("-d: 0 to %.0f seconds with the warm-up", DURATION_MAX);
	if (o.timeout <= 0)
		die("-T: a positive number of seconds");
	if (o.era == ERA_SESSION && o.idle)
		die("-i: listen streams are of the stateless era");
	/* every open file we may have: REFERENCE A */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	/* a pipe each: a report is larger than PIPE_BUF, writes would mix */
	for (i = 0; i < o.procs; i++) {
		if (pipe(pfd) == -1)
			die("pipe: %s", strerror(errno));
		if ((pids[i] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pids[i] == 0) {
			close(pfd[0]);
			for (k = 0; k < i; k++)
				close(pfds[k].fd);
			load(&o, i, pfd[1]);
		}
		close(pfd[1]);
		pfds[i].fd = pfd[0];
		pfds[i].events = POLLIN;
		got[i] = 0;
	}
	memset(&total, 0, sizeof(total));
	t0 = now_us();
	while (done < o.procs) {
		unsigned live = 0;

		for (i = 0; i < o.procs; i++)
			live += pfds[i].fd >= 0;
		if (live == 0 || poll(pfds, o.procs, -1) == -1) {
			if (live > 0 && errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < o.procs; i++) {
			if (pfds[i].fd < 0 || !(pfds[i].revents &
			    (POLLIN | POLLHUP)))
				continue;
			n = read(pfds[i].fd, (char *)&last[i] + got[i],
			    sizeof(r) - got[i]);
			if (n <= 0) {
				close(pfds[i].fd);
				pfds[i].fd = -1;
				continue;
			}
			got[i] += (size_t)n;
			if (got[i] < sizeof(r))
				continue;
			got[i] = 0;
			r = last[i];
			if (r.type == 2) {
				close(pfds[i].fd);
				pfds[i].fd = -1;
			}
			report_one(&o, &r, last, &total, &done, tty, t0);
		}
	}
	if (tty)
		fputc('\n', stderr);
	for (i = 0; i < o.procs; i++)
		waitpid(pids[i], NULL, 0);
	if (done < o.procs)
		fprintf(stderr, "mcpbench: %u of %u load processes reported\n",
		    done, o.procs);
	{
		uint64_t errs = 0;

		for (k = 0; k < E_KINDS; k++)
			errs += total.errors[k];
		snprintf(c0, sizeof(c0), "%s loop", o.rate > 0 ? "open" :
		    "closed");
		printf("mcpbench: %u connections, %u processes, %s, %s era, "
		    "%.1f s (after %.1f s warm-up)\n", o.conns, o.procs, c0,
		    o.era == ERA_SESSION ? "session" : o.era == ERA_NOSESSION ?
		    "nosession" : "stateless", o.duration,
		    o.warmup);
		printf("requests  %llu ok, %llu errors, %.0f/s\n",
		    (unsigned long long)total.ok, (unsigned long long)errs,
		    total.ok / o.duration);
		printf("latency   p50 %llu us, p90 %llu us, p99 %llu us, "
		    "p99.9 %llu us, max %llu us\n",
		    (unsigned long long)mx_hist_quantile(&total.hist, 0.5),
		    (unsigned long long)mx_hist_quantile(&total.hist, 0.9),
		    (unsigned long long)mx_hist_quantile(&total.hist, 0.99),
		    (unsigned long long)mx_hist_quantile(&total.hist, 0.999),
		    (unsigned long long)mx_hist_quantile(&total.hist, 1.0));
		printf("errors   ");
		for (k = 0; k < E_KINDS; k++)
			printf(" %s %llu", errnames[k],
			    (unsigned long long)total.errors[k]);
		printf("\nload CPU  %.2f s user, %.2f s system\n",
		    total.cpu_user, total.cpu_sys);
	}
	if (o.json != NULL) {
		if ((fp = strcmp(o.json, "-") == 0 ? stdout :
		    fopen(o.json, "w")) == NULL)
			die("%s: %s", o.json, strerror(errno));
		print_json(fp, &o, &total, o.duration, done);
		if (fp != stdout)
			fclose(fp);
	}
	return done == o.procs ? 0 : 1;
}
