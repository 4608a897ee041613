/*
 * scope.c -- OAuth scope lists: checked where they are declared (mcpd.conf,
 * a plugin), compared where a request is served.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "scope.h"

/* RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
static int
scope_char(int c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\';
}

int
scope_token_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!scope_char((unsigned char)s[i]))
			return 0;
	return 1;
}

int
scope_list_valid(const char *list, char *why, size_t whylen)
{
	const char	*p = list, *e;
	size_t		 n = 0;

	if (strlen(list) >= SCOPE_ITEM_MAX_BYTES) {
		snprintf(why, whylen, "scopes longer than %d bytes",
		    SCOPE_ITEM_MAX_BYTES - 1);
		return -1;
	}
	for (;;) {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		if (!scope_token_valid(p, (size_t)(e - p))) {
			snprintf(why, whylen, "invalid scope \"%.*s\" (visible "
			    "ASCII but '\"' and '\\')", (int)(e - p), p);
			return -1;
		}
		if (++n > SCOPE_ITEM_MAX) {
			snprintf(why, whylen, "more than %d scopes",
			    SCOPE_ITEM_MAX);
			return -1;
		}
		if (*e == '\0')
			return 0;
		p = e + 1;
	}
}

int
scope_has(const char *granted, const char *s, size_t len)
{
	const char *p = granted, *e;

	if (len == 0)
		return 0;
	for (;; p = e + 1) {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		/* whole tokens: a prefix of a granted scope is not granted */
		if ((size_t)(e - p) == len && memcmp(p, s, len) == 0)
			return 1;
		if (*e == '\0')
			return 0;
	}
}

int
scope_has_all(const char *granted, const char *need)
{
	const char *p = need, *e;

	if (need == NULL || *need == '\0')
		return 1;
	for (;; p = e + 1) {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		if (!scope_has(granted, p, (size_t)(e - p)))
			return 0;
		if (*e == '\0')
			return 1;
	}
}
