/*
 * NAME
 *	check_json.c -- unit tests of the JSON tokenizer and writer
 *
 * DESCRIPTION
 *	json_parse() (common/json.c) against tables of valid and invalid
 *	documents, each case its own test: every escape, surrogate pairs,
 *	UTF-8 of every length, numbers of every shape, the depth limit on
 *	both sides, the token limit, and all the ways jsmn alone would let
 *	bad text through.  Then the lookups on escaped keys and values, the
 *	integer bounds, json_skip, and the writer: commas, nesting, escaping,
 *	base64 vectors, copying tokens, a round trip through the parser, and
 *	jw_reset keeping its buffer.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define TOKS		4096

struct jcase {
	const char	*s;
	size_t		 len;
	int		 want;
};
#define C(s, e)		{ s, sizeof(s) - 1, e }

static struct json	 j;
static jsmntok_t	 toks[TOKS];

static int
parse_n(const char *s, size_t n)
{
	return json_parse(&j, s, n, toks, TOKS);
}

static int
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

/* n nested containers, alternating {"k": and [, around a 1 */
static char *
nested(int n)
{
	char	*s, *p;
	int	 i;

	ck_assert_ptr_nonnull(s = malloc((size_t)n * 6 + 2));
	p = s;
	for (i = 0; i < n; i++) {
		if (i % 2 == 0) {
			memcpy(p, "{\"k\":", 5);
			p += 5;
		} else
			*p++ = '[';
	}
	*p++ = '1';
	for (i = n - 1; i >= 0; i--)
		*p++ = i % 2 == 0 ? '}' : ']';
	*p = '\0';
	return s;
}

static const struct jcase valid[] = {
	C("{}", 1),
	C("[]", 1),
	C(" \t\r\n{ \t\r\n} \t\r\n", 1),
	C("[ ]", 1),
	C("{\"a\":1}", 3),
	C("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", 7),
	C("[1,2,3]", 4),
	C("[[],{},\"\",[[]]]", 6),
	C("{\"\":\"\"}", 3),
	C("{\"a\":1,\"\\u0062\":2}", 5),
	C("{\"a\":{\"b\":[1,{\"c\":null}]}}", 9),
	C("\"str\"", 1),
	C("\"\"", 1),
	C("0", 1),
	C("-0", 1),
	C("1", 1),
	C("-1", 1),
	C("1234567890", 1),
	C("1.5", 1),
	C("-1.5e10", 1),
	C("0.0", 1),
	C("0e0", 1),
	C("1E5", 1),
	C("1e+5", 1),
	C("1e-5", 1),
	C("-0.0E-0", 1),
	C("12.340e+012", 1),
	C("123456789012345678901234567890", 1),
	C("[0,-0,0.5,-0.5,1e1,1E+1,1e-1,10,-10]", 10),
	C("true", 1),
	C("false", 1),
	C("null", 1),
	C(" 1 ", 1),
	C("\n[true,false,null]\n", 4),
	C("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 1),
	C("\"\\u0041\\u00e9\\u20AC\\uffff\\u0000\"", 1),
	C("\"\\ud83d\\ude00\"", 1),
	C("\"\\uD834\\uDD1E\"", 1),
	C("\"\\udbff\\udfff\"", 1),
	C("\"\xc3\xa9\"", 1),			/* é */
	C("\"\xe2\x82\xac\"", 1),			/* € */
	C("\"\xef\xbf\xbf\"", 1),			/* U+FFFF */
	C("\"\xf0\x9f\x98\x80\"", 1),		/* U+1F600 */
	C("\"\xf4\x8f\xbf\xbf\"", 1),		/* U+10FFFF */
	C("\"\xed\x9f\xbf\xee\x80\x80\"", 1),	/* around the surrogates */
	C("\"\x7f\"", 1),
	C("{\"\xf0\x9f\x98\x80\":[\"\xe2\x82\xac\"]}", 4),
};

static const struct jcase invalid[] = {
	C("", JSON_E_SYNTAX),
	C(" ", JSON_E_SYNTAX),
	C(" \t\r\n", JSON_E_SYNTAX),
	C("[1,]", JSON_E_SYNTAX),
	C("{\"a\":1,}", JSON_E_SYNTAX),
	C("[,1]", JSON_E_SYNTAX),
	C("[1,,2]", JSON_E_SYNTAX),
	C("[1 2]", JSON_E_SYNTAX),
	C("{,}", JSON_E_SYNTAX),
	C("{\"a\":1,,\"b\":2}", JSON_E_SYNTAX),
	C("{\"a\":1 \"b\":2}", JSON_E_SYNTAX),
	C("01", JSON_E_SYNTAX),
	C("-01", JSON_E_SYNTAX),
	C("00", JSON_E_SYNTAX),
	C("[00]", JSON_E_SYNTAX),
	C("+1", JSON_E_SYNTAX),
	C(".5", JSON_E_SYNTAX),
	C("1.", JSON_E_SYNTAX),
	C("[1.]", JSON_E_SYNTAX),
	C("1.e5", JSON_E_SYNTAX),
	C("1e", JSON_E_SYNTAX),
	C("1e+", JSON_E_SYNTAX),
	C("[1E-]", JSON_E_SYNTAX),
	C("-", JSON_E_SYNTAX),
	C("[-]", JSON_E_SYNTAX),
	C("- 1", JSON_E_SYNTAX),
	C("0x10", JSON_E_SYNTAX),
	C("1_000", JSON_E_SYNTAX),
	C("[1e5.0]", JSON_E_SYNTAX),
	C("NaN", JSON_E_SYNTAX),
	C("[NaN]", JSON_E_SYNTAX),
	C("Infinity", JSON_E_SYNTAX),
	C("[-Infinity]", JSON_E_SYNTAX),
	C("[nan]", JSON_E_SYNTAX),
	C("True", JSON_E_SYNTAX),
	C("tru", JSON_E_SYNTAX),
	C("[truex]", JSON_E_SYNTAX),
	C("[nul]", JSON_E_SYNTAX),
	C("[true false]", JSON_E_SYNTAX),
	C("'a'", JSON_E_SYNTAX),
	C("['a']", JSON_E_SYNTAX),
	C("{'a':1}", JSON_E_SYNTAX),
	C("{a:1}", JSON_E_SYNTAX),
	C("{1:1}", JSON_E_SYNTAX),
	C("{null:1}", JSON_E_SYNTAX),
	C("{[]:1}", JSON_E_SYNTAX),
	C("{\"a\"}", JSON_E_SYNTAX),
	C("{\"a\":}", JSON_E_SYNTAX),
	C("{\"a\" 1}", JSON_E_SYNTAX),
	C("{\"a\"::1}", JSON_E_SYNTAX),
	C("{\"a\":1:2}", JSON_E_SYNTAX),
	C("[\"a\":1]", JSON_E_SYNTAX),
	C("{\"a\",\"b\"}", JSON_E_SYNTAX),
	C("[}", JSON_E_SYNTAX),
	C("{]", JSON_E_SYNTAX),
	C("]", JSON_E_SYNTAX),
	C("}", JSON_E_SYNTAX),
	C("[", JSON_E_SYNTAX),
	C("{", JSON_E_SYNTAX),
	C("[1", JSON_E_SYNTAX),
	C("[[]", JSON_E_SYNTAX),
	C("{}}", JSON_E_SYNTAX),
	C("[]]", JSON_E_SYNTAX),
	C(":", JSON_E_SYNTAX),
	C(",", JSON_E_SYNTAX),
	C("\"abc", JSON_E_SYNTAX),
	C("\"", JSON_E_SYNTAX),
	C("\"\\", JSON_E_SYNTAX),
	C("\"\\\"", JSON_E_SYNTAX),
	C("\"a\x01" "b\"", JSON_E_SYNTAX),
	C("\"a\nb\"", JSON_E_SYNTAX),
	C("\"a\tb\"", JSON_E_SYNTAX),
	C("\"\x1f\"", JSON_E_SYNTAX),
	C("\"\\x41\"", JSON_E_SYNTAX),
	C("\"\\a\"", JSON_E_SYNTAX),
	C("\"\\U0041\"", JSON_E_SYNTAX),
	C("\"\\'\"", JSON_E_SYNTAX),
	C("\"\\u12\"", JSON_E_SYNTAX),
	C("\"\\u12G4\"", JSON_E_SYNTAX),
	C("\"\\u\"", JSON_E_SYNTAX),
	C("\"\\ud800\"", JSON_E_SYNTAX),
	C("\"\\udbff\"", JSON_E_SYNTAX),
	C("\"\\udc00\"", JSON_E_SYNTAX),
	C("\"\\udfff\\ud800\"", JSON_E_SYNTAX),
	C("\"\\ud800\\u0041\"", JSON_E_SYNTAX),
	C("\"\\ud800\\ud800\"", JSON_E_SYNTAX),
	C("\"\\ud800x\"", JSON_E_SYNTAX),
	C("\"\\ud800\\n\"", JSON_E_SYNTAX),
	C("\"\\ud800\\u00\"", JSON_E_SYNTAX),
	C("\"\xc0\x80\"", JSON_E_SYNTAX),		/* overlong NUL */
	C("\"\xc1\xbf\"", JSON_E_SYNTAX),		/* overlong 0x7f */
	C("\"\xe0\x80\xaf\"", JSON_E_SYNTAX),	/* overlong '/' */
	C("\"\xe0\x9f\xbf\"", JSON_E_SYNTAX),	/* overlong U+07FF */
	C("\"\xf0\x80\x80\xaf\"", JSON_E_SYNTAX),
	C("\"\xf0\x8f\xbf\xbf\"", JSON_E_SYNTAX),	/* overlong U+FFFF */
	C("\"\xc0\"", JSON_E_SYNTAX),
	C("\"\xff\"", JSON_E_SYNTAX),
	C("\"\xfe\"", JSON_E_SYNTAX),
	C("\"\x80\"", JSON_E_SYNTAX),		/* lone continuation */
	C("\"\xbf\"", JSON_E_SYNTAX),
	C("\"\xc3\"", JSON_E_SYNTAX),		/* truncated */
	C("\"\xe2\x82\"", JSON_E_SYNTAX),
	C("\"\xf0\x9f\x98\"", JSON_E_SYNTAX),
	C("\"\xe2\x82", JSON_E_SYNTAX),		/* truncated at the end */
	C("\"\xc3\x28\"", JSON_E_SYNTAX),		/* bad continuation */
	C("\"\xe2\x28\xa1\"", JSON_E_SYNTAX),
	C("\"\xed\xa0\x80\"", JSON_E_SYNTAX),	/* U+D800 in UTF-8 */
	C("\"\xed\xbf\xbf\"", JSON_E_SYNTAX),	/* U+DFFF in UTF-8 */
	C("\"\xed\xa0\xbd\xed\xb8\x80\"", JSON_E_SYNTAX), /* CESU-8 */
	C("\"\xf4\x90\x80\x80\"", JSON_E_SYNTAX),	/* U+110000 */
	C("\"\xf5\x80\x80\x80\"", JSON_E_SYNTAX),
	C("\"\xf8\x88\x80\x80\x80\"", JSON_E_SYNTAX),
	C("{\"\xff\":1}", JSON_E_SYNTAX),
	C("1 2", JSON_E_SYNTAX),
	C("{} {}", JSON_E_SYNTAX),
	C("[][]", JSON_E_SYNTAX),
	C("\"a\" \"b\"", JSON_E_SYNTAX),
	C("{},", JSON_E_SYNTAX),
	C("[]x", JSON_E_SYNTAX),
	C("{} x", JSON_E_SYNTAX),
	C("1x", JSON_E_SYNTAX),
	C("true1", JSON_E_SYNTAX),
	C("{}\0", JSON_E_SYNTAX),
	C("{}\0{}", JSON_E_SYNTAX),
	C("\"a\0b\"", JSON_E_SYNTAX),
	C("[1\0]", JSON_E_SYNTAX),
	C("\0", JSON_E_SYNTAX),
	C("\xef\xbb\xbf{}", JSON_E_SYNTAX),	/* BOM */
	C("{}\f", JSON_E_SYNTAX),
	C("\v[]", JSON_E_SYNTAX),
	C("[\xc2\xa0]", JSON_E_SYNTAX),		/* NBSP is not whitespace */
	C("/**/{}", JSON_E_SYNTAX),
	C("{}//", JSON_E_SYNTAX),
	/* a key twice: JavaScript and Python take the last, we would not */
	C("{\"a\":1,\"a\":2}", JSON_E_DUPKEY),
	C("{\"a\":1,\"\\u0061\":2}", JSON_E_DUPKEY),
	C("{\"x\":[{\"b\":1,\"c\":0,\"b\":1}]}", JSON_E_DUPKEY),
	C("{\"\":1,\"\":1}", JSON_E_DUPKEY),
};

START_TEST(test_valid)
{
	const struct jcase	*c = &valid[_i];
	int			 r;

	r = parse_n(c->s, c->len);
	ck_assert_msg(r == JSON_OK, "valid[%d] %s: %s", _i, c->s,
	    json_strerror(r));
	ck_assert_int_eq(j.ntok, c->want);
	ck_assert_ptr_eq(j.js, c->s);
	ck_assert_uint_eq(j.len, c->len);
	ck_assert_int_ne(json_type(&j, 0), JSON_NONE);
	ck_assert_int_eq(json_skip(&j, 0), j.ntok);
}
END_TEST

START_TEST(test_invalid)
{
	const struct jcase	*c = &invalid[_i];
	int			 r;

	r = parse_n(c->s, c->len);
	ck_assert_msg(r == c->want, "invalid[%d] \"%s\": got %d", _i, c->s, r);
	ck_assert_int_eq(j.ntok, 0);
}
END_TEST

/*
 * json_parse writes the tokens jsmn (strict, parent links) would: compare
 * them, token by token, on s.
 */
static void
same_as_jsmn(const char *s, size_t n)
{
	static jsmntok_t	 ref[TOKS];
	jsmn_parser		 p;
	int			 r, i;

	ck_assert_int_eq(parse_n(s, n), JSON_OK);
	jsmn_init(&p);
	r = jsmn_parse(&p, s, n, ref, TOKS);
	if (r < 0) {
		/* strict jsmn cannot end a document with a bare scalar */
		ck_assert_int_eq(j.ntok, 1);
		ck_assert_int_eq(toks[0].type, JSMN_PRIMITIVE);
		return;
	}
	ck_assert_msg(r == j.ntok, "%.*s: %d tokens, jsmn %d", (int)n, s,
	    j.ntok, r);
	for (i = 0; i < r; i++) {
		ck_assert_msg(toks[i].type == ref[i].type &&
		    toks[i].start == ref[i].start && toks[i].end == ref[i].end &&
		    toks[i].size == ref[i].size &&
		    toks[i].parent == ref[i].parent,
		    "%.*s: token %d is %d [%d,%d) size %d parent %d, jsmn's "
		    "%d [%d,%d) size %d parent %d", (int)n, s, i, toks[i].type,
		    toks[i].start, toks[i].end, toks[i].size, toks[i].parent,
		    ref[i].type, ref[i].start, ref[i].end, ref[i].size,
		    ref[i].parent);
	}
}

START_TEST(test_tokens_as_jsmn)
{
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		same_as_jsmn(valid[i].s, valid[i].len);
}
END_TEST

/* a random document of depth at most d into buf */
static void
random_value(char *buf, size_t *n, size_t cap, int d)
{
	static const char *const scalars[] = {
		"0", "-1.5e3", "true", "false", "null", "\"\"", "\"a\\\"b\"",
		"\"\\u00e9t\u00e9\"", " 12 ", "\"x\""
	};
	int	 k, m;

	if (*n + 64 >= cap)
		d = 0;
	k = d > 0 ? random() % 4 : 3;
	if (k == 0 || k == 1) {
		buf[(*n)++] = k == 0 ? '{' : '[';
		m = random() % 4;
		while (m-- > 0 && *n + 64 < cap) {
			if (k == 0) {
				/* a key once in its object */
				*n += (size_t)snprintf(buf + *n, cap - *n,
				    "\"k%d\" : ", m);
			}
			random_value(buf, n, cap, d - 1);
			if (m > 0)
				buf[(*n)++] = ',';
		}
		if (buf[*n - 1] == ',')
			(*n)--;
		buf[(*n)++] = k == 0 ? '}' : ']';
	} else {
		const char *sc = scalars[random() % (sizeof(scalars) /
		    sizeof(scalars[0]))];

		memcpy(buf + *n, sc, strlen(sc));
		*n += strlen(sc);
	}
}

START_TEST(test_tokens_random)
{
	char	buf[4096];
	size_t	n;
	int	i;

	srandom(1);
	for (i = 0; i < 5000; i++) {
		n = 0;
		buf[n++] = '{';
		buf[n++] = '"';
		buf[n++] = 'r';
		buf[n++] = '"';
		buf[n++] = ':';
		random_value(buf, &n, sizeof(buf) - 2, 1 + i % 8);
		buf[n++] = '}';
		buf[n] = '\0';
		same_as_jsmn(buf, n);
	}
}
END_TEST

/* Objects of many keys: a key twice anywhere among them is found. */
START_TEST(test_dup_keys_large)
{
	char	buf[8192];
	size_t	n;
	int	i, keys = 40 + _i * 300;

	n = 0;
	buf[n++] = '{';
	for (i = 0; i < keys; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"k%d\":%d",
		    i ? "," : "", i, i);
	buf[n++] = '}';
	ck_assert_int_eq(parse_n(buf, n), JSON_OK);
	/* the first key again, last, escaped: it is the same key */
	n--;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"\\u006b0\":1}");
	ck_assert_int_eq(parse_n(buf, n), JSON_E_DUPKEY);
}
END_TEST

/* Past maxtoks: JSON_E_TOKENS, but a syntax error after it wins. */
START_TEST(test_tokens_full)
{
	static const char	 ok[] = "[1,2,3,4,5]", bad[] = "[1,2,3,4,5,]";
	jsmntok_t		 few[6];

	ck_assert_int_eq(json_parse(&j, ok, sizeof(ok) - 1, few, 3),
	    JSON_E_TOKENS);
	ck_assert_int_eq(json_parse(&j, ok, sizeof(ok) - 1, few, 6), JSON_OK);
	ck_assert_int_eq(json_parse(&j, bad, sizeof(bad) - 1, few, 3),
	    JSON_E_SYNTAX);
	ck_assert_int_eq(json_parse(&j, ok, sizeof(ok) - 1, few, 0),
	    JSON_E_TOKENS);
}
END_TEST

/* one byte or escape at every offset of the 8-byte blocks strings are read in */
START_TEST(test_string_offsets)
{
	static const struct {
		const char	*ins;
		int		 ok;
	} sp[] = {
		{ "\x01", 0 }, { "\x1f", 0 }, { "\xff", 0 }, { "\x80", 0 },
		{ "\xc3", 0 }, { "\\x", 0 }, { "\\u12g", 0 }, { "\x20", 1 },
		{ "\x7f", 1 }, { "!", 1 }, { "#", 1 }, { "[", 1 }, { "]", 1 },
		{ "\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 },
		{ "\xf0\x9f\x98\x80", 1 }, { "\\n", 1 }, { "\\\"", 1 },
		{ "\\u00e9", 1 }, { "\\ud83d\\ude00", 1 },
	};
	char	 buf[64], out[64];
	size_t	 i, k, n, il;
	int	 r;

	for (i = 0; i < sizeof(sp) / sizeof(sp[0]); i++) {
		il = strlen(sp[i].ins);
		for (k = 0; k < 20; k++) {
			for (n = 24; n < 28; n++) {
				buf[0] = '"';
				memset(buf + 1, 'a', k);
				memcpy(buf + 1 + k, sp[i].ins, il);
				memset(buf + 1 + k + il, 'b', n - k);
				buf[1 + il + n] = '"';
				r = parse_n(buf, il + n + 2);
				ck_assert_msg(r == (sp[i].ok ? JSON_OK :
				    JSON_E_SYNTAX), "ins %zu at %zu of %zu", i,
				    k, n);
				if (r == JSON_OK)
					ck_assert_int_gt(json_strcpy(&j, 0, out,
					    sizeof(out)), 0);
				/* and cut short before the closing quote */
				r = parse_n(buf, il + n + 1);
				ck_assert_int_eq(r, JSON_E_SYNTAX);
			}
		}
	}
}
END_TEST

START_TEST(test_types)
{
	ck_assert_int_eq(parse("[{},[],\"s\",1,-2.5e3,true,false,null]"),
	    JSON_OK);
	ck_assert_int_eq(json_type(&j, 0), JSON_ARRAY);
	ck_assert_int_eq(json_type(&j, 1), JSON_OBJECT);
	ck_assert_int_eq(json_type(&j, 2), JSON_ARRAY);
	ck_assert_int_eq(json_type(&j, 3), JSON_STRING);
	ck_assert_int_eq(json_type(&j, 4), JSON_NUMBER);
	ck_assert_int_eq(json_type(&j, 5), JSON_NUMBER);
	ck_assert_int_eq(json_type(&j, 6), JSON_TRUE);
	ck_assert_int_eq(json_type(&j, 7), JSON_FALSE);
	ck_assert_int_eq(json_type(&j, 8), JSON_NULL);
	ck_assert_int_eq(json_type(&j, 9), JSON_NONE);
	ck_assert_int_eq(json_type(&j, -1), JSON_NONE);
	ck_assert_int_eq(toks[0].size, 8);
	ck_assert_int_eq(toks[3].parent, 0);
}
END_TEST

START_TEST(test_top_level_scalars)
{
	size_t	 n;
	int64_t	 v;
	int	 b;

	/* strict jsmn cannot end a document on a number: json.c does */
	ck_assert_int_eq(parse("  -42\n"), JSON_OK);
	ck_assert_int_eq(j.ntok, 1);
	ck_assert_int_eq(json_int64(&j, 0, &v), 0);
	ck_assert_int_eq(v, -42);
	ck_assert(memcmp(json_raw(&j, 0, &n), "-42", 3) == 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(toks[0].parent, -1);
	ck_assert_int_eq(parse("false"), JSON_OK);
	ck_assert_int_eq(json_bool(&j, 0, &b), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(json_parse(&j, "1", 1, toks, 0), JSON_E_TOKENS);
}
END_TEST

START_TEST(test_depth)
{
	char	*s;

	s = nested(JSON_DEPTH_MAX);
	ck_assert_int_eq(parse(s), JSON_OK);
	ck_assert_int_eq(j.ntok, JSON_DEPTH_MAX + JSON_DEPTH_MAX / 2 + 1);
	free(s);
	s = nested(JSON_DEPTH_MAX + 1);
	ck_assert_int_eq(parse(s), JSON_E_DEPTH);
	free(s);
}
END_TEST

START_TEST(test_depth_arrays)
{
	char	 s[2 * (JSON_DEPTH_MAX + 1) + 1];
	int	 n;

	for (n = JSON_DEPTH_MAX; n <= JSON_DEPTH_MAX + 1; n++) {
		memset(s, '[', (size_t)n);
		memset(s + n, ']', (size_t)n);
		s[2 * n] = '\0';
		ck_assert_int_eq(parse(s), n > JSON_DEPTH_MAX ?
		    JSON_E_DEPTH : JSON_OK);
	}
}
END_TEST

/* jsmn alone would take time quadratic in this depth */
START_TEST(test_depth_huge)
{
	size_t	 n = 1 << 20;
	char	*s;

	ck_assert_ptr_nonnull(s = malloc(2 * n));
	memset(s, '[', n);
	memset(s + n, ']', n);
	ck_assert_int_eq(parse_n(s, 2 * n), JSON_E_DEPTH);
	free(s);
}
END_TEST

START_TEST(test_tokens)
{
	jsmntok_t	 t[4];
	char		*s, *p;
	int		 i;

	ck_assert_int_eq(json_parse(&j, "[1,2,3]", 7, t, 3), JSON_E_TOKENS);
	ck_assert_int_eq(json_parse(&j, "[1,2,3]", 7, t, 4), JSON_OK);
	ck_assert_int_eq(j.ntok, 4);
	ck_assert_int_eq(json_parse(&j, "{\"a\":1}", 7, t, 2), JSON_E_TOKENS);
	ck_assert_int_eq(json_parse(&j, "{}", 2, t, 0), JSON_E_TOKENS);
	/* syntax errors win over running out of tokens */
	ck_assert_int_eq(json_parse(&j, "[1,2,]", 6, t, 2), JSON_E_SYNTAX);

	ck_assert_ptr_nonnull(s = malloc(2 * TOKS + 2));
	p = s;
	*p++ = '[';
	for (i = 0; i < TOKS; i++) {
		*p++ = '0';
		*p++ = ',';
	}
	p[-1] = ']';
	ck_assert_int_eq(parse_n(s, (size_t)(p - s)), JSON_E_TOKENS);
	/* one value less fits exactly */
	memcpy(p - 3, "]", 1);
	ck_assert_int_eq(parse_n(s, (size_t)(p - s - 2)), JSON_OK);
	ck_assert_int_eq(j.ntok, TOKS);
	free(s);
}
END_TEST

START_TEST(test_get)
{
	const char	*doc = "{\"a\\u0062c\":1, \"x\\\"y\":2, "
	    "\"\\u00e9t\\u00E9\":3, \"tab\\t\":4, \"ab\":5, \"\\/\":6, "
	    "\"\\ud83d\\ude00\":7, \"plain\":8, \"nul\\u0000\":9}";
	int64_t		 v;

	ck_assert_int_eq(parse(doc), JSON_OK);
#define GET(k, want) do {						\
	int vi = json_get(&j, 0, k);					\
	ck_assert_msg(vi > 0, "key %s", k);				\
	ck_assert_int_eq(json_int64(&j, vi, &v), 0);			\
	ck_assert_int_eq(v, want);					\
} while (0)
	GET("abc", 1);
	GET("x\"y", 2);
	GET("\xc3\xa9t\xc3\xa9", 3);
	GET("tab\t", 4);
	GET("ab", 5);
	GET("/", 6);
	GET("\xf0\x9f\x98\x80", 7);
	GET("plain", 8);
#undef GET
	ck_assert_int_eq(json_get(&j, 0, "a"), -1);
	ck_assert_int_eq(json_get(&j, 0, "abcd"), -1);
	ck_assert_int_eq(json_get(&j, 0, "plai"), -1);
	ck_assert_int_eq(json_get(&j, 0, "nul"), -1);
	ck_assert_int_eq(json_get(&j, 0, ""), -1);
	ck_assert_int_eq(json_get(&j, 1, "abc"), -1);	/* not an object */
	ck_assert_int_eq(json_get(&j, -1, "abc"), -1);
	ck_assert_int_eq(json_get(&j, 999, "abc"), -1);
}
END_TEST

START_TEST(test_get_nested)
{
	int64_t	 v;
	int	 p, n;

	ck_assert_int_eq(parse("{\"a\":{\"name\":1},\"b\":[{\"name\":2},"
	    "\"name\"],\"name\":3,\"c\":{}}"), JSON_OK);
	ck_assert_int_gt(n = json_get(&j, 0, "name"), 0);
	ck_assert_int_eq(json_int64(&j, n, &v), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_gt(p = json_get(&j, 0, "a"), 0);
	ck_assert_int_gt(n = json_get(&j, p, "name"), 0);
	ck_assert_int_eq(json_int64(&j, n, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_gt(p = json_get(&j, 0, "c"), 0);
	ck_assert_int_eq(json_get(&j, p, "name"), -1);
	ck_assert_int_eq(json_get(&j, 0, "d"), -1);
	/* duplicate keys: no value is picked, the document is refused */
	ck_assert_int_eq(parse("{\"k\":1,\"k\":2}"), JSON_E_DUPKEY);
	ck_assert_int_eq(j.ntok, 0);
}
END_TEST

START_TEST(test_streq)
{
	ck_assert_int_eq(parse("[\"he\\\"llo\\n\",\"\\u0041\\u00e9\","
	    "\"a\\u0000\",\"\",1,\"\\ud834\\udd1e\",\"\\\\\"]"), JSON_OK);
	ck_assert(json_streq(&j, 1, "he\"llo\n"));
	ck_assert(!json_streq(&j, 1, "he\"llo"));
	ck_assert(!json_streq(&j, 1, "he\"llo\n!"));
	ck_assert(!json_streq(&j, 1, "he\\\"llo\\n"));
	ck_assert(json_streq(&j, 2, "A\xc3\xa9"));
	ck_assert(!json_streq(&j, 2, "A\xc3"));
	ck_assert(!json_streq(&j, 3, "a"));
	ck_assert(json_streq(&j, 4, ""));
	ck_assert(!json_streq(&j, 4, "x"));
	ck_assert(!json_streq(&j, 5, "1"));		/* not a string */
	ck_assert(json_streq(&j, 6, "\xf0\x9d\x84\x9e"));
	ck_assert(json_streq(&j, 7, "\\"));
	ck_assert(!json_streq(&j, 0, ""));
	ck_assert(!json_streq(&j, 99, ""));
}
END_TEST

START_TEST(test_strcpy)
{
	char	 buf[64];
	size_t	 n;

	ck_assert_int_eq(parse("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\","
	    "\"\\u0041\\u00e9\\u20ac\\uFFFF\",\"\\ud83d\\ude00!\","
	    "\"x\\u0000y\",\"plain\",true,\"\xc3\xa9\"]"), JSON_OK);
	ck_assert_int_eq(json_strcpy(&j, 1, buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "\"\\/\b\f\n\r\t");
	ck_assert_int_eq(json_strcpy(&j, 2, buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "A\xc3\xa9\xe2\x82\xac\xef\xbf\xbf");
	ck_assert_int_eq(json_strcpy(&j, 3, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "\xf0\x9f\x98\x80!");
	/* \u0000: no C string holds it, so it is refused, not cut */
	ck_assert_int_eq(json_strcpy(&j, 4, buf, sizeof(buf)), -1);
	ck_assert_str_eq(buf, "");
	ck_assert(json_has_nul(&j, 4));
	ck_assert(!json_has_nul(&j, 1));
	ck_assert(!json_has_nul(&j, 6));	/* not a string */
	ck_assert_int_eq(json_strcpy(&j, 7, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "\xc3\xa9");
	/* exactly fitting, one short; the escapes count decoded */
	ck_assert_int_eq(json_strcpy(&j, 5, buf, 6), 5);
	ck_assert_str_eq(buf, "plain");
	ck_assert_int_eq(json_strcpy(&j, 5, buf, 5), -1);
	ck_assert_int_eq(json_strcpy(&j, 3, buf, 6), 5);
	ck_assert_int_eq(json_strcpy(&j, 3, buf, 5), -1);
	ck_assert_int_eq(json_strcpy(&j, 3, buf, 3), -1);
	ck_assert_int_eq(json_strcpy(&j, 5, buf, 0), -1);
	ck_assert_int_eq(json_strcpy(&j, 6, buf, sizeof(buf)), -1);
	ck_assert_int_eq(json_strcpy(&j, 0, buf, sizeof(buf)), -1);
	ck_assert_int_eq(json_strcpy(&j, 99, buf, sizeof(buf)), -1);
	ck_assert(memcmp(json_raw(&j, 5, &n), "plain", 5) == 0);
	ck_assert_uint_eq(n, 5);
	ck_assert(memcmp(json_text(&j, 5, &n), "\"plain\"", 7) == 0);
	ck_assert_uint_eq(n, 7);
	ck_assert(memcmp(json_text(&j, 6, &n), "true", 4) == 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_null(json_raw(&j, 99, &n));
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_int64)
{
	int64_t	 v;

	ck_assert_int_eq(parse("[9223372036854775807,-9223372036854775808,"
	    "9223372036854775808,-9223372036854775809,0,-0,1.0,1e2,"
	    "\"1\",99999999999999999999,42,-1]"), JSON_OK);
	ck_assert_int_eq(json_int64(&j, 1, &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(json_int64(&j, 2, &v), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(json_int64(&j, 3, &v), -1);
	ck_assert_int_eq(json_int64(&j, 4, &v), -1);
	ck_assert_int_eq(json_int64(&j, 5, &v), 0);
	ck_assert(v == 0);
	ck_assert_int_eq(json_int64(&j, 6, &v), 0);
	ck_assert(v == 0);
	ck_assert_int_eq(json_int64(&j, 7, &v), -1);
	ck_assert_int_eq(json_int64(&j, 8, &v), -1);
	ck_assert_int_eq(json_int64(&j, 9, &v), -1);
	ck_assert_int_eq(json_int64(&j, 10, &v), -1);
	ck_assert_int_eq(json_int64(&j, 11, &v), 0);
	ck_assert(v == 42);
	ck_assert_int_eq(json_int64(&j, 12, &v), 0);
	ck_assert(v == -1);
	ck_assert_int_eq(json_int64(&j, 0, &v), -1);
	ck_assert_int_eq(json_int64(&j, 13, &v), -1);
}
END_TEST

START_TEST(test_double)
{
	char	 big[700];
	double	 d;
	int	 b;

	ck_assert_int_eq(parse("[1.5,-2.5e-3,1e400,1e-400,42,0.1,"
	    "\"1\",null,true,-0]"), JSON_OK);
	ck_assert_int_eq(json_double(&j, 1, &d), 0);
	ck_assert(d == 1.5);
	ck_assert_int_eq(json_double(&j, 2, &d), 0);
	ck_assert(d == -2.5e-3);
	ck_assert_int_eq(json_double(&j, 3, &d), -1);
	ck_assert_int_eq(json_double(&j, 4, &d), 0);
	ck_assert(d == 0);
	ck_assert_int_eq(json_double(&j, 5, &d), 0);
	ck_assert(d == 42);
	ck_assert_int_eq(json_double(&j, 6, &d), 0);
	ck_assert(d == 0.1);
	ck_assert_int_eq(json_double(&j, 7, &d), -1);
	ck_assert_int_eq(json_double(&j, 8, &d), -1);
	ck_assert_int_eq(json_double(&j, 10, &d), 0);
	ck_assert(d == 0 && signbit(d));
	ck_assert_int_eq(json_bool(&j, 9, &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(json_bool(&j, 8, &b), -1);
	ck_assert_int_eq(json_bool(&j, 1, &b), -1);
	/* longer than json_double copies */
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(parse(big), JSON_OK);
	ck_assert_int_eq(json_double(&j, 0, &d), -1);
}
END_TEST

START_TEST(test_skip)
{
	int	 i, n;

	/*                      0 1 2 3 4 5 6  7   8  9   10   11 12 13 */
	ck_assert_int_eq(parse("[[1,[2,3]],{\"a\":{\"b\":[]}},\"s\",4,{}]"),
	    JSON_OK);
	ck_assert_int_eq(j.ntok, 14);
	ck_assert_int_eq(json_skip(&j, 0), 14);
	ck_assert_int_eq(json_skip(&j, 1), 6);
	ck_assert_int_eq(json_skip(&j, 3), 6);
	ck_assert_int_eq(json_skip(&j, 4), 5);
	ck_assert_int_eq(json_skip(&j, 6), 11);
	ck_assert_int_eq(json_skip(&j, 7), 8);	/* a key: its value next */
	ck_assert_int_eq(json_skip(&j, 8), 11);
	ck_assert_int_eq(json_skip(&j, 9), 10);
	ck_assert_int_eq(json_skip(&j, 11), 12);
	ck_assert_int_eq(json_skip(&j, 12), 13);
	ck_assert_int_eq(json_skip(&j, 13), 14);
	ck_assert_int_eq(json_skip(&j, 14), 14);
	ck_assert_int_eq(json_skip(&j, -1), 14);
	/* walking the children of the top array */
	for (i = 1, n = 0; i < j.ntok; i = json_skip(&j, i))
		n++;
	ck_assert_int_eq(n, toks[0].size);
	ck_assert_int_eq(json_type(&j, 11), JSON_STRING);
	ck_assert_int_eq(json_type(&j, 12), JSON_NUMBER);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(json_strerror(JSON_OK), "no error");
	ck_assert_ptr_nonnull(json_strerror(JSON_E_SYNTAX));
	ck_assert_ptr_nonnull(json_strerror(JSON_E_TOKENS));
	ck_assert_ptr_nonnull(json_strerror(JSON_E_DEPTH));
	ck_assert_ptr_nonnull(json_strerror(12345));
	ck_assert_str_ne(json_strerror(JSON_E_SYNTAX),
	    json_strerror(JSON_E_DEPTH));
}
END_TEST

static void
expect(struct jw *w, const char *want)
{
	ck_assert_int_eq(w->err, 0);
	ck_assert_uint_eq(w->len, strlen(want));
	ck_assert_msg(memcmp(w->buf, want, w->len) == 0, "got %.*s want %s",
	    (int)w->len, w->buf, want);
	ck_assert_int_eq(w->buf[w->len], '\0');
}

START_TEST(test_jw_commas)
{
	struct jw	 w;

	jw_init(&w);
	ck_assert_ptr_null(w.buf);
	jw_obj(&w);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_key(&w, "b");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_int(&w, 2);
	jw_obj(&w);
	jw_key(&w, "c");
	jw_null(&w);
	jw_obj_end(&w);
	jw_arr(&w);
	jw_arr_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "d");
	jw_obj(&w);
	jw_obj_end(&w);
	jw_key(&w, "e");
	jw_arr(&w);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_str(&w, "x");
	jw_uint(&w, 7);
	jw_arr_end(&w);
	jw_obj_end(&w);
	expect(&w, "{\"a\":1,\"b\":[1,2,{\"c\":null},[]],\"d\":{},"
	    "\"e\":[true,false,\"x\",7]}");
	ck_assert_int_eq(w.depth, 0);
	ck_assert_int_eq(parse_n(w.buf, w.len), JSON_OK);
	jw_free(&w);
	ck_assert_ptr_null(w.buf);
}
END_TEST

START_TEST(test_jw_escape)
{
	struct jw	 w;

	jw_init(&w);
	jw_str(&w, "\"\\\n\r\t\b\f\x01\x1f\x7f/ \xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80");
	expect(&w, "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/ "
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	jw_reset(&w);
	jw_strn(&w, "a\0b", 3);
	expect(&w, "\"a\\u0000b\"");
	jw_reset(&w);
	jw_obj(&w);
	jw_key(&w, "k\"\n");
	jw_str(&w, "");
	jw_obj_end(&w);
	expect(&w, "{\"k\\\"\\n\":\"\"}");
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_bad_utf8)
{
	static const char *bad[] = {
		"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\x80", "\xe2\x82", "\xf0\x9f\x98", "a\xc3", "\xc3(",
	};
	struct jw	 w;
	char		 buf[64];
	size_t		 i;
	int		 n;

	jw_init(&w);
	jw_strn(&w, "a\xff" "b\xc0\x80", 5);
	expect(&w, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jw_reset(&w);
		jw_str(&w, bad[i]);
		ck_assert_int_eq(w.err, 0);
		ck_assert_msg(parse_n(w.buf, w.len) == JSON_OK, "bad[%zu]", i);
		n = json_strcpy(&j, 0, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ck_assert_ptr_nonnull(strstr(buf, "\xef\xbf\xbd"));
	}
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_numbers)
{
	struct jw	 w;
	double		 d;
	int		 i;
	static const double vals[] = {
		0.1, 1.0 / 3, -2.5e-300, 1e300, 123456789.125, 5e-324,
		1.7976931348623157e308, -0.0, 3.0, 0.30000000000000004
	};

	jw_init(&w);
	jw_arr(&w);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_int(&w, 0);
	jw_int(&w, -7);
	jw_uint(&w, UINT64_MAX);
	jw_double(&w, NAN);
	jw_double(&w, INFINITY);
	jw_double(&w, -INFINITY);
	jw_double(&w, 0.1);
	jw_double(&w, 3.0);
	jw_arr_end(&w);
	expect(&w, "[-9223372036854775808,9223372036854775807,0,-7,"
	    "18446744073709551615,null,null,null,0.1,3]");
	jw_reset(&w);
	jw_arr(&w);
	for (i = 0; i < (int)(sizeof(vals) / sizeof(vals[0])); i++)
		jw_double(&w, vals[i]);
	jw_arr_end(&w);
	ck_assert_int_eq(parse_n(w.buf, w.len), JSON_OK);
	for (i = 0; i < (int)(sizeof(vals) / sizeof(vals[0])); i++) {
		ck_assert_int_eq(json_double(&j, i + 1, &d), 0);
		ck_assert_msg(d == vals[i] && !signbit(d) == !signbit(vals[i]),
		    "%.17g", vals[i]);
	}
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_base64)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} v[] = {
		{ "", 0, "\"\"" },
		{ "f", 1, "\"Zg==\"" },
		{ "fo", 2, "\"Zm8=\"" },
		{ "foo", 3, "\"Zm9v\"" },
		{ "foob", 4, "\"Zm9vYg==\"" },
		{ "fooba", 5, "\"Zm9vYmE=\"" },
		{ "foobar", 6, "\"Zm9vYmFy\"" },
		{ "\xfb\xff", 2, "\"+/8=\"" },
		{ "\0\0\0", 3, "\"AAAA\"" },
		{ "\xff\xff\xff\xff", 4, "\"/////w==\"" },
	};
	struct jw	 w;
	size_t		 i;

	jw_init(&w);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		jw_reset(&w);
		jw_base64(&w, v[i].in, v[i].len);
		expect(&w, v[i].out);
	}
	jw_reset(&w);
	jw_arr(&w);
	jw_base64(&w, "f", 1);
	jw_base64(&w, "", 0);
	jw_arr_end(&w);
	expect(&w, "[\"Zg==\",\"\"]");
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_copy)
{
	struct jw	 w;

	ck_assert_int_eq(parse(" {\"id\": 7, \"s\":\"a\\u00e9\\n\","
	    " \"o\" : { \"x\" : [1, 2] } }"), JSON_OK);
	jw_init(&w);
	jw_append(&w, "data: ", 6);
	jw_obj(&w);
	jw_key(&w, "id");
	jw_tok(&w, &j, json_get(&j, 0, "id"));
	jw_key(&w, "s");
	jw_str_tok(&w, &j, json_get(&j, 0, "s"));
	jw_key(&w, "o");
	jw_tok(&w, &j, json_get(&j, 0, "o"));
	jw_key(&w, "t");
	jw_tok(&w, &j, json_get(&j, 0, "s"));
	jw_key(&w, "r");
	jw_raw(&w, "[true]", 6);
	jw_obj_end(&w);
	jw_append(&w, "\n\n", 2);
	/* a second framed message: no comma at depth 0 */
	jw_append(&w, "data: ", 6);
	jw_arr(&w);
	jw_arr_end(&w);
	jw_append(&w, "\n\n", 2);
	expect(&w, "data: {\"id\":7,\"s\":\"a\\u00e9\\n\","
	    "\"o\":{ \"x\" : [1, 2] },\"t\":\"a\\u00e9\\n\",\"r\":[true]}\n\n"
	    "data: []\n\n");
	jw_reset(&w);
	jw_str_tok(&w, &j, json_get(&j, 0, "id"));	/* not a string */
	ck_assert_int_eq(w.err, 1);
	jw_reset(&w);
	jw_tok(&w, &j, 99);
	ck_assert_int_eq(w.err, 1);
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_roundtrip)
{
	static const unsigned char bin[] = { 0, 1, 2, 0xfe, 0xff };
	struct jw	 w;
	char		 buf[128];
	int64_t		 v;
	double		 d;
	int		 r, c, a, b;

	jw_init(&w);
	jw_obj(&w);
	jw_key(&w, "jsonrpc");
	jw_str(&w, "2.0");
	jw_key(&w, "id");
	jw_int(&w, INT64_MIN);
	jw_key(&w, "result");
	jw_obj(&w);
	jw_key(&w, "content");
	jw_arr(&w);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "text");
	jw_key(&w, "text");
	jw_str(&w, "line\n\"q\" \\ \x01 \xc3\xa9 \xf0\x9f\x98\x80");
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "isError");
	jw_bool(&w, 0);
	jw_key(&w, "pi");
	jw_double(&w, 3.141592653589793);
	jw_key(&w, "blob");
	jw_base64(&w, bin, sizeof(bin));
	jw_key(&w, "k\xc3\xa9y\t");
	jw_null(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	ck_assert_int_eq(w.err, 0);

	ck_assert_int_eq(parse_n(w.buf, w.len), JSON_OK);
	ck_assert(json_streq(&j, json_get(&j, 0, "jsonrpc"), "2.0"));
	ck_assert_int_eq(json_int64(&j, json_get(&j, 0, "id"), &v), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_int_gt(r = json_get(&j, 0, "result"), 0);
	ck_assert_int_gt(a = json_get(&j, r, "content"), 0);
	ck_assert_int_eq(json_type(&j, a), JSON_ARRAY);
	ck_assert_int_eq(toks[a].size, 1);
	c = a + 1;
	ck_assert(json_streq(&j, json_get(&j, c, "type"), "text"));
	ck_assert_int_gt(json_strcpy(&j, json_get(&j, c, "text"), buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "line\n\"q\" \\ \x01 \xc3\xa9 \xf0\x9f\x98\x80");
	ck_assert_int_eq(json_bool(&j, json_get(&j, r, "isError"), &b), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(json_double(&j, json_get(&j, r, "pi"), &d), 0);
	ck_assert(d == 3.141592653589793);
	ck_assert(json_streq(&j, json_get(&j, r, "blob"), "AAEC/v8="));
	ck_assert_int_eq(json_type(&j, json_get(&j, r, "k\xc3\xa9y\t")),
	    JSON_NULL);
	ck_assert_int_eq(toks[r].size, 5);
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_reset)
{
	struct jw	 w;
	char		*buf, big[5000];
	size_t		 cap;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jw_init(&w);
	jw_arr(&w);
	jw_str(&w, big);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_ge(w.cap, w.len + 1);
	/* doubling from the minimum */
	ck_assert_uint_eq(w.cap & (w.cap - 1), 0);
	buf = w.buf;
	cap = w.cap;
	jw_reset(&w);
	ck_assert_ptr_eq(w.buf, buf);
	ck_assert_uint_eq(w.cap, cap);
	ck_assert_uint_eq(w.len, 0);
	ck_assert_int_eq(w.depth, 0);
	ck_assert_int_eq(w.err, 0);
	ck_assert_int_eq(w.after_key, 0);
	ck_assert_str_eq(w.buf, "");
	/* the same message again: no growth, same bytes */
	jw_arr(&w);
	jw_str(&w, big);
	jw_arr_end(&w);
	ck_assert_ptr_eq(w.buf, buf);
	ck_assert_uint_eq(w.cap, cap);
	ck_assert_uint_eq(w.len, sizeof(big) + 3);
	ck_assert_int_eq(parse_n(w.buf, w.len), JSON_OK);
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_errors)
{
	struct jw	 w;
	size_t		 len;
	int		 i;

	jw_init(&w);
	for (i = 0; i < JW_DEPTH_MAX; i++)
		jw_arr(&w);
	ck_assert_int_eq(w.err, 0);
	ck_assert_int_eq(w.depth, JW_DEPTH_MAX);
	jw_arr(&w);
	ck_assert_int_eq(w.err, 1);
	/* nothing more is written once err is set */
	len = w.len;
	jw_str(&w, "more");
	jw_base64(&w, "abc", 3);
	jw_append(&w, "x", 1);
	ck_assert_uint_eq(w.len, len);

	jw_reset(&w);
	jw_arr_end(&w);
	ck_assert_int_eq(w.err, 1);
	jw_reset(&w);
	jw_obj(&w);
	jw_key(&w, "k");
	jw_obj_end(&w);			/* a key without a value */
	ck_assert_int_eq(w.err, 1);
	jw_free(&w);
}
END_TEST

START_TEST(test_jw_big)
{
	struct jw	 w;
	char		*s;
	size_t		 n = 1 << 20, i;

	ck_assert_ptr_nonnull(s = malloc(n + 1));
	for (i = 0; i < n; i++)
		s[i] = "a\n\xc3\xa9\""[i % 5];
	s[n] = '\0';
	jw_init(&w);
	jw_strn(&w, s, n);
	ck_assert_int_eq(w.err, 0);
	ck_assert_int_eq(parse_n(w.buf, w.len), JSON_OK);
	ck_assert(json_strcpy(&j, 0, s, n) == -1);
	ck_assert(json_strcpy(&j, 0, s, n + 1) == (int)n);
	for (i = 0; i < n; i++)
		if (s[i] != "a\n\xc3\xa9\""[i % 5])
			break;
	ck_assert_uint_eq(i, n);
	jw_free(&w);
	free(s);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("json");
	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_valid, 0,
	    (int)(sizeof(valid) / sizeof(valid[0])));
	tcase_add_loop_test(tc, test_invalid, 0,
	    (int)(sizeof(invalid) / sizeof(invalid[0])));
	tcase_add_test(tc, test_string_offsets);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_top_level_scalars);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_depth_arrays);
	tcase_add_test(tc, test_depth_huge);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_tokens_as_jsmn);
	tcase_add_test(tc, test_tokens_random);
	tcase_add_loop_test(tc, test_dup_keys_large, 0, 3);
	tcase_add_test(tc, test_tokens_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_get_nested);
	tcase_add_test(tc, test_streq);
	tcase_add_test(tc, test_strcpy);
	tcase_add_test(tc, test_int64);
	tcase_add_test(tc, test_double);
	tcase_add_test(tc, test_skip);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("writer");
	tcase_add_test(tc, test_jw_commas);
	tcase_add_test(tc, test_jw_escape);
	tcase_add_test(tc, test_jw_bad_utf8);
	tcase_add_test(tc, test_jw_numbers);
	tcase_add_test(tc, test_jw_base64);
	tcase_add_test(tc, test_jw_copy);
	tcase_add_test(tc, test_jw_roundtrip);
	tcase_add_test(tc, test_jw_reset);
	tcase_add_test(tc, test_jw_errors);
	tcase_add_test(tc, test_jw_big);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(json_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
