/*
 * NAME
 *	fuzz_jwt.c -- libFuzzer target for the JWT verifier and JWKS parser
 *
 * DESCRIPTION
 *	Keys made once at start-up: RSA 2048 and P-256 at random, Ed25519
 *	from a fixed seed; their public JWKS, parsed by jwks_parse(), is the
 *	set tokens are checked against.  The first byte of an input says
 *	what the rest is:
 *
 *	0	a JWKS document for jwks_parse(); when it parses, a token
 *		signed by the Ed25519 key goes through jwt_verify() with it
 *	1	a token, as is: jwt_verify() must never accept it (nobody but
 *		this process holds the private keys)
 *	2	a header and a payload (JSON, split at the first LF), signed
 *		by the key the second byte picks, encoded and verified: the
 *		claims' code behind a good signature
 *	3	the same, but the two parts as already encoded text (split at
 *		the first '.'): the payload's base64url behind a good
 *		signature
 *
 *	The second byte also picks the policy's typ rule and skew.  Every
 *	result must be a jwt_error with a message; a token accepted must
 *	have the policy's iss and aud, an exp not past, bounded claims, an
 *	alg that is the signing key's; one refused must leave the claims
 *	empty.  FUZZ_VERBOSE=1 prints each result.
 *
 *	Build and run with make (see README): make fuzz; then
 *	fuzz-out/fuzz_jwt -dict=tests/fuzz/jwt.dict corpus tests/fuzz/corpus/jwt
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "jwt.h"

#define ISS		"https://as.example"
#define AUD		"https://mcp.example/mcp"
#define NOW		INT64_C(1800000000)
#define TOK_MAX		(4 * JWT_MAX_BYTES)
#define JWKS_DOC_MAX	4096
#define SIG_MAX		512

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static EVP_PKEY		*keys[3];	/* RS256, ES256, EdDSA */
static const enum jwt_alg key_alg[3] = {
	JWT_ALG_RS256, JWT_ALG_ES256, JWT_ALG_EDDSA
};
static struct jwks	*ks;
static char		 ed_token[TOK_MAX];
static char		 tok[TOK_MAX];
static int		 verbose;	/* FUZZ_VERBOSE=1: say each result */

static void
b64cat(char *out, size_t outlen, const void *d, size_t n)
{
	size_t	 l = strlen(out);

	CHECK(sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= outlen - l);
	sodium_bin2base64(out + l, outlen - l, d, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
bn_cat(char *out, size_t outlen, const BIGNUM *bn, int pad)
{
	uint8_t	 b[SIG_MAX];
	int	 n;

	n = pad > 0 ? BN_bn2binpad(bn, b, pad) : BN_bn2bin(bn, b);
	CHECK(n > 0);
	b64cat(out, outlen, b, (size_t)n);
}

/* out holds "h.p": append "." and key k's signature of it */
static void
sign_text(char *out, size_t outlen, int k)
{
	EVP_MD_CTX	*m;
	ECDSA_SIG	*es;
	uint8_t		 der[SIG_MAX], sig[SIG_MAX];
	const uint8_t	*p = der;
	size_t		 n = sizeof(der);

	CHECK((m = EVP_MD_CTX_new()) != NULL);
	CHECK(EVP_DigestSignInit_ex(m, NULL, key_alg[k] == JWT_ALG_EDDSA ?
	    NULL : "SHA256", NULL, NULL, keys[k], NULL) == 1);
	CHECK(EVP_DigestSign(m, der, &n, (uint8_t *)out, strlen(out)) == 1);
	EVP_MD_CTX_free(m);
	if (key_alg[k] == JWT_ALG_ES256) {
		CHECK((es = d2i_ECDSA_SIG(NULL, &p, (long)n)) != NULL);
		CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) == 32);
		CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) == 32);
		ECDSA_SIG_free(es);
		n = 64;
	} else
		memcpy(sig, der, n);
	CHECK(strlen(out) + 1 < outlen);
	strcat(out, ".");
	b64cat(out, outlen, sig, n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t	 seed[32] = "fuzz_jwt: a fixed Ed25519 seed";
	char			 doc[JWKS_DOC_MAX], err[256];
	const char		*hdr = "{\"alg\":\"EdDSA\",\"kid\":\"ed\"}";
	const char		*pay = "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				    "\",\"exp\":1800000300,\"sub\":\"s\"}";
	BIGNUM			*a = NULL, *b = NULL;
	uint8_t			 raw[32];
	size_t			 n = sizeof(raw);

	verbose = getenv("FUZZ_VERBOSE") != NULL;
	CHECK(sodium_init() >= 0);
	CHECK((keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048)) != NULL);
	CHECK((keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) !=
	    NULL);
	CHECK((keys[2] = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519",
	    NULL, seed, sizeof(seed))) != NULL);

	/* RSA and Ed25519 with a kid, EC without: found by its alg */
	snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":"
	    "\"rsa\",\"alg\":\"RS256\",\"n\":\"");
	CHECK(EVP_PKEY_get_bn_param(keys[0], OSSL_PKEY_PARAM_RSA_N, &a));
	CHECK(EVP_PKEY_get_bn_param(keys[0], OSSL_PKEY_PARAM_RSA_E, &b));
	bn_cat(doc, sizeof(doc), a, 0);
	strcat(doc, "\",\"e\":\"");
	bn_cat(doc, sizeof(doc), b, 0);
	BN_free(a);
	BN_free(b);
	a = b = NULL;
	CHECK(EVP_PKEY_get_bn_param(keys[1], OSSL_PKEY_PARAM_EC_PUB_X, &a));
	CHECK(EVP_PKEY_get_bn_param(keys[1], OSSL_PKEY_PARAM_EC_PUB_Y, &b));
	strcat(doc, "\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"sig\","
	    "\"x\":\"");
	bn_cat(doc, sizeof(doc), a, 32);
	strcat(doc, "\",\"y\":\"");
	bn_cat(doc, sizeof(doc), b, 32);
	BN_free(a);
	BN_free(b);
	CHECK(EVP_PKEY_get_raw_public_key(keys[2], raw, &n) == 1);
	strcat(doc, "\"},{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\","
	    "\"x\":\"");
	b64cat(doc, sizeof(doc), raw, n);
	strcat(doc, "\"}]}");
	if ((ks = jwks_parse(doc, strlen(doc), err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_jwt: %s\n%s\n", err, doc);
		abort();
	}
	CHECK(jwks_count(ks) == 3);

	b64cat(ed_token, sizeof(ed_token), hdr, strlen(hdr));
	strcat(ed_token, ".");
	b64cat(ed_token, sizeof(ed_token), pay, strlen(pay));
	sign_text(ed_token, sizeof(ed_token), 2);
	return 0;
}

static int
bounded(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int
zero(const struct jwt_claims *c)
{
	static const struct jwt_claims	 z;

	return memcmp(c, &z, sizeof(z)) == 0;
}

/* verify and check what came out; k: the signing key, -1 none */
static int
verify(const struct jwks *set, const char *t, size_t len, uint8_t opt, int k)
{
	struct jwt_policy	 pol;
	struct jwt_claims	 c;
	char			 err[256];
	int			 r;

	jwt_policy_init(&pol);
	pol.p_issuer = ISS;
	pol.p_audience = AUD;
	pol.p_typ = (enum jwt_typ)(opt % 3);
	pol.p_skew_secs = opt & 4 ? 0 : JWT_SKEW_SECS_DEFAULT;
	err[0] = 'x';
	r = jwt_verify(set, t, len, &pol, (time_t)NOW, &c, err, sizeof(err));
	CHECK(r <= JWT_OK && r >= JWT_E_INTERNAL);
	CHECK(r != JWT_E_POLICY && r != JWT_E_INTERNAL);
	CHECK(bounded(err, sizeof(err)) && err[0] != 'x');
	CHECK(strcmp(jwt_strerror(r), "unknown JWT error") != 0);
	if (verbose)
		fprintf(stderr, "fuzz_jwt: %d %s: %s\n", r, jwt_strerror(r),
		    err);
	if (r != JWT_OK) {
		CHECK(zero(&c));
		return r;
	}
	CHECK(k >= 0 && c.c_alg == key_alg[k]);
	CHECK(strcmp(c.c_iss, ISS) == 0 && strcmp(c.c_aud, AUD) == 0);
	CHECK(NOW < c.c_exp + pol.p_skew_secs);
	CHECK(c.c_nbf <= NOW + pol.p_skew_secs);
	CHECK(c.c_iat <= NOW + pol.p_skew_secs);
	CHECK(bounded(c.c_sub, sizeof(c.c_sub)));
	CHECK(bounded(c.c_client_id, sizeof(c.c_client_id)));
	CHECK(bounded(c.c_jti, sizeof(c.c_jti)));
	CHECK(bounded(c.c_scope, sizeof(c.c_scope)));
	CHECK(!jwt_scope_has(&c, "") && !jwt_scope_has(&c, "a b"));
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwks	*set;
	const uint8_t	*nl;
	const char	*rest;
	char		 err[256];
	size_t		 n, len;
	uint8_t		 opt;
	int		 k;

	if (size < 2)
		return 0;
	opt = data[1];
	rest = (const char *)data + 2;
	n = size - 2;
	switch (data[0] & 3) {
	case 0:
		set = jwks_parse(rest, n, err, sizeof(err));
		CHECK(bounded(err, sizeof(err)));
		CHECK(set == NULL || jwks_count(set) <= JWKS_KEYS_MAX);
		if (set != NULL)
			(void)verify(set, ed_token, strlen(ed_token), opt, 2);
		jwks_free(&set);
		CHECK(set == NULL);
		break;
	case 1:
		CHECK(verify(ks, rest, n, opt, -1) != JWT_OK);
		break;
	case 2:
	case 3:
		k = (opt >> 3) % 3;
		nl = memchr(rest, data[0] & 1 ? '.' : '\n', n);
		len = nl != NULL ? (size_t)(nl - (const uint8_t *)rest) : n;
		if (n > JWT_MAX_BYTES || memchr(rest, '\0', n) != NULL)
			break;
		tok[0] = '\0';
		if ((data[0] & 3) == 2) {
			b64cat(tok, sizeof(tok), rest, len);
			strcat(tok, ".");
			if (nl != NULL)
				b64cat(tok, sizeof(tok), nl + 1, n - len - 1);
		} else {
			memcpy(tok, rest, n);
			tok[n] = '\0';
		}
		sign_text(tok, sizeof(tok), k);
		(void)verify(ks, tok, strlen(tok), opt, k);
		break;
	}
	return 0;
}
