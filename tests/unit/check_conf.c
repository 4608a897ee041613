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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "mcpd.h"

#define GOLDEN_MAX	128	/* golden cases of one kind */

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

/* Equal but for c_file and the listeners' lines. */
static void
assert_same_conf(const struct conf *a, const struct conf *b)
{
	struct conf	x, y;
	uint32_t	i;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));

	memset(x.c_file, 0, sizeof(x.c_file));
	memset(y.c_file, 0, sizeof(y.c_file));
	for (i = 0; i < CONF_LISTENERS_MAX; i++)
		x.c_listeners[i].l_line = y.c_listeners[i].l_line = 0;
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
	ck_assert_int_eq(c.c_strategy, STRATEGY_ONE_FOR_ONE);
	ck_assert_uint_eq(c.c_restart_intensity, DEF_RESTART_INTENSITY);
	ck_assert_uint_eq(c.c_restart_period_ms, DEF_RESTART_PERIOD_MS);
	ck_assert_uint_eq(c.c_throttle_min_ms, DEF_THROTTLE_MIN_MS);
	ck_assert_uint_eq(c.c_throttle_max_ms, DEF_THROTTLE_MAX_MS);
	ck_assert_uint_eq(c.c_throttle_reset_ms, DEF_THROTTLE_RESET_MS);
	ck_assert_uint_eq(c.c_ready_timeout_ms, DEF_READY_TIMEOUT_MS);
	ck_assert_uint_eq(c.c_drain_timeout_ms, DEF_DRAIN_TIMEOUT_MS);
	ck_assert_int_eq(c.c_auto_shutdown, AUTO_SHUTDOWN_NEVER);
	for (r = 0; r < ROLE_MAX; r++) {
		ck_assert_int_eq(c.c_spec[r].s_restart, RESTART_PERMANENT);
		ck_assert_uint_eq(c.c_spec[r].s_shutdown_ms,
		    DEF_SHUTDOWN_TIMEOUT_MS);
		ck_assert_int_eq(c.c_spec[r].s_significant, 0);
	}
	ck_assert_uint_eq(c.c_nlisteners, 0);
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

START_TEST(test_golden_present)
{
	/* a wrong srcdir must not pass by testing nothing */
	ck_assert_int_ge(n_ok, 8);
	ck_assert_int_ge(n_err, 25);
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
	ck_assert_int_eq(c->c_auto_shutdown, AUTO_SHUTDOWN_ALL_SIGNIFICANT);

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
		ck_assert_msg(memcmp(a, b, sizeof(*a)) == 0, "%s", path);
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
	char	buf[CONF_DURATION_LEN];
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
