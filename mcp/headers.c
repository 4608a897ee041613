/*
 * headers.c -- the rules of the HTTP headers that mirror a request body in
 * the stateless era: MCP-Protocol-Version, Mcp-Method, Mcp-Name and the
 * Mcp-Param-* headers a tool asks for with x-mcp-header in its inputSchema;
 * the Base64 sentinel form of a header value; and the rules an x-mcp-header
 * annotation itself must follow for a tool to be registered.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp_int.h"
#include "util.h"

#define SCHEMA_TOKENS_MAX	4096	/* tokens of a tool's inputSchema */
#define XHDR_DEPTH_MAX		8	/* properties down to x-mcp-header */
#define HDR_VALUE_BYTES		2048	/* bytes of a decoded header value */

static jsmntok_t	*schema_toks;

void
headers_init(void)
{
	if (schema_toks == NULL)
		schema_toks = calloc(SCHEMA_TOKENS_MAX, sizeof(*schema_toks));
}

int
mcp_header_decode(const char *v, char *out, size_t outlen)
{
	size_t	n = strlen(v), len, i;

	if (n >= 11 && strncmp(v, "=?base64?", 9) == 0 &&
	    strcmp(v + n - 2, "?=") == 0) {
		/* strict: the standard alphabet, padded to a multiple of 4 */
		if ((n - 11) % 4 != 0 ||
		    sodium_base642bin((unsigned char *)out, outlen - 1, v + 9,
		    n - 11, NULL, &len, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0)
			return -1;
		for (i = 0; i < len; i++)
			if (out[i] == '\0')
				return -1;	/* no NUL in a value */
		out[len] = '\0';
		return (int)len;
	}
	/* plain: visible ASCII, space and tab only (RFC 9110) */
	for (len = 0; len < n; len++)
		if (((unsigned char)v[len] < 0x20 && v[len] != '\t') ||
		    (unsigned char)v[len] > 0x7e)
			return -1;
	if (n >= outlen)
		return -1;
	memcpy(out, v, n + 1);
	return (int)n;
}

static enum mcp_disp mismatch(struct mcp_server *, const struct mcp_msg *,
    struct mcp_stream *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static enum mcp_disp
mismatch(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const char *fmt, ...)
{
	va_list	ap;
	char	msg[300];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rpc_error(srv, m, st, 400, MCP_HEADER_MISMATCH, msg, NULL);
}

/* A string token equal to the decoded header value (NUL-free). */
static int
tok_equals(const struct json *j, int t, const char *val, size_t vlen)
{
	char	buf[HDR_VALUE_BYTES];
	int	n;

	if (json_type(j, t) != JSON_STRING ||
	    (n = json_strcpy(j, t, buf, sizeof(buf))) == -1)
		return 0;
	return (size_t)n == vlen && memcmp(buf, val, vlen) == 0;
}

/* A body value (string, integer, boolean) equal to a header's value. */
static int
value_equals(const struct json *j, int t, const char *val, size_t vlen)
{
	double	 a, b;
	char	*end;
	int	 bv;

	switch (json_type(j, t)) {
	case JSON_STRING:
		return tok_equals(j, t, val, vlen);
	case JSON_NUMBER:
		/* numerically: 42 and 42.0 are the same */
		if (json_double(j, t, &a) == -1 || vlen == 0)
			return 0;
		b = strtod(val, &end);
		return *end == '\0' && a == b;
	case JSON_TRUE:
	case JSON_FALSE:
		json_bool(j, t, &bv);
		return strcmp(val, bv ? "true" : "false") == 0;
	default:
		return 0;
	}
}

/* The Mcp-Param-NAME header (case-insensitive), or NULL. */
static const char *
param_header(const struct mcp_headers *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->h_nparams; i++)
		if (strcasecmp(h->h_pname[i], name) == 0)
			return h->h_pvalue[i];
	return NULL;
}

struct xhdr_walk {
	struct mcp_server		*srv;
	const struct mcp_msg		*m;
	struct mcp_stream		*st;
	const struct mcp_headers	*h;
	int				 args;	/* arguments token, -1 */
	int				 failed;
	const char			*path[XHDR_DEPTH_MAX];
};

/* Check one property annotated with x-mcp-header. */
static int
xhdr_check(struct xhdr_walk *x, const struct json *sj, int depth,
    const char *hname)
{
	const struct json	*j = &x->m->m_j;
	const char		*hv;
	char			 val[HDR_VALUE_BYTES];
	int			 t = x->args, i, n;

	for (i = 0; i < depth && t != -1; i++) {
		if (json_type(j, t) != JSON_OBJECT)
			t = -1;
		else
			t = json_get(j, t, x->path[i]);
	}
	hv = param_header(x->h, hname);
	if (t == -1 || json_type(j, t) == JSON_NULL) {
		/* no value: the client omits the header */
		if (hv == NULL)
			return 0;
		mismatch(x->srv, x->m, x->st, "Header mismatch: Mcp-Param-%s "
		    "is present but arguments have no value for it", hname);
		return -1;
	}
	if (hv == NULL) {
		mismatch(x->srv, x->m, x->st, "Header mismatch: the "
		    "Mcp-Param-%s header is required by the tool's "
		    "inputSchema", hname);
		return -1;
	}
	if ((n = mcp_header_decode(hv, val, sizeof(val))) == -1) {
		mismatch(x->srv, x->m, x->st, "Header mismatch: Mcp-Param-%s "
		    "has invalid characters or bad base64", hname);
		return -1;
	}
	if (!value_equals(j, t, val, (size_t)n)) {
		mismatch(x->srv, x->m, x->st, "Header mismatch: Mcp-Param-%s "
		    "header value does not match the argument", hname);
		return -1;
	}
	(void)sj;
	return 0;
}

/* Walk "properties" chains of the schema object at token o. */
static int
xhdr_walk(struct xhdr_walk *x, const struct json *sj, int o, int depth)
{
	char	name[128], hname[128];
	int	props, k, v, hv, end;

	if (json_type(sj, o) != JSON_OBJECT ||
	    (props = json_get(sj, o, "properties")) == -1 ||
	    json_type(sj, props) != JSON_OBJECT || depth >= XHDR_DEPTH_MAX)
		return 0;
	end = json_skip(sj, props);
	for (k = props + 1; k < end; k = json_skip(sj, v)) {
		v = k + 1;
		if (json_strcpy(sj, k, name, sizeof(name)) == -1 ||
		    json_type(sj, v) != JSON_OBJECT)
			continue;
		/* the name lives in sj's text: copy it for the path */
		x->path[depth] = strndup(name, sizeof(name));
		if (x->path[depth] == NULL)
			return -1;
		if ((hv = json_get(sj, v, "x-mcp-header")) != -1 &&
		    json_strcpy(sj, hv, hname, sizeof(hname)) != -1 &&
		    xhdr_check(x, sj, depth + 1, hname) == -1) {
			free((char *)x->path[depth]);
			return -1;
		}
		if (xhdr_walk(x, sj, v, depth + 1) == -1) {
			free((char *)x->path[depth]);
			return -1;
		}
		free((char *)x->path[depth]);
	}
	return 0;
}

/*
 * Mcp-Param-* of a tools/call against the x-mcp-header properties of its
 * tool's inputSchema: 0, or -1 after answering HeaderMismatch.
 */
static int
check_param_headers(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const struct mcp_headers *h, const char *schema)
{
	struct xhdr_walk	 x;
	struct json		 sj;

	if (schema == NULL || strstr(schema, "x-mcp-header") == NULL)
		return 0;	/* nothing to mirror (or no such tool) */
	if (schema_toks == NULL || json_parse(&sj, schema, strlen(schema),
	    schema_toks, SCHEMA_TOKENS_MAX) != JSON_OK)
		return 0;
	memset(&x, 0, sizeof(x));
	x.srv = srv;
	x.m = m;
	x.st = st;
	x.h = h;
	x.args = rpc_param(m, "arguments", JSON_OBJECT);
	return xhdr_walk(&x, &sj, 0, 0);
}

/* x-mcp-header annotations of a tool's inputSchema, as the revision says */

struct xhdr_check {
	const struct json	*j;
	char			 names[MCP_PARAM_HEADERS_MAX][64];
	unsigned		 n;
	char			*why;
	size_t			 whylen;
};

/*
 * Every object under token t; reachable: t is the root or a property
 * reached through "properties" only (not items, *Of, not, if/then/else,
 * $ref and the like).
 */
static int
xhdr_scan(struct xhdr_check *x, int t, int reachable, int depth)
{
	const struct json	*j = x->j;
	char			 key[64], name[64], type[16];
	int			 k, v, end, h, ty, i;
	unsigned		 u;

	if (depth > JSON_DEPTH_MAX)
		return 0;
	if (json_type(j, t) == JSON_ARRAY) {
		end = json_skip(j, t);
		for (v = t + 1; v < end; v = json_skip(j, v))
			if (xhdr_scan(x, v, 0, depth + 1) == -1)
				return -1;
		return 0;
	}
	if (json_type(j, t) != JSON_OBJECT)
		return 0;
	if ((h = json_get(j, t, "x-mcp-header")) != -1) {
		if (!reachable) {
			snprintf(x->why, x->whylen, "x-mcp-header on a property "
			    "not reached through \"properties\" alone");
			return -1;
		}
		if (json_strcpy(j, h, name, sizeof(name)) <= 0) {
			snprintf(x->why, x->whylen, "x-mcp-header must be a "
			    "non-empty string of at most 63 bytes");
			return -1;
		}
		for (i = 0; name[i] != '\0'; i++)
			if (!is_tchar((unsigned char)name[i])) {
				snprintf(x->why, x->whylen, "x-mcp-header \"%s\" "
				    "is not an HTTP token", name);
				return -1;
			}
		if ((ty = json_get(j, t, "type")) == -1 ||
		    json_strcpy(j, ty, type, sizeof(type)) == -1 ||
		    (strcmp(type, "string") != 0 &&
		    strcmp(type, "integer") != 0 &&
		    strcmp(type, "boolean") != 0)) {
			snprintf(x->why, x->whylen, "x-mcp-header \"%s\" on a "
			    "property that is not a string, integer or boolean",
			    name);
			return -1;
		}
		for (u = 0; u < x->n; u++)
			if (strcasecmp(x->names[u], name) == 0) {
				snprintf(x->why, x->whylen, "x-mcp-header \"%s\" "
				    "twice", name);
				return -1;
			}
		if (x->n == MCP_PARAM_HEADERS_MAX) {
			snprintf(x->why, x->whylen, "more than %d x-mcp-header "
			    "properties", MCP_PARAM_HEADERS_MAX);
			return -1;
		}
		memcpy(x->names[x->n++], name, sizeof(name));
	}
	end = json_skip(j, t);
	for (k = t + 1; k < end; k = json_skip(j, v)) {
		v = k + 1;
		if (json_strcpy(j, k, key, sizeof(key)) == -1)
			key[0] = '\0';
		if (strcmp(key, "properties") == 0 &&
		    json_type(j, v) == JSON_OBJECT) {
			int pk, pv, pend = json_skip(j, v);

			/* each property keeps reachability */
			for (pk = v + 1; pk < pend; pk = json_skip(j, pv)) {
				pv = pk + 1;
				if (xhdr_scan(x, pv, reachable, depth + 1) == -1)
					return -1;
			}
		} else if (xhdr_scan(x, v, 0, depth + 1) == -1)
			return -1;
	}
	return 0;
}

int
mcp_xhdr_valid(const char *schema, char *why, size_t whylen)
{
	struct xhdr_check	 x;
	struct json		 j;

	if (strstr(schema, "x-mcp-header") == NULL)
		return 0;
	if (schema_toks == NULL || json_parse(&j, schema, strlen(schema),
	    schema_toks, SCHEMA_TOKENS_MAX) != JSON_OK) {
		snprintf(why, whylen, "inputSchema too large to check");
		return -1;
	}
	memset(&x, 0, sizeof(x));
	x.j = &j;
	x.why = why;
	x.whylen = whylen;
	return xhdr_scan(&x, 0, 1, 0);
}

int
check_headers(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const struct mcp_headers *h, const char *version,
    const char *schema)
{
	char		 val[HDR_VALUE_BYTES];
	const char	*named;
	int		 v, n;

	if (h->h_version == NULL || h->h_version[0] == '\0') {
		mismatch(srv, m, st, "Header mismatch: the MCP-Protocol-Version "
		    "header is required");
		return -1;
	}
	if (strcmp(h->h_version, version) != 0) {
		mismatch(srv, m, st, "Header mismatch: MCP-Protocol-Version "
		    "header value '%.64s' does not match body value '%.64s'",
		    h->h_version, version);
		return -1;
	}
	if (h->h_method == NULL) {
		mismatch(srv, m, st, "Header mismatch: the Mcp-Method header "
		    "is required");
		return -1;
	}
	if (strcmp(h->h_method, m->m_method) != 0) {
		mismatch(srv, m, st, "Header mismatch: Mcp-Method header value "
		    "'%.64s' does not match body value '%.64s'", h->h_method,
		    m->m_method);
		return -1;
	}
	/* the body member Mcp-Name mirrors, for the methods that have one */
	if (strcmp(m->m_method, "tools/call") == 0 ||
	    strcmp(m->m_method, "prompts/get") == 0)
		named = "name";
	else if (strcmp(m->m_method, "resources/read") == 0)
		named = "uri";
	else if (strcmp(m->m_method, "tasks/get") == 0 ||
	    strcmp(m->m_method, "tasks/update") == 0 ||
	    strcmp(m->m_method, "tasks/cancel") == 0)
		named = "taskId";
	else
		named = NULL;
	if (named != NULL) {
		v = rpc_param(m, named, JSON_STRING);
		if (h->h_name == NULL) {
			mismatch(srv, m, st, "Header mismatch: the Mcp-Name "
			    "header is required for %s", m->m_method);
			return -1;
		}
		if ((n = mcp_header_decode(h->h_name, val, sizeof(val))) ==
		    -1) {
			mismatch(srv, m, st, "Header mismatch: Mcp-Name has "
			    "invalid characters or bad base64");
			return -1;
		}
		if (v == -1 || !tok_equals(&m->m_j, v, val, (size_t)n)) {
			mismatch(srv, m, st, "Header mismatch: Mcp-Name header "
			    "value '%.100s' does not match the body's %s",
			    val, named);
			return -1;
		}
	}
	if (h->h_too_many) {
		mismatch(srv, m, st, "Header mismatch: Mcp-Param-* headers: "
		    "more than %d, or more than %d bytes", MCP_PARAM_HEADERS_MAX,
		    MCP_PARAM_HEADER_BYTES);
		return -1;
	}
	if (strcmp(m->m_method, "tools/call") == 0 &&
	    check_param_headers(srv, m, st, h, schema) == -1)
		return -1;
	return 0;
}
