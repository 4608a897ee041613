/*
 * subst.c -- the {name} placeholders of mcpd.conf, replaced by a call's
 * arguments: whole argv words of an exec tool, the text of a prompt.
 *
 * A value goes in as text: a string unescaped, anything else as its JSON.
 * "{{" is a literal "{".  A result is bounded (SUBST_BYTES_MAX) and never
 * holds a NUL, so it is safe as an argv word.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#define SUBST_BYTES_MAX		(256 * 1024) /* bytes of one result */

/*
 * The value of argument name (of the JSON object j) as text in *out (a
 * malloc'd string): 1, or 0 when absent, -1 when out of memory.
 */
static int
arg_value(const struct json *j, const char *name, size_t nlen, char **out,
    size_t *outlen)
{
	char		 key[128];
	const char	*t;
	size_t		 n;
	int		 v;

	if (nlen >= sizeof(key))
		return 0;
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	if (j == NULL || json_type(j, 0) != JSON_OBJECT ||
	    (v = json_get(j, 0, key)) == -1 || json_type(j, v) == JSON_NULL)
		return 0;
	if (json_type(j, v) == JSON_STRING) {
		t = json_raw(j, v, &n);
		if ((*out = malloc(n + 1)) == NULL)
			return -1;
		if (json_strcpy(j, v, *out, n + 1) == -1) {
			free(*out);
			return -1;
		}
		*outlen = strlen(*out);
		return 1;
	}
	t = json_text(j, v, &n);
	if ((*out = malloc(n + 1)) == NULL)
		return -1;
	memcpy(*out, t, n);
	(*out)[n] = '\0';
	*outlen = n;
	return 1;
}

char *
subst_args(const char *tmpl, const struct json *j, int *whole)
{
	const char	*p, *e;
	char		*res = NULL, *v, *q;
	size_t		 len = 0, cap = 0, vlen, n;
	int		 rv;

	*whole = 0;
	if (tmpl[0] == '{' && tmpl[1] != '{' && (e = strchr(tmpl, '}')) !=
	    NULL && e[1] == '\0') {
		/* exactly one placeholder: an absent argument drops the word */
		if ((rv = arg_value(j, tmpl + 1, e - tmpl - 1, &v, &vlen)) ==
		    0) {
			*whole = 1;
			return NULL;
		}
		if (rv == 1)
			free(v);
	}
	for (p = tmpl; *p != '\0'; ) {
		v = NULL;
		if (p[0] == '{' && p[1] == '{') {
			vlen = 1;
			q = "{";
			p += 2;
		} else if (p[0] == '{' && (e = strchr(p, '}')) != NULL) {
			rv = arg_value(j, p + 1, e - p - 1, &v, &vlen);
			if (rv == -1)
				goto fail;
			q = rv == 1 ? v : "";
			if (rv == 0)
				vlen = 0;
			p = e + 1;
		} else {
			vlen = 1;
			q = (char *)p++;
		}
		if (len + vlen + 1 > cap) {
			char *r;

			n = cap ? cap * 2 : 64;
			while (n < len + vlen + 1)
				n *= 2;
			if (n > SUBST_BYTES_MAX ||
			    (r = realloc(res, n)) == NULL) {
				free(v);
				goto fail;
			}
			res = r;
			cap = n;
		}
		if (memchr(q, '\0', vlen) != NULL) {
			free(v);
			goto fail;
		}
		memcpy(res + len, q, vlen);
		len += vlen;
		free(v);
	}
	if (res == NULL && (res = strdup("")) == NULL)
		return NULL;
	res[len] = '\0';
	return res;
fail:
	free(res);
	return NULL;
}
