/*
 * tasks.c -- the fixtures of the conformance suite's tasks scenarios
 * (io.modelcontextprotocol/tasks, 2026-07-28): tools that become tasks
 * with mcpd_call_task(), end well or badly, ask questions inside the task,
 * and one that asks first and becomes a task after.  Part of
 * plugins/conformance.so.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"
#include "conformance.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

#define SCHEMA_NONE	"{\"type\":\"object\",\"properties\":{}}"
#define ERR_INTERNAL	-32603
#define ERR_CANCELLED	-32800

#define ELICIT_CONFIRM \
	"{\"mode\":\"form\",\"message\":\"Delete the file?\"," \
	"\"requestedSchema\":{\"type\":\"object\",\"properties\":" \
	"{\"confirm\":{\"type\":\"boolean\"}},\"required\":[\"confirm\"]}}"
#define ELICIT_NAME \
	"{\"mode\":\"form\",\"message\":\"Your name?\",\"requestedSchema\":" \
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":" \
	"\"string\"}},\"required\":[\"name\"]}}"

static void
tool_greet(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	char name[256], text[300];

	if (args == NULL || mcpd_json_string(args, len, "/name", name,
	    sizeof(name)) < 0)
		(void)cf_bprintf(name, sizeof(name), "%s", "World");
	(void)cf_bprintf(text, sizeof(text), "Hello, %s!", name);
	mcpd_call_result_text(call, text, 0);
}

/* ------------------------------------------------------ slow_compute */

static void
compute_done(struct mcpd_call *call, void *arg)
{
	mcpd_call_result_text(call, "Computed", 0);
}

static void
compute_cancel(struct mcpd_call *call, void *arg)
{
	mcpd_call_error(call, ERR_CANCELLED, "Request cancelled");
}

static void
tool_slow_compute(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 num[32], *end;
	long	 secs = 0;

	if (args != NULL && mcpd_json_text(args, len, "/seconds", num,
	    sizeof(num)) > 0)
		secs = strtol(num, &end, 10);
	if (secs < 0 || secs > 3600) {
		mcpd_call_result_text(call, "seconds: 0 to 3600", 1);
		return;
	}
	if (secs == 0) {
		mcpd_call_result_text(call, "Computed at once", 0);
		return;
	}
	/* a task if the client takes one, else the answer comes later */
	(void)mcpd_call_task(call);
	mcpd_call_on_cancel(call, compute_cancel, NULL);
	if (mcpd_call_after(call, (unsigned)secs * 1000, compute_done,
	    NULL) == -1)
		mcpd_call_error(call, ERR_INTERNAL, "no timer");
}

/* ------------------------------------------- failing_job, protocol_error */

static void
fail_tool(struct mcpd_call *call, void *arg)
{
	mcpd_call_result_text(call, "The job failed", 1);
}

static void
fail_protocol(struct mcpd_call *call, void *arg)
{
	mcpd_call_error(call, ERR_INTERNAL, "The job hit an internal error");
}

static void
tool_failing_job(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	(void)mcpd_call_task(call);
	if (mcpd_call_after(call, arg != NULL ? 500 : 1000,
	    arg != NULL ? fail_protocol : fail_tool, NULL) == -1)
		mcpd_call_error(call, ERR_INTERNAL, "no timer");
}

/* ---------------------------------------------------- confirm_delete */

static void
confirm_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char	*file = arg, ok[8], text[600];

	if (is_error)
		mcpd_call_result_text(call, "No confirmation", 1);
	else {
		if (mcpd_json_text(json, len, "/content/confirm", ok,
		    sizeof(ok)) < 0)
			(void)cf_bprintf(ok, sizeof(ok), "%s", "false");
		(void)cf_bprintf(text, sizeof(text), "%s %s", strcmp(ok,
		    "true") == 0 ? "Deleted" : "Kept", file);
		mcpd_call_result_text(call, text, 0);
	}
	free(file);
}

static void
tool_confirm_delete(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	char	 name[256], *file;

	if (args == NULL || mcpd_json_string(args, len, "/filename", name,
	    sizeof(name)) < 0)
		(void)cf_bprintf(name, sizeof(name), "%s", "(no file)");
	if ((file = strdup(name)) == NULL) {
		mcpd_call_error(call, ERR_INTERNAL, "out of memory");
		return;
	}
	(void)mcpd_call_task(call);
	if (mcpd_call_input(call, "confirm", "elicitation/create",
	    ELICIT_CONFIRM, confirm_reply, file) == -1) {
		free(file);
		mcpd_call_result_text(call, "Could not ask to confirm", 1);
	}
}

/* ------------------------------------------------------- multi_input */

struct both {
	unsigned	 b_left;
	unsigned	 b_failed;
};

static void
both_reply(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	struct both *b = arg;

	if (is_error)
		b->b_failed++;
	if (--b->b_left > 0)
		return;
	mcpd_call_result_text(call, b->b_failed ? "Not answered" :
	    "Both answered", b->b_failed != 0);
	free(b);
}

static void
tool_multi_input(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	struct both *b;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		mcpd_call_error(call, ERR_INTERNAL, "out of memory");
		return;
	}
	b->b_left = 2;
	(void)mcpd_call_task(call);
	if (mcpd_call_input(call, "first", "elicitation/create", ELICIT_NAME,
	    both_reply, b) == -1)
		b->b_left--, b->b_failed++;
	if (mcpd_call_input(call, "second", "elicitation/create",
	    ELICIT_CONFIRM, both_reply, b) == -1)
		b->b_left--, b->b_failed++;
	if (b->b_left == 0) {
		mcpd_call_result_text(call, "Could not ask", 1);
		free(b);
	}
}

/* ------------------------------------------- test_tool_with_task */

static void
name_then_task(struct mcpd_call *call, int is_error, const char *json,
    size_t len, void *arg)
{
	char name[256], text[300];

	if (is_error) {
		mcpd_call_result_text(call, "No name", 1);
		return;
	}
	if (mcpd_json_string(json, len, "/content/name", name,
	    sizeof(name)) < 0)
		(void)cf_bprintf(name, sizeof(name), "%s", "stranger");
	/* the question was answered synchronously: now the long part */
	(void)mcpd_call_task(call);
	(void)cf_bprintf(text, sizeof(text), "Hello, %s!", name);
	mcpd_call_result_text(call, text, 0);
}

static void
tool_with_task(struct mcpd_call *call, const char *args, size_t len,
    void *arg)
{
	if (mcpd_call_input(call, "user_name", "elicitation/create",
	    ELICIT_NAME, name_then_task, NULL) == -1)
		mcpd_call_result_text(call, "Could not ask for a name", 1);
}

/* ------------------------------------------------------ registration */

static const struct {
	struct mcpd_tool		tool;
	enum mcpd_task_support		task;
} tools[] = {
	{ { "greet", NULL, "Greets by name, at once (never a task)",
	    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
	    "\"string\"}}}", NULL, tool_greet, NULL }, MCPD_TASK_FORBIDDEN },
	{ { "slow_compute", NULL, "Computes for the given seconds (a task "
	    "if the client takes one)",
	    "{\"type\":\"object\",\"properties\":{\"seconds\":{\"type\":"
	    "\"integer\"},\"label\":{\"type\":\"string\"}}}", NULL,
	    tool_slow_compute, NULL }, MCPD_TASK_OPTIONAL },
	{ { "failing_job", NULL, "A task whose tool reports an error",
	    SCHEMA_NONE, NULL, tool_failing_job, NULL },
	    MCPD_TASK_REQUIRED },
	{ { "protocol_error_job", NULL, "A task that fails with an error",
	    SCHEMA_NONE, NULL, tool_failing_job, "protocol" },
	    MCPD_TASK_OPTIONAL },
	{ { "confirm_delete", NULL, "Asks to confirm inside a task",
	    "{\"type\":\"object\",\"properties\":{\"filename\":{\"type\":"
	    "\"string\"}}}", NULL, tool_confirm_delete, NULL },
	    MCPD_TASK_OPTIONAL },
	{ { "multi_input", NULL, "Asks two questions inside a task",
	    SCHEMA_NONE, NULL, tool_multi_input, NULL }, MCPD_TASK_OPTIONAL },
	{ { "test_tool_with_task", NULL, "Asks a name, then becomes a task",
	    SCHEMA_NONE, NULL, tool_with_task, NULL }, MCPD_TASK_REQUIRED }
};

int
conformance_tasks_init(struct mcpd_host *host)
{
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (mcpd_register_tool(host, &tools[i].tool) == -1 ||
		    mcpd_set_task_support(host, tools[i].tool.name,
		    tools[i].task) == -1) {
			mcpd_log(host, "conformance: cannot register tool %s",
			    tools[i].tool.name);
			return (-1);
		}
	return (0);
}
