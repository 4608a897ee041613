/*
 * sealid.c -- sealed self-routing ids, the format of session ids and task
 * ids: [NODE "."] base64url(version, partition, key id, 16 random bytes,
 * MAC), 48 characters after the node's name (a cluster's node; none on a
 * single node).
 *
 * The MAC (crypto_auth under the key the id names, cut to 16 bytes, over
 * the node's name and the rest) is checked before any lookup, so a forged
 * id costs no table access; the partition names the worker that keeps
 * what the id names, so a request that lands on another worker is handed
 * over without asking anyone; the node names the node, so HAProxy sends
 * it there (etc/haproxy/mcpd.cfg).  The key id lets a cluster rotate its
 * key: ids sealed under the old one open until the key file says
 * (clusterkey.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mcp_int.h"

#define SEALID_VERSION		2
#define SEALID_MAC_BYTES	16
#define SEALID_SIGNED_BYTES	(1 + 2 + 1 + SEALID_RND_BYTES)
#define SEALID_RAW_BYTES	(SEALID_SIGNED_BYTES + SEALID_MAC_BYTES)
#define SEALID_B64_CHARS	48	/* of SEALID_RAW_BYTES, unpadded */

/* the MAC binds the node's name too: a.ID and b.ID are not one id */
static void
mac(const unsigned char *key, const char *node, const unsigned char *raw,
    unsigned char *out)
{
	crypto_auth_hmacsha512256_state st;
	unsigned char		full[crypto_auth_BYTES];
	unsigned char		nlen = (unsigned char)strlen(node);

	crypto_auth_hmacsha512256_init(&st, key, crypto_auth_KEYBYTES);
	crypto_auth_hmacsha512256_update(&st, &nlen, 1);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)node,
	    nlen);
	crypto_auth_hmacsha512256_update(&st, raw, SEALID_SIGNED_BYTES);
	crypto_auth_hmacsha512256_final(&st, full);
	memcpy(out, full, SEALID_MAC_BYTES);
}

void
sealring_set(struct sealring *r, const char *node,
    const struct cluster_keys *ks, uint64_t subkey, const char *ctx)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->sr_node, sizeof(r->sr_node), "%s", node);
	for (i = 0; i < ks->n && i < CLUSTER_KEYS_MAX; i++) {
		r->sr_keys[i].sk_id = ks->k[i].ck_id;
		r->sr_keys[i].sk_until = ks->k[i].ck_until;
		if (ctx == NULL)
			memcpy(r->sr_keys[i].sk_key, ks->k[i].ck_key,
			    sizeof(r->sr_keys[i].sk_key));
		else
			crypto_kdf_derive_from_key(r->sr_keys[i].sk_key,
			    sizeof(r->sr_keys[i].sk_key), subkey, ctx,
			    ks->k[i].ck_key);
	}
	r->sr_n = i;
}

const struct sealkey *
sealring_find(const struct sealring *r, unsigned id, uint64_t now_s)
{
	uint32_t i;

	for (i = 0; i < r->sr_n; i++)
		if (r->sr_keys[i].sk_id == id)
			return r->sr_keys[i].sk_until == 0 ||
			    now_s <= r->sr_keys[i].sk_until ?
			    &r->sr_keys[i] : NULL;
	return NULL;
}

void
sealid_new(const struct sealring *r, unsigned partition, unsigned char *rnd,
    char *id, size_t idlen)
{
	unsigned char	raw[SEALID_RAW_BYTES];
	size_t		n = 0;

	raw[0] = SEALID_VERSION;
	raw[1] = partition >> 8;
	raw[2] = partition & 0xff;
	raw[3] = r->sr_keys[0].sk_id;
	randombytes_buf(raw + 4, SEALID_RND_BYTES);
	mac(r->sr_keys[0].sk_key, r->sr_node, raw, raw + SEALID_SIGNED_BYTES);
	memcpy(rnd, raw + 4, SEALID_RND_BYTES);
	if (r->sr_node[0] != '\0')
		n = (size_t)snprintf(id, idlen, "%s.", r->sr_node);
	sodium_bin2base64(id + n, idlen - n, raw, SEALID_RAW_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
sealid_open(const struct sealring *r, uint64_t now_s, const char *id,
    unsigned *partition, unsigned char *rnd)
{
	unsigned char		 raw[SEALID_RAW_BYTES], m[SEALID_MAC_BYTES];
	char			 node[MCP_NODE_MAX_BYTES];
	const struct sealkey	*k;
	const char		*dot, *b64 = id;
	size_t			 n, len = strlen(id);

	node[0] = '\0';
	if (len > SEALID_LEN)
		return -1;
	if ((dot = strchr(id, '.')) != NULL) {
		if ((size_t)(dot - id) >= sizeof(node) || dot == id)
			return -1;
		memcpy(node, id, (size_t)(dot - id));
		node[dot - id] = '\0';
		b64 = dot + 1;
	}
	if (strlen(b64) != SEALID_B64_CHARS ||
	    sodium_base642bin(raw, SEALID_RAW_BYTES, b64, strlen(b64), NULL, &n,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != SEALID_RAW_BYTES || raw[0] != SEALID_VERSION ||
	    (k = sealring_find(r, raw[3], now_s)) == NULL)
		return -1;
	mac(k->sk_key, node, raw, m);
	if (crypto_verify_16(m, raw + SEALID_SIGNED_BYTES) != 0)
		return -1;
	*partition = raw[1] << 8 | raw[2];
	memcpy(rnd, raw + 4, SEALID_RND_BYTES);
	return 0;
}

unsigned
sealid_bucket(const unsigned char *rnd, unsigned nbuckets)
{
	unsigned v;

	memcpy(&v, rnd, sizeof(v));
	return v % nbuckets;
}

/*
 * SipHash-2-4 of 128 bits: a principal is hashed on every request, and a
 * keyed short hash is a tenth of a BLAKE2b's cost.  The keys come from
 * the node's (or the cluster's) keys (mcp_owner_keys), so that every
 * worker hashes a principal alike: a session record adopted by another
 * worker (registry) keeps its owner.  A record hashed under a key since
 * rotated out of sealing is still its owner's while the key opens ids.
 * Until then, a key of this process.
 */
static struct sealring	owner_ring;

void
mcp_owner_keys(const struct cluster_keys *ks)
{
	sealring_set(&owner_ring, "", ks, 3, "mcpdownr");
}

static void
owner_hash(const struct sealkey *k, const char *principal,
    unsigned char out[MCP_OWNER_BYTES])
{
	crypto_shorthash_siphashx24(out, (const unsigned char *)principal,
	    strlen(principal), k->sk_key);
}

void
mcp_owner_hash(const char *principal, unsigned char out[MCP_OWNER_BYTES])
{
	memset(out, 0, MCP_OWNER_BYTES);
	if (principal == NULL || principal[0] == '\0')
		return;
	if (owner_ring.sr_n == 0) {
		randombytes_buf(owner_ring.sr_keys[0].sk_key,
		    sizeof(owner_ring.sr_keys[0].sk_key));
		owner_ring.sr_n = 1;
	}
	owner_hash(&owner_ring.sr_keys[0], principal, out);
}

int
mcp_owned_by(const unsigned char owner[MCP_OWNER_BYTES],
    const char *principal)
{
	unsigned char	h[MCP_OWNER_BYTES];
	uint32_t	i;

	mcp_owner_hash(principal, h);
	if (sodium_memcmp(h, owner, sizeof(h)) == 0)
		return 1;
	if (principal == NULL || principal[0] == '\0')
		return 0;
	for (i = 1; i < owner_ring.sr_n; i++) {
		owner_hash(&owner_ring.sr_keys[i], principal, h);
		if (sodium_memcmp(h, owner, sizeof(h)) == 0)
			return 1;
	}
	return 0;
}
