/*
 * NAME
 *	jwt.c -- a JWT access token (RFC 7519, RFC 9068) checked
 *
 * DESCRIPTION
 *	jwt_verify() takes the compact serialization only (RFC 7515 7.1):
 *	three parts of base64url without padding, canonical (libsodium
 *	refuses stray bits), joined by two dots, nothing else.  The header
 *	is read first, and only as far as choosing the key: its alg must be
 *	one we verify and equal to the pinned alg of the key its kid names
 *	(jwks.c), so "none", HS256 with a public key as the secret and an
 *	RSA signature for an EC key's kid all end before any crypto.  The
 *	payload is parsed only once the signature holds.  Both are strict
 *	JSON objects (json.c: no key twice, so a gateway that reads the last
 *	"aud" and we who read the first cannot disagree).
 *
 *	Times are int64 NumericDates within 0 .. year 9999, so exp + skew
 *	cannot overflow; a fraction rounds the way that refuses sooner.
 *	Nothing allocates; the buffers are on the stack (about 40 KiB).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "json.h"
#include "jwt.h"

/* JSON values in a header or payload: a thousand groups is no token */
#define JWT_TOKENS_MAX		1024
/* RSA's signature is as long as the modulus; the others are shorter */
#define JWT_SIG_MAX_BYTES	(JWK_RSA_MAX_BITS / 8)
/* 9999-12-31T23:59:59Z: later is no date, and exp + skew stays in range */
#define JWT_DATE_MAX		INT64_C(253402300799)
/* the longest typ we compare ("application/at+jwt") and then some */
#define JWT_TYP_MAX_BYTES	32
/* how much of a kid or alg an error message shows */
#define SHOW_MAX_BYTES		48

void
jwt_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
jwt_b64url(const char *s, size_t n, void *out, size_t outmax, size_t *outlen)
{
	size_t	 i;

	*outlen = 0;
	/* libsodium would stop at a '=' or '+' and say so; be explicit */
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return -1;
	/* 4 characters hold 3 bytes: checked before, no ERANGE after */
	if (n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1) > outmax)
		return -1;
	if (sodium_base642bin(out, outmax, s, n, NULL, outlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		*outlen = 0;
		return -1;
	}
	return 0;
}

void
jwt_printable(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t	 i;

	if (dstlen == 0)
		return;
	for (i = 0; i < n && i + 1 < dstlen; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] :
		    '?';
	dst[i] = '\0';
}

const char *
jwt_strerror(int e)
{
	switch (e) {
	case JWT_OK:
		return "no error";
	case JWT_E_FORMAT:
		return "not a JWT";
	case JWT_E_TOO_BIG:
		return "token too long";
	case JWT_E_ALG:
		return "algorithm refused";
	case JWT_E_HEADER:
		return "header refused";
	case JWT_E_KID:
		return "no key for the token";
	case JWT_E_SIGNATURE:
		return "bad signature";
	case JWT_E_EXPIRED:
		return "token expired";
	case JWT_E_NOT_YET:
		return "token not valid yet";
	case JWT_E_ISSUER:
		return "wrong issuer";
	case JWT_E_AUDIENCE:
		return "wrong audience";
	case JWT_E_CLAIM:
		return "bad claim";
	case JWT_E_POLICY:
		return "incomplete policy";
	case JWT_E_INTERNAL:
		return "internal error";
	default:
		return "unknown JWT error";
	}
}

const char *
jwt_alg_name(enum jwt_alg a)
{
	switch (a) {
	case JWT_ALG_RS256:
		return "RS256";
	case JWT_ALG_ES256:
		return "ES256";
	case JWT_ALG_EDDSA:
		return "EdDSA";
	default:
		return "?";
	}
}

void
jwt_policy_init(struct jwt_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->p_skew_secs = JWT_SKEW_SECS_DEFAULT;
	p->p_max_bytes = JWT_MAX_BYTES;
	p->p_typ = JWT_TYP_ACCESS;
}

static int
policy_ok(const struct jwt_policy *p)
{
	return p != NULL && p->p_issuer != NULL && p->p_issuer[0] != '\0' &&
	    strlen(p->p_issuer) < JWT_ISS_MAX_BYTES &&
	    p->p_audience != NULL && p->p_audience[0] != '\0' &&
	    strlen(p->p_audience) < JWT_AUD_MAX_BYTES &&
	    p->p_skew_secs >= 0 && p->p_skew_secs <= JWT_SKEW_MAX_SECS &&
	    p->p_max_bytes >= 1 && p->p_max_bytes <= JWT_MAX_BYTES &&
	    (p->p_typ == JWT_TYP_ACCESS || p->p_typ == JWT_TYP_AT_ONLY ||
	    p->p_typ == JWT_TYP_ANY);
}

/* part of the token decoded and parsed: a JSON object, or -1 */
static int
part_json(const char *s, size_t n, char *buf, size_t buflen, struct json *j,
    jsmntok_t *t)
{
	size_t	 len;

	if (jwt_b64url(s, n, buf, buflen, &len) == -1 || len == 0)
		return -1;
	if (json_parse(j, buf, len, t, JWT_TOKENS_MAX) != JSON_OK ||
	    json_type(j, 0) != JSON_OBJECT)
		return -1;
	return 0;
}

/* RFC 9068 2.1; media types compare without regard to case */
static int
typ_ok(const struct json *j, enum jwt_typ want)
{
	char	 typ[JWT_TYP_MAX_BYTES];
	int	 i;

	if (want == JWT_TYP_ANY)
		return 1;
	if ((i = json_get(j, 0, "typ")) == -1)
		return want == JWT_TYP_ACCESS;
	if (json_strcpy(j, i, typ, sizeof(typ)) == -1)
		return 0;
	if (strcasecmp(typ, "at+jwt") == 0 ||
	    strcasecmp(typ, "application/at+jwt") == 0)
		return 1;
	return want == JWT_TYP_ACCESS && strcasecmp(typ, "JWT") == 0;
}

/* the header: the key for it, or a jwt_error */
static int
header(const struct json *j, const struct jwks *ks,
    const struct jwt_policy *pol, const struct jwk **key, enum jwt_alg *alg,
    char *err, size_t errlen)
{
	char		 kid[JWK_KID_MAX_BYTES + 1], show[SHOW_MAX_BYTES];
	const char	*raw;
	size_t		 n;
	int		 i, r;

	/* RFC 7515 4.1.11: an extension we do not know must be refused */
	if (json_get(j, 0, "crit") != -1) {
		jwt_seterr(err, errlen, "header has crit");
		return JWT_E_HEADER;
	}
	if ((i = json_get(j, 0, "alg")) == -1 ||
	    json_type(j, i) != JSON_STRING) {
		jwt_seterr(err, errlen, "header has no alg");
		return JWT_E_ALG;
	}
	if (json_streq(j, i, "RS256"))
		*alg = JWT_ALG_RS256;
	else if (json_streq(j, i, "ES256"))
		*alg = JWT_ALG_ES256;
	else if (json_streq(j, i, "EdDSA"))
		*alg = JWT_ALG_EDDSA;
	else {
		raw = json_raw(j, i, &n);
		jwt_printable(show, sizeof(show), raw, n);
		jwt_seterr(err, errlen, "alg \"%s\" is never accepted", show);
		return JWT_E_ALG;
	}
	if (!typ_ok(j, pol->p_typ)) {
		jwt_seterr(err, errlen, "typ is not an access token's");
		return JWT_E_HEADER;
	}
	if ((i = json_get(j, 0, "kid")) == -1)
		r = jwks_find(ks, NULL, *alg, key);
	else if (json_type(j, i) != JSON_STRING || json_has_nul(j, i)) {
		jwt_seterr(err, errlen, "kid is not a string without NUL");
		return JWT_E_FORMAT;
	} else if (json_strcpy(j, i, kid, sizeof(kid)) == -1)
		r = JWT_E_KID;		/* longer than any key's */
	else
		r = jwks_find(ks, kid, *alg, key);
	if (r == JWT_E_ALG)
		jwt_seterr(err, errlen, "the key of this kid is not for %s",
		    jwt_alg_name(*alg));
	else if (r != JWT_OK && i == -1)
		jwt_seterr(err, errlen, "no kid, and not one key for %s",
		    jwt_alg_name(*alg));
	else if (r != JWT_OK) {
		raw = json_raw(j, i, &n);
		jwt_printable(show, sizeof(show), raw, n);
		jwt_seterr(err, errlen, "no key of kid \"%s\"", show);
	}
	return r;
}

/*
 * A NumericDate: an integer, or a number with a fraction rounded down
 * (up) when up is 0 (1), within 0 .. JWT_DATE_MAX.  0, or -1.
 */
static int
date(const struct json *j, int i, int up, int64_t *v)
{
	double	 d;

	if (json_int64(j, i, v) == 0)
		return *v >= 0 && *v <= JWT_DATE_MAX ? 0 : -1;
	if (json_double(j, i, &d) == -1 || !(d >= 0 &&
	    d <= (double)JWT_DATE_MAX))
		return -1;
	*v = (int64_t)d;		/* d >= 0: rounded down */
	if (up && (double)*v < d)
		(*v)++;
	return 0;
}

/* claim name, an optional string, into dst ("" when absent) */
static int
copy_claim(const struct json *j, const char *name, char *dst, size_t dstlen,
    char *err, size_t errlen)
{
	int	 i;

	dst[0] = '\0';
	if ((i = json_get(j, 0, name)) == -1)
		return 0;
	if (json_type(j, i) != JSON_STRING || json_has_nul(j, i) ||
	    json_strcpy(j, i, dst, dstlen) == -1) {
		jwt_seterr(err, errlen, "%s is not a string of at most %zu "
		    "bytes without NUL", name, dstlen - 1);
		return -1;
	}
	return 0;
}

/* no byte that would split or hide a word: controls and DEL */
static int
scope_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
	return 0;
}

/*
 * scope (RFC 8693 4.2, RFC 9068 2.2.3: space-separated), else scp as such
 * a string or as an array of words, joined with spaces.
 */
static int
scopes(const struct json *j, char *dst, size_t dstlen, char *err,
    size_t errlen)
{
	const char	*name = "scope";
	size_t		 len = 0;
	int		 i, k, n, w;

	dst[0] = '\0';
	if ((i = json_get(j, 0, name)) == -1 &&
	    (i = json_get(j, 0, name = "scp")) == -1)
		return 0;
	if (json_type(j, i) == JSON_STRING) {
		if (copy_claim(j, name, dst, dstlen, err, errlen) == -1)
			return -1;
		if (scope_chars(dst) == -1)
			goto bad;
		return 0;
	}
	if (json_type(j, i) != JSON_ARRAY || strcmp(name, "scp") != 0)
		goto bad;
	for (n = 0, k = i + 1; n < j->t[i].size; n++, k = json_skip(j, k)) {
		if (json_type(j, k) != JSON_STRING || json_has_nul(j, k))
			goto bad;
		if (len > 0) {
			if (len + 1 >= dstlen)
				goto bad;
			dst[len++] = ' ';
		}
		/* a word: not empty, no space (the join would split it) */
		if ((w = json_strcpy(j, k, dst + len, dstlen - len)) <= 0 ||
		    strchr(dst + len, ' ') != NULL ||
		    scope_chars(dst + len) == -1)
			goto bad;
		len += (size_t)w;
	}
	return 0;
bad:
	dst[0] = '\0';
	jwt_seterr(err, errlen, "%s is not a list of words of at most %zu "
	    "bytes", name, dstlen - 1);
	return -1;
}

/* the payload's claims against the policy, at now, into out */
static int
claims(const struct json *j, const struct jwt_policy *pol, time_t now,
    struct jwt_claims *out, char *err, size_t errlen)
{
	int64_t	 t = (int64_t)now, skew = pol->p_skew_secs;
	int	 i, k, n, match = 0;

	if ((i = json_get(j, 0, "exp")) == -1) {
		jwt_seterr(err, errlen, "no exp");
		return JWT_E_EXPIRED;
	}
	if (date(j, i, 0, &out->c_exp) == -1) {
		jwt_seterr(err, errlen, "exp is not a date");
		return JWT_E_CLAIM;
	}
	if ((i = json_get(j, 0, "nbf")) != -1 &&
	    date(j, i, 1, &out->c_nbf) == -1) {
		jwt_seterr(err, errlen, "nbf is not a date");
		return JWT_E_CLAIM;
	}
	if ((i = json_get(j, 0, "iat")) != -1 &&
	    date(j, i, 1, &out->c_iat) == -1) {
		jwt_seterr(err, errlen, "iat is not a date");
		return JWT_E_CLAIM;
	}
	/* RFC 7519 4.1.4: valid before exp, never at it */
	if (t >= out->c_exp + skew) {
		jwt_seterr(err, errlen, "expired %lld s ago",
		    (long long)(t - out->c_exp));
		return JWT_E_EXPIRED;
	}
	if (out->c_nbf > t + skew) {
		jwt_seterr(err, errlen, "not valid for %lld s",
		    (long long)(out->c_nbf - t));
		return JWT_E_NOT_YET;
	}
	if (out->c_iat > t + skew) {
		jwt_seterr(err, errlen, "issued %lld s in the future",
		    (long long)(out->c_iat - t));
		return JWT_E_NOT_YET;
	}

	if ((i = json_get(j, 0, "iss")) == -1 ||
	    !json_streq(j, i, pol->p_issuer)) {
		jwt_seterr(err, errlen, "iss is not %s", pol->p_issuer);
		return JWT_E_ISSUER;
	}
	(void)json_strcpy(j, i, out->c_iss, sizeof(out->c_iss));

	/* RFC 7519 4.1.3: one string, or an array that holds ours */
	if ((i = json_get(j, 0, "aud")) == -1) {
		jwt_seterr(err, errlen, "no aud");
		return JWT_E_AUDIENCE;
	}
	if (json_type(j, i) == JSON_STRING)
		match = json_streq(j, i, pol->p_audience);
	else if (json_type(j, i) == JSON_ARRAY) {
		for (n = 0, k = i + 1; n < j->t[i].size;
		    n++, k = json_skip(j, k)) {
			if (json_type(j, k) != JSON_STRING) {
				jwt_seterr(err, errlen, "aud holds a "
				    "non-string");
				return JWT_E_CLAIM;
			}
			match |= json_streq(j, k, pol->p_audience);
		}
	} else {
		jwt_seterr(err, errlen, "aud is not a string or an array");
		return JWT_E_CLAIM;
	}
	if (!match) {
		jwt_seterr(err, errlen, "aud does not name %s",
		    pol->p_audience);
		return JWT_E_AUDIENCE;
	}
	(void)snprintf(out->c_aud, sizeof(out->c_aud), "%s", pol->p_audience);

	if (copy_claim(j, "sub", out->c_sub, sizeof(out->c_sub), err,
	    errlen) == -1 ||
	    copy_claim(j, "client_id", out->c_client_id,
	    sizeof(out->c_client_id), err, errlen) == -1 ||
	    copy_claim(j, "jti", out->c_jti, sizeof(out->c_jti), err,
	    errlen) == -1 ||
	    scopes(j, out->c_scope, sizeof(out->c_scope), err, errlen) == -1)
		return JWT_E_CLAIM;
	return JWT_OK;
}

int
jwt_verify(const struct jwks *ks, const char *tok, size_t len,
    const struct jwt_policy *pol, time_t now, struct jwt_claims *out,
    char *err, size_t errlen)
{
	char		 hbuf[JWT_MAX_BYTES], pbuf[JWT_MAX_BYTES];
	uint8_t		 sig[JWT_SIG_MAX_BYTES];
	jsmntok_t	 t[JWT_TOKENS_MAX];
	struct json	 j;
	const struct jwk *key;
	const char	*d1, *d2;
	enum jwt_alg	 alg;
	size_t		 siglen;
	int		 r;

	memset(out, 0, sizeof(*out));
	jwt_seterr(err, errlen, "no error");
	if (!policy_ok(pol)) {
		jwt_seterr(err, errlen, "policy without issuer or audience, "
		    "or out of bounds");
		return JWT_E_POLICY;
	}
	if (len == 0) {
		jwt_seterr(err, errlen, "empty token");
		return JWT_E_FORMAT;
	}
	if (len > pol->p_max_bytes) {
		jwt_seterr(err, errlen, "token of %zu bytes (at most %zu)",
		    len, pol->p_max_bytes);
		return JWT_E_TOO_BIG;
	}
	/* header.payload.signature; jwt_b64url refuses any other byte */
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL) {
		jwt_seterr(err, errlen, "not three parts");
		return JWT_E_FORMAT;
	}
	if (part_json(tok, (size_t)(d1 - tok), hbuf, sizeof(hbuf), &j,
	    t) == -1) {
		jwt_seterr(err, errlen, "header is not a base64url JSON "
		    "object");
		return JWT_E_FORMAT;
	}
	if ((r = header(&j, ks, pol, &key, &alg, err, errlen)) != JWT_OK)
		return r;

	if (jwt_b64url(d2 + 1, len - (size_t)(d2 + 1 - tok), sig, sizeof(sig),
	    &siglen) == -1 || siglen == 0) {
		jwt_seterr(err, errlen, "signature is not base64url of 1 to "
		    "%zu bytes", sizeof(sig));
		return JWT_E_SIGNATURE;
	}
	if ((r = jwk_verify(key, tok, (size_t)(d2 - tok), sig,
	    siglen)) != JWT_OK) {
		jwt_seterr(err, errlen, r == JWT_E_SIGNATURE ?
		    "%s signature does not verify" : "%s: libcrypto failed",
		    jwt_alg_name(alg));
		return r;
	}

	if (part_json(d1 + 1, (size_t)(d2 - d1 - 1), pbuf, sizeof(pbuf), &j,
	    t) == -1) {
		jwt_seterr(err, errlen, "payload is not a base64url JSON "
		    "object");
		return JWT_E_FORMAT;
	}
	out->c_alg = alg;
	if ((r = claims(&j, pol, now, out, err, errlen)) != JWT_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

int
jwt_scope_has(const struct jwt_claims *c, const char *scope)
{
	const char	*p = c->c_scope, *e;
	size_t		 n = strlen(scope);

	if (n == 0 || strchr(scope, ' ') != NULL)
		return 0;
	for (; *p != '\0'; p = *e == '\0' ? e : e + 1) {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && memcmp(p, scope, n) == 0)
			return 1;
	}
	return 0;
}
