/*
 * check_clusterkey.c -- the cluster key file (common/clusterkey.c): what a
 * key file may say, every way it may be wrong (each with its line), a
 * file others may read, and the keys' trip to a worker and back.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clusterkey.h"

#define K1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define K2 "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

static char	dir[64];

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/check_clusterkey.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int
parse(const char *text, struct cluster_keys *ks, char *err, size_t len)
{
	return cluster_keys_parse(text, strlen(text), "k", ks, err, len);
}

START_TEST(good)
{
	struct cluster_keys	ks;
	char			err[256];

	ck_assert_int_eq(parse("# a comment\n\n  2 " K2 "  # now\n"
	    "1 " K1 " until 2026-12-31T00:00:00Z\n", &ks, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(ks.n, 2);
	ck_assert_uint_eq(ks.k[0].ck_id, 2);
	ck_assert_uint_eq(ks.k[0].ck_until, 0);
	ck_assert_uint_eq(ks.k[1].ck_id, 1);
	ck_assert_uint_eq(ks.k[1].ck_until, 1798675200);
	ck_assert_uint_eq(ks.k[1].ck_key[0], 0x9f);
	ck_assert_uint_eq(ks.k[1].ck_key[31], 0x08);
	/* Unix seconds, CRLF, no final newline */
	ck_assert_int_eq(parse("0 " K1 "\r\n255 " K2 " until 1700000000", &ks,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(ks.n, 2);
	ck_assert_uint_eq(ks.k[1].ck_id, 255);
	ck_assert_uint_eq(ks.k[1].ck_until, 1700000000);
}
END_TEST

/* Each mistake, and the line it names. */
START_TEST(bad)
{
	static const struct {
		const char	*text;
		const char	*err;
	} cases[] = {
		{ "", "k:0: no key" },
		{ "# only this\n\n", "k:2: no key" },
		{ "x " K1 "\n", "k:1: key id \"x\": a number from 0 to 255" },
		{ "256 " K1 "\n", "k:1: key id \"256\"" },
		{ "-1 " K1 "\n", "k:1: key id \"-1\"" },
		{ "+1 " K1 "\n", "k:1: key id \"+1\"" },
		{ "1 abc\n", "k:1: key 1: 64 hexadecimal digits expected" },
		{ "1 " K1 "0\n", "k:1: key 1: 64 hexadecimal digits expected" },
		{ "1 zz" K1 "\n", "k:1: key 1: 64 hexadecimal digits" },
		{ "1\n", "k:1: expected ID KEY [until DATE]" },
		{ "1 " K1 " until\n", "k:1: expected ID KEY [until DATE]" },
		{ "1 " K1 " until 2026-12-31T00:00:00Z\n",
		    "k:1: key 1: the first key seals: it has no \"until\"" },
		{ "1 " K1 "\n2 " K2 "\n", "k:2: key 2: an old key needs" },
		{ "1 " K1 "\n2 " K2 " after 2026-12-31T00:00:00Z\n",
		    "k:2: \"after\": \"until\" expected" },
		{ "1 " K1 "\n2 " K2 " until 2026-12-31\n", "k:2: until " },
		{ "1 " K1 "\n2 " K2 " until 2026-12-31T00:00:00+01:00\n",
		    "k:2: until " },
		{ "1 " K1 "\n2 " K2 " until 0\n", "k:2: until " },
		{ "1 " K1 "\n1 " K2 " until 1\n", "k:2: key id 1 twice" },
		{ "1 " K1 "\n2 " K1 " until 1\n", "k:2: key 2 is key 1 again" },
		{ "1 " K1 " until 1 x\n", "k:1: expected ID KEY" },
		{ "1 " K1 " a b c d\n", "k:1: too many words" },
	};
	struct cluster_keys	ks;
	char			err[256];
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(parse(cases[i].text, &ks, err, sizeof(err)) == -1,
		    "case %zu parsed", i);
		ck_assert_msg(strncmp(err, cases[i].err,
		    strlen(cases[i].err)) == 0, "case %zu: \"%s\", not \"%s\"",
		    i, err, cases[i].err);
	}
}
END_TEST

/* Hostile bytes: a NUL, a line longer than any, more keys than kept. */
START_TEST(hostile)
{
	struct cluster_keys	 ks;
	char			 err[256], *big;
	char			 nul[] = "1 " K1 "\n2\0x";
	size_t			 i, off = 0, len = 64 * 1024;

	ck_assert_int_eq(cluster_keys_parse(nul, sizeof(nul) - 1, "k", &ks,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "k:2: a NUL byte");
	ck_assert_ptr_nonnull(big = malloc(len + 1));
	memset(big, '1', len);
	big[len] = '\0';
	ck_assert_int_eq(parse(big, &ks, err, sizeof(err)), -1);
	ck_assert(strstr(err, "k:1: line too long") == err);
	/* CLUSTER_KEYS_MAX + 1 keys */
	off = (size_t)snprintf(big, len, "0 %064x\n", 1);
	for (i = 1; i <= CLUSTER_KEYS_MAX; i++)
		off += (size_t)snprintf(big + off, len - off,
		    "%zu %064zx until 1\n", i, i + 1);
	ck_assert_int_eq(parse(big, &ks, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "too many keys") != NULL, "%s", err);
	free(big);
}
END_TEST

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode),
	    0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* The file: private, regular, not a link, not too large. */
START_TEST(file)
{
	struct cluster_keys	 ks;
	char			 path[128], link[128], err[512], *big;

	snprintf(path, sizeof(path), "%s/key", dir);
	write_file(path, "3 " K1 "\n", 0600);
	ck_assert_int_eq(cluster_keys_load(path, &ks, err, sizeof(err)), 0);
	ck_assert_uint_eq(ks.k[0].ck_id, 3);
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(cluster_keys_load(path, &ks, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(cluster_keys_load(path, &ks, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "mode 0640: others may read") != NULL, "%s",
	    err);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(cluster_keys_load(path, &ks, err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s/link", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(cluster_keys_load(link, &ks, err, sizeof(err)), -1);
	ck_assert_int_eq(cluster_keys_load(dir, &ks, err, sizeof(err)), -1);
	snprintf(link, sizeof(link), "%s/none", dir);
	ck_assert_int_eq(cluster_keys_load(link, &ks, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
	ck_assert_ptr_nonnull(big = calloc(1, CLUSTER_KEY_FILE_MAX_BYTES + 2));
	memset(big, '#', CLUSTER_KEY_FILE_MAX_BYTES + 1);
	write_file(path, big, 0600);
	free(big);
	ck_assert_int_eq(cluster_keys_load(path, &ks, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "too large") != NULL, "%s", err);
	/* a key file's errors name the file and the line */
	write_file(path, "\n1 nothex\n", 0600);
	ck_assert_int_eq(cluster_keys_load(path, &ks, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/key:2: key 1") != NULL, "%s", err);
}
END_TEST

/* To a worker and back; a list that is not one is refused. */
START_TEST(wire)
{
	struct cluster_keys	ks, got;
	unsigned char		buf[CLUSTER_KEYS_MAX * CLUSTER_KEY_WIRE_BYTES];
	char			err[256];
	size_t			n;

	ck_assert_int_eq(parse("2 " K2 "\n1 " K1 " until 1798675200\n", &ks,
	    err, sizeof(err)), 0);
	n = cluster_keys_wire(&ks, buf);
	ck_assert_uint_eq(n, 2 * CLUSTER_KEY_WIRE_BYTES);
	ck_assert_int_eq(cluster_keys_unwire(buf, n, &got), 0);
	ck_assert_mem_eq(&got, &ks, sizeof(ks));
	ck_assert_int_eq(cluster_keys_unwire(buf, 0, &got), -1);
	ck_assert_int_eq(cluster_keys_unwire(buf, n - 1, &got), -1);
	ck_assert_int_eq(cluster_keys_unwire(buf, sizeof(buf) +
	    CLUSTER_KEY_WIRE_BYTES, &got), -1);
	/* the first key must seal (no end) */
	ck_assert_int_eq(cluster_keys_unwire(buf + CLUSTER_KEY_WIRE_BYTES,
	    CLUSTER_KEY_WIRE_BYTES, &got), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("clusterkey");
	TCase	*tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good);
	tcase_add_test(tc, bad);
	tcase_add_test(tc, hostile);
	tcase_add_test(tc, file);
	tcase_add_test(tc, wire);
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
