/*
 * check_sealid.c -- the sealed self-routing id (mcp/sealid.c), the format
 * of session ids and task ids: what is made opens to the same partition
 * and randomness under the same key, and nothing else opens -- not a
 * flipped bit anywhere, not another key, not a cut, padded, re-encoded or
 * oversized id.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#define RAW_BYTES	(1 + 2 + SEALID_RND_BYTES + 16)

static unsigned char	key[crypto_auth_KEYBYTES];

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	crypto_auth_keygen(key);
}

static const unsigned partitions[] = { 0, 1, 2, 255, 256, 4095, 65535 };

START_TEST(round_trip)
{
	char		id[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES], got[SEALID_RND_BYTES];
	unsigned	p = partitions[_i], q = 99999;

	sealid_new(key, p, rnd, id, sizeof(id));
	ck_assert_uint_le(strlen(id), SEALID_LEN);
	/* visible ASCII only (a Mcp-Session-Id must be) */
	for (size_t k = 0; id[k] != '\0'; k++)
		ck_assert(id[k] > 0x20 && id[k] < 0x7f);
	ck_assert_int_eq(sealid_open(key, id, &q, got), 0);
	ck_assert_uint_eq(q, p);
	ck_assert_mem_eq(got, rnd, sizeof(rnd));
	ck_assert_uint_lt(sealid_bucket(rnd, 4096), 4096);
}
END_TEST

START_TEST(two_ids_differ)
{
	char		a[SEALID_LEN + 1], b[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES];

	sealid_new(key, 3, rnd, a, sizeof(a));
	sealid_new(key, 3, rnd, b, sizeof(b));
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

	sealid_new(key, 7, rnd, id, sizeof(id));
	ck_assert_int_eq(sodium_base642bin(raw, sizeof(raw), id, strlen(id),
	    NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	ck_assert_uint_eq(n, sizeof(raw));
	for (bit = 0; bit < 8 * sizeof(raw); bit++) {
		raw[bit / 8] ^= 1 << (bit % 8);
		sodium_bin2base64(forged, sizeof(forged), raw, sizeof(raw),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		ck_assert_msg(sealid_open(key, forged, &p, rnd) == -1,
		    "bit %zu flipped: opened", bit);
		raw[bit / 8] ^= 1 << (bit % 8);
	}
	sodium_bin2base64(forged, sizeof(forged), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_int_eq(sealid_open(key, forged, &p, rnd), 0);
}
END_TEST

START_TEST(another_key)
{
	unsigned char	other[crypto_auth_KEYBYTES];
	char		id[SEALID_LEN + 1];
	unsigned char	rnd[SEALID_RND_BYTES];
	unsigned	p;

	sealid_new(key, 1, rnd, id, sizeof(id));
	memcpy(other, key, sizeof(other));
	other[0] ^= 0x80;
	ck_assert_int_eq(sealid_open(other, id, &p, rnd), -1);
}
END_TEST

START_TEST(malformed)
{
	char		id[SEALID_LEN + 1], buf[4 * SEALID_LEN];
	unsigned char	rnd[SEALID_RND_BYTES];
	unsigned	p;
	size_t		n = 0;

	sealid_new(key, 1, rnd, id, sizeof(id));
	n = strlen(id);
	/* cut by one character, and by a whole byte's worth */
	snprintf(buf, sizeof(buf), "%.*s", (int)n - 1, id);
	ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), "%.*s", (int)n - 2, id);
	ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
	/* padded, trailing bytes, another alphabet, a space */
	snprintf(buf, sizeof(buf), "%s=", id);
	ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), "%sAA", id);
	ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), "%s", id);
	for (size_t k = 0; buf[k] != '\0'; k++)
		if (buf[k] == '-' || buf[k] == '_')
			buf[k] = buf[k] == '-' ? '+' : '/';
	if (strcmp(buf, id) != 0)
		ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
	snprintf(buf, sizeof(buf), " %s", id);
	ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
	/* empty, and far too long */
	ck_assert_int_eq(sealid_open(key, "", &p, rnd), -1);
	memset(buf, 'A', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ck_assert_int_eq(sealid_open(key, buf, &p, rnd), -1);
}
END_TEST

/* Another version byte, even with a valid MAC over it: refused. */
START_TEST(another_version)
{
	unsigned char	raw[RAW_BYTES], full[crypto_auth_BYTES];
	unsigned char	rnd[SEALID_RND_BYTES];
	char		id[SEALID_LEN + 1];
	unsigned	p;

	memset(raw, 0, sizeof(raw));
	raw[0] = 2;
	crypto_auth(full, raw, 1 + 2 + SEALID_RND_BYTES, key);
	memcpy(raw + 1 + 2 + SEALID_RND_BYTES, full, 16);
	sodium_bin2base64(id, sizeof(id), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_int_eq(sealid_open(key, id, &p, rnd), -1);
	raw[0] = 1;		/* the same, of version 1: opens */
	crypto_auth(full, raw, 1 + 2 + SEALID_RND_BYTES, key);
	memcpy(raw + 1 + 2 + SEALID_RND_BYTES, full, 16);
	sodium_bin2base64(id, sizeof(id), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_int_eq(sealid_open(key, id, &p, rnd), 0);
	ck_assert_uint_eq(p, 0);
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
