/*
 * check_metrics.c -- the scoreboard's histograms and counters: buckets
 * cover 1 us to 67 s with at most 1/128 relative error, merging is exact,
 * percentiles of a known distribution, retired slots keep their counts,
 * and the Prometheus text adds up.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "metrics.h"
#include "scoreboard.h"

START_TEST(buckets)
{
	uint64_t	v, lo, hi;
	unsigned	b, prev = 0;

	/* every value lands in a bucket whose bounds hold it */
	for (v = 0; v < (1ULL << 26); v += 1 + v / 97) {
		b = mx_bucket(v);
		ck_assert_uint_lt(b, MX_HIST_BUCKETS);
		ck_assert_uint_ge(b, prev);		/* monotonic */
		prev = b;
		lo = mx_bucket_low(b);
		hi = mx_bucket_high(b);
		ck_assert_msg(lo <= v && v <= hi, "%llu in [%llu, %llu]",
		    (unsigned long long)v, (unsigned long long)lo,
		    (unsigned long long)hi);
		/* the width of a bucket is at most 1/128 of its values */
		ck_assert_msg((hi - lo) * 128 <= lo || hi < 256,
		    "bucket %u [%llu, %llu] too wide", b,
		    (unsigned long long)lo, (unsigned long long)hi);
	}
	/* the buckets tile the range without gaps */
	for (b = 1; b < MX_HIST_BUCKETS; b++)
		ck_assert_uint_eq(mx_bucket_low(b), mx_bucket_high(b - 1) + 1);
	ck_assert_uint_eq(mx_bucket(MX_HIST_MAX_US), MX_HIST_BUCKETS - 1);
	ck_assert_uint_eq(mx_bucket(60ULL * 1000000), mx_bucket(60000000));
	ck_assert_uint_eq(mx_bucket(~0ULL), MX_HIST_BUCKETS - 1);
}
END_TEST

START_TEST(quantiles_and_merge)
{
	struct sb_metrics	*a, *b, *sum;
	uint64_t		 v, q;
	unsigned		 i;

	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	sum = calloc(1, sizeof(*sum));
	/* 1..10000 us, split between two processes */
	for (v = 1; v <= 10000; v++)
		mx_request(v & 1 ? a : b, MX_TOOLS_CALL, MX_OK, v);
	mx_merge(sum, a);
	mx_merge(sum, b);
	ck_assert_uint_eq(sum->m_req[MX_TOOLS_CALL][MX_OK], 10000);
	ck_assert_uint_eq(sum->m_lat[MX_TOOLS_CALL].h_count, 10000);
	ck_assert_uint_eq(sum->m_lat[MX_TOOLS_CALL].h_sum_us,
	    10000ULL * 10001 / 2);
	for (i = 0; i < MX_HIST_BUCKETS; i++)
		ck_assert_uint_eq(sum->m_lat[MX_TOOLS_CALL].h_b[i],
		    a->m_lat[MX_TOOLS_CALL].h_b[i] +
		    b->m_lat[MX_TOOLS_CALL].h_b[i]);
	/* percentiles within 1 % of the true ones */
	q = mx_hist_quantile(&sum->m_lat[MX_TOOLS_CALL], 0.50);
	ck_assert_msg(q >= 4950 && q <= 5050, "p50 %llu", (unsigned long long)q);
	q = mx_hist_quantile(&sum->m_lat[MX_TOOLS_CALL], 0.99);
	ck_assert_msg(q >= 9801 && q <= 9999, "p99 %llu", (unsigned long long)q);
	q = mx_hist_quantile(&sum->m_lat[MX_TOOLS_CALL], 1.0);
	ck_assert_msg(q >= 9922 && q <= 10078, "max %llu",
	    (unsigned long long)q);
	ck_assert_uint_eq(mx_hist_quantile(&sum->m_lat[MX_PING], 0.5), 0);
	free(a);
	free(b);
	free(sum);
}
END_TEST

START_TEST(methods)
{
	ck_assert_int_eq(mx_method_of("tools/call"), MX_TOOLS_CALL);
	ck_assert_int_eq(mx_method_of("tasks/get"), MX_TASKS);
	ck_assert_int_eq(mx_method_of("server/discover"), MX_DISCOVER);
	ck_assert_int_eq(mx_method_of("nope"), MX_OTHER);
	ck_assert_str_eq(mx_method_name(MX_RESOURCES_TEMPLATES_LIST),
	    "resources/templates/list");
}
END_TEST

/* the count of a line "name{labels} N" in Prometheus text, or -1 */
static long long
metric(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

START_TEST(retire_and_prometheus)
{
	struct scoreboard	 sb;
	struct sb_metrics	*m;
	char			*text;
	size_t			 len;
	int			 i;

	ck_assert_int_eq(sb_create(&sb), 0);
	SB_SET(&sb.sb_slots[3], s_state, SB_READY);
	m = sb_metrics_of(&sb, &sb.sb_slots[3]);
	for (i = 0; i < 7; i++)
		mx_request(m, MX_TOOLS_CALL, MX_OK, 100);
	mx_request(m, MX_TOOLS_CALL, MX_ERROR, 3000);
	MX_ADD(&m->m_rejected[MX_R_OUTPUT], 2);
	text = mx_prometheus(&sb, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(metric(text, "mcpd_requests_total{mcp_method_name="
	    "\"tools/call\",outcome=\"ok\"}"), 7);
	ck_assert_int_eq(metric(text, "mcpd_requests_total{mcp_method_name="
	    "\"tools/call\",outcome=\"error\"}"), 1);
	ck_assert_int_eq(metric(text, "mcpd_rejections_total{reason="
	    "\"output\"}"), 2);
	ck_assert_int_eq(metric(text, "mcp_server_operation_duration_seconds"
	    "_bucket{mcp_method_name=\"tools/call\",le=\"0.0001\"}"), 7);
	ck_assert_int_eq(metric(text, "mcp_server_operation_duration_seconds"
	    "_bucket{mcp_method_name=\"tools/call\",le=\"0.0025\"}"), 7);
	ck_assert_int_eq(metric(text, "mcp_server_operation_duration_seconds"
	    "_bucket{mcp_method_name=\"tools/call\",le=\"0.005\"}"), 8);
	ck_assert_int_eq(metric(text, "mcp_server_operation_duration_seconds"
	    "_count{mcp_method_name=\"tools/call\"}"), 8);
	free(text);
	/* the slot is freed: its counts stay, in the supervisor's slot */
	sb_clear(&sb, 3);
	ck_assert_uint_eq(MX_GET(&m->m_req[MX_TOOLS_CALL][MX_OK]), 0);
	text = mx_prometheus(&sb, &len);
	ck_assert_int_eq(metric(text, "mcpd_requests_total{mcp_method_name="
	    "\"tools/call\",outcome=\"ok\"}"), 7);
	ck_assert_int_eq(metric(text, "mcp_server_operation_duration_seconds"
	    "_count{mcp_method_name=\"tools/call\"}"), 8);
	free(text);
	text = mx_json(&sb, &len);
	ck_assert_ptr_nonnull(strstr(text, "\"tools/call\":{\"ok\":7,"
	    "\"error\":1,"));
	free(text);
	text = mx_table(&sb, &len);
	ck_assert_ptr_nonnull(strstr(text, "tools/call"));
	free(text);
	sb_detach(&sb);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*t = tcase_create("metrics");

	tcase_add_test(t, buckets);
	tcase_add_test(t, quantiles_and_merge);
	tcase_add_test(t, methods);
	tcase_add_test(t, retire_and_prometheus);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner	*r = srunner_create(suite());
	int	 failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
