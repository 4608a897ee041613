/*
 * introspect.c -- opaque tokens, asked about for the workers (RFC 7662).
 *
 * A worker that meets a token it cannot check itself (not one of its
 * static tokens, not a JSON Web Token it has keys for) asks here; the
 * agent POSTs it to the auth block's introspection endpoint, with the
 * block's client id and secret (HTTP Basic, RFC 7662 2.1), and answers
 * with the principal and the scopes.  The token is the only thing that
 * leaves mcpd, and only to that endpoint.
 *
 * What the server says is hostile until checked: "active" must be true;
 * an "exp" must be in the future; an "aud", when there is one, must name
 * this resource (a token for another server is not taken: no token
 * passthrough); the principal ("oauth:ISS#SUB", or "#client:ID" for a
 * client acting for itself) must be printable and fit.
 *
 * Answers are kept by the SHA-256 of the token (with the auth block's
 * index), in INTROSPECT_CACHE_ENTRIES slots, for introspection-cache but
 * never past the token's exp; "not active" for INTROSPECT_NEGATIVE_MS.
 * The same token asked about by several workers at once is one request.
 * No more than INTROSPECT_INFLIGHT_MAX different tokens are asked about at
 * once: beyond, or when the server does not answer within fetch-timeout,
 * the answer is "unavailable" (the worker says 503).
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "agent.h"
#include "conf.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "msg.h"
#include "tokens.h"
#include "util.h"

#define INTROSPECT_CACHE_ENTRIES 8192	/* answers kept */
#define INTROSPECT_NEGATIVE_MS	10000	/* "not active" kept */
#define INTROSPECT_INFLIGHT_MAX	1024	/* tokens asked about at once */
#define INTROSPECT_MAX_BYTES	(16 * 1024)	/* an answer */
#define INTROSPECT_TOKENS_MAX	512	/* its JSON tokens */

struct iauth {
	char		*ia_name;
	char		*ia_endpoint;	/* NULL: no introspection */
	char		*ia_client;	/* URL-encoded (RFC 6749 2.3.1) */
	char		*ia_secret;	/* the same */
	char		*ia_issuer;	/* for a principal without "iss" */
	char		*ia_audience;	/* what "aud" must hold */
	uint32_t	 ia_cache_ms;
	uint32_t	 ia_timeout_ms;
};

struct waiter {
	uint32_t	w_peer;
	uint32_t	w_id;
};

struct query {
	TAILQ_ENTRY(query)	 q_entry;
	unsigned char		 q_key[crypto_generichash_BYTES];
	uint32_t		 q_auth;
	uint32_t		 q_gen;		/* of the configuration */
	struct waiter		*q_w;
	size_t			 q_nw;
	size_t			 q_capw;
};

struct answer {
	unsigned char		a_key[crypto_generichash_BYTES];
	uint32_t		a_gen;
	struct introspection	a_in;		/* in_until 0: empty */
};

static struct iauth		*auths;
static uint32_t			 nauths;
static uint32_t			 gen;
static struct answer		*cache;
static TAILQ_HEAD(, query)	 queries = TAILQ_HEAD_INITIALIZER(queries);
static const struct agent_out	*out;
static unsigned			 nqueries;

static void
iauth_free(struct iauth *ia)
{
	free(ia->ia_name);
	free(ia->ia_endpoint);
	free(ia->ia_client);
	if (ia->ia_secret != NULL)
		sodium_memzero(ia->ia_secret, strlen(ia->ia_secret));
	free(ia->ia_secret);
	free(ia->ia_issuer);
	free(ia->ia_audience);
}

static int
iauth_make(struct iauth *ia, const struct conf_auth *a)
{
	char	 err[CONF_PATH_MAX_BYTES + 128], *buf = NULL;
	size_t	 len;

	if ((ia->ia_name = strdup(a->a_name)) == NULL)
		return -1;
	if (a->a_introspection == NULL)
		return 0;
	ia->ia_cache_ms = a->a_introspection_cache_ms;
	ia->ia_timeout_ms = a->a_fetch_timeout_ms;
	if ((ia->ia_issuer = strdup(a->a_jwt_issuer != NULL ?
	    a->a_jwt_issuer : a->a_nservers > 0 ? a->a_servers[0] :
	    a->a_introspection)) == NULL ||
	    (ia->ia_audience = strdup(a->a_audience != NULL ? a->a_audience :
	    a->a_resource)) == NULL ||
	    (ia->ia_client = fetch_escape(a->a_client_id)) == NULL)
		return -1;
	/* as mcpd's user: the supervisor found it readable as root */
	if (file_read(a->a_client_secret_file, CLIENT_SECRET_MAX_BYTES, &buf,
	    &len, err, sizeof(err)) == -1 || client_secret_trim(buf, len) ==
	    0) {
		log_warnx("auth %s: introspection-secret-file: %s: no opaque "
		    "token can be checked", a->a_name, buf != NULL ?
		    "not one line of printable ASCII" : err);
		if (buf != NULL) {
			sodium_memzero(buf, len);
			free(buf);
		}
		return 0;
	}
	ia->ia_secret = fetch_escape(buf);
	sodium_memzero(buf, len);
	free(buf);
	if (ia->ia_secret == NULL)
		return -1;
	ia->ia_endpoint = strdup(a->a_introspection);
	return ia->ia_endpoint != NULL ? 0 : -1;
}

void
introspect_load(const struct conf *c, const struct agent_out *o)
{
	uint32_t i;

	out = o;
	for (i = 0; i < nauths; i++)
		iauth_free(&auths[i]);
	free(auths);
	auths = NULL;
	nauths = 0;
	gen++;		/* what was asked under the old blocks is not kept */
	if (c->c_nauths == 0)
		return;
	if ((auths = calloc(c->c_nauths, sizeof(*auths))) == NULL)
		fatal("introspection");
	for (i = 0; i < c->c_nauths; i++) {
		if (iauth_make(&auths[i], &c->c_auths[i]) == -1)
			fatal("auth %s: introspection", c->c_auths[i].a_name);
		nauths++;
	}
	if (cache == NULL &&
	    (cache = calloc(INTROSPECT_CACHE_ENTRIES, sizeof(*cache))) == NULL)
		fatal("introspection cache");
}

static void
key_of(uint32_t auth, const char *tok, size_t len, unsigned char *key)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)&auth,
	    sizeof(auth));
	crypto_generichash_update(&st, (const unsigned char *)tok, len);
	crypto_generichash_final(&st, key, crypto_generichash_BYTES);
}

static struct answer *
slot_of(const unsigned char *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return &cache[i % INTROSPECT_CACHE_ENTRIES];
}

/* A claim to go in a principal: printable, no '#' in the issuer. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* Does an "aud" (a string or an array of them) name ours? */
static int
aud_has(const struct json *j, int i, const char *ours)
{
	int k, n, e;

	if (json_type(j, i) == JSON_STRING)
		return json_streq(j, i, ours);
	if (json_type(j, i) != JSON_ARRAY)
		return 0;
	n = j->t[i].size;
	for (k = i + 1, e = 0; e < n; e++, k = json_skip(j, k))
		if (json_type(j, k) == JSON_STRING && json_streq(j, k, ours))
			return 1;
	return 0;
}

void
introspect_judge(const char *body, size_t len, const char *audience,
    const char *issuer, uint32_t cache_ms, time_t now,
    struct introspection *a)
{
	struct json	 j;
	jsmntok_t	 t[INTROSPECT_TOKENS_MAX];
	char		 iss[JWT_ISS_MAX_BYTES], sub[JWT_SUB_MAX_BYTES];
	char		 cid[JWT_CLIENT_ID_MAX_BYTES];
	int64_t		 exp = 0;
	int		 i, active = 0;

	memset(a, 0, sizeof(*a));
	a->in_verdict = AGT_INACTIVE;
	a->in_until = (uint64_t)now + INTROSPECT_NEGATIVE_MS / 1000;
	if (json_parse(&j, body, len, t, INTROSPECT_TOKENS_MAX) != JSON_OK ||
	    json_type(&j, 0) != JSON_OBJECT ||
	    (i = json_get(&j, 0, "active")) == -1 ||
	    json_bool(&j, i, &active) == -1) {
		a->in_verdict = AGT_UNAVAILABLE;	/* not an answer */
		a->in_until = 0;
		return;
	}
	if (!active)
		return;
	if ((i = json_get(&j, 0, "exp")) != -1 &&
	    (json_int64(&j, i, &exp) == -1 || exp <= now))
		return;
	if ((i = json_get(&j, 0, "aud")) != -1 && !aud_has(&j, i, audience))
		return;		/* another server's token */
	if ((i = json_get(&j, 0, "iss")) != -1) {
		if (json_strcpy(&j, i, iss, sizeof(iss)) == -1)
			return;
	} else if (snprintf(iss, sizeof(iss), "%s", issuer) >=
	    (int)sizeof(iss))
		return;
	sub[0] = cid[0] = '\0';
	if ((i = json_get(&j, 0, "sub")) != -1 &&
	    json_strcpy(&j, i, sub, sizeof(sub)) == -1)
		return;
	if ((i = json_get(&j, 0, "client_id")) != -1 &&
	    json_strcpy(&j, i, cid, sizeof(cid)) == -1)
		return;
	if (!printable(iss) || !printable(sub) || !printable(cid) ||
	    strchr(iss, '#') != NULL || (sub[0] == '\0' && cid[0] == '\0'))
		return;
	if ((i = json_get(&j, 0, "scope")) != -1 &&
	    (json_strcpy(&j, i, a->in_scopes, sizeof(a->in_scopes)) == -1 ||
	    !printable(a->in_scopes))) {
		a->in_scopes[0] = '\0';
		return;
	}
	if (sub[0] != '\0')
		snprintf(a->in_principal, sizeof(a->in_principal),
		    "oauth:%s#%s", iss, sub);
	else
		snprintf(a->in_principal, sizeof(a->in_principal),
		    "oauth:%s#client:%s", iss, cid);
	a->in_verdict = AGT_ACTIVE;
	a->in_until = (uint64_t)now + cache_ms / 1000;
	if (exp > 0 && (uint64_t)exp < a->in_until)
		a->in_until = (uint64_t)exp;
}

static void
query_free(struct query *q)
{
	TAILQ_REMOVE(&queries, q, q_entry);
	nqueries--;
	free(q->q_w);
	free(q);
}

static void
on_answer(const struct fetch_result *res, void *arg)
{
	struct query	*q = arg;
	const struct iauth	*ia;
	struct answer		 a, *slot;
	size_t			 i;

	memset(&a, 0, sizeof(a));
	if (q->q_gen != gen || q->q_auth >= nauths)
		a.a_in.in_verdict = AGT_UNAVAILABLE; /* a reload in between */
	else if (res->fr_err[0] != '\0') {
		ia = &auths[q->q_auth];
		log_warnx("auth %s: %s: %s", ia->ia_name, ia->ia_endpoint,
		    res->fr_err);
		a.a_in.in_verdict = AGT_UNAVAILABLE;
	} else {
		ia = &auths[q->q_auth];
		introspect_judge(res->fr_body, res->fr_len, ia->ia_audience,
		    ia->ia_issuer, ia->ia_cache_ms, time(NULL), &a.a_in);
		if (a.a_in.in_verdict == AGT_UNAVAILABLE)
			log_warnx("auth %s: %s: the answer is not an "
			    "introspection (a JSON object with \"active\")",
			    ia->ia_name, ia->ia_endpoint);
	}
	if (a.a_in.in_verdict != AGT_UNAVAILABLE) {
		memcpy(a.a_key, q->q_key, sizeof(a.a_key));
		a.a_gen = gen;
		slot = slot_of(q->q_key);
		*slot = a;
	}
	for (i = 0; i < q->q_nw; i++)
		out->ao_answer(q->q_w[i].w_peer, q->q_w[i].w_id,
		    a.a_in.in_verdict, a.a_in.in_principal, a.a_in.in_scopes,
		    a.a_in.in_until);
	sodium_memzero(&a, sizeof(a));
	query_free(q);
	if (nqueries == 0)
		out->ao_idle();
}

static int
waiter_add(struct query *q, uint32_t peer, uint32_t id)
{
	struct waiter	*w;
	size_t		 cap;

	if (q->q_nw == q->q_capw) {
		cap = q->q_capw != 0 ? q->q_capw * 2 : 4;
		if ((w = reallocarray(q->q_w, cap, sizeof(*w))) == NULL)
			return -1;
		q->q_w = w;
		q->q_capw = cap;
	}
	q->q_w[q->q_nw].w_peer = peer;
	q->q_w[q->q_nw++].w_id = id;
	return 0;
}

void
introspect_ask(uint32_t peer, uint32_t id, uint32_t auth, const char *tok,
    size_t len)
{
	const struct iauth	*ia;
	struct answer		*a;
	struct query		*q;
	unsigned char		 key[crypto_generichash_BYTES];
	char			*etok, *post;
	size_t			 plen;

	if (auth >= nauths || (ia = &auths[auth])->ia_endpoint == NULL ||
	    len == 0 || len > JWT_MAX_BYTES) {
		out->ao_answer(peer, id, auth < nauths &&
		    auths[auth].ia_endpoint != NULL ? AGT_INACTIVE :
		    AGT_UNAVAILABLE, "", "", 0);
		return;
	}
	key_of(auth, tok, len, key);
	a = slot_of(key);
	if (a->a_in.in_until > (uint64_t)time(NULL) && a->a_gen == gen &&
	    sodium_memcmp(a->a_key, key, sizeof(key)) == 0) {
		out->ao_answer(peer, id, a->a_in.in_verdict,
		    a->a_in.in_principal, a->a_in.in_scopes, a->a_in.in_until);
		return;
	}
	TAILQ_FOREACH(q, &queries, q_entry)
		if (q->q_auth == auth && q->q_gen == gen &&
		    memcmp(q->q_key, key, sizeof(key)) == 0)
			break;
	if (q != NULL) {
		if (waiter_add(q, peer, id) == -1)
			out->ao_answer(peer, id, AGT_UNAVAILABLE, "", "", 0);
		return;
	}
	if (nqueries >= INTROSPECT_INFLIGHT_MAX) {
		log_debug("auth %s: %u introspections in flight: no more",
		    ia->ia_name, nqueries);
		out->ao_answer(peer, id, AGT_UNAVAILABLE, "", "", 0);
		return;
	}
	etok = NULL;
	post = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    waiter_add(q, peer, id) == -1 ||
	    (etok = fetch_escape(tok)) == NULL ||
	    (post = malloc(plen = strlen(etok) + 64)) == NULL)
		goto fail;
	snprintf(post, plen, "token=%s&token_type_hint=access_token", etok);
	memcpy(q->q_key, key, sizeof(key));
	q->q_auth = auth;
	q->q_gen = gen;
	if (fetch_start(ia->ia_endpoint, post, ia->ia_client, ia->ia_secret,
	    INTROSPECT_MAX_BYTES, ia->ia_timeout_ms, on_answer, q) == -1)
		goto fail;
	TAILQ_INSERT_TAIL(&queries, q, q_entry);
	nqueries++;
	sodium_memzero(etok, strlen(etok));
	sodium_memzero(post, strlen(post));
	free(etok);
	free(post);
	return;
fail:
	if (q != NULL)
		free(q->q_w);
	free(q);
	free(etok);
	free(post);
	out->ao_answer(peer, id, AGT_UNAVAILABLE, "", "", 0);
}

void
introspect_forget(uint32_t peer)
{
	struct query	*q;
	size_t		 i, n;

	TAILQ_FOREACH(q, &queries, q_entry) {
		for (i = n = 0; i < q->q_nw; i++)
			if (q->q_w[i].w_peer != peer)
				q->q_w[n++] = q->q_w[i];
		q->q_nw = n;
	}
}

uint64_t
introspect_busy(void)
{
	return nqueries;
}
