/*
 * hello.c -- an mcpd plugin (mcpd-plugin(3)) with one tool, "hello",
 * that greets its "name" argument.  Build it against the installed
 * header, and name it in mcpd.conf:
 *
 *	cc -shared -fPIC $(pkg-config --cflags mcpd-plugin) -o hello.so hello.c
 *	plugin "/path/to/hello.so"
 */

#include <stdio.h>

#include <mcpd/plugin.h>

extern const int	mcpd_plugin_abi;
int			mcpd_plugin_init(struct mcpd_host *, const char *);

const int		mcpd_plugin_abi = MCPD_PLUGIN_ABI;

static void
hello(struct mcpd_call *call, const char *args, size_t len, void *arg)
{
	char	name[128], text[160];

	(void)arg;
	if (args == NULL || mcpd_json_string(args, len, "/name", name,
	    sizeof(name)) < 0)
		snprintf(name, sizeof(name), "world");
	snprintf(text, sizeof(text), "Hello, %s!", name);
	mcpd_call_result_text(call, text, 0);
}

static const struct mcpd_tool tool = {
	"hello", NULL, "Greets the one it is given",
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}",
	NULL, hello, NULL
};

int
mcpd_plugin_init(struct mcpd_host *host, const char *arg)
{
	(void)arg;
	return mcpd_register_tool(host, &tool) == -1 ? -1 : 0;
}
