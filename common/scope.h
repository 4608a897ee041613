/*
 * scope.h -- OAuth scope lists (RFC 6749 3.3): what a tool, resource or
 * prompt needs, what a token grants, and whether the one holds the other.
 *
 * A list is scope tokens separated by one space.  A token is one or more
 * of %x21 / %x23-5B / %x5D-7E (visible ASCII but '"' and '\'), compared
 * whole and case-sensitively: "mcp:tool" is not "mcp:tools".
 */
#ifndef MCPD_SCOPE_H
#define MCPD_SCOPE_H

#include <stddef.h>

/*
 * What one item may need: a few scopes, short enough that the 403's
 * WWW-Authenticate line (auth.c) holds them next to the metadata URL.
 */
#define SCOPE_ITEM_MAX		16	/* scopes of one item */
#define SCOPE_ITEM_MAX_BYTES	512	/* those, joined, with NUL */

/* s[0..len) is one scope token. */
int	scope_token_valid(const char *s, size_t len);
/*
 * list is what an item may need: 1 to SCOPE_ITEM_MAX valid tokens, one
 * space between two, shorter than SCOPE_ITEM_MAX_BYTES.  0, or -1 with
 * why ("invalid scope \"x\"", ...).
 */
int	scope_list_valid(const char *list, char *why, size_t whylen);
/* granted (" "-separated) holds the token s[0..len). */
int	scope_has(const char *granted, const char *s, size_t len);
/* granted holds every token of need (NULL or "": nothing is needed). */
int	scope_has_all(const char *granted, const char *need);

#endif
