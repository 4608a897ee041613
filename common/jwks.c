/*
 * NAME
 *	jwks.c -- a JWKS document (RFC 7517) made into public keys
 *
 * DESCRIPTION
 *	jwks_parse() reads the document with json.c's strict parser and
 *	builds each key it keeps with OpenSSL 3 (EVP_PKEY_fromdata, then
 *	EVP_PKEY_public_check: an EC point off the curve, an even modulus or
 *	exponent never become keys).  Each key is pinned to one algorithm
 *	here, once; jwt.c only asks jwks_find() for the key of a kid and alg
 *	and jwk_verify() for the signature.  All of libcrypto is in this
 *	file.
 *
 *	Members are read raw: base64url has no character JSON escapes, so
 *	an escaped one ("\u0041") is refused along with any other
 *	non-base64url byte.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "json.h"
#include "jwt.h"

/* JSON values in a JWKS: 64 keys of a dozen members and their x5c */
#define JWKS_TOKENS_MAX		16384
/* n may carry one leading zero byte (RFC 7518 forbids it, some add it) */
#define RSA_N_MAX_BYTES		(JWK_RSA_MAX_BITS / 8 + 1)
/* 65537 needs 3; OpenSSL takes no exponent past 64 bits for large n */
#define RSA_E_MAX_BYTES		8
/* a P-256 coordinate and an Ed25519 public key, full length */
#define P256_COORD_BYTES	32
#define ED25519_KEY_BYTES	32
#define ES256_SIG_BYTES		(2 * P256_COORD_BYTES)
#define ED25519_SIG_BYTES	64
/* SEQUENCE { INTEGER r, INTEGER s }, each of 33 bytes at most */
#define ES256_DER_MAX_BYTES	72
#define ERR_MAX_BYTES		160

struct jwk {
	char		 k_kid[JWK_KID_MAX_BYTES + 1];
	int		 k_has_kid;
	enum jwt_alg	 k_alg;
	EVP_PKEY	*k_pkey;
};

struct jwks {
	struct jwk	*ks_keys;
	size_t		 ks_n;
};

/*
 * Private (RSA, EC, OKP) and secret (oct) members: a document that holds
 * one is a private key set published by mistake, or not what we were
 * meant to fetch.  Refused whatever the key's type.
 */
static const char *const secret_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL
};

/* member name, a string, base64url-decoded: 1 to max bytes into out */
static int
member_bytes(const struct json *j, int obj, const char *name, uint8_t *out,
    size_t max, size_t *got, char *err, size_t errlen)
{
	const char	*s;
	size_t		 n;
	int		 i;

	if ((i = json_get(j, obj, name)) == -1) {
		jwt_seterr(err, errlen, "no \"%s\"", name);
		return -1;
	}
	if (json_type(j, i) != JSON_STRING) {
		jwt_seterr(err, errlen, "\"%s\" is not a string", name);
		return -1;
	}
	s = json_raw(j, i, &n);
	if (jwt_b64url(s, n, out, max, got) == -1 || *got == 0) {
		jwt_seterr(err, errlen, "\"%s\" is not base64url of at most "
		    "%zu bytes", name, max);
		return -1;
	}
	return 0;
}

/* a usable public key: on the curve, n and e odd, e > 1 */
static int
public_check(EVP_PKEY *pk)
{
	EVP_PKEY_CTX	*ctx;
	int		 ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static EVP_PKEY *
fromdata(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static EVP_PKEY *
rsa_key(const struct json *j, int obj, char *err, size_t errlen)
{
	uint8_t		 nb[RSA_N_MAX_BYTES], eb[RSA_E_MAX_BYTES];
	size_t		 nlen, elen;
	BIGNUM		*n = NULL, *e = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY	*pk = NULL;
	int		 bits;

	if (member_bytes(j, obj, "n", nb, sizeof(nb), &nlen, err,
	    errlen) == -1 ||
	    member_bytes(j, obj, "e", eb, sizeof(eb), &elen, err,
	    errlen) == -1)
		return NULL;
	if ((n = BN_bin2bn(nb, (int)nlen, NULL)) == NULL ||
	    (e = BN_bin2bn(eb, (int)elen, NULL)) == NULL) {
		jwt_seterr(err, errlen, "out of memory");
		goto done;
	}
	bits = BN_num_bits(n);
	if (bits < JWK_RSA_MIN_BITS || bits > JWK_RSA_MAX_BITS) {
		jwt_seterr(err, errlen, "an RSA modulus of %d bits (%d to %d)",
		    bits, JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS);
		goto done;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		jwt_seterr(err, errlen, "out of memory");
		goto done;
	}
	if ((pk = fromdata("RSA", params)) == NULL || public_check(pk) == -1) {
		jwt_seterr(err, errlen, "not a valid RSA public key");
		EVP_PKEY_free(pk);
		pk = NULL;
	}
done:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

static EVP_PKEY *
ec_key(const struct json *j, int obj, char *err, size_t errlen)
{
	/* the uncompressed point: 0x04 || x || y (SEC 1, 2.3.3) */
	uint8_t		 pub[1 + 2 * P256_COORD_BYTES];
	char		 group[] = "P-256";
	OSSL_PARAM	 params[3];
	EVP_PKEY	*pk;
	size_t		 n;

	pub[0] = 0x04;
	if (member_bytes(j, obj, "x", pub + 1, P256_COORD_BYTES, &n, err,
	    errlen) == -1)
		return NULL;
	if (n != P256_COORD_BYTES) {
		jwt_seterr(err, errlen, "\"x\" of %zu bytes, not %d", n,
		    P256_COORD_BYTES);
		return NULL;
	}
	if (member_bytes(j, obj, "y", pub + 1 + P256_COORD_BYTES,
	    P256_COORD_BYTES, &n, err, errlen) == -1)
		return NULL;
	if (n != P256_COORD_BYTES) {
		jwt_seterr(err, errlen, "\"y\" of %zu bytes, not %d", n,
		    P256_COORD_BYTES);
		return NULL;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
	params[2] = OSSL_PARAM_construct_end();
	if ((pk = fromdata("EC", params)) == NULL || public_check(pk) == -1) {
		jwt_seterr(err, errlen, "not a point on P-256");
		EVP_PKEY_free(pk);
		return NULL;
	}
	return pk;
}

static EVP_PKEY *
okp_key(const struct json *j, int obj, char *err, size_t errlen)
{
	uint8_t		 x[ED25519_KEY_BYTES];
	EVP_PKEY	*pk;
	size_t		 n;

	if (member_bytes(j, obj, "x", x, sizeof(x), &n, err, errlen) == -1)
		return NULL;
	if (n != ED25519_KEY_BYTES) {
		jwt_seterr(err, errlen, "\"x\" of %zu bytes, not %d", n,
		    ED25519_KEY_BYTES);
		return NULL;
	}
	if ((pk = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x,
	    n)) == NULL)
		jwt_seterr(err, errlen, "not a valid Ed25519 public key");
	return pk;
}

/* the JWK's alg: 0 absent, -1 one we have no key for, else the alg */
static int
alg_member(const struct json *j, int obj, char *err, size_t errlen)
{
	int	 i;

	if ((i = json_get(j, obj, "alg")) == -1)
		return 0;
	if (json_type(j, i) != JSON_STRING) {
		jwt_seterr(err, errlen, "\"alg\" is not a string");
		return -2;
	}
	if (json_streq(j, i, "RS256"))
		return JWT_ALG_RS256;
	if (json_streq(j, i, "ES256"))
		return JWT_ALG_ES256;
	if (json_streq(j, i, "EdDSA"))
		return JWT_ALG_EDDSA;
	return -1;
}

/* use absent or "sig", key_ops absent or with "verify" */
static int
for_verify(const struct json *j, int obj, char *err, size_t errlen)
{
	int	 i, k, n, verify = 0;

	if ((i = json_get(j, obj, "use")) != -1) {
		if (json_type(j, i) != JSON_STRING) {
			jwt_seterr(err, errlen, "\"use\" is not a string");
			return -1;
		}
		if (!json_streq(j, i, "sig"))
			return 0;
	}
	if ((i = json_get(j, obj, "key_ops")) == -1)
		return 1;
	if (json_type(j, i) != JSON_ARRAY) {
		jwt_seterr(err, errlen, "\"key_ops\" is not an array");
		return -1;
	}
	for (n = 0, k = i + 1; n < j->t[i].size; n++, k = json_skip(j, k)) {
		if (json_type(j, k) != JSON_STRING) {
			jwt_seterr(err, errlen, "\"key_ops\" holds a "
			    "non-string");
			return -1;
		}
		if (json_streq(j, k, "verify"))
			verify = 1;
	}
	return verify;
}

/*
 * Key obj into *k: 1 kept, 0 skipped (not a key we verify with), -1
 * refused (err says why).
 */
static int
jwk_parse(const struct json *j, int obj, struct jwk *k, char *err,
    size_t errlen)
{
	enum jwt_alg	 want;
	int		 i, r, alg, crv;

	if (json_type(j, obj) != JSON_OBJECT) {
		jwt_seterr(err, errlen, "not an object");
		return -1;
	}
	for (r = 0; secret_members[r] != NULL; r++) {
		if (json_get(j, obj, secret_members[r]) != -1) {
			jwt_seterr(err, errlen, "holds the private member "
			    "\"%s\"", secret_members[r]);
			return -1;
		}
	}
	if ((i = json_get(j, obj, "kty")) == -1 ||
	    json_type(j, i) != JSON_STRING) {
		jwt_seterr(err, errlen, "no \"kty\" string");
		return -1;
	}
	if (json_streq(j, i, "RSA"))
		want = JWT_ALG_RS256;
	else if (json_streq(j, i, "EC"))
		want = JWT_ALG_ES256;
	else if (json_streq(j, i, "OKP"))
		want = JWT_ALG_EDDSA;
	else
		return 0;
	if (want != JWT_ALG_RS256) {
		if ((crv = json_get(j, obj, "crv")) == -1 ||
		    json_type(j, crv) != JSON_STRING) {
			jwt_seterr(err, errlen, "no \"crv\" string");
			return -1;
		}
		if (!json_streq(j, crv, want == JWT_ALG_ES256 ? "P-256" :
		    "Ed25519"))
			return 0;
	}
	if ((r = for_verify(j, obj, err, errlen)) <= 0)
		return r;
	if ((alg = alg_member(j, obj, err, errlen)) == -2)
		return -1;
	if (alg == -1)
		return 0;
	if (alg != 0 && (enum jwt_alg)alg != want) {
		jwt_seterr(err, errlen, "\"alg\" %s does not suit the key's "
		    "type (%s)", jwt_alg_name((enum jwt_alg)alg),
		    jwt_alg_name(want));
		return -1;
	}
	memset(k, 0, sizeof(*k));
	if ((i = json_get(j, obj, "kid")) != -1) {
		if (json_type(j, i) != JSON_STRING ||
		    json_strcpy(j, i, k->k_kid, sizeof(k->k_kid)) == -1) {
			jwt_seterr(err, errlen, "\"kid\" is not a string of "
			    "at most %d bytes without a NUL",
			    JWK_KID_MAX_BYTES);
			return -1;
		}
		k->k_has_kid = 1;
	}
	k->k_alg = want;
	switch (want) {
	case JWT_ALG_RS256:
		k->k_pkey = rsa_key(j, obj, err, errlen);
		break;
	case JWT_ALG_ES256:
		k->k_pkey = ec_key(j, obj, err, errlen);
		break;
	case JWT_ALG_EDDSA:
		k->k_pkey = okp_key(j, obj, err, errlen);
		break;
	}
	ERR_clear_error();
	return k->k_pkey == NULL ? -1 : 1;
}

struct jwks *
jwks_parse(const char *js, size_t len, char *err, size_t errlen)
{
	struct json	 j;
	struct jwks	*ks = NULL;
	struct jwk	*k;
	jsmntok_t	*t = NULL;
	char		 why[ERR_MAX_BYTES], kid[64];
	size_t		 m, ntok;
	int		 r, keys, i, o, n;

	jwt_seterr(err, errlen, "no error");
	if (len > JWKS_MAX_BYTES) {
		jwt_seterr(err, errlen, "a JWKS of %zu bytes (at most %d)", len,
		    JWKS_MAX_BYTES);
		return NULL;
	}
	/* no document holds more values than half its bytes, plus one */
	ntok = len / 2 + 1 < JWKS_TOKENS_MAX ? len / 2 + 1 : JWKS_TOKENS_MAX;
	if ((t = calloc(ntok, sizeof(*t))) == NULL) {
		jwt_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if ((r = json_parse(&j, js, len, t, (int)ntok)) != JSON_OK) {
		jwt_seterr(err, errlen, "JWKS: %s", json_strerror(r));
		goto fail;
	}
	if (json_type(&j, 0) != JSON_OBJECT ||
	    (keys = json_get(&j, 0, "keys")) == -1 ||
	    json_type(&j, keys) != JSON_ARRAY) {
		jwt_seterr(err, errlen, "JWKS: not an object with a \"keys\" "
		    "array");
		goto fail;
	}
	if ((n = j.t[keys].size) > JWKS_KEYS_MAX) {
		jwt_seterr(err, errlen, "JWKS: %d keys (at most %d)", n,
		    JWKS_KEYS_MAX);
		goto fail;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->ks_keys = calloc(n > 0 ? (size_t)n : 1,
	    sizeof(*ks->ks_keys))) == NULL) {
		jwt_seterr(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0, o = keys + 1; i < n; i++, o = json_skip(&j, o)) {
		k = &ks->ks_keys[ks->ks_n];
		if ((r = jwk_parse(&j, o, k, why, sizeof(why))) == -1) {
			jwt_seterr(err, errlen, "JWKS: key %d: %s", i, why);
			goto fail;
		}
		if (r == 0)
			continue;
		ks->ks_n++;
		/* a kid names one key per alg: jwks_find takes the first */
		for (m = 0; k->k_has_kid && m + 1 < ks->ks_n; m++) {
			if (ks->ks_keys[m].k_has_kid &&
			    ks->ks_keys[m].k_alg == k->k_alg &&
			    strcmp(ks->ks_keys[m].k_kid, k->k_kid) == 0) {
				jwt_printable(kid, sizeof(kid), k->k_kid,
				    strlen(k->k_kid));
				jwt_seterr(err, errlen, "JWKS: key %d: kid "
				    "\"%s\" twice for %s", i, kid,
				    jwt_alg_name(k->k_alg));
				goto fail;
			}
		}
	}
	free(t);
	return ks;
fail:
	free(t);
	jwks_free(&ks);
	return NULL;
}

void
jwks_free(struct jwks **ksp)
{
	struct jwks	*ks = *ksp;
	size_t		 i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->ks_n; i++)
		EVP_PKEY_free(ks->ks_keys[i].k_pkey);
	free(ks->ks_keys);
	free(ks);
	*ksp = NULL;
}

size_t
jwks_count(const struct jwks *ks)
{
	return ks == NULL ? 0 : ks->ks_n;
}

int
jwks_find(const struct jwks *ks, const char *kid, enum jwt_alg alg,
    const struct jwk **out)
{
	const struct jwk	*k, *only = NULL;
	size_t			 i, nalg = 0;
	int			 other = 0;

	*out = NULL;
	for (i = 0; ks != NULL && i < ks->ks_n; i++) {
		k = &ks->ks_keys[i];
		if (kid == NULL) {
			if (k->k_alg == alg) {
				only = k;
				nalg++;
			}
			continue;
		}
		if (!k->k_has_kid || strcmp(k->k_kid, kid) != 0)
			continue;
		if (k->k_alg != alg) {
			other = 1;
			continue;
		}
		*out = k;
		return JWT_OK;
	}
	if (kid != NULL)
		return other ? JWT_E_ALG : JWT_E_KID;
	/* without a kid, two keys of the alg would be a guess */
	if (nalg != 1)
		return JWT_E_KID;
	*out = only;
	return JWT_OK;
}

/* JOSE's r||s as the DER SEQUENCE OpenSSL verifies: its length, or -1 */
static int
es256_der(const uint8_t *rs, uint8_t *der)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	uint8_t		*p = der;
	int		 n = -1;

	if ((es = ECDSA_SIG_new()) == NULL)
		return -1;
	r = BN_bin2bn(rs, P256_COORD_BYTES, NULL);
	s = BN_bin2bn(rs + P256_COORD_BYTES, P256_COORD_BYTES, NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
	} else if (i2d_ECDSA_SIG(es, NULL) <= ES256_DER_MAX_BYTES)
		n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	return n;
}

int
jwk_verify(const struct jwk *k, const void *msg, size_t msglen,
    const void *sig, size_t siglen)
{
	EVP_MD_CTX	*mctx;
	EVP_PKEY_CTX	*pctx = NULL;
	uint8_t		 der[ES256_DER_MAX_BYTES];
	const char	*md = "SHA256";
	int		 r = JWT_E_INTERNAL, n;

	switch (k->k_alg) {
	case JWT_ALG_RS256:
		/* PKCS#1 v1.5: exactly the modulus' length (RFC 8017 8.2.2) */
		if (siglen != (size_t)EVP_PKEY_get_size(k->k_pkey))
			return JWT_E_SIGNATURE;
		break;
	case JWT_ALG_ES256:
		/* RFC 7518 3.4: the raw pair only, never DER */
		if (siglen != ES256_SIG_BYTES)
			return JWT_E_SIGNATURE;
		if ((n = es256_der(sig, der)) <= 0) {
			ERR_clear_error();
			return JWT_E_INTERNAL;
		}
		sig = der;
		siglen = (size_t)n;
		break;
	case JWT_ALG_EDDSA:
		if (siglen != ED25519_SIG_BYTES)
			return JWT_E_SIGNATURE;
		md = NULL;	/* pure Ed25519 hashes by itself */
		break;
	default:
		return JWT_E_INTERNAL;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL)
		goto done;
	if (EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, k->k_pkey,
	    NULL) != 1)
		goto done;
	if (k->k_alg == JWT_ALG_RS256 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto done;
	r = EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1 ? JWT_OK :
	    JWT_E_SIGNATURE;
done:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return r;
}
