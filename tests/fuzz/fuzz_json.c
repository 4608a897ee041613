/*
 * NAME
 *	fuzz_json.c -- libFuzzer target for the JSON tokenizer and writer
 *
 * DESCRIPTION
 *	Each input goes to json_parse() (common/json.c).  A document it accepts
 *	must have sane tokens, and written again with the jw_* writer (strings
 *	unescaped with json_unescape() and escaped again by jw_strn(), numbers
 *	copied with jw_tok()) it must parse again to the same token structure
 *	and the same strings; writing that once more must give the same
 *	bytes.  Then the input as raw bytes goes through jw_strn(), which must
 *	always give one valid JSON string that decodes to the input when the
 *	input is UTF-8.
 *
 *	Built with -DFUZZ_JSONC every input json.c accepts must also be
 *	accepted by json-c in strict mode (link with -ljson-c).
 *
 *	Build and run (clang; the runtime is in libclang-rt-14-dev; a
 *	config.h with _GNU_SOURCE in .; $SRC the top of the source tree):
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *	    -fno-sanitize-recover=undefined -I. -I$SRC/common -o fuzz_json \
 *	    $SRC/tests/fuzz/fuzz_json.c $SRC/common/json.c -lm
 *	./fuzz_json -max_total_time=60 -print_final_stats=1 corpus seeds
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FUZZ_JSONC
/* json-c's typedefs take two names json.h gives to functions */
#define json_type	jsonc_type
#define json_bool	jsonc_bool
#include <json-c/json.h>
#undef json_type
#undef json_bool
#endif

#include "json.h"

#define TOKS		4096

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static jsmntok_t	 t1[TOKS], t2[TOKS];
static struct jw	 w1, w2;

/* tokens in document order, inside the input, strings between quotes */
static void
sane(const struct json *j)
{
	const jsmntok_t	*t;
	int		 i;

	CHECK(j->ntok >= 1);
	CHECK(json_skip(j, 0) == j->ntok);
	CHECK(j->t[0].parent == -1);
	for (i = 0; i < j->ntok; i++) {
		t = &j->t[i];
		CHECK(t->start >= 0 && t->start < t->end + (t->type ==
		    JSMN_STRING) && (size_t)t->end <= j->len);
		CHECK(i == 0 || t->start > j->t[i - 1].start);
		CHECK(t->parent < i && (i == 0 || t->parent >= 0));
		CHECK(json_type(j, i) != JSON_NONE);
		if (t->type == JSMN_STRING) {
			CHECK(j->js[t->start - 1] == '"');
			CHECK(j->js[t->end] == '"');
		}
	}
}

/* the document again through the writer, walking tokens without recursion */
static void
emit(struct jw *w, const struct json *j, char *buf, size_t buflen)
{
	const jsmntok_t	*t;
	int		 stack[JSON_DEPTH_MAX];
	int		 sp = 0, i, n, p;

	for (i = 0; i < j->ntok; i++) {
		t = &j->t[i];
		for (; sp > 0 && j->t[stack[sp - 1]].end <= t->start; sp--) {
			if (j->t[stack[sp - 1]].type == JSMN_OBJECT)
				jw_obj_end(w);
			else
				jw_arr_end(w);
		}
		p = t->parent;
		if (p >= 0 && j->t[p].type == JSMN_OBJECT) {
			CHECK(t->type == JSMN_STRING && t->size == 1);
			CHECK(json_unescape(j, i, buf, buflen) >= 0);
			jw_key(w, buf);
			continue;
		}
		switch (json_type(j, i)) {
		case JSON_OBJECT:
		case JSON_ARRAY:
			CHECK(sp < JSON_DEPTH_MAX);
			stack[sp++] = i;
			if (t->type == JSMN_OBJECT)
				jw_obj(w);
			else
				jw_arr(w);
			break;
		case JSON_STRING:
			CHECK((n = json_unescape(j, i, buf, buflen)) >= 0);
			jw_strn(w, buf, (size_t)n);
			break;
		case JSON_NUMBER:
			jw_tok(w, j, i);
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			jw_bool(w, json_type(j, i) == JSON_TRUE);
			break;
		case JSON_NULL:
			jw_null(w);
			break;
		default:
			CHECK(!"token type");
		}
	}
	for (; sp > 0; sp--) {
		if (j->t[stack[sp - 1]].type == JSMN_OBJECT)
			jw_obj_end(w);
		else
			jw_arr_end(w);
	}
	CHECK(w->err == 0 && w->depth == 0);
}

/* the same structure and strings; keys with a NUL lose their tail */
static void
same(const struct json *a, const struct json *b, char *ba, char *bb,
    size_t buflen)
{
	const char	*pa, *pb;
	size_t		 la, lb;
	int		 i, na, nb, key;

	CHECK(a->ntok == b->ntok);
	for (i = 0; i < a->ntok; i++) {
		CHECK(a->t[i].type == b->t[i].type);
		CHECK(a->t[i].size == b->t[i].size);
		CHECK(a->t[i].parent == b->t[i].parent);
		CHECK(json_type(a, i) == json_type(b, i));
		switch (json_type(a, i)) {
		case JSON_STRING:
			na = json_unescape(a, i, ba, buflen);
			nb = json_unescape(b, i, bb, buflen);
			CHECK(na >= 0 && nb >= 0);
			key = a->t[i].parent >= 0 &&
			    a->t[a->t[i].parent].type == JSMN_OBJECT;
			if (key && strlen(ba) != (size_t)na)
				na = (int)strlen(ba);
			CHECK(na == nb && memcmp(ba, bb, (size_t)na) == 0);
			break;
		case JSON_NUMBER:
			pa = json_raw(a, i, &la);
			pb = json_raw(b, i, &lb);
			CHECK(la == lb && memcmp(pa, pb, la) == 0);
			break;
		default:
			break;
		}
	}
}

/* UTF-8 by code points, apart from json.c's table of first bytes */
static int
is_utf8(const uint8_t *s, size_t n)
{
	static const uint32_t	 min[] = { 0, 0x80, 0x800, 0x10000 };
	uint32_t		 cp;
	size_t			 i, k, len;

	for (i = 0; i < n; i += len) {
		if (s[i] < 0x80)
			len = 1;
		else if ((s[i] & 0xe0) == 0xc0)
			len = 2;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4;
		else
			return 0;
		if (n - i < len)
			return 0;
		cp = len == 1 ? s[i] : s[i] & (0x7f >> len);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min[len - 1] || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

#ifdef FUZZ_JSONC
/*
 * One way only: json-c, strict and UTF-8 checked, still takes raw control
 * characters, NaN, "1.", lone surrogates and overlong or surrogate UTF-8,
 * so what it accepts proves nothing.  What json.c accepts, it must too.
 */
static void
diff_jsonc(const uint8_t *data, size_t size, int r)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 e;
	size_t			 end;

	if (r != JSON_OK || size > INT32_MAX)
		return;
	if ((tok = json_tokener_new_ex(JSON_DEPTH_MAX + 1)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue) {
		/* a bare number may still be going on: end the input */
		json_object_put(o);
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		end = size;
	}
	for (; e == json_tokener_success && end < size; end++)
		if (strchr(" \t\r\n", data[end]) == NULL || data[end] == '\0')
			e = json_tokener_error_parse_unexpected;
	if (e != json_tokener_success) {
		fprintf(stderr, "json.c accepts, json-c: %s\n",
		    json_tokener_error_desc(e));
		abort();
	}
	json_object_put(o);
	json_tokener_free(tok);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json	 a, b;
	char		*ba, *bb;
	size_t		 buflen = size + 1;
	int		 r, n;

	if ((ba = malloc(buflen)) == NULL || (bb = malloc(buflen)) == NULL)
		abort();
	r = json_parse(&a, (const char *)data, size, t1, TOKS);
	CHECK(r == JSON_OK || r == JSON_E_SYNTAX || r == JSON_E_TOKENS ||
	    r == JSON_E_DEPTH || r == JSON_E_DUPKEY);
#ifdef FUZZ_JSONC
	diff_jsonc(data, size, r);
#endif
	if (r == JSON_OK) {
		sane(&a);
		jw_reset(&w1);
		emit(&w1, &a, ba, buflen);
		r = json_parse(&b, w1.buf, w1.len, t2, TOKS);
		if (r != JSON_OK)
			fprintf(stderr, "%d: %.*s\n", r, (int)w1.len, w1.buf);
		CHECK(r == JSON_OK);
		sane(&b);
		same(&a, &b, ba, bb, buflen);
		jw_reset(&w2);
		emit(&w2, &b, ba, buflen);
		CHECK(w1.len == w2.len && memcmp(w1.buf, w2.buf, w1.len) == 0);
	}

	jw_reset(&w1);
	jw_strn(&w1, (const char *)data, size);
	CHECK(w1.err == 0);
	CHECK(json_parse(&b, w1.buf, w1.len, t2, 1) == JSON_OK);
	CHECK(json_type(&b, 0) == JSON_STRING);
	if (is_utf8(data, size)) {
		free(ba);
		if ((ba = malloc(w1.len)) == NULL)
			abort();
		n = json_unescape(&b, 0, ba, w1.len);
		CHECK(n >= 0 && (size_t)n == size && memcmp(ba, data, size) == 0);
	}
	free(ba);
	free(bb);
	return 0;
}
