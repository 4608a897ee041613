/*
 * keys.c -- the issuers' keys, fetched for the workers.
 *
 * An auth block with a jwt-issuer and no jwks-file has its keys (a JWKS,
 * RFC 7517) fetched here: from its jwks-uri, or from the jwks_uri of the
 * issuer's metadata (RFC 8414 3, then OpenID Connect Discovery 1.0 4),
 * whose "issuer" must be the configured one exactly.  A document that
 * parses (common/jwks.c) and holds a key goes to every worker; one that
 * does not, or a failed fetch, leaves the workers the keys they have.
 *
 * The keys are fetched again every jwks-refresh, and sooner when a worker
 * sees a token whose kid the keys lack (an issuer that rolled its keys),
 * but never twice within jwks-refresh-min: a client sending tokens with
 * made-up kids makes at most one fetch per jwks-refresh-min.  A failed
 * fetch is tried again after 1 s, doubling up to jwks-refresh.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "conf.h"
#include "json.h"
#include "jwt.h"
#include "log.h"

#define META_MAX_BYTES		(64 * 1024)	/* an issuer's metadata */
#define META_TOKENS_MAX		4096		/* its JSON tokens */
#define RETRY_FIRST_MS		1000		/* after a failed fetch */

struct keyset {
	TAILQ_ENTRY(keyset)	 k_entry;
	uint32_t		 k_auth;	/* index in the configuration */
	char			*k_name;
	char			*k_issuer;
	char			*k_uri;		/* jwks-uri, or NULL: discover */
	char			*k_found;	/* the metadata's jwks_uri */
	uint32_t		 k_refresh_ms;
	uint32_t		 k_min_ms;
	uint32_t		 k_timeout_ms;
	int			 k_busy;	/* a fetch in flight */
	int			 k_retired;	/* gone with a reload */
	int			 k_step;	/* discovery: 0 RFC 8414, 1 OIDC */
	uint32_t		 k_fails;	/* in a row */
	ev_tstamp		 k_last;	/* the last fetch began */
	ev_timer		 k_timer;	/* the next one */
	char			*k_doc;		/* the keys the workers have */
	size_t			 k_len;
};

static TAILQ_HEAD(, keyset)	sets = TAILQ_HEAD_INITIALIZER(sets);
static struct ev_loop		*loop;
static const struct agent_out	*out;

static void fetch_keys(struct keyset *);

static void
ks_free(struct keyset *k)
{
	ev_timer_stop(loop, &k->k_timer);
	TAILQ_REMOVE(&sets, k, k_entry);
	free(k->k_name);
	free(k->k_issuer);
	free(k->k_uri);
	free(k->k_found);
	free(k->k_doc);
	free(k);
}

/* The next fetch in ms from now (earlier than one planned: moved). */
static void
plan(struct keyset *k, double ms)
{
	if (ev_is_active(&k->k_timer) &&
	    ev_timer_remaining(loop, &k->k_timer) <= ms / 1000.0)
		return;
	ev_timer_stop(loop, &k->k_timer);
	ev_timer_set(&k->k_timer, ms / 1000.0, 0.);
	ev_timer_start(loop, &k->k_timer);
}

static void
failed(struct keyset *k, const char *what, const char *why)
{
	double ms = RETRY_FIRST_MS;
	uint32_t i;

	for (i = 0; i < k->k_fails && ms < k->k_refresh_ms; i++)
		ms *= 2;
	if (ms > k->k_refresh_ms)
		ms = k->k_refresh_ms;
	if (k->k_fails++ == 0)
		log_warnx("auth %s: %s: %s; the workers keep the keys they "
		    "have (%s), trying again", k->k_name, what, why,
		    k->k_doc != NULL ? "some" : "none");
	else
		log_debug("auth %s: %s: %s (%u in a row)", k->k_name, what,
		    why, k->k_fails);
	k->k_busy = 0;
	plan(k, ms);
}

static void
on_jwks(const struct fetch_result *res, void *arg)
{
	struct keyset	*k = arg;
	struct jwks	*ks;
	char		 err[256];
	size_t		 n;

	if (k->k_retired) {
		ks_free(k);
		return;
	}
	if (res->fr_err[0] != '\0') {
		failed(k, k->k_found != NULL ? k->k_found : k->k_uri,
		    res->fr_err);
		return;
	}
	if ((ks = jwks_parse(res->fr_body, res->fr_len, err,
	    sizeof(err))) == NULL) {
		failed(k, "the keys", err);
		return;
	}
	n = jwks_count(ks);
	jwks_free(&ks);
	if (n == 0) {
		failed(k, "the keys", "no key to verify a signature with");
		return;
	}
	if (k->k_fails > 0)
		log_info("auth %s: the keys came again", k->k_name);
	k->k_fails = 0;
	k->k_busy = 0;
	plan(k, k->k_refresh_ms);
	if (k->k_doc != NULL && k->k_len == res->fr_len &&
	    memcmp(k->k_doc, res->fr_body, k->k_len) == 0)
		return;		/* the same keys */
	free(k->k_doc);
	if ((k->k_doc = malloc(res->fr_len)) == NULL) {
		k->k_len = 0;
		failed(k, "the keys", "out of memory");
		return;
	}
	memcpy(k->k_doc, res->fr_body, res->fr_len);
	k->k_len = res->fr_len;
	log_info("auth %s: %zu key%s from %s", k->k_name, n, n == 1 ? "" :
	    "s", k->k_found != NULL ? k->k_found : k->k_uri);
	out->ao_keys(-1, k->k_auth, k->k_name, k->k_doc, k->k_len);
}

/* The well-known URL of the issuer's metadata, for discovery step k_step. */
static int
meta_url(const struct keyset *k, char *buf, size_t len)
{
	return keys_meta_url(k->k_issuer, k->k_step, buf, len);
}

int
keys_meta_url(const char *iss, int step, char *buf, size_t len)
{
	const char	*host, *path;
	size_t		 ilen = strlen(iss);

	while (ilen > 0 && iss[ilen - 1] == '/')
		ilen--;
	if (step == 1)	/* OIDC: appended to the issuer */
		return snprintf(buf, len, "%.*s/.well-known/"
		    "openid-configuration", (int)ilen, iss) < (int)len ? 0 :
		    -1;
	/* RFC 8414 3.1: between the host and the issuer's path */
	host = strstr(iss, "://");
	host = host != NULL ? host + 3 : iss;
	path = strchr(host, '/');
	if (path == NULL || path >= iss + ilen)
		path = iss + ilen;
	return snprintf(buf, len, "%.*s/.well-known/oauth-authorization-server"
	    "%.*s", (int)(path - iss), iss, (int)(iss + ilen - path), path) <
	    (int)len ? 0 : -1;
}

/* A URL from a document: https, or http to this machine, printable. */
static int
safe_url(const char *u)
{
	const char *p;

	if (strncmp(u, "https://", 8) != 0 &&
	    !(strncmp(u, "http://", 7) == 0 && (strncmp(u + 7, "127.", 4) ==
	    0 || strncmp(u + 7, "localhost", 9) == 0 ||
	    strncmp(u + 7, "[::1]", 5) == 0)))
		return 0;
	for (p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static void
on_meta(const struct fetch_result *res, void *arg)
{
	struct keyset	*k = arg;
	struct json	 j;
	jsmntok_t	*t;
	char		 uri[CONF_AUTH_URI_MAX_BYTES], url[2 *
			     CONF_AUTH_URI_MAX_BYTES];
	int		 i;

	if (k->k_retired) {
		ks_free(k);
		return;
	}
	meta_url(k, url, sizeof(url));
	if (res->fr_err[0] != '\0') {
		if (k->k_step == 0 && res->fr_status >= 400 &&
		    res->fr_status < 500) {
			/* not an RFC 8414 server: OpenID Connect? */
			k->k_step = 1;
			k->k_busy = 0;
			fetch_keys(k);
			return;
		}
		k->k_step = 0;
		failed(k, url, res->fr_err);
		return;
	}
	if ((t = calloc(META_TOKENS_MAX, sizeof(*t))) == NULL) {
		failed(k, url, "out of memory");
		return;
	}
	if (json_parse(&j, res->fr_body, res->fr_len, t, META_TOKENS_MAX) !=
	    JSON_OK || json_type(&j, 0) != JSON_OBJECT) {
		free(t);
		failed(k, url, "not a JSON object");
		return;
	}
	/* RFC 8414 3.3, OIDC Discovery 4.3: the issuer is the one asked */
	if ((i = json_get(&j, 0, "issuer")) == -1 ||
	    !json_streq(&j, i, k->k_issuer)) {
		free(t);
		failed(k, url, "its \"issuer\" is not the jwt-issuer");
		return;
	}
	if ((i = json_get(&j, 0, "jwks_uri")) == -1 ||
	    json_strcpy(&j, i, uri, sizeof(uri)) == -1 || !safe_url(uri)) {
		free(t);
		failed(k, url, "no \"jwks_uri\" (an https URL) in it");
		return;
	}
	free(t);
	free(k->k_found);
	if ((k->k_found = strdup(uri)) == NULL) {
		failed(k, url, "out of memory");
		return;
	}
	if (fetch_start(k->k_found, NULL, NULL, NULL, JWKS_MAX_BYTES,
	    k->k_timeout_ms, on_jwks, k) == -1)
		failed(k, k->k_found, "out of memory");
}

static void
fetch_keys(struct keyset *k)
{
	char url[2 * CONF_AUTH_URI_MAX_BYTES];

	if (k->k_busy)
		return;
	k->k_busy = 1;
	k->k_last = ev_now(loop);
	ev_timer_stop(loop, &k->k_timer);
	if (k->k_uri != NULL) {
		if (fetch_start(k->k_uri, NULL, NULL, NULL, JWKS_MAX_BYTES,
		    k->k_timeout_ms, on_jwks, k) == -1)
			failed(k, k->k_uri, "out of memory");
		return;
	}
	/* the metadata again each time: it may name new keys */
	if (meta_url(k, url, sizeof(url)) == -1) {
		failed(k, k->k_issuer, "the issuer is too long");
		return;
	}
	if (fetch_start(url, NULL, NULL, NULL, META_MAX_BYTES,
	    k->k_timeout_ms, on_meta, k) == -1)
		failed(k, url, "out of memory");
}

static void
timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	fetch_keys(w->data);
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * The auth blocks of a configuration: a block of the one before with the
 * same name, issuer and jwks-uri keeps its keys; the others are fetched.
 */
void
keys_load(struct ev_loop *l, const struct conf *c, const struct agent_out *o)
{
	const struct conf_auth	*a;
	struct keyset		*k, *next;
	uint32_t		 i;

	loop = l;
	out = o;
	TAILQ_FOREACH(k, &sets, k_entry)
		k->k_retired = 1;
	for (i = 0; i < c->c_nauths; i++) {
		a = &c->c_auths[i];
		if (!CONF_AUTH_FETCHES_KEYS(a))
			continue;
		TAILQ_FOREACH(k, &sets, k_entry)
			if (k->k_retired && strcmp(k->k_name, a->a_name) == 0 &&
			    same(k->k_issuer, a->a_jwt_issuer) &&
			    same(k->k_uri, a->a_jwks_uri))
				break;
		if (k == NULL) {
			if ((k = calloc(1, sizeof(*k))) == NULL ||
			    (k->k_name = strdup(a->a_name)) == NULL ||
			    (k->k_issuer = strdup(a->a_jwt_issuer)) == NULL ||
			    (a->a_jwks_uri != NULL &&
			    (k->k_uri = strdup(a->a_jwks_uri)) == NULL))
				fatal("auth %s: keys", a->a_name);
			ev_init(&k->k_timer, timer_cb);
			k->k_timer.data = k;
			TAILQ_INSERT_TAIL(&sets, k, k_entry);
			plan(k, 0);
		}
		k->k_retired = 0;
		k->k_auth = i;
		k->k_refresh_ms = a->a_jwks_refresh_ms;
		k->k_min_ms = a->a_jwks_refresh_min_ms;
		k->k_timeout_ms = a->a_fetch_timeout_ms;
	}
	for (k = TAILQ_FIRST(&sets); k != NULL; k = next) {
		next = TAILQ_NEXT(k, k_entry);
		if (!k->k_retired)
			continue;
		if (k->k_busy)
			ev_timer_stop(loop, &k->k_timer);	/* freed later */
		else
			ks_free(k);
	}
}

void
keys_miss(uint32_t auth)
{
	struct keyset	*k;
	double		 since;

	TAILQ_FOREACH(k, &sets, k_entry)
		if (!k->k_retired && k->k_auth == auth)
			break;
	if (k == NULL || k->k_busy)
		return;		/* what is in flight may have the key */
	since = (ev_now(loop) - k->k_last) * 1000.0;
	log_debug("auth %s: a token with a key we lack", k->k_name);
	plan(k, since >= k->k_min_ms ? 0 : k->k_min_ms - since);
}

void
keys_send_all(int worker)
{
	struct keyset *k;

	TAILQ_FOREACH(k, &sets, k_entry)
		if (!k->k_retired && k->k_doc != NULL)
			out->ao_keys(worker, k->k_auth, k->k_name,
			    k->k_doc, k->k_len);
}
