/*
 * json.c -- JSON for mcpd: one validating pass that writes jsmn's tokens
 * behind json_parse(), lookups that read strings in place, and the writer.
 *
 * Nothing here allocates except the writer's buffer, which grows by
 * doubling and is kept across jw_reset().  Nothing recurses.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_IMPL
#include "json.h"

#define BAD		((size_t)-1)	/* a scan found no valid text */
#if JSON_DEPTH_MAX > 64
#error "json_check keeps its stack of containers in 64 bits"
#endif
/* the longest number json_double reads */
#define NUMBER_MAX_BYTES	512
#define JW_CAP_MIN_BYTES	256

/*
 * String bytes that need a closer look: the quote, the backslash, control
 * characters and everything outside ASCII.  The parser and the writer
 * both stop on these and copy or skip the rest in runs.
 */
static const unsigned char strcls[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};

static const char hexdig[] = "0123456789abcdef";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s[p]; -1 when they are not there. */
static long
hex4(const unsigned char *s, size_t p, size_t len)
{
	long	 v = 0;
	int	 i, d;

	if (p > len || len - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = hexval(s[p + i])) == -1)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The length of the valid UTF-8 sequence starting at s (of n > 0 bytes),
 * or 0: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static inline size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	 c = s[0], lo = 0x80, hi = 0xbf;
	size_t		 need, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		need = 1;
	else if (c < 0xf0) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

static int
utf8_put(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Where in the 8 bytes at s the first quote, backslash, control character
 * or non-ASCII byte is, or 8.  The borrows of the subtractions only run
 * from such a byte towards more significant ones, so on a little-endian
 * machine the lowest flagged byte is the first; elsewhere any flag sends
 * the caller to the byte loop.
 */
static inline size_t
special8(const unsigned char *s)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	uint64_t	 x, m;

	memcpy(&x, s, sizeof(x));
	m = (x | (x - 0x20 * ones) | ((x ^ '"' * ones) - ones) |
	    ((x ^ '\\' * ones) - ones)) & 0x80 * ones;
	if (m == 0)
		return 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(m) / 8;
#else
	return 0;
#endif
}

/*
 * A string's contents from s[p] (after the quote); returns past its end.
 * *esc is set when it holds an escape.
 */
static size_t
scan_string(const unsigned char *s, size_t p, size_t len, int *esc)
{
	long	 cp, lo;
	size_t	 n, k;

	for (;;) {
		while (len - p >= 8) {
			k = special8(s + p);
			p += k;
			if (k < 8)
				break;
		}
		while (p < len && strcls[s[p]] == 0)
			p++;
		if (p == len)
			return BAD;
		if (s[p] == '"')
			return p + 1;
		if (s[p] < 0x20)
			return BAD;
		if (s[p] != '\\') {
			if ((n = utf8_len(s + p, len - p)) == 0)
				return BAD;
			p += n;
			continue;
		}
		*esc = 1;
		if (++p == len)
			return BAD;
		switch (s[p]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			p++;
			break;
		case 'u':
			if ((cp = hex4(s, p + 1, len)) == -1)
				return BAD;
			p += 5;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return BAD;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (len - p < 6 || s[p] != '\\' || s[p + 1] != 'u')
					return BAD;
				lo = hex4(s, p + 2, len);
				if (lo < 0xdc00 || lo > 0xdfff)
					return BAD;
				p += 6;
			}
			break;
		default:
			return BAD;
		}
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at s[p] */
static size_t
scan_number(const unsigned char *s, size_t p, size_t len)
{
	if (p < len && s[p] == '-')
		p++;
	if (p == len || !is_digit(s[p]))
		return BAD;
	if (s[p++] != '0')
		while (p < len && is_digit(s[p]))
			p++;
	if (p < len && s[p] == '.') {
		if (++p == len || !is_digit(s[p]))
			return BAD;
		while (p < len && is_digit(s[p]))
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		if (++p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p == len || !is_digit(s[p]))
			return BAD;
		while (p < len && is_digit(s[p]))
			p++;
	}
	return p;
}

static size_t
scan_word(const unsigned char *s, size_t p, size_t len, const char *w,
    size_t wlen)
{
	if (len - p < wlen || memcmp(s + p, w, wlen) != 0)
		return BAD;
	return p + wlen;
}

/*
 * The tokens: what strict jsmn with parent links would make of the text
 * (jsmn itself scanned every byte again after the check, which was half
 * of the parse), written as the grammar is checked.  Past maxtoks the
 * check goes on, so that a syntax error still wins over JSON_E_TOKENS.
 */
/*
 * An object's keys are compared as they come (json_check): up to
 * DUP_PAIRWISE_MAX of them pairwise, which is what a message holds; the
 * keys of a larger object, one an attacker made, go through a sort of
 * their hashes at the end, so a key twice costs O(n log n), not O(n^2).
 */
#define DUP_PAIRWISE_MAX	16

struct tokfill {
	jsmntok_t	*t;
	int		 n, max, full;
	/* a key twice: each token's entry, where it applies */
	int		*prev;		/* a key: the one before it, or -1 */
	int		*last;		/* an object: its last key so far */
	int		*nkeys;		/* an object: its keys so far */
	char		*esc;		/* a key: it holds an escape */
	int		 big;		/* some object has many keys */
};

/* a key of a large object, for the sort */
struct keyref {
	uint32_t	obj, hash;
	int		key;
};

static int	keys_equal(const char *, const jsmntok_t *, const char *, int,
		    int);
static int	big_objects(const char *, const struct tokfill *,
		    struct keyref *);

static int
tok_new(struct tokfill *f, jsmntype_t type, size_t start, size_t end,
    int parent)
{
	jsmntok_t *t;

	if (f->full || f->n == f->max) {
		f->full = 1;
		return -1;
	}
	t = &f->t[f->n];
	t->type = type;
	t->start = (int)start;
	t->end = end == BAD ? -1 : (int)end;
	t->size = 0;
	t->parent = parent;
	if (parent != -1)
		f->t[parent].size++;
	return f->n++;
}

/*
 * The whole grammar in one pass with a bit stack of containers (1 for an
 * object) and the stack of their tokens; nothing recurses, and depth is
 * bounded before anything else.  A key is its object's child, a member's
 * value the key's, an element the array's (jsmn's shape).
 */
static int
json_check(const unsigned char *s, size_t len, struct tokfill *f)
{
	enum { VALUE, FIRST_VALUE, KEY, FIRST_KEY, AFTER } st = VALUE;
	uint64_t	 objbits = 0, top;
	size_t		 p = 0, start;
	int		 depth = 0, cont[JSON_DEPTH_MAX], key = -1, parent, k;
	int		 q, esc;
	jsmntype_t	 type;

	for (;;) {
		while (p < len && s[p] <= ' ' && is_ws(s[p]))
			p++;
		if (p == len)
			return st == AFTER && depth == 0 ? JSON_OK : JSON_E_SYNTAX;
		top = depth > 0 ? objbits >> (depth - 1) & 1 : 0;
		switch (st) {
		case FIRST_VALUE:
			if (s[p] == ']') {
				st = AFTER;	/* which closes the empty array */
				continue;
			}
			/* FALLTHROUGH */
		case VALUE:
			start = p;
			parent = depth == 0 ? -1 : top ? key : cont[depth - 1];
			switch (s[p]) {
			case '{':
			case '[':
				if (depth == JSON_DEPTH_MAX)
					return JSON_E_DEPTH;
				if (s[p] == '{') {
					objbits |= (uint64_t)1 << depth;
					st = FIRST_KEY;
					type = JSMN_OBJECT;
				} else {
					objbits &= ~((uint64_t)1 << depth);
					st = FIRST_VALUE;
					type = JSMN_ARRAY;
				}
				cont[depth++] = k = tok_new(f, type, p, BAD,
				    parent);
				if (k != -1 && type == JSMN_OBJECT) {
					f->last[k] = -1;
					f->nkeys[k] = 0;
				}
				p++;
				continue;
			case '"':
				p = scan_string(s, p + 1, len, &esc);
				if (p != BAD)
					tok_new(f, JSMN_STRING, start + 1, p - 1,
					    parent);
				break;
			case 't':
				p = scan_word(s, p, len, "true", 4);
				break;
			case 'f':
				p = scan_word(s, p, len, "false", 5);
				break;
			case 'n':
				p = scan_word(s, p, len, "null", 4);
				break;
			default:
				p = scan_number(s, p, len);
				break;
			}
			if (p == BAD)
				return JSON_E_SYNTAX;
			if (s[start] != '"')
				tok_new(f, JSMN_PRIMITIVE, start, p, parent);
			st = AFTER;
			break;
		case FIRST_KEY:
			if (s[p] == '}') {
				st = AFTER;	/* which closes the empty object */
				continue;
			}
			/* FALLTHROUGH */
		case KEY:
			start = p;
			esc = 0;
			if (s[p] != '"' ||
			    (p = scan_string(s, p + 1, len, &esc)) == BAD)
				return JSON_E_SYNTAX;
			key = tok_new(f, JSMN_STRING, start + 1, p - 1,
			    cont[depth - 1]);
			if (key != -1 && (k = cont[depth - 1]) != -1) {
				/* the same key before it in its object? */
				f->esc[key] = (char)esc;
				f->prev[key] = f->last[k];
				f->last[k] = key;
				if (++f->nkeys[k] > DUP_PAIRWISE_MAX)
					f->big = 1;
				else for (q = f->prev[key]; q != -1;
				    q = f->prev[q]) {
					/* most differ in length: that settles it */
					if (!esc && !f->esc[q] && f->t[q].end -
					    f->t[q].start != (int)(p - start - 2))
						continue;
					if (keys_equal((const char *)s, f->t,
					    f->esc, q, key))
						return JSON_E_DUPKEY;
				}
			}
			while (p < len && is_ws(s[p]))
				p++;
			if (p == len || s[p] != ':')
				return JSON_E_SYNTAX;
			p++;
			st = VALUE;
			break;
		case AFTER:
			if (depth == 0)
				return JSON_E_SYNTAX;
			if (s[p] == ',')
				st = top ? KEY : VALUE;
			else if (s[p] == (top ? '}' : ']')) {
				if ((k = cont[--depth]) != -1)
					f->t[k].end = (int)(p + 1);
			} else
				return JSON_E_SYNTAX;
			p++;
			break;
		}
	}
}

/*
 * The key check's scratch: the engine's messages fit the static one; a
 * larger document (a schema in mcpd.conf) gets its own.
 */
static int		 sprev[JSON_TOKENS_MAX], slast[JSON_TOKENS_MAX];
static int		 snkeys[JSON_TOKENS_MAX];
static char		 sesc[JSON_TOKENS_MAX];

int
json_parse(struct json *j, const char *buf, size_t len, jsmntok_t *toks,
    int maxtoks)
{
	struct tokfill	 f = { toks, 0, maxtoks, 0, sprev, slast, snkeys,
			    sesc, 0 };
	struct keyref	*refs;
	int		 r;

	j->js = buf;
	j->len = len;
	j->t = toks;
	j->ntok = 0;
	/* tokens keep offsets in ints */
	if (len >= INT_MAX)
		return JSON_E_SYNTAX;
	if (maxtoks < 1)
		f.full = 1;
	if (maxtoks > JSON_TOKENS_MAX) {
		f.prev = calloc(maxtoks, sizeof(*f.prev));
		f.last = calloc(maxtoks, sizeof(*f.last));
		f.nkeys = calloc(maxtoks, sizeof(*f.nkeys));
		f.esc = calloc(maxtoks, sizeof(*f.esc));
		if (f.prev == NULL || f.last == NULL || f.nkeys == NULL ||
		    f.esc == NULL) {
			r = JSON_E_TOKENS;
			goto done;
		}
	}
	r = json_check((const unsigned char *)buf, len, &f);
	if (r == JSON_OK && f.full)
		r = JSON_E_TOKENS;
	if (r == JSON_OK && f.big) {
		if ((refs = calloc(f.n, sizeof(*refs))) == NULL)
			r = JSON_E_TOKENS;
		else {
			r = big_objects(buf, &f, refs);
			free(refs);
		}
	}
	if (r == JSON_OK)
		j->ntok = f.n;
done:
	if (f.prev != sprev) {
		free(f.prev);
		free(f.last);
		free(f.nkeys);
		free(f.esc);
	}
	return r;
}

const char *
json_strerror(int e)
{
	switch (e) {
	case JSON_OK:
		return "no error";
	case JSON_E_SYNTAX:
		return "invalid JSON";
	case JSON_E_TOKENS:
		return "too many JSON values";
	case JSON_E_DEPTH:
		return "JSON nested too deep";
	case JSON_E_DUPKEY:
		return "a key twice in one object";
	default:
		return "unknown JSON error";
	}
}

enum json_type
json_type(const struct json *j, int i)
{
	if (i < 0 || i >= j->ntok)
		return JSON_NONE;
	switch (j->t[i].type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		switch (j->js[j->t[i].start]) {
		case 't':
			return JSON_TRUE;
		case 'f':
			return JSON_FALSE;
		case 'n':
			return JSON_NULL;
		default:
			return JSON_NUMBER;
		}
	default:
		return JSON_NONE;
	}
}

/*
 * Everything inside token i starts before it ends.  A key's value is not
 * inside the key: json_skip(key) is its value.
 */
int
json_skip(const struct json *j, int i)
{
	int	 k, end;

	if (i < 0 || i >= j->ntok)
		return j->ntok;
	end = j->t[i].end;
	for (k = i + 1; k < j->ntok && j->t[k].start < end; k++)
		;
	return k;
}

/*
 * The escape at *pp (a backslash, in a validated string ending at end)
 * into out; returns its length and moves *pp past it.
 */
static int
unescape(const char **pp, const char *end, char *out)
{
	const unsigned char	*p = (const unsigned char *)*pp + 1;
	const unsigned char	*e = (const unsigned char *)end;
	long			 cp, lo;

	if (p >= e) {
		*pp = end;
		out[0] = '\\';
		return 1;
	}
	switch (*p) {
	case 'b':
		out[0] = '\b';
		break;
	case 'f':
		out[0] = '\f';
		break;
	case 'n':
		out[0] = '\n';
		break;
	case 'r':
		out[0] = '\r';
		break;
	case 't':
		out[0] = '\t';
		break;
	case 'u':
		if ((cp = hex4(p, 1, (size_t)(e - p))) == -1) {
			out[0] = 'u';
			break;
		}
		p += 5;
		if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 &&
		    p[0] == '\\' && p[1] == 'u' &&
		    (lo = hex4(p, 2, (size_t)(e - p))) >= 0xdc00 &&
		    lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		}
		*pp = (const char *)p;
		return utf8_put((unsigned long)cp, out);
	default:
		out[0] = (char)*p;
		break;
	}
	*pp = (const char *)p + 1;
	return 1;
}

/* The bytes of a string token, unescaped, one at a time. */
struct ustr {
	const char	*p, *end;
	char		 u[4];
	int		 ul, ui;
};

static void
ustr_init(struct ustr *u, const char *js, const jsmntok_t *t)
{
	u->p = js + t->start;
	u->end = js + t->end;
	u->ul = u->ui = 0;
}

/* the next byte, or -1 at the end */
static int
ustr_next(struct ustr *u)
{
	if (u->ui < u->ul)
		return (unsigned char)u->u[u->ui++];
	if (u->p >= u->end)
		return -1;
	if (*u->p != '\\')
		return (unsigned char)*u->p++;
	u->ul = unescape(&u->p, u->end, u->u);
	u->ui = 1;
	return (unsigned char)u->u[0];
}

/*
 * Keys a and b are the same once unescaped; without an escape in either
 * (esc) their bytes say it.
 */
static int
keys_equal(const char *js, const jsmntok_t *t, const char *esc, int a,
    int b)
{
	struct ustr	ua, ub;
	int		ca, cb;

	if (!esc[a] && !esc[b])
		return t[a].end - t[a].start == t[b].end - t[b].start &&
		    memcmp(js + t[a].start, js + t[b].start,
		    t[a].end - t[a].start) == 0;
	ustr_init(&ua, js, &t[a]);
	ustr_init(&ub, js, &t[b]);
	do {
		ca = ustr_next(&ua);
		cb = ustr_next(&ub);
	} while (ca == cb && ca != -1);
	return ca == cb;
}

static uint32_t
key_hash(const char *js, const jsmntok_t *t)
{
	struct ustr	u;
	uint32_t	h = 2166136261u;
	int		c;

	ustr_init(&u, js, t);
	while ((c = ustr_next(&u)) != -1)
		h = (h ^ (uint32_t)c) * 16777619u;
	return h;
}

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;

	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->key - y->key;
}

/*
 * The objects of more than DUP_PAIRWISE_MAX keys, which json_check leaves
 * here: their keys sorted by hash, those of one hash compared.
 */
static int
big_objects(const char *js, const struct tokfill *f, struct keyref *refs)
{
	int	o, k, i, n, q, nrefs = 0;

	for (o = 0; o < f->n; o++) {
		if (f->t[o].type != JSMN_OBJECT ||
		    f->nkeys[o] <= DUP_PAIRWISE_MAX)
			continue;
		for (k = f->last[o]; k != -1; k = f->prev[k])
			refs[nrefs++] = (struct keyref){ (uint32_t)o,
			    key_hash(js, &f->t[k]), k };
	}
	qsort(refs, nrefs, sizeof(*refs), keyref_cmp);
	for (i = 0; i < nrefs; i = n)
		for (n = i + 1; n < nrefs && refs[n].obj == refs[i].obj &&
		    refs[n].hash == refs[i].hash; n++)
			for (q = i; q < n; q++)
				if (keys_equal(js, f->t, f->esc, refs[q].key,
				    refs[n].key))
					return JSON_E_DUPKEY;
	return JSON_OK;
}

/* s (n bytes) equals string token i after unescaping */
static int
streq_n(const struct json *j, int i, const char *s, size_t n)
{
	const char	*p, *end;
	char		 u[4];
	size_t		 rl;
	int		 k, ul;

	p = j->js + j->t[i].start;
	end = j->js + j->t[i].end;
	rl = (size_t)(end - p);
	/* an escape is longer than what it stands for */
	if (rl == n)
		return memcmp(p, s, n) == 0 && memchr(p, '\\', rl) == NULL;
	if (rl < n || memchr(p, '\\', rl) == NULL)
		return 0;
	while (p < end) {
		if (*p != '\\') {
			if (n == 0 || *p != *s)
				return 0;
			p++;
			s++;
			n--;
			continue;
		}
		ul = unescape(&p, end, u);
		for (k = 0; k < ul; k++) {
			if (n == 0 || u[k] != *s)
				return 0;
			s++;
			n--;
		}
	}
	return n == 0;
}

int
json_streq(const struct json *j, int i, const char *s)
{
	if (i < 0 || i >= j->ntok || j->t[i].type != JSMN_STRING)
		return 0;
	return streq_n(j, i, s, strlen(s));
}

int
json_get(const struct json *j, int obj, const char *key)
{
	size_t	 klen;
	int	 k, n, size;

	if (obj < 0 || obj >= j->ntok || j->t[obj].type != JSMN_OBJECT)
		return -1;
	klen = strlen(key);
	size = j->t[obj].size;
	for (k = obj + 1, n = 0; n < size && k + 1 < j->ntok; n++) {
		if (j->t[k].type == JSMN_STRING && streq_n(j, k, key, klen))
			return k + 1;
		k = json_skip(j, k + 1);
	}
	return -1;
}

int
json_strcpy(const struct json *j, int i, char *dst, size_t dstlen)
{
	int n;

	if ((n = json_unescape(j, i, dst, dstlen)) == -1)
		return -1;
	if (memchr(dst, '\0', (size_t)n) != NULL) {
		dst[0] = '\0';		/* \u0000: no C string holds it */
		return -1;
	}
	return n;
}

int
json_unescape(const struct json *j, int i, char *dst, size_t dstlen)
{
	const char	*p, *q, *end;
	char		 u[4];
	size_t		 n = 0, run;
	int		 ul;

	if (i < 0 || i >= j->ntok || j->t[i].type != JSMN_STRING ||
	    dstlen == 0)
		return -1;
	p = j->js + j->t[i].start;
	end = j->js + j->t[i].end;
	while (p < end) {
		if ((q = memchr(p, '\\', (size_t)(end - p))) == NULL)
			q = end;
		run = (size_t)(q - p);
		if (run >= dstlen - n)
			goto toolong;
		memcpy(dst + n, p, run);
		n += run;
		if ((p = q) == end)
			break;
		ul = unescape(&p, end, u);
		if ((size_t)ul >= dstlen - n)
			goto toolong;
		memcpy(dst + n, u, (size_t)ul);
		n += (size_t)ul;
	}
	dst[n] = '\0';
	return (int)n;
toolong:
	dst[0] = '\0';
	return -1;
}

int
json_has_nul(const struct json *j, int i)
{
	struct ustr	u;
	int		c;

	if (i < 0 || i >= j->ntok || j->t[i].type != JSMN_STRING)
		return 0;
	ustr_init(&u, j->js, &j->t[i]);
	while ((c = ustr_next(&u)) != -1)
		if (c == 0)
			return 1;
	return 0;
}

const char *
json_raw(const struct json *j, int i, size_t *len)
{
	if (i < 0 || i >= j->ntok) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)(j->t[i].end - j->t[i].start);
	return j->js + j->t[i].start;
}

const char *
json_text(const struct json *j, int i, size_t *len)
{
	const char	*p;

	if ((p = json_raw(j, i, len)) != NULL && j->t[i].type == JSMN_STRING) {
		*len += 2;
		p--;
	}
	return p;
}

int
json_int64(const struct json *j, int i, int64_t *v)
{
	const char	*p, *end;
	uint64_t	 u = 0, lim = INT64_MAX, d;
	int		 neg = 0;

	if (json_type(j, i) != JSON_NUMBER)
		return -1;
	p = j->js + j->t[i].start;
	end = j->js + j->t[i].end;
	if (p < end && *p == '-') {
		neg = 1;
		lim = (uint64_t)INT64_MAX + 1;
		p++;
	}
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (!is_digit((unsigned char)*p))
			return -1;
		d = (uint64_t)(*p - '0');
		if (u > (lim - d) / 10)
			return -1;
		u = u * 10 + d;
	}
	if (!neg)
		*v = (int64_t)u;
	else if (u == (uint64_t)INT64_MAX + 1)
		*v = INT64_MIN;
	else
		*v = -(int64_t)u;
	return 0;
}

int
json_double(const struct json *j, int i, double *v)
{
	char	 buf[NUMBER_MAX_BYTES + 1];
	double	 d;
	size_t	 n;

	if (json_type(j, i) != JSON_NUMBER)
		return -1;
	n = (size_t)(j->t[i].end - j->t[i].start);
	if (n > NUMBER_MAX_BYTES)
		return -1;
	memcpy(buf, j->js + j->t[i].start, n);
	buf[n] = '\0';
	errno = 0;
	d = strtod(buf, NULL);
	if (errno == ERANGE && isinf(d))
		return -1;
	*v = d;
	return 0;
}

int
json_bool(const struct json *j, int i, int *v)
{
	switch (json_type(j, i)) {
	case JSON_TRUE:
		*v = 1;
		return 0;
	case JSON_FALSE:
		*v = 0;
		return 0;
	default:
		return -1;
	}
}

/*
 * The writer.  The buffer is kept NUL-terminated (one byte past len) for
 * the convenience of callers that print it.  Values at depth 0 get no
 * commas, so one buffer can hold several framed messages.
 */
void
jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
}

void
jw_reset(struct jw *w)
{
	char	*buf = w->buf;
	size_t	 cap = w->cap;

	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	if (buf != NULL)
		buf[0] = '\0';
}

void
jw_free(struct jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static int
jw_grow(struct jw *w, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (w->err)
		return -1;
	if (n > SIZE_MAX - 1 - w->len)
		goto fail;
	need = w->len + n + 1;
	cap = w->cap ? w->cap : JW_CAP_MIN_BYTES;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if ((p = realloc(w->buf, cap)) == NULL)
		goto fail;
	w->buf = p;
	w->cap = cap;
	return 0;
fail:
	w->err = 1;
	return -1;
}

/* room for n more bytes and the NUL */
static inline int
jw_room(struct jw *w, size_t n)
{
	if (w->err == 0 && w->cap - w->len > n)
		return 0;
	return jw_grow(w, n);
}

static inline void
jw_put(struct jw *w, const void *p, size_t n)
{
	if (jw_room(w, n) == -1)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static inline void
jw_putc(struct jw *w, char c)
{
	if (jw_room(w, 1) == -1)
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* before a value or a key: the comma, unless a key was just written */
static void
jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->need_comma[w->depth])
		jw_putc(w, ',');
	else
		w->need_comma[w->depth] = 1;
}

static void
jw_open(struct jw *w, char c)
{
	jw_sep(w);
	if (w->depth >= JW_DEPTH_MAX) {
		w->err = 1;
		return;
	}
	jw_putc(w, c);
	w->depth++;
	w->need_comma[w->depth] = 0;
}

static void
jw_close(struct jw *w, char c)
{
	if (w->depth == 0 || w->after_key) {
		w->err = 1;
		return;
	}
	w->depth--;
	jw_putc(w, c);
}

void
jw_obj(struct jw *w)
{
	jw_open(w, '{');
}

void
jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void
jw_arr(struct jw *w)
{
	jw_open(w, '[');
}

void
jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

/*
 * A quoted string: valid UTF-8 and printable ASCII go through in runs,
 * bytes that are not UTF-8 become U+FFFD so the output is always JSON.
 * Room is made for the worst case (6 bytes out for one in) of one chunk
 * at a time, then the chunk is written without further checks.
 */
#define ESC_CHUNK_BYTES	4096

static void
jw_esc(struct jw *w, const unsigned char *s, size_t n)
{
	size_t	 i = 0, end, k;
	char	*o;

	jw_putc(w, '"');
	while (i < n) {
		end = n - i > ESC_CHUNK_BYTES ? i + ESC_CHUNK_BYTES : n;
		/* a UTF-8 sequence may run 3 bytes past end */
		if (jw_room(w, 6 * (end - i) + 4) == -1)
			return;
		o = w->buf + w->len;
		while (i < end) {
			if (end - i >= 8) {
				k = special8(s + i);
				memcpy(o, s + i, 8);
				o += k;
				i += k;
				if (k == 8)
					continue;
			}
			if (strcls[s[i]] == 0) {
				*o++ = (char)s[i++];
				continue;
			}
			if (s[i] >= 0x80) {
				if ((k = utf8_len(s + i, n - i)) == 0) {
					memcpy(o, "\xef\xbf\xbd", 3);
					o += 3;
					i++;
				} else {
					memcpy(o, s + i, k);
					o += k;
					i += k;
				}
				continue;
			}
			*o++ = '\\';
			switch (s[i]) {
			case '"':
			case '\\':
				*o++ = (char)s[i];
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hexdig[s[i] >> 4];
				*o++ = hexdig[s[i] & 0xf];
				break;
			}
			i++;
		}
		w->len = (size_t)(o - w->buf);
	}
	jw_putc(w, '"');
}

void
jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	jw_esc(w, (const unsigned char *)k, strlen(k));
	jw_putc(w, ':');
	w->after_key = 1;
}

void
jw_str(struct jw *w, const char *s)
{
	jw_sep(w);
	jw_esc(w, (const unsigned char *)s, strlen(s));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_esc(w, (const unsigned char *)s, n);
}

/* misuse (not a string token) stops the writer like a failed realloc */
void
jw_str_tok(struct jw *w, const struct json *j, int i)
{
	const char	*p;
	size_t		 n;

	if (i < 0 || i >= j->ntok || j->t[i].type != JSMN_STRING) {
		w->err = 1;
		return;
	}
	p = json_text(j, i, &n);
	jw_sep(w);
	jw_put(w, p, n);
}

static void
jw_u64(struct jw *w, uint64_t u, int neg)
{
	char	 b[24], *p = b + sizeof(b);

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	jw_sep(w);
	jw_put(w, p, (size_t)(b + sizeof(b) - p));
}

void
jw_int(struct jw *w, int64_t v)
{
	if (v < 0)
		jw_u64(w, -(uint64_t)v, 1);
	else
		jw_u64(w, (uint64_t)v, 0);
}

void
jw_uint(struct jw *w, uint64_t v)
{
	jw_u64(w, v, 0);
}

/* the shortest of %.15g, %.16g, %.17g that reads back the same */
void
jw_double(struct jw *w, double d)
{
	char	 b[40];
	int	 prec, n = 0, i;

	if (!isfinite(d)) {
		jw_null(w);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(b, sizeof(b), "%.*g", prec, d);
		if (strtod(b, NULL) == d)
			break;
	}
	/* a setlocale() elsewhere must not put a decimal comma in JSON */
	for (i = 0; i < n; i++)
		if (b[i] == ',')
			b[i] = '.';
	jw_sep(w);
	jw_put(w, b, (size_t)n);
}

void
jw_bool(struct jw *w, int v)
{
	jw_sep(w);
	if (v)
		jw_put(w, "true", 4);
	else
		jw_put(w, "false", 5);
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	jw_put(w, "null", 4);
}

void
jw_raw(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_put(w, s, n);
}

void
jw_raw_line(struct jw *w, const char *s, size_t n)
{
	size_t i;

	jw_raw(w, s, n);
	if (w->err)
		return;
	for (i = w->len - n; i < w->len; i++)
		if (w->buf[i] == '\n' || w->buf[i] == '\r')
			w->buf[i] = ' ';
}

void
jw_tok(struct jw *w, const struct json *j, int i)
{
	const char	*p;
	size_t		 n;

	if ((p = json_text(j, i, &n)) == NULL) {
		w->err = 1;
		return;
	}
	jw_raw(w, p, n);
}

void
jw_base64(struct jw *w, const void *data, size_t n)
{
	const unsigned char	*s = data;
	unsigned long		 v;
	size_t			 i;
	char			*o;

	jw_sep(w);
	if (n / 3 > (SIZE_MAX - 8) / 4) {
		w->err = 1;
		return;
	}
	if (jw_room(w, (n + 2) / 3 * 4 + 2) == -1)
		return;
	o = w->buf + w->len;
	*o++ = '"';
	for (i = 0; n - i >= 3; i += 3) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 |
		    s[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 0x3f];
		*o++ = b64[v >> 6 & 0x3f];
		*o++ = b64[v & 0x3f];
	}
	if (n - i == 1) {
		v = (unsigned long)s[i] << 16;
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 0x3f];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8;
		*o++ = b64[v >> 18];
		*o++ = b64[v >> 12 & 0x3f];
		*o++ = b64[v >> 6 & 0x3f];
		*o++ = '=';
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

void
jw_append(struct jw *w, const void *p, size_t n)
{
	jw_put(w, p, n);
}

void
jw_insert(struct jw *w, size_t off, const void *p, size_t n)
{
	if (off > w->len || jw_room(w, n) == -1)
		return;
	memmove(w->buf + off + n, w->buf + off, w->len - off + 1);
	memcpy(w->buf + off, p, n);
	w->len += n;
}
