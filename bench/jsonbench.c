/*
 * NAME
 *	jsonbench.c -- common/json.c against json-c, cJSON and jansson
 *
 * DESCRIPTION
 *	Parses three MCP messages (a tools/call echo of about 250 bytes, the
 *	same with a 1 KiB argument, a tools/list result of about 8 KiB) and
 *	does the lookups a dispatcher does (jsonrpc, id, method, params.name,
 *	params.arguments; result.tools for the result), then writes a
 *	tools/call result with each library.  Reports the median of 5 runs of
 *	at least 0.5 s each in ns per message and per byte, and the calls to
 *	malloc, calloc and realloc per message, counted by defining those
 *	functions here: the libraries' calls bind to the executable's
 *	definitions, which forward to glibc's __libc_* entry points.
 *
 *	json-c and jansson both define json_object_get, and json.h shares
 *	names with their headers, so this file is compiled once per part
 *	(-DPART_MAIN, -DPART_MCP, -DPART_JSONC, -DPART_CJSON, -DPART_JANSSON)
 *	and linked together; see docs/JSON.md.  "jsonbench -p N" prints
 *	document N (0, 1, 2) instead.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* what every part exports: parse and look up, or write; a checksum back */
struct lib {
	const char	*name;
	long		(*parse)(const char *, size_t);
	long		(*write)(int64_t, const char *);
};

/* with bench_keep set, a write part copies its message here for checks */
#define OUT_MAX		8192
extern int		 bench_keep;
extern char		 bench_out[OUT_MAX];
extern size_t		 bench_outlen;

#ifndef PART_MAIN
static void
keep(const char *s, size_t n)
{
	if (n > OUT_MAX)
		n = OUT_MAX;
	memcpy(bench_out, s, n);
	bench_outlen = n;
}
#endif

#ifdef PART_MCP
#include "json.h"

static jsmntok_t	 toks[JSON_TOKENS_MAX];
static struct jw	 w;

static long
mcp_parse(const char *buf, size_t len)
{
	struct json	 j;
	char		 method[64], name[128];
	int64_t		 id;
	int		 v, p, a, r, t;

	if (json_parse(&j, buf, len, toks, JSON_TOKENS_MAX) != JSON_OK)
		return -1;
	if (!json_streq(&j, json_get(&j, 0, "jsonrpc"), "2.0"))
		return -1;
	if (json_int64(&j, json_get(&j, 0, "id"), &id) == -1)
		return -1;
	if ((v = json_get(&j, 0, "method")) == -1) {
		if ((r = json_get(&j, 0, "result")) == -1 ||
		    (t = json_get(&j, r, "tools")) == -1 ||
		    json_type(&j, t) != JSON_ARRAY)
			return -1;
		return id + j.t[t].size;
	}
	if (json_strcpy(&j, v, method, sizeof(method)) == -1 ||
	    strcmp(method, "tools/call") != 0)
		return -1;
	if ((p = json_get(&j, 0, "params")) == -1 ||
	    json_strcpy(&j, json_get(&j, p, "name"), name, sizeof(name)) == -1)
		return -1;
	if ((a = json_get(&j, p, "arguments")) == -1 ||
	    json_type(&j, a) != JSON_OBJECT)
		return -1;
	return id + (long)strlen(name) + j.t[a].size;
}

static long
mcp_write(int64_t id, const char *text)
{
	jw_reset(&w);
	jw_obj(&w);
	jw_key(&w, "jsonrpc");
	jw_str(&w, "2.0");
	jw_key(&w, "id");
	jw_int(&w, id);
	jw_key(&w, "result");
	jw_obj(&w);
	jw_key(&w, "content");
	jw_arr(&w);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_str(&w, "text");
	jw_key(&w, "text");
	jw_str(&w, text);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "isError");
	jw_bool(&w, 0);
	jw_obj_end(&w);
	jw_obj_end(&w);
	if (w.err)
		return -1;
	if (bench_keep)
		keep(w.buf, w.len);
	return (long)w.len;
}

/* the reference for the equivalence check: does this parse, how long */
int	mcp_check(const char *, size_t, int64_t *, char *, size_t);

int
mcp_check(const char *buf, size_t len, int64_t *id, char *text, size_t tl)
{
	struct json	 j;
	int		 r, c;

	if (json_parse(&j, buf, len, toks, JSON_TOKENS_MAX) != JSON_OK ||
	    json_int64(&j, json_get(&j, 0, "id"), id) == -1 ||
	    (r = json_get(&j, 0, "result")) == -1 ||
	    (c = json_get(&j, r, "content")) == -1)
		return -1;
	return json_strcpy(&j, json_get(&j, c + 1, "text"), text, tl);
}

const struct lib	 lib_mcp = { "json.c", mcp_parse, mcp_write };
#endif /* PART_MCP */

#ifdef PART_JSONC
#include <json-c/json.h>

static long
jsonc_parse(const char *buf, size_t len)
{
	struct json_object	*o, *v, *p, *a, *r, *t;
	const char		*s;
	long			 ret = -1;
	int64_t			 id;

	if ((o = json_tokener_parse(buf)) == NULL)
		return -1;
	if (!json_object_object_get_ex(o, "jsonrpc", &v) ||
	    (s = json_object_get_string(v)) == NULL || strcmp(s, "2.0") != 0)
		goto out;
	if (!json_object_object_get_ex(o, "id", &v) ||
	    !json_object_is_type(v, json_type_int))
		goto out;
	id = json_object_get_int64(v);
	if (!json_object_object_get_ex(o, "method", &v)) {
		if (json_object_object_get_ex(o, "result", &r) &&
		    json_object_object_get_ex(r, "tools", &t) &&
		    json_object_is_type(t, json_type_array))
			ret = id + (long)json_object_array_length(t);
		goto out;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "tools/call") != 0)
		goto out;
	if (!json_object_object_get_ex(o, "params", &p) ||
	    !json_object_object_get_ex(p, "name", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(p, "arguments", &a) ||
	    !json_object_is_type(a, json_type_object))
		goto out;
	ret = id + (long)strlen(json_object_get_string(v)) +
	    json_object_object_length(a);
out:
	json_object_put(o);
	return ret;
}

static long
jsonc_write(int64_t id, const char *text)
{
	struct json_object	*o, *r, *c, *item;
	const char		*s;
	size_t			 n;

	o = json_object_new_object();
	json_object_object_add(o, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(o, "id", json_object_new_int64(id));
	r = json_object_new_object();
	c = json_object_new_array();
	item = json_object_new_object();
	json_object_object_add(item, "type", json_object_new_string("text"));
	json_object_object_add(item, "text", json_object_new_string(text));
	json_object_array_add(c, item);
	json_object_object_add(r, "content", c);
	json_object_object_add(r, "isError", json_object_new_boolean(0));
	json_object_object_add(o, "result", r);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (bench_keep)
		keep(s, n);
	json_object_put(o);
	return (long)n;
}

const struct lib	 lib_jsonc = { "json-c", jsonc_parse, jsonc_write };
#endif /* PART_JSONC */

#ifdef PART_CJSON
#include <cjson/cJSON.h>

static long
cjson_parse(const char *buf, size_t len)
{
	cJSON	*o, *v, *p, *a, *r, *t;
	long	 ret = -1, id;

	if ((o = cJSON_ParseWithLength(buf, len)) == NULL)
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(o, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (!cJSON_IsNumber(v))
		goto out;
	id = (long)v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "method")) == NULL) {
		r = cJSON_GetObjectItemCaseSensitive(o, "result");
		t = cJSON_GetObjectItemCaseSensitive(r, "tools");
		if (cJSON_IsArray(t))
			ret = id + cJSON_GetArraySize(t);
		goto out;
	}
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "tools/call") != 0)
		goto out;
	p = cJSON_GetObjectItemCaseSensitive(o, "params");
	v = cJSON_GetObjectItemCaseSensitive(p, "name");
	a = cJSON_GetObjectItemCaseSensitive(p, "arguments");
	if (!cJSON_IsString(v) || !cJSON_IsObject(a))
		goto out;
	ret = id + (long)strlen(v->valuestring) + cJSON_GetArraySize(a);
out:
	cJSON_Delete(o);
	return ret;
}

static long
cjson_write(int64_t id, const char *text)
{
	cJSON	*o, *r, *c, *item;
	char	*s;
	long	 n;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(o, "id", (double)id);
	r = cJSON_AddObjectToObject(o, "result");
	c = cJSON_AddArrayToObject(r, "content");
	item = cJSON_CreateObject();
	cJSON_AddStringToObject(item, "type", "text");
	cJSON_AddStringToObject(item, "text", text);
	cJSON_AddItemToArray(c, item);
	cJSON_AddFalseToObject(r, "isError");
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return -1;
	n = (long)strlen(s);
	if (bench_keep)
		keep(s, (size_t)n);
	cJSON_free(s);
	return n;
}

const struct lib	 lib_cjson = { "cJSON", cjson_parse, cjson_write };
#endif /* PART_CJSON */

#ifdef PART_JANSSON
#include <jansson.h>

static long
jansson_parse(const char *buf, size_t len)
{
	json_error_t	 err;
	json_t		*o, *v, *p, *a, *r, *t;
	const char	*s;
	long		 ret = -1, id;

	if ((o = json_loadb(buf, len, 0, &err)) == NULL)
		return -1;
	if ((s = json_string_value(json_object_get(o, "jsonrpc"))) == NULL ||
	    strcmp(s, "2.0") != 0)
		goto out;
	if (!json_is_integer(v = json_object_get(o, "id")))
		goto out;
	id = (long)json_integer_value(v);
	if ((v = json_object_get(o, "method")) == NULL) {
		r = json_object_get(o, "result");
		t = json_object_get(r, "tools");
		if (json_is_array(t))
			ret = id + (long)json_array_size(t);
		goto out;
	}
	if ((s = json_string_value(v)) == NULL || strcmp(s, "tools/call") != 0)
		goto out;
	p = json_object_get(o, "params");
	s = json_string_value(json_object_get(p, "name"));
	a = json_object_get(p, "arguments");
	if (s == NULL || !json_is_object(a))
		goto out;
	ret = id + (long)strlen(s) + (long)json_object_size(a);
out:
	json_decref(o);
	return ret;
}

static long
jansson_write(int64_t id, const char *text)
{
	json_t	*o, *r, *c, *item;
	char	*s;
	long	 n;

	o = json_object();
	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set_new(o, "id", json_integer(id));
	r = json_object();
	c = json_array();
	item = json_object();
	json_object_set_new(item, "type", json_string("text"));
	json_object_set_new(item, "text", json_string(text));
	json_array_append_new(c, item);
	json_object_set_new(r, "content", c);
	json_object_set_new(r, "isError", json_false());
	json_object_set_new(o, "result", r);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return -1;
	n = (long)strlen(s);
	if (bench_keep)
		keep(s, (size_t)n);
	free(s);
	return n;
}

const struct lib	 lib_jansson = { "jansson", jansson_parse,
    jansson_write };
#endif /* PART_JANSSON */

#ifdef PART_MAIN
#define RUNS		5
#define RUN_NS		500000000ULL	/* at least this long each */
#define DOC_MAX		16384

void	*malloc(size_t);
void	*calloc(size_t, size_t);
void	*realloc(void *, size_t);
void	 free(void *);
void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);
void	 __libc_free(void *);
int	 mcp_check(const char *, size_t, int64_t *, char *, size_t);

extern const struct lib	 lib_mcp, lib_jsonc, lib_cjson, lib_jansson;

int			 bench_keep;
char			 bench_out[OUT_MAX];
size_t			 bench_outlen;

static const struct lib	*libs[] = {
	&lib_mcp, &lib_jsonc, &lib_cjson, &lib_jansson
};
#define NLIBS	(sizeof(libs) / sizeof(libs[0]))

static unsigned long	 nalloc;
static volatile long	 sink;

void *
malloc(size_t n)
{
	nalloc++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	nalloc++;
	return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	nalloc++;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}

struct doc {
	const char	*name;
	char		 text[DOC_MAX];
	size_t		 len;
	char		 arg[2048];	/* the echo's text, for writing */
};

static struct doc	 docs[3];

static uint64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void
add(struct doc *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct doc *d, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(d->text + d->len, sizeof(d->text) - d->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(d->text) - d->len) {
		fprintf(stderr, "document too long\n");
		exit(1);
	}
	d->len += (size_t)n;
}

/* a tools/call as a client sends it, around an echo text */
static void
make_call(struct doc *d, const char *name, const char *arg)
{
	d->name = name;
	snprintf(d->arg, sizeof(d->arg), "%s", arg);
	add(d, "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"%s\","
	    "\"repeat\":1,\"uppercase\":false,\"prefix\":\"> \","
	    "\"timeoutMs\":30000,\"lang\":\"en-US\"},\"_meta\":"
	    "{\"progressToken\":\"0f6c1a2e-8b1d-4c6e-9a53-2d7f4e1b9c30\"}}}",
	    arg);
}

/* a tools/list result: 18 tools with descriptions and schemas */
static void
make_list(struct doc *d)
{
	static const char *verbs[] = { "read", "write", "list", "search",
	    "delete", "move" };
	static const char *things[] = { "file", "issue", "record" };
	int	 i;

	d->name = "tools/list result";
	add(d, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[");
	for (i = 0; i < 18; i++) {
		add(d, "%s{\"name\":\"%s_%s\",\"title\":\"%c%s %s\","
		    "\"description\":\"Use this to %s a %s in the workspace. "
		    "Paths are relative to the root; the result is \\\"text\\\" "
		    "or an error.\",\"inputSchema\":{\"type\":\"object\","
		    "\"properties\":{\"path\":{\"type\":\"string\","
		    "\"description\":\"where\"},\"limit\":{\"type\":\"integer\","
		    "\"minimum\":1,\"maximum\":1000},\"recursive\":{\"type\":"
		    "\"boolean\",\"default\":false}},\"required\":[\"path\"]},"
		    "\"annotations\":{\"readOnlyHint\":%s,\"idempotentHint\":"
		    "true}}", i ? "," : "", verbs[i % 6], things[i / 6],
		    verbs[i % 6][0] - 32, verbs[i % 6] + 1, things[i / 6],
		    verbs[i % 6], things[i / 6], i % 6 < 4 ? "true" : "false");
	}
	add(d, "],\"nextCursor\":\"eyJvZmZzZXQiOjE4fQ==\"}}");
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per message: the median of RUNS runs of n messages, n ≥ RUN_NS worth */
static double
measure(const struct lib *l, const struct doc *d, int writing)
{
	double		 r[RUNS];
	uint64_t	 t0, t;
	unsigned long	 n = 64, i;
	long		 acc = 0;
	int		 k;

	for (;;) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			acc += writing ? l->write(42, d->arg) :
			    l->parse(d->text, d->len);
		t = now_ns() - t0;
		if (t >= RUN_NS / 10)
			break;
		n *= 2;
	}
	n = (unsigned long)((double)n * RUN_NS / (double)t * 1.05) + 1;
	for (k = 0; k < RUNS; k++) {
		t0 = now_ns();
		for (i = 0; i < n; i++)
			acc += writing ? l->write(42, d->arg) :
			    l->parse(d->text, d->len);
		r[k] = (double)(now_ns() - t0) / (double)n;
	}
	sink = acc;
	qsort(r, RUNS, sizeof(r[0]), cmp_double);
	return r[RUNS / 2];
}

static double
allocs(const struct lib *l, const struct doc *d, int writing)
{
	unsigned long	 a0, i, n = 1000;
	long		 acc = 0;

	/* once to warm up buffers kept between messages */
	acc += writing ? l->write(42, d->arg) : l->parse(d->text, d->len);
	a0 = nalloc;
	for (i = 0; i < n; i++)
		acc += writing ? l->write(42, d->arg) :
		    l->parse(d->text, d->len);
	sink = acc;
	return (double)(nalloc - a0) / (double)n;
}

/* every library must agree on what it parses and write the same message */
static void
check(void)
{
	char		 text[4096];
	int64_t		 id;
	long		 want, got;
	size_t		 li, di;
	int		 n;

	for (di = 0; di < 3; di++) {
		want = libs[0]->parse(docs[di].text, docs[di].len);
		for (li = 0; li < NLIBS; li++) {
			got = libs[li]->parse(docs[di].text, docs[di].len);
			if (got != want || got < 0) {
				fprintf(stderr, "%s on %s: %ld, json.c %ld\n",
				    libs[li]->name, docs[di].name, got, want);
				exit(1);
			}
		}
		if (di == 2)
			break;
		for (li = 0; li < NLIBS; li++) {
			bench_keep = 1;
			bench_outlen = 0;
			if (libs[li]->write(42, docs[di].arg) < 0)
				exit(1);
			bench_keep = 0;
			n = mcp_check(bench_out, bench_outlen, &id, text,
			    sizeof(text));
			if (n < 0 || id != 42 || strcmp(text, docs[di].arg) != 0) {
				fprintf(stderr, "%s wrote %.*s\n",
				    libs[li]->name, (int)bench_outlen, bench_out);
				exit(1);
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	char		 big[1100], *p;
	size_t		 li, di;
	double		 ns, a;
	int		 i;

	make_call(&docs[0], "tools/call echo", "hello world");
	/* a KiB of text with the escapes and UTF-8 real text has */
	p = big;
	for (i = 0; p - big < 1024 - 40; i++)
		p += sprintf(p, "Line %d: caf\xc3\xa9 \\\"quoted\\\" "
		    "\xe2\x82\xac 5\\n", i);
	*p = '\0';
	make_call(&docs[1], "tools/call 1 KiB arg", big);
	/* the text to write back is the argument unescaped */
	p = docs[1].arg;
	for (i = 0; big[i] != '\0'; i++) {
		if (big[i] == '\\') {
			i++;
			*p++ = big[i] == 'n' ? '\n' : big[i];
		} else
			*p++ = big[i];
	}
	*p = '\0';
	make_list(&docs[2]);
	check();
	/* -p 0, 1 or 2: print that document, for other tools */
	if (argc == 3 && strcmp(argv[1], "-p") == 0) {
		di = (size_t)atoi(argv[2]) % 3;
		fwrite(docs[di].text, 1, docs[di].len, stdout);
		return 0;
	}

	printf("%-22s %-8s %6s %10s %8s %8s\n", "parse + lookups", "library",
	    "bytes", "ns/msg", "ns/byte", "allocs");
	for (di = 0; di < 3; di++) {
		for (li = 0; li < NLIBS; li++) {
			a = allocs(libs[li], &docs[di], 0);
			ns = measure(libs[li], &docs[di], 0);
			printf("%-22s %-8s %6zu %10.0f %8.2f %8.1f\n",
			    docs[di].name, libs[li]->name, docs[di].len, ns,
			    ns / (double)docs[di].len, a);
			fflush(stdout);
		}
	}
	printf("\n%-22s %-8s %6s %10s %8s %8s\n", "write result",
	    "library", "bytes", "ns/msg", "ns/byte", "allocs");
	for (di = 0; di < 2; di++) {
		for (li = 0; li < NLIBS; li++) {
			bench_keep = 1;
			libs[li]->write(42, docs[di].arg);
			bench_keep = 0;
			a = allocs(libs[li], &docs[di], 1);
			ns = measure(libs[li], &docs[di], 1);
			printf("%-22s %-8s %6zu %10.0f %8.2f %8.1f\n",
			    docs[di].name, libs[li]->name, bench_outlen, ns,
			    ns / (double)bench_outlen, a);
			fflush(stdout);
		}
	}
	return 0;
}
#endif /* PART_MAIN */
