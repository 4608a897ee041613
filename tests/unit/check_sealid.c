/*
 * check_sealid.c -- the sealed self-routing id (mcp/sealid.c), the format
 * of session ids and task ids: what is made opens to the same partition
 * and randomness under the same key, and nothing else opens -- not a
 * flipped bit anywhere, not another key, not a cut, padded, re-encoded or
 * oversized id, not another node's name; an old key opens until its date.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#define RAW_BYTES	(1 + 2 + 1 + SEALID_RND_BYTES + 16)
#define SIGNED_BYTES	(1 + 2 + 1 + SEALID_RND_BYTES)

static struct sealring	ring;		/* one node, one key (id 0) */
static struct cluster_keys ks;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	memset(&ks, 0, sizeof(ks));
	ks.n = 1;
	crypto_auth_keygen(ks.k[0].ck_key);
	sealring_set(&ring, "", &ks, 0, NULL);
}

static const unsigned partitions[] = { 0, 1, 2, 255, 256, 4095, 65535 };

START_TEST(round_trip)
{
	char		id[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES], got[SEALID_RND_BYTES];
	unsigned	p = partitions[_i], q = 99999;

	sealid_new(&ring, p, rnd, id, sizeof(id));
	ck_assert_uint_le(strlen(id), SEALID_LEN);
	/* visible ASCII only (a Mcp-Session-Id must be) */
	for (size_t k = 0; id[k] != '\0'; k++)
		ck_assert(id[k] > 0x20 && id[k] < 0x7f);
	ck_assert_int_eq(sealid_open(&ring, 1, id, &q, got), 0);
	ck_assert_uint_eq(q, p);
	ck_assert_mem_eq(got, rnd, sizeof(rnd));
	ck_assert_uint_lt(sealid_bucket(rnd, 4096), 4096);
}
END_TEST

START_TEST(two_ids_differ)
{
	char		a[SEALID_LEN + 1], b[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES];

	sealid_new(&ring, 3, rnd, a, sizeof(a));
	sealid_new(&ring, 3, rnd, b, sizeof(b));
	ck_assert_str_ne(a, b);
}
END_TEST

/* Every bit of the decoded id, flipped and encoded again: refused. */
START_TEST(every_bit_flipped)
{
	char		id[SEALID_LEN + 1], forged[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES], raw[RAW_BYTES];
	unsigned	p;
	size_t		n, bit;

	sealid_new(&ring, 7, rnd, id, sizeof(id));
	ck_assert_int_eq(sodium_base642bin(raw, sizeof(raw), id, strlen(id),
	    NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	ck_assert_uint_eq(n, sizeof(raw));
	for (bit = 0; bit < 8 * sizeof(raw); bit++) {
		raw[bit / 8] ^= 1 << (bit % 8);
		sodium_bin2base64(forged, sizeof(forged), raw, sizeof(raw),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		ck_assert_msg(sealid_open(&ring, 1, forged, &p, rnd) == -1,
		    "bit %zu flipped: opened", bit);
		raw[bit / 8] ^= 1 << (bit % 8);
	}
	sodium_bin2base64(forged, sizeof(forged), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_int_eq(sealid_open(&ring, 1, forged, &p, rnd), 0);
}
END_TEST

START_TEST(another_key)
{
	struct sealring	other = ring;
	char		id[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES];
	unsigned	p;

	sealid_new(&ring, 1, rnd, id, sizeof(id));
	other.sr_keys[0].sk_key[0] ^= 0x80;
	ck_assert_int_eq(sealid_open(&other, 1, id, &p, rnd), -1);
}
END_TEST

START_TEST(malformed)
{
	char		id[SEALID_LEN + 1], buf[4 * SEALID_LEN];
	unsigned char	rnd[SEALID_RND_BYTES];
	unsigned	p;
	size_t		n = 0;

	sealid_new(&ring, 1, rnd, id, sizeof(id));
	n = strlen(id);
	/* cut by one character, and by a whole byte's worth */
	snprintf(buf, sizeof(buf), "%.*s", (int)n - 1, id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), "%.*s", (int)n - 2, id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	/* padded, trailing bytes, another alphabet, a space */
	snprintf(buf, sizeof(buf), "%s=", id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), "%sAA", id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), "%s", id);
	for (size_t k = 0; buf[k] != '\0'; k++)
		if (buf[k] == '-' || buf[k] == '_')
			buf[k] = buf[k] == '-' ? '+' : '/';
	if (strcmp(buf, id) != 0)
		ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), " %s", id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	/* a node's name where none was, an empty one, a dot alone */
	snprintf(buf, sizeof(buf), "a.%s", id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), ".%s", id);
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
	ck_assert_int_eq(sealid_open(&ring, 1, ".", &p, rnd), -1);
	/* empty, and far too long */
	ck_assert_int_eq(sealid_open(&ring, 1, "", &p, rnd), -1);
	memset(buf, 'A', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ck_assert_int_eq(sealid_open(&ring, 1, buf, &p, rnd), -1);
}
END_TEST

/* raw, MAC'd under key with node's name as sealid.c does */
static void
forge(unsigned char *raw, const unsigned char *key, const char *node)
{
	crypto_auth_hmacsha512256_state st;
	unsigned char	full[crypto_auth_BYTES], nlen = strlen(node);

	crypto_auth_hmacsha512256_init(&st, key, crypto_auth_KEYBYTES);
	crypto_auth_hmacsha512256_update(&st, &nlen, 1);
	crypto_auth_hmacsha512256_update(&st, (const unsigned char *)node,
	    nlen);
	crypto_auth_hmacsha512256_update(&st, raw, SIGNED_BYTES);
	crypto_auth_hmacsha512256_final(&st, full);
	memcpy(raw + SIGNED_BYTES, full, 16);
}

/* Another version byte, even with a valid MAC over it: refused. */
START_TEST(another_version)
{
	unsigned char	raw[RAW_BYTES];
	unsigned char	rnd[SEALID_RND_BYTES];
	char		id[SEALID_LEN + 1];
	unsigned	p;

	memset(raw, 0, sizeof(raw));
	raw[0] = 1;
	forge(raw, ks.k[0].ck_key, "");
	sodium_bin2base64(id, sizeof(id), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_int_eq(sealid_open(&ring, 1, id, &p, rnd), -1);
	raw[0] = 2;		/* the same, of version 2: opens */
	forge(raw, ks.k[0].ck_key, "");
	sodium_bin2base64(id, sizeof(id), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_int_eq(sealid_open(&ring, 1, id, &p, rnd), 0);
	ck_assert_uint_eq(p, 0);
}
END_TEST

/*
 * A cluster node's ids carry its name, bound by the MAC: another name, or
 * none, does not open; every node of the cluster opens them.
 */
START_TEST(node_name)
{
	struct sealring	a, b;
	char		id[SEALID_LEN + 1], buf[SEALID_LEN + 8];
	char		node[MCP_NODE_MAX_BYTES];
	unsigned char	rnd[SEALID_RND_BYTES];
	unsigned	p;

	memset(node, 'n', sizeof(node) - 1);
	node[sizeof(node) - 1] = '\0';	/* the longest name there is */
	sealring_set(&a, node, &ks, 0, NULL);
	sealring_set(&b, "b", &ks, 0, NULL);
	sealid_new(&a, 9, rnd, id, sizeof(id));
	ck_assert_uint_le(strlen(id), SEALID_LEN);
	ck_assert(strncmp(id, node, strlen(node)) == 0 &&
	    id[strlen(node)] == '.');
	ck_assert_int_eq(sealid_open(&b, 1, id, &p, rnd), 0);
	ck_assert_uint_eq(p, 9);
	ck_assert_int_eq(sealid_open(&ring, 1, id, &p, rnd), 0);
	snprintf(buf, sizeof(buf), "b%s", id + strlen(node));
	ck_assert_int_eq(sealid_open(&b, 1, buf, &p, rnd), -1);
	ck_assert_int_eq(sealid_open(&b, 1, id + strlen(node) + 1, &p, rnd),
	    -1);
	/* a name one longer than any: refused before the MAC */
	snprintf(buf, sizeof(buf), "x%s", id);
	ck_assert_int_eq(sealid_open(&b, 1, buf, &p, rnd), -1);
}
END_TEST

/*
 * Rotation: ids of the old key open until its date, then not; the new
 * key seals; a key id the ring does not have does not open.
 */
START_TEST(rotation)
{
	struct cluster_keys	 k2;
	struct sealring		 old, cur, gone;
	char			 id[SEALID_LEN + 1], nid[SEALID_LEN + 1];
	unsigned char		 rnd[SEALID_RND_BYTES], raw[RAW_BYTES];
	unsigned		 p;
	size_t			 n;

	memset(&k2, 0, sizeof(k2));
	k2.n = 1;
	k2.k[0].ck_id = 1;
	crypto_auth_keygen(k2.k[0].ck_key);
	sealring_set(&old, "a", &k2, 0, NULL);
	sealid_new(&old, 4, rnd, id, sizeof(id));
	/* key 2 seals now; key 1 opens until 1000 */
	k2.n = 2;
	k2.k[1] = k2.k[0];
	k2.k[1].ck_until = 1000;
	k2.k[0].ck_id = 2;
	crypto_auth_keygen(k2.k[0].ck_key);
	sealring_set(&cur, "a", &k2, 0, NULL);
	ck_assert_int_eq(sealid_open(&cur, 999, id, &p, rnd), 0);
	ck_assert_int_eq(sealid_open(&cur, 1000, id, &p, rnd), 0);
	ck_assert_int_eq(sealid_open(&cur, 1001, id, &p, rnd), -1);
	/* internal lookups (0) are not clocked */
	ck_assert_int_eq(sealid_open(&cur, 0, id, &p, rnd), 0);
	sealid_new(&cur, 4, rnd, nid, sizeof(nid));
	ck_assert_int_eq(sodium_base642bin(raw, sizeof(raw), nid + 2,
	    strlen(nid + 2), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	ck_assert_uint_eq(raw[3], 2);
	ck_assert_int_eq(sealid_open(&old, 1, nid, &p, rnd), -1);
	k2.n = 1;
	sealring_set(&gone, "a", &k2, 0, NULL);
	ck_assert_int_eq(sealid_open(&gone, 1, id, &p, rnd), -1);
	ck_assert_int_eq(sealid_open(&gone, 1, nid, &p, rnd), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("sealid");
	TCase	*tc = tcase_create("codec");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, round_trip, 0,
	    sizeof(partitions) / sizeof(partitions[0]));
	tcase_add_test(tc, two_ids_differ);
	tcase_add_test(tc, every_bit_flipped);
	tcase_add_test(tc, another_key);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, another_version);
	tcase_add_test(tc, node_name);
	tcase_add_test(tc, rotation);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
