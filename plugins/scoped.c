/*
 * scoped.c -- mcpd's own fixtures for step-up authorization: a tool and
 * a resource template that a plugin declares with the scopes they need
 * (mcpd_set_scope()).  Not the conformance suite's: its scenarios know
 * no scopes.  Part of plugins/conformance.so, which the integration tests
 * load.
 */

#include <stdio.h>
#include <string.h>

#include "plugin.h"
#include "conformance.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

#define SCHEMA_NONE	"{\"type\":\"object\",\"properties\":{}}"
#define TOOL_SCOPES	"mcp:tools plugin:admin"	/* both needed */
#define TEMPLATE_SCOPES	"plugin:read"

static void
tool_scoped(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	mcpd_call_result_text(call, "scoped tool ran", 0);
}

static void
read_scoped(struct mcpd_call *call, const char *uri, void *arg)
{
	char	q[1100], json[1200];

	if (mcpd_json_quote(uri, q, sizeof(q)) == -1 ||
	    cf_bprintf(json, sizeof(json), "{\"contents\":[{\"uri\":%s,"
	    "\"mimeType\":\"text/plain\",\"text\":\"scoped\"}]}", q) == -1) {
		mcpd_call_error(call, -32602, "URI too long");
		return;
	}
	mcpd_call_result(call, json);
}

static const struct mcpd_tool tool = {
	"test_scoped_tool", NULL, "Needs the scopes " TOOL_SCOPES,
	SCHEMA_NONE, NULL, tool_scoped, NULL
};

static const struct mcpd_resource tmpl = {
	"test://scoped/{id}", "scoped", "Scoped Template",
	"Needs the scope " TEMPLATE_SCOPES, "text/plain", read_scoped, NULL
};

int
conformance_scoped_init(struct mcpd_host *host)
{
	if (mcpd_register_tool(host, &tool) == -1 ||
	    mcpd_set_scope(host, MCPD_ITEM_TOOL, tool.name, TOOL_SCOPES) ==
	    -1 || mcpd_register_template(host, &tmpl) == -1 ||
	    mcpd_set_scope(host, MCPD_ITEM_TEMPLATE, tmpl.uri,
	    TEMPLATE_SCOPES) == -1) {
		mcpd_log(host, "conformance: cannot register the scoped "
		    "fixtures");
		return (-1);
	}
	return (0);
}
