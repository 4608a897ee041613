/*
 * exec.c -- the exec tools of mcpd.conf: a call's side; the runner runs.
 *
 * A call of an exec tool stays in this process (the engine's call API:
 * tasks, cancellation, the result), but its program runs in the runner
 * (runner/runner.c): this process never forks.  The call's arguments
 * are checked here -- every argument the tool's input schema (given, or
 * derived: each placeholder) says is required must be there and not
 * null, else -32602 naming it and nothing runs -- and substituted into
 * the command's words (subst.c), which go to the runner with the tool's
 * name and the digest of its definition (RUN_START, msg_run.def).  The
 * runner checks them against its own copy of the tool, enforces the
 * timeout, output cap, concurrency (per tool, across the node),
 * environment, directory and limits, kills every process of the run
 * with it, and answers RUN_DONE: how it ended, its output and the end
 * of its standard error, which become the call's result here.  A
 * cancelled call (the client's notifications/cancelled, tasks/cancel, a
 * closed stream) sends RUN_CANCEL and ends when the run is gone.
 *
 * The channel to the runner comes from the supervisor (mcp_exec_runner(),
 * again when the runner was restarted); when it closes, the calls
 * waiting on it fail at once.  mcpd --stdio has its runner in-process.
 *
 * The exec tools of one load of mcpd.conf are a generation: a reload
 * makes a new one, and the old one (with its struct conf) is freed once
 * its last run has ended.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mcp_int.h"
#include "metrics.h"
#include "msg.h"
#include "util.h"

#define EXEC_ARGS_TOKENS_MAX	1024	/* tokens of a call's arguments */
#define EXEC_NOTE_BYTES		128	/* "[output truncated ...]" */

/* One loaded mcpd.conf: kept while tool runs of it are in flight. */
struct exec_gen {
	struct conf		*g_conf;
	unsigned		 g_runs;
	int			 g_current;
	struct exec_tool	**g_tools;
	uint32_t		 g_ntools;
};

struct exec_tool {
	const struct conf_tool	*x_conf;
	struct exec_gen		*x_gen;
	unsigned char		 x_digest[CONF_TOOL_DIGEST_BYTES];
	char			**x_required;	/* NULL-terminated */
};

/* A call whose run is in the runner. */
struct exec_run {
	TAILQ_ENTRY(exec_run)	 r_entry;
	uint32_t		 r_id;
	struct mcpd_call	*r_call;
	struct exec_tool	*r_tool;
	int			 r_cancelled;
};

static struct exec_gen	*cur_gen;

/* The channel to the runner, and the runs waiting on it. */
static struct {
	struct chan		*chan;
	int			 out_fd;	/* RUN_OUTPUT for RUN_DONE */
	uint32_t		 next_id;
	TAILQ_HEAD(, exec_run)	 runs;
	int			 init;
} rx;

static void
rx_init(void)
{
	if (rx.init)
		return;
	rx.init = 1;
	rx.out_fd = -1;
	TAILQ_INIT(&rx.runs);
}

/* A replaced gen goes once its last run has ended. */
static void
gen_release(struct exec_gen *g)
{
	uint32_t	i;
	char		**r;

	if (g->g_runs > 0)
		g->g_runs--;
	if (g->g_current || g->g_runs > 0)
		return;
	for (i = 0; i < g->g_ntools; i++) {
		if (g->g_tools[i]->x_required != NULL) {
			for (r = g->g_tools[i]->x_required; *r != NULL; r++)
				free(*r);
			free(g->g_tools[i]->x_required);
		}
		free(g->g_tools[i]);
	}
	free(g->g_tools);
	conf_free(&g->g_conf);
	free(g);
}

static void
run_free(struct exec_run *r)
{
	TAILQ_REMOVE(&rx.runs, r, r_entry);
	gen_release(r->r_tool->x_gen);
	free(r);
}

/* A call ends with a text result. */
static void
run_text(struct exec_run *r, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
run_text(struct exec_run *r, int is_error, const char *fmt, ...)
{
	char	msg[RUN_TAIL_BYTES + RUN_MSG_MAX_BYTES + 256];
	va_list	ap;

	if (r->r_cancelled) {
		mcpd_call_error(r->r_call, MCP_SERVER_ERROR, "cancelled");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mcpd_call_result_text(r->r_call, msg, is_error);
}

/* RUN_DONE: the call's result, from how the run ended. */
static void
run_done(struct exec_run *r, enum mx_run o, uint32_t detail,
    const char *out, size_t outlen, const char *tail, size_t taillen,
    const char *why)
{
	const struct conf_tool	*t = r->r_tool->x_conf;
	char			*text;
	int			 nl = taillen > 0;

	switch (o) {
	case MX_RUN_OK:
	case MX_RUN_OVERFLOW:
		if (r->r_cancelled) {
			mcpd_call_error(r->r_call, MCP_SERVER_ERROR,
			    "cancelled");
			break;
		}
		if ((text = malloc(outlen + EXEC_NOTE_BYTES)) == NULL) {
			mcpd_call_error(r->r_call, JSONRPC_INTERNAL_ERROR,
			    "out of memory");
			break;
		}
		memcpy(text, out, outlen);
		if (o == MX_RUN_OVERFLOW)
			snprintf(text + outlen, EXEC_NOTE_BYTES, "\n[output "
			    "truncated at %u bytes]", t->t_output_max);
		else
			text[outlen] = '\0';
		mcpd_call_result_text(r->r_call, text, 0);
		free(text);
		break;
	case MX_RUN_ERROR:
		if (why[0] != '\0')
			run_text(r, 1, "%s: %s", t->t_name, why);
		else
			run_text(r, 1, "%s: exit status %u%s%.*s", t->t_name,
			    detail, nl ? "\n" : "", (int)taillen, tail);
		break;
	case MX_RUN_KILLED:
		if (why[0] != '\0')
			run_text(r, 1, "%s: %s%s%.*s", t->t_name, why,
			    nl ? "\n" : "", (int)taillen, tail);
		else
			run_text(r, 1, "%s: killed by signal %u%s%.*s",
			    t->t_name, detail, nl ? "\n" : "", (int)taillen,
			    tail);
		break;
	case MX_RUN_TIMEOUT:
		run_text(r, 1, "%s: timed out after %u.%03u s and was "
		    "killed%s%.*s", t->t_name, t->t_timeout_ms / 1000,
		    t->t_timeout_ms % 1000, nl ? "\n" : "", (int)taillen,
		    tail);
		break;
	case MX_RUN_CANCELLED:
		mcpd_call_error(r->r_call, MCP_SERVER_ERROR, "cancelled");
		break;
	default:	/* failed to start, busy: the runner says why */
		run_text(r, 1, "%s: %s", t->t_name, why);
		break;
	}
	run_free(r);
}

static struct exec_run *
run_find(uint32_t id)
{
	struct exec_run *r;

	TAILQ_FOREACH(r, &rx.runs, r_entry)
		if (r->r_id == id)
			return r;
	return NULL;
}

static void
on_done(struct msg *m)
{
	struct exec_run	*r;
	char		 why[RUN_MSG_MAX_BYTES];
	const char	*out;
	char		*map = NULL;
	uint64_t	 outlen = m->m_f[4].u;
	off_t		 size;

	if (m->m_f[0].u > UINT32_MAX ||
	    (r = run_find((uint32_t)m->m_f[0].u)) == NULL ||
	    m->m_f[1].u >= MX_RUNS || m->m_f[2].u > UINT32_MAX ||
	    m->m_f[5].u > 1 || m->m_f[7].s.len > RUN_TAIL_BYTES ||
	    msg_strcpy(why, sizeof(why), &m->m_f[8]) == -1)
		fatalx("a bad RUN_DONE from the runner");
	if (m->m_f[5].u) {
		if (rx.out_fd == -1)
			fatalx("RUN_DONE without its RUN_OUTPUT");
		size = lseek(rx.out_fd, 0, SEEK_END);
		if (size < 0 || (uint64_t)size != outlen)
			fatalx("RUN_OUTPUT of %lld bytes, not %llu",
			    (long long)size, (unsigned long long)outlen);
		if ((map = mmap(NULL, outlen, PROT_READ, MAP_PRIVATE,
		    rx.out_fd, 0)) == MAP_FAILED)
			fatal("map a run's output");
		out = map;
	} else {
		if (m->m_f[6].s.len != outlen)
			fatalx("RUN_DONE's output is not %llu bytes",
			    (unsigned long long)outlen);
		out = m->m_f[6].s.p;
	}
	run_done(r, (enum mx_run)m->m_f[1].u, (uint32_t)m->m_f[2].u, out,
	    outlen, m->m_f[7].s.p, m->m_f[7].s.len, why);
	if (map != NULL)
		munmap(map, outlen);
	if (rx.out_fd != -1) {
		close(rx.out_fd);
		rx.out_fd = -1;
	}
}

static void
rx_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	switch (m->m_type) {
	case MSG_RUN_OUTPUT:
		if (rx.out_fd != -1)
			close(rx.out_fd);
		rx.out_fd = m->m_fd;
		break;
	case MSG_RUN_DONE:
		on_done(m);
		break;
	default:
		fatalx("unexpected %s from the runner",
		    msg_name(&msg_proto_run, m->m_type));
	}
}

/* The runner is gone (a new one gets a new channel): its runs fail. */
static void
rx_lost(const char *why)
{
	struct exec_run *r;

	while ((r = TAILQ_FIRST(&rx.runs)) != NULL) {
		run_text(r, 1, "%s: %s; try again", r->r_tool->x_conf->t_name,
		    why);
		run_free(r);
	}
	chan_free(&rx.chan);
	if (rx.out_fd != -1) {
		close(rx.out_fd);
		rx.out_fd = -1;
	}
}

static void
rx_err(struct chan *ch, const char *reason, void *arg)
{
	/* an internal channel carries no garbage: a bug, restart us */
	if (reason != NULL)
		fatalx("channel to the runner: %s", reason);
	log_debug("channel to the runner closed");
	rx_lost("the runner stopped");
}

void
mcp_exec_runner(struct ev_loop *loop, int fd)
{
	rx_init();
	if (rx.chan != NULL)
		rx_lost("the runner was replaced");
	if (fd_nonblock(fd) == -1 ||
	    (rx.chan = chan_new(loop, fd, &msg_proto_run, 1, rx_dispatch,
	    rx_err, NULL, "runner")) == NULL)
		fatal("channel to the runner");
	chan_set_accept(rx.chan, "runner>worker");
	log_debug("channel to the runner");
}

static void
cancel_cb(struct mcpd_call *c, void *arg)
{
	struct exec_run *r = arg;

	r->r_cancelled = 1;
	if (rx.chan != NULL && chan_send(rx.chan, MSG_RUN_CANCEL, -1,
	    (uint64_t)r->r_id) == -1)
		log_warn("cancel a run of %s", r->r_tool->x_conf->t_name);
}

/* The words of a run (msg_run.def), packed */
struct words {
	char	*buf;
	size_t	 len, cap;
};

static int
words_add(struct words *w, uint32_t idx, const char *s)
{
	size_t	n = strlen(s), cap;
	char	*p;

	if (w->len + n + 2 > RUN_ARGV_MAX_BYTES)
		return -1;
	if (w->len + n + 2 > w->cap) {
		cap = w->cap ? w->cap : 256;
		while (cap < w->len + n + 2)
			cap *= 2;
		if ((p = realloc(w->buf, cap)) == NULL)
			return -1;
		w->buf = p;
		w->cap = cap;
	}
	w->buf[w->len++] = (char)idx;
	memcpy(w->buf + w->len, s, n + 1);
	w->len += n + 1;
	return 0;
}

static int
words_memfd(const struct words *w)
{
	return memfd_sealed("mcpd-args", w->buf, w->len, NULL, 0);
}

static void
exec_call(struct mcpd_call *c, const char *args, size_t alen, void *arg)
{
	struct exec_tool	*x = arg;
	const struct conf_tool	*t = x->x_conf;
	struct exec_run		*r;
	struct words		 w = { NULL, 0, 0 };
	jsmntok_t		 toks[EXEC_ARGS_TOKENS_MAX];
	struct json		 j;
	char			 msg[256], *word, **req;
	uint32_t		 i;
	int			 whole, v, fd, inmemfd = 0;

	if (json_parse(&j, args, alen, toks, EXEC_ARGS_TOKENS_MAX) != JSON_OK) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "arguments too complex");
		return;
	}
	/* what the schema requires is there: else the program never runs */
	for (req = x->x_required; req != NULL && *req != NULL; req++) {
		if ((v = json_get(&j, 0, *req)) == -1 ||
		    json_type(&j, v) == JSON_NULL) {
			snprintf(msg, sizeof(msg), "Missing required argument: "
			    "%s", *req);
			mcpd_call_error(c, JSONRPC_INVALID_PARAMS, msg);
			return;
		}
	}
	for (i = 0; i < t->t_argc; i++) {
		if ((word = subst_args(t->t_argv[i], &j, &whole)) == NULL &&
		    whole)
			continue;	/* an absent optional argument */
		if (word == NULL) {
			free(w.buf);
			mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
			    "an argument is too long or holds a NUL");
			return;
		}
		v = words_add(&w, i, word);
		free(word);
		if (v == -1) {
			free(w.buf);
			mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
			    "the arguments are too long");
			return;
		}
	}
	if (rx.chan == NULL) {
		free(w.buf);
		snprintf(msg, sizeof(msg), "%s: the runner is not running; "
		    "try again later", t->t_name);
		mcpd_call_result_text(c, msg, 1);
		return;
	}
	/* "task optional|required": a client that takes tasks polls */
	if (t->t_task != 0)
		(void)mcpd_call_task(c);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		free(w.buf);
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	r->r_id = ++rx.next_id;
	r->r_call = c;
	r->r_tool = x;
	if (w.len > RUN_INLINE_MAX_BYTES) {
		if ((fd = words_memfd(&w)) == -1 || chan_send(rx.chan,
		    MSG_RUN_ARGS, fd, (uint64_t)w.len) == -1)
			goto fail;
		inmemfd = 1;
	}
	/* who asks (MCPD_PRINCIPAL), never how it proved it */
	if (chan_send(rx.chan, MSG_RUN_START, -1, (uint64_t)r->r_id,
	    t->t_name, (const char *)x->x_digest, (size_t)sizeof(x->x_digest),
	    (uint64_t)w.len, (uint64_t)inmemfd, inmemfd ? "" : w.buf,
	    inmemfd ? (size_t)0 : w.len, c->c_srv->sv_principal != NULL ?
	    c->c_srv->sv_principal : "") == -1)
		goto fail;
	free(w.buf);
	TAILQ_INSERT_TAIL(&rx.runs, r, r_entry);
	x->x_gen->g_runs++;
	mcpd_call_on_cancel(c, cancel_cb, r);
	return;
fail:
	snprintf(msg, sizeof(msg), "%s: cannot reach the runner: %s; try "
	    "again later", t->t_name, strerror(errno));
	mcpd_call_result_text(c, msg, 1);
	free(w.buf);
	free(r);
}

/* The input schema of a tool without one: every placeholder a string. */
static char *
derive_schema(const struct conf_tool *t)
{
	struct jw	 w;
	const char	*p, *e;
	char		 names[CONF_ARGV_MAX * 4][65];
	int		 n = 0, k, i;
	uint32_t	 a;
	char		*res;

	for (a = 0; a < t->t_argc; a++) {
		for (p = t->t_argv[a]; (p = strchr(p, '{')) != NULL; p = e) {
			if (p[1] == '{') {
				e = p + 2;
				continue;
			}
			if ((e = strchr(p, '}')) == NULL)
				break;
			if ((size_t)(e - p - 1) >= sizeof(names[0]) ||
			    n == (int)(sizeof(names) / sizeof(names[0])))
				continue;
			memcpy(names[n], p + 1, e - p - 1);
			names[n][e - p - 1] = '\0';
			for (k = 0; k < n; k++)
				if (strcmp(names[k], names[n]) == 0)
					break;
			if (k == n)
				n++;
		}
	}
	jw_init(&w);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "object");
	jw_key(&w, "properties");
	jw_obj(&w);
	for (i = 0; i < n; i++) {
		jw_key(&w, names[i]);
		jw_obj(&w);
		jw_key(&w, "type");
		jw_str(&w, "string");
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_key(&w, "required");
	jw_arr(&w);
	for (i = 0; i < n; i++)
		jw_str(&w, names[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_append(&w, "", 1);
	res = w.err ? NULL : strdup(w.buf);
	jw_free(&w);
	return res;
}

/*
 * The names a schema requires (its "required", strings), NULL-terminated;
 * NULL when out of memory.  parse.y checked the schema is a JSON object.
 */
static char **
required_of(const char *schema)
{
	struct json	 j;
	jsmntok_t	*toks;
	size_t		 len = strlen(schema);
	char		**out;
	int		 a, k, i, n = 0, size;

	if ((toks = calloc(len + 1, sizeof(*toks))) == NULL)
		return NULL;
	if (json_parse(&j, schema, len, toks, (int)len + 1) != JSON_OK ||
	    (a = json_get(&j, 0, "required")) == -1 ||
	    json_type(&j, a) != JSON_ARRAY)
		size = 0;
	else
		size = j.t[a].size;
	if ((out = calloc(size + 1, sizeof(*out))) == NULL)
		goto done;
	for (i = 0, k = a + 1; i < size; i++, k = json_skip(&j, k)) {
		if (json_type(&j, k) != JSON_STRING)
			continue;
		if ((out[n] = malloc(j.t[k].end - j.t[k].start + 1)) == NULL ||
		    json_strcpy(&j, k, out[n], j.t[k].end - j.t[k].start +
		    1) == -1) {
			free(out[n]);
			continue;
		}
		n++;
	}
done:
	free(toks);
	return out;
}

int
exec_load(struct mcp_server *srv, struct mcpd_host *host, struct conf *conf,
    char *err, size_t errlen)
{
	struct exec_gen	*g;
	uint32_t	 i;

	rx_init();
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (conf->c_ntools > 0 && (g->g_tools = calloc(conf->c_ntools,
	    sizeof(*g->g_tools))) == NULL)) {
		free(g);
		goto nomem;
	}
	g->g_conf = conf;
	g->g_current = 1;
	cur_gen = g;
	for (i = 0; i < conf->c_ntools; i++) {
		const struct conf_tool	*t = &conf->c_tools[i];
		struct exec_tool	*x;
		struct mcpd_tool	 mt;
		char			*schema = NULL;

		if ((x = calloc(1, sizeof(*x))) == NULL)
			goto nomem;
		x->x_conf = t;
		x->x_gen = g;
		g->g_tools[g->g_ntools++] = x;
		if ((t->t_schema == NULL && (schema = derive_schema(t)) ==
		    NULL) || conf_tool_digest(t, x->x_digest) == -1 ||
		    (x->x_required = required_of(t->t_schema ? t->t_schema :
		    schema)) == NULL) {
			free(schema);
			goto nomem;
		}
		memset(&mt, 0, sizeof(mt));
		mt.name = t->t_name;
		mt.title = t->t_title;
		mt.description = t->t_desc;
		mt.input_schema = t->t_schema ? t->t_schema : schema;
		mt.call = exec_call;
		mt.arg = x;
		if (mcpd_register_tool(host, &mt) == -1 ||
		    mcpd_set_task_support(host, t->t_name,
		    (enum mcpd_task_support)t->t_task) == -1 ||
		    cat_scope_last(&srv->sv_cat, MCPD_ITEM_TOOL,
		    t->t_scope) == -1) {
			snprintf(err, errlen, "tool %s (line %d) could not be "
			    "registered", t->t_name, t->t_line);
			free(schema);
			return -1;
		}
		free(schema);
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
exec_unload(void)
{
	if (cur_gen != NULL) {
		cur_gen->g_current = 0;
		cur_gen->g_runs++;	/* gen_release() takes it back */
		gen_release(cur_gen);
		cur_gen = NULL;
	}
}
