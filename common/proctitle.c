/*
 * proctitle.c -- "mcpd: worker 3" in ps(1).
 *
 * Linux has no setproctitle(3): move environ out of the way and write the
 * title over the argv strings (the nginx way), and set the comm name too.
 */
#include "config.h"

#include <sys/prctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

extern char **environ;

static char	*title_start;
/*
 * The new environment, and a second list of its strings: unsetenv() edits
 * environ in place and setenv() may replace it, and the copies must stay
 * reachable (LeakSanitizer does not scan libc's environ).
 */
static char	** volatile env_array;	/* volatile: stores are kept */
static char	** volatile env_copy;
static size_t	 title_len;

void
proctitle_init(int argc, char **argv)
{
	char	*end;
	char	**env;
	int	 i, n;

	if (argc == 0 || argv[0] == NULL)
		return;
	end = argv[0] + strlen(argv[0]) + 1;
	for (i = 1; i < argc; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		;
	for (i = 0; i < n; i++)
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
	if ((env = calloc(n + 1, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((env[i] = strdup(environ[i])) == NULL)
			return;
	/* unsetenv() edits environ in place: keep our own list of the copies */
	if ((env_copy = calloc(n + 1, sizeof(char *))) != NULL)
		memcpy(env_copy, env, n * sizeof(char *));
	environ = env_array = env;
	title_start = argv[0];
	title_len = end - argv[0];
	for (i = 1; i < argc; i++)
		argv[i] = NULL;
}

void
proctitle_set(const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	{
		char comm[sizeof(buf) + 8];

		snprintf(comm, sizeof(comm), "mcpd: %s", buf);
		comm[15] = '\0';	/* the kernel keeps 15 bytes */
		prctl(PR_SET_NAME, comm, 0, 0, 0);
	}
	if (title_start == NULL)
		return;
	memset(title_start, 0, title_len);
	snprintf(title_start, title_len, "mcpd: %s", buf);
}
