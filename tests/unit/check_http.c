/*
 * check_http.c -- the rules of a request head (worker/head.c) and the
 * hand-over's record of it (worker/peer.c), without a socket: limits,
 * repeated headers, values kept whole, the Mcp-* headers, and a head that
 * survives packing and unpacking exactly.
 */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "head.h"
#include "worker.h"

#define MAX	8192

static struct rhead	h;

static void
setup(void)
{
	head_init(&h, MAX);
}

START_TEST(known_headers_kept_and_trimmed)
{
	ck_assert_int_eq(head_url(&h, "/mcp?x=1", 8), 0);
	ck_assert_int_eq(head_add(&h, "host", "  127.0.0.1:8080 \t"), 0);
	ck_assert_int_eq(head_add(&h, "MCP-PROTOCOL-VERSION", "2026-07-28"), 0);
	ck_assert_int_eq(head_add(&h, "Mcp-Method", " tools/call "), 0);
	ck_assert_int_eq(head_add(&h, "X-Other", "ignored"), 0);
	ck_assert_str_eq(head_get(&h, HH_HOST), "127.0.0.1:8080");
	ck_assert_str_eq(head_get(&h, HH_PROTO), "2026-07-28");
	ck_assert_str_eq(head_get(&h, HH_METHOD), "tools/call");
	ck_assert(head_has(&h, HH_METHOD));
	ck_assert(!head_has(&h, HH_NAME));
	ck_assert_str_eq(head_get(&h, HH_NAME), "");
	ck_assert(head_path_is(&h, "/mcp"));
	ck_assert(!head_path_is(&h, "/mc"));
	ck_assert(!head_path_is(&h, "/mcp/x"));
}
END_TEST

START_TEST(pieces_join)
{
	ck_assert_int_eq(head_field(&h, "Mcp-Ses", 7), 0);
	ck_assert_int_eq(head_field(&h, "sion-Id", 7), 0);
	ck_assert_int_eq(head_value(&h, "ab", 2), 0);
	ck_assert_int_eq(head_value(&h, "cd ", 3), 0);
	ck_assert_int_eq(head_field(&h, "Origin", 6), 0);
	ck_assert_int_eq(head_value(&h, "", 0), 0);	/* empty, but sent */
	ck_assert_int_eq(head_end(&h), 0);
	ck_assert_str_eq(head_get(&h, HH_SID), "abcd");
	ck_assert(head_has(&h, HH_ORIGIN));
	ck_assert_str_eq(head_get(&h, HH_ORIGIN), "");
}
END_TEST

static const char *const singletons[] = {
	"Host", "Origin", "Content-Type", "Mcp-Session-Id",
	"MCP-Protocol-Version", "Last-Event-ID", "Mcp-Method", "Mcp-Name",
	"Authorization", "Mcp-Param-Region"
};

START_TEST(a_singleton_comes_once)
{
	const char	*name = singletons[_i];
	char		 upper[64], why[160];
	size_t		 k;

	for (k = 0; name[k] != '\0'; k++)
		upper[k] = (char)toupper((unsigned char)name[k]);
	upper[k] = '\0';
	ck_assert_int_eq(head_add(&h, name, "a"), 0);
	ck_assert_int_eq(head_add(&h, upper, "b"), -1);
	ck_assert_int_eq(h.rh_err, HEAD_E_REPEATED);
	ck_assert_int_eq(head_status(&h), 400);
	head_why(&h, why, sizeof(why));
	ck_assert_msg(strcasestr(why, name) != NULL, "%s names %s", why, name);
	/* refused: nothing more is taken */
	ck_assert_int_eq(head_add(&h, "Accept", "x"), -1);
}
END_TEST

START_TEST(a_list_is_joined)
{
	ck_assert_int_eq(head_add(&h, "Accept", "application/json"), 0);
	ck_assert_int_eq(head_add(&h, "accept", "text/event-stream"), 0);
	ck_assert_str_eq(head_get(&h, HH_ACCEPT),
	    "application/json, text/event-stream");
	ck_assert(head_list_has(head_get(&h, HH_ACCEPT), "TEXT/event-stream"));
	ck_assert(!head_list_has(head_get(&h, HH_ACCEPT), "text/html"));
}
END_TEST

START_TEST(past_max_header_size)
{
	char	big[1024], why[160];
	int	i, rv = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 9 && rv == 0; i++)
		rv = head_add(&h, "X-Filler", big);
	ck_assert_int_eq(rv, -1);
	ck_assert_int_eq(h.rh_err, HEAD_E_TOO_BIG);
	ck_assert_int_eq(head_status(&h), 431);
	ck_assert(strstr(head_why(&h, why, sizeof(why)), "8192") != NULL);
}
END_TEST

START_TEST(a_value_kept_whole_or_refused)
{
	char	sid[200], why[160];

	memset(sid, 'a', sizeof(sid) - 1);
	sid[sizeof(sid) - 1] = '\0';
	ck_assert_int_eq(head_add(&h, "Mcp-Session-Id", sid), -1);
	ck_assert_int_eq(h.rh_err, HEAD_E_VALUE_LONG);
	ck_assert_int_eq(head_status(&h), 431);
	ck_assert(strstr(head_why(&h, why, sizeof(why)), "Mcp-Session-Id") !=
	    NULL);
	/* the longest that fits is kept */
	head_init(&h, MAX);
	sid[MCP_SID_MAX_CHARS + 1] = '\0';
	ck_assert_int_eq(head_add(&h, "Mcp-Session-Id", sid), 0);
	ck_assert_uint_eq(strlen(head_get(&h, HH_SID)), MCP_SID_MAX_CHARS + 1);
}
END_TEST

START_TEST(mcp_params)
{
	struct mcp_headers	mh;
	char			name[64], value[8];
	int			i;

	for (i = 0; i < MCP_PARAM_HEADERS_MAX; i++) {
		snprintf(name, sizeof(name), "Mcp-Param-P%d", i);
		snprintf(value, sizeof(value), " v%d ", i);
		ck_assert_int_eq(head_add(&h, name, value), 0);
	}
	ck_assert(!h.rh_params_over);
	head_mcp_headers(&h, &mh);
	ck_assert_uint_eq(mh.h_nparams, MCP_PARAM_HEADERS_MAX);
	ck_assert_str_eq(mh.h_pname[3], "P3");
	ck_assert_str_eq(mh.h_pvalue[3], "v3");
	ck_assert(!mh.h_too_many);
	/* one more than the engine takes: flagged, not refused here */
	ck_assert_int_eq(head_add(&h, "Mcp-Param-Extra", "v"), 0);
	ck_assert(h.rh_params_over);
	head_mcp_headers(&h, &mh);
	ck_assert(mh.h_too_many);
}
END_TEST

START_TEST(mcp_params_bytes)
{
	char *v = malloc(MCP_PARAM_HEADER_BYTES + 1);

	memset(v, 'x', MCP_PARAM_HEADER_BYTES);
	v[MCP_PARAM_HEADER_BYTES] = '\0';
	ck_assert_int_eq(head_add(&h, "Mcp-Param-Wide", v), 0);
	ck_assert(h.rh_params_over);
	free(v);
	/* a name longer than any kept may not hide a parameter */
	head_init(&h, MAX);
	v = malloc(HEAD_NAME_BYTES + 20);
	memcpy(v, "Mcp-Param-", 10);
	memset(v + 10, 'n', HEAD_NAME_BYTES);
	v[HEAD_NAME_BYTES + 10] = '\0';
	ck_assert_int_eq(head_add(&h, v, "x"), 0);
	ck_assert(h.rh_params_over);
	free(v);
}
END_TEST

START_TEST(mcp_headers_of_the_engine)
{
	struct mcp_headers mh;

	head_mcp_headers(&h, &mh);
	ck_assert_ptr_null(mh.h_version);
	ck_assert_ptr_null(mh.h_method);
	ck_assert_ptr_null(mh.h_name);
	ck_assert_int_eq(head_add(&h, "Mcp-Name", ""), 0);
	ck_assert_int_eq(head_add(&h, "MCP-Protocol-Version", "2026-07-28"),
	    0);
	head_mcp_headers(&h, &mh);
	ck_assert_str_eq(mh.h_name, "");	/* sent empty: not absent */
	ck_assert_str_eq(mh.h_version, "2026-07-28");
}
END_TEST

START_TEST(a_name_is_a_token)
{
	char why[160];

	ck_assert_int_eq(head_field(&h, "Host ", 5), -1);
	ck_assert_int_eq(h.rh_err, HEAD_E_BAD_NAME);
	ck_assert_int_eq(head_status(&h), 400);
	ck_assert(strstr(head_why(&h, why, sizeof(why)), "token") != NULL);
	head_init(&h, MAX);
	ck_assert_int_eq(head_field(&h, "Ho", 2), 0);
	ck_assert_int_eq(head_field(&h, "st\t", 3), -1);	/* in pieces too */
	head_init(&h, MAX);
	ck_assert_int_eq(head_add(&h, "X(y)", "z"), -1);
}
END_TEST

START_TEST(absolute_form)
{
	ck_assert_int_eq(head_url(&h, "http://127.0.0.1:8080/mcp?a=1", 29),
	    0);
	ck_assert_int_eq(head_add(&h, "Host", "evil.example"), 0);
	ck_assert(head_path_is(&h, "/mcp"));
	ck_assert_str_eq(head_host(&h), "127.0.0.1:8080");
	head_init(&h, MAX);
	ck_assert_int_eq(head_url(&h, "HTTPS://a.example", 17), 0);
	ck_assert_int_eq(head_end(&h), 0);
	ck_assert_str_eq(head_host(&h), "a.example");
	ck_assert(!head_path_is(&h, "/mcp"));
	head_init(&h, MAX);
	ck_assert_int_eq(head_url(&h, "/mcp", 4), 0);
	ck_assert_int_eq(head_add(&h, "Host", "127.0.0.1"), 0);
	ck_assert_str_eq(head_host(&h), "127.0.0.1");
}
END_TEST

START_TEST(transfer_encoding_and_expect)
{
	ck_assert_int_eq(head_add(&h, "Transfer-Encoding", "gzip"), 0);
	ck_assert_int_eq(head_add(&h, "transfer-encoding", "chunked"), 0);
	ck_assert(head_has(&h, HH_TE));
	ck_assert_str_eq(head_get(&h, HH_TE), "gzip, chunked");
	ck_assert_int_eq(head_add(&h, "Expect", "100-continue"), 0);
	ck_assert_int_eq(head_add(&h, "Expect", "100-continue"), -1);
}
END_TEST

/* The hand-over's record */

struct seen {
	char	text[16384];
	size_t	len;
};

static int
collect(void *arg, const char *name, const char *value)
{
	struct seen *s = arg;

	s->len += snprintf(s->text + s->len, sizeof(s->text) - s->len,
	    "%s=%s\n", name, value);
	return 0;
}

static void
full_head(struct rhead *r)
{
	head_init(r, MAX);
	ck_assert_int_eq(head_url(r, "/mcp", 4), 0);
	ck_assert_int_eq(head_add(r, "Host", "127.0.0.1:8080"), 0);
	ck_assert_int_eq(head_add(r, "Origin", "http://127.0.0.1"), 0);
	ck_assert_int_eq(head_add(r, "Accept", "application/json"), 0);
	ck_assert_int_eq(head_add(r, "Accept", "text/event-stream"), 0);
	ck_assert_int_eq(head_add(r, "Content-Type", "application/json"), 0);
	ck_assert_int_eq(head_add(r, "Mcp-Session-Id", "AQAB-sid"), 0);
	ck_assert_int_eq(head_add(r, "MCP-Protocol-Version", "2026-07-28"),
	    0);
	ck_assert_int_eq(head_add(r, "Last-Event-ID", "1-2-3"), 0);
	ck_assert_int_eq(head_add(r, "Mcp-Method", "tasks/get"), 0);
	ck_assert_int_eq(head_add(r, "Mcp-Name", "=?base64?dGFzaw==?="), 0);
	ck_assert_int_eq(head_add(r, "Authorization", "Bearer abc.def.ghi"),
	    0);
	ck_assert_int_eq(head_add(r, "Mcp-Param-Region", "eu-west"), 0);
	ck_assert_int_eq(head_add(r, "Mcp-Param-Count", "42"), 0);
}

START_TEST(record_round_trip)
{
	static struct rhead	a, b;
	static struct seen	sa, sb;
	char			buf[PEER_HEAD_MAX_BYTES];
	size_t			n;

	full_head(&a);
	a.rh_params_over = 1;
	ck_assert((n = handoff_head_pack(&a, buf, sizeof(buf))) > 0);
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, buf, n), 0);
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	head_each(&a, collect, &sa);
	head_each(&b, collect, &sb);
	ck_assert_str_eq(sa.text, sb.text);
	ck_assert(strstr(sb.text, "Authorization=Bearer abc.def.ghi\n"));
	ck_assert(strstr(sb.text, "Mcp-Param-Region=eu-west\n"));
	ck_assert(strstr(sb.text, "Mcp-Param-Count=42\n"));
	ck_assert(strstr(sb.text,
	    "Accept=application/json, text/event-stream\n"));
	ck_assert_str_eq(b.rh_url, "/mcp");
	ck_assert(b.rh_params_over);
	ck_assert(!b.rh_url_long);
	ck_assert_uint_eq(a.rh_seen, b.rh_seen);
	ck_assert_uint_eq(a.rh_nparams, b.rh_nparams);
}
END_TEST

START_TEST(record_too_small)
{
	static struct rhead	a;
	char			buf[64];

	full_head(&a);
	ck_assert_uint_eq(handoff_head_pack(&a, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(record_corrupt)
{
	static struct rhead	a, b;
	char			buf[PEER_HEAD_MAX_BYTES];
	size_t			n;

	full_head(&a);
	n = handoff_head_pack(&a, buf, sizeof(buf));
	/* cut anywhere: a name without its value, or no NUL at the end */
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, buf, n - 1), -1);
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, buf, 1), -1);
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, buf, 0), -1);
	/* a repeated header in a record: the rules hold on arrival too */
	memcpy(buf + n, "Host\0x\0", 7);
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, buf, n + 7), -1);
	/* a flags field of another length */
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, "@@\0/mcp\0", 8), -1);
	ck_assert_int_eq(handoff_head_unpack(&b, MAX, "@\0/mcp\0", 7), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("head");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, known_headers_kept_and_trimmed);
	tcase_add_test(tc, pieces_join);
	tcase_add_loop_test(tc, a_singleton_comes_once, 0,
	    sizeof(singletons) / sizeof(singletons[0]));
	tcase_add_test(tc, a_list_is_joined);
	tcase_add_test(tc, past_max_header_size);
	tcase_add_test(tc, a_value_kept_whole_or_refused);
	tcase_add_test(tc, mcp_params);
	tcase_add_test(tc, mcp_params_bytes);
	tcase_add_test(tc, mcp_headers_of_the_engine);
	tcase_add_test(tc, a_name_is_a_token);
	tcase_add_test(tc, absolute_form);
	tcase_add_test(tc, transfer_encoding_and_expect);
	suite_add_tcase(s, tc);
	tc = tcase_create("record");
	tcase_add_test(tc, record_round_trip);
	tcase_add_test(tc, record_too_small);
	tcase_add_test(tc, record_corrupt);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
