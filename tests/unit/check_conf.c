/*
 * check_conf.c -- unit tests of the configuration (common/parse.y, conf.c).
 *
 * Golden files live in $srcdir/tests/config ($srcdir from automake, "."
 * otherwise):
 *
 *	ok-NAME.conf	must parse; ok-NAME.out is conf_print()'s exact output,
 *			with @rundir@ standing for MCPD_RUNDIR.
 *	err-NAME.conf	must fail; err-NAME.err holds the exact error lines.
 *			The file is passed as
 *			"$srcdir/tests/config/err-NAME.conf" and every
 *			"$srcdir/tests/config/" is removed from the
 *			messages before comparing, so the .err files read
 *			"err-NAME.conf:3: ..." whatever srcdir is.
 *	other *.conf	are included by those.
 *
 * Every ok file is also printed, re-parsed from a stream and printed again
 * (the round trip mcpd -nv and the supervisor's memfd rely on).
 * MCPD_UPDATE_GOLDEN=1 rewrites the .out and .err files from what the parser
 * says instead of comparing: review the diff before committing it.
 */
#include "config.h"

#include <sys/resource.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "mcpd.h"
#include "scope.h"

#define GOLDEN_MAX	128	/* golden cases of one kind */
#define S16		"0123456789abcdef"
#define S32		S16 S16

static const char	*srcdir;
static char		 cfgdir[1024];	/* "$srcdir/tests/config/" */
static char		*ok_names[GOLDEN_MAX];
static int		 n_ok;
static char		*err_names[GOLDEN_MAX];
static int		 n_err;

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		ck_abort_msg("out of memory");
	return p;
}

static char *
path_join(const char *dir, const char *name)
{
	char	*p;

	if (asprintf(&p, "%s%s", dir, name) == -1)
		ck_abort_msg("out of memory");
	return p;
}

/* The whole file, or NULL when it does not exist. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*out;
	int	 c;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if ((out = open_memstream(&buf, &len)) == NULL)
		ck_abort_msg("open_memstream");
	while ((c = getc(fp)) != EOF)
		putc(c, out);
	fclose(fp);
	fclose(out);
	return buf;
}

static void
spit(const char *path, const char *text)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		ck_abort_msg("%s: %s", path, strerror(errno));
	fputs(text, fp);
	fclose(fp);
}

static char *
replace_all(const char *s, const char *from, const char *to)
{
	const char	*p;
	char		*buf = NULL;
	size_t		 len = 0, flen = strlen(from);
	FILE		*out;

	if ((out = open_memstream(&buf, &len)) == NULL)
		ck_abort_msg("open_memstream");
	while ((p = strstr(s, from)) != NULL && flen > 0) {
		fwrite(s, 1, (size_t)(p - s), out);
		fputs(to, out);
		s = p + flen;
	}
	fputs(s, out);
	fclose(out);
	return buf;
}

static char *
print_conf(const struct conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*out;

	if ((out = open_memstream(&buf, &len)) == NULL)
		ck_abort_msg("open_memstream");
	conf_print(out, c);
	fclose(out);
	return buf;
}

/* The kept messages, one per line, without the test directory. */
static char *
errors_text(const struct conf_errors *e)
{
	char	*buf = NULL, *stripped;
	size_t	 len = 0;
	FILE	*out;
	int	 i;

	if ((out = open_memstream(&buf, &len)) == NULL)
		ck_abort_msg("open_memstream");
	for (i = 0; i < e->e_count && i < CONF_ERRORS_MAX; i++)
		fprintf(out, "%s\n", e->e_msg[i]);
	fclose(out);
	stripped = replace_all(buf, cfgdir, "");
	free(buf);
	return stripped;
}

static struct conf *
parse_string(const char *text, const char *name, struct conf_errors *e)
{
	struct conf	*c;
	FILE		*fp;

	if ((fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r")) ==
	    NULL)
		ck_abort_msg("fmemopen");
	c = conf_parse_file(fp, name, e);
	fclose(fp);
	return c;
}

static struct conf *
parse_ok(const char *path)
{
	struct conf_errors	 e;
	struct conf		*c;

	c = conf_parse(path, &e);
	ck_assert_msg(c != NULL, "%s: %d errors, first: %s", path, e.e_count,
	    e.e_count > 0 ? e.e_msg[0] : "");
	ck_assert_int_eq(e.e_count, 0);
	return c;
}

/* Both NULL, or the same text. */
static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

#define ASSERT_SAME_STR(a, b)	ck_assert_msg(same_str((a), (b)), \
	"%s: \"%s\" != \"%s\"", #a, (a) ? (a) : "(null)", (b) ? (b) : "(null)")

/* The same tools, resources and prompts, in order, but for their lines. */
static void
assert_same_catalog(const struct conf *a, const struct conf *b)
{
	const struct conf_tool		*t, *u;
	const struct conf_resource	*r, *q;
	const struct conf_prompt	*p, *o;
	uint32_t			 i, k;

	ck_assert_uint_eq(a->c_ntools, b->c_ntools);
	for (i = 0; i < a->c_ntools; i++) {
		t = &a->c_tools[i];
		u = &b->c_tools[i];
		ASSERT_SAME_STR(t->t_name, u->t_name);
		ASSERT_SAME_STR(t->t_title, u->t_title);
		ASSERT_SAME_STR(t->t_desc, u->t_desc);
		ASSERT_SAME_STR(t->t_schema, u->t_schema);
		ck_assert_uint_eq(t->t_argc, u->t_argc);
		for (k = 0; k < t->t_argc; k++)
			ASSERT_SAME_STR(t->t_argv[k], u->t_argv[k]);
		ASSERT_SAME_STR(t->t_cwd, u->t_cwd);
		ck_assert_uint_eq(t->t_nenv, u->t_nenv);
		for (k = 0; k < t->t_nenv; k++)
			ASSERT_SAME_STR(t->t_env[k], u->t_env[k]);
		ck_assert_uint_eq(t->t_timeout_ms, u->t_timeout_ms);
		ck_assert_uint_eq(t->t_output_max, u->t_output_max);
		ck_assert_uint_eq(t->t_concurrency, u->t_concurrency);
		ck_assert_int_eq(t->t_task, u->t_task);
		ASSERT_SAME_STR(t->t_user, u->t_user);
		ASSERT_SAME_STR(t->t_group, u->t_group);
		ASSERT_SAME_STR(t->t_scope, u->t_scope);
	}
	ck_assert_uint_eq(a->c_nresources, b->c_nresources);
	for (i = 0; i < a->c_nresources; i++) {
		r = &a->c_resources[i];
		q = &b->c_resources[i];
		ASSERT_SAME_STR(r->r_uri, q->r_uri);
		ASSERT_SAME_STR(r->r_path, q->r_path);
		ASSERT_SAME_STR(r->r_name, q->r_name);
		ASSERT_SAME_STR(r->r_desc, q->r_desc);
		ASSERT_SAME_STR(r->r_mime, q->r_mime);
		ck_assert_uint_eq(r->r_size_max, q->r_size_max);
		ck_assert_uint_eq(r->r_cache_ttl_ms, q->r_cache_ttl_ms);
		ck_assert_int_eq(r->r_cache_public, q->r_cache_public);
		ASSERT_SAME_STR(r->r_scope, q->r_scope);
	}
	ck_assert_uint_eq(a->c_nprompts, b->c_nprompts);
	for (i = 0; i < a->c_nprompts; i++) {
		p = &a->c_prompts[i];
		o = &b->c_prompts[i];
		ASSERT_SAME_STR(p->p_name, o->p_name);
		ASSERT_SAME_STR(p->p_title, o->p_title);
		ASSERT_SAME_STR(p->p_desc, o->p_desc);
		ASSERT_SAME_STR(p->p_scope, o->p_scope);
		ck_assert_uint_eq(p->p_nargs, o->p_nargs);
		for (k = 0; k < p->p_nargs; k++) {
			ASSERT_SAME_STR(p->p_args[k].a_name,
			    o->p_args[k].a_name);
			ASSERT_SAME_STR(p->p_args[k].a_desc,
			    o->p_args[k].a_desc);
			ck_assert_int_eq(p->p_args[k].a_required,
			    o->p_args[k].a_required);
		}
		ck_assert_uint_eq(p->p_nmsgs, o->p_nmsgs);
		for (k = 0; k < p->p_nmsgs; k++) {
			ck_assert_int_eq(p->p_msgs[k].m_assistant,
			    o->p_msgs[k].m_assistant);
			ASSERT_SAME_STR(p->p_msgs[k].m_text,
			    o->p_msgs[k].m_text);
		}
	}
}

/* The auth blocks, by content. */
static void
assert_same_auths(const struct conf *a, const struct conf *b)
{
	const struct conf_auth	*x, *y;
	uint32_t		 i, k;

	ck_assert_uint_eq(a->c_nauths, b->c_nauths);
	for (i = 0; i < a->c_nauths; i++) {
		x = &a->c_auths[i];
		y = &b->c_auths[i];
		ASSERT_SAME_STR(x->a_name, y->a_name);
		ASSERT_SAME_STR(x->a_resource, y->a_resource);
		ASSERT_SAME_STR(x->a_static_tokens, y->a_static_tokens);
		ck_assert_uint_eq(x->a_nservers, y->a_nservers);
		for (k = 0; k < x->a_nservers; k++)
			ASSERT_SAME_STR(x->a_servers[k], y->a_servers[k]);
		ck_assert_uint_eq(x->a_nscopes, y->a_nscopes);
		for (k = 0; k < x->a_nscopes; k++)
			ASSERT_SAME_STR(x->a_scopes[k], y->a_scopes[k]);
	}
}

/* The cluster blocks, by content (but the line). */
static void
assert_same_cluster(const struct conf *a, const struct conf *b)
{
	struct conf_cluster x, y;

	ck_assert((a->c_cluster == NULL) == (b->c_cluster == NULL));
	if (a->c_cluster == NULL)
		return;
	x = *a->c_cluster;
	y = *b->c_cluster;
	ASSERT_SAME_STR(x.cl_key_file, y.cl_key_file);
	ASSERT_SAME_STR(x.cl_password_file, y.cl_password_file);
	x.cl_key_file = y.cl_key_file = NULL;
	x.cl_password_file = y.cl_password_file = NULL;
	x.cl_line = y.cl_line = 0;
	ck_assert_msg(memcmp(&x, &y, sizeof(x)) == 0, "cluster differs");
}

/* The catalog entries were declared on the same lines. */
static void
assert_same_lines(const struct conf *a, const struct conf *b)
{
	uint32_t	i;

	for (i = 0; i < a->c_nlisteners && i < CONF_LISTENERS_MAX; i++)
		ck_assert_int_eq(a->c_listeners[i].l_line,
		    b->c_listeners[i].l_line);
	for (i = 0; i < a->c_nplugins && i < CONF_PLUGINS_MAX; i++)
		ck_assert_int_eq(a->c_plugins[i].p_line,
		    b->c_plugins[i].p_line);
	for (i = 0; i < a->c_ntools && i < b->c_ntools; i++)
		ck_assert_int_eq(a->c_tools[i].t_line, b->c_tools[i].t_line);
	for (i = 0; i < a->c_nresources && i < b->c_nresources; i++)
		ck_assert_int_eq(a->c_resources[i].r_line,
		    b->c_resources[i].r_line);
	for (i = 0; i < a->c_nprompts && i < b->c_nprompts; i++)
		ck_assert_int_eq(a->c_prompts[i].p_line,
		    b->c_prompts[i].p_line);
}

/*
 * Equal but for c_file and the lines of listeners, plugins and catalog
 * entries; the catalog's heap arrays compare by content.
 */
static void
assert_same_conf(const struct conf *a, const struct conf *b)
{
	struct conf	x, y;
	uint32_t	i;

	assert_same_catalog(a, b);
	assert_same_auths(a, b);
	assert_same_cluster(a, b);
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));

	memset(x.c_file, 0, sizeof(x.c_file));
	memset(y.c_file, 0, sizeof(y.c_file));
	for (i = 0; i < CONF_LISTENERS_MAX; i++)
		x.c_listeners[i].l_line = y.c_listeners[i].l_line = 0;
	for (i = 0; i < CONF_PLUGINS_MAX; i++)
		x.c_plugins[i].p_line = y.c_plugins[i].p_line = 0;
	x.c_tools = y.c_tools = NULL;
	x.c_resources = y.c_resources = NULL;
	x.c_prompts = y.c_prompts = NULL;
	x.c_auths = y.c_auths = NULL;
	x.c_cluster = y.c_cluster = NULL;
	/* both start zeroed (calloc, conf_defaults): padding compares too */
	ck_assert_msg(memcmp(&x, &y, sizeof(x)) == 0, "struct conf differs");
}

START_TEST(test_defaults)
{
	struct conf	c;
	int		r;

	memset(&c, 0xa5, sizeof(c));
	conf_defaults(&c);
	ck_assert_str_eq(c.c_file, "");
	ck_assert_uint_eq(c.c_workers, 0);
	ck_assert_uint_eq(c.c_max_connections, DEF_MAX_CONNECTIONS);
	ck_assert_uint_eq(c.c_worker_connections, 0);
	ck_assert_str_eq(c.c_pidfile, MCPD_RUNDIR "/mcpd.pid");
	ck_assert_str_eq(c.c_control_socket, MCPD_RUNDIR "/mcpd.sock");
	ck_assert_str_eq(c.c_log_file, "");
	ck_assert_str_eq(c.c_user, "");
	ck_assert_str_eq(c.c_group, "");
	ck_assert_int_eq(c.c_strategy, STRATEGY_ONE_FOR_ONE);
	ck_assert_uint_eq(c.c_restart_intensity, DEF_RESTART_INTENSITY);
	ck_assert_uint_eq(c.c_restart_period_ms, DEF_RESTART_PERIOD_MS);
	ck_assert_uint_eq(c.c_throttle_min_ms, DEF_THROTTLE_MIN_MS);
	ck_assert_uint_eq(c.c_throttle_max_ms, DEF_THROTTLE_MAX_MS);
	ck_assert_uint_eq(c.c_throttle_reset_ms, DEF_THROTTLE_RESET_MS);
	ck_assert_uint_eq(c.c_ready_timeout_ms, DEF_READY_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_drain_timeout_ms, DEF_DRAIN_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_shutdown_delay_ms, 0);
	ck_assert_int_eq(c.c_auto_shutdown, AUTO_SHUTDOWN_NEVER);
	for (r = 0; r < ROLE_MAX; r++) {
		ck_assert_int_eq(c.c_spec[r].s_restart, RESTART_PERMANENT);
		ck_assert_uint_eq(c.c_spec[r].s_shutdown_ms,
		    DEF_SHUTDOWN_TIMEOUT_MS);
		ck_assert_int_eq(c.c_spec[r].s_significant, 0);
	}
	ck_assert_uint_eq(c.c_nlisteners, 0);

	ck_assert_str_eq(c.c_mcp_path, DEF_MCP_PATH);
	ck_assert_str_eq(c.c_mcp_path, "/mcp");
	ck_assert_uint_eq(c.c_max_header_size, DEF_MAX_HEADER_SIZE);
	ck_assert_uint_eq(c.c_max_header_size, 8192);
	ck_assert_uint_eq(c.c_max_body_size, DEF_MAX_BODY_SIZE);
	ck_assert_uint_eq(c.c_max_body_size, 4194304);
	ck_assert_uint_eq(c.c_header_timeout_ms, DEF_HEADER_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_header_timeout_ms, 10000);
	ck_assert_uint_eq(c.c_body_timeout_ms, DEF_BODY_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_body_timeout_ms, 30000);
	ck_assert_uint_eq(c.c_idle_timeout_ms, DEF_IDLE_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_idle_timeout_ms, 60000);
	ck_assert_uint_eq(c.c_session_timeout_ms, DEF_SESSION_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_session_timeout_ms, 600000);
	ck_assert_uint_eq(c.c_sse_keepalive_ms, DEF_SSE_KEEPALIVE_MS);
	ck_assert_uint_eq(c.c_sse_keepalive_ms, 15000);
	ck_assert_uint_eq(c.c_nallow_hosts, DEF_ALLOW_HOSTS_COUNT);
	ck_assert_uint_eq(c.c_nallow_hosts, 3);
	ck_assert_str_eq(c.c_allow_hosts[0], "localhost");
	ck_assert_str_eq(c.c_allow_hosts[1], "127.0.0.1");
	ck_assert_str_eq(c.c_allow_hosts[2], "[::1]");
	ck_assert_uint_eq(c.c_nallow_origins, 0);
	ck_assert_uint_eq(c.c_nplugins, 0);
	ck_assert_int_eq(c.c_session_responses, RESPONSES_SSE);
	ck_assert_ptr_null(c.c_tools);
	ck_assert_uint_eq(c.c_ntools, 0);
	ck_assert_ptr_null(c.c_resources);
	ck_assert_uint_eq(c.c_nresources, 0);
	ck_assert_ptr_null(c.c_prompts);
	ck_assert_uint_eq(c.c_nprompts, 0);
}
END_TEST

/* A file without keys: the defaults and the two default listeners. */
START_TEST(test_empty_file)
{
	struct conf	*c, d;
	char		*path;

	path = path_join(cfgdir, "ok-empty.conf");
	c = parse_ok(path);
	ck_assert_str_eq(c->c_file, path);
	ck_assert_uint_eq(c->c_nlisteners, 2);
	ck_assert_int_eq(c->c_listeners[0].l_kind, LISTEN_HTTP);
	ck_assert_str_eq(c->c_listeners[0].l_addr, "127.0.0.1");
	ck_assert_uint_eq(c->c_listeners[0].l_port, DEF_HTTP_PORT);
	ck_assert_int_eq(c->c_listeners[0].l_line, 0);
	ck_assert_int_eq(c->c_listeners[1].l_kind, LISTEN_ADMIN);
	ck_assert_str_eq(c->c_listeners[1].l_addr, "127.0.0.1");
	ck_assert_uint_eq(c->c_listeners[1].l_port, DEF_ADMIN_PORT);
	ck_assert_int_eq(c->c_listeners[1].l_line, 0);

	conf_defaults(&d);
	memcpy(d.c_listeners, c->c_listeners, sizeof(d.c_listeners));
	d.c_nlisteners = c->c_nlisteners;
	assert_same_conf(c, &d);
	conf_free(&c);
	ck_assert_ptr_null(c);
	conf_free(&c);
	free(path);
}
END_TEST

/* ok-*.conf: the golden output and the round trip through a stream. */
START_TEST(test_ok_file)
{
	struct conf_errors	 e;
	struct conf		*c, *c2;
	char			*path, *golden, *want, *got, *got2, *base;

	path = path_join(cfgdir, ok_names[_i]);
	base = xstrdup(path);
	strcpy(base + strlen(base) - strlen(".conf"), ".out");
	c = parse_ok(path);
	got = print_conf(c);

	if (getenv("MCPD_UPDATE_GOLDEN") != NULL) {
		want = replace_all(got, "\"" MCPD_RUNDIR "/mcpd.",
		    "\"@rundir@/mcpd.");
		spit(base, want);
		free(want);
	}
	golden = slurp(base);
	ck_assert_msg(golden != NULL, "%s: missing", base);
	want = replace_all(golden, "@rundir@", MCPD_RUNDIR);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s: conf_print() differs\n", base);
	ck_assert_str_eq(got, want);

	c2 = parse_string(got, "normalized", &e);
	ck_assert_msg(c2 != NULL, "%s: normalized text fails: %s", path,
	    e.e_msg[0]);
	got2 = print_conf(c2);
	ck_assert_str_eq(got2, got);
	assert_same_conf(c, c2);

	conf_free(&c);
	conf_free(&c2);
	free(got2);
	free(want);
	free(golden);
	free(got);
	free(base);
	free(path);
}
END_TEST

/* err-*.conf: NULL and the exact messages, e_count counting them all. */
START_TEST(test_err_file)
{
	struct conf_errors	 e;
	struct conf		*c;
	char			*path, *base, *golden, *got;
	const char		*p;
	int			 lines = 0;

	path = path_join(cfgdir, err_names[_i]);
	base = xstrdup(path);
	strcpy(base + strlen(base) - strlen(".conf"), ".err");
	c = conf_parse(path, &e);
	ck_assert_ptr_null(c);
	got = errors_text(&e);

	if (getenv("MCPD_UPDATE_GOLDEN") != NULL)
		spit(base, got);
	golden = slurp(base);
	ck_assert_msg(golden != NULL, "%s: missing", base);
	if (strcmp(got, golden) != 0)
		fprintf(stderr, "%s: the errors differ\n", base);
	ck_assert_str_eq(got, golden);
	for (p = golden; *p != '\0'; p++)
		lines += *p == '\n';
	ck_assert_int_eq(e.e_count, lines);
	ck_assert_int_gt(e.e_count, 0);

	free(golden);
	free(got);
	free(base);
	free(path);
}
END_TEST

/* Scope lists: whole tokens, all of them; what an item may declare. */
START_TEST(test_scope_lists)
{
	char	why[128];

	ck_assert(scope_has_all("mcp:tools mcp:read", "mcp:tools"));
	ck_assert(scope_has_all("mcp:read mcp:tools", "mcp:tools mcp:read"));
	ck_assert(scope_has_all("", NULL));
	ck_assert(scope_has_all("", ""));
	ck_assert(!scope_has_all("mcp:tools", "mcp:tool"));
	ck_assert(!scope_has_all("mcp:tool", "mcp:tools"));
	ck_assert(!scope_has_all("mcp:tools", "mcp:tools x"));
	ck_assert(!scope_has_all("MCP:TOOLS", "mcp:tools"));
	ck_assert(!scope_has_all("", "a"));
	ck_assert(!scope_has_all("a  b", "c"));
	ck_assert(scope_has_all("a  b", "b"));
	ck_assert(!scope_has("ab", "a", 1));
	ck_assert(!scope_has("a", "", 0));
	ck_assert_int_eq(scope_list_valid("a b", why, sizeof(why)), 0);
	ck_assert_int_eq(scope_list_valid("a!#[]~", why, sizeof(why)), 0);
	ck_assert_int_eq(scope_list_valid("", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid("a  b", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid(" a", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid("a ", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid("a\"b", why, sizeof(why)), -1);
	ck_assert_str_eq(why, "invalid scope \"a\"b\" (visible ASCII but "
	    "'\"' and '\\')");
	ck_assert_int_eq(scope_list_valid("a\\b", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid("a\tb", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid("\xc3\xa9", why, sizeof(why)), -1);
	ck_assert_int_eq(scope_list_valid("0 1 2 3 4 5 6 7 8 9 a b c d e f",
	    why, sizeof(why)), 0);
	ck_assert_int_eq(scope_list_valid("0 1 2 3 4 5 6 7 8 9 a b c d e f g",
	    why, sizeof(why)), -1);
	ck_assert_str_eq(why, "more than 16 scopes");
}
END_TEST

START_TEST(test_golden_present)
{
	/* a wrong srcdir must not pass by testing nothing */
	ck_assert_int_ge(n_ok, 13);
	ck_assert_int_ge(n_err, 47);
}
END_TEST

START_TEST(test_every_key)
{
	struct conf	*c;
	char		*path;

	path = path_join(cfgdir, "ok-all.conf");
	c = parse_ok(path);
	ck_assert_uint_eq(c->c_workers, 4);
	ck_assert_uint_eq(c->c_max_connections, 20000);
	ck_assert_uint_eq(c->c_worker_connections, 5000);
	ck_assert_str_eq(c->c_pidfile, "/var/run/mcpd/mcpd.pid");
	ck_assert_str_eq(c->c_control_socket, "/var/run/mcpd/ctl.sock");
	ck_assert_str_eq(c->c_log_file, "/var/log/mcpd/mcpd \"main\" \\ log");
	ck_assert_int_eq(c->c_strategy, STRATEGY_REST_FOR_ONE);
	ck_assert_uint_eq(c->c_restart_intensity, 0);
	ck_assert_uint_eq(c->c_restart_period_ms, 3600000);
	ck_assert_uint_eq(c->c_throttle_min_ms, 500);
	ck_assert_uint_eq(c->c_throttle_max_ms, 90000);
	ck_assert_uint_eq(c->c_throttle_reset_ms, 120000);
	ck_assert_uint_eq(c->c_ready_timeout_ms, 1500);
	ck_assert_uint_eq(c->c_drain_timeout_ms, 86400000);
	ck_assert_uint_eq(c->c_shutdown_delay_ms, 3000);
	ck_assert_uint_eq(c->c_watchdog_timeout_ms, 86400000);
	ck_assert_uint_eq(c->c_session_start_timeout_ms, 30000);
	ck_assert_int_eq(c->c_auto_shutdown, AUTO_SHUTDOWN_ALL_SIGNIFICANT);
	ck_assert_str_eq(c->c_user, "daemon");
	ck_assert_str_eq(c->c_group, "nogroup");

	ck_assert_uint_eq(c->c_nlisteners, 3);
	ck_assert_int_eq(c->c_listeners[0].l_kind, LISTEN_HTTP);
	ck_assert_str_eq(c->c_listeners[0].l_addr, "10.0.0.1");
	ck_assert_uint_eq(c->c_listeners[0].l_port, 80);
	ck_assert_int_eq(c->c_listeners[0].l_line, 17);
	ck_assert_int_eq(c->c_listeners[1].l_kind, LISTEN_HTTP);
	ck_assert_str_eq(c->c_listeners[1].l_addr, "*");
	ck_assert_uint_eq(c->c_listeners[1].l_port, 443);
	ck_assert_int_eq(c->c_listeners[1].l_line, 18);
	ck_assert_int_eq(c->c_listeners[2].l_kind, LISTEN_ADMIN);
	ck_assert_str_eq(c->c_listeners[2].l_addr, "::1");
	ck_assert_uint_eq(c->c_listeners[2].l_port, 9100);
	ck_assert_int_eq(c->c_listeners[2].l_line, 19);

	ck_assert_int_eq(c->c_spec[ROLE_WORKER].s_restart, RESTART_TRANSIENT);
	ck_assert_uint_eq(c->c_spec[ROLE_WORKER].s_shutdown_ms, 30000);
	ck_assert_int_eq(c->c_spec[ROLE_WORKER].s_significant, 1);
	ck_assert_int_eq(c->c_spec[ROLE_AGENT].s_restart, RESTART_TEMPORARY);
	ck_assert_uint_eq(c->c_spec[ROLE_AGENT].s_shutdown_ms, 250);
	ck_assert_int_eq(c->c_spec[ROLE_AGENT].s_significant, 0);
	ck_assert_int_eq(c->c_spec[ROLE_RUNNER].s_restart, RESTART_TEMPORARY);
	ck_assert_uint_eq(c->c_spec[ROLE_RUNNER].s_shutdown_ms, 60000);
	ck_assert_int_eq(c->c_spec[ROLE_RUNNER].s_significant, 0);
	ck_assert_int_eq(c->c_spec[ROLE_SUPERVISOR].s_restart,
	    RESTART_PERMANENT);
	conf_free(&c);
	free(path);
}
END_TEST

/* The MCP over HTTP keys and plugins, every one set. */
START_TEST(test_http_keys)
{
	struct conf	*c;
	char		*path;

	path = path_join(cfgdir, "ok-http.conf");
	c = parse_ok(path);
	ck_assert_str_eq(c->c_mcp_path, "/v1/mcp-endpoint_~!$&'()*+,;=:@%41");
	ck_assert_uint_eq(c->c_max_header_size, 16384);
	ck_assert_uint_eq(c->c_max_body_size, 1536);
	ck_assert_uint_eq(c->c_header_timeout_ms, 2500);
	ck_assert_uint_eq(c->c_body_timeout_ms, 60000);
	ck_assert_uint_eq(c->c_idle_timeout_ms, 5000);
	ck_assert_uint_eq(c->c_session_timeout_ms, 3600000);
	ck_assert_uint_eq(c->c_sse_keepalive_ms, 500);

	/* the first allow-host replaces the defaults; lower case */
	ck_assert_uint_eq(c->c_nallow_hosts, 5);
	ck_assert_str_eq(c->c_allow_hosts[0], "mcp.example.com");
	ck_assert_str_eq(c->c_allow_hosts[1], "[2001:db8::1]");
	ck_assert_str_eq(c->c_allow_hosts[2], "192.0.2.1");
	ck_assert_str_eq(c->c_allow_hosts[3], "agent");
	ck_assert_str_eq(c->c_allow_hosts[4], "my_host-01.internal");
	ck_assert_str_eq(c->c_allow_hosts[5], "");
	ck_assert_uint_eq(c->c_nallow_origins, 4);
	ck_assert_str_eq(c->c_allow_origins[0], "https://app.example.com");
	ck_assert_str_eq(c->c_allow_origins[1], "http://[::1]:8080");
	ck_assert_str_eq(c->c_allow_origins[2], "vscode-webview://abc-123");
	ck_assert_str_eq(c->c_allow_origins[3],
	    "chrome-extension://abcdefghij");

	ck_assert_uint_eq(c->c_nplugins, 4);
	ck_assert_str_eq(c->c_plugins[0].p_path, "/usr/lib/mcpd/a.so");
	ck_assert_str_eq(c->c_plugins[0].p_arg, "");
	ck_assert_int_eq(c->c_plugins[0].p_line, 20);
	ck_assert_str_eq(c->c_plugins[1].p_path, "/usr/lib/mcpd/b.so");
	ck_assert_str_eq(c->c_plugins[1].p_arg, "root=/srv \"files\" \\ x");
	ck_assert_int_eq(c->c_plugins[1].p_line, 21);
	ck_assert_str_eq(c->c_plugins[2].p_path, "/usr/lib/mcpd/c.so");
	ck_assert_str_eq(c->c_plugins[2].p_arg, "");
	ck_assert_str_eq(c->c_plugins[3].p_path, "/usr/lib/mcpd/../d.so");
	ck_assert_str_eq(c->c_plugins[3].p_arg, "agent");
	ck_assert_int_eq(c->c_plugins[3].p_line, 23);
	conf_free(&c);
	free(path);

	/* the limits: 32, 32, 16, and values as long as they may be */
	path = path_join(cfgdir, "ok-max.conf");
	c = parse_ok(path);
	ck_assert_uint_eq(c->c_nallow_hosts, CONF_ALLOW_MAX);
	ck_assert_uint_eq(strlen(c->c_allow_hosts[CONF_ALLOW_MAX - 1]),
	    CONF_HOST_MAX_BYTES - 1);
	ck_assert_uint_eq(c->c_nallow_origins, CONF_ALLOW_MAX);
	ck_assert_uint_eq(strlen(c->c_allow_origins[CONF_ALLOW_MAX - 1]),
	    CONF_ORIGIN_MAX_BYTES - 1);
	ck_assert_uint_eq(c->c_nplugins, CONF_PLUGINS_MAX);
	ck_assert_uint_eq(strlen(c->c_plugins[CONF_PLUGINS_MAX - 1].p_path),
	    CONF_PATH_MAX_BYTES - 1);
	ck_assert_uint_eq(strlen(c->c_plugins[CONF_PLUGINS_MAX - 1].p_arg),
	    CONF_PLUGIN_ARG_MAX_BYTES - 1);
	ck_assert_uint_eq(strlen(c->c_mcp_path), CONF_MCP_PATH_MAX_BYTES - 1);
	ck_assert_uint_eq(c->c_max_header_size, CONF_HEADER_SIZE_MIN);
	ck_assert_uint_eq(c->c_max_body_size, CONF_BODY_SIZE_MAX);
	conf_free(&c);
	free(path);

	path = path_join(cfgdir, "ok-allow-any.conf");
	c = parse_ok(path);
	ck_assert_uint_eq(c->c_nallow_hosts, 1);
	ck_assert_str_eq(c->c_allow_hosts[0], "*");
	ck_assert_uint_eq(c->c_nallow_origins, 1);
	ck_assert_str_eq(c->c_allow_origins[0], "*");
	ck_assert_uint_eq(c->c_max_header_size, CONF_HEADER_SIZE_MAX);
	ck_assert_uint_eq(c->c_max_body_size, CONF_BODY_SIZE_MIN);
	ck_assert_uint_eq(c->c_session_timeout_ms, 1000);
	ck_assert_str_eq(c->c_mcp_path, "/");
	conf_free(&c);
	free(path);
}
END_TEST

/* A relative plugin path is relative to the file that names it. */
START_TEST(test_plugin_relative)
{
	struct conf_errors	 e;
	struct conf		*c;
	char			 dir[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX * 2];
	char			*name, *text;

	ck_assert_ptr_nonnull(realpath(cfgdir, dir));
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));

	/* from a stream: the directory of its name */
	name = path_join(cfgdir, "stream.conf");
	c = parse_string("plugin \"a.so\"\n"
	    "plugin \"./sub//./b.so\" \"x y\"\n"
	    "include \"inc/inc-plugin.conf\"\n"
	    "plugin \"../up.so\"\n"
	    "plugin \"//abs///./c.so\"\n", name, &e);
	ck_assert_msg(c != NULL, "%s", e.e_msg[0]);
	ck_assert_uint_eq(c->c_nplugins, 6);
	snprintf(want, sizeof(want), "%s/a.so", dir);
	ck_assert_str_eq(c->c_plugins[0].p_path, want);
	ck_assert_int_eq(c->c_plugins[0].p_line, 1);
	snprintf(want, sizeof(want), "%s/sub/b.so", dir);
	ck_assert_str_eq(c->c_plugins[1].p_path, want);
	ck_assert_str_eq(c->c_plugins[1].p_arg, "x y");
	/* in an included file, that file's directory */
	snprintf(want, sizeof(want), "%s/inc/p.so", dir);
	ck_assert_str_eq(c->c_plugins[2].p_path, want);
	ck_assert_str_eq(c->c_plugins[2].p_arg, "from inc");
	ck_assert_int_eq(c->c_plugins[2].p_line, 2);
	ck_assert_str_eq(c->c_plugins[3].p_path, "/usr/lib/mcpd/x.so");
	snprintf(want, sizeof(want), "%s/../up.so", dir);
	ck_assert_str_eq(c->c_plugins[4].p_path, want);
	ck_assert_int_eq(c->c_plugins[4].p_line, 4);
	ck_assert_str_eq(c->c_plugins[5].p_path, "/abs/c.so");
	/* printed absolute, so the text parses the same from anywhere */
	text = print_conf(c);
	snprintf(want, sizeof(want), "\nplugin \"%s/sub/b.so\" \"x y\"\n",
	    dir);
	ck_assert_ptr_nonnull(strstr(text, want));
	free(text);
	conf_free(&c);
	free(name);

	/* the same file, read by conf_parse() */
	name = path_join(cfgdir, "err-plugin.conf");
	ck_assert_ptr_null(conf_parse(name, &e));
	free(name);

	/* a name without a directory: the current one */
	c = parse_string("plugin \"x.so\"\n", "mcpd.conf", &e);
	ck_assert_ptr_nonnull(c);
	snprintf(want, sizeof(want), "%s/x.so", strcmp(cwd, "/") == 0 ? "" :
	    cwd);
	ck_assert_str_eq(c->c_plugins[0].p_path, want);
	conf_free(&c);

	/* a file in / */
	c = parse_string("plugin \"x.so\"\nplugin \"/.\"\n", "/mcpd.conf",
	    &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->c_plugins[0].p_path, "/x.so");
	ck_assert_str_eq(c->c_plugins[1].p_path, "/");
	conf_free(&c);

	/* a directory that is not there: an error, absolute paths are fine */
	ck_assert_ptr_null(parse_string("plugin \"/a.so\"\nplugin \"b.so\"\n",
	    "/nonexistent/dir/mcpd.conf", &e));
	ck_assert_int_eq(e.e_count, 1);
	snprintf(want, sizeof(want), "/nonexistent/dir/mcpd.conf:2: plugin: "
	    "\"b.so\": cannot resolve the directory /nonexistent/dir: %s",
	    strerror(ENOENT));
	ck_assert_str_eq(e.e_msg[0], want);
}
END_TEST

/*
 * One bad value per line, each alone in its text (a key set twice would
 * hide the next error): what golden files would need a file each for.
 */
static const struct {
	const char	*text;
	const char	*msg;
} bad_values[] = {
	{ "max-header-size 8k", "max-header-size: invalid size \"8k\" (a "
	    "number of bytes, or a number and K, M or G)" },
	{ "max-body-size 4MB", "max-body-size: invalid size \"4MB\" (a "
	    "number of bytes, or a number and K, M or G)" },
	{ "max-body-size K", "max-body-size: invalid size \"K\" (a number "
	    "of bytes, or a number and K, M or G)" },
	{ "max-body-size -1K", "max-body-size: invalid size \"-1K\" (a "
	    "number of bytes, or a number and K, M or G)" },
	{ "max-body-size 1.5K", "max-body-size: invalid size \"1.5K\" (a "
	    "number of bytes, or a number and K, M or G)" },
	{ "max-body-size \"4 M\"", "max-body-size: invalid size \"4 M\" (a "
	    "number of bytes, or a number and K, M or G)" },
	{ "max-body-size \"\"", "max-body-size: invalid size \"\" (a number "
	    "of bytes, or a number and K, M or G)" },
	/* the value is checked before the extra word is seen */
	{ "max-body-size 4 M", "max-body-size: 4 is out of range 1K..64M" },
	{ "max-body-size 4K M", "syntax error" },
	{ "max-header-size 1023", "max-header-size: 1023 is out of range "
	    "1K..64K" },
	{ "max-header-size 0", "max-header-size: 0 is out of range 1K..64K" },
	{ "max-header-size 65537", "max-header-size: 65537 is out of range "
	    "1K..64K" },
	{ "max-header-size 65K", "max-header-size: 65K is out of range "
	    "1K..64K" },
	{ "max-header-size 1M", "max-header-size: 1M is out of range "
	    "1K..64K" },
	{ "max-body-size 0K", "max-body-size: 0K is out of range 1K..64M" },
	{ "max-body-size 65M", "max-body-size: 65M is out of range 1K..64M" },
	{ "max-body-size 65537K", "max-body-size: 65537K is out of range "
	    "1K..64M" },
	{ "max-body-size 1G", "max-body-size: 1G is out of range 1K..64M" },
	{ "max-body-size 99999999999999999999", "max-body-size: "
	    "99999999999999999999 is out of range 1K..64M" },
	{ "max-body-size 18014398509481984K", "max-body-size: "
	    "18014398509481984K is out of range 1K..64M" },
	{ "max-body-size 17179869184G", "max-body-size: 17179869184G is out "
	    "of range 1K..64M" },
	{ "mcp-path mcp", "mcp-path: \"mcp\" does not start with \"/\"" },
	{ "mcp-path \"\"", "mcp-path: \"\" does not start with \"/\"" },
	{ "mcp-path \"/a#b\"", "mcp-path: invalid character 0x23 in "
	    "\"/a#b\" (visible ASCII, no \"?\" or \"#\")" },
	{ "mcp-path \"/a b\"", "mcp-path: invalid character 0x20 in "
	    "\"/a b\" (visible ASCII, no \"?\" or \"#\")" },
	{ "mcp-path \"/a\tb\"", "mcp-path: invalid character 0x09 in "
	    "\"/a\tb\" (visible ASCII, no \"?\" or \"#\")" },
	{ "mcp-path \"/caf\xc3\xa9\"", "mcp-path: invalid character 0xc3 in "
	    "\"/caf\xc3\xa9\" (visible ASCII, no \"?\" or \"#\")" },
	{ "mcp-path \"/a\x7f\"", "mcp-path: invalid character 0x7f in "
	    "\"/a\x7f\" (visible ASCII, no \"?\" or \"#\")" },
	{ "mcp-path /012345678901234567890123456789012345678901234567890123456"
	    "789012345678901234567890123456789012345678901234567890123456789"
	    "0123456", "mcp-path: path is too long (128 bytes, at most 127)" },
	{ "session-timeout 999ms", "session-timeout: 999ms is out of range "
	    "1s..24h" },
	{ "session-timeout 0s", "session-timeout: 0s is out of range "
	    "1s..24h" },
	{ "session-timeout 25h", "session-timeout: 25h is out of range "
	    "1s..24h" },
	{ "session-timeout 10", "session-timeout: duration needs a unit (ms, "
	    "s, m, h)" },
	{ "header-timeout 0s", "header-timeout: 0s is out of range 1ms..24h" },
	{ "header-timeout 1441m", "header-timeout: 1441m is out of range "
	    "1ms..24h" },
	{ "body-timeout 0ms", "body-timeout: 0ms is out of range 1ms..24h" },
	{ "body-timeout 30", "body-timeout: duration needs a unit (ms, s, m, "
	    "h)" },
	{ "idle-timeout 25h", "idle-timeout: 25h is out of range 1ms..24h" },
	{ "idle-timeout 1d", "idle-timeout: invalid duration \"1d\" (a number "
	    "and ms, s, m or h)" },
	{ "sse-keepalive 0s", "sse-keepalive: 0s is out of range 1ms..24h" },
	{ "list-cache-ttl 25h", "list-cache-ttl: 25h is out of range "
	    "0ms..24h" },
	{ "list-cache-ttl 5", "list-cache-ttl: duration needs a unit (ms, s, "
	    "m, h)" },
	{ "task-ttl 999ms", "task-ttl: 999ms is out of range 1s..24h" },
	{ "alert-red-errors 0.5", "alert-red-errors: invalid percentage "
	    "\"0.5\" (like 0.05%, at most 4 decimals)" },
	{ "alert-red-errors 101%", "alert-red-errors: 101% is out of range "
	    "0%..100%" },
	{ "alert-red-errors 0.00001%", "alert-red-errors: invalid percentage "
	    "\"0.00001%\" (like 0.05%, at most 4 decimals)" },
	{ "alert-yellow-errors .5%", "alert-yellow-errors: invalid percentage "
	    "\".5%\" (like 0.05%, at most 4 decimals)" },
	{ "alert-window 999ms", "alert-window: 999ms is out of range 1s..24h" },
	{ "max-output-buffer 1K", "max-output-buffer: 1K is out of range "
	    "16K..1G" },
	{ "max-pending 0", "max-pending: 0 is out of range 1..100000000" },
	{ "memory-hard-limit 2P", "memory-hard-limit: invalid size \"2P\" "
	    "(0, or a number and K, M, G or T)" },
	{ "memory-hard-limit 1025G", "memory-hard-limit: 1025G is out of "
	    "range 0..1T" },
	{ "sse-keepalive 15", "sse-keepalive: duration needs a unit (ms, s, m, "
	    "h)" },
	{ "allow-host \"[::1\"", "allow-host: invalid host \"[::1\" (a name, "
	    "an IPv4 address or an [IPv6] address)" },
	{ "allow-host \"[127.0.0.1]\"", "allow-host: invalid host "
	    "\"[127.0.0.1]\" (a name, an IPv4 address or an [IPv6] address)" },
	{ "allow-host \"h\xc3\xa9\"", "allow-host: invalid host "
	    "\"h\xc3\xa9\" (a name, an IPv4 address or an [IPv6] address)" },
	{ "allow-host **", "allow-host: invalid host \"**\" (a name, an IPv4 "
	    "address or an [IPv6] address)" },
	{ "allow-host", "syntax error" },
	{ "allow-host a b", "syntax error" },
	{ "allow-origin http://*", "allow-origin: invalid host \"*\" (a name, "
	    "an IPv4 address or an [IPv6] address)" },
	{ "allow-origin \"http://[::g]:80\"", "allow-origin: invalid host "
	    "\"[::g]\" (a name, an IPv4 address or an [IPv6] address)" },
	{ "allow-origin http://a:99999", "allow-origin: \"http://a:99999\": "
	    "invalid port (1 to 65535)" },
	{ "allow-origin \"http://a#x\"", "allow-origin: invalid origin "
	    "\"http://a#x\" (scheme://host or scheme://host:port)" },
	{ "allow-origin http:/a", "allow-origin: invalid origin \"http:/a\" "
	    "(scheme://host or scheme://host:port)" },
	{ "allow-origin ://a", "allow-origin: invalid origin \"://a\" "
	    "(scheme://host or scheme://host:port)" },
	{ "allow-origin \"\"", "allow-origin: invalid origin \"\" "
	    "(scheme://host or scheme://host:port)" },
	{ "allow-origin s_x://a", "allow-origin: invalid origin \"s_x://a\" "
	    "(scheme://host or scheme://host:port)" },
	{ "plugin \"\" arg", "plugin: empty path" },
	{ "plugin", "syntax error" },
	{ "plugin /a.so b c", "syntax error" },
	{ "session-responses JSON", "session-responses: \"JSON\" is not one of "
	    "sse, json" },
	{ "session-responses \"\"", "session-responses: \"\" is not one of "
	    "sse, json" },
	{ "session-responses", "syntax error" },
	{ "session-responses sse json", "syntax error" },
	{ "tool", "tool: missing name" },
	{ "tool t", "tool t: missing \"{\" (it goes on the same line)" },
	{ "resource \"a b\" {\n}", "resource \"a b\": invalid URI (a scheme "
	    "such as \"file:\", then visible ASCII)" },
	{ "prompt \"\xc3\xa9\" {\n}", "prompt \"\xc3\xa9\": invalid name (1 to "
	    "64 letters, digits, \"_\", \".\" or \"-\")" },
	{ "description x", "description: only allowed in a tool, resource or "
	    "prompt block" },
	{ "user \"a b\"", "user: invalid name \"a b\" (1 to 32 letters, "
	    "digits, \"_\", \".\" or \"-\", not starting with \"-\")" },
	{ "user -r", "user: invalid name \"-r\" (1 to 32 letters, digits, "
	    "\"_\", \".\" or \"-\", not starting with \"-\")" },
	{ "user \"\"", "user: invalid name \"\" (1 to 32 letters, digits, "
	    "\"_\", \".\" or \"-\", not starting with \"-\")" },
	{ "user " S32 "x", "user: invalid name \"" S32 "x\" (1 to 32 "
	    "letters, digits, \"_\", \".\" or \"-\", not starting with "
	    "\"-\")" },
	{ "user mcpd$", "user: invalid name \"mcpd$\" (1 to 32 letters, "
	    "digits, \"_\", \".\" or \"-\", not starting with \"-\")" },
	{ "user a b", "user: 2 values, one expected" },
	{ "user", "syntax error" },
	{ "group", "syntax error" },
	{ "group \"m:x\"", "group: invalid name \"m:x\" (1 to 32 "
	    "letters, digits, \"_\", \".\" or \"-\", not starting with "
	    "\"-\")" },
	/* the group of mcpd's user: no user, no group */
	{ "group mcpd", "group: only with user (the group of mcpd's "
	    "processes)" },

	{ "message user x", "message: only allowed in a prompt block" },
};

START_TEST(test_bad_value)
{
	struct conf_errors	e;
	char			want[512];

	ck_assert_ptr_null(parse_string(bad_values[_i].text, "bad.conf", &e));
	snprintf(want, sizeof(want), "bad.conf:1: %s", bad_values[_i].msg);
	ck_assert_int_eq(e.e_count, 1);
	ck_assert_str_eq(e.e_msg[0], want);
}
END_TEST

/* Values at the edges that parse, and how they print. */
static const struct {
	const char	*text;
	const char	*printed;
} good_values[] = {
	{ "max-body-size 1024", "max-body-size 1K" },
	{ "max-body-size 1025", "max-body-size 1025" },
	{ "max-body-size 67108864", "max-body-size 64M" },
	{ "max-body-size 65536K", "max-body-size 64M" },
	{ "max-body-size 00004M", "max-body-size 4M" },
	{ "max-body-size 1536K", "max-body-size 1536K" },
	{ "max-header-size 65536", "max-header-size 64K" },
	{ "max-header-size 1K", "max-header-size 1K" },
	{ "max-header-size 10000", "max-header-size 10000" },
	{ "session-timeout 1000ms", "session-timeout 1s" },
	{ "session-timeout 24h", "session-timeout 24h" },
	{ "header-timeout 1ms", "header-timeout 1ms" },
	{ "sse-keepalive 86400s", "sse-keepalive 24h" },
	{ "idle-timeout 90s", "idle-timeout 90s" },
	{ "body-timeout 120s", "body-timeout 2m" },
	{ "mcp-path /!~", "mcp-path \"/!~\"" },
	{ "mcp-path \"/a\\\"b\"", "mcp-path \"/a\\\"b\"" },
	{ "allow-host LocalHost", "allow-host \"localhost\"" },
	{ "allow-host \"[::FFFF:1.2.3.4]\"", "allow-host \"[::ffff:1.2.3.4]\"" },
	{ "allow-host port.example", "allow-host \"port.example\"" },
	{ "allow-host \"port\"", "allow-host \"port\"" },
	{ "allow-origin A+b-C.d://X", "allow-origin \"a+b-c.d://x\"" },
	{ "allow-origin http://a:65535", "allow-origin \"http://a:65535\"" },
	{ "plugin /a.so \"\"", "plugin \"/a.so\"" },
	{ "plugin /a.so \"#x\"", "plugin \"/a.so\" \"#x\"" },
	{ "plugin /a.so workers", "plugin \"/a.so\" \"workers\"" },
	{ "session-responses json", "session-responses json" },
	{ "session-responses sse", "session-responses sse" },
	{ "list-cache-ttl 0s", "list-cache-ttl 0ms" },
	{ "list-cache-ttl 300000ms", "list-cache-ttl 5m" },
	{ "task-ttl 1s", "task-ttl 1s" },
	{ "task-ttl 86400s", "task-ttl 24h" },
	{ "alert-yellow-errors 0.0500%", "alert-yellow-errors 0.05%" },
	{ "alert-red-errors 100%", "alert-red-errors 100%" },
	{ "alert-emergency-errors 0%", "alert-emergency-errors 0%" },
	{ "alert-emergency-pending 12.3456%", "alert-emergency-pending "
	    "12.3456%" },
	{ "alert-hold 0s", "alert-hold 0ms" },
	{ "alert-command none", "alert-command none" },
	{ "alert-command /bin/x", "alert-command \"/bin/x\"" },
	{ "max-output-buffer 16384", "max-output-buffer 16K" },
	{ "accept-rate 100", "accept-rate 100" },
	{ "memory-soft-limit 2048M", "memory-soft-limit 2G" },
	{ "memory-soft-limit 1T", "memory-soft-limit 1T" },
	{ "memory-soft-limit 1000", "memory-soft-limit 1000" },
	{ "max-sessions 5", "max-sessions 5" },
	{ "user mcpd", "user \"mcpd\"" },
	{ "user \"_a.B-9\"", "user \"_a.B-9\"" },
	{ "user " S32, "user \"" S32 "\"" },
	{ "user mcpd\ngroup www-data", "user \"mcpd\"\ngroup \"www-data\"" },
	/* a keyword opens a line only: here it is a value */
	{ "user group", "user \"group\"" },
};

START_TEST(test_good_value)
{
	struct conf_errors	 e;
	struct conf		*c, *c2;
	char			*text, *text2, want[512];

	c = parse_string(good_values[_i].text, "good.conf", &e);
	ck_assert_msg(c != NULL, "%s: %s", good_values[_i].text, e.e_msg[0]);
	text = print_conf(c);
	snprintf(want, sizeof(want), "\n%s\n", good_values[_i].printed);
	ck_assert_msg(strstr(text, want) != NULL, "%s: printed as\n%s",
	    good_values[_i].text, text);
	c2 = parse_string(text, "normalized", &e);
	ck_assert_ptr_nonnull(c2);
	text2 = print_conf(c2);
	ck_assert_str_eq(text, text2);
	assert_same_conf(c, c2);
	conf_free(&c);
	conf_free(&c2);
	free(text);
	free(text2);
}
END_TEST

/* Every item of the catalog blocks, read into the struct. */
/* The supervisor's parse looks at a resource's path: it must exist. */
START_TEST(test_resource_paths)
{
	struct conf_errors	 errs;
	struct conf		*c;
	char			 path[] = "/tmp/mcpd-check-conf-XXXXXX";
	FILE			*f;
	int			 fd;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f, "resource \"file:///etc/\" {\n\tpath \"/etc\"\n}\n"
	    "resource \"file:///nowhere/\" {\n"
	    "\tpath \"/nonexistent/mcpd/dir\"\n}\n");
	fclose(f);
	conf_check_paths = 1;
	c = conf_parse(path, &errs);
	conf_check_paths = 0;
	ck_assert_ptr_null(c);
	ck_assert_int_eq(errs.e_count, 1);
	ck_assert_msg(strstr(errs.e_msg[0], ":4: resource file:///nowhere/: "
	    "path /nonexistent/mcpd/dir: No such file or directory") != NULL,
	    "%s", errs.e_msg[0]);
	/* without the look (a child's parse) it passes */
	c = conf_parse(path, &errs);
	ck_assert_ptr_nonnull(c);
	conf_free(&c);
	unlink(path);
}
END_TEST

/* A user that exists, is not root and whose group is not root. */
static int
some_user(char *user, size_t ulen, char *group, size_t glen)
{
	struct passwd	*pw;
	struct group	*gr;
	int		 found = 0;

	setpwent();
	while (!found && (pw = getpwent()) != NULL) {
		if (pw->pw_uid == 0 || pw->pw_gid == 0 ||
		    strlen(pw->pw_name) >= ulen ||
		    strspn(pw->pw_name, "abcdefghijklmnopqrstuvwxyz0123456789"
		    "_.-") != strlen(pw->pw_name) ||
		    (gr = getgrgid(pw->pw_gid)) == NULL ||
		    strlen(gr->gr_name) >= glen ||
		    strspn(gr->gr_name, "abcdefghijklmnopqrstuvwxyz0123456789"
		    "_.-") != strlen(gr->gr_name))
			continue;
		snprintf(user, ulen, "%s", pw->pw_name);
		snprintf(group, glen, "%s", gr->gr_name);
		found = 1;
	}
	endpwent();
	return found;
}

/*
 * The supervisor's parse asks the user database: users and groups to run
 * as exist and are not root, file:line.  A child's parse does not ask.
 */
START_TEST(test_user_lookup)
{
	struct conf_errors	 errs;
	struct conf		*c;
	struct group		*root;
	char			 path[] = "/tmp/mcpd-check-conf-XXXXXX";
	char			 user[CONF_USER_MAX_BYTES];
	char			 group[CONF_USER_MAX_BYTES];
	char			 want[256];
	FILE			*f;
	int			 fd;

	ck_assert_msg(some_user(user, sizeof(user), group, sizeof(group)),
	    "no user in the user database but root");
	ck_assert_ptr_nonnull(root = getgrgid(0));
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f, "user mcpd-no-such-user\n"
	    "tool a {\n\tdescription d\n\tcommand /bin/true\n"
	    "\tuser root\n}\n"
	    "tool b {\n\tdescription d\n\tcommand /bin/true\n"
	    "\tuser %s\n\tgroup mcpd-no-such-group\n}\n"
	    "tool c {\n\tdescription d\n\tcommand /bin/true\n"
	    "\tuser %s\n\tgroup %s\n}\n", user, user, root->gr_name);
	fclose(f);
	conf_check_paths = 1;
	c = conf_parse(path, &errs);
	conf_check_paths = 0;
	ck_assert_ptr_null(c);
	ck_assert_int_eq(errs.e_count, 4);
	snprintf(want, sizeof(want), "%s:1: user: unknown user "
	    "\"mcpd-no-such-user\"", path);
	ck_assert_str_eq(errs.e_msg[0], want);
	snprintf(want, sizeof(want), "%s:5: tool a: user: \"root\" is root "
	    "(uid 0): name an unprivileged user", path);
	ck_assert_str_eq(errs.e_msg[1], want);
	snprintf(want, sizeof(want), "%s:11: tool b: group: unknown group "
	    "\"mcpd-no-such-group\"", path);
	ck_assert_str_eq(errs.e_msg[2], want);
	snprintf(want, sizeof(want), "%s:17: tool c: group: \"%s\" is gid 0: "
	    "name an unprivileged group", path, root->gr_name);
	ck_assert_str_eq(errs.e_msg[3], want);
	/* without the look (a child's parse) it passes */
	c = conf_parse(path, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->c_user, "mcpd-no-such-user");
	conf_free(&c);

	/* names that exist */
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "user %s\ngroup %s\n"
	    "tool a {\n\tdescription d\n\tcommand /bin/true\n"
	    "\tuser %s\n}\n", user, group, user);
	fclose(f);
	conf_check_paths = 1;
	c = conf_parse(path, &errs);
	conf_check_paths = 0;
	ck_assert_msg(c != NULL, "%s", errs.e_msg[0]);
	ck_assert_str_eq(c->c_user, user);
	ck_assert_str_eq(c->c_group, group);
	ck_assert_str_eq(c->c_tools[0].t_user, user);
	ck_assert_ptr_null(c->c_tools[0].t_group);
	conf_free(&c);
	unlink(path);
}
END_TEST

START_TEST(test_catalog)
{
	struct conf			*c, tmp;
	const struct conf_tool		*t;
	const struct conf_resource	*r;
	const struct conf_prompt	*p;
	char				*path, *a, *b;

	path = path_join(cfgdir, "ok-catalog.conf");
	c = parse_ok(path);
	ck_assert_int_eq(c->c_session_responses, RESPONSES_JSON);

	ck_assert_uint_eq(c->c_ntools, 4);
	t = &c->c_tools[0];
	ck_assert_str_eq(t->t_name, "grep");
	ck_assert_int_eq(t->t_line, 5);
	ck_assert_str_eq(t->t_desc, "Search a file for a pattern, with "
	    "\"quotes\" and \\ a backslash");
	ck_assert_str_eq(t->t_title, "Grep");
	ck_assert_str_eq(t->t_schema, "{\"type\": \"object\", \"properties\": "
	    "{\"pattern\": {\"type\": \"string\", \"description\": \"a regex, "
	    "as \\\"a\\\\.b\\\"\"}, \"file\": {\"type\": \"string\"}}, "
	    "\"required\": [\"pattern\", \"file\"]}");
	ck_assert_uint_eq(t->t_argc, 6);
	ck_assert_str_eq(t->t_argv[0], "/usr/bin/grep");
	ck_assert_str_eq(t->t_argv[1], "-n");
	ck_assert_str_eq(t->t_argv[2], "-e");
	ck_assert_str_eq(t->t_argv[3], "{pattern}");
	ck_assert_str_eq(t->t_argv[4], "--");
	ck_assert_str_eq(t->t_argv[5], "{file}");
	ck_assert_ptr_null(t->t_argv[6]);
	ck_assert_str_eq(t->t_cwd, "/srv/data");
	ck_assert_uint_eq(t->t_nenv, 3);
	ck_assert_str_eq(t->t_env[0], "LANG");
	ck_assert_str_eq(t->t_env[1], "LC_ALL");
	ck_assert_str_eq(t->t_env[2], "PATH");
	ck_assert_uint_eq(t->t_timeout_ms, 1500);
	ck_assert_uint_eq(t->t_output_max, 64 * 1024);
	ck_assert_uint_eq(t->t_concurrency, 16);

	/* the defaults */
	t = &c->c_tools[1];
	ck_assert_str_eq(t->t_name, "echo.v2_x-y");
	ck_assert_int_eq(t->t_line, 19);
	ck_assert_str_eq(t->t_desc, "echo");
	ck_assert_ptr_null(t->t_title);
	ck_assert_ptr_null(t->t_schema);
	ck_assert_uint_eq(t->t_argc, 4);
	ck_assert_str_eq(t->t_argv[1], "literal {{braces}");
	ck_assert_str_eq(t->t_argv[3], "{{{text}}");
	ck_assert_ptr_null(t->t_cwd);
	ck_assert_uint_eq(t->t_nenv, 0);
	ck_assert_uint_eq(t->t_timeout_ms, DEF_TOOL_TIMEOUT_MS);
	ck_assert_uint_eq(t->t_output_max, DEF_TOOL_OUTPUT_MAX_BYTES);
	ck_assert_uint_eq(t->t_concurrency, DEF_TOOL_CONCURRENCY);
	ck_assert_uint_eq(t->t_mem_max, 0);	/* none */
	ck_assert_uint_eq(t->t_nproc_max, 0);
	ck_assert_ptr_null(t->t_user);		/* the user of mcpd */
	ck_assert_ptr_null(t->t_group);
	/* in the included file, its line */
	ck_assert_str_eq(c->c_tools[2].t_name, "date");
	ck_assert_int_eq(c->c_tools[2].t_line, 2);
	t = &c->c_tools[3];
	ck_assert_str_eq(t->t_name, "last");
	ck_assert_int_eq(t->t_line, 54);
	ck_assert_uint_eq(t->t_mem_max, 512U << 20);
	ck_assert_uint_eq(t->t_nproc_max, 64);
	ck_assert_ptr_null(t->t_title);		/* "" is none */
	ck_assert_ptr_null(t->t_schema);	/* auto */
	ck_assert_ptr_null(t->t_cwd);		/* none */
	ck_assert_str_eq(t->t_user, "nobody");
	ck_assert_str_eq(t->t_group, "nogroup");

	ck_assert_uint_eq(c->c_nresources, 3);
	r = &c->c_resources[0];
	ck_assert_str_eq(r->r_uri, "file:///docs/");
	ck_assert_int_eq(r->r_line, 24);
	ck_assert_str_eq(r->r_path, "/usr/share/doc");
	ck_assert_str_eq(r->r_name, "doc");	/* the last component */
	ck_assert_ptr_null(r->r_desc);
	ck_assert_ptr_null(r->r_mime);
	ck_assert_uint_eq(r->r_size_max, DEF_RESOURCE_SIZE_MAX);
	r = &c->c_resources[1];
	ck_assert_str_eq(r->r_uri, "file:///etc/motd");
	ck_assert_str_eq(r->r_path, "/etc/motd");
	ck_assert_str_eq(r->r_name, "motd \"file\"");
	ck_assert_str_eq(r->r_desc, "The message of the day");
	ck_assert_str_eq(r->r_mime, "text/plain");
	ck_assert_uint_eq(r->r_size_max, 1);
	r = &c->c_resources[2];
	ck_assert_str_eq(r->r_uri, "https://example.com/a%20b?q=1#x");
	ck_assert_str_eq(r->r_name, "srv");
	ck_assert_str_eq(r->r_mime, "application/vnd.api+json");
	ck_assert_uint_eq(r->r_size_max, 64 * 1024 * 1024);

	ck_assert_uint_eq(c->c_nprompts, 2);
	p = &c->c_prompts[0];
	ck_assert_str_eq(p->p_name, "summarize");
	ck_assert_int_eq(p->p_line, 40);
	ck_assert_str_eq(p->p_desc, "Summarize a topic");
	ck_assert_str_eq(p->p_title, "Summarize");
	ck_assert_uint_eq(p->p_nargs, 4);
	ck_assert_str_eq(p->p_args[0].a_name, "topic");
	ck_assert_int_eq(p->p_args[0].a_required, 1);
	ck_assert_str_eq(p->p_args[0].a_desc, "The subject, e.g. \"TCP\"");
	ck_assert_str_eq(p->p_args[1].a_name, "style");
	ck_assert_int_eq(p->p_args[1].a_required, 0);
	ck_assert_ptr_null(p->p_args[1].a_desc);
	/* a quoted "required" is a description, a bare one the flag */
	ck_assert_str_eq(p->p_args[2].a_name, "q");
	ck_assert_int_eq(p->p_args[2].a_required, 0);
	ck_assert_str_eq(p->p_args[2].a_desc, "required");
	ck_assert_str_eq(p->p_args[3].a_name, "r");
	ck_assert_int_eq(p->p_args[3].a_required, 1);
	ck_assert_ptr_null(p->p_args[3].a_desc);
	ck_assert_uint_eq(p->p_nmsgs, 3);
	ck_assert_int_eq(p->p_msgs[0].m_assistant, 0);
	ck_assert_str_eq(p->p_msgs[0].m_text,
	    "Summarize {topic} in a {style} style.");
	ck_assert_int_eq(p->p_msgs[1].m_assistant, 1);
	ck_assert_str_eq(p->p_msgs[1].m_text, "Sure: {{topic} is {topic}.");
	ck_assert_int_eq(p->p_msgs[2].m_assistant, 0);
	p = &c->c_prompts[1];
	ck_assert_str_eq(p->p_name, "hello");
	ck_assert_int_eq(p->p_line, 6);
	ck_assert_ptr_null(p->p_desc);
	ck_assert_ptr_null(p->p_title);
	ck_assert_uint_eq(p->p_nargs, 0);
	ck_assert_uint_eq(p->p_nmsgs, 1);

	/* what the supervisor does: print a shallow copy, free the original */
	tmp = *c;
	tmp.c_workers = 99;
	a = print_conf(&tmp);
	tmp.c_workers = c->c_workers;
	b = print_conf(c);
	ck_assert_int_eq(strncmp(a, "workers 99\n", 11), 0);
	ck_assert_str_eq(strstr(a, "\nmax-connections"),
	    strstr(b, "\nmax-connections"));
	conf_free(&c);
	ck_assert_ptr_null(c);
	free(a);
	free(b);
	free(path);
}
END_TEST

/* The catalog at its limits, from ok-catalog-max.conf. */
START_TEST(test_catalog_max)
{
	struct conf			*c;
	const struct conf_tool		*t;
	const struct conf_prompt	*p;
	char				*path;
	uint32_t			 i;

	path = path_join(cfgdir, "ok-catalog-max.conf");
	c = parse_ok(path);
	ck_assert_uint_eq(c->c_ntools, 2);
	t = &c->c_tools[0];
	ck_assert_uint_eq(strlen(t->t_name), 64);
	ck_assert_uint_eq(t->t_argc, CONF_ARGV_MAX);
	ck_assert_str_eq(t->t_argv[CONF_ARGV_MAX - 1], "{p62}");
	ck_assert_uint_eq(t->t_nenv, CONF_ENV_MAX);
	ck_assert_str_eq(t->t_env[CONF_ENV_MAX - 1], "V3_15");
	ck_assert_uint_eq(t->t_timeout_ms, 24 * 60 * 60 * 1000);
	ck_assert_uint_eq(t->t_output_max, 64 * 1024 * 1024);
	ck_assert_uint_eq(t->t_concurrency, 1000);
	t = &c->c_tools[1];
	ck_assert_uint_eq(t->t_timeout_ms, 1);
	ck_assert_uint_eq(t->t_output_max, 1024);
	ck_assert_uint_eq(t->t_concurrency, 1);
	ck_assert_uint_eq(t->t_nenv, CONF_ENV_MAX);

	ck_assert_uint_eq(c->c_nresources, 2);
	ck_assert_str_eq(c->c_resources[0].r_name, "/");
	ck_assert_uint_eq(c->c_resources[0].r_size_max, 1);
	ck_assert_uint_eq(strlen(c->c_resources[0].r_mime), 127 + 1 + 127);
	ck_assert_str_eq(c->c_resources[1].r_name, "share");
	ck_assert_uint_eq(c->c_resources[1].r_size_max, 64 * 1024 * 1024);

	ck_assert_uint_eq(c->c_nprompts, 2);
	p = &c->c_prompts[0];
	ck_assert_uint_eq(strlen(p->p_name), 64);
	ck_assert_uint_eq(p->p_nargs, CONF_PROMPT_ARGS_MAX);
	ck_assert_uint_eq(p->p_nmsgs, CONF_PROMPT_MSGS_MAX);
	for (i = 0; i < CONF_PROMPT_ARGS_MAX; i++) {
		ck_assert_uint_eq(strlen(p->p_args[i].a_name), 64);
		ck_assert_int_eq(p->p_args[i].a_required, (int)(i % 2));
		ck_assert_int_eq(p->p_msgs[i].m_assistant, (int)(i % 2 == 0));
	}
	ck_assert_str_eq(c->c_prompts[1].p_name, "-");
	conf_free(&c);
	free(path);
}
END_TEST

/* CONF_TOOLS_MAX, CONF_RESOURCES_MAX, CONF_PROMPTS_MAX, and one more. */
START_TEST(test_catalog_limits)
{
	static const struct {
		const char	*kind;
		const char	*name;		/* and the index */
		const char	*quote;
		const char	*body;
		unsigned long	 lines;		/* of one block */
		unsigned long	 max;
	} k[] = {
		{ "tool", "t", "", "\tdescription d\n\tcommand /bin/true\n",
		    4, CONF_TOOLS_MAX },
		{ "resource", "file:///r", "\"", "\tpath /r\n", 3,
		    CONF_RESOURCES_MAX },
		{ "prompt", "p", "", "\tmessage user m\n", 3, CONF_PROMPTS_MAX }
	};
	struct conf_errors	 e;
	struct conf		*c;
	char			*buf, *text, want[128];
	size_t			 len;
	FILE			*out;
	unsigned long		 i, n;
	int			 one_more;

	for (one_more = 0; one_more < 2; one_more++) {
		buf = NULL;
		if ((out = open_memstream(&buf, &len)) == NULL)
			ck_abort_msg("open_memstream");
		n = k[_i].max + (unsigned long)one_more;
		for (i = 0; i < n; i++)
			fprintf(out, "%s %s%s%lu%s {\n%s}\n", k[_i].kind,
			    k[_i].quote, k[_i].name, i, k[_i].quote,
			    k[_i].body);
		fclose(out);
		c = parse_string(buf, "limits.conf", &e);
		free(buf);
		if (one_more) {
			ck_assert_ptr_null(c);
			ck_assert_int_eq(e.e_count, 1);
			snprintf(want, sizeof(want), "limits.conf:%lu: %s "
			    "%s%lu: too many %ss (at most %lu)",
			    1 + (n - 1) * k[_i].lines, k[_i].kind, k[_i].name,
			    n - 1, k[_i].kind, k[_i].max);
			ck_assert_str_eq(e.e_msg[0], want);
			continue;
		}
		ck_assert_msg(c != NULL, "%s", e.e_msg[0]);
		ck_assert_uint_eq(c->c_ntools + c->c_nresources +
		    c->c_nprompts, k[_i].max);
		text = print_conf(c);
		conf_free(&c);
		c = parse_string(text, "normalized", &e);
		ck_assert_ptr_nonnull(c);
		conf_free(&c);
		free(text);
	}
}
END_TEST

/*
 * A block of kind with item on line 2 and what else it needs: a tool a
 * description and a command, a resource a path, a prompt a message.
 */
static char *
block_text(const char *kind, const char *item)
{
	char	*text;
	int	 r;

#define HAS(key)	(strncmp(item, key " ", strlen(key) + 1) == 0)
	if (strcmp(kind, "tool") == 0)
		r = asprintf(&text, "tool t {\n\t%s\n%s%s}\n", item,
		    HAS("description") ? "" : "\tdescription d\n",
		    HAS("command") ? "" : "\tcommand /bin/true\n");
	else if (strcmp(kind, "resource") == 0)
		r = asprintf(&text, "resource \"file:///r\" {\n\t%s\n%s}\n",
		    item, HAS("path") ? "" : "\tpath /r\n");
	else
		r = asprintf(&text, "prompt p {\n\t%s\n%s}\n", item,
		    HAS("message") ? "" : "\tmessage user m\n");
#undef HAS
	if (r == -1)
		ck_abort_msg("out of memory");
	return text;
}


/* One wrong item in a catalog block; the message is about line 2. */
static const struct {
	const char	*kind;
	const char	*item;
	const char	*msg;
} bad_items[] = {
	{ "tool", "timeout 1441m", "tool t: timeout: 1441m is out of range "
	    "1ms..24h" },
	{ "tool", "timeout 0s", "tool t: timeout: 0s is out of range "
	    "1ms..24h" },
	{ "tool", "timeout 1d", "tool t: timeout: invalid duration \"1d\" (a "
	    "number and ms, s, m or h)" },
	{ "tool", "max-output 1023", "tool t: max-output: 1023 is out of "
	    "range 1K..64M" },
	{ "tool", "max-output 65537K", "tool t: max-output: 65537K is out of "
	    "range 1K..64M" },
	{ "tool", "max-output 1G", "tool t: max-output: 1G is out of range "
	    "1K..64M" },
	{ "tool", "max-output 64M1", "tool t: max-output: invalid size "
	    "\"64M1\" (a number of bytes, or a number and K, M or G)" },
	{ "tool", "concurrency -1", "tool t: concurrency: -1 is out of range "
	    "1..1000" },
	{ "tool", "concurrency 1.5", "tool t: concurrency: invalid number "
	    "\"1.5\"" },
	{ "tool", "task sometimes", "tool t: task: \"sometimes\" is not one "
	    "of forbidden, optional, required" },
	{ "tool", "directory \"\"", "tool t: directory: \"\" is not an "
	    "absolute path" },
	{ "tool", "command \"\"", "tool t: command: \"\" is not an absolute "
	    "path" },
	{ "tool", "command \"{x}\"", "tool t: command: \"{x}\" is not an "
	    "absolute path" },
	{ "tool", "command /bin/x \"{a\"", "tool t: command: \"{\" without "
	    "\"}\" at \"{a\" (\"{{\" is a literal \"{\")" },
	{ "tool", "command /bin/x \"{a}{\"", "tool t: command: \"{\" without "
	    "\"}\" at \"{\" (\"{{\" is a literal \"{\")" },
	{ "tool", "command /bin/x \"{a.b}\" \"--{c:d}\"", "tool t: command: "
	    "invalid placeholder \"{c:d}\" (a name is 1 to 64 letters, "
	    "digits, \"_\", \".\" or \"-\"; \"{{\" is a literal \"{\")" },
	{ "tool", "command /bin/x \"{ a}\"", "tool t: command: invalid "
	    "placeholder \"{ a}\" (a name is 1 to 64 letters, digits, \"_\", "
	    "\".\" or \"-\"; \"{{\" is a literal \"{\")" },
	{ "tool", "input-schema \"{\\\"type\\\": \\\"object\\\"} {}\"",
	    "tool t: input-schema: invalid JSON" },
	{ "tool", "input-schema \"{\\\"properties\\\": {\\\"x\\\": 1,}}\"",
	    "tool t: input-schema: invalid JSON" },
	{ "tool", "input-schema \"{\\\"a\\\": \\\"\\\\x\\\"}\"",
	    "tool t: input-schema: invalid JSON" },
	{ "tool", "input-schema \"{'a': 1}\"", "tool t: input-schema: "
	    "invalid JSON" },
	{ "tool", "input-schema null", "tool t: input-schema: not a JSON "
	    "object" },
	{ "tool", "input-schema \"\\\"{}\\\"\"", "tool t: input-schema: not "
	    "a JSON object" },
	{ "tool", "input-schema \"{\\\"type\\\": [\\\"object\\\"]}\"",
	    "tool t: input-schema: \"type\" is not \"object\"" },
	{ "tool", "input-schema \"{\\\"properties\\\": null}\"",
	    "tool t: input-schema: \"properties\" is not an object" },
	{ "tool", "description \"\"", "tool t: description: empty (clients "
	    "need one)" },
	{ "tool", "description a b", "tool t: description: 2 values, one "
	    "expected (quote a text with spaces)" },
	{ "tool", "env A=B", "tool t: env: invalid name \"A=B\" (a letter or "
	    "\"_\", then letters, digits or \"_\")" },
	{ "tool", "env _ a9 A-", "tool t: env: invalid name \"A-\" (a letter "
	    "or \"_\", then letters, digits or \"_\")" },
	{ "tool", "env X X", "tool t: env: X already listed on line 2" },
	{ "tool", "title", "syntax error" },
	{ "tool", "timeout 1s 2s", "tool t: timeout: 2 values, one expected" },
	{ "tool", "name x", "tool t: name: only allowed in a resource block" },
	{ "tool", "restart transient", "tool t: restart: only allowed in a "
	    "worker, agent or runner block" },
	{ "tool", "user \"\"", "tool t: user: invalid name \"\" (1 to 32 "
	    "letters, digits, \"_\", \".\" or \"-\", not starting with "
	    "\"-\")" },
	{ "tool", "user a b", "tool t: user: 2 values, one expected" },
	{ "tool", "group -g", "tool t: group: invalid name \"-g\" (1 to 32 "
	    "letters, digits, \"_\", \".\" or \"-\", not starting with "
	    "\"-\")" },
	{ "tool", "group g", "tool t: group: only with user (the tool's "
	    "user)" },
	{ "resource", "user u", "resource file:///r: user: only allowed at "
	    "the top level or in a tool block" },
	{ "prompt", "group g", "prompt p: group: only allowed at the top "
	    "level or in a tool block" },
	{ "resource", "path \"\"", "resource file:///r: path: \"\" is not an "
	    "absolute path" },
	{ "resource", "path a/b", "resource file:///r: path: \"a/b\" is not "
	    "an absolute path" },
	{ "resource", "max-size 0K", "resource file:///r: max-size: 0K is out "
	    "of range 1..64M" },
	{ "resource", "max-size 67108865", "resource file:///r: max-size: "
	    "67108865 is out of range 1..64M" },
	{ "resource", "mime-type \"text/pla in\"", "resource file:///r: "
	    "mime-type: invalid type \"text/pla in\" (type/subtype, as "
	    "text/plain)" },
	{ "resource", "mime-type text/plain/x", "resource file:///r: "
	    "mime-type: invalid type \"text/plain/x\" (type/subtype, as "
	    "text/plain)" },
	{ "resource", "mime-type a/" S16 S16 S16 S16 S16 S16 S16 S16,
	    "resource file:///r: mime-type: invalid type \"a/" S16 S16 S16 S16
	    S16 S16 S16 S16 "\" (type/subtype, as text/plain)" },
	{ "resource", "name a b", "resource file:///r: name: 2 values, one "
	    "expected (quote a text with spaces)" },
	{ "resource", "env PATH", "resource file:///r: env: only allowed in a "
	    "tool block" },
	{ "prompt", "argument " S16 S16 S16 S16 "x", "prompt p: argument: "
	    "invalid name \"" S16 S16 S16 S16 "x\" (1 to 64 letters, digits, "
	    "\"_\", \".\" or \"-\")" },
	{ "prompt", "argument \"\"", "prompt p: argument: invalid name \"\" (1 "
	    "to 64 letters, digits, \"_\", \".\" or \"-\")" },
	{ "prompt", "argument a required b c", "prompt p: argument: too many "
	    "values (NAME [required] [TEXT]; quote a text with spaces)" },
	{ "prompt", "argument a b required", "prompt p: argument: too many "
	    "values (NAME [required] [TEXT]; quote a text with spaces)" },
	{ "prompt", "message User x", "prompt p: message: \"User\" is not one "
	    "of user, assistant" },
	{ "prompt", "message user \"{x}\"", "prompt p: {x} is not an "
	    "argument" },
	{ "prompt", "message user \"x{\"", "prompt p: message: \"{\" without "
	    "\"}\" at \"{\" (\"{{\" is a literal \"{\")" },
	{ "prompt", "message assistant \"{a b}\"", "prompt p: message: "
	    "invalid placeholder \"{a b}\" (a name is 1 to 64 letters, digits, "
	    "\"_\", \".\" or \"-\"; \"{{\" is a literal \"{\")" },
	{ "prompt", "title a b", "prompt p: title: 2 values, one expected "
	    "(quote a text with spaces)" },
	{ "prompt", "path /x", "prompt p: path: only allowed in a resource "
	    "block" },
	{ "prompt", "command /bin/x", "prompt p: command: only allowed in a "
	    "tool block" },
	{ "prompt", "scope a\\b", "prompt p: scope: invalid scope \"a\\b\" "
	    "(visible ASCII but '\"' and '\\')" },
	{ "tool", "scope \"\"", "tool t: scope: invalid scope \"\" (visible "
	    "ASCII but '\"' and '\\')" },
};

START_TEST(test_bad_item)
{
	struct conf_errors	 e;
	char			*text, want[512];

	text = block_text(bad_items[_i].kind, bad_items[_i].item);
	ck_assert_ptr_null(parse_string(text, "bad.conf", &e));
	snprintf(want, sizeof(want), "bad.conf:2: %s", bad_items[_i].msg);
	ck_assert_msg(e.e_count == 1, "%s: %d errors, first: %s", text,
	    e.e_count, e.e_msg[0]);
	ck_assert_str_eq(e.e_msg[0], want);
	free(text);
}
END_TEST

/* Catalog items at their edges, and how they print (lines after "\t"). */
static const struct {
	const char	*kind;
	const char	*item;
	const char	*printed;
} good_items[] = {
	{ "tool", "timeout 86400000ms", "timeout 24h" },
	{ "tool", "timeout 120s", "timeout 2m" },
	{ "tool", "timeout 1001ms", "timeout 1001ms" },
	{ "tool", "max-output 1048576", "max-output 1M" },
	{ "tool", "max-output 1025", "max-output 1025" },
	{ "tool", "max-output 65536K", "max-output 64M" },
	{ "tool", "concurrency 0007", "concurrency 7" },
	{ "tool", "task optional", "task optional" },
	{ "tool", "task required", "task required" },
	{ "tool", "directory /", "directory \"/\"" },
	{ "tool", "directory \"none\"", "directory none" },
	{ "tool", "directory \"/a b/\\\"c\\\"\"",
	    "directory \"/a b/\\\"c\\\"\"" },
	{ "tool", "input-schema \"auto\"", "input-schema auto" },
	{ "tool", "input-schema \" {} \"", "input-schema \" {} \"" },
	{ "tool", "input-schema \"{\\\"type\\\":\\\"object\\\",\\\"x\\\":"
	    "\\\"a\\\\\\\\b\\\"}\"", "input-schema \"{\\\"type\\\":\\\"object\\\","
	    "\\\"x\\\":\\\"a\\\\\\\\b\\\"}\"" },
	{ "tool", "command /bin/x \"\" \"{{\" \"}\" \"{{a}\" #c",
	    "command \"/bin/x\" \"\" \"{{\" \"}\" \"{{a}\"" },
	{ "tool", "command \"/bin/a b\" \"{x}\" \"--x={x}\"",
	    "command \"/bin/a b\" \"{x}\" \"--x={x}\"" },
	{ "tool", "env _ a9 Z", "env \"_\" \"a9\" \"Z\"" },
	{ "tool", "title \"\"", "title \"\"" },
	{ "tool", "title auto", "title \"auto\"" },
	{ "tool", "description \"tab\there\"", "description \"tab\there\"" },
	{ "tool", "description \"# not a comment\"",
	    "description \"# not a comment\"" },
	{ "tool", "description required", "description \"required\"" },
	{ "tool", "user nobody", "user \"nobody\"" },
	{ "tool", "user \"_x.Y-1\"", "user \"_x.Y-1\"" },
	{ "resource", "path /a/b/", "path \"/a/b/\"\n\tname \"b\"" },
	{ "resource", "path //", "path \"//\"\n\tname \"/\"" },
	{ "resource", "path /x.txt", "path \"/x.txt\"\n\tname \"x.txt\"" },
	{ "resource", "mime-type Text/Plain", "mime-type \"Text/Plain\"" },
	{ "resource", "mime-type \"auto\"", "mime-type auto" },
	{ "resource", "mime-type \"a+b/c!#$&-^_.+d\"",
	    "mime-type \"a+b/c!#$&-^_.+d\"" },
	{ "resource", "max-size 1023", "max-size 1023" },
	{ "resource", "max-size 1024", "max-size 1K" },
	{ "resource", "description \"\"", "description \"\"" },
	{ "resource", "name none", "name \"none\"" },
	{ "prompt", "argument a \"\"", "argument \"a\"\n" },
	{ "prompt", "argument a required \"\"", "argument \"a\" required\n" },
	{ "prompt", "argument a required required",
	    "argument \"a\" required \"required\"" },
	{ "prompt", "argument \"required\"", "argument \"required\"\n" },
	{ "prompt", "argument required required",
	    "argument \"required\" required\n" },
	{ "prompt", "argument a \"required\"", "argument \"a\" \"required\"" },
	{ "prompt", "message assistant \"{{x}\"",
	    "message assistant \"{{x}\"" },
	{ "prompt", "message user \"}{{\"", "message user \"}{{\"" },
	{ "prompt", "title T", "title \"T\"" },
	{ "tool", "scope a", "scope \"a\"" },
	{ "resource", "scope \"#x\" y", "scope \"#x\" \"y\"" },
	{ "prompt",
	    "scope s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15",
	    "scope \"s0\" \"s1\" \"s2\" \"s3\" \"s4\" \"s5\" \"s6\" \"s7\" "
	    "\"s8\" \"s9\" \"s10\" \"s11\" \"s12\" \"s13\" \"s14\" \"s15\"" },
};

START_TEST(test_good_item)
{
	struct conf_errors	 e;
	struct conf		*c, *c2;
	char			*text, *text2, *src, want[512];

	src = block_text(good_items[_i].kind, good_items[_i].item);
	c = parse_string(src, "good.conf", &e);
	ck_assert_msg(c != NULL, "%s: %s", src, e.e_msg[0]);
	text = print_conf(c);
	snprintf(want, sizeof(want), "\n\t%s", good_items[_i].printed);
	ck_assert_msg(strstr(text, want) != NULL, "%s: printed as\n%s",
	    good_items[_i].item, text);
	c2 = parse_string(text, "normalized", &e);
	ck_assert_ptr_nonnull(c2);
	text2 = print_conf(c2);
	ck_assert_str_eq(text, text2);
	assert_same_conf(c, c2);
	conf_free(&c);
	conf_free(&c2);
	free(text);
	free(text2);
	free(src);
}
END_TEST

/* The commented-out catalog of etc/mcpd.conf, uncommented, parses. */
START_TEST(test_etc_catalog)
{
	struct conf_errors	 e;
	struct conf		*c;
	char			*path, *example, *text, *p, *line;
	size_t			 len;
	FILE			*out;

	if (asprintf(&path, "%s/etc/mcpd.conf", srcdir) == -1)
		ck_abort_msg("out of memory");
	example = slurp(path);
	ck_assert_ptr_nonnull(example);
	p = strstr(example, "\n## Catalog");
	ck_assert_ptr_nonnull(p);
	text = NULL;
	if ((out = open_memstream(&text, &len)) == NULL)
		ck_abort_msg("open_memstream");
	for (line = strtok(p, "\n"); line != NULL; line = strtok(NULL, "\n"))
		/* "#word" is a statement, "# text" a comment */
		if (line[0] == '#' && line[1] != '#' && line[1] != ' ' &&
		    line[1] != '\0')
			fprintf(out, "%s\n", line + 1);
	fclose(out);
	c = parse_string(text, path, &e);
	ck_assert_msg(c != NULL, "%s\n%s", e.e_msg[0], text);
	ck_assert_uint_eq(c->c_ntools, 1);
	ck_assert_str_eq(c->c_tools[0].t_name, "grep");
	ck_assert_uint_eq(c->c_tools[0].t_argc, 6);
	ck_assert_str_eq(c->c_tools[0].t_argv[3], "{pattern}");
	ck_assert_ptr_nonnull(c->c_tools[0].t_schema);
	ck_assert_uint_eq(c->c_nresources, 1);
	ck_assert_str_eq(c->c_resources[0].r_uri, "file:///docs/");
	ck_assert_str_eq(c->c_resources[0].r_path, "/usr/share/doc/mcpd");
	ck_assert_uint_eq(c->c_nprompts, 1);
	ck_assert_str_eq(c->c_prompts[0].p_name, "summarize");
	ck_assert_str_eq(c->c_prompts[0].p_args[0].a_name, "topic");
	ck_assert_int_eq(c->c_prompts[0].p_args[0].a_required, 1);
	conf_free(&c);
	free(text);
	free(example);
	free(path);
}
END_TEST

START_TEST(test_allow_check)
{
	struct conf	c;

#define HOST_OK(s)	conf_host_allowed(&c, (s), strlen(s))
#define ORIGIN_OK(s)	conf_origin_allowed(&c, (s), strlen(s))
	/* the defaults: local names, any port; origins on them */
	conf_defaults(&c);
	ck_assert(HOST_OK("localhost"));
	ck_assert(HOST_OK("LocalHost:8080"));
	ck_assert(HOST_OK("127.0.0.1:1"));
	ck_assert(HOST_OK("[::1]"));
	ck_assert(HOST_OK("[::1]:8080"));
	ck_assert(HOST_OK("localhost:"));
	ck_assert(!HOST_OK(""));
	ck_assert(!HOST_OK(":8080"));
	ck_assert(!HOST_OK("localhost.:80"));
	ck_assert(!HOST_OK("evil.example"));
	ck_assert(!HOST_OK("localhost:80x"));
	ck_assert(!HOST_OK("localhost:80:80"));
	ck_assert(!HOST_OK("[::1]x"));
	ck_assert(!HOST_OK("[::1"));
	ck_assert(!HOST_OK("::1"));
	ck_assert(!HOST_OK("127.0.0.2"));
	ck_assert(!conf_host_allowed(&c, "localhost\0", 10));
	ck_assert(conf_host_allowed(&c, "localhostXXX", 9));
	ck_assert(ORIGIN_OK("http://localhost:3000"));
	ck_assert(ORIGIN_OK("http://localhost"));
	ck_assert(ORIGIN_OK("HTTPS://127.0.0.1:8443"));
	ck_assert(ORIGIN_OK("http://[::1]:80"));
	ck_assert(!ORIGIN_OK("http://evil.example"));
	ck_assert(!ORIGIN_OK("http://localhost.evil.example"));
	ck_assert(!ORIGIN_OK("http://localhost/"));
	ck_assert(!ORIGIN_OK("http://evil@localhost"));
	ck_assert(!ORIGIN_OK("null"));
	ck_assert(!ORIGIN_OK("localhost"));
	ck_assert(!ORIGIN_OK("://localhost"));
	ck_assert(!ORIGIN_OK("http:/localhost"));
	ck_assert(!ORIGIN_OK(""));

	/* a list of hosts; origins follow it */
	c.c_nallow_hosts = 1;
	snprintf(c.c_allow_hosts[0], sizeof(c.c_allow_hosts[0]),
	    "mcp.example.com");
	ck_assert(HOST_OK("MCP.example.com:443"));
	ck_assert(!HOST_OK("localhost"));
	ck_assert(ORIGIN_OK("https://mcp.example.com"));
	ck_assert(!ORIGIN_OK("http://localhost:3000"));

	/* a list of origins: exact, but for case */
	c.c_nallow_origins = 2;
	snprintf(c.c_allow_origins[0], sizeof(c.c_allow_origins[0]),
	    "https://app.example.com");
	snprintf(c.c_allow_origins[1], sizeof(c.c_allow_origins[1]),
	    "http://localhost:3000");
	ck_assert(ORIGIN_OK("https://app.example.com"));
	ck_assert(ORIGIN_OK("https://APP.example.com"));
	ck_assert(ORIGIN_OK("http://localhost:3000"));
	ck_assert(!ORIGIN_OK("https://app.example.com:443"));
	ck_assert(!ORIGIN_OK("https://mcp.example.com"));
	ck_assert(!ORIGIN_OK("https://app.example.co"));
	ck_assert(!conf_origin_allowed(&c, "https://app.example.com", 10));

	/* "*": no check */
	snprintf(c.c_allow_hosts[0], sizeof(c.c_allow_hosts[0]), "*");
	ck_assert(HOST_OK("anything.example:1"));
	ck_assert(HOST_OK(""));
	ck_assert(!ORIGIN_OK("https://anything.example"));
	c.c_nallow_origins = 0;
	/* no allow-origin and any host: any origin of the right form */
	ck_assert(ORIGIN_OK("https://anything.example"));
	ck_assert(!ORIGIN_OK("null"));
	c.c_nallow_origins = 1;
	snprintf(c.c_allow_origins[0], sizeof(c.c_allow_origins[0]), "*");
	ck_assert(ORIGIN_OK("null"));
	ck_assert(ORIGIN_OK(""));
	c.c_nallow_hosts = 2;
	ck_assert(!HOST_OK("anything.example"));
#undef HOST_OK
#undef ORIGIN_OK
}
END_TEST

START_TEST(test_include)
{
	struct conf	*c;
	char		*path;

	path = path_join(cfgdir, "ok-include.conf");
	c = parse_ok(path);
	ck_assert_uint_eq(c->c_workers, 2);
	ck_assert_int_eq(c->c_strategy, STRATEGY_ONE_FOR_ALL);
	ck_assert_uint_eq(c->c_max_connections, 300);
	ck_assert_int_eq(c->c_spec[ROLE_RUNNER].s_restart, RESTART_TRANSIENT);
	ck_assert_uint_eq(c->c_nlisteners, 2);
	ck_assert_str_eq(c->c_listeners[0].l_addr, "192.0.2.10");
	ck_assert_int_eq(c->c_listeners[0].l_line, 2);	/* in inc-listen */
	ck_assert_int_eq(c->c_listeners[1].l_kind, LISTEN_ADMIN);
	ck_assert_int_eq(c->c_listeners[1].l_line, 0);
	ck_assert_str_eq(c->c_file, path);
	conf_free(&c);
	free(path);
}
END_TEST

/* The shipped example parses, to what it says, and round-trips. */
START_TEST(test_etc_conf)
{
	struct conf_errors	 e;
	struct conf		*c, *c2, d;
	char			*path, *text, *text2, *example, *key;
	const char		*line, *next;

	if (asprintf(&path, "%s/etc/mcpd.conf", srcdir) == -1)
		ck_abort_msg("out of memory");
	c = parse_ok(path);
	ck_assert_str_eq(c->c_pidfile, "/run/mcpd.pid");
	ck_assert_str_eq(c->c_control_socket, "/run/mcpd.sock");
	ck_assert_uint_eq(c->c_nlisteners, 2);
	ck_assert_int_eq(c->c_listeners[0].l_kind, LISTEN_HTTP);
	ck_assert_str_eq(c->c_listeners[0].l_addr, "127.0.0.1");
	ck_assert_uint_eq(c->c_listeners[0].l_port, 8080);
	ck_assert_int_ne(c->c_listeners[0].l_line, 0);
	ck_assert_int_eq(c->c_listeners[1].l_kind, LISTEN_ADMIN);
	ck_assert_str_eq(c->c_listeners[1].l_addr, "127.0.0.1");
	ck_assert_uint_eq(c->c_listeners[1].l_port, 8081);
	ck_assert_int_ne(c->c_listeners[1].l_line, 0);

	/* everything else is the default */
	conf_defaults(&d);
	memcpy(d.c_pidfile, c->c_pidfile, sizeof(d.c_pidfile));
	memcpy(d.c_control_socket, c->c_control_socket,
	    sizeof(d.c_control_socket));
	memcpy(d.c_listeners, c->c_listeners, sizeof(d.c_listeners));
	d.c_nlisteners = c->c_nlisteners;
	assert_same_conf(c, &d);

	/* it documents every key conf_print() knows */
	example = slurp(path);
	ck_assert_ptr_nonnull(example);
	text = print_conf(c);
	for (line = text; *line != '\0'; line = next) {
		next = strchr(line, '\n') + 1;
		line += strspn(line, "\t");
		key = strndup(line, strcspn(line, " \n"));
		ck_assert_msg(strstr(example, key) != NULL,
		    "etc/mcpd.conf does not mention %s", key);
		free(key);
	}
	free(example);

	c2 = parse_string(text, "mcpd.conf", &e);
	ck_assert_ptr_nonnull(c2);
	text2 = print_conf(c2);
	ck_assert_str_eq(text, text2);
	conf_free(&c);
	conf_free(&c2);
	free(text);
	free(text2);
	free(path);
}
END_TEST

/* conf_parse_file() on the open file gives what conf_parse() gives. */
START_TEST(test_parse_file_same)
{
	struct conf_errors	 e;
	struct conf		*a, *b;
	FILE			*fp;
	char			*path;
	int			 i;

	for (i = 0; i < n_ok; i++) {
		path = path_join(cfgdir, ok_names[i]);
		a = parse_ok(path);
		if ((fp = fopen(path, "r")) == NULL)
			ck_abort_msg("%s: %s", path, strerror(errno));
		b = conf_parse_file(fp, path, &e);
		fclose(fp);
		ck_assert_ptr_nonnull(b);
		assert_same_conf(a, b);
		assert_same_lines(a, b);
		ck_assert_str_eq(a->c_file, b->c_file);
		conf_free(&a);
		conf_free(&b);
		free(path);
	}
}
END_TEST

/* Start-up then reloads in one process: nothing carries over. */
START_TEST(test_parse_twice)
{
	struct conf_errors	 e1, e2;
	struct conf		*c1, *c2;
	char			*bad, *good, *t1, *t2, *s1, *s2;
	int			 round;

	bad = path_join(cfgdir, "err-dup-key.conf");
	good = path_join(cfgdir, "ok-include.conf");
	c1 = conf_parse(good, &e1);
	ck_assert_ptr_nonnull(c1);
	t1 = print_conf(c1);
	ck_assert_ptr_null(conf_parse(bad, &e1));
	s1 = errors_text(&e1);
	for (round = 0; round < 3; round++) {
		/* a failed parse in the middle leaves nothing behind */
		ck_assert_ptr_null(conf_parse(bad, &e2));
		s2 = errors_text(&e2);
		ck_assert_str_eq(s1, s2);
		ck_assert_int_eq(e1.e_count, e2.e_count);
		free(s2);
		c2 = conf_parse(good, &e2);
		ck_assert_ptr_nonnull(c2);
		ck_assert_int_eq(e2.e_count, 0);
		t2 = print_conf(c2);
		ck_assert_str_eq(t1, t2);
		assert_same_conf(c1, c2);
		ck_assert_int_eq(memcmp(c1, c2, sizeof(*c1)), 0);
		conf_free(&c2);
		free(t2);
	}
	conf_free(&c1);
	free(t1);
	free(s1);
	free(bad);
	free(good);
}
END_TEST

/* Errors past CONF_ERRORS_MAX are counted, not kept; parsing goes on. */
START_TEST(test_many_errors)
{
	struct conf_errors	 e;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*out;
	char			 want[64];
	int			 i;

	if ((out = open_memstream(&buf, &len)) == NULL)
		ck_abort_msg("open_memstream");
	for (i = 0; i < CONF_ERRORS_MAX + 8; i++)
		fprintf(out, "bogus%d\n", i);
	fprintf(out, "workers 0\n");
	fclose(out);
	ck_assert_ptr_null(parse_string(buf, "many.conf", &e));
	ck_assert_int_eq(e.e_count, CONF_ERRORS_MAX + 9);
	ck_assert_str_eq(e.e_msg[0], "many.conf:1: unknown keyword \"bogus0\"");
	snprintf(want, sizeof(want),
	    "many.conf:%d: unknown keyword \"bogus%d\"", CONF_ERRORS_MAX,
	    CONF_ERRORS_MAX - 1);
	ck_assert_str_eq(e.e_msg[CONF_ERRORS_MAX - 1], want);
	free(buf);
}
END_TEST

START_TEST(test_cannot_open)
{
	struct conf_errors	 e;
	char			*path, *want;

	path = path_join(cfgdir, "no-such-file.conf");
	ck_assert_ptr_null(conf_parse(path, &e));
	ck_assert_int_eq(e.e_count, 1);
	if (asprintf(&want, "%s: cannot open: %s", path, strerror(ENOENT)) ==
	    -1)
		ck_abort_msg("out of memory");
	ck_assert_str_eq(e.e_msg[0], want);
	/* errs is optional */
	ck_assert_ptr_null(conf_parse(path, NULL));
	free(want);
	free(path);
}
END_TEST

/* What golden files cannot hold: NUL bytes, a stream's includes. */
START_TEST(test_stream_edges)
{
	static const char	 nul[] = "workers 2\npidfile \"/a\0b\"\n";
	struct conf_errors	 e;
	struct conf		*c;
	FILE			*fp;
	char			*name;

	if ((fp = fmemopen((void *)(uintptr_t)nul, sizeof(nul) - 1, "r")) ==
	    NULL)
		ck_abort_msg("fmemopen");
	ck_assert_ptr_null(conf_parse_file(fp, "nul.conf", &e));
	fclose(fp);
	ck_assert_int_eq(e.e_count, 1);
	ck_assert_str_eq(e.e_msg[0], "nul.conf:2: NUL byte in a string");

	/* includes from a stream are relative to the name's directory */
	name = path_join(cfgdir, "stream.conf");
	c = parse_string("include \"inc-listen.conf\"\nworkers 9", name, &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->c_workers, 9);
	ck_assert_str_eq(c->c_listeners[0].l_addr, "192.0.2.10");
	ck_assert_str_eq(c->c_file, name);
	conf_free(&c);
	free(name);

	/* an empty stream is all defaults */
	c = parse_string("", "-", &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->c_nlisteners, 2);
	conf_free(&c);
}
END_TEST

START_TEST(test_worker_arithmetic)
{
	/* the fd limit, capped to 1000000, less WORKER_FD_RESERVE */
	ck_assert_uint_eq(conf_worker_connections_for(20000), 19900);
	ck_assert_uint_eq(conf_worker_connections_for(1024), 924);
	ck_assert_uint_eq(conf_worker_connections_for(102), 2);
	ck_assert_uint_eq(conf_worker_connections_for(101), 1);
	ck_assert_uint_eq(conf_worker_connections_for(100), 1);
	ck_assert_uint_eq(conf_worker_connections_for(0), 1);
	ck_assert_uint_eq(conf_worker_connections_for(1000000), 999900);
	ck_assert_uint_eq(conf_worker_connections_for(1048576), 999900);
	ck_assert_uint_eq(conf_worker_connections_for(UINT64_MAX), 999900);

	/* max(CPUs, ceil(max-connections / per worker)), 1..WORKERS_MAX */
	ck_assert_uint_eq(conf_workers_for(10000, 19900, 2), 2);
	ck_assert_uint_eq(conf_workers_for(100000, 19900, 2), 6);
	ck_assert_uint_eq(conf_workers_for(99500, 19900, 2), 5);
	ck_assert_uint_eq(conf_workers_for(99501, 19900, 2), 6);
	ck_assert_uint_eq(conf_workers_for(10000, 19900, 8), 8);
	ck_assert_uint_eq(conf_workers_for(1, 1000000, 1), 1);
	ck_assert_uint_eq(conf_workers_for(1, 1000000, 0), 1);
	ck_assert_uint_eq(conf_workers_for(1, 1000000, -1), 1);
	ck_assert_uint_eq(conf_workers_for(10000000, 1, 4), WORKERS_MAX);
	ck_assert_uint_eq(conf_workers_for(10000, 1, 1024), WORKERS_MAX);
	ck_assert_uint_eq(conf_workers_for(257, 1, 1), WORKERS_MAX);
	ck_assert_uint_eq(conf_workers_for(256, 1, 1), 256);
}
END_TEST

START_TEST(test_worker_numbers)
{
	struct conf	c;
	struct rlimit	rl;
	long		ncpu;
	uint32_t	want;

	conf_defaults(&c);
	c.c_workers = 7;
	ck_assert_uint_eq(conf_workers(&c), 7);
	c.c_worker_connections = 500;
	ck_assert_uint_eq(conf_worker_connections(&c), 500);

	/* auto workers, explicit connections: 10000 / 500 = 20 */
	c.c_workers = 0;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	want = ncpu > 20 ? (uint32_t)ncpu : 20;
	if (want > WORKERS_MAX)
		want = WORKERS_MAX;
	ck_assert_uint_eq(conf_workers(&c), want);
	c.c_max_connections = 10000000;
	ck_assert_uint_eq(conf_workers(&c), WORKERS_MAX);

	/* auto connections follow this process's hard fd limit */
	c.c_worker_connections = 0;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	want = conf_worker_connections_for(rl.rlim_max == RLIM_INFINITY ?
	    UINT64_MAX : (uint64_t)rl.rlim_max);
	ck_assert_uint_eq(conf_worker_connections(&c), want);
	c.c_max_connections = 1;
	ck_assert_uint_eq(conf_workers(&c),
	    conf_workers_for(1, want, ncpu));
}
END_TEST

START_TEST(test_names)
{
	char	buf[CONF_DURATION_LEN], sbuf[CONF_SIZE_LEN];
	int	r;

	for (r = 0; r < ROLE_MAX; r++)
		ck_assert_int_eq(role_from_name(role_name(r)), r);
	ck_assert_str_eq(role_name(ROLE_SUPERVISOR), "supervisor");
	ck_assert_str_eq(role_name(ROLE_WORKER), "worker");
	ck_assert_str_eq(role_name(ROLE_AGENT), "agent");
	ck_assert_str_eq(role_name(ROLE_RUNNER), "runner");
	ck_assert_int_eq(role_from_name("nobody"), -1);
	ck_assert_int_eq(role_from_name(""), -1);
	ck_assert_str_eq(role_name(ROLE_MAX), "unknown");

	ck_assert_str_eq(conf_strategy_name(STRATEGY_ONE_FOR_ONE),
	    "one_for_one");
	ck_assert_str_eq(conf_strategy_name(STRATEGY_ONE_FOR_ALL),
	    "one_for_all");
	ck_assert_str_eq(conf_strategy_name(STRATEGY_REST_FOR_ONE),
	    "rest_for_one");
	ck_assert_str_eq(conf_strategy_name(STRATEGY_SIMPLE_ONE_FOR_ONE),
	    "simple_one_for_one");
	ck_assert_str_eq(conf_restart_name(RESTART_PERMANENT), "permanent");
	ck_assert_str_eq(conf_restart_name(RESTART_TRANSIENT), "transient");
	ck_assert_str_eq(conf_restart_name(RESTART_TEMPORARY), "temporary");
	ck_assert_str_eq(conf_listen_kind_name(LISTEN_HTTP), "http");
	ck_assert_str_eq(conf_listen_kind_name(LISTEN_ADMIN), "admin");
	ck_assert_str_eq(conf_auto_shutdown_name(AUTO_SHUTDOWN_NEVER),
	    "never");
	ck_assert_str_eq(conf_auto_shutdown_name(
	    AUTO_SHUTDOWN_ANY_SIGNIFICANT), "any_significant");
	ck_assert_str_eq(conf_auto_shutdown_name(
	    AUTO_SHUTDOWN_ALL_SIGNIFICANT), "all_significant");

	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 1), "1ms");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 1500), "1500ms");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 2000), "2s");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 90000), "90s");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 120000), "2m");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 5400000), "90m");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 86400000), "24h");
	ck_assert_str_eq(conf_fmt_duration(buf, sizeof(buf), 0), "0ms");

	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 0), "0");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 1), "1");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 1023), "1023");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 1024), "1K");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 1536), "1536");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 8192), "8K");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 1536 * 1024),
	    "1536K");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 4194304), "4M");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 1ULL << 30), "1G");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), 5ULL << 40),
	    "5120G");
	ck_assert_str_eq(conf_fmt_size(sbuf, sizeof(sbuf), UINT64_MAX),
	    "18446744073709551615");
}
END_TEST

static int
golden_filter(const struct dirent *d, const char *prefix)
{
	size_t	len = strlen(d->d_name);

	return strncmp(d->d_name, prefix, strlen(prefix)) == 0 && len > 5 &&
	    strcmp(d->d_name + len - 5, ".conf") == 0;
}

static int
ok_filter(const struct dirent *d)
{
	return golden_filter(d, "ok-");
}

static int
err_filter(const struct dirent *d)
{
	return golden_filter(d, "err-");
}

static int
list_golden(int (*filter)(const struct dirent *), char **names)
{
	struct dirent	**ents;
	int		  i, n;

	if ((n = scandir(cfgdir, &ents, filter, alphasort)) == -1) {
		fprintf(stderr, "%s: %s\n", cfgdir, strerror(errno));
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (i < GOLDEN_MAX)
			names[i] = xstrdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return n < GOLDEN_MAX ? n : GOLDEN_MAX;
}

static Suite *
conf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("conf");

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_add_test(tc, test_golden_present);
	tcase_add_loop_test(tc, test_ok_file, 0, n_ok);
	tcase_add_loop_test(tc, test_err_file, 0, n_err);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_http_keys);
	tcase_add_test(tc, test_plugin_relative);
	tcase_add_loop_test(tc, test_bad_value, 0,
	    (int)(sizeof(bad_values) / sizeof(bad_values[0])));
	tcase_add_loop_test(tc, test_good_value, 0,
	    (int)(sizeof(good_values) / sizeof(good_values[0])));
	tcase_add_test(tc, test_allow_check);
	tcase_add_test(tc, test_scope_lists);
	tcase_add_test(tc, test_catalog);
	tcase_add_test(tc, test_resource_paths);
	tcase_add_test(tc, test_user_lookup);
	tcase_add_test(tc, test_catalog_max);
	tcase_add_loop_test(tc, test_catalog_limits, 0, 3);
	tcase_add_loop_test(tc, test_bad_item, 0,
	    (int)(sizeof(bad_items) / sizeof(bad_items[0])));
	tcase_add_loop_test(tc, test_good_item, 0,
	    (int)(sizeof(good_items) / sizeof(good_items[0])));
	tcase_add_test(tc, test_etc_catalog);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_etc_conf);
	tcase_add_test(tc, test_parse_file_same);
	tcase_add_test(tc, test_parse_twice);
	tcase_add_test(tc, test_many_errors);
	tcase_add_test(tc, test_cannot_open);
	tcase_add_test(tc, test_stream_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("workers");
	tcase_add_test(tc, test_worker_arithmetic);
	tcase_add_test(tc, test_worker_numbers);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed, i;

	if ((srcdir = getenv("srcdir")) == NULL || *srcdir == '\0')
		srcdir = ".";
	snprintf(cfgdir, sizeof(cfgdir), "%s/tests/config/", srcdir);
	/* the examples name paths of no machine: test_resource_paths looks */
	conf_check_paths = 0;
	n_ok = list_golden(ok_filter, ok_names);
	n_err = list_golden(err_filter, err_names);

	sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < n_ok; i++)
		free(ok_names[i]);
	for (i = 0; i < n_err; i++)
		free(err_names[i]);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
