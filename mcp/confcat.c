/*
 * confcat.c -- the catalog of mcpd.conf: exec tools, file resources,
 * prompts, registered like a plugin's.
 *
 * Exec tools run their argv with posix_spawn(3) from the worker: every fd
 * of ours is close-on-exec, so the child gets stdin from /dev/null, two
 * pipes, and nothing else; no shell ever sees an argument.  Each run is
 * its own process group, killed whole at the timeout, on cancellation and
 * once the tool exits (leftover grandchildren would hold its pipes open).
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mcp_int.h"

#define EXEC_ERR_TAIL		2048	/* bytes of stderr kept */
#define EXEC_ARG_MAX		(256 * 1024) /* bytes of one argv word */
#define DIR_FILES_MAX		10000	/* files listed per directory resource */
#define DIR_DEPTH_MAX		16
#define WATCHES_MAX		4096	/* inotify watches per worker */

extern char **environ;

/* One loaded mcpd.conf: kept while tool runs of it are in flight. */
struct cat_gen {
	struct conf		*g_conf;
	unsigned		 g_runs;
	int			 g_current;
	struct exec_tool	**g_tools;
	uint32_t		 g_ntools;
};

struct exec_tool {
	const struct conf_tool	*x_conf;
	uint32_t		 x_running;
	struct cat_gen		*x_gen;
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
	char			 r_tail[EXEC_ERR_TAIL];
	size_t			 r_tail_len;
	int			 r_exited;
	int			 r_status;
	int			 r_timed_out;
	int			 r_cancelled;
};

struct file_res {
	const struct conf_resource	*f_conf;
	char				 f_root[PATH_MAX]; /* realpath */
	int				 f_dir;
};

struct watch {
	int		 w_wd;
	char		*w_dir;		/* real path of the directory */
	struct file_res	*w_res;
};

static struct mcp_server	*cc_srv;
static struct cat_gen		*cur_gen;
static struct file_res		**files;	/* of the current gen */
static size_t			 nfiles;
static int			 ino_fd = -1;
static ev_io			 ino_ev;
static struct watch		 watches[WATCHES_MAX];
static int			 nwatches;

/* Placeholders */

/*
 * Append the value of argument name (from the JSON object args) to w, as
 * text: strings unescaped, other values as their JSON.  0 absent, 1 done.
 */
static int
arg_value(const struct json *j, const char *name, size_t nlen, char **out,
    size_t *outlen)
{
	char		 key[128];
	const char	*t;
	size_t		 n;
	int		 v;

	if (nlen >= sizeof(key))
		return 0;
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	if (j == NULL || json_type(j, 0) != JSON_OBJECT ||
	    (v = json_get(j, 0, key)) == -1 || json_type(j, v) == JSON_NULL)
		return 0;
	if (json_type(j, v) == JSON_STRING) {
		t = json_raw(j, v, &n);
		if ((*out = malloc(n + 1)) == NULL)
			return -1;
		if (json_strcpy(j, v, *out, n + 1) == -1) {
			free(*out);
			return -1;
		}
		*outlen = strlen(*out);
		return 1;
	}
	t = json_text(j, v, &n);
	if ((*out = malloc(n + 1)) == NULL)
		return -1;
	memcpy(*out, t, n);
	(*out)[n] = '\0';
	*outlen = n;
	return 1;
}

/*
 * Substitute {name} in tmpl.  *whole is set when tmpl is exactly one
 * placeholder whose argument is absent (the caller drops the word).
 * Returns a malloc'd string, or NULL (out of memory, value with a NUL).
 */
static char *
substitute(const char *tmpl, const struct json *j, int *whole)
{
	const char	*p, *e;
	char		*res = NULL, *v, *q;
	size_t		 len = 0, cap = 0, vlen, n;
	int		 rv;

	*whole = 0;
	if (tmpl[0] == '{' && tmpl[1] != '{' && (e = strchr(tmpl, '}')) !=
	    NULL && e[1] == '\0') {
		/* exactly one placeholder: an absent argument drops the word */
		if ((rv = arg_value(j, tmpl + 1, e - tmpl - 1, &v, &vlen)) ==
		    0) {
			*whole = 1;
			return NULL;
		}
		if (rv == 1)
			free(v);
	}
	for (p = tmpl; *p != '\0'; ) {
		v = NULL;
		if (p[0] == '{' && p[1] == '{') {
			vlen = 1;
			q = "{";
			p += 2;
		} else if (p[0] == '{' && (e = strchr(p, '}')) != NULL) {
			rv = arg_value(j, p + 1, e - p - 1, &v, &vlen);
			if (rv == -1)
				goto fail;
			q = rv == 1 ? v : "";
			if (rv == 0)
				vlen = 0;
			p = e + 1;
		} else {
			vlen = 1;
			q = (char *)p++;
		}
		if (len + vlen + 1 > cap) {
			char *r;

			n = cap ? cap * 2 : 64;
			while (n < len + vlen + 1)
				n *= 2;
			if (n > EXEC_ARG_MAX || (r = realloc(res, n)) == NULL) {
				free(v);
				goto fail;
			}
			res = r;
			cap = n;
		}
		if (memchr(q, '\0', vlen) != NULL) {
			free(v);
			goto fail;
		}
		memcpy(res + len, q, vlen);
		len += vlen;
		free(v);
	}
	if (res == NULL && (res = strdup("")) == NULL)
		return NULL;
	res[len] = '\0';
	return res;
fail:
	free(res);
	return NULL;
}

/* Exec tools */

/* A replaced gen goes once its last run has ended. */
static void
gen_release(struct cat_gen *g)
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
	char			 msg[EXEC_ERR_TAIL + 256];
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
	char		 buf[16384];
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
	jsmntok_t			 toks[1024];
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
	if (json_parse(&j, args, alen, toks, 1024) != JSON_OK) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "arguments too complex");
		return;
	}
	for (i = 0; i < t->t_argc; i++) {
		char *w = substitute(t->t_argv[i], &j, &whole);

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
	r->r_srv = cc_srv;
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
	ev_io_start(cc_srv->sv_loop, &r->r_out_ev);
	ev_io_start(cc_srv->sv_loop, &r->r_err_ev);
	ev_child_start(cc_srv->sv_loop, &r->r_child_ev);
	ev_timer_start(cc_srv->sv_loop, &r->r_to);
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

/* Prompts */

static void
prompt_get(struct mcpd_call *c, const char *args, size_t alen, void *arg)
{
	const struct conf_prompt	*p = arg;
	jsmntok_t			 toks[512];
	struct json			 j;
	struct jw			 w;
	uint32_t			 i;
	int				 whole;
	char				*text;

	if (json_parse(&j, args, alen, toks, 512) != JSON_OK) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "arguments too complex");
		return;
	}
	jw_init(&w);
	jw_obj(&w);
	if (p->p_desc != NULL) {
		jw_key(&w, "description");
		jw_str(&w, p->p_desc);
	}
	jw_key(&w, "messages");
	jw_arr(&w);
	for (i = 0; i < p->p_nmsgs; i++) {
		text = substitute(p->p_msgs[i].m_text, &j, &whole);
		jw_obj(&w);
		jw_key(&w, "role");
		jw_str(&w, p->p_msgs[i].m_assistant ? "assistant" : "user");
		jw_key(&w, "content");
		jw_obj(&w);
		jw_key(&w, "type");
		jw_str(&w, "text");
		jw_key(&w, "text");
		jw_str(&w, text != NULL ? text : "");
		jw_obj_end(&w);
		jw_obj_end(&w);
		free(text);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (w.err)
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
	else
		call_result_raw(c, w.buf, w.len);
	jw_free(&w);
}

/* File resources */

static const char *
mime_of(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{ ".txt", "text/plain" }, { ".md", "text/markdown" },
		{ ".html", "text/html" }, { ".htm", "text/html" },
		{ ".css", "text/css" }, { ".csv", "text/csv" },
		{ ".c", "text/x-c" }, { ".h", "text/x-c" },
		{ ".py", "text/x-python" }, { ".sh", "text/x-shellscript" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".xml", "application/xml" }, { ".yaml", "application/yaml" },
		{ ".yml", "application/yaml" }, { ".toml", "application/toml" },
		{ ".conf", "text/plain" }, { ".log", "text/plain" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" }, { ".webp", "image/webp" },
		{ ".pdf", "application/pdf" }, { ".wav", "audio/wav" },
		{ ".mp3", "audio/mpeg" }, { ".gz", "application/gzip" },
		{ ".zip", "application/zip" }
	};
	const char	*dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t		 i;

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].mime;
	return "application/octet-stream";
}

static int
is_text(const char *mime)
{
	return strncmp(mime, "text/", 5) == 0 ||
	    strcmp(mime, "application/json") == 0 ||
	    strcmp(mime, "application/xml") == 0 ||
	    strcmp(mime, "application/yaml") == 0 ||
	    strcmp(mime, "application/toml") == 0 ||
	    strcmp(mime, "image/svg+xml") == 0;
}

/* The file behind uri, inside the resource's root; -1 when not. */
static int
file_path(const struct file_res *f, const char *uri, char *out,
    size_t outlen)
{
	const char	*rel;
	char		 joined[PATH_MAX];
	size_t		 rl;

	if (!f->f_dir) {
		if (strcmp(uri, f->f_conf->r_uri) != 0)
			return -1;
		snprintf(out, outlen, "%s", f->f_root);
		return 0;
	}
	rl = strlen(f->f_conf->r_uri);
	if (strncmp(uri, f->f_conf->r_uri, rl) != 0)
		return -1;
	rel = uri + rl;
	if (*rel == '\0' || *rel == '/' || strstr(rel, "..") != NULL ||
	    strchr(rel, '\\') != NULL)
		return -1;
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", f->f_root,
	    rel) >= sizeof(joined))
		return -1;
	/* symbolic links must not lead out of the root either */
	if (realpath(joined, out) == NULL || strlen(out) >= outlen ||
	    strncmp(out, f->f_root, strlen(f->f_root)) != 0 ||
	    out[strlen(f->f_root)] != '/')
		return -1;
	return 0;
}

static void
file_read(struct mcpd_call *c, const char *uri, void *arg)
{
	const struct file_res	*f = arg;
	const char		*mime;
	struct stat		 st;
	struct jw		 w;
	char			 path[PATH_MAX], *buf = NULL;
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd;

	if (file_path(f, uri, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		mcpd_call_error(c, MCP_RESOURCE_NOT_FOUND,
		    "Resource not found");
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		mcpd_call_error(c, MCP_RESOURCE_NOT_FOUND,
		    "Resource not found");
		return;
	}
	if ((uint64_t)st.st_size > f->f_conf->r_size_max) {
		close(fd);
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "resource larger than its max-size");
		return;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	mime = f->f_conf->r_mime ? f->f_conf->r_mime : mime_of(path);
	jw_init(&w);
	jw_obj(&w);
	jw_key(&w, "contents");
	jw_arr(&w);
	jw_obj(&w);
	jw_key(&w, "uri");
	jw_str(&w, uri);
	jw_key(&w, "mimeType");
	jw_str(&w, mime);
	if (is_text(mime)) {
		jw_key(&w, "text");
		jw_strn(&w, buf, got);
	} else {
		jw_key(&w, "blob");
		jw_base64(&w, buf, got);
	}
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(buf);
	/* how long a client may keep it (stateless era) */
	c->c_read_ttl_ms = f->f_conf->r_cache_ttl_ms;
	c->c_read_public = f->f_conf->r_cache_public;
	if (w.err)
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
	else
		call_result_raw(c, w.buf, w.len);
	jw_free(&w);
}

static void
watch_dir(struct file_res *f, const char *dir)
{
	int wd;

	if (ino_fd == -1 || nwatches == WATCHES_MAX)
		return;
	/* one event per finished write (or rename into place), not per write(2) */
	wd = inotify_add_watch(ino_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_DELETE);
	if (wd == -1) {
		log_warn("inotify %s", dir);
		return;
	}
	watches[nwatches].w_wd = wd;
	watches[nwatches].w_dir = strdup(dir);
	watches[nwatches].w_res = f;
	nwatches++;
}

static void
ino_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char				 buf[16384], path[PATH_MAX * 2];
	char				 uri[PATH_MAX * 2];
	const struct inotify_event	*ev;
	ssize_t				 n;
	int				 i;

	n = read(ino_fd, buf, sizeof(buf));
	if (n <= 0)
		return;
	for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
		ev = (const struct inotify_event *)p;
		for (i = 0; i < nwatches; i++)
			if (watches[i].w_wd == ev->wd)
				break;
		if (i == nwatches || ev->len == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", watches[i].w_dir,
		    ev->name);
		if (!watches[i].w_res->f_dir) {
			if (strcmp(path, watches[i].w_res->f_root) == 0)
				mcp_resource_updated(cc_srv,
				    watches[i].w_res->f_conf->r_uri);
			continue;
		}
		snprintf(uri, sizeof(uri), "%s%s",
		    watches[i].w_res->f_conf->r_uri,
		    path + strlen(watches[i].w_res->f_root) + 1);
		mcp_resource_updated(cc_srv, uri);
	}
}

static int
register_file(struct mcpd_host *h, struct file_res *f, const char *path,
    const char *uri)
{
	const char		*base = strrchr(path, '/');
	struct mcpd_resource	 r = {
		.uri = uri,
		.name = f->f_conf->r_name && !f->f_dir ? f->f_conf->r_name :
		    (base ? base + 1 : path),
		.description = f->f_dir ? NULL : f->f_conf->r_desc,
		.mime_type = f->f_conf->r_mime ? f->f_conf->r_mime :
		    mime_of(path),
		.read = file_read,
		.arg = f
	};

	return mcpd_register_resource(h, &r);
}

static void
walk(struct mcpd_host *h, struct file_res *f, const char *dir, int depth,
    unsigned *count)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX], uri[PATH_MAX * 2];

	if (depth > DIR_DEPTH_MAX || (d = opendir(dir)) == NULL)
		return;
	watch_dir(f, dir);
	while ((de = readdir(d)) != NULL && *count < DIR_FILES_MAX) {
		if (de->d_name[0] == '.')
			continue;	/* hidden files, "." and ".." */
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(h, f, path, depth + 1, count);
		else if (S_ISREG(st.st_mode)) {
			snprintf(uri, sizeof(uri), "%s%s", f->f_conf->r_uri,
			    path + strlen(f->f_root) + 1);
			if (register_file(h, f, path, uri) == 0)
				(*count)++;
		}
	}
	closedir(d);
}

int
mcp_load_conf(struct mcp_server *srv, struct conf *conf, char *err,
    size_t errlen)
{
	struct mcpd_host	 host = { srv, "mcpd.conf", CAT_CONF };
	struct cat_gen		*g;
	uint32_t		 i, k;

	cc_srv = srv;
	srv->sv_list_ttl_ms = conf->c_cache_ttl_ms;
	srv->sv_task_ttl_ms = conf->c_task_ttl_ms;
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
		if (mcpd_register_tool(&host, &mt) == -1 ||
		    mcpd_set_task_support(&host, t->t_name,
		    (enum mcpd_task_support)t->t_task) == -1) {
			snprintf(err, errlen, "tool %s (line %d) could not be "
			    "registered", t->t_name, t->t_line);
			free(schema);
			return -1;
		}
		free(schema);
	}
	for (i = 0; i < conf->c_nprompts; i++) {
		const struct conf_prompt	*p = &conf->c_prompts[i];
		struct mcpd_prompt_arg		 args[CONF_PROMPT_ARGS_MAX];
		struct mcpd_prompt		 mp;

		for (k = 0; k < p->p_nargs; k++) {
			args[k].name = p->p_args[k].a_name;
			args[k].description = p->p_args[k].a_desc;
			args[k].required = p->p_args[k].a_required;
		}
		memset(&mp, 0, sizeof(mp));
		mp.name = p->p_name;
		mp.title = p->p_title;
		mp.description = p->p_desc;
		mp.args = args;
		mp.nargs = p->p_nargs;
		mp.get = prompt_get;
		mp.arg = (void *)p;
		if (mcpd_register_prompt(&host, &mp) == -1) {
			snprintf(err, errlen, "prompt %s (line %d) could not be "
			    "registered", p->p_name, p->p_line);
			return -1;
		}
	}
	if (conf->c_nresources > 0 && ino_fd == -1) {
		if ((ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
			log_warn("inotify: resources will not notify changes");
		else {
			ev_io_init(&ino_ev, ino_cb, ino_fd, EV_READ);
			ev_io_start(srv->sv_loop, &ino_ev);
			ev_unref(srv->sv_loop);
		}
	}
	for (i = 0; i < conf->c_nresources; i++) {
		const struct conf_resource	*cr = &conf->c_resources[i];
		struct file_res			*f;
		struct stat			 st;
		unsigned			 count = 0;

		struct file_res		**nf;

		if ((f = calloc(1, sizeof(*f))) == NULL)
			goto nomem;
		if ((nf = realloc(files, (nfiles + 1) * sizeof(*nf))) == NULL) {
			free(f);
			goto nomem;
		}
		files = nf;
		files[nfiles++] = f;
		f->f_conf = cr;
		if (realpath(cr->r_path, f->f_root) == NULL ||
		    stat(f->f_root, &st) == -1) {
			/* missing now; served once it appears after a reload */
			log_warnx("resource %s: %s: %s", cr->r_uri, cr->r_path,
			    strerror(errno));
			continue;
		}
		f->f_dir = S_ISDIR(st.st_mode);
		if (f->f_dir) {
			struct mcpd_resource	t;
			char			tmpl[PATH_MAX];

			walk(&host, f, f->f_root, 0, &count);
			snprintf(tmpl, sizeof(tmpl), "%s{+path}", cr->r_uri);
			memset(&t, 0, sizeof(t));
			t.uri = tmpl;
			t.name = cr->r_name ? cr->r_name : cr->r_uri;
			t.description = cr->r_desc;
			t.mime_type = cr->r_mime;
			t.read = file_read;
			t.arg = f;
			mcpd_register_template(&host, &t);
		} else {
			char dir[PATH_MAX], *slash;

			register_file(&host, f, f->f_root, cr->r_uri);
			snprintf(dir, sizeof(dir), "%s", f->f_root);
			if ((slash = strrchr(dir, '/')) != NULL)
				*slash = slash == dir ? '/' : '\0';
			if (slash == dir)
				dir[1] = '\0';
			watch_dir(f, dir);
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void
list_changed(struct mcp_server *srv)
{
	mcp_notify(srv, "notifications/tools/list_changed", NULL);
	mcp_notify(srv, "notifications/resources/list_changed", NULL);
	mcp_notify(srv, "notifications/prompts/list_changed", NULL);
}

int
mcp_reload_conf(struct mcp_server *srv, struct conf *conf, char *err,
    size_t errlen)
{
	size_t	i;
	int	k;

	cat_drop_owner(&srv->sv_cat, CAT_CONF);
	for (k = 0; k < nwatches; k++) {
		inotify_rm_watch(ino_fd, watches[k].w_wd);
		free(watches[k].w_dir);
	}
	nwatches = 0;
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	files = NULL;
	nfiles = 0;
	if (cur_gen != NULL) {
		cur_gen->g_current = 0;
		cur_gen->g_runs++;	/* gen_release() takes it back */
		gen_release(cur_gen);
		cur_gen = NULL;
	}
	if (mcp_load_conf(srv, conf, err, errlen) == -1)
		return -1;
	list_changed(srv);
	return 0;
}

void
mcp_resource_updated(struct mcp_server *srv, const char *uri)
{
	mcp_notify(srv, "notifications/resources/updated", uri);
}
