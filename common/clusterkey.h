/*
 * clusterkey.h -- the cluster key file (mcpd.conf(5) "key-file"): the keys
 * every node of a cluster seals session ids, task ids and requestState
 * with, by id, so that they can be rotated.
 *
 *	# ID KEY [until DATE]
 *	2 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *	1 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752 until 2026-12-31T00:00:00Z
 *
 * The first key seals; the others only open what was sealed before, each
 * until its date (RFC 3339, UTC) or Unix time.  Ids are 0..255, keys 32
 * bytes in hex.  The file is secret: mode 0600 or 0400, a regular file.
 */
#ifndef MCPD_CLUSTERKEY_H
#define MCPD_CLUSTERKEY_H

#include <stddef.h>
#include <stdint.h>

#define CLUSTER_KEY_BYTES	32	/* crypto_auth_KEYBYTES */
#define CLUSTER_KEYS_MAX	8	/* lines of a key file */
#define CLUSTER_KEY_FILE_MAX_BYTES 4096

struct cluster_key {
	uint8_t		ck_id;
	uint64_t	ck_until;	/* Unix seconds; 0: the sealing key */
	unsigned char	ck_key[CLUSTER_KEY_BYTES];
};

struct cluster_keys {
	struct cluster_key	k[CLUSTER_KEYS_MAX];	/* [0] seals */
	uint32_t		n;
};

/*
 * The keys of a key file's text (len bytes, hostile), name for messages:
 * 0, or -1 with "name:line: why" in err.
 */
int	cluster_keys_parse(const char *text, size_t len, const char *name,
	    struct cluster_keys *, char *err, size_t errlen);
/* The same from a file, which must be private (0600 or 0400) */
int	cluster_keys_load(const char *path, struct cluster_keys *, char *err,
	    size_t errlen);

/*
 * As bytes, to pass to a child: CLUSTER_KEY_WIRE_BYTES each, the sealing
 * key first.  _unwire: 0, or -1 if the bytes are not a key list.
 */
#define CLUSTER_KEY_WIRE_BYTES	(1 + 8 + CLUSTER_KEY_BYTES)
size_t	cluster_keys_wire(const struct cluster_keys *, unsigned char *out);
int	cluster_keys_unwire(const unsigned char *in, size_t len,
	    struct cluster_keys *);

#endif
