/*
 * exec.c -- the exec tools of mcpd.conf: each runs a configured argv, with
 * the call's arguments substituted as whole words, from the worker.
 *
 * A run is posix_spawn(3)ed: every fd of ours is close-on-exec, so the
 * child gets stdin from /dev/null, two pipes, and nothing else; no shell
 * ever sees an argument.  Each run is its own process group, killed whole
 * at the timeout, on cancellation and once the tool exits (leftover
 * grandchildren would hold its pipes open).  Runs are bounded per tool
 * (concurrency), in time and in output.
 *
 * The exec tools of one load of mcpd.conf are a generation: a reload makes
 * a new one, and the old one (with its struct conf) is freed once its last
 * run has ended.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mcp_int.h"

#define EXEC_ERR_TAIL_BYTES	2048	/* bytes of stderr kept */
#define EXEC_READ_BYTES		16384	/* bytes read from a pipe at once */
#define EXEC_ARGS_TOKENS_MAX	1024	/* tokens of a call's arguments */

extern char **environ;

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
	uint32_t		 x_running;
	struct exec_gen		*x_gen;
};

struct exec_run {
	struct mcpd_call	*r_call;
	struct exec_tool	*r_tool;
	struct mcp_server	*r_srv;
	pid_t			 r_pid;
	int			 r_out;
	int			 r_err;
	ev_io			 r_out_ev;
	ev_io			 r_err_ev;
	ev_child		 r_child_ev;
	ev_timer		 r_to;
	char			*r_buf;
	size_t			 r_len;
	int			 r_truncated;
	char			 r_tail[EXEC_ERR_TAIL_BYTES];
	size_t			 r_tail_len;
	int			 r_exited;
	int			 r_status;
	int			 r_timed_out;
	int			 r_cancelled;
};

static struct mcp_server	*exec_srv;
static struct exec_gen		*cur_gen;

/* A replaced gen goes once its last run has ended. */
static void
gen_release(struct exec_gen *g)
{
	uint32_t i;

	if (g->g_runs > 0)
		g->g_runs--;
	if (g->g_current || g->g_runs > 0)
		return;
	for (i = 0; i < g->g_ntools; i++)
		free(g->g_tools[i]);
	free(g->g_tools);
	conf_free(&g->g_conf);
	free(g);
}

static void
run_free(struct exec_run *r)
{
	struct ev_loop *loop = r->r_srv->sv_loop;

	ev_io_stop(loop, &r->r_out_ev);
	ev_io_stop(loop, &r->r_err_ev);
	ev_child_stop(loop, &r->r_child_ev);
	ev_timer_stop(loop, &r->r_to);
	if (r->r_out != -1)
		close(r->r_out);
	if (r->r_err != -1)
		close(r->r_err);
	r->r_tool->x_running--;
	gen_release(r->r_tool->x_gen);
	free(r->r_buf);
	free(r);
}

static void
run_finish(struct exec_run *r)
{
	const struct conf_tool	*t = r->r_tool->x_conf;
	char			 msg[EXEC_ERR_TAIL_BYTES + 256];
	char			*text;
	int			 n;

	if (!r->r_exited || r->r_out != -1 || r->r_err != -1)
		return;
	if (r->r_cancelled) {
		mcpd_call_error(r->r_call, MCP_SERVER_ERROR,
		    "cancelled");
	} else if (r->r_timed_out) {
		n = snprintf(msg, sizeof(msg), "%s: timed out after "
		    "%u.%03u s and was killed\n%.*s", t->t_name,
		    t->t_timeout_ms / 1000, t->t_timeout_ms % 1000,
		    (int)r->r_tail_len, r->r_tail);
		mcpd_call_result_text(r->r_call, msg, 1);
	} else if (!WIFEXITED(r->r_status) || WEXITSTATUS(r->r_status) != 0) {
		if (WIFSIGNALED(r->r_status))
			n = snprintf(msg, sizeof(msg), "%s: killed by signal "
			    "%d", t->t_name, WTERMSIG(r->r_status));
		else
			n = snprintf(msg, sizeof(msg), "%s: exit status %d",
			    t->t_name, WEXITSTATUS(r->r_status));
		if (r->r_tail_len > 0 && n > 0 && (size_t)n < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - n, "\n%.*s",
			    (int)r->r_tail_len, r->r_tail);
		mcpd_call_result_text(r->r_call, msg, 1);
	} else {
		if ((text = malloc(r->r_len + 128)) == NULL) {
			mcpd_call_error(r->r_call, JSONRPC_INTERNAL_ERROR,
			    "out of memory");
		} else {
			memcpy(text, r->r_buf ? r->r_buf : "", r->r_len);
			if (r->r_truncated)
				snprintf(text + r->r_len, 128, "\n[output "
				    "truncated at %u bytes]", t->t_output_max);
			else
				text[r->r_len] = '\0';
			mcpd_call_result_text(r->r_call, text, 0);
			free(text);
		}
	}
	run_free(r);
}

static void
kill_group(struct exec_run *r)
{
	if (r->r_pid > 0)
		kill(-r->r_pid, SIGKILL);
}

static void
out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct exec_run	*r = w->data;
	char		 buf[EXEC_READ_BYTES];
	uint32_t	 max = r->r_tool->x_conf->t_output_max;
	ssize_t		 n;
	size_t		 keep;

	n = read(w->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ev_io_stop(loop, w);
		close(w->fd);
		if (w == &r->r_out_ev)
			r->r_out = -1;
		else
			r->r_err = -1;
		run_finish(r);
		return;
	}
	if (w == &r->r_err_ev) {
		/* keep the tail of stderr */
		if ((size_t)n >= sizeof(r->r_tail)) {
			memcpy(r->r_tail, buf + n - sizeof(r->r_tail),
			    sizeof(r->r_tail));
			r->r_tail_len = sizeof(r->r_tail);
		} else {
			keep = sizeof(r->r_tail) - n;
			if (r->r_tail_len > keep) {
				memmove(r->r_tail, r->r_tail + r->r_tail_len -
				    keep, keep);
				r->r_tail_len = keep;
			}
			memcpy(r->r_tail + r->r_tail_len, buf, n);
			r->r_tail_len += n;
		}
		return;
	}
	if (r->r_len >= max) {
		r->r_truncated = 1;	/* read and drop the rest */
		return;
	}
	keep = (size_t)n > max - r->r_len ? max - r->r_len : (size_t)n;
	if (keep < (size_t)n)
		r->r_truncated = 1;
	{
		char *p = realloc(r->r_buf, r->r_len + keep);

		if (p == NULL) {
			r->r_truncated = 1;
			return;
		}
		r->r_buf = p;
	}
	memcpy(r->r_buf + r->r_len, buf, keep);
	r->r_len += keep;
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct exec_run *r = w->data;

	ev_child_stop(loop, w);
	r->r_exited = 1;
	r->r_status = w->rstatus;
	ev_timer_stop(loop, &r->r_to);
	kill_group(r);		/* what it left behind holds its pipes */
	r->r_pid = 0;
	run_finish(r);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct exec_run *r = w->data;

	r->r_timed_out = 1;
	kill_group(r);
}

static void
cancel_cb(struct mcpd_call *c, void *arg)
{
	struct exec_run *r = arg;

	r->r_cancelled = 1;
	kill_group(r);
}

static void
exec_call(struct mcpd_call *c, const char *args, size_t alen, void *arg)
{
	struct exec_tool		*x = arg;
	const struct conf_tool		*t = x->x_conf;
	struct exec_run			*r = NULL;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, all;
	jsmntok_t			 toks[EXEC_ARGS_TOKENS_MAX];
	struct json			 j;
	char				*argv[CONF_ARGV_MAX + 1];
	char				*envp[CONF_ENV_MAX + 1];
	char				 msg[512];
	int				 outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int				 argc = 0, nenv = 0, whole, rv;
	uint32_t			 i;

	memset(argv, 0, sizeof(argv));
	memset(envp, 0, sizeof(envp));
	if (x->x_running >= t->t_concurrency) {
		snprintf(msg, sizeof(msg), "%s: %u runs in progress already "
		    "(concurrency %u); try again later", t->t_name,
		    x->x_running, t->t_concurrency);
		mcpd_call_result_text(c, msg, 1);
		return;
	}
	/* "task optional|required": a client that takes tasks polls */
	if (t->t_task != 0)
		(void)mcpd_call_task(c);
	if (json_parse(&j, args, alen, toks, EXEC_ARGS_TOKENS_MAX) != JSON_OK) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "arguments too complex");
		return;
	}
	for (i = 0; i < t->t_argc; i++) {
		char *w = subst_args(t->t_argv[i], &j, &whole);

		if (w == NULL && whole)
			continue;	/* an absent optional argument */
		if (w == NULL) {
			mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
			    "an argument is too long or holds a NUL");
			goto out;
		}
		argv[argc++] = w;
	}
	for (i = 0; i < t->t_nenv; i++) {
		const char *v = getenv(t->t_env[i]);
		size_t n;

		if (v == NULL)
			continue;
		n = strlen(t->t_env[i]) + strlen(v) + 2;
		if ((envp[nenv] = malloc(n)) == NULL)
			goto nomem;
		snprintf(envp[nenv++], n, "%s=%s", t->t_env[i], v);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->r_out = r->r_err = -1;
	/* non-blocking on our side only: the tool writes as it likes */
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    fcntl(outp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(errp[0], F_SETFL, O_NONBLOCK) == -1)
		goto syserr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, t->t_cwd ? t->t_cwd : "/");
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rv = posix_spawn(&r->r_pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (rv != 0) {
		errno = rv;
		goto syserr;
	}
	r->r_call = c;
	r->r_tool = x;
	r->r_srv = exec_srv;
	r->r_out = outp[0];
	r->r_err = errp[0];
	x->x_running++;
	x->x_gen->g_runs++;
	ev_io_init(&r->r_out_ev, out_cb, r->r_out, EV_READ);
	ev_io_init(&r->r_err_ev, out_cb, r->r_err, EV_READ);
	ev_child_init(&r->r_child_ev, child_cb, r->r_pid, 0);
	ev_timer_init(&r->r_to, timeout_cb, t->t_timeout_ms / 1000.0, 0.);
	r->r_out_ev.data = r->r_err_ev.data = r->r_child_ev.data =
	    r->r_to.data = r;
	ev_io_start(exec_srv->sv_loop, &r->r_out_ev);
	ev_io_start(exec_srv->sv_loop, &r->r_err_ev);
	ev_child_start(exec_srv->sv_loop, &r->r_child_ev);
	ev_timer_start(exec_srv->sv_loop, &r->r_to);
	mcpd_call_on_cancel(c, cancel_cb, r);
	r = NULL;
	goto out;
syserr:
	snprintf(msg, sizeof(msg), "%s: cannot run %s: %s", t->t_name,
	    argv[0] ? argv[0] : "?", strerror(errno));
	mcpd_call_result_text(c, msg, 1);
	if (outp[0] != -1)
		close(outp[0]);
	if (outp[1] != -1)
		close(outp[1]);
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	free(r);
	r = NULL;
	goto out;
nomem:
	mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
out:
	free(r);
	for (i = 0; i < (uint32_t)argc; i++)
		free(argv[i]);
	for (i = 0; i < (uint32_t)nenv; i++)
		free(envp[i]);
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

int
exec_load(struct mcp_server *srv, struct mcpd_host *host, struct conf *conf,
    char *err, size_t errlen)
{
	struct exec_gen	*g;
	uint32_t	 i;

	exec_srv = srv;
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
		if (t->t_schema == NULL && (schema = derive_schema(t)) == NULL)
			goto nomem;
		memset(&mt, 0, sizeof(mt));
		mt.name = t->t_name;
		mt.title = t->t_title;
		mt.description = t->t_desc;
		mt.input_schema = t->t_schema ? t->t_schema : schema;
		mt.call = exec_call;
		mt.arg = x;
		if (mcpd_register_tool(host, &mt) == -1 ||
		    mcpd_set_task_support(host, t->t_name,
		    (enum mcpd_task_support)t->t_task) == -1) {
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
