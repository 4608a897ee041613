/*
 * state.c -- requestState, the sealed memory of a multi round-trip request
 * of the stateless era: the answers the client gave so far travel with it,
 * sealed (XChaCha20-Poly1305) under a key every worker of the node shares,
 * so any worker takes the next round with no lookup.
 *
 * A state is bound (as associated data) to the method and the tool, prompt
 * or URI it was made for, and carries its expiry inside the seal.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#define STATE_VERSION		2	/* version, key id, nonce, sealed */
#define STATE_HDR_BYTES		(2 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
#define STATE_AD_BYTES		(MCP_METHOD_MAX_BYTES + 256 + 16)

void
state_init(struct mcp_server *srv)
{
	/* sv_state_ring: subkeys of the node's keys (server.c) */
	(void)srv;
}

void
state_free(struct mcp_server *srv)
{
	sodium_memzero(&srv->sv_state_ring, sizeof(srv->sv_state_ring));
}

/* what a state is bound to: the method and the tool, prompt or URI */
static size_t
state_ad(const struct mcpd_call *c, unsigned char *ad)
{
	static const char *const kinds[] = {
		"tools/call", "resources/read", "prompts/get",
		"completion/complete"
	};
	size_t n;

	n = (size_t)snprintf((char *)ad, STATE_AD_BYTES, "mcpd-state-%d|%s|%s",
	    STATE_VERSION, kinds[c->c_kind], c->c_name);
	return n < STATE_AD_BYTES ? n : STATE_AD_BYTES - 1;
}

int
state_seal(struct mcp_server *srv, const struct mcpd_call *c,
    const char *answers, size_t len, struct jw *out)
{
	unsigned char	 ad[STATE_AD_BYTES], *raw, *ct;
	uint64_t	 exp;
	size_t		 rawlen, b64len, adlen, i;
	unsigned long long clen;
	char		*b64;

	if (len > MCP_STATE_MAX_BYTES)
		return -1;
	adlen = state_ad(c, ad);
	rawlen = STATE_HDR_BYTES + 8 + len +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	b64len = sodium_base64_ENCODED_LEN(rawlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((raw = malloc(rawlen + 8 + len)) == NULL)
		return -1;
	if ((b64 = malloc(b64len)) == NULL) {
		free(raw);
		return -1;
	}
	raw[0] = STATE_VERSION;
	raw[1] = (unsigned char)srv->sv_state_ring.sr_keys[0].sk_id;
	randombytes_buf(raw + 2, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	ct = raw + STATE_HDR_BYTES;
	/* plaintext: expiry (ms, big-endian), then the answers */
	exp = loop_ms(srv) + srv->sv_state_ttl_ms;
	for (i = 0; i < 8; i++)
		ct[i] = (unsigned char)(exp >> (56 - 8 * i));
	memcpy(ct + 8, answers, len);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, ct, 8 + len,
	    ad, adlen, NULL, raw + 2, srv->sv_state_ring.sr_keys[0].sk_key);
	sodium_bin2base64(b64, b64len, raw, STATE_HDR_BYTES + clen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	jw_str(out, b64);
	free(raw);
	free(b64);
	return out->err ? -1 : 0;
}

int
state_open(struct mcp_server *srv, const struct mcpd_call *c,
    const char *state, size_t slen, char **answers, size_t *len,
    const char **why)
{
	unsigned char		 ad[STATE_AD_BYTES], *raw;
	unsigned long long	 plen;
	uint64_t		 exp = 0;
	size_t			 rawlen, adlen, i, hdr;
	const struct sealkey	*k;

	*answers = NULL;
	*len = 0;
	hdr = STATE_HDR_BYTES;
	if (slen > sodium_base64_ENCODED_LEN(MCP_STATE_MAX_BYTES + hdr + 8 +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
		*why = "requestState is too long";
		return -1;
	}
	if ((raw = malloc(slen + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	if (sodium_base642bin(raw, slen, state, slen, NULL, &rawlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    rawlen < hdr + 8 + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
	    raw[0] != STATE_VERSION) {
		free(raw);
		*why = "requestState is not one of ours";
		return -1;
	}
	if ((k = sealring_find(&srv->sv_state_ring, raw[1],
	    loop_ms(srv) / 1000)) == NULL) {
		free(raw);
		*why = "requestState was sealed with a key no longer in use";
		return -1;
	}
	adlen = state_ad(c, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(raw + hdr, &plen, NULL,
	    raw + hdr, rawlen - hdr, ad, adlen, raw + 2, k->sk_key) != 0) {
		free(raw);
		*why = "requestState failed verification (tampered, or made "
		    "for another request)";
		return -1;
	}
	for (i = 0; i < 8; i++)
		exp = exp << 8 | raw[hdr + i];
	if (loop_ms(srv) > exp) {
		free(raw);
		*why = "requestState has expired";
		return -1;
	}
	memmove(raw, raw + hdr + 8, plen - 8);
	*answers = (char *)raw;
	*len = plen - 8;
	return 0;
}
