/*
 * check_jsonrpc.c -- the JSON-RPC 2.0 layer and the session-era method
 * table of the engine, without a process or a transport: a stub stream
 * collects what the engine sends.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "mcp.h"
#include "mcp_int.h"

#define OUT_MAX		16

static struct ev_loop		*loop;
static struct mcp_server	*srv;
static char			*out[OUT_MAX];
static int			 nout, finals, refs;

static void
st_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
	ck_assert_int_lt(nout, OUT_MAX);
	out[nout] = strndup(json ? json : "", len);
	nout++;
	finals += final;
}

static void
st_ref(struct mcp_stream *st)
{
	refs++;
}

static void
st_unref(struct mcp_stream *st)
{
	refs--;
}

static const struct mcp_stream_ops ops = { st_send, st_ref, st_unref, NULL };
static struct mcp_stream stream = { &ops, NULL, 0 };

static void
echo_tool(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	char text[64];

	if (mcpd_json_string(args, len, "/text", text, sizeof(text)) == -1)
		mcpd_call_result_text(c, "no text", 1);
	else
		mcpd_call_result_text(c, text, 0);
}

static void
later_done(struct mcpd_call *c, void *arg)
{
	mcpd_call_result(c, "{\"content\":[]}");
}

static void
later_tool(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	mcpd_call_after(c, 1, later_done, NULL);
}

static void
setup(void)
{
	struct mcpd_host	 h;
	struct mcpd_tool	 t;
	unsigned char		 key[32] = { 1 };
	int			 i;

	loop = ev_default_loop(0);
	srv = mcp_server_new(loop, "mcpd", "test");
	ck_assert_ptr_nonnull(srv);
	mcp_server_set_key(srv, key, 0);
	h.h_srv = srv;
	h.h_name = "test";
	h.h_owner = CAT_PLUGIN;
	memset(&t, 0, sizeof(t));
	t.name = "echo";
	t.description = "echo";
	t.input_schema = "{\"type\":\"object\"}";
	t.call = echo_tool;
	ck_assert_int_eq(mcpd_register_tool(&h, &t), 0);
	ck_assert_int_eq(mcpd_register_tool(&h, &t), -1);	/* duplicate */
	t.name = "later";
	t.call = later_tool;
	ck_assert_int_eq(mcpd_register_tool(&h, &t), 0);
	t.name = "bad";
	t.input_schema = "[1]";
	ck_assert_int_eq(mcpd_register_tool(&h, &t), -1);	/* not object */
	for (i = 0; i < nout; i++)
		free(out[i]);
	nout = finals = refs = 0;
}

static void
teardown(void)
{
	int i;

	mcp_server_free(&srv);
	for (i = 0; i < nout; i++)
		free(out[i]);
	nout = 0;
}

/* Run one message; returns the disposition, or -1 on a parse error. */
static int
run(struct mcp_session **s, const char *text)
{
	struct mcp_msg	m;
	struct jw	*w = mcp_server_out(srv);

	if (mcp_msg_parse(srv, &m, text, strlen(text)) == -1) {
		out[nout++] = strndup(w->buf, w->len);
		return -1;
	}
	return mcp_dispatch(srv, s, &m, &stream);
}

static const char *
last(void)
{
	ck_assert_int_gt(nout, 0);
	return out[nout - 1];
}

#define HAS(s)	ck_assert_msg(strstr(last(), (s)) != NULL, \
		    "%s not in %s", (s), last())

static struct mcp_session *
initialized(const char *version)
{
	struct mcp_session	*s = NULL;
	char			 msg[256];

	snprintf(msg, sizeof(msg), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
	    "\"version\":\"1\"}}}", version);
	ck_assert_int_eq(run(&s, msg), MCP_DONE);
	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(test_parse_errors)
{
	struct mcp_session *s = NULL;

	ck_assert_int_eq(run(&s, "{"), -1);
	HAS("\"code\":-32700");
	HAS("\"id\":null");
	ck_assert_int_eq(run(&s, "[1,]"), -1);
	HAS("-32700");
	ck_assert_int_eq(run(&s, "42"), -1);
	HAS("-32600");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"1.0\",\"id\":1,"
	    "\"method\":\"ping\"}"), -1);
	HAS("-32600");
	HAS("\"id\":1");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":null,"
	    "\"method\":\"ping\"}"), -1);
	HAS("-32600");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":{},"
	    "\"method\":\"ping\"}"), -1);
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":7}"), -1);
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\",\"params\":3}"), -1);
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{},\"error\":{}}"), -1);
	/* a name cut at \u0000 would be another: tools/list is not run */
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":9,"
	    "\"method\":\"tools/list\\u0000x\"}"), -1);
	HAS("-32600");
	HAS("NUL");
	HAS("\"id\":9");
	/* a key twice: a gateway would read the last, we would the first */
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"method\":\"tools/call\"}"), -1);
	HAS("-32600");
	HAS("a key twice");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
	    "\"arguments\":{\"a\":1,\"\\u0061\":2}}}"), -1);
	HAS("-32600");
}
END_TEST

START_TEST(test_ids_and_kinds)
{
	struct mcp_session *s = initialized("2025-11-25");

	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\","
	    "\"method\":\"ping\"}"), MCP_DONE);
	HAS("\"id\":\"a\\\"b\"");
	HAS("\"result\":{}");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":-7.5e3,"
	    "\"method\":\"ping\"}"), MCP_DONE);
	HAS("\"id\":-7.5e3");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/initialized\"}"), MCP_ACCEPTED);
	/* a response to a request we never sent: accepted, ignored */
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":99,"
	    "\"result\":{}}"), MCP_ACCEPTED);
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":5,"
	    "\"method\":\"no/such\"}"), MCP_DONE);
	HAS("\"code\":-32601");
	HAS("\"id\":5");
	ck_assert_int_eq(run(&s, "[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"}]"), MCP_DONE);
	HAS("-32600");
}
END_TEST

START_TEST(test_negotiation)
{
	struct mcp_session *s;

	s = initialized("2025-06-18");
	HAS("\"protocolVersion\":\"2025-06-18\"");
	HAS("\"serverInfo\":{\"name\":\"mcpd\"");
	HAS("\"subscribe\":true");
	s = initialized("2024-11-05");
	HAS("\"protocolVersion\":\"2025-11-25\"");
	s = initialized("2099-01-01");
	HAS("\"protocolVersion\":\"2025-11-25\"");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}"),
	    MCP_DONE);
	HAS("already initialized");
	s = NULL;
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"initialize\",\"params\":{}}"), MCP_DONE);
	HAS("-32602");
	ck_assert_ptr_null(s);
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	    "\"tools/list\"}"), MCP_DONE);
	HAS("not initialized");
}
END_TEST

START_TEST(test_tools)
{
	struct mcp_session *s = initialized("2025-11-25");

	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/list\"}"), MCP_DONE);
	HAS("\"name\":\"echo\"");
	HAS("\"inputSchema\":{\"type\":\"object\"}");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":"
	    "{\"text\":\"h\\u00e9\"}}}"), MCP_DONE);
	HAS("\"text\":\"h\xc3\xa9\"");
	HAS("\"isError\":false");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"nope\"}}"), MCP_DONE);
	HAS("-32602");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":"
	    "[1]}}"), MCP_DONE);
	HAS("-32602");
	/* "echo\u0000x" names no tool, and is not echo */
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"echo\\u0000x\"}}"),
	    MCP_DONE);
	HAS("-32602");
	HAS("\"id\":7");
	/* a call that answers later holds the stream until it does */
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"later\"}}"), MCP_ASYNC);
	ck_assert_int_eq(refs, 1);
	while (refs > 0)
		ev_run(loop, EVRUN_ONCE);
	HAS("\"id\":6");
	HAS("\"content\":[]");
}
END_TEST

START_TEST(test_pagination_and_levels)
{
	struct mcp_session *s = initialized("2025-11-25");

	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/list\",\"params\":{\"cursor\":\"bogus\"}}"), MCP_DONE);
	HAS("Invalid cursor");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	    "\"tools/list\",\"params\":{\"cursor\":\"p1\"}}"), MCP_DONE);
	HAS("\"name\":\"later\"");
	ck_assert_msg(strstr(last(), "\"name\":\"echo\"") == NULL, "%s",
	    last());
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}"),
	    MCP_DONE);
	HAS("-32602");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"logging/setLevel\",\"params\":{\"level\":\"debug\"}}"),
	    MCP_DONE);
	HAS("\"result\":{}");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":"
	    "\"completion/complete\",\"params\":{\"ref\":{\"type\":"
	    "\"ref/prompt\",\"name\":\"x\"},\"argument\":{\"name\":\"a\","
	    "\"value\":\"b\"}}}"), MCP_DONE);
	HAS("\"values\":[]");
	ck_assert_int_eq(run(&s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"resources/read\",\"params\":{\"uri\":\"x://y\"}}"), MCP_DONE);
	HAS("-32002");
}
END_TEST

START_TEST(test_sessions)
{
	struct mcp_session	*s = initialized("2025-11-25"), *f;
	char			 id[MCP_SID_MAX_CHARS + 1];
	int			 owner;

	snprintf(id, sizeof(id), "%s", mcp_session_id(s));
	f = mcp_session_find(srv, id, &owner);
	ck_assert_ptr_eq(f, s);
	ck_assert_int_eq(owner, 0);
	id[5] = id[5] == 'A' ? 'B' : 'A';
	ck_assert_ptr_null(mcp_session_find(srv, id, &owner));
	ck_assert_int_eq(owner, -1);	/* forged: no owner */
	ck_assert_ptr_null(mcp_session_find(srv, "x", &owner));
	ck_assert_uint_eq(mcp_session_count(srv), 1);
	mcp_session_close(srv, s);
	ck_assert_uint_eq(mcp_session_count(srv), 0);
}
END_TEST

/* The registry: records as the transport gets them, by session. */
#define RECS_MAX	8
static struct rec {
	char	id[MCP_SID_MAX_CHARS + 1];
	char	text[2048];
} recs[RECS_MAX];
static int nrecs;

static void
reg_put(void *arg, const char *id, const char *rec, size_t len)
{
	int i;

	for (i = 0; i < nrecs && strcmp(recs[i].id, id) != 0; i++)
		;
	ck_assert_int_lt(i, RECS_MAX);
	ck_assert_uint_lt(len, sizeof(recs[i].text));
	if (i == nrecs)
		nrecs++;
	snprintf(recs[i].id, sizeof(recs[i].id), "%s", id);
	memcpy(recs[i].text, rec, len);
	recs[i].text[len] = '\0';
}

static void
reg_del(void *arg, const char *id)
{
}

static void
reg_event(void *arg, const char *id, uint64_t sno, uint64_t seq,
    const char *data, size_t len, int final)
{
}

static const struct mcp_registry_ops reg_ops = { reg_put, reg_del,
    reg_event };

/* s's record as its sender wrote it, saying it was used idle ms ago */
static const char *
rec_idle(struct mcp_session *s, long idle)
{
	static char	 buf[2048];
	const char	*r = NULL, *p, *e;
	int		 i;

	for (i = 0; i < nrecs; i++)
		if (strcmp(recs[i].id, mcp_session_id(s)) == 0)
			r = recs[i].text;
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(p = strstr(r, "\"idle\":"));
	p += strlen("\"idle\":");
	for (e = p; *e >= '0' && *e <= '9'; e++)
		;
	snprintf(buf, sizeof(buf), "%.*s%ld%s", (int)(p - r), r, idle, e);
	return buf;
}

/*
 * A session's idle clock goes from record to successor: records of a
 * draining predecessor (oldest first) set the clocks of the sessions the
 * successor adopted at start, keeping its list in order of last use; a
 * session used at the successor since keeps its own clock.
 */
START_TEST(test_registry_clock)
{
	struct mcp_server	*succ;
	struct mcp_session	*s[3], *t[3];
	unsigned char		 key[32] = { 1 };
	char			 err[128], id[3][MCP_SID_MAX_CHARS + 1];
	int			 i, owner;

	nrecs = 0;
	mcp_set_registry(srv, &reg_ops, NULL);
	for (i = 0; i < 3; i++) {
		s[i] = initialized("2025-11-25");
		snprintf(id[i], sizeof(id[i]), "%s", mcp_session_id(s[i]));
	}
	ck_assert_uint_eq(mcp_registry_resend(srv), 3);
	ck_assert_int_eq(nrecs, 3);
	ck_assert_ptr_nonnull(succ = mcp_server_new(loop, "mcpd", "test"));
	mcp_server_set_key(succ, key, 0);
	/* adopted at start, as the agent kept them: used just now */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(mcp_registry_adopt(succ, rec_idle(s[i], 0),
		    strlen(rec_idle(s[i], 0)), MCP_ADOPT_RELOAD, err,
		    sizeof(err)), 0);
	ck_assert_uint_eq(mcp_session_expire(succ, 4000, 3600000), 0);
	/* session 2 is used here */
	ck_assert_ptr_nonnull(t[2] = mcp_session_find(succ, id[2], &owner));
	mcp_session_touch(t[2]);
	/* the predecessor's handover, oldest first: 9 s, 5 s, 8 s */
	ck_assert_int_eq(mcp_registry_adopt(succ, rec_idle(s[1], 9000),
	    strlen(rec_idle(s[1], 9000)), MCP_ADOPT_LIVE, err, sizeof(err)), 1);
	ck_assert_int_eq(mcp_registry_adopt(succ, rec_idle(s[0], 5000),
	    strlen(rec_idle(s[0], 5000)), MCP_ADOPT_LIVE, err, sizeof(err)), 1);
	ck_assert_int_eq(mcp_registry_adopt(succ, rec_idle(s[2], 8000),
	    strlen(rec_idle(s[2], 8000)), MCP_ADOPT_LIVE, err, sizeof(err)), 1);
	/* past 4 s: 0 and 1 (in order: none stops the sweep), not 2 */
	ck_assert_uint_eq(mcp_session_expire(succ, 4000, 3600000), 2);
	ck_assert_ptr_null(mcp_session_find(succ, id[0], &owner));
	ck_assert_ptr_null(mcp_session_find(succ, id[1], &owner));
	ck_assert_ptr_nonnull(mcp_session_find(succ, id[2], &owner));
	/* past 7 s of 8: the sweep's bound found at the lookup too */
	ck_assert_uint_eq(mcp_session_expire(succ, 7000, 3600000), 0);
	ck_assert_int_eq(mcp_registry_adopt(succ, rec_idle(s[0], 0),
	    strlen(rec_idle(s[0], 0)), MCP_ADOPT_LIVE, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(t[0] = mcp_session_find(succ, id[0], &owner));
	ck_assert_int_eq(mcp_session_expired(succ, t[0]), 0);
	mcp_server_free(&succ);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("jsonrpc");
	TCase	*tc = tcase_create("engine");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_ids_and_kinds);
	tcase_add_test(tc, test_negotiation);
	tcase_add_test(tc, test_tools);
	tcase_add_test(tc, test_pagination_and_levels);
	tcase_add_test(tc, test_sessions);
	tcase_add_test(tc, test_registry_clock);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
