/*
 * fuzz_tools.c -- the catalog of the engine fuzzers, registered through
 * the plugin API (mcp/plugin.h) as a plugin's init would.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#include "fuzz_tools.h"

#define REG(c) do {							\
	if ((c) != 0) {							\
		fprintf(stderr, "%s:%d: %s failed\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static void
tool_echo(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	char text[256];

	if (mcpd_json_string(args, len, "/text", text, sizeof(text)) == -1)
		snprintf(text, sizeof(text), "%zu bytes of arguments", len);
	mcpd_call_log(c, MCPD_LOG_INFO, "echo", text);
	mcpd_call_progress(c, 1, 1, text);
	mcpd_call_result_text(c, text, 0);
}

/* {"doc":..., "ptr":"/a/0"}: the JSON at ptr, or the arguments */
static void
tool_pick(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	char	ptr[128], out[1024], res[1200];
	char	*copy;

	if (mcpd_json_string(args, len, "/ptr", ptr, sizeof(ptr)) != -1) {
		if (mcpd_json_text(args, len, ptr, out, sizeof(out)) == -1) {
			mcpd_call_error(c, JSONRPC_INVALID_PARAMS, "no such "
			    "value");
			return;
		}
		snprintf(res, sizeof(res), "{\"value\":%s}", out);
		mcpd_call_result(c, res);
		return;
	}
	/* the client's own object as the result */
	if ((copy = malloc(len + 1)) == NULL) {
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	memcpy(copy, args, len);
	copy[len] = '\0';
	mcpd_call_result(c, copy);
	free(copy);
}

static void
tool_bad(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	mcpd_call_result(c, len & 1 ? "[1,2]" : "{\"content\":[");
}

static void
slow_cancel(struct mcpd_call *c, void *arg)
{
	mcpd_call_error(c, MCP_SERVER_ERROR, "cancelled");
}

#define SLOW_CLOSE	4	/* close the stream at the next step */

static void
slow_step(struct mcpd_call *c, void *arg)
{
	uintptr_t	left = (uintptr_t)arg & 3;

	if ((uintptr_t)arg & SLOW_CLOSE)
		mcpd_call_close_stream(c);
	if (left == 0) {
		mcpd_call_result_text(c, mcpd_call_protocol(c), 0);
		return;
	}
	mcpd_call_progress(c, (double)left, -1, NULL);
	mcpd_call_log(c, MCPD_LOG_DEBUG + (int)left, NULL, "step");
	if (mcpd_call_after(c, 0, slow_step, (void *)(left - 1)) == -1)
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "no timer");
}

/*
 * {"steps":N,"close":1,"closenow":1}: answers after N & 3 turns of the
 * loop; its stream is closed early at the first one, or in the handler
 * after a log message.
 */
static void
tool_slow(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	char		n[8];
	uintptr_t	a = 1;

	if (mcpd_json_text(args, len, "/steps", n, sizeof(n)) != -1)
		a = (uintptr_t)atoi(n) & 3;
	if (mcpd_json_text(args, len, "/close", n, sizeof(n)) != -1)
		a |= SLOW_CLOSE;
	mcpd_call_on_cancel(c, slow_cancel, NULL);
	if (mcpd_json_text(args, len, "/closenow", n, sizeof(n)) != -1) {
		mcpd_call_log(c, MCPD_LOG_ERROR, "slow", "closing");
		mcpd_call_close_stream(c);
	}
	if (mcpd_call_after(c, 0, slow_step, (void *)a) == -1)
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "no timer");
}

static void
ask_reply(struct mcpd_call *c, int is_error, const char *json, size_t len,
    void *arg)
{
	char text[512];

	if (mcpd_json_string(json, len, "/content/text", text,
	    sizeof(text)) == -1)
		snprintf(text, sizeof(text), "%s, %zu bytes",
		    is_error ? "error" : "answer", len);
	mcpd_call_result_text(c, text, is_error);
}

static void
close_step(struct mcpd_call *c, void *arg)
{
	mcpd_call_close_stream(c);
}

/*
 * A request to the client; its answer (or a cancel) finishes the call.
 * {"close":1}: its stream is closed at the next turn of the loop (the
 * client resumes it), {"closenow":1} in the handler.
 */
static void
tool_ask(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	static const char *const methods[] = {
		"sampling/createMessage", "elicitation/create", "roots/list"
	};
	char n[8];

	if (mcpd_call_request(c, methods[len % 3], len & 4 ? NULL :
	    "{\"messages\":[],\"maxTokens\":10}", ask_reply, NULL) == -1) {
		mcpd_call_result_text(c, "the client cannot", 1);
		return;
	}
	mcpd_call_on_cancel(c, slow_cancel, NULL);
	if (mcpd_json_text(args, len, "/close", n, sizeof(n)) != -1)
		mcpd_call_after(c, 0, close_step, NULL);
	if (mcpd_json_text(args, len, "/closenow", n, sizeof(n)) != -1)
		mcpd_call_close_stream(c);
}

static void
read_res(struct mcpd_call *c, const char *uri, void *arg)
{
	char	q[1100], res[1200];

	if (mcpd_json_quote(uri, q, sizeof(q)) == -1) {
		mcpd_call_error(c, MCP_RESOURCE_NOT_FOUND, "too long");
		return;
	}
	snprintf(res, sizeof(res), "{\"contents\":[{\"uri\":%s,\"mimeType\":"
	    "\"text/plain\",\"text\":\"x\"}]}", q);
	mcpd_call_result(c, res);
}

static void
get_prompt(struct mcpd_call *c, const char *args, size_t len, void *arg)
{
	char	name[200], q[420], res[600];

	if (mcpd_json_string(args, len, "/name", name, sizeof(name)) == -1 ||
	    mcpd_json_quote(name, q, sizeof(q)) == -1) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS, "name");
		return;
	}
	snprintf(res, sizeof(res), "{\"messages\":[{\"role\":\"user\","
	    "\"content\":{\"type\":\"text\",\"text\":%s}}]}", q);
	mcpd_call_result(c, res);
}

static void
complete(struct mcpd_call *c, const char *ref, const char *name,
    const char *argname, const char *value, void *arg)
{
	char	q[1100], res[1200];

	if (mcpd_json_quote(value, q, sizeof(q)) == -1) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS, "value");
		return;
	}
	snprintf(res, sizeof(res), "{\"completion\":{\"values\":[%s],"
	    "\"total\":1,\"hasMore\":false}}", q);
	mcpd_call_result(c, res);
}

void
fuzz_tools(struct mcp_server *srv)
{
	static struct mcpd_host		 host;
	static const char		 schema[] = "{\"type\":\"object\"}";
	static const struct mcpd_prompt_arg pargs[] = {
		{ "name", "who", 1 }, { "tone", NULL, 0 }
	};
	struct mcpd_tool		 t;
	struct mcpd_resource		 r;
	struct mcpd_prompt		 p;
	static const struct {
		const char	*name;
		mcpd_tool_fn	 fn;
	} tools[] = {
		{ "echo", tool_echo }, { "pick", tool_pick },
		{ "bad", tool_bad }, { "slow", tool_slow }, { "ask", tool_ask }
	};
	char				 name[16];
	size_t				 i;

	host.h_srv = srv;
	host.h_name = "fuzz";
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		memset(&t, 0, sizeof(t));
		t.name = tools[i].name;
		t.description = "a tool";
		t.input_schema = schema;
		t.annotations = i == 0 ? "{\"readOnlyHint\":true}" : NULL;
		t.call = tools[i].fn;
		REG(mcpd_register_tool(&host, &t));
	}
	/* enough for two pages of tools/list */
	for (i = 0; i < MCP_PAGE_ITEMS + 20; i++) {
		memset(&t, 0, sizeof(t));
		snprintf(name, sizeof(name), "t%03zu", i);
		t.name = name;
		t.input_schema = schema;
		t.call = tool_echo;
		REG(mcpd_register_tool(&host, &t));
	}
	memset(&r, 0, sizeof(r));
	r.uri = "mem://a";
	r.name = "a";
	r.mime_type = "text/plain";
	r.read = read_res;
	REG(mcpd_register_resource(&host, &r));
	r.uri = "mem://item/{id}";
	r.name = "item";
	REG(mcpd_register_template(&host, &r));
	r.uri = "mem://tree/{+path}";
	r.name = "tree";
	REG(mcpd_register_template(&host, &r));
	memset(&p, 0, sizeof(p));
	p.name = "greet";
	p.title = "Greet";
	p.args = pargs;
	p.nargs = 2;
	p.get = get_prompt;
	REG(mcpd_register_prompt(&host, &p));
	REG(mcpd_register_completion(&host, complete, NULL));
}

