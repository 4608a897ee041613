/*
 * clusterkey.c -- the cluster key file: read, checked, and carried to the
 * workers (clusterkey.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clusterkey.h"

#define LINE_MAX_BYTES	256	/* of a key file */

static int
fail(char *err, size_t errlen, const char *name, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(char *err, size_t errlen, const char *name, int line, const char *fmt,
    ...)
{
	va_list	ap;
	int	n;

	n = snprintf(err, errlen, "%s:%d: ", name, line);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "2026-12-31T00:00:00Z" or Unix seconds: 0, or -1 */
static int
parse_until(const char *s, uint64_t *out)
{
	struct tm	 tm;
	const char	*end;
	char		*e;
	unsigned long long v;
	time_t		 t;

	if (*s >= '0' && *s <= '9' && strlen(s) <= 12 &&
	    strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		v = strtoull(s, &e, 10);
		if (errno != 0 || *e != '\0' || v == 0)
			return -1;
		*out = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    strcmp(end, "Z") != 0 || strlen(s) != 20)
		return -1;
	if ((t = timegm(&tm)) <= 0)
		return -1;
	*out = (uint64_t)t;
	return 0;
}

int
cluster_keys_parse(const char *text, size_t len, const char *name,
    struct cluster_keys *ks, char *err, size_t errlen)
{
	char		 line[LINE_MAX_BYTES], *w[5], *p, *save;
	const char	*s = text, *end = text + len, *nl;
	struct cluster_key *k;
	size_t		 n, klen;
	unsigned long	 id;
	uint32_t	 i, nw;
	int		 lineno = 0;

	memset(ks, 0, sizeof(*ks));
	while (s < end) {
		lineno++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (n >= sizeof(line))
			return fail(err, errlen, name, lineno, "line too long "
			    "(at most %d bytes)", LINE_MAX_BYTES - 1);
		memcpy(line, s, n);
		line[n] = '\0';
		s = nl + 1;
		if (memchr(line, '\0', n) != NULL || strlen(line) != n)
			return fail(err, errlen, name, lineno, "a NUL byte");
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		nw = 0;
		for (p = strtok_r(line, " \t\r", &save); p != NULL;
		    p = strtok_r(NULL, " \t\r", &save)) {
			if (nw == 5)
				return fail(err, errlen, name, lineno,
				    "too many words (ID KEY [until DATE])");
			w[nw++] = p;
		}
		if (nw == 0)
			continue;
		if (ks->n == CLUSTER_KEYS_MAX)
			return fail(err, errlen, name, lineno, "too many keys "
			    "(at most %d)", CLUSTER_KEYS_MAX);
		k = &ks->k[ks->n];
		if (nw != 2 && nw != 4)
			return fail(err, errlen, name, lineno,
			    "expected ID KEY [until DATE]");
		errno = 0;
		id = strtoul(w[0], &p, 10);
		if (errno != 0 || *p != '\0' || id > 255 ||
		    strspn(w[0], "0123456789") != strlen(w[0]))
			return fail(err, errlen, name, lineno, "key id \"%s\": "
			    "a number from 0 to 255", w[0]);
		k->ck_id = (uint8_t)id;
		if (strlen(w[1]) != 2 * CLUSTER_KEY_BYTES ||
		    sodium_hex2bin(k->ck_key, sizeof(k->ck_key), w[1],
		    strlen(w[1]), NULL, &klen, NULL) != 0 ||
		    klen != CLUSTER_KEY_BYTES)
			return fail(err, errlen, name, lineno, "key %lu: %d "
			    "hexadecimal digits expected (32 random bytes)", id,
			    2 * CLUSTER_KEY_BYTES);
		if (nw == 4) {
			if (strcmp(w[2], "until") != 0)
				return fail(err, errlen, name, lineno,
				    "\"%s\": \"until\" expected", w[2]);
			if (ks->n == 0)
				return fail(err, errlen, name, lineno, "key "
				    "%lu: the first key seals: it has no "
				    "\"until\"", id);
			if (parse_until(w[3], &k->ck_until) == -1)
				return fail(err, errlen, name, lineno, "until "
				    "\"%s\": a UTC time as 2026-12-31T00:00:00Z, "
				    "or Unix seconds", w[3]);
		} else if (ks->n > 0)
			return fail(err, errlen, name, lineno, "key %lu: an old "
			    "key needs \"until DATE\" (how long ids sealed "
			    "with it still open)", id);
		for (i = 0; i < ks->n; i++) {
			if (ks->k[i].ck_id == k->ck_id)
				return fail(err, errlen, name, lineno, "key id "
				    "%lu twice", id);
			if (sodium_memcmp(ks->k[i].ck_key, k->ck_key,
			    CLUSTER_KEY_BYTES) == 0)
				return fail(err, errlen, name, lineno, "key %lu "
				    "is key %u again", id,
				    (unsigned)ks->k[i].ck_id);
		}
		ks->n++;
	}
	sodium_memzero(line, sizeof(line));
	if (ks->n == 0)
		return fail(err, errlen, name, lineno, "no key (a line \"ID "
		    "KEY\", KEY 64 hexadecimal digits)");
	return 0;
}

int
cluster_keys_load(const char *path, struct cluster_keys *ks, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd, rc;

	memset(ks, 0, sizeof(*ks));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: mode %04o: others may read the "
		    "cluster key (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (st.st_size > CLUSTER_KEY_FILE_MAX_BYTES) {
		snprintf(err, errlen, "%s: too large (at most %d bytes)", path,
		    CLUSTER_KEY_FILE_MAX_BYTES);
		close(fd);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	rc = cluster_keys_parse(buf, got, path, ks, err, errlen);
	sodium_memzero(buf, got);
	free(buf);
	return rc;
}

size_t
cluster_keys_wire(const struct cluster_keys *ks, unsigned char *out)
{
	uint32_t	i;
	int		b;

	for (i = 0; i < ks->n; i++) {
		out[0] = ks->k[i].ck_id;
		for (b = 0; b < 8; b++)
			out[1 + b] = (unsigned char)(ks->k[i].ck_until >>
			    (56 - 8 * b));
		memcpy(out + 9, ks->k[i].ck_key, CLUSTER_KEY_BYTES);
		out += CLUSTER_KEY_WIRE_BYTES;
	}
	return (size_t)ks->n * CLUSTER_KEY_WIRE_BYTES;
}

int
cluster_keys_unwire(const unsigned char *in, size_t len,
    struct cluster_keys *ks)
{
	struct cluster_key	*k;
	int			 b;

	memset(ks, 0, sizeof(*ks));
	if (len == 0 || len % CLUSTER_KEY_WIRE_BYTES != 0 ||
	    len / CLUSTER_KEY_WIRE_BYTES > CLUSTER_KEYS_MAX)
		return -1;
	for (; len > 0; len -= CLUSTER_KEY_WIRE_BYTES,
	    in += CLUSTER_KEY_WIRE_BYTES) {
		k = &ks->k[ks->n++];
		k->ck_id = in[0];
		for (b = 0; b < 8; b++)
			k->ck_until = k->ck_until << 8 | in[1 + b];
		memcpy(k->ck_key, in + 9, CLUSTER_KEY_BYTES);
	}
	return ks->k[0].ck_until == 0 ? 0 : -1;
}
