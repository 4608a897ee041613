/*
 * tokens.c -- static bearer tokens (tokens.h says the file).
 *
 * A presented token is hashed (SHA-256, libsodium) and looked up among
 * the file's hashes, sorted once as the file is read: the cost of a
 * request is a hash and a binary search, and comparing hashes, not
 * tokens, leaks nothing about a token through timing.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tokens.h"
#include "util.h"

static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	    c == '@';
}

/* A scope token (RFC 6749 3.3): visible ASCII but '"' and '\'. */
static int
scope_char(int c)
{
	return c > ' ' && c < 0x7f && c != '"' && c != '\\';
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(((const struct token *)a)->tk_hash,
	    ((const struct token *)b)->tk_hash, TOKEN_HASH_BYTES);
}

/* The next space-separated word of [*p, end) on this line, or NULL. */
static const char *
word(const char **p, const char *end, size_t *len)
{
	const char *s;

	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	if (*p == end || **p == '#')
		return NULL;
	s = *p;
	while (*p < end && **p != ' ' && **p != '\t')
		(*p)++;
	*len = (size_t)(*p - s);
	return s;
}

static int
line_parse(const char *p, const char *end, struct token *t, char *why,
    size_t whylen)
{
	const char	*w;
	size_t		 n, used = 0, i;

	memset(t, 0, sizeof(*t));
	if ((w = word(&p, end, &n)) == NULL)
		return 0;		/* blank or a comment */
	if (n >= TOKEN_NAME_MAX_BYTES) {
		snprintf(why, whylen, "name longer than %d bytes",
		    TOKEN_NAME_MAX_BYTES - 1);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!name_char((unsigned char)w[i])) {
			snprintf(why, whylen, "invalid name (letters, "
			    "digits, \"_\", \".\", \"-\", \"@\")");
			return -1;
		}
	memcpy(t->tk_name, w, n);
	if ((w = word(&p, end, &n)) == NULL || n != 7 + 2 * TOKEN_HASH_BYTES ||
	    strncmp(w, "sha256:", 7) != 0 ||
	    sodium_hex2bin(t->tk_hash, sizeof(t->tk_hash), w + 7, n - 7, NULL,
	    &i, NULL) != 0 || i != TOKEN_HASH_BYTES) {
		snprintf(why, whylen, "%s: a hash \"sha256:\" and 64 hex "
		    "digits expected after the name", t->tk_name);
		return -1;
	}
	while ((w = word(&p, end, &n)) != NULL) {
		for (i = 0; i < n; i++)
			if (!scope_char((unsigned char)w[i])) {
				snprintf(why, whylen, "%s: invalid scope",
				    t->tk_name);
				return -1;
			}
		if (used + n + 2 > sizeof(t->tk_scopes)) {
			snprintf(why, whylen, "%s: scopes longer than %d "
			    "bytes", t->tk_name, TOKEN_SCOPES_MAX_BYTES - 1);
			return -1;
		}
		if (used > 0)
			t->tk_scopes[used++] = ' ';
		memcpy(t->tk_scopes + used, w, n);
		used += n;
	}
	return 1;
}

int
tokens_parse(const char *text, size_t len, struct tokens *out, char *err,
    size_t errlen)
{
	const char	*p = text, *end = text + len, *nl;
	struct token	 t, *v = NULL, *nv;
	size_t		 n = 0, cap = 0, i;
	char		 why[128];
	int		 line = 0, r;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL ||
		    memchr(p, '\r', (size_t)(nl - p)) != NULL) {
			snprintf(err, errlen, "%d: a NUL or CR byte", line);
			goto fail;
		}
		if ((r = line_parse(p, nl, &t, why, sizeof(why))) == -1) {
			snprintf(err, errlen, "%d: %s", line, why);
			goto fail;
		}
		p = nl < end ? nl + 1 : end;
		if (r == 0)
			continue;
		if (n == TOKENS_MAX) {
			snprintf(err, errlen, "%d: more than %d tokens", line,
			    TOKENS_MAX);
			goto fail;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			v = nv;
		}
		v[n++] = t;
	}
	qsort(v, n, sizeof(*v), hash_cmp);
	for (i = 1; i < n; i++)
		if (hash_cmp(&v[i - 1], &v[i]) == 0) {
			snprintf(err, errlen, "the token of %s is the token "
			    "of %s too", v[i].tk_name, v[i - 1].tk_name);
			goto fail;
		}
	out->ts_tok = v;
	out->ts_n = n;
	return 0;
 fail:
	sodium_memzero(&t, sizeof(t));
	free(v);
	return -1;
}

int
tokens_load(const char *path, struct tokens *out, char *err, size_t errlen)
{
	char		*buf, why[256];
	size_t		 got;

	memset(out, 0, sizeof(*out));
	if (file_read(path, TOKENS_FILE_MAX_BYTES, &buf, &got, err,
	    errlen) == -1)
		return -1;
	if (tokens_parse(buf, got, out, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s:%s", path, why);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

void
tokens_free(struct tokens *ts)
{
	free(ts->ts_tok);
	ts->ts_tok = NULL;
	ts->ts_n = 0;
}

const struct token *
tokens_find(const struct tokens *ts, const char *token, size_t len)
{
	struct token	key;

	if (ts->ts_n == 0)
		return NULL;
	crypto_hash_sha256(key.tk_hash, (const unsigned char *)token, len);
	return bsearch(&key, ts->ts_tok, ts->ts_n, sizeof(key), hash_cmp);
}

int
tokens_scope_has(const char *scopes, const char *scope)
{
	size_t		 n = strlen(scope);
	const char	*p = scopes;

	while (*p != '\0') {
		if (strncmp(p, scope, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		p++;
	}
	return 0;
}

void
tokens_new(char *buf, size_t len, char *hex, size_t hexlen)
{
	unsigned char	rnd[TOKEN_RANDOM_BYTES], h[TOKEN_HASH_BYTES];
	char		b64[sodium_base64_ENCODED_LEN(TOKEN_RANDOM_BYTES,
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(b64, sizeof(b64), rnd, sizeof(rnd),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(buf, len, "%s%s", TOKEN_PREFIX, b64);
	crypto_hash_sha256(h, (const unsigned char *)buf, strlen(buf));
	sodium_bin2hex(hex, hexlen, h, sizeof(h));
	sodium_memzero(rnd, sizeof(rnd));
}

size_t
client_secret_trim(char *buf, size_t len)
{
	size_t i;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0 || len >= CLIENT_SECRET_MAX_BYTES)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < ' ' || (unsigned char)buf[i] >= 0x7f)
			return 0;
	return len;
}
