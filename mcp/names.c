/*
 * names.c -- the protocol's names both eras share: the versions we speak,
 * the log levels, the client capabilities.
 *
 * One table of versions serves negotiation (session era), era selection,
 * server/discover and the -32022 error, so they cannot disagree.
 */
#include "config.h"

#include <string.h>

#include "mcp_int.h"

/* newest first; the first NSTATELESS are of the stateless era */
static const char *const versions[] = {
	MCP_VERSION_STATELESS, MCP_VERSION_LATEST, "2025-06-18", "2025-03-26"
};
#define NVERSIONS	(sizeof(versions) / sizeof(versions[0]))
#define NSTATELESS	1

static const char *const levels[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency"
};
#define NLEVELS		(sizeof(levels) / sizeof(levels[0]))

int
mcp_level_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < NLEVELS; i++)
		if (strcmp(s, levels[i]) == 0)
			return (int)i;
	return -1;
}

const char *
mcp_level_name(int l)
{
	if (l < 0 || (size_t)l >= NLEVELS)
		return "info";
	return levels[l];
}

int
mcp_version_stateless(const char *v)
{
	size_t i;

	for (i = 0; i < NSTATELESS; i++)
		if (strcmp(v, versions[i]) == 0)
			return 1;
	return 0;
}

int
mcp_version_supported(const char *v)
{
	size_t i;

	for (i = NSTATELESS; i < NVERSIONS; i++)
		if (strcmp(v, versions[i]) == 0)
			return 1;
	return 0;
}

/* Echo a version we speak; anything else (2024-11-05 too) gets ours. */
const char *
mcp_version_negotiate(const char *v)
{
	size_t i;

	for (i = NSTATELESS; i < NVERSIONS; i++)
		if (strcmp(v, versions[i]) == 0)
			return versions[i];
	return MCP_VERSION_LATEST;
}

void
mcp_write_versions(struct jw *w)
{
	size_t i;

	jw_arr(w);
	for (i = 0; i < NVERSIONS; i++)
		jw_str(w, versions[i]);
	jw_arr_end(w);
}

int
cap_bit(const char *cap)
{
	if (strcmp(cap, "sampling") == 0)
		return CAP_SAMPLING;
	if (strcmp(cap, "elicitation") == 0)
		return CAP_ELICIT;
	if (strcmp(cap, "roots") == 0)
		return CAP_ROOTS;
	if (strcmp(cap, MCP_TASKS_EXT) == 0 ||
	    strcmp(cap, "tasks") == 0)
		return CAP_TASKS;
	return 0;
}
