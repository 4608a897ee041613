/*
 * conformance.c -- the server fixtures of the MCP conformance suite
 * (@modelcontextprotocol/conformance 0.1.16) as an mcpd plugin.
 *
 * Every tool, resource, template and prompt the suite's server scenarios
 * ask for, with the texts of the suite's reference server
 * (examples/servers/typescript/everything-server.ts at v0.1.16).  Loaded
 * only by tests/conformance/mcpd.conf.
 *
 * Nothing here blocks or allocates: delays are mcpd_call_after() timers,
 * questions to the client are mcpd_call_request()s, and every string is
 * built in a fixed buffer whose length is checked; what does not fit is an
 * error result, never a truncated one.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugin.h"
#include "conformance.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define ARG_MAX		4096	/* an argument string, unescaped */
#define QUOTED_MAX	8192	/* the same, as a JSON string */
#define TEXT_MAX	16384	/* a text we build */
#define OUT_MAX		32768	/* a result's JSON text */
#define URI_MAX		1024	/* a resource URI */

#define ERR_CANCELLED	-32800	/* LSP's RequestCancelled, as the SDK */
#define ERR_PARAMS	-32602
#define ERR_NOT_FOUND	-32002	/* MCP: resource not found */

/* Handlers have the ABI's signatures and many use few of their arguments. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* What mcpd looks up with dlsym(3). */
extern const int	mcpd_plugin_abi;
int			mcpd_plugin_init(struct mcpd_host *, const char *);

const int		mcpd_plugin_abi = MCPD_PLUGIN_ABI;

/* A 1x1 red pixel, RGBA (the suite's reference image). */
#define PNG_B64 \
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw" \
	"HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
/* RIFF/WAVE, PCM mono 16-bit 8 kHz, 4 frames of silence (52 bytes). */
#define WAV_B64 \
	"UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQgAAAAAAAAA" \
	"AAAAAA=="

#define EMPTY_SCHEMA	"{\"type\":\"object\",\"properties\":{}}"

/* ------------------------------------------------------------ helpers */

/* snprintf that fails instead of truncating: 0 or -1. */
int
cf_bprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (0);
}

/* The client's arguments, "{}" when it sent none. */
static void
args_or_empty(const char **args, size_t *len)
{
	if (*args == NULL || *len == 0) {
		*args = "{}";
		*len = 2;
	}
}

/*
 * The string member name of the arguments object, quoted as JSON into
 * quoted (and, unquoted, into raw when raw is not NULL).  0, or -1 when it
 * is absent, not a string or too long.
 */
static int
arg_quoted(const char *args, size_t len, const char *name, char *raw,
    size_t rawlen, char *quoted, size_t quotedlen)
{
	char	 ptr[64], tmp[ARG_MAX];

	if (raw == NULL) {
		raw = tmp;
		rawlen = sizeof(tmp);
	}
	if (cf_bprintf(ptr, sizeof(ptr), "/%s", name) == -1)
		return (-1);
	if (mcpd_json_string(args, len, ptr, raw, rawlen) < 0)
		return (-1);
	if (mcpd_json_quote(raw, quoted, quotedlen) < 0)
		return (-1);
	return (0);
}

/* A tool's required string argument is missing: a tool execution error. */
static void
missing_arg(struct mcpd_call *call, const char *name)
{
	char	 text[128];

	if (cf_bprintf(text, sizeof(text), "Invalid arguments: \"%s\" (a string "
	    "of at most %d bytes) is required", name, ARG_MAX - 1) == -1)
		text[0] = '\0';
	mcpd_call_result_text(call, text, 1);
}

/* In a timer: finish a call the client cancelled meanwhile.  1 if so. */
static int
finish_if_cancelled(struct mcpd_call *call)
{
	if (!mcpd_call_cancelled(call))
		return (0);
	mcpd_call_error(call, ERR_CANCELLED, "Request cancelled");
	return (1);
}

/* The message of a JSON-RPC error object, or a placeholder. */
static void
error_message(const char *json, size_t len, char *out, size_t outlen)
{
	if (json == NULL || mcpd_json_string(json, len, "/message", out,
	    outlen) < 0)
		(void)cf_bprintf(out, outlen, "%s", "unknown error");
}

/* ------------------------------------------------------ content tools */

static void
tool_simple_text(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	mcpd_call_result_text(call,
	    "This is a simple text response for testing.", 0);
}

static void
tool_image(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	mcpd_call_result(call, "{\"content\":[{\"type\":\"image\","
	    "\"data\":\"" PNG_B64 "\",\"mimeType\":\"image/png\"}]}");
}

static void
tool_audio(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	mcpd_call_result(call, "{\"content\":[{\"type\":\"audio\","
	    "\"data\":\"" WAV_B64 "\",\"mimeType\":\"audio/wav\"}]}");
}

static void
tool_embedded(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	mcpd_call_result(call, "{\"content\":[{\"type\":\"resource\","
	    "\"resource\":{\"uri\":\"test://embedded-resource\","
	    "\"mimeType\":\"text/plain\","
	    "\"text\":\"This is an embedded resource content.\"}}]}");
}

static void
tool_mixed(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	mcpd_call_result(call, "{\"content\":["
	    "{\"type\":\"text\",\"text\":\"Multiple content types test:\"},"
	    "{\"type\":\"image\",\"data\":\"" PNG_B64 "\","
	    "\"mimeType\":\"image/png\"},"
	    "{\"type\":\"resource\",\"resource\":{"
	    "\"uri\":\"test://mixed-content-resource\","
	    "\"mimeType\":\"application/json\","
	    "\"text\":\"{\\\"test\\\":\\\"data\\\",\\\"value\\\":123}\"}}]}");
}

static void
tool_error(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	mcpd_call_result_text(call,
	    "This tool intentionally returns an error for testing", 1);
}

/* ---------------------------------------------- logging and progress */

/* The timers' arg points at the step to take. */
static const char *log_steps[] = {
	"Tool execution started",
	"Tool processing data",
	"Tool execution completed"
};

static void
log_step(struct mcpd_call *call, void *arg)
{
	const char	**step = arg;

	if (finish_if_cancelled(call))
		return;
	mcpd_call_log(call, MCPD_LOG_INFO, "conformance-test-server", *step);
	if (step == &log_steps[nitems(log_steps) - 1]) {
		mcpd_call_result_text(call,
		    "Tool with logging executed successfully", 0);
		return;
	}
	if (mcpd_call_after(call, 50, log_step, step + 1) == -1)
		mcpd_call_result_text(call, "Could not schedule a timer", 1);
}

static void
tool_logging(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	log_step(call, &log_steps[0]);
}

static double progress_steps[] = { 0, 50, 100 };

static void
progress_step(struct mcpd_call *call, void *arg)
{
	double	*step = arg;
	char	 msg[64];

	if (finish_if_cancelled(call))
		return;
	if (cf_bprintf(msg, sizeof(msg), "Completed step %.0f of 100",
	    *step) == -1)
		msg[0] = '\0';
	/* the host sends it only when the client gave a progressToken */
	mcpd_call_progress(call, *step, 100, msg);
	if (step == &progress_steps[nitems(progress_steps) - 1]) {
		mcpd_call_result_text(call,
		    "Tool with progress executed successfully", 0);
		return;
	}
	if (mcpd_call_after(call, 50, progress_step, step + 1) == -1)
		mcpd_call_result_text(call, "Could not schedule a timer", 1);
}

static void
tool_progress(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	progress_step(call, &progress_steps[0]);
}

static void
reconnection_done(struct mcpd_call *call, void *arg)
{
	if (finish_if_cancelled(call))
		return;
	mcpd_call_result_text(call, "Reconnection test completed "
	    "successfully. If you received this, the client properly "
	    "reconnected after stream closure.", 0);
}

/* SEP-1699: the host closes the POST stream and replays on GET. */
static void
tool_reconnection(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_after(call, 100, reconnection_done, NULL) == -1) {
		mcpd_call_result_text(call, "Could not schedule a timer", 1);
		return;
	}
	mcpd_call_close_stream(call);
}

/* -------------------------------------------------------- sampling */

static void
sampling_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char	 resp[TEXT_MAX], text[TEXT_MAX + 64];

	if (is_error) {
		error_message(json, len, resp, sizeof(resp));
		if (cf_bprintf(text, sizeof(text), "Sampling not supported or "
		    "error: %s", resp) == -1)
			text[0] = '\0';
		mcpd_call_result_text(call, text, 1);
		return;
	}
	/* content is one block, or (with tools, 2025-11-25) an array */
	if (mcpd_json_string(json, len, "/content/text", resp,
	    sizeof(resp)) < 0 &&
	    mcpd_json_string(json, len, "/content/0/text", resp,
	    sizeof(resp)) < 0)
		(void)cf_bprintf(resp, sizeof(resp), "%s", "No response");
	if (cf_bprintf(text, sizeof(text), "LLM response: %s", resp) == -1) {
		mcpd_call_result_text(call, "LLM response too long", 1);
		return;
	}
	mcpd_call_result_text(call, text, 0);
}

static void
tool_sampling(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 prompt[QUOTED_MAX], params[QUOTED_MAX + 128];

	args_or_empty(&args, &len);
	if (arg_quoted(args, len, "prompt", NULL, 0, prompt,
	    sizeof(prompt)) == -1) {
		missing_arg(call, "prompt");
		return;
	}
	if (!mcpd_call_client_has(call, "sampling")) {
		mcpd_call_result_text(call, "Sampling not supported: the "
		    "client did not declare the sampling capability", 1);
		return;
	}
	if (cf_bprintf(params, sizeof(params), "{\"messages\":[{\"role\":"
	    "\"user\",\"content\":{\"type\":\"text\",\"text\":%s}}],"
	    "\"maxTokens\":100}", prompt) == -1) {
		missing_arg(call, "prompt");
		return;
	}
	if (mcpd_call_request(call, "sampling/createMessage", params,
	    sampling_reply, NULL) == -1)
		mcpd_call_result_text(call, "Could not send "
		    "sampling/createMessage to the client", 1);
}

/* ------------------------------------------------------ elicitation */

struct elicit {
	const char	*prefix;	/* of the result text */
	const char	*params;	/* NULL: built from the arguments */
};

#define ELICIT_SIMPLE_SCHEMA \
	"{\"type\":\"object\",\"properties\":{" \
	"\"username\":{\"type\":\"string\"," \
	"\"description\":\"User's response\"}," \
	"\"email\":{\"type\":\"string\"," \
	"\"description\":\"User's email address\"}}," \
	"\"required\":[\"username\",\"email\"]}"

static struct elicit elicit_simple = {
	"User response",
	NULL
};

/* SEP-1034: a default for every primitive type */
static struct elicit elicit_defaults = {
	"Elicitation completed",
	"{\"message\":\"Please review and update the form fields with "
	"defaults\",\"requestedSchema\":{\"type\":\"object\",\"properties\":{"
	"\"name\":{\"type\":\"string\",\"description\":\"User name\","
	"\"default\":\"John Doe\"},"
	"\"age\":{\"type\":\"integer\",\"description\":\"User age\","
	"\"default\":30},"
	"\"score\":{\"type\":\"number\",\"description\":\"User score\","
	"\"default\":95.5},"
	"\"status\":{\"type\":\"string\",\"description\":\"User status\","
	"\"enum\":[\"active\",\"inactive\",\"pending\"],"
	"\"default\":\"active\"},"
	"\"verified\":{\"type\":\"boolean\","
	"\"description\":\"Verification status\",\"default\":true}},"
	"\"required\":[]}}"
};

/* SEP-1330: the five enum variants */
static struct elicit elicit_enums = {
	"Elicitation completed",
	"{\"message\":\"Please select options from the enum fields\","
	"\"requestedSchema\":{\"type\":\"object\",\"properties\":{"
	"\"untitledSingle\":{\"type\":\"string\","
	"\"description\":\"Select one option\","
	"\"enum\":[\"option1\",\"option2\",\"option3\"]},"
	"\"titledSingle\":{\"type\":\"string\","
	"\"description\":\"Select one option with titles\","
	"\"oneOf\":[{\"const\":\"value1\",\"title\":\"First Option\"},"
	"{\"const\":\"value2\",\"title\":\"Second Option\"},"
	"{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
	"\"legacyEnum\":{\"type\":\"string\","
	"\"description\":\"Select one option (legacy)\","
	"\"enum\":[\"opt1\",\"opt2\",\"opt3\"],"
	"\"enumNames\":[\"Option One\",\"Option Two\",\"Option Three\"]},"
	"\"untitledMulti\":{\"type\":\"array\","
	"\"description\":\"Select multiple options\","
	"\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\","
	"\"enum\":[\"option1\",\"option2\",\"option3\"]}},"
	"\"titledMulti\":{\"type\":\"array\","
	"\"description\":\"Select multiple options with titles\","
	"\"minItems\":1,\"maxItems\":3,\"items\":{\"anyOf\":["
	"{\"const\":\"value1\",\"title\":\"First Choice\"},"
	"{\"const\":\"value2\",\"title\":\"Second Choice\"},"
	"{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},"
	"\"required\":[]}}"
};

/* "<prefix>: action=<action>, content=<content JSON>" */
static void
elicit_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	struct elicit	*e = arg;
	char		 action[32], content[TEXT_MAX];
	char		 text[TEXT_MAX + 128];

	if (is_error) {
		error_message(json, len, content, sizeof(content));
		if (cf_bprintf(text, sizeof(text), "Elicitation not supported "
		    "or error: %s", content) == -1)
			text[0] = '\0';
		mcpd_call_result_text(call, text, 1);
		return;
	}
	if (mcpd_json_string(json, len, "/action", action,
	    sizeof(action)) < 0)
		(void)cf_bprintf(action, sizeof(action), "%s", "unknown");
	if (mcpd_json_text(json, len, "/content", content,
	    sizeof(content)) < 0)
		(void)cf_bprintf(content, sizeof(content), "%s", "{}");
	if (cf_bprintf(text, sizeof(text), "%s: action=%s, content=%s",
	    e->prefix, action, content) == -1) {
		mcpd_call_result_text(call, "Elicitation result too long", 1);
		return;
	}
	mcpd_call_result_text(call, text, 0);
}

static void
elicit_send(struct mcpd_call *call, struct elicit *e, const char *params)
{
	if (!mcpd_call_client_has(call, "elicitation")) {
		mcpd_call_result_text(call, "Elicitation not supported: the "
		    "client did not declare the elicitation capability", 1);
		return;
	}
	if (mcpd_call_request(call, "elicitation/create", params,
	    elicit_reply, e) == -1)
		mcpd_call_result_text(call, "Could not send "
		    "elicitation/create to the client", 1);
}

static void
tool_elicitation(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 msg[QUOTED_MAX], params[QUOTED_MAX + 512];

	args_or_empty(&args, &len);
	if (arg_quoted(args, len, "message", NULL, 0, msg,
	    sizeof(msg)) == -1 ||
	    cf_bprintf(params, sizeof(params), "{\"message\":%s,"
	    "\"requestedSchema\":" ELICIT_SIMPLE_SCHEMA "}", msg) == -1) {
		missing_arg(call, "message");
		return;
	}
	elicit_send(call, &elicit_simple, params);
}

static void
tool_elicit_fixed(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	struct elicit	*e = arg;

	elicit_send(call, e, e->params);
}

/* ------------------------------------------------ JSON Schema 2020-12 */

/* with the vocabulary SEP-2106 keeps: $anchor, allOf/anyOf, if/then/else */
#define SCHEMA_2020_12 \
	"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\"," \
	"\"type\":\"object\"," \
	"\"$defs\":{\"address\":{\"$anchor\":\"addressDef\"," \
	"\"type\":\"object\",\"properties\":{" \
	"\"street\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}}," \
	"\"properties\":{\"name\":{\"type\":\"string\"}," \
	"\"address\":{\"$ref\":\"#/$defs/address\"}," \
	"\"contactMethod\":{\"type\":\"string\"," \
	"\"enum\":[\"phone\",\"email\"]}," \
	"\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}}," \
	"\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]}," \
	"{\"required\":[\"email\"]}]}]," \
	"\"if\":{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}}," \
	"\"required\":[\"contactMethod\"]}," \
	"\"then\":{\"required\":[\"phone\"]}," \
	"\"else\":{\"required\":[\"email\"]}," \
	"\"additionalProperties\":false}"

static void
tool_schema_2020_12(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 text[TEXT_MAX];

	args_or_empty(&args, &len);
	if (len > TEXT_MAX - 64 || cf_bprintf(text, sizeof(text),
	    "JSON Schema 2020-12 tool called with: %.*s", (int)len,
	    args) == -1) {
		mcpd_call_result_text(call, "Arguments too long", 1);
		return;
	}
	mcpd_call_result_text(call, text, 0);
}

/* -------------------------------------------------------- resources */

struct body {
	const char	*mime;
	const char	*field;		/* "text" or "blob" */
	const char	*value;		/* a JSON string */
};

static struct body body_static_text = {
	"text/plain", "text",
	"\"This is the content of the static text resource.\""
};
static struct body body_static_binary = {
	"image/png", "blob", "\"" PNG_B64 "\""
};
static struct body body_watched = {
	"text/plain", "text", "\"Watched resource content\""
};

static void
read_static(struct mcpd_call *call, const char *uri, void *arg)
{
	struct body	*b = arg;
	char		 quri[QUOTED_MAX], out[OUT_MAX];

	if (mcpd_json_quote(uri, quri, sizeof(quri)) < 0 ||
	    cf_bprintf(out, sizeof(out), "{\"contents\":[{\"uri\":%s,"
	    "\"mimeType\":\"%s\",\"%s\":%s}]}", quri, b->mime, b->field,
	    b->value) == -1) {
		mcpd_call_error(call, ERR_NOT_FOUND, "Resource not found");
		return;
	}
	mcpd_call_result(call, out);
}

#define TMPL_PREFIX	"test://template/"
#define TMPL_SUFFIX	"/data"

/* test://template/{id}/data: {"id":ID,"templateTest":true,"data":...} */
static void
read_template(struct mcpd_call *call, const char *uri, void *arg)
{
	char	 id[URI_MAX], qid[2 * URI_MAX], data[URI_MAX + 16];
	char	 qdata[2 * URI_MAX], inner[4 * URI_MAX];
	char	 text[8 * URI_MAX], quri[2 * URI_MAX];
	char	 out[12 * URI_MAX];
	size_t	 len, plen = strlen(TMPL_PREFIX), slen = strlen(TMPL_SUFFIX);

	len = strlen(uri);
	if (len <= plen + slen || len - plen - slen >= sizeof(id) ||
	    strncmp(uri, TMPL_PREFIX, plen) != 0 ||
	    strcmp(uri + len - slen, TMPL_SUFFIX) != 0) {
		mcpd_call_error(call, ERR_NOT_FOUND, "Resource not found");
		return;
	}
	memcpy(id, uri + plen, len - plen - slen);
	id[len - plen - slen] = '\0';
	if (strchr(id, '/') != NULL) {
		mcpd_call_error(call, ERR_NOT_FOUND, "Resource not found");
		return;
	}
	if (cf_bprintf(data, sizeof(data), "Data for ID: %s", id) == -1 ||
	    mcpd_json_quote(id, qid, sizeof(qid)) < 0 ||
	    mcpd_json_quote(data, qdata, sizeof(qdata)) < 0 ||
	    cf_bprintf(inner, sizeof(inner), "{\"id\":%s,\"templateTest\":true,"
	    "\"data\":%s}", qid, qdata) == -1 ||
	    mcpd_json_quote(inner, text, sizeof(text)) < 0 ||
	    mcpd_json_quote(uri, quri, sizeof(quri)) < 0 ||
	    cf_bprintf(out, sizeof(out), "{\"contents\":[{\"uri\":%s,"
	    "\"mimeType\":\"application/json\",\"text\":%s}]}", quri,
	    text) == -1) {
		mcpd_call_error(call, ERR_PARAMS, "Resource URI too long");
		return;
	}
	mcpd_call_result(call, out);
}

/* ---------------------------------------------------------- prompts */

static void
prompt_simple(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	mcpd_call_result(call, "{\"description\":\"A simple prompt without "
	    "arguments\",\"messages\":[{\"role\":\"user\",\"content\":{"
	    "\"type\":\"text\","
	    "\"text\":\"This is a simple prompt for testing.\"}}]}");
}

static void
prompt_missing(struct mcpd_call *call, const char *name)
{
	char	 msg[128];

	if (cf_bprintf(msg, sizeof(msg), "Invalid arguments: \"%s\" (a string "
	    "of at most %d bytes) is required", name, ARG_MAX - 1) == -1)
		msg[0] = '\0';
	mcpd_call_error(call, ERR_PARAMS, msg);
}

static void
prompt_arguments(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 a1[ARG_MAX], a2[ARG_MAX], q[QUOTED_MAX];
	char	 text[2 * ARG_MAX + 64], qtext[2 * QUOTED_MAX];
	char	 out[2 * QUOTED_MAX + 256];

	args_or_empty(&args, &len);
	if (arg_quoted(args, len, "arg1", a1, sizeof(a1), q,
	    sizeof(q)) == -1) {
		prompt_missing(call, "arg1");
		return;
	}
	if (arg_quoted(args, len, "arg2", a2, sizeof(a2), q,
	    sizeof(q)) == -1) {
		prompt_missing(call, "arg2");
		return;
	}
	if (cf_bprintf(text, sizeof(text), "Prompt with arguments: arg1='%s', "
	    "arg2='%s'", a1, a2) == -1 ||
	    mcpd_json_quote(text, qtext, sizeof(qtext)) < 0 ||
	    cf_bprintf(out, sizeof(out), "{\"description\":\"A prompt with "
	    "required arguments\",\"messages\":[{\"role\":\"user\","
	    "\"content\":{\"type\":\"text\",\"text\":%s}}]}", qtext) == -1) {
		mcpd_call_error(call, ERR_PARAMS, "Arguments too long");
		return;
	}
	mcpd_call_result(call, out);
}

static void
prompt_embedded(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 quri[QUOTED_MAX], out[QUOTED_MAX + 512];

	args_or_empty(&args, &len);
	if (arg_quoted(args, len, "resourceUri", NULL, 0, quri,
	    sizeof(quri)) == -1) {
		prompt_missing(call, "resourceUri");
		return;
	}
	if (cf_bprintf(out, sizeof(out), "{\"description\":\"A prompt that "
	    "includes an embedded resource\",\"messages\":["
	    "{\"role\":\"user\",\"content\":{\"type\":\"resource\","
	    "\"resource\":{\"uri\":%s,\"mimeType\":\"text/plain\","
	    "\"text\":\"Embedded resource content for testing.\"}}},"
	    "{\"role\":\"user\",\"content\":{\"type\":\"text\","
	    "\"text\":\"Please process the embedded resource above.\"}}]}",
	    quri) == -1) {
		mcpd_call_error(call, ERR_PARAMS, "Arguments too long");
		return;
	}
	mcpd_call_result(call, out);
}

static void
prompt_image(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	mcpd_call_result(call, "{\"description\":\"A prompt that includes "
	    "image content\",\"messages\":["
	    "{\"role\":\"user\",\"content\":{\"type\":\"image\","
	    "\"data\":\"" PNG_B64 "\",\"mimeType\":\"image/png\"}},"
	    "{\"role\":\"user\",\"content\":{\"type\":\"text\","
	    "\"text\":\"Please analyze the image above.\"}}]}");
}

/* ------------------------------------------------------- completion */

static const char *completions[] = { "paris", "park", "party" };

/* Suggestions for test_prompt_with_arguments; nothing for the rest. */
static void
complete(struct mcpd_call *call, const char *ref, const char *name,
    const char *argname, const char *value, void *arg)
{
	char	 out[256];
	size_t	 i, n = 0, off, vlen;
	int	 w;

	if (value == NULL)
		value = "";
	vlen = strlen(value);
	off = 0;
	w = snprintf(out, sizeof(out), "{\"completion\":{\"values\":[");
	if (w < 0 || (size_t)w >= sizeof(out))
		goto empty;
	off = w;
	if (ref != NULL && name != NULL && argname != NULL &&
	    strcmp(ref, "ref/prompt") == 0 &&
	    strcmp(name, "test_prompt_with_arguments") == 0 &&
	    (strcmp(argname, "arg1") == 0 || strcmp(argname, "arg2") == 0)) {
		for (i = 0; i < nitems(completions); i++) {
			if (strncmp(completions[i], value, vlen) != 0)
				continue;
			w = snprintf(out + off, sizeof(out) - off, "%s\"%s\"",
			    n > 0 ? "," : "", completions[i]);
			if (w < 0 || (size_t)w >= sizeof(out) - off)
				goto empty;
			off += w;
			n++;
		}
	}
	w = snprintf(out + off, sizeof(out) - off,
	    "],\"total\":%zu,\"hasMore\":false}}", n);
	if (w < 0 || (size_t)w >= sizeof(out) - off)
		goto empty;
	mcpd_call_result(call, out);
	return;
 empty:
	mcpd_call_result(call,
	    "{\"completion\":{\"values\":[],\"total\":0,\"hasMore\":false}}");
}

/* ------------------------------------------------------ registration */

static const struct mcpd_tool tools[] = {
	{ "test_simple_text", NULL, "Tests simple text content response",
	    EMPTY_SCHEMA, NULL, tool_simple_text, NULL },
	{ "test_image_content", NULL, "Tests image content response",
	    EMPTY_SCHEMA, NULL, tool_image, NULL },
	{ "test_audio_content", NULL, "Tests audio content response",
	    EMPTY_SCHEMA, NULL, tool_audio, NULL },
	{ "test_embedded_resource", NULL,
	    "Tests embedded resource content response",
	    EMPTY_SCHEMA, NULL, tool_embedded, NULL },
	{ "test_multiple_content_types", NULL,
	    "Tests response with multiple content types (text, image, "
	    "resource)", EMPTY_SCHEMA, NULL, tool_mixed, NULL },
	{ "test_tool_with_logging", NULL,
	    "Tests tool that emits log messages during execution",
	    EMPTY_SCHEMA, NULL, tool_logging, NULL },
	{ "test_tool_with_progress", NULL,
	    "Tests tool that reports progress notifications",
	    EMPTY_SCHEMA, NULL, tool_progress, NULL },
	{ "test_error_handling", NULL, "Tests error response handling",
	    EMPTY_SCHEMA, NULL, tool_error, NULL },
	{ "test_reconnection", NULL,
	    "Tests SSE stream disconnection and client reconnection "
	    "(SEP-1699). Server will close the stream mid-call and send the "
	    "result after client reconnects.",
	    EMPTY_SCHEMA, NULL, tool_reconnection, NULL },
	{ "test_sampling", NULL,
	    "Tests server-initiated sampling (LLM completion request)",
	    "{\"type\":\"object\",\"properties\":{\"prompt\":{"
	    "\"type\":\"string\","
	    "\"description\":\"The prompt to send to the LLM\"}},"
	    "\"required\":[\"prompt\"]}", NULL, tool_sampling, NULL },
	{ "test_elicitation", NULL,
	    "Tests server-initiated elicitation (user input request)",
	    "{\"type\":\"object\",\"properties\":{\"message\":{"
	    "\"type\":\"string\","
	    "\"description\":\"The message to show the user\"}},"
	    "\"required\":[\"message\"]}", NULL, tool_elicitation, NULL },
	{ "test_elicitation_sep1034_defaults", NULL,
	    "Tests elicitation with default values per SEP-1034",
	    EMPTY_SCHEMA, NULL, tool_elicit_fixed, &elicit_defaults },
	{ "test_elicitation_sep1330_enums", NULL,
	    "Tests elicitation with enum schema improvements per SEP-1330",
	    EMPTY_SCHEMA, NULL, tool_elicit_fixed, &elicit_enums },
	{ "json_schema_2020_12_tool", NULL,
	    "Tool with JSON Schema 2020-12 features for conformance testing "
	    "(SEP-1613)", SCHEMA_2020_12, NULL, tool_schema_2020_12, NULL }
};

static const struct mcpd_resource resources[] = {
	{ "test://static-text", "static-text", "Static Text Resource",
	    "A static text resource for testing", "text/plain",
	    read_static, &body_static_text },
	{ "test://static-binary", "static-binary", "Static Binary Resource",
	    "A static binary resource (image) for testing", "image/png",
	    read_static, &body_static_binary },
	{ "test://watched-resource", "watched-resource", "Watched Resource",
	    "A resource that accepts subscriptions", "text/plain",
	    read_static, &body_watched }
};

static const struct mcpd_resource templates[] = {
	{ "test://template/{id}/data", "template", "Resource Template",
	    "A resource template with parameter substitution",
	    "application/json", read_template, NULL }
};

static const struct mcpd_prompt_arg args_arguments[] = {
	{ "arg1", "First test argument", 1 },
	{ "arg2", "Second test argument", 1 }
};

static const struct mcpd_prompt_arg args_embedded[] = {
	{ "resourceUri", "URI of the resource to embed", 1 }
};

static const struct mcpd_prompt prompts[] = {
	{ "test_simple_prompt", "Simple Test Prompt",
	    "A simple prompt without arguments", NULL, 0,
	    prompt_simple, NULL },
	{ "test_prompt_with_arguments", "Prompt With Arguments",
	    "A prompt with required arguments", args_arguments,
	    nitems(args_arguments), prompt_arguments, NULL },
	{ "test_prompt_with_embedded_resource",
	    "Prompt With Embedded Resource",
	    "A prompt that includes an embedded resource", args_embedded,
	    nitems(args_embedded), prompt_embedded, NULL },
	{ "test_prompt_with_image", "Prompt With Image",
	    "A prompt that includes image content", NULL, 0,
	    prompt_image, NULL }
};

int
mcpd_plugin_init(struct mcpd_host *host, const char *arg)
{
	size_t	 i;

	for (i = 0; i < nitems(tools); i++)
		if (mcpd_register_tool(host, &tools[i]) == -1) {
			mcpd_log(host, "conformance: cannot register tool %s",
			    tools[i].name);
			return (-1);
		}
	for (i = 0; i < nitems(resources); i++)
		if (mcpd_register_resource(host, &resources[i]) == -1) {
			mcpd_log(host, "conformance: cannot register "
			    "resource %s", resources[i].uri);
			return (-1);
		}
	for (i = 0; i < nitems(templates); i++)
		if (mcpd_register_template(host, &templates[i]) == -1) {
			mcpd_log(host, "conformance: cannot register "
			    "template %s", templates[i].uri);
			return (-1);
		}
	for (i = 0; i < nitems(prompts); i++)
		if (mcpd_register_prompt(host, &prompts[i]) == -1) {
			mcpd_log(host, "conformance: cannot register "
			    "prompt %s", prompts[i].name);
			return (-1);
		}
	if (mcpd_register_completion(host, complete, NULL) == -1) {
		mcpd_log(host, "conformance: cannot register the completion "
		    "handler");
		return (-1);
	}
	if (conformance_stateless_init(host) == -1 ||
	    conformance_scoped_init(host) == -1)
		return (-1);
	return (conformance_tasks_init(host));
}
