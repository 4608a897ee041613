/*
 * jwt.h -- JWT access tokens (RFC 9068) checked against a JWKS (RFC
 * 7517): the resource server's side of OAuth 2.1.
 *
 * A library: no process, no event loop, no logging, no network.  The
 * caller fetches the JWKS, parses it with jwks_parse() and keeps the set;
 * jwt_verify() then checks a bearer token against it and a policy.  What
 * went wrong comes back as a negative jwt_error and a sentence in err.
 * Like json.c, whose parser keeps static scratch, it is for one thread
 * of a process at a time.
 *
 * Only asymmetric signatures, each key pinned to one algorithm: RS256
 * (RSA PKCS#1 v1.5, SHA-256, modulus of 2048 to 8192 bits), ES256 (P-256,
 * the signature as raw r||s) and EdDSA (Ed25519).  "none" and the HMAC
 * algorithms are never accepted: with a public key as the HMAC secret
 * anyone could sign.  The keys come from the JWKS only, never from the
 * token (jwk, jku, x5c, x5u are ignored).
 */
#ifndef MCPD_JWT_H
#define MCPD_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* a bearer token in an Authorization header: far above any IdP's */
#define JWT_MAX_BYTES		(8 * 1024)
/* a JWKS document: 64 RSA-4096 keys with certificate chains fit */
#define JWKS_MAX_BYTES		(256 * 1024)
#define JWKS_KEYS_MAX		64
/* a key id: thumbprints are 43, UUIDs 36 */
#define JWK_KID_MAX_BYTES	256
/* NIST's floor; past the ceiling one verification costs milliseconds */
#define JWK_RSA_MIN_BITS	2048
#define JWK_RSA_MAX_BITS	8192
/* tokens a few minutes old by another machine's clock pass */
#define JWT_SKEW_SECS_DEFAULT	60
#define JWT_SKEW_MAX_SECS	600

/* The claims kept, each with room for its NUL. */
#define JWT_ISS_MAX_BYTES	512	/* a URL */
#define JWT_AUD_MAX_BYTES	512	/* a URL: the resource's (RFC 8707) */
#define JWT_SUB_MAX_BYTES	256
#define JWT_CLIENT_ID_MAX_BYTES	256
#define JWT_JTI_MAX_BYTES	256
#define JWT_SCOPE_MAX_BYTES	2048	/* space-separated */

enum jwt_error {
	JWT_OK = 0,
	JWT_E_FORMAT = -1,	/* not a compact JWS of JSON objects */
	JWT_E_TOO_BIG = -2,	/* longer than the policy's bound */
	JWT_E_ALG = -3,		/* an alg we never take, or not the key's */
	JWT_E_HEADER = -4,	/* crit, or a typ that is not an access token */
	JWT_E_KID = -5,		/* no such key: the JWKS may need a refresh */
	JWT_E_SIGNATURE = -6,
	JWT_E_EXPIRED = -7,	/* exp missing or past (with the skew) */
	JWT_E_NOT_YET = -8,	/* nbf, or iat, in the future */
	JWT_E_ISSUER = -9,
	JWT_E_AUDIENCE = -10,	/* not for this resource */
	JWT_E_CLAIM = -11,	/* a claim of the wrong type, too long, a NUL */
	JWT_E_POLICY = -12,	/* the caller's policy is incomplete */
	JWT_E_INTERNAL = -13	/* libcrypto failed (out of memory) */
};

/* The signature algorithms there are keys for. */
enum jwt_alg {
	JWT_ALG_RS256 = 1,
	JWT_ALG_ES256,
	JWT_ALG_EDDSA
};

/* What the header's typ may be (RFC 9068 section 2.1). */
enum jwt_typ {
	JWT_TYP_ACCESS = 0,	/* at+jwt, application/at+jwt, JWT or none */
	JWT_TYP_AT_ONLY,	/* at+jwt or application/at+jwt */
	JWT_TYP_ANY		/* not looked at */
};

struct jwt_policy {
	const char	*p_issuer;	/* iss, compared exactly */
	const char	*p_audience;	/* this server's resource URI */
	int		 p_skew_secs;	/* 0 .. JWT_SKEW_MAX_SECS */
	size_t		 p_max_bytes;	/* 1 .. JWT_MAX_BYTES */
	enum jwt_typ	 p_typ;
};

struct jwt_claims {
	char		c_iss[JWT_ISS_MAX_BYTES];
	char		c_sub[JWT_SUB_MAX_BYTES];	/* "" when absent */
	char		c_aud[JWT_AUD_MAX_BYTES];	/* ours, matched */
	char		c_client_id[JWT_CLIENT_ID_MAX_BYTES];
	char		c_jti[JWT_JTI_MAX_BYTES];
	char		c_scope[JWT_SCOPE_MAX_BYTES];	/* or scp, joined */
	int64_t		c_exp;
	int64_t		c_nbf;		/* 0 when absent */
	int64_t		c_iat;		/* 0 when absent */
	enum jwt_alg	c_alg;
};

struct jwks;

/*
 * A JWKS document of len bytes (at most JWKS_MAX_BYTES).  Keeps the keys
 * for signatures we verify (kty RSA, EC with crv P-256, OKP with crv
 * Ed25519), each pinned to its alg (the JWK's, which must suit the key,
 * else the one the key type implies); skips keys of other types, curves
 * or algorithms, a use other than "sig" and key_ops without "verify".
 * Refuses the whole set, with a sentence in err, for a malformed key of
 * a type we take, a short RSA modulus, an EC point off the curve, any
 * private or secret member (d, p, q, dp, dq, qi, oth, k: such a JWKS was
 * never meant to be published), two keys of one kid and alg, more than
 * JWKS_KEYS_MAX keys.  A set may hold no key; jwks_count() says.
 */
struct jwks	*jwks_parse(const char *json, size_t len, char *err,
		    size_t errlen);
void		 jwks_free(struct jwks **);
size_t		 jwks_count(const struct jwks *);

/* The defaults: the skew, JWT_MAX_BYTES, JWT_TYP_ACCESS; no iss, no aud. */
void		 jwt_policy_init(struct jwt_policy *);

/*
 * Check token (len bytes, no NUL needed) at time now: its form, an alg
 * equal to the pinned alg of the key its kid names (no kid: the only key
 * of that alg), no crit, the signature, then exp (required), nbf and iat
 * with the skew, iss and aud.  Returns JWT_OK and fills out, or a
 * jwt_error (out is then cleared).  JWT_E_KID alone says a newer JWKS
 * might know the key.
 */
int		 jwt_verify(const struct jwks *, const char *token, size_t len,
		    const struct jwt_policy *, time_t now,
		    struct jwt_claims *out, char *err, size_t errlen);
const char	*jwt_strerror(int);
const char	*jwt_alg_name(enum jwt_alg);
/* The claims' scopes include scope (whole words only). */
int		 jwt_scope_has(const struct jwt_claims *, const char *scope);

/* Between jwt.c and jwks.c. */
struct jwk;
/* err may be NULL; a message never holds the token's bytes unfiltered */
void		 jwt_seterr(char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* base64url without padding, canonical (RFC 7515 section 2): 0 or -1 */
int		 jwt_b64url(const char *s, size_t n, void *out, size_t outmax,
		    size_t *outlen);
/* s's bytes into dst, printable ASCII kept and the rest as '?' */
void		 jwt_printable(char *dst, size_t dstlen, const char *s,
		    size_t n);
/*
 * The key of kid (NULL: the token names none) for alg.  JWT_OK, JWT_E_KID
 * (no key, or without kid not exactly one of alg) or JWT_E_ALG (the kid's
 * keys are pinned to other algorithms).
 */
int		 jwks_find(const struct jwks *, const char *kid,
		    enum jwt_alg alg, const struct jwk **);
/* JWT_OK, JWT_E_SIGNATURE or JWT_E_INTERNAL */
int		 jwk_verify(const struct jwk *, const void *msg, size_t msglen,
		    const void *sig, size_t siglen);

#endif
