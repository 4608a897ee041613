/*
 * stateless.c -- the fixtures of the conformance suite's 2026-07-28
 * scenarios (@modelcontextprotocol/conformance 0.2.0-alpha.12): multi
 * round-trip tools and a prompt, the capability, logging and
 * list-change probes of server-stateless, and a tool with an x-mcp-header
 * parameter.  Part of plugins/conformance.so (conformance.c registers
 * them through conformance_stateless_init()).
 *
 * The multi round-trip fixtures are written once for both eras with
 * mcpd_call_input(): a 2025 session gets requests on the call's stream, a
 * 2026 client gets input_required results and retries.  A fixture that
 * waits for several answers keeps them in a small object freed by the last
 * reply (every reply is called exactly once, answered or not).
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"
#include "conformance.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

#define SCHEMA_NONE	"{\"type\":\"object\",\"properties\":{}}"

#define ELICIT_NAME \
	"{\"message\":\"What is your name?\",\"requestedSchema\":" \
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":" \
	"\"string\"}},\"required\":[\"name\"]}}"
#define ELICIT_COLOR \
	"{\"message\":\"What is your favourite colour?\",\"requestedSchema\":" \
	"{\"type\":\"object\",\"properties\":{\"color\":{\"type\":" \
	"\"string\"}},\"required\":[\"color\"]}}"
#define ELICIT_OK \
	"{\"message\":\"Please confirm\",\"requestedSchema\":" \
	"{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":" \
	"\"boolean\"}},\"required\":[\"ok\"]}}"
#define ELICIT_CONTEXT \
	"{\"message\":\"What context should the prompt use?\"," \
	"\"requestedSchema\":{\"type\":\"object\",\"properties\":" \
	"{\"context\":{\"type\":\"string\"}},\"required\":[\"context\"]}}"
#define SAMPLE(text) \
	"{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\"," \
	"\"text\":\"" text "\"}}],\"maxTokens\":100}"

/* An answer we cannot use: say so as a tool execution error. */
static int
refused(struct mcpd_call *call, int is_error, const char *what)
{
	char text[160];

	if (!is_error)
		return (0);
	if (cf_bprintf(text, sizeof(text), "No %s from the client", what) ==
	    -1)
		text[0] = '\0';
	mcpd_call_result_text(call, text, 1);
	return (1);
}

/* ---------------------------------------------------- one question */

static void
hello_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char name[256], text[320];

	if (refused(call, is_error, "name"))
		return;
	if (mcpd_json_string(json, len, "/content/name", name,
	    sizeof(name)) < 0) {
		mcpd_call_result_text(call, "The answer has no name", 1);
		return;
	}
	(void)cf_bprintf(text, sizeof(text), "Hello, %s!", name);
	mcpd_call_result_text(call, text, 0);
}

static void
tool_mrtr_elicitation(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_input(call, "user_name", "elicitation/create",
	    ELICIT_NAME, hello_reply, NULL) == -1)
		mcpd_call_result_text(call, "Could not ask for a name", 1);
}

static void
sampling_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char answer[1024], text[1100];

	if (refused(call, is_error, "sampling result"))
		return;
	if (mcpd_json_string(json, len, "/content/text", answer,
	    sizeof(answer)) < 0)
		(void)cf_bprintf(answer, sizeof(answer), "%s", "(no text)");
	(void)cf_bprintf(text, sizeof(text), "The model said: %s", answer);
	mcpd_call_result_text(call, text, 0);
}

static void
tool_mrtr_sampling(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_input(call, "capital_question", "sampling/createMessage",
	    SAMPLE("What is the capital of France?"), sampling_reply,
	    NULL) == -1)
		mcpd_call_result_text(call, "Could not ask for a sample", 1);
}

static void
roots_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char uri[1024], text[1100];

	if (refused(call, is_error, "roots"))
		return;
	if (mcpd_json_string(json, len, "/roots/0/uri", uri, sizeof(uri)) < 0)
		(void)cf_bprintf(text, sizeof(text), "%s", "The client has "
		    "no roots");
	else
		(void)cf_bprintf(text, sizeof(text), "First root: %s", uri);
	mcpd_call_result_text(call, text, 0);
}

static void
tool_mrtr_roots(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_input(call, "client_roots", "roots/list", "{}",
	    roots_reply, NULL) == -1)
		mcpd_call_result_text(call, "Could not ask for roots", 1);
}

static void
confirm_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char ok[8];

	if (refused(call, is_error, "confirmation"))
		return;
	if (mcpd_json_text(json, len, "/content/ok", ok, sizeof(ok)) < 0)
		(void)cf_bprintf(ok, sizeof(ok), "%s", "none");
	mcpd_call_result_text(call, strcmp(ok, "true") == 0 ? "state-ok" :
	    "not confirmed", 0);
}

/* request-state and tampered-state: one confirmation, sealed state */
static void
tool_mrtr_confirm(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_input(call, "confirm", "elicitation/create", ELICIT_OK,
	    confirm_reply, NULL) == -1)
		mcpd_call_result_text(call, "Could not ask to confirm", 1);
}

/* ------------------------------------------------ several questions */

struct gather {
	unsigned	 g_left;	/* replies still to come */
	unsigned	 g_failed;
	char		 g_text[1024];
};

static void
gather_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	struct gather	*g = arg;
	char		 piece[256];
	size_t		 n;

	if (is_error)
		g->g_failed++;
	else {
		if (mcpd_json_string(json, len, "/content/name", piece,
		    sizeof(piece)) < 0 &&
		    mcpd_json_string(json, len, "/content/text", piece,
		    sizeof(piece)) < 0 &&
		    mcpd_json_string(json, len, "/roots/0/uri", piece,
		    sizeof(piece)) < 0)
			(void)cf_bprintf(piece, sizeof(piece), "%s", "?");
		n = strlen(g->g_text);
		(void)cf_bprintf(g->g_text + n, sizeof(g->g_text) - n, "%s%s",
		    n > 0 ? ", " : "", piece);
	}
	if (--g->g_left > 0)
		return;
	if (g->g_failed == 0)
		mcpd_call_result_text(call, g->g_text, 0);
	else
		mcpd_call_result_text(call, "Not every question was answered",
		    1);
	free(g);
}

/* Ask each question of the list the client can answer. */
static void
ask_all(struct mcpd_call *call, const char *const (*q)[4], size_t nq)
{
	struct gather	*g;
	size_t		 i, n = 0;

	for (i = 0; i < nq; i++)
		if (mcpd_call_client_has(call, q[i][0]))
			n++;
	if (n == 0) {
		mcpd_call_result_text(call, "No supported capabilities "
		    "declared", 0);
		return;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		mcpd_call_error(call, -32603, "out of memory");
		return;
	}
	g->g_left = n;
	for (i = 0; i < nq; i++) {
		if (!mcpd_call_client_has(call, q[i][0]))
			continue;
		if (mcpd_call_input(call, q[i][1], q[i][2], q[i][3],
		    gather_reply, g) == -1) {
			/* not sent: no reply will come for it */
			g->g_failed++;
			if (--g->g_left == 0) {
				mcpd_call_result_text(call, "Could not ask "
				    "the client", 1);
				free(g);
				return;
			}
		}
	}
}

/* { capability, key, method, params } */
static const char *const multiple[][4] = {
	{ "elicitation", "user_name", "elicitation/create", ELICIT_NAME },
	{ "sampling", "greeting", "sampling/createMessage",
	    SAMPLE("Say hello") },
	{ "roots", "client_roots", "roots/list", "{}" }
};

static void
tool_mrtr_multiple(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	ask_all(call, multiple, sizeof(multiple) / sizeof(multiple[0]));
}

/* only what the client declared: sampling, elicitation */
static const char *const by_capability[][4] = {
	{ "sampling", "sample_input", "sampling/createMessage",
	    SAMPLE("Give me a word") },
	{ "elicitation", "user_input", "elicitation/create", ELICIT_NAME }
};

static void
tool_mrtr_capabilities(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	ask_all(call, by_capability,
	    sizeof(by_capability) / sizeof(by_capability[0]));
}

/* ----------------------------------------------------- two rounds */

static void
color_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char	*name = arg, color[128], text[512];

	if (!refused(call, is_error, "colour")) {
		if (mcpd_json_string(json, len, "/content/color", color,
		    sizeof(color)) < 0)
			(void)cf_bprintf(color, sizeof(color), "%s", "?");
		(void)cf_bprintf(text, sizeof(text), "%s likes %s", name,
		    color);
		mcpd_call_result_text(call, text, 0);
	}
	free(name);
}

static void
name_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char name[256], *keep;

	if (refused(call, is_error, "name"))
		return;
	if (mcpd_json_string(json, len, "/content/name", name,
	    sizeof(name)) < 0)
		(void)cf_bprintf(name, sizeof(name), "%s", "?");
	/* the second question depends on the first answer */
	if ((keep = strdup(name)) == NULL) {
		mcpd_call_error(call, -32603, "out of memory");
		return;
	}
	if (mcpd_call_input(call, "favourite_color", "elicitation/create",
	    ELICIT_COLOR, color_reply, keep) == -1) {
		free(keep);
		mcpd_call_result_text(call, "Could not ask for a colour", 1);
	}
}

static void
tool_mrtr_multi_round(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_input(call, "user_name", "elicitation/create",
	    ELICIT_NAME, name_reply, NULL) == -1)
		mcpd_call_result_text(call, "Could not ask for a name", 1);
}

/* ------------------------------------------------ prompt with input */

static void
context_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char	ctx[1024], quoted[2200], out[2600];

	if (is_error) {
		mcpd_call_error(call, -32603, "no context from the client");
		return;
	}
	if (mcpd_json_string(json, len, "/content/context", ctx,
	    sizeof(ctx)) < 0)
		(void)cf_bprintf(ctx, sizeof(ctx), "%s", "(none)");
	if (mcpd_json_quote(ctx, quoted, sizeof(quoted)) < 0 ||
	    cf_bprintf(out, sizeof(out), "{\"description\":\"A prompt built "
	    "from the client's answer\",\"messages\":[{\"role\":\"user\","
	    "\"content\":{\"type\":\"text\",\"text\":%s}}]}", quoted) == -1) {
		mcpd_call_error(call, -32603, "context too long");
		return;
	}
	mcpd_call_result(call, out);
}

static void
prompt_mrtr(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	if (mcpd_call_input(call, "user_context", "elicitation/create",
	    ELICIT_CONTEXT, context_reply, NULL) == -1)
		mcpd_call_error(call, -32603, "could not ask for context");
}

/* ------------------------------------------- server-stateless probes */

/* needs sampling: without it the engine answers -32021 */
static void
tool_missing_capability(struct mcpd_call *call, const char *args,
    size_t len, void *arg)
{
	if (mcpd_call_input(call, "sample", "sampling/createMessage",
	    SAMPLE("Say something"), sampling_reply, NULL) == -1)
		mcpd_call_result_text(call, "This tool needs the sampling "
		    "capability", 1);
}

static void
tool_streaming_elicitation(struct mcpd_call *call, const char *args,
    size_t len, void *arg)
{
	if (mcpd_call_input(call, "user_name", "elicitation/create",
	    ELICIT_NAME, hello_reply, NULL) == -1)
		mcpd_call_result_text(call, "This tool needs the elicitation "
		    "capability", 1);
}

static void
tool_logging(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	/* only a request that asked for a log level sees these */
	mcpd_call_log(call, MCPD_LOG_INFO, "conformance", "starting");
	mcpd_call_log(call, MCPD_LOG_INFO, "conformance", "working");
	mcpd_call_log(call, MCPD_LOG_INFO, "conformance", "done");
	mcpd_call_result_text(call, "Logged three messages", 0);
}

static void
tool_trigger(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	const char	*list = arg;
	char		 text[64];

	if (mcpd_notify_list_changed(call, list) == -1) {
		mcpd_call_error(call, -32603, "unknown list");
		return;
	}
	(void)cf_bprintf(text, sizeof(text), "Announced a change of the %s "
	    "list", list);
	mcpd_call_result_text(call, text, 0);
}

static void
tool_trigger_update(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char uri[2048];

	if (args == NULL || mcpd_json_string(args, len, "/uri", uri,
	    sizeof(uri)) < 0) {
		mcpd_call_result_text(call, "uri (a string) is required", 1);
		return;
	}
	mcpd_notify_resource_updated(call, uri);
	mcpd_call_result_text(call, "Announced", 0);
}

/* the server's fault, on purpose: alert tests drive failures with it */
static void
tool_internal_error(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	mcpd_call_error(call, -32603, "Internal error (on purpose)");
}

static void
tool_x_mcp_header(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char region[256], text[300];

	if (args == NULL || mcpd_json_string(args, len, "/region", region,
	    sizeof(region)) < 0) {
		mcpd_call_result_text(call, "region (a string) is required",
		    1);
		return;
	}
	(void)cf_bprintf(text, sizeof(text), "region=%s", region);
	mcpd_call_result_text(call, text, 0);
}

/* ------------------------------------------------------ registration */

static const struct mcpd_tool tools[] = {
	{ "test_input_required_result_elicitation", NULL,
	    "Asks for the user's name (multi round-trip elicitation)",
	    SCHEMA_NONE, NULL, tool_mrtr_elicitation, NULL },
	{ "test_input_required_result_sampling", NULL,
	    "Asks the client's model a question (multi round-trip sampling)",
	    SCHEMA_NONE, NULL, tool_mrtr_sampling, NULL },
	{ "test_input_required_result_list_roots", NULL,
	    "Asks for the client's roots (multi round-trip roots/list)",
	    SCHEMA_NONE, NULL, tool_mrtr_roots, NULL },
	{ "test_input_required_result_request_state", NULL,
	    "Asks to confirm, keeping sealed request state",
	    SCHEMA_NONE, NULL, tool_mrtr_confirm, NULL },
	{ "test_input_required_result_multiple_inputs", NULL,
	    "Asks three questions in one round (elicitation, sampling, "
	    "roots)", SCHEMA_NONE, NULL, tool_mrtr_multiple, NULL },
	{ "test_input_required_result_multi_round", NULL,
	    "Asks a name, then a colour: two rounds",
	    SCHEMA_NONE, NULL, tool_mrtr_multi_round, NULL },
	{ "test_input_required_result_tampered_state", NULL,
	    "Asks to confirm; a tampered requestState is rejected",
	    SCHEMA_NONE, NULL, tool_mrtr_confirm, NULL },
	{ "test_input_required_result_capabilities", NULL,
	    "Asks only what the client declared it can answer",
	    SCHEMA_NONE, NULL, tool_mrtr_capabilities, NULL },
	{ "test_missing_capability", NULL,
	    "Needs the sampling capability of the client",
	    SCHEMA_NONE, NULL, tool_missing_capability, NULL },
	{ "test_streaming_elicitation", NULL,
	    "Asks for a name without sending requests on the stream",
	    SCHEMA_NONE, NULL, tool_streaming_elicitation, NULL },
	{ "test_logging_tool", NULL,
	    "Logs three messages (seen only with a requested log level)",
	    SCHEMA_NONE, NULL, tool_logging, NULL },
	{ "test_trigger_tool_change", NULL,
	    "Announces a change of the tool list to every listener",
	    SCHEMA_NONE, NULL, tool_trigger, "tools" },
	{ "test_trigger_prompt_change", NULL,
	    "Announces a change of the prompt list to every listener",
	    SCHEMA_NONE, NULL, tool_trigger, "prompts" },
	{ "test_trigger_resource_update", NULL,
	    "Announces an update of the resource uri to every listener",
	    "{\"type\":\"object\",\"properties\":{\"uri\":{\"type\":"
	    "\"string\"}},\"required\":[\"uri\"]}", NULL,
	    tool_trigger_update, NULL },
	{ "test_internal_error", NULL,
	    "Fails with an internal error (-32603), for the alert tests",
	    SCHEMA_NONE, NULL, tool_internal_error, NULL },
	{ "test_x_mcp_header", NULL,
	    "Echoes a parameter mirrored into the Mcp-Param-Region header",
	    "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":"
	    "\"string\",\"x-mcp-header\":\"Region\"}},"
	    "\"required\":[\"region\"]}", NULL, tool_x_mcp_header, NULL }
};

static const struct mcpd_prompt prompts[] = {
	{ "test_input_required_result_prompt", "Prompt With Input",
	    "A prompt that asks the client for context first", NULL, 0,
	    prompt_mrtr, NULL }
};

int
conformance_stateless_init(struct mcpd_host *host)
{
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (mcpd_register_tool(host, &tools[i]) == -1) {
			mcpd_log(host, "conformance: cannot register tool %s",
			    tools[i].name);
			return (-1);
		}
	for (i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++)
		if (mcpd_register_prompt(host, &prompts[i]) == -1) {
			mcpd_log(host, "conformance: cannot register prompt "
			    "%s", prompts[i].name);
			return (-1);
		}
	return (0);
}
