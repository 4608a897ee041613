/*
 * abijson.c -- the JSON helpers of the plugin ABI: a value by RFC 6901 JSON
 * Pointer (mcpd_json_string, mcpd_json_text) and a string quoted as JSON
 * (mcpd_json_quote), for plugins that should not need a JSON library.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#define ABI_TOKENS_MAX	1024	/* tokens of a document a plugin hands us */

/* RFC 6901 JSON Pointer over a parsed document; -1 when absent. */
static int
pointer(const struct json *j, const char *ptr)
{
	char	key[256];
	int	cur = 0;

	while (*ptr == '/') {
		size_t n = 0;

		ptr++;
		while (*ptr != '\0' && *ptr != '/' && n < sizeof(key) - 1) {
			if (ptr[0] == '~' && ptr[1] == '1') {
				key[n++] = '/';
				ptr += 2;
			} else if (ptr[0] == '~' && ptr[1] == '0') {
				key[n++] = '~';
				ptr += 2;
			} else
				key[n++] = *ptr++;
		}
		key[n] = '\0';
		if (json_type(j, cur) == JSON_OBJECT)
			cur = json_get(j, cur, key);
		else if (json_type(j, cur) == JSON_ARRAY) {
			char	*end;
			long	 idx = strtol(key, &end, 10);
			int	 k, i;

			if (*end != '\0' || idx < 0 ||
			    idx >= j->t[cur].size)
				return -1;
			for (k = cur + 1, i = 0; i < idx; i++)
				k = json_skip(j, k);
			cur = k;
		} else
			return -1;
		if (cur == -1)
			return -1;
	}
	return *ptr == '\0' ? cur : -1;
}

static int
json_lookup(const char *json, size_t len, const char *ptr, struct json *j,
    jsmntok_t *toks, int ntoks)
{
	if (json_parse(j, json, len, toks, ntoks) != JSON_OK)
		return -1;
	return pointer(j, ptr);
}

int
mcpd_json_string(const char *json, size_t len, const char *ptr, char *out,
    size_t outlen)
{
	jsmntok_t	toks[ABI_TOKENS_MAX];
	struct json	j;
	int		v;

	if ((v = json_lookup(json, len, ptr, &j, toks, ABI_TOKENS_MAX)) == -1)
		return -1;
	return json_strcpy(&j, v, out, outlen);
}

int
mcpd_json_text(const char *json, size_t len, const char *ptr, char *out,
    size_t outlen)
{
	jsmntok_t	 toks[ABI_TOKENS_MAX];
	struct json	 j;
	const char	*t;
	size_t		 n;
	int		 v;

	if ((v = json_lookup(json, len, ptr, &j, toks, ABI_TOKENS_MAX)) == -1)
		return -1;
	t = json_text(&j, v, &n);
	if (n >= outlen)
		return -1;
	memcpy(out, t, n);
	out[n] = '\0';
	return (int)n;
}

int
mcpd_json_quote(const char *text, char *out, size_t outlen)
{
	struct jw	w;
	size_t		n;

	jw_init(&w);
	jw_str(&w, text);
	if (w.err || w.len >= outlen) {
		jw_free(&w);
		return -1;
	}
	n = w.len;
	memcpy(out, w.buf, n);
	out[n] = '\0';
	jw_free(&w);
	return (int)n;
}
