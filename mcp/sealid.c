/*
 * sealid.c -- sealed self-routing ids, the format of session ids and task
 * ids: base64url(version, partition, 16 random bytes, MAC).
 *
 * The MAC (crypto_auth under the caller's key, cut to 16 bytes) is checked
 * before any lookup, so a forged id costs no table access; the partition
 * names the worker that keeps what the id names, so a request that lands
 * on another worker is handed over without asking anyone.
 */
#include "config.h"

#include <string.h>

#include "mcp_int.h"

#define SEALID_VERSION		1
#define SEALID_MAC_BYTES	16
#define SEALID_SIGNED_BYTES	(1 + 2 + SEALID_RND_BYTES)
#define SEALID_RAW_BYTES	(SEALID_SIGNED_BYTES + SEALID_MAC_BYTES)

static void
mac(const unsigned char *key, const unsigned char *raw, unsigned char *out)
{
	unsigned char full[crypto_auth_BYTES];

	crypto_auth(full, raw, SEALID_SIGNED_BYTES, key);
	memcpy(out, full, SEALID_MAC_BYTES);
}

void
sealid_new(const unsigned char *key, unsigned partition, unsigned char *rnd,
    char *id, size_t idlen)
{
	unsigned char raw[SEALID_RAW_BYTES];

	raw[0] = SEALID_VERSION;
	raw[1] = partition >> 8;
	raw[2] = partition & 0xff;
	randombytes_buf(raw + 3, SEALID_RND_BYTES);
	mac(key, raw, raw + SEALID_SIGNED_BYTES);
	memcpy(rnd, raw + 3, SEALID_RND_BYTES);
	sodium_bin2base64(id, idlen, raw, SEALID_RAW_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
sealid_open(const unsigned char *key, const char *id, unsigned *partition,
    unsigned char *rnd)
{
	unsigned char	raw[SEALID_RAW_BYTES], m[SEALID_MAC_BYTES];
	size_t		n;

	if (strlen(id) > SEALID_LEN ||
	    sodium_base642bin(raw, SEALID_RAW_BYTES, id, strlen(id), NULL, &n,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != SEALID_RAW_BYTES || raw[0] != SEALID_VERSION)
		return -1;
	mac(key, raw, m);
	if (crypto_verify_16(m, raw + SEALID_SIGNED_BYTES) != 0)
		return -1;
	*partition = raw[1] << 8 | raw[2];
	memcpy(rnd, raw + 3, SEALID_RND_BYTES);
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
 * keyed short hash is a tenth of a BLAKE2b's cost.  The key comes from
 * the node key (mcp_owner_key), so that every worker of the node hashes
 * a principal alike: a session record adopted by another worker
 * (registry) keeps its owner.  Until then, a key of this process.
 */
static unsigned char	owner_key[crypto_shorthash_siphashx24_KEYBYTES];
static int		owner_keyed;

void
mcp_owner_key(const unsigned char *node_key)
{
	crypto_kdf_derive_from_key(owner_key, sizeof(owner_key), 3,
	    "mcpdownr", node_key);
	owner_keyed = 1;
}

void
mcp_owner_hash(const char *principal, unsigned char out[MCP_OWNER_BYTES])
{
	memset(out, 0, MCP_OWNER_BYTES);
	if (principal == NULL || principal[0] == '\0')
		return;
	if (!owner_keyed) {
		randombytes_buf(owner_key, sizeof(owner_key));
		owner_keyed = 1;
	}
	crypto_shorthash_siphashx24(out, (const unsigned char *)principal,
	    strlen(principal), owner_key);
}

int
mcp_owned_by(const unsigned char owner[MCP_OWNER_BYTES],
    const char *principal)
{
	unsigned char	h[MCP_OWNER_BYTES];

	mcp_owner_hash(principal, h);
	return sodium_memcmp(h, owner, sizeof(h)) == 0;
}
