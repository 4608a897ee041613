/*
 * auth.c -- bearer tokens on the HTTP listeners that name an auth block.
 *
 * A request to such a listener carries "Authorization: Bearer TOKEN"
 * (RFC 6750 2.1; a token in the query or the body is not looked at), or
 * gets 401 with a WWW-Authenticate challenge that points to the RFC 9728
 * metadata of the resource, served here, so that a client can find its
 * authorization server.  A token is checked against the auth block's
 * static tokens (common/tokens.c: a hash and a binary search); the
 * principal it stands for is what the request's rate is counted on.
 *
 * A token with two dots is a JSON Web Token when the block has an issuer
 * and its keys (common/jwt.c: the signature, iss, aud, exp...); one
 * verified once is kept in a small cache until it expires, so that a
 * client that sends the same token on every request costs a short hash
 * (SipHash of its signature, under a key of this process, picks the slot)
 * and a compare of the whole token, not a signature check.  An entry is
 * overwritten by the next token of the same slot: the cache is bounded
 * (AUTH_CACHE_ENTRIES a worker, each token at most JWT_MAX_BYTES) and
 * never grows.
 *
 * An auth block without a jwks-file has its keys from the agent (over
 * msg_agent.def: the agent fetches them, and again when a token names a
 * kid they lack, which we tell it, at most once in AUTH_MISS_TELL_MS).
 * Until they come, a JSON Web Token gets 503: we cannot say it is bad.
 *
 * An opaque token of a block with an introspection-endpoint is asked
 * about through the agent (RFC 7662): the request waits, its connection
 * held (a reference, as a call holds it), until the answer comes; an
 * active token is cached like a JWT, until the time the agent gives.  At
 * most introspection-pending requests of a block wait in a worker, and
 * without an agent none: beyond, 503 with Retry-After.
 *
 * Everything here is made once, when the configuration is loaded: the
 * metadata document, its path, and the two challenges.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/mman.h>
#include <sys/queue.h>

#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "registry.h"
#include "jwt.h"
#include "scope.h"
#include "tokens.h"
#include "util.h"

#define AUTH_CACHE_ENTRIES	1024	/* verified tokens kept, a worker */
#define AUTH_MISS_TELL_MS	1000	/* "a kid we lack", to the agent */

struct wauth {
	const struct conf_auth	*wa_conf;
	struct tokens		 wa_tokens;
	struct jw		 wa_meta;	/* the metadata document */
	char			 wa_meta_path[CONF_AUTH_URI_MAX_BYTES + 64];
	/* its URL: the resource's origin, the prefix and the path */
	char			 wa_meta_url[2 * CONF_AUTH_URI_MAX_BYTES + 64];
	char			 wa_challenge[AUTH_HEADER_MAX_BYTES];
	char			 wa_invalid[AUTH_HEADER_MAX_BYTES];
	char			 wa_expired[AUTH_HEADER_MAX_BYTES];
	struct jwks		*wa_jwks;	/* NULL: no JWTs */
	struct jwt_policy	 wa_policy;
	int			 wa_fetched;	/* the agent brings the keys */
	ev_tstamp		 wa_miss_told;
	uint32_t		 wa_waiting;	/* requests on introspection */
};

/* A request waiting for the agent's word on its token. */
struct waiting {
	TAILQ_ENTRY(waiting)	 q_entry;
	uint32_t		 q_id;
	int			 q_auth;
	struct conn		*q_conn;
	char			*q_tok;
	size_t			 q_len;
};

/* A verified JWT: whose it is, until when. */
struct cached {
	char		*ce_tok;	/* the token, whole */
	size_t		 ce_len;
	int64_t		ce_exp;		/* 0: empty */
	int		ce_auth;
	char		ce_principal[PRINCIPAL_MAX_BYTES];
	char		ce_scopes[SCOPES_MAX_BYTES];
};

static struct cached	*cache;
static unsigned char	 cache_key[crypto_shorthash_KEYBYTES];

static struct wauth	auths[CONF_AUTHS_MAX];
static uint32_t		nauths;
static int		loaded;

static TAILQ_HEAD(, waiting)		 waits = TAILQ_HEAD_INITIALIZER(waits);
static uint32_t				 wait_ids;

/* The path of an https URI ("" for none), and the URI up to it. */
static const char *
uri_path(const char *uri, size_t *originlen)
{
	const char *host = strstr(uri, "://"), *p;

	host = host != NULL ? host + 3 : uri;
	p = strchr(host, '/');
	*originlen = p != NULL ? (size_t)(p - uri) : strlen(uri);
	return p != NULL ? p : "";
}

/* The issuer's keys; none when they do not load: every JWT is 401. */
static void
jwks_load(struct wauth *wa, const struct conf_auth *a)
{
	char	*buf, err[CONF_PATH_MAX_BYTES + 256];
	size_t	 len;

	jwt_policy_init(&wa->wa_policy);
	wa->wa_policy.p_issuer = a->a_jwt_issuer;
	wa->wa_policy.p_audience = a->a_audience != NULL ? a->a_audience :
	    a->a_resource;
	wa->wa_policy.p_skew_secs = (int)(a->a_skew_ms / 1000);
	if (file_read(a->a_jwks_file, JWKS_MAX_BYTES, &buf, &len, err,
	    sizeof(err)) == -1) {
		log_warnx("auth %s: jwks-file: %s: every JSON Web Token is "
		    "refused", a->a_name, err);
		return;
	}
	if ((wa->wa_jwks = jwks_parse(buf, len, err, sizeof(err))) == NULL)
		log_warnx("auth %s: jwks-file: %s: %s: every JSON Web Token "
		    "is refused", a->a_name, a->a_jwks_file, err);
	free(buf);
}

static void
make(struct wauth *wa, const struct conf_auth *a)
{
	char		*url = wa->wa_meta_url;
	char		 scope[CONF_AUTH_SCOPES_MAX * 64];
	const char	*path;
	size_t		 olen, used = 0;
	uint32_t	 i;
	char		 err[CONF_PATH_MAX_BYTES + 128];

	wa->wa_conf = a;
	/* RFC 9728 3.1: the well-known part goes between host and path */
	path = uri_path(a->a_resource, &olen);
	if (strcmp(path, "/") == 0)
		path = "";
	snprintf(wa->wa_meta_path, sizeof(wa->wa_meta_path), "%s%s",
	    AUTH_META_PREFIX, path);
	snprintf(url, sizeof(wa->wa_meta_url), "%.*s%s", (int)olen,
	    a->a_resource, wa->wa_meta_path);

	jw_init(&wa->wa_meta);
	jw_obj(&wa->wa_meta);
	jw_key(&wa->wa_meta, "resource");
	jw_str(&wa->wa_meta, a->a_resource);
	if (a->a_nservers > 0) {
		jw_key(&wa->wa_meta, "authorization_servers");
		jw_arr(&wa->wa_meta);
		for (i = 0; i < a->a_nservers; i++)
			jw_str(&wa->wa_meta, a->a_servers[i]);
		jw_arr_end(&wa->wa_meta);
	}
	if (a->a_nscopes > 0) {
		jw_key(&wa->wa_meta, "scopes_supported");
		jw_arr(&wa->wa_meta);
		for (i = 0; i < a->a_nscopes; i++)
			jw_str(&wa->wa_meta, a->a_scopes[i]);
		jw_arr_end(&wa->wa_meta);
	}
	jw_key(&wa->wa_meta, "bearer_methods_supported");
	jw_arr(&wa->wa_meta);
	jw_str(&wa->wa_meta, "header");
	jw_arr_end(&wa->wa_meta);
	jw_key(&wa->wa_meta, "resource_name");
	jw_str(&wa->wa_meta, "mcpd");
	jw_obj_end(&wa->wa_meta);
	jw_raw(&wa->wa_meta, "\n", 1);
	if (wa->wa_meta.err)
		fatalx("auth %s: the metadata: out of memory", a->a_name);

	scope[0] = '\0';
	for (i = 0; i < a->a_nscopes && used + strlen(a->a_scopes[i]) + 2 <
	    sizeof(scope); i++)
		used += (size_t)snprintf(scope + used, sizeof(scope) - used,
		    "%s%s", i > 0 ? " " : "", a->a_scopes[i]);
	/* RFC 6750 3.1: no error code when the request had no token */
	if (snprintf(wa->wa_challenge, sizeof(wa->wa_challenge),
	    "WWW-Authenticate: Bearer resource_metadata=\"%s\"%s%s%s\r\n",
	    url, scope[0] ? ", scope=\"" : "", scope, scope[0] ? "\"" : "") >=
	    (int)sizeof(wa->wa_challenge))
		/* the scopes are in the metadata too */
		snprintf(wa->wa_challenge, sizeof(wa->wa_challenge),
		    "WWW-Authenticate: Bearer resource_metadata=\"%s\"\r\n",
		    url);
	snprintf(wa->wa_invalid, sizeof(wa->wa_invalid),
	    "WWW-Authenticate: Bearer resource_metadata=\"%s\", "
	    "error=\"invalid_token\", error_description=\"The access token "
	    "is not valid\"\r\n", url);
	snprintf(wa->wa_expired, sizeof(wa->wa_expired),
	    "WWW-Authenticate: Bearer resource_metadata=\"%s\", "
	    "error=\"invalid_token\", error_description=\"The access token "
	    "expired\"\r\n", url);
	if (a->a_jwks_file != NULL)
		jwks_load(wa, a);
	else if (CONF_AUTH_FETCHES_KEYS(a)) {
		jwt_policy_init(&wa->wa_policy);
		wa->wa_policy.p_issuer = a->a_jwt_issuer;
		wa->wa_policy.p_audience = a->a_audience != NULL ?
		    a->a_audience : a->a_resource;
		wa->wa_policy.p_skew_secs = (int)(a->a_skew_ms / 1000);
		wa->wa_fetched = 1;
	}

	/*
	 * Read as mcpd's user; the supervisor's parse found it readable
	 * as root.  One that fails now leaves no token valid: closed.
	 */
	if (a->a_static_tokens != NULL &&
	    tokens_load(a->a_static_tokens, &wa->wa_tokens, err,
	    sizeof(err)) == -1)
		log_warnx("auth %s: static-tokens: %s: every request to its "
		    "listeners gets 401", a->a_name, err);
}

/*
 * Once a process: a reload that changes an auth block starts a new
 * generation of workers (a catalog-only one leaves them as they are).
 * The agent's channel may come first: it loads them then.
 */
void
auth_load(const struct conf *c)
{
	uint32_t	i;

	if (loaded)
		return;
	loaded = 1;
	randombytes_buf(cache_key, sizeof(cache_key));
	for (i = 0; i < c->c_nauths && i < CONF_AUTHS_MAX; i++)
		make(&auths[nauths++], &c->c_auths[i]);
	if (nauths > 0 &&
	    (cache = calloc(AUTH_CACHE_ENTRIES, sizeof(*cache))) == NULL)
		fatal("auth: the token cache");
}

int
auth_of_listener(const struct conf *c, const char *addr, unsigned port)
{
	const struct conf_listener	*l;
	uint32_t			 i;

	for (i = 0; i < c->c_nlisteners; i++) {
		l = &c->c_listeners[i];
		if (l->l_kind == LISTEN_HTTP && l->l_port == port &&
		    strcmp(l->l_addr, addr) == 0)
			return l->l_auth_idx;
	}
	return -1;
}

int
auth_serve_metadata(struct conn *c)
{
	const struct rhead	*h = &c->c_req->r_head;
	const struct wauth	*wa;
	int			 m = c->c_parser.method;

	if (c->c_auth < 0 || (uint32_t)c->c_auth >= nauths)
		return 0;
	if (m != HTTP_GET && m != HTTP_HEAD)
		return 0;
	wa = &auths[c->c_auth];
	if (!head_path_is(h, wa->wa_meta_path) &&
	    !head_path_is(h, AUTH_META_PREFIX))
		return 0;
	reply(c, 200, "application/json", "Cache-Control: max-age=300\r\n",
	    wa->wa_meta.buf, wa->wa_meta.len);
	return 1;
}

/* 401, with the challenge; counted as a refusal, and audited. */
static int
unauthorized(struct conn *c, const char *challenge, const char *message)
{
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[MX_R_AUTH], 1);
	audit_denied(c, strstr(challenge, "expired") != NULL ? "expired" :
	    strstr(challenge, "invalid_token") != NULL ? "invalid_token" :
	    "no_token");
	reply_error(c, 401, MCP_SERVER_ERROR, message, challenge);
	return -1;
}

/* 503: the token cannot be judged now (no keys, no answer); try again. */
static int
unavailable(struct conn *c, const char *why)
{
	char msg[256];

	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[MX_R_AUTH], 1);
	audit_denied(c, "unavailable");
	snprintf(msg, sizeof(msg), "Service Unavailable: %s", why);
	reply_error(c, 503, MCP_SERVER_ERROR, msg, "Retry-After: 1\r\n");
	return -1;
}

void
auth_insufficient_scope(struct conn *c, const char *need)
{
	const struct wauth	*wa;
	char			 hdr[AUTH_HEADER_MAX_BYTES];
	char			 msg[SCOPE_ITEM_MAX_BYTES + 64];

	if (c->c_auth < 0 || (uint32_t)c->c_auth >= nauths)
		fatalx("%s: a listener without auth", __func__);
	wa = &auths[c->c_auth];
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[MX_R_SCOPE], 1);
	c->c_req->r_scope_denied = 1;	/* audit_request() says so */
	/*
	 * RFC 6750 3.1 and the MCP scope challenge: the scopes this request
	 * needs (scope tokens hold no '"' or '\'), and where the metadata is
	 */
	snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer "
	    "error=\"insufficient_scope\", scope=\"%s\", "
	    "resource_metadata=\"%s\", error_description=\"The access token "
	    "lacks a scope this request needs\"\r\n", need, wa->wa_meta_url);
	snprintf(msg, sizeof(msg), "Forbidden: insufficient scope (needs %s)",
	    need);
	reply_error(c, 403, MCP_SERVER_ERROR, msg, hdr);
}

/* A compact JWS: three parts. */
static int
is_jwt(const char *tok)
{
	const char *d1 = strchr(tok, '.');

	return d1 != NULL && strchr(d1 + 1, '.') != NULL;
}

/*
 * The cache's slot for a token: SipHash, under a key of this process, of
 * what tells tokens apart (a JWT's signature, an opaque token whole).
 */
static struct cached *
cache_slot(const char *tok, size_t len, int jwt)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	const char	*part = jwt ? strrchr(tok, '.') + 1 : tok;
	uint64_t	 slot;

	crypto_shorthash(h, (const unsigned char *)part,
	    jwt ? strlen(part) : len, cache_key);
	memcpy(&slot, h, sizeof(slot));
	return &cache[slot % AUTH_CACHE_ENTRIES];
}

/* A cached token's principal and scopes, while it is valid: 1; else 0. */
static int
cache_find(struct conn *c, const struct wauth *wa, const char *tok,
    size_t len, int jwt, time_t now)
{
	struct hreq	*r = c->c_req;
	struct cached	*ce = cache_slot(tok, len, jwt);

	if (ce->ce_exp == 0 || ce->ce_auth != c->c_auth ||
	    ce->ce_len != len || sodium_memcmp(ce->ce_tok, tok, len) != 0)
		return 0;
	if (now >= ce->ce_exp + (jwt ? wa->wa_policy.p_skew_secs : 0)) {
		ce->ce_exp = 0;		/* it expired: said below */
		return 0;
	}
	memcpy(r->r_principal, ce->ce_principal,
	    strlen(ce->ce_principal) + 1);
	memcpy(r->r_scopes, ce->ce_scopes, strlen(ce->ce_scopes) + 1);
	return 1;
}

/* Keep the request's principal and scopes for tok, until exp. */
static void
cache_put(struct conn *c, const char *tok, size_t len, int jwt,
    int64_t exp)
{
	struct hreq	*r = c->c_req;
	struct cached	*ce = cache_slot(tok, len, jwt);

	free(ce->ce_tok);
	if ((ce->ce_tok = malloc(len)) == NULL) {
		ce->ce_exp = 0;		/* not kept: checked again next time */
		return;
	}
	memcpy(ce->ce_tok, tok, len);
	ce->ce_len = len;
	ce->ce_exp = exp;
	ce->ce_auth = c->c_auth;
	memcpy(ce->ce_principal, r->r_principal, sizeof(ce->ce_principal));
	memcpy(ce->ce_scopes, r->r_scopes, sizeof(ce->ce_scopes));
}

/* New keys of auth block i: what the old ones verified is verified again. */
static void
cache_drop(int auth)
{
	uint32_t i;

	for (i = 0; cache != NULL && i < AUTH_CACHE_ENTRIES; i++)
		if (cache[i].ce_auth == auth)
			cache[i].ce_exp = 0;
}

/* A token named a key we lack: tell the agent (it limits the fetches). */
static void
tell_miss(struct conn *c, struct wauth *wa)
{
	struct chan	*agent;
	ev_tstamp	 now = ev_now(worker->w_loop);

	if ((agent = agentc()) == NULL || !wa->wa_fetched ||
	    (now - wa->wa_miss_told) * 1000 < AUTH_MISS_TELL_MS)
		return;
	wa->wa_miss_told = now;
	if (chan_send(agent, MSG_AGT_KEY_MISS, -1, (uint64_t)c->c_auth,
	    "") == -1)
		log_warn("auth %s: to the agent", wa->wa_conf->a_name);
}

/*
 * A JSON Web Token: from the cache while it is valid, else verified (and
 * cached).  The principal is the issuer and the subject (or the client,
 * for a token of a client acting for itself).
 */
static int
jwt_check(struct conn *c, struct wauth *wa, const char *tok)
{
	struct hreq		*r = c->c_req;
	struct jwt_claims	 cl;
	char			 why[256];
	size_t			 len = strlen(tok);
	time_t			 now = time(NULL);
	int			 e;

	if (cache_find(c, wa, tok, len, 1, now))
		return 0;
	if (wa->wa_jwks == NULL && wa->wa_fetched)
		return unavailable(c, "the issuer's keys are not here yet");
	if (wa->wa_jwks == NULL)
		return unauthorized(c, wa->wa_invalid, "Unauthorized: the "
		    "access token is not valid");
	if ((e = jwt_verify(wa->wa_jwks, tok, len, &wa->wa_policy, now, &cl,
	    why, sizeof(why))) != JWT_OK) {
		log_debug("fd %d: auth %s: a JSON Web Token refused: %s",
		    c->c_fd, wa->wa_conf->a_name, why);
		if (e == JWT_E_KID)
			tell_miss(c, wa);
		return unauthorized(c, e == JWT_E_EXPIRED ? wa->wa_expired :
		    wa->wa_invalid, e == JWT_E_EXPIRED ? "Unauthorized: the "
		    "access token expired" : "Unauthorized: the access token "
		    "is not valid");
	}
	if (cl.c_sub[0] != '\0')
		snprintf(r->r_principal, sizeof(r->r_principal), "jwt:%s#%s",
		    cl.c_iss, cl.c_sub);
	else if (cl.c_client_id[0] != '\0')
		snprintf(r->r_principal, sizeof(r->r_principal),
		    "jwt:%s#client:%s", cl.c_iss, cl.c_client_id);
	else
		return unauthorized(c, wa->wa_invalid, "Unauthorized: the "
		    "access token names no subject");
	if (snprintf(r->r_scopes, sizeof(r->r_scopes), "%s", cl.c_scope) >=
	    (int)sizeof(r->r_scopes))
		r->r_scopes[0] = '\0';	/* more than we keep: none counted */
	cache_put(c, tok, len, 1, cl.c_exp);
	return 0;
}

/*
 * An opaque token of a block with introspection: cached, or asked about
 * through the agent while the request waits (1).
 */
static int
introspect(struct conn *c, struct wauth *wa, const char *tok)
{
	struct waiting	*q;
	struct chan	*agent = agentc();
	size_t		 len = strlen(tok);

	if (cache_find(c, wa, tok, len, 0, time(NULL)))
		return 0;
	if (agent == NULL)
		return unavailable(c, "the token cannot be checked now");
	if (wa->wa_waiting >= wa->wa_conf->a_introspection_pending)
		return unavailable(c, "too many tokens being checked");
	if (len > JWT_MAX_BYTES)
		return unauthorized(c, wa->wa_invalid, "Unauthorized: the "
		    "access token is not valid");
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->q_tok = malloc(len)) == NULL) {
		free(q);
		return unavailable(c, "out of memory");
	}
	memcpy(q->q_tok, tok, len);
	q->q_len = len;
	q->q_id = ++wait_ids;
	q->q_auth = c->c_auth;
	q->q_conn = c;
	if (chan_send(agent, MSG_AGT_INTROSPECT, -1, (uint64_t)q->q_id,
	    (uint64_t)c->c_auth, tok) == -1) {
		sodium_memzero(q->q_tok, len);
		free(q->q_tok);
		free(q);
		return unavailable(c, "the token cannot be checked now");
	}
	TAILQ_INSERT_TAIL(&waits, q, q_entry);
	wa->wa_waiting++;
	c->c_refs++;		/* held until the answer, even if closed */
	c->c_busy = 1;
	return 1;
}

int
auth_check(struct conn *c)
{
	struct hreq		*r = c->c_req;
	struct wauth		*wa;
	const struct token	*t;
	const char		*a = r->r_head.rh_auth, *tok;

	r->r_principal[0] = r->r_scopes[0] = '\0';
	if (c->c_auth < 0)
		return 0;
	if ((uint32_t)c->c_auth >= nauths)
		return unauthorized(c, "", "Unauthorized");
	wa = &auths[c->c_auth];
	/* RFC 6750 2.1: b64token after "Bearer" and one or more spaces */
	if (strncasecmp(a, "Bearer ", 7) != 0)
		return unauthorized(c, wa->wa_challenge, "Unauthorized: a "
		    "bearer token is required");
	for (tok = a + 7; *tok == ' '; tok++)
		;
	if (*tok == '\0')
		return unauthorized(c, wa->wa_invalid, "Unauthorized: the "
		    "access token is not valid");
	if (wa->wa_conf->a_jwt_issuer != NULL && is_jwt(tok))
		return jwt_check(c, wa, tok);
	if ((t = tokens_find(&wa->wa_tokens, tok, strlen(tok))) != NULL) {
		snprintf(r->r_principal, sizeof(r->r_principal), "static:%s",
		    t->tk_name);
		snprintf(r->r_scopes, sizeof(r->r_scopes), "%s",
		    t->tk_scopes);
		return 0;
	}
	if (wa->wa_conf->a_introspection != NULL)
		return introspect(c, wa, tok);
	return unauthorized(c, wa->wa_invalid, "Unauthorized: the access "
	    "token is not valid");
}

/* The agent's channel */

static void
waiting_free(struct waiting *q)
{
	TAILQ_REMOVE(&waits, q, q_entry);
	if ((uint32_t)q->q_auth < nauths)
		auths[q->q_auth].wa_waiting--;
	sodium_memzero(q->q_tok, q->q_len);
	free(q->q_tok);
	free(q);
}

/*
 * The word on a waiting request's token: it goes on (or is refused) as if
 * it had just come.  A connection closed meanwhile is let go.
 */
static void
answered(struct waiting *q, int verdict, const char *principal,
    const char *scopes, uint64_t until)
{
	struct conn	*c = q->q_conn;
	struct hreq	*r = c->c_req;
	struct wauth	*wa = &auths[q->q_auth];

	c->c_busy = 0;
	if (--c->c_refs == 0 && c->c_dead) {
		waiting_free(q);
		conn_release(c);
		return;
	}
	if (c->c_dead) {
		waiting_free(q);
		return;
	}
	switch (verdict) {
	case AGT_ACTIVE:
		snprintf(r->r_principal, sizeof(r->r_principal), "%s",
		    principal);
		snprintf(r->r_scopes, sizeof(r->r_scopes), "%s", scopes);
		cache_put(c, q->q_tok, q->q_len, 0, (int64_t)until);
		waiting_free(q);
		endpoint_authed(c);
		break;
	case AGT_INACTIVE:
		waiting_free(q);
		unauthorized(c, wa->wa_invalid, "Unauthorized: the access "
		    "token is not valid");
		break;
	default:
		waiting_free(q);
		unavailable(c, "the token cannot be checked now");
		break;
	}
	request_served(c);
}

/* Keys from the agent: checked, and used from now on. */
void
auth_keys(struct msg *m)
{
	struct wauth	*wa;
	struct jwks	*ks;
	char		 name[CONF_NAME_MAX_BYTES], err[256], *doc;
	uint64_t	 i = m->m_f[0].u, len = m->m_f[2].u;

	if (msg_strcpy(name, sizeof(name), &m->m_f[1]) == -1 ||
	    len > JWKS_MAX_BYTES || m->m_fd == -1)
		fatalx("a bad AGT_KEYS from the agent");
	if (i >= nauths || !(wa = &auths[i])->wa_fetched ||
	    strcmp(wa->wa_conf->a_name, name) != 0) {
		/* for the configuration after ours or before */
		close(m->m_fd);
		return;
	}
	if (len == 0 || (doc = mmap(NULL, len, PROT_READ, MAP_PRIVATE,
	    m->m_fd, 0)) == MAP_FAILED) {
		log_warn("auth %s: the keys from the agent", name);
		close(m->m_fd);
		return;
	}
	close(m->m_fd);
	ks = jwks_parse(doc, len, err, sizeof(err));
	munmap(doc, len);
	if (ks == NULL) {
		log_warnx("auth %s: the keys from the agent: %s", name, err);
		return;
	}
	jwks_free(&wa->wa_jwks);
	wa->wa_jwks = ks;
	cache_drop((int)i);
	log_debug("auth %s: %zu keys from the agent", name, jwks_count(ks));
}

void
auth_introspected(struct msg *m)
{
	struct waiting	*q;
	char		 principal[PRINCIPAL_MAX_BYTES];
	char		 scopes[SCOPES_MAX_BYTES];

	if (msg_strcpy(principal, sizeof(principal), &m->m_f[2]) == -1 ||
	    msg_strcpy(scopes, sizeof(scopes), &m->m_f[3]) == -1)
		fatalx("a bad AGT_INTROSPECTED from the agent");
	TAILQ_FOREACH(q, &waits, q_entry)
		if (q->q_id == m->m_f[0].u)
			break;
	if (q == NULL)
		return;		/* asked on a channel gone since */
	if (m->m_f[1].u == AGT_ACTIVE && principal[0] == '\0')
		fatalx("AGT_INTROSPECTED: active, and nobody's");
	answered(q, (int)m->m_f[1].u, principal, scopes, m->m_f[4].u);
}

/* Without the agent, what waits on it gets 503 now. */
void
auth_agent_lost(void)
{
	struct waiting *q;

	while ((q = TAILQ_FIRST(&waits)) != NULL)
		answered(q, AGT_UNAVAILABLE, "", "", 0);
}
