/*
 * check_stateless.c -- the stateless era (2026-07-28) of the engine without
 * a process or a transport: version selection, the per-request _meta, the
 * headers that mirror the body (Mcp-Method, Mcp-Name, Mcp-Param-*, the
 * Base64 sentinel), and the sealing of requestState (every byte of it is
 * covered: a change anywhere is rejected).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "mcp.h"
#include "mcp_int.h"

#define OUT_MAX		16
#define META \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":" \
	"\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":" \
	"{\"elicitation\":{}}}"

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
region_tool(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	mcpd_call_result_text(c, "ok", 0);
}

static void
name_reply(struct mcpd_call *c, int is_error, const char *json, size_t len,
    void *arg)
{
	char name[64], text[100];

	if (is_error || mcpd_json_string(json, len, "/content/name", name,
	    sizeof(name)) < 0) {
		mcpd_call_result_text(c, "no name", 1);
		return;
	}
	snprintf(text, sizeof(text), "Hello, %s!", name);
	mcpd_call_result_text(c, text, 0);
}

static void
ask_tool(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	mcpd_call_input(c, "user_name", "elicitation/create",
	    "{\"message\":\"name?\",\"requestedSchema\":{\"type\":\"object\","
	    "\"properties\":{\"name\":{\"type\":\"string\"}}}}", name_reply,
	    NULL);
}

static void
setup(void)
{
	struct mcpd_host	 h;
	struct mcpd_tool	 t;
	unsigned char		 key[32] = { 7 };

	loop = ev_default_loop(0);
	srv = mcp_server_new(loop, "mcpd", "test");
	ck_assert_ptr_nonnull(srv);
	mcp_server_set_key(srv, key, 0);
	h.h_srv = srv;
	h.h_name = "test";
	h.h_owner = CAT_PLUGIN;
	memset(&t, 0, sizeof(t));
	t.name = "region";
	t.description = "x-mcp-header";
	t.input_schema = "{\"type\":\"object\",\"properties\":{"
	    "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
	    "\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"N\"},"
	    "\"deep\":{\"type\":\"object\",\"properties\":{\"on\":"
	    "{\"type\":\"boolean\",\"x-mcp-header\":\"On\"}}}}}";
	t.call = region_tool;
	ck_assert_int_eq(mcpd_register_tool(&h, &t), 0);
	t.name = "ask";
	t.input_schema = "{\"type\":\"object\"}";
	t.call = ask_tool;
	ck_assert_int_eq(mcpd_register_tool(&h, &t), 0);
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

static const char *
last(void)
{
	ck_assert_int_gt(nout, 0);
	return out[nout - 1];
}

#define HAS(s)	ck_assert_msg(strstr(last(), (s)) != NULL, \
		    "%s not in %s", (s), last())

/* Dispatch text with headers: version, method, name (NULL: absent). */
static int
run(const char *text, const char *ver, const char *meth, const char *name,
    const char *const *params)
{
	struct mcp_headers	h;
	struct mcp_msg		m;
	size_t			i;

	memset(&h, 0, sizeof(h));
	h.h_version = ver;
	h.h_method = meth;
	h.h_name = name;
	for (i = 0; params != NULL && params[2 * i] != NULL; i++) {
		h.h_pname[i] = params[2 * i];
		h.h_pvalue[i] = params[2 * i + 1];
	}
	h.h_nparams = i;
	ck_assert_int_eq(mcp_msg_parse(srv, &m, text, strlen(text)), 0);
	stream.s_status = 0;
	return mcp_dispatch_stateless(srv, &m, &stream, &h);
}

/* -------------------------------------------------------------- era */

static enum mcp_era
era(const char *hdr, const char *text)
{
	struct mcp_msg m;

	ck_assert_int_eq(mcp_msg_parse(srv, &m, text, strlen(text)), 0);
	return mcp_era(hdr, &m);
}

START_TEST(era_selection)
{
	const char *plain = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";
	const char *meta = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
	    "\"params\":{" META "}}";

	ck_assert_int_eq(era("2026-07-28", plain), MCP_ERA_STATELESS);
	ck_assert_int_eq(era("2025-11-25", plain), MCP_ERA_SESSION);
	ck_assert_int_eq(era("2025-06-18", meta), MCP_ERA_SESSION);
	ck_assert_int_eq(era("2025-03-26", plain), MCP_ERA_SESSION);
	ck_assert_int_eq(era("v999.0.0", meta), MCP_ERA_UNSUPPORTED);
	ck_assert_int_eq(era("2024-11-05", plain), MCP_ERA_UNSUPPORTED);
	/* no header: the body decides, and without _meta it is 2025-03-26 */
	ck_assert_int_eq(era(NULL, meta), MCP_ERA_STATELESS);
	ck_assert_int_eq(era("", meta), MCP_ERA_STATELESS);
	ck_assert_int_eq(era(NULL, plain), MCP_ERA_SESSION);
	ck_assert_int_eq(mcp_version_stateless("2026-07-28"), 1);
	ck_assert_int_eq(mcp_version_stateless("2025-11-25"), 0);
}
END_TEST

START_TEST(meta_required)
{
	/* each missing piece: -32602, HTTP 400, the request's id echoed */
	run("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"server/discover\","
	    "\"params\":{}}", "2026-07-28", "server/discover", NULL, NULL);
	HAS("\"id\":11");
	HAS("-32602");
	ck_assert_int_eq(stream.s_status, 400);
	run("{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"server/discover\","
	    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
	    "clientCapabilities\":{}}}}", "2026-07-28", "server/discover",
	    NULL, NULL);
	HAS("-32602");
	run("{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"server/discover\","
	    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
	    "protocolVersion\":\"2026-07-28\"}}}", "2026-07-28",
	    "server/discover", NULL, NULL);
	HAS("-32602");
	/* clientInfo is optional */
	run("{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"server/discover\","
	    "\"params\":{" META "}}", "2026-07-28", "server/discover", NULL,
	    NULL);
	HAS("\"supportedVersions\":[\"2026-07-28\"");
	HAS("\"resultType\":\"complete\"");
	HAS("\"io.modelcontextprotocol/serverInfo\"");
	ck_assert_int_eq(stream.s_status, 0);
	/* a bad log level */
	run("{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"tools/list\","
	    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
	    "\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},"
	    "\"io.modelcontextprotocol/logLevel\":\"loud\"}}}", "2026-07-28",
	    "tools/list", NULL, NULL);
	HAS("-32602");
}
END_TEST

START_TEST(versions)
{
	/* header and _meta disagree: HeaderMismatch before the version */
	run("{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"server/discover\","
	    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
	    "\"v999.0.0\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	    "2026-07-28", "server/discover", NULL, NULL);
	HAS("-32020");
	ck_assert_int_eq(stream.s_status, 400);
	/* both unknown: UnsupportedProtocolVersion with what we speak */
	run("{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"server/discover\","
	    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
	    "\"v999.0.0\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	    "v999.0.0", "server/discover", NULL, NULL);
	HAS("-32022");
	HAS("\"supported\":[\"2026-07-28\",\"2025-11-25\"");
	HAS("\"requested\":\"v999.0.0\"");
	ck_assert_int_eq(stream.s_status, 400);
	/* a method of the session era: 404 -32601 */
	run("{\"jsonrpc\":\"2.0\",\"id\":23,\"method\":\"initialize\","
	    "\"params\":{" META "}}", "2026-07-28", "initialize", NULL, NULL);
	HAS("-32601");
	ck_assert_int_eq(stream.s_status, 404);
}
END_TEST

/* ----------------------------------------------------------- headers */

#define CALL(args) \
	"{\"jsonrpc\":\"2.0\",\"id\":31,\"method\":\"tools/call\"," \
	"\"params\":{\"name\":\"region\",\"arguments\":" args "," META "}}"

START_TEST(header_method_name)
{
	const char *list = "{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":"
	    "\"tools/list\",\"params\":{" META "}}";

	ck_assert_int_eq(run(list, "2026-07-28", NULL, NULL, NULL), MCP_DONE);
	HAS("-32020");
	ck_assert_int_eq(stream.s_status, 400);
	run(list, "2026-07-28", "prompts/list", NULL, NULL);
	HAS("-32020");
	run(list, "2026-07-28", "TOOLS/LIST", NULL, NULL);	/* values: exact */
	HAS("-32020");
	run(list, "2026-07-28", "tools/list", NULL, NULL);
	HAS("\"tools\":[");
	/* no MCP-Protocol-Version with a 2026 body */
	run(list, NULL, "tools/list", NULL, NULL);
	HAS("-32020");
	/* Mcp-Name: required for tools/call, and equal to params.name */
	run(CALL("{}"), "2026-07-28", "tools/call", NULL, NULL);
	HAS("-32020");
	run(CALL("{}"), "2026-07-28", "tools/call", "other", NULL);
	HAS("-32020");
	run(CALL("{}"), "2026-07-28", "tools/call", "region", NULL);
	HAS("\"text\":\"ok\"");
	/* the Base64 sentinel, decoded before comparing */
	run(CALL("{}"), "2026-07-28", "tools/call", "=?base64?cmVnaW9u?=",
	    NULL);
	HAS("\"text\":\"ok\"");
	run(CALL("{}"), "2026-07-28", "tools/call", "=?base64?cmVnaW9u?",
	    NULL);					/* no suffix: literal */
	HAS("-32020");
	run(CALL("{}"), "2026-07-28", "tools/call", "=?base64?cmVnaW9?=",
	    NULL);					/* bad padding */
	HAS("-32020");
}
END_TEST

START_TEST(header_params)
{
	const char *ok[] = { "Region", "us-west1", NULL };
	const char *lower[] = { "region", "us-west1", NULL };
	const char *b64[] = { "Region", "=?base64?dXMtd2VzdDE=?=", NULL };
	const char *badpad[] = { "Region", "=?base64?dXMtd2VzdDE?=", NULL };
	const char *badchr[] = { "Region", "=?base64?dXMt!!!zdDE=?=", NULL };
	const char *wrong[] = { "Region", "eu-west1", NULL };
	const char *nonascii[] = { "Region", "us-w\xc3\xa9st1", NULL };
	const char *num[] = { "Region", "us-west1", "N", "42.0", NULL };
	const char *num2[] = { "Region", "us-west1", "N", "43", NULL };
	const char *deep[] = { "Region", "us-west1", "On", "true", NULL };
	const char *deep2[] = { "Region", "us-west1", "On", "false", NULL };
	const char *extra[] = { "Region", "us-west1", "Other", "x", NULL };

	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", ok);
	HAS("\"text\":\"ok\"");
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", lower);			/* names: case-insensitive */
	HAS("\"text\":\"ok\"");
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", b64);
	HAS("\"text\":\"ok\"");
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", extra);			/* unknown: ignored */
	HAS("\"text\":\"ok\"");
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", badpad);
	HAS("-32020");
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", badchr);
	HAS("-32020");
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", wrong);
	HAS("-32020");
	run(CALL("{\"region\":\"us-w\\u00e9st1\"}"), "2026-07-28",
	    "tools/call", "region", nonascii);	/* must be base64 */
	HAS("-32020");
	/* the value is in the body, the header is not */
	run(CALL("{\"region\":\"us-west1\"}"), "2026-07-28", "tools/call",
	    "region", NULL);
	HAS("-32020");
	/* no value (absent or null): no header expected */
	run(CALL("{\"region\":null}"), "2026-07-28", "tools/call", "region",
	    NULL);
	HAS("\"text\":\"ok\"");
	/* integers compare numerically; nested properties count */
	run(CALL("{\"region\":\"us-west1\",\"n\":42}"), "2026-07-28",
	    "tools/call", "region", num);
	HAS("\"text\":\"ok\"");
	run(CALL("{\"region\":\"us-west1\",\"n\":42}"), "2026-07-28",
	    "tools/call", "region", num2);
	HAS("-32020");
	run(CALL("{\"region\":\"us-west1\",\"deep\":{\"on\":true}}"),
	    "2026-07-28", "tools/call", "region", deep);
	HAS("\"text\":\"ok\"");
	run(CALL("{\"region\":\"us-west1\",\"deep\":{\"on\":true}}"),
	    "2026-07-28", "tools/call", "region", deep2);
	HAS("-32020");
	run(CALL("{\"region\":\"us-west1\",\"deep\":{\"on\":true}}"),
	    "2026-07-28", "tools/call", "region", ok);
	HAS("-32020");
}
END_TEST

START_TEST(header_decode)
{
	char	buf[64];

	ck_assert_int_eq(mcp_header_decode("=?base64?SGVsbG8=?=", buf,
	    sizeof(buf)), 5);
	ck_assert_str_eq(buf, "Hello");
	ck_assert_int_eq(mcp_header_decode("SGVsbG8=", buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "SGVsbG8=");
	ck_assert_int_eq(mcp_header_decode("=?base64?SGVsbG8=", buf,
	    sizeof(buf)), 17);
	ck_assert_int_eq(mcp_header_decode("=?base64?SGVsbG8?=", buf,
	    sizeof(buf)), -1);
	ck_assert_int_eq(mcp_header_decode("=?base64?SGVs!!!bG8=?=", buf,
	    sizeof(buf)), -1);
	ck_assert_int_eq(mcp_header_decode("=?base64?AA==?=", buf,
	    sizeof(buf)), -1);			/* a NUL inside */
	ck_assert_int_eq(mcp_header_decode("a\x01z", buf, sizeof(buf)), -1);
	ck_assert_int_eq(mcp_header_decode("tab\tok", buf, sizeof(buf)), 6);
	ck_assert_int_eq(mcp_header_decode("0123456789", buf, 5), -1);
}
END_TEST

START_TEST(xhdr_definitions)
{
	static const char *const bad[] = {
		/* not reached through properties alone */
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
		"\"array\",\"items\":{\"type\":\"string\",\"x-mcp-header\":"
		"\"A\"}}}}",
		"{\"type\":\"object\",\"anyOf\":[{\"properties\":{\"a\":"
		"{\"type\":\"string\",\"x-mcp-header\":\"A\"}}}]}",
		"{\"type\":\"object\",\"x-mcp-header\":\"Root\"}",
		/* a number, an object */
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
		"\"number\",\"x-mcp-header\":\"A\"}}}",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
		"\"object\",\"x-mcp-header\":\"A\"}}}",
		/* empty, not a token, twice (any case) */
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
		"\"string\",\"x-mcp-header\":\"\"}}}",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
		"\"string\",\"x-mcp-header\":\"A B\"}}}",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
		"\"string\",\"x-mcp-header\":\"X\"},\"b\":{\"type\":"
		"\"boolean\",\"x-mcp-header\":\"x\"}}}",
		NULL
	};
	struct mcpd_host	 h;
	struct mcpd_tool	 t;
	char			 name[16];
	int			 i;

	h.h_srv = srv;
	h.h_name = "test";
	h.h_owner = CAT_PLUGIN;
	memset(&t, 0, sizeof(t));
	t.description = "d";
	t.call = region_tool;
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(name, sizeof(name), "bad%d", i);
		t.name = name;
		t.input_schema = bad[i];
		ck_assert_msg(mcpd_register_tool(&h, &t) == -1,
		    "accepted: %s", bad[i]);
	}
}
END_TEST

/* ------------------------------------------------------- requestState */

static struct mcpd_call *
fake_call(enum call_kind kind, const char *name)
{
	static struct mcpd_call c;

	memset(&c, 0, sizeof(c));
	c.c_kind = kind;
	snprintf(c.c_name, sizeof(c.c_name), "%s", name);
	return &c;
}

START_TEST(state_seal_open)
{
	static const char answers[] = "user_name\0{\"action\":\"accept\"}";
	struct mcpd_call	*c = fake_call(CALL_TOOL, "ask");
	struct jw		 w;
	unsigned char		 raw[512];
	char			 text[1024], bad[1024], *got;
	const char		*why;
	size_t			 rawlen, len, i;
	int			 bit;

	jw_init(&w);
	ck_assert_int_eq(state_seal(srv, c, answers, sizeof(answers), &w), 0);
	/* the JSON string, without its quotes */
	ck_assert_int_lt(w.len, sizeof(text));
	memcpy(text, w.buf + 1, w.len - 2);
	text[w.len - 2] = '\0';
	jw_free(&w);

	ck_assert_int_eq(state_open(srv, c, text, strlen(text), &got, &len,
	    &why), 0);
	ck_assert_uint_eq(len, sizeof(answers));
	ck_assert_int_eq(memcmp(got, answers, len), 0);
	free(got);

	/* every bit of every byte: changed, the state is refused */
	ck_assert_int_eq(sodium_base642bin(raw, sizeof(raw), text,
	    strlen(text), NULL, &rawlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	for (i = 0; i < rawlen; i++) {
		for (bit = 0; bit < 8; bit++) {
			raw[i] ^= 1U << bit;
			sodium_bin2base64(bad, sizeof(bad), raw, rawlen,
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			raw[i] ^= 1U << bit;
			ck_assert_msg(state_open(srv, c, bad, strlen(bad),
			    &got, &len, &why) == -1,
			    "byte %zu bit %d changed and still accepted", i,
			    bit);
			ck_assert_ptr_null(got);
		}
	}
	/* shorter, longer, appended to, not base64 */
	ck_assert_int_eq(state_open(srv, c, text, strlen(text) - 1, &got, &len,
	    &why), -1);
	snprintf(bad, sizeof(bad), "%s-TAMPERED", text);
	ck_assert_int_eq(state_open(srv, c, bad, strlen(bad), &got, &len,
	    &why), -1);
	snprintf(bad, sizeof(bad), "%sAAAA", text);
	ck_assert_int_eq(state_open(srv, c, bad, strlen(bad), &got, &len,
	    &why), -1);
	ck_assert_int_eq(state_open(srv, c, "", 0, &got, &len, &why), -1);
	/* bound to the method and the tool: foreign elsewhere */
	ck_assert_int_eq(state_open(srv, fake_call(CALL_TOOL, "other"), text,
	    strlen(text), &got, &len, &why), -1);
	ck_assert_int_eq(state_open(srv, fake_call(CALL_PROMPT, "ask"), text,
	    strlen(text), &got, &len, &why), -1);
}
END_TEST

START_TEST(state_other_key_and_expiry)
{
	struct mcp_server	*other;
	struct mcpd_call	*c = fake_call(CALL_TOOL, "ask");
	unsigned char		 key[32] = { 8 };
	struct jw		 w;
	char			 text[1024], *got;
	const char		*why;
	size_t			 len;

	jw_init(&w);
	ck_assert_int_eq(state_seal(srv, c, "k\0{}", 5, &w), 0);
	memcpy(text, w.buf + 1, w.len - 2);
	text[w.len - 2] = '\0';
	jw_free(&w);
	other = mcp_server_new(loop, "mcpd", "test");
	mcp_server_set_key(other, key, 0);
	ck_assert_int_eq(state_open(other, c, text, strlen(text), &got, &len,
	    &why), -1);
	mcp_server_free(&other);

	/* a state past its lifetime */
	srv->sv_state_ttl_ms = 0;
	jw_init(&w);
	ck_assert_int_eq(state_seal(srv, c, "k\0{}", 5, &w), 0);
	memcpy(text, w.buf + 1, w.len - 2);
	text[w.len - 2] = '\0';
	jw_free(&w);
	usleep(5000);
	ev_now_update(loop);
	ck_assert_int_eq(state_open(srv, c, text, strlen(text), &got, &len,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "expired"));
}
END_TEST

/* --------------------------------------------------- multi round trip */

START_TEST(mrtr_round_trip)
{
	char	 req[2048], state[1024];
	char	*p, *q;

	/* round 1: the question, and a state */
	run("{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\"," META "}}", "2026-07-28",
	    "tools/call", "ask", NULL);
	HAS("\"resultType\":\"input_required\"");
	HAS("\"user_name\":{\"method\":\"elicitation/create\"");
	HAS("\"requestState\":\"");
	p = strstr(last(), "\"requestState\":\"") + 16;
	q = strchr(p, '"');
	memcpy(state, p, q - p);
	state[q - p] = '\0';
	/* round 2: answered */
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"ask\",\"inputResponses\":"
	    "{\"user_name\":{\"action\":\"accept\",\"content\":{\"name\":"
	    "\"Alice\"}}},\"requestState\":\"%s\"," META "}}", state);
	run(req, "2026-07-28", "tools/call", "ask", NULL);
	HAS("Hello, Alice!");
	HAS("\"resultType\":\"complete\"");
	/* the state of another tool's call */
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"region\",\"requestState\":"
	    "\"%s\"," META "}}", state);
	run(req, "2026-07-28", "tools/call", "region", NULL);
	HAS("-32602");
	/* an answer that is not an object */
	run("{\"jsonrpc\":\"2.0\",\"id\":44,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"inputResponses\":{\"user_name\":"
	    "12345}," META "}}", "2026-07-28", "tools/call", "ask", NULL);
	HAS("-32602");
	/* a capability the client did not declare: -32021 with data */
	run("{\"jsonrpc\":\"2.0\",\"id\":45,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"ask\",\"_meta\":{\"io.modelcontextprotocol/"
	    "protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/"
	    "clientCapabilities\":{}}}}", "2026-07-28", "tools/call", "ask",
	    NULL);
	HAS("-32021");
	HAS("\"requiredCapabilities\":{\"elicitation\":{}}");
	ck_assert_int_eq(stream.s_status, 400);
	ck_assert_int_eq(refs, 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("stateless");
	TCase	*t = tcase_create("era");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, era_selection);
	tcase_add_test(t, meta_required);
	tcase_add_test(t, versions);
	tcase_add_test(t, header_method_name);
	tcase_add_test(t, header_params);
	tcase_add_test(t, header_decode);
	tcase_add_test(t, xhdr_definitions);
	tcase_add_test(t, state_seal_open);
	tcase_add_test(t, state_other_key_and_expiry);
	tcase_add_test(t, mrtr_round_trip);
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
