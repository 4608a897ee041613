/*
 * NAME
 *	check_jwt.c -- unit tests of the JWT verifier and the JWKS parser
 *
 * DESCRIPTION
 *	jwt_verify() and jwks_parse() (common/jwt.c, common/jwks.c) against
 *	keys made when the test starts (RSA 2048, EC P-256, Ed25519, with
 *	OpenSSL) and tokens signed here, so no key or token is a fixture
 *	that could go stale.  Valid tokens of each algorithm and their
 *	claims; the clock (exp, nbf, iat and the skew's edges); iss and aud;
 *	the attacks: alg none, HS256 keyed with the RSA public key, an alg
 *	that is not the kid's key's, a key in the header, every bit of each
 *	signature flipped, bits of the header and payload flipped, ES256 in
 *	DER; the form: base64url strictness, parts, size, crit, duplicate
 *	keys, NUL.  Then JWKS documents: private members, short moduli,
 *	points off the curve, skipped keys, bounds.
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "jwt.h"

#define ISS		"https://as.example"
#define AUD		"https://mcp.example/mcp"
#define NOW		INT64_C(1800000000)
/* a token of a few claims, a JWK, a JWKS of a few keys: ample room */
#define TOK_MAX		(4 * JWT_MAX_BYTES)
#define JSON_MAX	(4 * JWT_MAX_BYTES)
#define JWK_MAX		2048
#define SIG_MAX		1024
/* RSA 2048 flips 2048 bits; under ASan each verification is slower */
#define TEST_TIMEOUT_SECS	120

/* for helpers main() calls too: Check's asserts work only in a test */
#define REQUIRE(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #e);	\
		abort();						\
	}								\
} while (0)

static EVP_PKEY		*rsa, *rsa2, *ec, *ed, *evil;
static char		 jwk_rsa[JWK_MAX], jwk_rsa2[JWK_MAX], jwk_ec[JWK_MAX],
			 jwk_ed[JWK_MAX];
static struct jwks	*ks;
static struct jwt_policy pol;
static struct jwt_claims c;
static char		 err[256];

/* the three keys for each algorithm, by loop index */
static const enum jwt_alg algs[] = {
	JWT_ALG_RS256, JWT_ALG_ES256, JWT_ALG_EDDSA
};
static const char *const kids[] = { "rsa1", "ec1", "ed1" };

static EVP_PKEY *
key_of(enum jwt_alg a)
{
	return a == JWT_ALG_RS256 ? rsa : a == JWT_ALG_ES256 ? ec : ed;
}

static void
b64cat(char *out, size_t outlen, const void *d, size_t n)
{
	size_t	 l = strlen(out);

	REQUIRE(sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= outlen - l);
	sodium_bin2base64(out + l, outlen - l, d, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
bn_b64(char *out, size_t outlen, const BIGNUM *bn, int pad)
{
	uint8_t	 b[SIG_MAX];
	int	 n;

	n = pad > 0 ? BN_bn2binpad(bn, b, pad) : BN_bn2bin(bn, b);
	REQUIRE(n > 0);
	out[0] = '\0';
	b64cat(out, outlen, b, (size_t)n);
}

/* the JWK of k's public key, with kid and the extra members in extra */
static void
jwk(char *out, size_t outlen, EVP_PKEY *k, const char *kid,
    const char *extra)
{
	char		 a[SIG_MAX * 2], b[SIG_MAX];
	uint8_t		 raw[32];
	size_t		 n = sizeof(raw);
	BIGNUM		*x = NULL, *y = NULL;

	if (EVP_PKEY_is_a(k, "RSA")) {
		REQUIRE(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &x));
		REQUIRE(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &y));
		bn_b64(a, sizeof(a), x, 0);
		bn_b64(b, sizeof(b), y, 0);
		snprintf(out, outlen, "{\"kty\":\"RSA\",\"kid\":\"%s\","
		    "\"n\":\"%s\",\"e\":\"%s\"%s}", kid, a, b, extra);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		REQUIRE(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X,
		    &x));
		REQUIRE(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y,
		    &y));
		bn_b64(a, sizeof(a), x, 32);
		bn_b64(b, sizeof(b), y, 32);
		snprintf(out, outlen, "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", kid, a, b,
		    extra);
	} else {
		REQUIRE(EVP_PKEY_get_raw_public_key(k, raw, &n));
		a[0] = '\0';
		b64cat(a, sizeof(a), raw, n);
		snprintf(out, outlen, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		    "\"kid\":\"%s\",\"x\":\"%s\"%s}", kid, a, extra);
	}
	BN_free(x);
	BN_free(y);
}

/* k's signature of msg as JOSE has it (ES256: r||s); its length */
static size_t
sign(EVP_PKEY *k, enum jwt_alg a, const void *msg, size_t len, uint8_t *sig)
{
	EVP_MD_CTX	*m;
	ECDSA_SIG	*es;
	uint8_t		 der[SIG_MAX];
	const uint8_t	*p = der;
	size_t		 n = sizeof(der);

	ck_assert_ptr_nonnull(m = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestSignInit_ex(m, NULL, a == JWT_ALG_EDDSA ?
	    NULL : "SHA256", NULL, NULL, k, NULL), 1);
	ck_assert_int_eq(EVP_DigestSign(m, der, &n, msg, len), 1);
	EVP_MD_CTX_free(m);
	if (a != JWT_ALG_ES256) {
		memcpy(sig, der, n);
		return n;
	}
	ck_assert_ptr_nonnull(es = d2i_ECDSA_SIG(NULL, &p, (long)n));
	ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32), 32);
	ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32), 32);
	ECDSA_SIG_free(es);
	return 64;
}

/* out holds "h.p": append "." and the signature by k (none if NULL) */
static void
sign_text(char *out, size_t outlen, EVP_PKEY *k, enum jwt_alg a)
{
	uint8_t	 sig[SIG_MAX];
	size_t	 n;

	n = k != NULL ? sign(k, a, out, strlen(out), sig) : 0;
	ck_assert_uint_lt(strlen(out) + 1, outlen);
	strcat(out, ".");
	b64cat(out, outlen, sig, n);
}

/* "text.sig": text's first len bytes, sig (n bytes) in base64url */
static void
with_sig(char *out, size_t outlen, const char *text, size_t len,
    const uint8_t *sig, size_t n)
{
	ck_assert_uint_lt(len + 1, outlen);
	memcpy(out, text, len);
	out[len] = '.';
	out[len + 1] = '\0';
	b64cat(out, outlen, sig, n);
}

/* src with its first old replaced by new, into dst */
static void
replace(char *dst, size_t dstlen, const char *src, const char *old,
    const char *new)
{
	const char	*at;

	ck_assert_ptr_nonnull(at = strstr(src, old));
	ck_assert_int_lt(snprintf(dst, dstlen, "%.*s%s%s", (int)(at - src),
	    src, new, at + strlen(old)), (int)dstlen);
}

/* hdr and pay encoded and signed */
static void
token(char *out, size_t outlen, const char *hdr, const char *pay, EVP_PKEY *k,
    enum jwt_alg a)
{
	out[0] = '\0';
	b64cat(out, outlen, hdr, strlen(hdr));
	strcat(out, ".");
	b64cat(out, outlen, pay, strlen(pay));
	sign_text(out, outlen, k, a);
}

static const char *
fmt(char *buf, size_t len, const char *f, ...)
    __attribute__((format(printf, 3, 4)));

static const char *
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, f);
	n = vsnprintf(buf, len, f, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < len);
	return buf;
}

/* the header of alg a and its key's kid */
static const char *
hdr(char *buf, size_t len, int i)
{
	return fmt(buf, len, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":"
	    "\"at+jwt\"}", jwt_alg_name(algs[i]), kids[i]);
}

/* the usual claims, then extra ones */
static const char *
claims(char *buf, size_t len, const char *extra)
{
	return fmt(buf, len, "{\"iss\":\"" ISS "\",\"sub\":\"alice\","
	    "\"aud\":\"" AUD "\",\"exp\":%lld,\"iat\":%lld,"
	    "\"client_id\":\"cli\",\"jti\":\"j1\"%s}", (long long)NOW + 300,
	    (long long)NOW - 10, extra);
}

static int
verify(const char *tok)
{
	return jwt_verify(ks, tok, strlen(tok), &pol, (time_t)NOW, &c, err,
	    sizeof(err));
}

/* a token of alg a (loop index) with payload pay: verify's result */
static int
check_pay(int i, const char *pay)
{
	char	 h[256], tok[TOK_MAX];

	token(tok, sizeof(tok), hdr(h, sizeof(h), i), pay, key_of(algs[i]),
	    algs[i]);
	return verify(tok);
}

/* the same with the usual issuer and audience and these times */
static int
check_times(const char *times)
{
	char	 p[JSON_MAX];

	return check_pay(1, fmt(p, sizeof(p), "{\"iss\":\"" ISS "\","
	    "\"aud\":\"" AUD "\"%s}", times));
}

static void
setup(void)
{
	jwt_policy_init(&pol);
	pol.p_issuer = ISS;
	pol.p_audience = AUD;
	memset(&c, 0xa5, sizeof(c));
	err[0] = '\0';
}

START_TEST(valid)
{
	char	 h[256], p[JSON_MAX], tok[TOK_MAX];
	int	 i = _i;

	token(tok, sizeof(tok), hdr(h, sizeof(h), i), claims(p, sizeof(p),
	    ",\"scope\":\"tools:read files:write\""), key_of(algs[i]),
	    algs[i]);
	ck_assert_msg(verify(tok) == JWT_OK, "%s: %s", jwt_alg_name(algs[i]),
	    err);
	ck_assert_str_eq(c.c_iss, ISS);
	ck_assert_str_eq(c.c_sub, "alice");
	ck_assert_str_eq(c.c_aud, AUD);
	ck_assert_str_eq(c.c_client_id, "cli");
	ck_assert_str_eq(c.c_jti, "j1");
	ck_assert_str_eq(c.c_scope, "tools:read files:write");
	ck_assert_int_eq(c.c_exp, NOW + 300);
	ck_assert_int_eq(c.c_iat, NOW - 10);
	ck_assert_int_eq(c.c_nbf, 0);
	ck_assert_int_eq(c.c_alg, algs[i]);
	ck_assert(jwt_scope_has(&c, "tools:read"));
	ck_assert(jwt_scope_has(&c, "files:write"));
	ck_assert(!jwt_scope_has(&c, "tools"));
	ck_assert(!jwt_scope_has(&c, "files:write "));
	ck_assert(!jwt_scope_has(&c, ""));
	ck_assert(!jwt_scope_has(&c, "tools:read files:write"));

	/* a wrong policy: nothing checked, nothing out */
	pol.p_audience = NULL;
	ck_assert_int_eq(verify(tok), JWT_E_POLICY);
	ck_assert_str_eq(c.c_sub, "");
	pol.p_audience = AUD;
	pol.p_skew_secs = JWT_SKEW_MAX_SECS + 1;
	ck_assert_int_eq(verify(tok), JWT_E_POLICY);
	pol.p_skew_secs = 0;
	pol.p_max_bytes = JWT_MAX_BYTES + 1;
	ck_assert_int_eq(verify(tok), JWT_E_POLICY);
}
END_TEST

START_TEST(times)
{
	char	 t[256];
	long long now = (long long)NOW;

	/* exp: valid strictly before exp + skew */
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld",
	    now - 59)), JWT_OK);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld",
	    now - 60)), JWT_E_EXPIRED);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld",
	    now - 3600)), JWT_E_EXPIRED);
	ck_assert_int_eq(check_times(""), JWT_E_EXPIRED);
	ck_assert_int_eq(check_times(",\"exp\":null"), JWT_E_CLAIM);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":\"%lld\"",
	    now + 60)), JWT_E_CLAIM);
	ck_assert_int_eq(check_times(",\"exp\":-1"), JWT_E_CLAIM);
	ck_assert_int_eq(check_times(",\"exp\":1e300"), JWT_E_CLAIM);
	ck_assert_int_eq(check_times(",\"exp\":99999999999999999999"),
	    JWT_E_CLAIM);
	/* a fraction: exp rounds down */
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld.9",
	    now - 60)), JWT_E_EXPIRED);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld.5",
	    now + 10)), JWT_OK);
	ck_assert_int_eq(c.c_exp, NOW + 10);

	/* nbf and iat: valid up to now + skew */
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"nbf\":%lld", now + 600, now + 60)), JWT_OK);
	ck_assert_int_eq(c.c_nbf, NOW + 60);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"nbf\":%lld", now + 600, now + 61)), JWT_E_NOT_YET);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"nbf\":%lld.1", now + 600, now + 60)), JWT_E_NOT_YET);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"nbf\":\"x\"", now + 600)), JWT_E_CLAIM);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"iat\":%lld", now + 600, now + 60)), JWT_OK);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"iat\":%lld", now + 600, now + 61)), JWT_E_NOT_YET);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"iat\":true", now + 600)), JWT_E_CLAIM);

	/* without skew: the edges themselves */
	pol.p_skew_secs = 0;
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld",
	    now)), JWT_E_EXPIRED);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld",
	    now + 1)), JWT_OK);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"nbf\":%lld", now + 1, now)), JWT_OK);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"nbf\":%lld", now + 2, now + 1)), JWT_E_NOT_YET);
	ck_assert_int_eq(check_times(fmt(t, sizeof(t), ",\"exp\":%lld,"
	    "\"iat\":%lld", now + 2, now + 1)), JWT_E_NOT_YET);
}
END_TEST

START_TEST(issuer_audience)
{
	char	 p[JSON_MAX];
	long long exp = (long long)NOW + 300;

#define PAY(iss_aud) fmt(p, sizeof(p), "{\"exp\":%lld" iss_aud "}", exp)
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":\"" AUD "\"")), JWT_OK);
	/* iss: exact */
	ck_assert_int_eq(check_pay(0, PAY(",\"aud\":\"" AUD "\"")),
	    JWT_E_ISSUER);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"https://evil.example\","
	    "\"aud\":\"" AUD "\"")), JWT_E_ISSUER);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "/\","
	    "\"aud\":\"" AUD "\"")), JWT_E_ISSUER);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"HTTPS://as.example\","
	    "\"aud\":\"" AUD "\"")), JWT_E_ISSUER);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":[\"" ISS "\"],"
	    "\"aud\":\"" AUD "\"")), JWT_E_ISSUER);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\\u0000\","
	    "\"aud\":\"" AUD "\"")), JWT_E_ISSUER);
	/* the same issuer escaped is the same string */
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"https:\\/\\/as.example\","
	    "\"aud\":\"" AUD "\"")), JWT_OK);
	ck_assert_str_eq(c.c_iss, ISS);

	/* aud: ours, or an array that holds ours */
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\"")),
	    JWT_E_AUDIENCE);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":\"https://other.example/mcp\"")), JWT_E_AUDIENCE);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":\"" AUD "/x\"")), JWT_E_AUDIENCE);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":\"https://mcp.example/\"")), JWT_E_AUDIENCE);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":[\"https://a.example\",\"" AUD "\"]")), JWT_OK);
	ck_assert_str_eq(c.c_aud, AUD);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":[\"https://a.example\",\"https://b.example\"]")),
	    JWT_E_AUDIENCE);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":[]")), JWT_E_AUDIENCE);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":[\"" AUD "\",1]")), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":[[\"" AUD "\"]]")), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(0, PAY(",\"iss\":\"" ISS "\","
	    "\"aud\":{\"" AUD "\":1}")), JWT_E_CLAIM);
#undef PAY
}
END_TEST

/* alg none, with and without a signature: refused before any key */
START_TEST(alg_none)
{
	char		 p[JSON_MAX], tok[TOK_MAX];
	const char	*h[] = { "{\"alg\":\"none\"}",
	    "{\"alg\":\"none\",\"kid\":\"rsa1\"}", "{\"alg\":\"None\"}",
	    "{\"alg\":\"NONE\",\"kid\":\"ec1\"}", "{\"alg\":\"\"}",
	    "{\"alg\":null}", "{\"kid\":\"ec1\"}" };
	size_t		 i;

	claims(p, sizeof(p), "");
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		token(tok, sizeof(tok), h[i], p, NULL, JWT_ALG_ES256);
		ck_assert_msg(tok[strlen(tok) - 1] == '.', "%s", tok);
		ck_assert_int_eq(verify(tok), JWT_E_ALG);
		/* without the last part: not a JWS */
		tok[strlen(tok) - 1] = '\0';
		ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
		/* with a real signature by a key of the JWKS */
		token(tok, sizeof(tok), h[i], p, ec, JWT_ALG_ES256);
		ck_assert_int_eq(verify(tok), JWT_E_ALG);
	}
}
END_TEST

/*
 * HS256/384/512 keyed with the RSA public key, as PEM and as DER: the
 * key-confusion attack against verifiers that let the header choose.
 */
START_TEST(hmac_confusion)
{
	const char	*hs[] = { "HS256", "HS384", "HS512" };
	char		 h[256], p[JSON_MAX], tok[TOK_MAX];
	uint8_t		*der = NULL, mac[crypto_auth_hmacsha256_BYTES];
	char		*pem;
	BIO		*bio;
	long		 pemlen;
	int		 derlen, k, withkid;
	crypto_auth_hmacsha256_state st;

	ck_assert_ptr_nonnull(bio = BIO_new(BIO_s_mem()));
	ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, rsa), 1);
	ck_assert_int_gt(pemlen = BIO_get_mem_data(bio, &pem), 0);
	ck_assert_int_gt(derlen = i2d_PUBKEY(rsa, &der), 0);
	claims(p, sizeof(p), "");
	for (k = 0; k < 2 * 2 * 3; k++) {
		withkid = k & 1;
		fmt(h, sizeof(h), "{\"alg\":\"%s\"%s}", hs[k / 4],
		    withkid ? ",\"kid\":\"rsa1\"" : "");
		tok[0] = '\0';
		b64cat(tok, sizeof(tok), h, strlen(h));
		strcat(tok, ".");
		b64cat(tok, sizeof(tok), p, strlen(p));
		crypto_auth_hmacsha256_init(&st, k & 2 ? der :
		    (uint8_t *)pem, k & 2 ? (size_t)derlen : (size_t)pemlen);
		crypto_auth_hmacsha256_update(&st, (uint8_t *)tok, strlen(tok));
		crypto_auth_hmacsha256_final(&st, mac);
		strcat(tok, ".");
		b64cat(tok, sizeof(tok), mac, sizeof(mac));
		ck_assert_msg(verify(tok) == JWT_E_ALG, "%s: %s", h, err);
	}
	OPENSSL_free(der);
	BIO_free(bio);
}
END_TEST

/* a valid signature by the kid's key, but another alg named: refused */
START_TEST(alg_key_mismatch)
{
	char	 h[256], p[JSON_MAX], tok[TOK_MAX];
	int	 a, k;

	claims(p, sizeof(p), "");
	for (a = 0; a < 3; a++) {
		for (k = 0; k < 3; k++) {
			if (a == k)
				continue;
			fmt(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"%s\"}",
			    jwt_alg_name(algs[a]), kids[k]);
			/* signed by the alg's key, and by the kid's */
			token(tok, sizeof(tok), h, p, key_of(algs[a]),
			    algs[a]);
			ck_assert_msg(verify(tok) == JWT_E_ALG, "%s", h);
			token(tok, sizeof(tok), h, p, key_of(algs[k]),
			    algs[k]);
			ck_assert_msg(verify(tok) == JWT_E_ALG, "%s", h);
		}
	}
	/* lower case is another name */
	token(tok, sizeof(tok), "{\"alg\":\"rs256\",\"kid\":\"rsa1\"}", p,
	    rsa, JWT_ALG_RS256);
	ck_assert_int_eq(verify(tok), JWT_E_ALG);
	token(tok, sizeof(tok), "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", p,
	    rsa, JWT_ALG_RS256);
	ck_assert_int_eq(verify(tok), JWT_E_ALG);
}
END_TEST

START_TEST(kid_choice)
{
	char	 h[512], p[JSON_MAX], tok[TOK_MAX], big[JWK_KID_MAX_BYTES + 2];

	claims(p, sizeof(p), "");
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"nope\"}", p, ec,
	    JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_KID);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"EC1\"}", p, ec,
	    JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_KID);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"\"}", p, ec,
	    JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_KID);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	token(tok, sizeof(tok), fmt(h, sizeof(h), "{\"alg\":\"ES256\","
	    "\"kid\":\"%s\"}", big), p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_KID);
	/* kid escaped is the same kid; kid with a NUL, or not a string */
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"e\\u00631\"}",
	    p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_OK);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\\u0000\"}",
	    p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":1}", p, ec,
	    JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	/* no kid: the one key of the alg, else none (two RSA keys) */
	token(tok, sizeof(tok), "{\"alg\":\"ES256\"}", p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_OK);
	token(tok, sizeof(tok), "{\"alg\":\"EdDSA\"}", p, ed, JWT_ALG_EDDSA);
	ck_assert_int_eq(verify(tok), JWT_OK);
	token(tok, sizeof(tok), "{\"alg\":\"RS256\"}", p, rsa, JWT_ALG_RS256);
	ck_assert_int_eq(verify(tok), JWT_E_KID);
	/* the second RSA key by its kid; the first's kid, the other key */
	token(tok, sizeof(tok), "{\"alg\":\"RS256\",\"kid\":\"rsa2\"}", p,
	    rsa2, JWT_ALG_RS256);
	ck_assert_int_eq(verify(tok), JWT_OK);
	token(tok, sizeof(tok), "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", p,
	    rsa2, JWT_ALG_RS256);
	ck_assert_int_eq(verify(tok), JWT_E_SIGNATURE);
	/* no JWKS at all */
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", p, ec,
	    JWT_ALG_ES256);
	ck_assert_int_eq(jwt_verify(NULL, tok, strlen(tok), &pol,
	    (time_t)NOW, &c, err, sizeof(err)), JWT_E_KID);
}
END_TEST

/* a key in the header (jwk, jku, x5c) is never used */
START_TEST(embedded_key)
{
	char	 j[JWK_MAX], h[JWK_MAX + 256], p[JSON_MAX], tok[TOK_MAX];

	claims(p, sizeof(p), "");
	jwk(j, sizeof(j), evil, "ec1", "");
	token(tok, sizeof(tok), fmt(h, sizeof(h), "{\"alg\":\"ES256\","
	    "\"kid\":\"ec1\",\"jwk\":%s}", j), p, evil, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_SIGNATURE);
	token(tok, sizeof(tok), fmt(h, sizeof(h), "{\"alg\":\"ES256\","
	    "\"jwk\":%s}", j), p, evil, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_SIGNATURE);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"evil\","
	    "\"jku\":\"https://evil.example/jwks\"}", p, evil, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_KID);
}
END_TEST

/* every bit of the signature, flipped: never accepted */
START_TEST(signature_bits)
{
	char	 h[256], p[JSON_MAX], tok[TOK_MAX], forged[TOK_MAX];
	uint8_t	 sig[SIG_MAX];
	size_t	 n, bit, dot;
	int	 i = _i;

	hdr(h, sizeof(h), i);
	claims(p, sizeof(p), "");
	tok[0] = '\0';
	b64cat(tok, sizeof(tok), h, strlen(h));
	strcat(tok, ".");
	b64cat(tok, sizeof(tok), p, strlen(p));
	dot = strlen(tok);
	n = sign(key_of(algs[i]), algs[i], tok, dot, sig);
	for (bit = 0; bit <= 8 * n; bit++) {
		if (bit < 8 * n)
			sig[bit / 8] ^= 1 << (bit % 8);
		with_sig(forged, sizeof(forged), tok, dot, sig, n);
		if (bit < 8 * n) {
			ck_assert_msg(verify(forged) == JWT_E_SIGNATURE,
			    "%s: bit %zu flipped: %s", jwt_alg_name(algs[i]),
			    bit, err);
			sig[bit / 8] ^= 1 << (bit % 8);
		} else	/* all flipped back */
			ck_assert_int_eq(verify(forged), JWT_OK);
	}
}
END_TEST

/* every bit of the header and of the payload, flipped: never accepted */
START_TEST(signed_bits)
{
	char	 h[256], p[JSON_MAX], tok[TOK_MAX], forged[TOK_MAX];
	char	 sig64[SIG_MAX * 2];
	size_t	 bit, n;
	int	 part;

	hdr(h, sizeof(h), 2);
	claims(p, sizeof(p), "");
	token(tok, sizeof(tok), h, p, ed, JWT_ALG_EDDSA);
	ck_assert_int_eq(verify(tok), JWT_OK);
	snprintf(sig64, sizeof(sig64), "%s", strrchr(tok, '.'));
	for (part = 0; part < 2; part++) {
		n = strlen(part == 0 ? h : p);
		for (bit = 0; bit < 8 * n; bit++) {
			char	*s = part == 0 ? h : p;

			s[bit / 8] ^= 1 << (bit % 8);
			forged[0] = '\0';
			b64cat(forged, sizeof(forged), h, strlen(h));
			strcat(forged, ".");
			b64cat(forged, sizeof(forged), p, strlen(p));
			strcat(forged, sig64);
			s[bit / 8] ^= 1 << (bit % 8);
			/* NUL: the JSON is cut short, still refused */
			ck_assert_msg(verify(forged) != JWT_OK,
			    "%s bit %zu flipped", part ? "payload" : "header",
			    bit);
		}
	}
}
END_TEST

START_TEST(es256_forms)
{
	char		 h[256], p[JSON_MAX], tok[TOK_MAX], dtok[TOK_MAX];
	uint8_t		 sig[SIG_MAX], der[SIG_MAX], *dp = der;
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	size_t		 n, dot;
	int		 dn, len;
	const int	 lens[] = { 0, 1, 32, 63, 65, 66, 72, 128 };

	hdr(h, sizeof(h), 1);
	claims(p, sizeof(p), "");
	tok[0] = '\0';
	b64cat(tok, sizeof(tok), h, strlen(h));
	strcat(tok, ".");
	b64cat(tok, sizeof(tok), p, strlen(p));
	dot = strlen(tok);
	n = sign(ec, JWT_ALG_ES256, tok, dot, sig);
	ck_assert_uint_eq(n, 64);

	/* the same signature in DER, as OpenSSL makes it: refused */
	ck_assert_ptr_nonnull(es = ECDSA_SIG_new());
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	ck_assert_int_eq(ECDSA_SIG_set0(es, r, s), 1);
	ck_assert_int_gt(dn = i2d_ECDSA_SIG(es, &dp), 0);
	ECDSA_SIG_free(es);
	with_sig(dtok, sizeof(dtok), tok, dot, der, (size_t)dn);
	ck_assert_int_eq(verify(dtok), JWT_E_SIGNATURE);

	/* r||s cut or padded */
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		len = lens[k];
		memset(der, 0, sizeof(der));
		memcpy(der, sig, len < 64 ? (size_t)len : 64);
		with_sig(dtok, sizeof(dtok), tok, dot, der, (size_t)len);
		ck_assert_msg(verify(dtok) == JWT_E_SIGNATURE, "length %d",
		    len);
	}
	/* r = s = 0, and r = s = 2^256 - 1 (past the group's order) */
	memset(der, 0, 64);
	with_sig(dtok, sizeof(dtok), tok, dot, der, 64);
	ck_assert_int_eq(verify(dtok), JWT_E_SIGNATURE);
	memset(der, 0xff, 64);
	with_sig(dtok, sizeof(dtok), tok, dot, der, 64);
	ck_assert_int_eq(verify(dtok), JWT_E_SIGNATURE);

	/* the other algorithms' lengths too */
	for (int i = 0; i < 3; i += 2) {
		token(tok, sizeof(tok), hdr(h, sizeof(h), i), p,
		    key_of(algs[i]), algs[i]);
		ck_assert_int_eq(verify(tok), JWT_OK);
		tok[strlen(tok) - 2] = '\0';	/* 1 byte short */
		ck_assert_int_eq(verify(tok), JWT_E_SIGNATURE);
		token(tok, sizeof(tok), hdr(h, sizeof(h), i), p,
		    key_of(algs[i]), algs[i]);
		strcat(tok, "AA");		/* 2 bytes long */
		ck_assert_int_eq(verify(tok), JWT_E_SIGNATURE);
	}
}
END_TEST

/* c replaces the character at off, or goes in before it (ins) */
static int
mutate(const char *tok, size_t off, const char *ch, int ins)
{
	char	 m[TOK_MAX];

	snprintf(m, sizeof(m), "%.*s%s%s", (int)off, tok, ch,
	    tok + off + (ins ? 0 : 1));
	return verify(m);
}

START_TEST(base64url)
{
	char		 h[256], p[JSON_MAX], tok[TOK_MAX], m[TOK_MAX];
	const char	*bad[] = { "=", "+", "/", " ", "\t", "\n", "\r",
	    "%", "\\", "\"", "\xc3\xa9" };
	const char	*d1, *d2;
	size_t		 k, part, off[3];
	int		 r;

	/* a payload whose base64url has a partial last group */
	claims(p, sizeof(p), "");
	if (strlen(p) % 3 == 0)
		claims(p, sizeof(p), ",\"y\":10");
	token(tok, sizeof(tok), hdr(h, sizeof(h), 1), p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_OK);
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	off[0] = 0;
	off[1] = (size_t)(d1 + 1 - tok);
	off[2] = (size_t)(d2 + 1 - tok);
	for (part = 0; part < 3; part++) {
		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			/* before, in the middle, at the end of the part */
			ck_assert_int_ne(mutate(tok, off[part], bad[k], 1), 0);
			ck_assert_int_ne(mutate(tok, off[part] + 3, bad[k], 1),
			    0);
			ck_assert_int_ne(mutate(tok, off[part] + 3, bad[k], 0),
			    0);
		}
	}
	/* padding at the end of each part, and around the token */
	for (part = 0; part < 3; part++) {
		snprintf(m, sizeof(m), "%.*s==%s", (int)(part < 2 ?
		    off[part + 1] - 1 : strlen(tok)), tok, part < 2 ?
		    tok + off[part + 1] - 1 : "");
		ck_assert_int_ne(verify(m), JWT_OK);
	}
	ck_assert_int_eq(mutate(tok, 0, " ", 1), JWT_E_FORMAT);
	ck_assert_int_eq(mutate(tok, strlen(tok), "\n", 1), JWT_E_SIGNATURE);
	/* a NUL inside: len says where the token ends, not the NUL */
	snprintf(m, sizeof(m), "%s", tok);
	m[5] = '\0';
	ck_assert_int_eq(jwt_verify(ks, m, strlen(tok), &pol, (time_t)NOW,
	    &c, err, sizeof(err)), JWT_E_FORMAT);

	/*
	 * A payload in standard base64 or padded, and signed that way: the
	 * signature holds, the payload is refused.  Its last character with
	 * bits past the end set: no second spelling of the same bytes.
	 */
	snprintf(m, sizeof(m), "%.*s", (int)(d2 - tok), tok);
	strcat(m, "=");
	sign_text(m, sizeof(m), ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	r = (int)(d2 - d1 - 1) % 4;
	ck_assert(r == 2 || r == 3);
	{
		const char	*b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_";
		const char	*at;

		snprintf(m, sizeof(m), "%.*s", (int)(d2 - tok), tok);
		at = strchr(b64, m[d2 - tok - 1]);
		ck_assert_ptr_nonnull(at);
		m[d2 - tok - 1] = b64[(at - b64) ^ 1];
		sign_text(m, sizeof(m), ec, JWT_ALG_ES256);
		ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	}
	/* the header in the standard alphabet ('+' and '/') */
	token(m, sizeof(m), "{\"alg\":\"ES256\",\"kid\":\"ec1\","
	    "\"x\":\"?\?\?>>>~~~?\?\?\"}", p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(m), JWT_OK);
	ck_assert_uint_lt(strcspn(m, "-_"), (size_t)(strchr(m, '.') - m));
	m[strcspn(m, "-_")] = m[strcspn(m, "-_")] == '-' ? '+' : '/';
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
}
END_TEST

START_TEST(parts)
{
	char		 h[256], p[JSON_MAX], tok[TOK_MAX], m[TOK_MAX * 2];
	const char	*sig;

	claims(p, sizeof(p), "");
	token(tok, sizeof(tok), hdr(h, sizeof(h), 2), p, ed, JWT_ALG_EDDSA);
	sig = strrchr(tok, '.');
	/* two parts, four, five, empty ones */
	snprintf(m, sizeof(m), "%.*s", (int)(sig - tok), tok);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	snprintf(m, sizeof(m), "%s.%s", tok, sig + 1);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	snprintf(m, sizeof(m), "%s.", tok);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	snprintf(m, sizeof(m), "%s..", tok);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	snprintf(m, sizeof(m), ".%s", tok);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	ck_assert_int_eq(verify(""), JWT_E_FORMAT);
	ck_assert_int_eq(verify("."), JWT_E_FORMAT);
	ck_assert_int_eq(verify(".."), JWT_E_FORMAT);
	ck_assert_int_eq(verify("..."), JWT_E_FORMAT);
	ck_assert_int_eq(verify("a.b.c"), JWT_E_FORMAT);
	/* the payload empty, signed */
	snprintf(m, sizeof(m), "%.*s.", (int)(strchr(tok, '.') - tok), tok);
	sign_text(m, sizeof(m), ed, JWT_ALG_EDDSA);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
	/* the signature empty */
	snprintf(m, sizeof(m), "%.*s.", (int)(sig - tok), tok);
	ck_assert_int_eq(verify(m), JWT_E_SIGNATURE);
	/* a JWE (five parts) */
	snprintf(m, sizeof(m), "%s.%s.%s", tok, sig + 1, sig + 1);
	ck_assert_int_eq(verify(m), JWT_E_FORMAT);
}
END_TEST

START_TEST(json_shapes)
{
	char	 p[JSON_MAX], tok[TOK_MAX];

	claims(p, sizeof(p), "");
	/* header and payload: JSON objects, each key once */
	token(tok, sizeof(tok), "[\"ES256\"]", p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\"} x", p,
	    ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\","
	    "\"alg\":\"none\"}", p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\","
	    "\"al\\u0067\":\"ES256\"}", p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	/* whitespace inside the JSON is JSON's */
	token(tok, sizeof(tok), " {\"alg\" : \"ES256\",\n\"kid\":\"ec1\"}\t",
	    p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_OK);

	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
	    "\"" AUD "\"", ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
	    "{\"iss\":\"" ISS "\",", ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	/* the gateway reads the last aud, we would read the first */
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
	    claims(p, sizeof(p), ",\"aud\":\"https://other.example\""), ec,
	    JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
	token(tok, sizeof(tok), "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
	    claims(p, sizeof(p), ",\"\\u0065xp\":1"), ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_E_FORMAT);
}
END_TEST

START_TEST(crit)
{
	char		 p[JSON_MAX], tok[TOK_MAX];
	const char	*h[] = {
	    "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[\"exp\"],"
	    "\"exp\":1}",
	    "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[]}",
	    "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[\"b64\"],"
	    "\"b64\":false}",
	    "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":null}" };

	claims(p, sizeof(p), "");
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		token(tok, sizeof(tok), h[i], p, ec, JWT_ALG_ES256);
		ck_assert_msg(verify(tok) == JWT_E_HEADER, "%s", h[i]);
	}
}
END_TEST

START_TEST(typ)
{
	char		 h[256], p[JSON_MAX], tok[TOK_MAX];
	const struct {
		const char	*typ;	/* NULL: absent */
		int		 access, at_only;
	} cases[] = {
		{ NULL, JWT_OK, JWT_E_HEADER },
		{ "\"at+jwt\"", JWT_OK, JWT_OK },
		{ "\"application/at+jwt\"", JWT_OK, JWT_OK },
		{ "\"AT+JWT\"", JWT_OK, JWT_OK },
		{ "\"JWT\"", JWT_OK, JWT_E_HEADER },
		{ "\"jwt\"", JWT_OK, JWT_E_HEADER },
		{ "\"dpop+jwt\"", JWT_E_HEADER, JWT_E_HEADER },
		{ "\"logout+jwt\"", JWT_E_HEADER, JWT_E_HEADER },
		{ "\"JOSE\"", JWT_E_HEADER, JWT_E_HEADER },
		{ "\"at+jwt\\u0000\"", JWT_E_HEADER, JWT_E_HEADER },
		{ "\"\"", JWT_E_HEADER, JWT_E_HEADER },
		{ "1", JWT_E_HEADER, JWT_E_HEADER },
		{ "null", JWT_E_HEADER, JWT_E_HEADER },
	};

	claims(p, sizeof(p), "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].typ == NULL)
			fmt(h, sizeof(h), "{\"alg\":\"ES256\","
			    "\"kid\":\"ec1\"}");
		else
			fmt(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"ec1\","
			    "\"typ\":%s}", cases[i].typ);
		token(tok, sizeof(tok), h, p, ec, JWT_ALG_ES256);
		pol.p_typ = JWT_TYP_ACCESS;
		ck_assert_msg(verify(tok) == cases[i].access, "%s", h);
		pol.p_typ = JWT_TYP_AT_ONLY;
		ck_assert_msg(verify(tok) == cases[i].at_only, "%s", h);
		pol.p_typ = JWT_TYP_ANY;
		ck_assert_msg(verify(tok) == JWT_OK, "%s", h);
	}
}
END_TEST

START_TEST(too_big)
{
	char	 pad[JWT_MAX_BYTES], p[JSON_MAX], tok[TOK_MAX], t2[TOK_MAX];
	size_t	 n;

	/* just under, and just over JWT_MAX_BYTES */
	claims(p, sizeof(p), ",\"x\":\"\"");
	token(tok, sizeof(tok), "{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}", p, ed,
	    JWT_ALG_EDDSA);
	n = (JWT_MAX_BYTES - strlen(tok)) * 3 / 4;
	memset(pad, 'x', n);
	pad[n] = '\0';
	for (;;) {
		claims(p, sizeof(p), fmt(t2, sizeof(t2), ",\"x\":\"%s\"", pad));
		token(tok, sizeof(tok), "{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}",
		    p, ed, JWT_ALG_EDDSA);
		if (strlen(tok) <= JWT_MAX_BYTES)
			break;
		pad[--n] = '\0';
	}
	ck_assert_uint_ge(strlen(tok), JWT_MAX_BYTES - 4);
	ck_assert_int_eq(verify(tok), JWT_OK);
	pad[n] = 'x';
	pad[n + 1] = 'x';
	pad[n + 2] = 'x';
	pad[n + 3] = '\0';
	claims(p, sizeof(p), fmt(t2, sizeof(t2), ",\"x\":\"%s\"", pad));
	token(tok, sizeof(tok), "{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}", p, ed,
	    JWT_ALG_EDDSA);
	ck_assert_uint_gt(strlen(tok), JWT_MAX_BYTES);
	ck_assert_int_eq(verify(tok), JWT_E_TOO_BIG);
	/* the policy's own bound */
	claims(p, sizeof(p), "");
	token(tok, sizeof(tok), "{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}", p, ed,
	    JWT_ALG_EDDSA);
	pol.p_max_bytes = strlen(tok);
	ck_assert_int_eq(verify(tok), JWT_OK);
	pol.p_max_bytes = strlen(tok) - 1;
	ck_assert_int_eq(verify(tok), JWT_E_TOO_BIG);
	/* far too long, and not even a token */
	memset(tok, 'A', JWT_MAX_BYTES * 3);
	tok[JWT_MAX_BYTES * 3] = '\0';
	ck_assert_int_eq(verify(tok), JWT_E_TOO_BIG);
}
END_TEST

START_TEST(claim_copies)
{
	char	 p[JSON_MAX], x[JSON_MAX], big[JWT_SCOPE_MAX_BYTES + 2];

	/* NUL in any claim copied */
	ck_assert_int_eq(check_pay(2, fmt(p, sizeof(p), "{\"iss\":\"" ISS
	    "\",\"aud\":\"" AUD "\",\"exp\":%lld,\"sub\":\"al\\u0000ice\"}",
	    (long long)NOW + 9)), JWT_E_CLAIM);
	ck_assert_str_eq(c.c_sub, "");
	ck_assert_int_eq(c.c_exp, 0);
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scope\":\"a\\u0000b\"")), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(2, fmt(p, sizeof(p), "{\"iss\":\"" ISS
	    "\",\"aud\":\"" AUD "\",\"exp\":%lld,\"client_id\":\"\\u0000\"}",
	    (long long)NOW + 9)), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(2, fmt(p, sizeof(p), "{\"iss\":\"" ISS
	    "\",\"aud\":\"" AUD "\",\"exp\":%lld,\"jti\":\"x\\u0000\"}",
	    (long long)NOW + 9)), JWT_E_CLAIM);
	/* claims of the wrong type */
	ck_assert_int_eq(check_pay(2, fmt(p, sizeof(p), "{\"iss\":\"" ISS
	    "\",\"aud\":\"" AUD "\",\"exp\":%lld,\"sub\":7}",
	    (long long)NOW + 9)), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p), ",\"scope\":"
	    "[\"a\"]")), JWT_E_CLAIM);
	/* too long for its buffer: refused, not cut */
	memset(big, 's', JWT_SUB_MAX_BYTES);
	big[JWT_SUB_MAX_BYTES] = '\0';
	ck_assert_int_eq(check_pay(2, fmt(p, sizeof(p), "{\"iss\":\"" ISS
	    "\",\"aud\":\"" AUD "\",\"exp\":%lld,\"sub\":\"%s\"}",
	    (long long)NOW + 9, big)), JWT_E_CLAIM);
	big[JWT_SUB_MAX_BYTES - 1] = '\0';
	ck_assert_int_eq(check_pay(2, fmt(p, sizeof(p), "{\"iss\":\"" ISS
	    "\",\"aud\":\"" AUD "\",\"exp\":%lld,\"sub\":\"%s\"}",
	    (long long)NOW + 9, big)), JWT_OK);
	ck_assert_str_eq(c.c_sub, big);
	/* absent ones are empty */
	ck_assert_str_eq(c.c_client_id, "");
	ck_assert_str_eq(c.c_scope, "");

	/* scp, an array of words (Okta) or a string (Entra ID) */
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scp\":[\"a\",\"b:c\"]")), JWT_OK);
	ck_assert_str_eq(c.c_scope, "a b:c");
	ck_assert(jwt_scope_has(&c, "b:c"));
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scp\":\"a b\"")), JWT_OK);
	ck_assert_str_eq(c.c_scope, "a b");
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scp\":[]")), JWT_OK);
	ck_assert_str_eq(c.c_scope, "");
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scp\":[\"a b\"]")), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scp\":[\"\"]")), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scp\":[\"a\",1]")), JWT_E_CLAIM);
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scope\":\"a\\nb\"")), JWT_E_CLAIM);
	/* scope wins over scp */
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p),
	    ",\"scope\":\"x\",\"scp\":[\"y\"]")), JWT_OK);
	ck_assert_str_eq(c.c_scope, "x");
	/* words that fill the buffer, and one more */
	for (size_t i = 0; i + 2 < JWT_SCOPE_MAX_BYTES; i += 2) {
		big[i] = 'w';
		big[i + 1] = ' ';
	}
	big[JWT_SCOPE_MAX_BYTES - 2] = 'w';
	big[JWT_SCOPE_MAX_BYTES - 1] = '\0';
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p), fmt(x, sizeof(x),
	    ",\"scope\":\"%s\"", big))), JWT_OK);
	ck_assert_uint_eq(strlen(c.c_scope), JWT_SCOPE_MAX_BYTES - 1);
	ck_assert_int_eq(check_pay(2, claims(p, sizeof(p), fmt(x, sizeof(x),
	    ",\"scope\":\"%sw\"", big))), JWT_E_CLAIM);
}
END_TEST

START_TEST(strings)
{
	for (int e = JWT_OK; e >= JWT_E_INTERNAL; e--)
		ck_assert_str_ne(jwt_strerror(e), "unknown JWT error");
	ck_assert_str_eq(jwt_strerror(-99), "unknown JWT error");
}
END_TEST

/* a JWKS of the given keys: NULL when refused (err says why) */
static struct jwks *
jwks_of(const char *a, const char *b)
{
	char	 doc[JSON_MAX];

	fmt(doc, sizeof(doc), "{\"keys\":[%s%s%s]}", a, b[0] ? "," : "", b);
	return jwks_parse(doc, strlen(doc), err, sizeof(err));
}

START_TEST(jwks_members)
{
	char		 j[JWK_MAX];
	struct jwks	*s;
	const char	*secret[] = { "d", "p", "q", "dp", "dq", "qi", "oth",
	    "k" };

	/* private and secret members: the whole set refused */
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		char	 extra[64];

		fmt(extra, sizeof(extra), ",\"%s\":\"AQAB\"", secret[i]);
		jwk(j, sizeof(j), rsa, "r", extra);
		ck_assert_ptr_null(jwks_of(j, jwk_ec));
		ck_assert_ptr_nonnull(strstr(err, "private"));
		jwk(j, sizeof(j), ec, "e", extra);
		ck_assert_ptr_null(jwks_of(jwk_ed, j));
		jwk(j, sizeof(j), ed, "e", extra);
		ck_assert_ptr_null(jwks_of(j, ""));
	}
	ck_assert_ptr_null(jwks_of("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}",
	    jwk_ec));

	/* skipped: other types, curves, uses, algorithms */
	ck_assert_ptr_nonnull(s = jwks_of(jwk_ec,
	    "{\"kty\":\"XYZ\",\"kid\":\"x\"},"
	    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},"
	    "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AA\"}"));
	ck_assert_uint_eq(jwks_count(s), 1);
	jwks_free(&s);
	ck_assert_ptr_null(s);
	jwk(j, sizeof(j), rsa, "r", ",\"use\":\"enc\"");
	ck_assert_ptr_nonnull(s = jwks_of(jwk_ec, j));
	ck_assert_uint_eq(jwks_count(s), 1);
	jwks_free(&s);
	jwk(j, sizeof(j), rsa, "r", ",\"key_ops\":[\"encrypt\",\"wrapKey\"]");
	ck_assert_ptr_nonnull(s = jwks_of(jwk_ec, j));
	ck_assert_uint_eq(jwks_count(s), 1);
	jwks_free(&s);
	jwk(j, sizeof(j), rsa, "r", ",\"alg\":\"RS384\"");
	ck_assert_ptr_nonnull(s = jwks_of(jwk_ec, j));
	ck_assert_uint_eq(jwks_count(s), 1);
	jwks_free(&s);
	/* kept: use sig, key_ops with verify, the right alg */
	jwk(j, sizeof(j), rsa, "r", ",\"use\":\"sig\",\"key_ops\":[\"sign\","
	    "\"verify\"],\"alg\":\"RS256\"");
	ck_assert_ptr_nonnull(s = jwks_of(jwk_ec, j));
	ck_assert_uint_eq(jwks_count(s), 2);
	jwks_free(&s);
	/* a set with no usable key is a set */
	ck_assert_ptr_nonnull(s = jwks_of("", ""));
	ck_assert_uint_eq(jwks_count(s), 0);
	jwks_free(&s);
	jwks_free(&s);

	/* an alg that is not the key's */
	jwk(j, sizeof(j), rsa, "r", ",\"alg\":\"ES256\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	jwk(j, sizeof(j), ec, "r", ",\"alg\":\"RS256\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	jwk(j, sizeof(j), ed, "r", ",\"alg\":\"ES256\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	jwk(j, sizeof(j), ed, "r", ",\"alg\":\"EdDSA\"");
	ck_assert_ptr_nonnull(s = jwks_of(j, ""));
	jwks_free(&s);
	/* members of the wrong type */
	jwk(j, sizeof(j), rsa, "r", ",\"use\":1");
	ck_assert_ptr_null(jwks_of(j, ""));
	jwk(j, sizeof(j), rsa, "r", ",\"key_ops\":\"verify\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	jwk(j, sizeof(j), rsa, "r", ",\"alg\":[\"RS256\"]");
	ck_assert_ptr_null(jwks_of(j, ""));
	ck_assert_ptr_null(jwks_of("{\"kid\":\"x\"}", ""));
	ck_assert_ptr_null(jwks_of("{\"kty\":1}", ""));
	ck_assert_ptr_null(jwks_of("{\"kty\":\"EC\",\"x\":\"AA\"}", ""));
	ck_assert_ptr_null(jwks_of("[]", ""));
	ck_assert_ptr_null(jwks_of("{\"kty\":\"RSA\"}", ""));
	/* kid: a string without NUL, bounded */
	jwk(j, sizeof(j), ec, "a\\u0000b", "");
	ck_assert_ptr_null(jwks_of(j, ""));
	{
		char	 kid[JWK_KID_MAX_BYTES + 2];

		memset(kid, 'k', sizeof(kid) - 1);
		kid[sizeof(kid) - 1] = '\0';
		jwk(j, sizeof(j), ec, kid, "");
		ck_assert_ptr_null(jwks_of(j, ""));
		kid[JWK_KID_MAX_BYTES] = '\0';
		jwk(j, sizeof(j), ec, kid, "");
		ck_assert_ptr_nonnull(s = jwks_of(j, ""));
		jwks_free(&s);
	}
}
END_TEST

START_TEST(jwks_keys)
{
	char		 j[JWK_MAX], h[256], p[JSON_MAX], tok[TOK_MAX], *at;
	EVP_PKEY	*small;
	struct jwks	*s, *keep;

	/* a 1024-bit modulus */
	ck_assert_ptr_nonnull(small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	jwk(j, sizeof(j), small, "small", "");
	ck_assert_ptr_null(jwks_of(j, ""));
	ck_assert_ptr_nonnull(strstr(err, "1024 bits"));
	EVP_PKEY_free(small);
	/* the modulus with a leading zero byte (some libraries' habit) */
	{
		BIGNUM	*n = NULL;
		uint8_t	 b[SIG_MAX];
		char	 n64[SIG_MAX * 2];
		int	 len;

		ck_assert(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N,
		    &n));
		b[0] = 0;
		ck_assert_int_gt(len = BN_bn2bin(n, b + 1), 0);
		BN_free(n);
		n64[0] = '\0';
		b64cat(n64, sizeof(n64), b, (size_t)len + 1);
		fmt(j, sizeof(j), "{\"kty\":\"RSA\",\"kid\":\"z\",\"n\":\"%s\","
		    "\"e\":\"AQAB\"}", n64);
		ck_assert_msg((s = jwks_of(j, "")) != NULL, "%s", err);
		jwks_free(&s);
	}
	/* an even exponent; e = 1 */
	replace(j, sizeof(j), jwk_rsa, "\"e\":\"AQAB\"", "\"e\":\"AQAC\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	replace(j, sizeof(j), jwk_rsa, "\"e\":\"AQAB\"", "\"e\":\"AQ\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	/* base64url only: an escape, padding, the standard alphabet */
	replace(j, sizeof(j), jwk_rsa, "\"e\":\"AQAB\"",
	    "\"e\":\"AQA\\u0042\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	replace(j, sizeof(j), jwk_rsa, "\"e\":\"AQAB\"", "\"e\":\"AQAB=\"");
	ck_assert_ptr_null(jwks_of(j, ""));
	replace(j, sizeof(j), jwk_ec, "\"x\":\"", "\"x\":\"+");
	ck_assert_ptr_null(jwks_of(j, ""));

	/* EC: y with a bit flipped is (almost surely) off the curve */
	snprintf(j, sizeof(j), "%s", jwk_ec);
	ck_assert_ptr_nonnull(at = strstr(j, "\"y\":\""));
	at[5] = at[5] == 'A' ? 'B' : 'A';
	ck_assert_ptr_null(jwks_of(j, ""));
	ck_assert_ptr_nonnull(strstr(err, "P-256"));
	/* the point at infinity, a coordinate cut short or too long */
	ck_assert_ptr_null(jwks_of("{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", ""));
	snprintf(j, sizeof(j), "%s", jwk_ec);
	at = strstr(j, "\"y\":\"") + 5;
	memmove(at, at + 4, strlen(at + 4) + 1);
	ck_assert_ptr_null(jwks_of(j, ""));
	snprintf(j, sizeof(j), "%s", jwk_ec);
	at = strstr(j, "\"x\":\"") + 5;
	memmove(at + 4, at, strlen(at) + 1);
	memcpy(at, "AAAA", 4);
	ck_assert_ptr_null(jwks_of(j, ""));
	/* Ed25519: 31 bytes */
	ck_assert_ptr_null(jwks_of("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", ""));

	/* one kid twice for one alg: refused; for two algs: both kept */
	jwk(j, sizeof(j), rsa2, "rsa1", "");
	ck_assert_ptr_null(jwks_of(jwk_rsa, j));
	jwk(j, sizeof(j), ec, "same", "");
	{
		char	 j2[JWK_MAX];

		jwk(j2, sizeof(j2), ed, "same", "");
		ck_assert_ptr_nonnull(s = jwks_of(j, j2));
	}
	ck_assert_uint_eq(jwks_count(s), 2);
	keep = ks;
	ks = s;
	claims(p, sizeof(p), "");
	token(tok, sizeof(tok), fmt(h, sizeof(h), "{\"alg\":\"EdDSA\","
	    "\"kid\":\"same\"}"), p, ed, JWT_ALG_EDDSA);
	ck_assert_int_eq(verify(tok), JWT_OK);
	token(tok, sizeof(tok), fmt(h, sizeof(h), "{\"alg\":\"ES256\","
	    "\"kid\":\"same\"}"), p, ec, JWT_ALG_ES256);
	ck_assert_int_eq(verify(tok), JWT_OK);
	token(tok, sizeof(tok), fmt(h, sizeof(h), "{\"alg\":\"RS256\","
	    "\"kid\":\"same\"}"), p, rsa, JWT_ALG_RS256);
	ck_assert_int_eq(verify(tok), JWT_E_ALG);
	ks = keep;
	jwks_free(&s);
}
END_TEST

START_TEST(jwks_bounds)
{
	char		*doc, *p;
	size_t		 cap = JWKS_MAX_BYTES * 2, n;
	struct jwks	*s;
	int		 i;

	ck_assert_ptr_nonnull(doc = malloc(cap));
	/* JWKS_KEYS_MAX keys, then one more */
	for (n = JWKS_KEYS_MAX; n <= JWKS_KEYS_MAX + 1; n++) {
		p = doc;
		p += sprintf(p, "{\"keys\":[");
		for (i = 0; i < (int)n; i++) {
			char	 k[JWK_MAX], kid[16];

			snprintf(kid, sizeof(kid), "k%d", i);
			jwk(k, sizeof(k), ed, kid, "");
			p += sprintf(p, "%s%s", i ? "," : "", k);
		}
		p += sprintf(p, "]}");
		s = jwks_parse(doc, (size_t)(p - doc), err, sizeof(err));
		if (n == JWKS_KEYS_MAX) {
			ck_assert_msg(s != NULL, "%s", err);
			ck_assert_uint_eq(jwks_count(s), JWKS_KEYS_MAX);
			jwks_free(&s);
		} else
			ck_assert_ptr_null(s);
	}
	/* JWKS_MAX_BYTES, then one more (whitespace is JSON's) */
	n = (size_t)sprintf(doc, "{\"keys\":[%s]}", jwk_ec);
	memset(doc + n, ' ', JWKS_MAX_BYTES - n);
	ck_assert_ptr_nonnull(s = jwks_parse(doc, JWKS_MAX_BYTES, err,
	    sizeof(err)));
	jwks_free(&s);
	doc[JWKS_MAX_BYTES] = ' ';
	ck_assert_ptr_null(jwks_parse(doc, JWKS_MAX_BYTES + 1, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "bytes"));
	/* not a JWKS */
	ck_assert_ptr_null(jwks_parse("", 0, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("[]", 2, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("{}", 2, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("{\"keys\":{}}", 11, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("{\"keys\":[],\"keys\":[]}", 21, err,
	    sizeof(err)));
	ck_assert_ptr_null(jwks_parse("{\"keys\":[]", 10, NULL, 0));
	free(doc);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("jwt");
	TCase	*tc = tcase_create("verify");
	TCase	*tk = tcase_create("jwks");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, TEST_TIMEOUT_SECS);
	tcase_add_loop_test(tc, valid, 0, 3);
	tcase_add_test(tc, times);
	tcase_add_test(tc, issuer_audience);
	tcase_add_test(tc, alg_none);
	tcase_add_test(tc, hmac_confusion);
	tcase_add_test(tc, alg_key_mismatch);
	tcase_add_test(tc, kid_choice);
	tcase_add_test(tc, embedded_key);
	tcase_add_loop_test(tc, signature_bits, 0, 3);
	tcase_add_test(tc, signed_bits);
	tcase_add_test(tc, es256_forms);
	tcase_add_test(tc, base64url);
	tcase_add_test(tc, parts);
	tcase_add_test(tc, json_shapes);
	tcase_add_test(tc, crit);
	tcase_add_test(tc, typ);
	tcase_add_test(tc, too_big);
	tcase_add_test(tc, claim_copies);
	tcase_add_test(tc, strings);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tk, setup, NULL);
	tcase_set_timeout(tk, TEST_TIMEOUT_SECS);
	tcase_add_test(tk, jwks_members);
	tcase_add_test(tk, jwks_keys);
	tcase_add_test(tk, jwks_bounds);
	suite_add_tcase(s, tk);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	char	 doc[4 * JWK_MAX + 64];
	int	 failed;

	if (sodium_init() < 0)
		return EXIT_FAILURE;
	/* the keys, once: the forked tests inherit them */
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	evil = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (rsa == NULL || rsa2 == NULL || ec == NULL || evil == NULL ||
	    ed == NULL) {
		fprintf(stderr, "check_jwt: key generation failed\n");
		return EXIT_FAILURE;
	}
	jwk(jwk_rsa, sizeof(jwk_rsa), rsa, "rsa1",
	    ",\"alg\":\"RS256\",\"use\":\"sig\"");
	jwk(jwk_rsa2, sizeof(jwk_rsa2), rsa2, "rsa2", "");
	jwk(jwk_ec, sizeof(jwk_ec), ec, "ec1", ",\"alg\":\"ES256\"");
	jwk(jwk_ed, sizeof(jwk_ed), ed, "ed1", ",\"key_ops\":[\"verify\"]");
	snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s,%s,%s]}", jwk_rsa,
	    jwk_ec, jwk_ed, jwk_rsa2);
	if ((ks = jwks_parse(doc, strlen(doc), err, sizeof(err))) == NULL ||
	    jwks_count(ks) != 4) {
		fprintf(stderr, "check_jwt: the JWKS: %s\n", err);
		return EXIT_FAILURE;
	}

	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	jwks_free(&ks);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(evil);
	EVP_PKEY_free(ed);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
