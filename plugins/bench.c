/*
 * bench.c -- the plugin the benchmarks load: a tool "echo" that answers
 * its "text" argument, and a resource "bench://static" of 256 bytes.
 * Nothing more, so a benchmark measures mcpd, not the plugin.
 */

#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

extern const int	mcpd_plugin_abi;
int			mcpd_plugin_init(struct mcpd_host *, const char *);

const int		mcpd_plugin_abi = MCPD_PLUGIN_ABI;

/*
 * The decoded text is never longer than the arguments it comes from, so a
 * call needs len + 1 bytes: on the stack up to TEXT_STACK_BYTES (every
 * benchmark mix), else allocated for that call.  A fixed 1 MiB a call was
 * an mmap + munmap per request under ASan (650 req/s against 54,000).
 */
#define TEXT_STACK_BYTES	(8 * 1024)

static void
echo(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	char	 stack[TEXT_STACK_BYTES], *text = stack;
	size_t	 cap = sizeof(stack);

	if (args != NULL && len + 1 > cap) {
		cap = len + 1;
		if ((text = malloc(cap)) == NULL) {
			mcpd_call_error(call, -32603, "out of memory");
			return;
		}
	}
	if (args == NULL || mcpd_json_string(args, len, "/text", text,
	    cap) < 0)
		text[0] = '\0';
	mcpd_call_result_text(call, text, 0);
	if (text != stack)
		free(text);
}

static void
read_static(struct mcpd_call *call, const char *uri, void *arg)
{
	static char	body[512];

	if (body[0] == '\0') {
		static const char head[] = "{\"contents\":[{\"uri\":"
		    "\"bench://static\",\"mimeType\":\"text/plain\","
		    "\"text\":\"";

		memcpy(body, head, sizeof(head) - 1);
		memset(body + sizeof(head) - 1, 'x', 256);
		memcpy(body + sizeof(head) - 1 + 256, "\"}]}", 5);
	}
	mcpd_call_result(call, body);
}

static const struct mcpd_tool tool = {
	"echo", NULL, "Answers its text argument",
	"{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}",
	NULL, echo, NULL
};

static const struct mcpd_resource res = {
	"bench://static", "static", NULL, "256 bytes of text", "text/plain",
	read_static, NULL
};

int
mcpd_plugin_init(struct mcpd_host *host, const char *arg)
{
	if (mcpd_register_tool(host, &tool) == -1 ||
	    mcpd_register_resource(host, &res) == -1)
		return (-1);
	return (0);
}
