/*
 * auth.h -- a worker's side of authentication: mcpd as an OAuth 2.1
 * resource server on the HTTP listeners that name an auth block.
 */
#ifndef MCPD_WORKER_AUTH_H
#define MCPD_WORKER_AUTH_H

#include <stddef.h>

/* "static:NAME", or "jwt:ISS#SUB" (512 + 256), with NUL */
#define PRINCIPAL_MAX_BYTES	800
/* a token's granted scopes, " "-separated (a JWT's scope, a static token's) */
#define SCOPES_MAX_BYTES	2048
#define AUTH_META_PREFIX	"/.well-known/oauth-protected-resource"
/*
 * A WWW-Authenticate line: the metadata's URL (2 x 512 + 64 bytes at
 * most), the scopes an item needs (SCOPE_ITEM_MAX_BYTES) and our words
 */
#define AUTH_HEADER_MAX_BYTES	2048

struct conf;
struct conn;

/* The auth blocks of the configuration: tokens read, answers made. */
void	auth_load(const struct conf *);
/* The auth block of a listener (addr, port), or -1: none. */
int	auth_of_listener(const struct conf *, const char *addr,
	    unsigned port);
/*
 * A GET of the listener's RFC 9728 metadata: answered, 1; else 0.
 * Served whatever the request's token: it is how a client learns where
 * to get one.
 */
int	auth_serve_metadata(struct conn *);
/*
 * The request's bearer token, checked: 0 with the principal in the
 * request (r_principal, and its scopes in r_scopes); -1 when it was
 * answered (401, or 503); 1 when the request waits for the agent's word
 * on it (the connection busy), after which it goes on with
 * endpoint_authed() or is answered, and then request_served().  A
 * listener without auth: 0, and no principal.
 */
int	auth_check(struct conn *);
/* From the agent (agentc.c): keys, an answer on a token, its loss */
struct msg;
void	auth_keys(struct msg *);
void	auth_introspected(struct msg *);
void	auth_agent_lost(void);
/*
 * Step-up: the token is good but lacks a scope of need, what the item
 * the request names needs.  Answered 403 with an insufficient_scope
 * challenge (RFC 6750 3.1), counted and audited.
 */
void	auth_insufficient_scope(struct conn *, const char *need);

#endif
