/*
 * stateless.c -- the stateless era (MCP 2026-07-28): era selection, the
 * per-request _meta, the headers that mirror the body, server/discover,
 * subscriptions/listen and the sealed requestState of multi round-trip
 * requests.
 *
 * Every request stands alone: what the session era kept in a session (the
 * client's capabilities, its log level) comes with each request in _meta,
 * and what a multi round-trip call must remember between rounds travels
 * with the client, sealed (XChaCha20-Poly1305) under a key every worker of
 * the node shares.  So any worker answers any request with no lookup.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mcp_int.h"

#define META_VERSION	"io.modelcontextprotocol/protocolVersion"
#define META_CAPS	"io.modelcontextprotocol/clientCapabilities"
#define META_INFO	"io.modelcontextprotocol/clientInfo"
#define META_LEVEL	"io.modelcontextprotocol/logLevel"
#define META_SUBID	"io.modelcontextprotocol/subscriptionId"
#define TASKS_EXT	"io.modelcontextprotocol/tasks"

#define STATE_VERSION	1
#define STATE_AD_MAX	(MCP_METHOD_MAX + 256 + 16)
#define SCHEMA_TOKENS	4096	/* tokens of a tool's inputSchema */
#define XHDR_DEPTH_MAX	8	/* properties on the way to x-mcp-header */
#define HDR_VALUE_MAX	2048	/* bytes of a decoded header value */

static const char *const stateless_versions[] = { MCP_VERSION_STATELESS };
/* every version we speak, newest first, for server/discover and -32022 */
static const char *const all_versions[] = {
	MCP_VERSION_STATELESS, "2025-11-25", "2025-06-18", "2025-03-26"
};

static jsmntok_t	*schema_toks;

int
mcp_version_stateless(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(stateless_versions) /
	    sizeof(stateless_versions[0]); i++)
		if (strcmp(v, stateless_versions[i]) == 0)
			return 1;
	return 0;
}

/* params._meta of a request, or -1 */
static int
meta_of(const struct mcp_msg *m)
{
	int meta;

	if (m->m_params < 0 || json_type(&m->m_j, m->m_params) != JSON_OBJECT)
		return -1;
	if ((meta = json_get(&m->m_j, m->m_params, "_meta")) == -1 ||
	    json_type(&m->m_j, meta) != JSON_OBJECT)
		return -1;
	return meta;
}

enum mcp_era
mcp_era(const char *hdr, const struct mcp_msg *m)
{
	int meta, v;

	if (hdr != NULL && hdr[0] != '\0') {
		if (mcp_version_stateless(hdr))
			return MCP_ERA_STATELESS;
		if (mcp_version_supported(hdr))
			return MCP_ERA_SESSION;
		return MCP_ERA_UNSUPPORTED;
	}
	/* no header: a body that says 2026-07-28 gets that era's answer */
	if (m != NULL && m->m_kind == MCP_REQUEST &&
	    (meta = meta_of(m)) != -1 &&
	    (v = json_get(&m->m_j, meta, META_VERSION)) != -1)
		return MCP_ERA_STATELESS;
	return MCP_ERA_SESSION;
}

/* Keys */

void
stateless_init(struct mcp_server *srv)
{
	if (srv->sv_listeners.tqh_last == NULL) {
		TAILQ_INIT(&srv->sv_listeners);
		srv->sv_state_ttl_ms = MCP_STATE_TTL_MS;
	}
	/* a subkey of the node key, so a session id MAC never seals state */
	crypto_kdf_derive_from_key(srv->sv_state_key,
	    sizeof(srv->sv_state_key), 1, "mcpdrqst", srv->sv_key);
	if (schema_toks == NULL)
		schema_toks = calloc(SCHEMA_TOKENS, sizeof(*schema_toks));
	if (srv->sv_stamp == NULL && srv->sv_name != NULL &&
	    srv->sv_version != NULL) {
		/* what every complete result of this era starts with */
		struct jw w;

		jw_init(&w);
		jw_obj(&w);
		jw_key(&w, "resultType");
		jw_str(&w, "complete");
		jw_key(&w, "_meta");
		jw_obj(&w);
		mcp_write_server_info(&w, srv);
		jw_obj_end(&w);
		jw_append(&w, ",", 1);
		if (w.err == 0 && (srv->sv_stamp = strdup(w.buf + 1)) != NULL)
			srv->sv_stamplen = w.len - 1;
		jw_free(&w);
	}
}

void
stateless_free(struct mcp_server *srv)
{
	struct mcp_listener *l;

	while ((l = TAILQ_FIRST(&srv->sv_listeners)) != NULL)
		mcp_listen_gone(srv, l->l_stream);
	sodium_memzero(srv->sv_state_key, sizeof(srv->sv_state_key));
	free(srv->sv_stamp);
	srv->sv_stamp = NULL;
}

/* Errors of this era, with the HTTP status that goes with them. */
static enum mcp_disp
fail(struct mcp_server *srv, const struct mcp_msg *m, struct mcp_stream *st,
    int status, int code, const char *message, const char *data)
{
	mcp_write_error_data(srv, m, code, message, data);
	st->s_status = status;
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

/* UnsupportedProtocolVersionError, into the server's output buffer */
void
mcp_write_unsupported_version(struct mcp_server *srv, const struct mcp_msg *m,
    const char *requested)
{
	struct jw	 d;
	size_t		 i;

	jw_init(&d);
	jw_obj(&d);
	jw_key(&d, "supported");
	jw_arr(&d);
	for (i = 0; i < sizeof(all_versions) / sizeof(all_versions[0]); i++)
		jw_str(&d, all_versions[i]);
	jw_arr_end(&d);
	jw_key(&d, "requested");
	jw_str(&d, requested != NULL ? requested : "");
	jw_obj_end(&d);
	mcp_write_error_data(srv, m, MCP_UNSUPPORTED_VERSION,
	    "Unsupported protocol version", d.err ? NULL : d.buf);
	jw_free(&d);
}

static enum mcp_disp
unsupported_version(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const char *requested)
{
	mcp_write_unsupported_version(srv, m, requested);
	st->s_status = 400;
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

/* Header values */

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
	return fail(srv, m, st, 400, MCP_HEADER_MISMATCH, msg, NULL);
}

/* A string token equal to the decoded header value (NUL-free). */
static int
tok_equals(const struct json *j, int t, const char *val, size_t vlen)
{
	char	buf[HDR_VALUE_MAX];
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
	char			 val[HDR_VALUE_MAX];
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
 * Mcp-Param-* of a tools/call against its tool's x-mcp-header properties:
 * 0, or -1 after answering HeaderMismatch.
 */
static int
check_param_headers(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const struct mcp_headers *h)
{
	const struct cat_tool	*t;
	struct xhdr_walk	 x;
	struct json		 sj;
	char			 name[256];
	int			 v;

	if ((v = engine_param(m, "name", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, name, sizeof(name)) == -1 ||
	    (t = cat_tool(&srv->sv_cat, name)) == NULL ||
	    strstr(t->t_schema, "x-mcp-header") == NULL)
		return 0;	/* nothing to mirror (or no such tool) */
	if (schema_toks == NULL || json_parse(&sj, t->t_schema,
	    strlen(t->t_schema), schema_toks, SCHEMA_TOKENS) != JSON_OK)
		return 0;
	memset(&x, 0, sizeof(x));
	x.srv = srv;
	x.m = m;
	x.st = st;
	x.h = h;
	x.args = engine_param(m, "arguments", JSON_OBJECT);
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

static int
tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

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
			if (!tchar((unsigned char)name[i])) {
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
	    schema_toks, SCHEMA_TOKENS) != JSON_OK) {
		snprintf(why, whylen, "inputSchema too large to check");
		return -1;
	}
	memset(&x, 0, sizeof(x));
	x.j = &j;
	x.why = why;
	x.whylen = whylen;
	return xhdr_scan(&x, 0, 1, 0);
}

/* The headers that mirror the body: 0, or -1 after answering -32020. */
static int
check_headers(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const struct mcp_headers *h, const char *version)
{
	char		 val[HDR_VALUE_MAX];
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
		v = engine_param(m, named, JSON_STRING);
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
	    check_param_headers(srv, m, st, h) == -1)
		return -1;
	return 0;
}

/* requestState */

/* what a state is bound to: the method and the tool, prompt or URI */
static size_t
state_ad(const struct mcpd_call *c, unsigned char *ad)
{
	static const char *const kinds[] = {
		"tools/call", "resources/read", "prompts/get",
		"completion/complete"
	};
	size_t n;

	n = (size_t)snprintf((char *)ad, STATE_AD_MAX, "mcpd-state-%d|%s|%s",
	    STATE_VERSION, kinds[c->c_kind], c->c_name);
	return n < STATE_AD_MAX ? n : STATE_AD_MAX - 1;
}

int
state_seal(struct mcp_server *srv, const struct mcpd_call *c,
    const char *answers, size_t len, struct jw *out)
{
	unsigned char	 ad[STATE_AD_MAX], *raw, *ct;
	uint64_t	 exp;
	size_t		 rawlen, b64len, adlen, i;
	unsigned long long clen;
	char		*b64;

	if (len > MCP_STATE_MAX)
		return -1;
	adlen = state_ad(c, ad);
	rawlen = 1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 8 + len +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	b64len = sodium_base64_ENCODED_LEN(rawlen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((raw = malloc(rawlen + 8 + len)) == NULL)
		return -1;
	if ((b64 = malloc(b64len)) == NULL) {
		free(raw);
		return -1;
	}
	raw[0] = STATE_VERSION;
	randombytes_buf(raw + 1, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	ct = raw + 1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	/* plaintext: expiry (ms, big-endian), then the answers */
	exp = (uint64_t)(ev_now(srv->sv_loop) * 1000.0) + srv->sv_state_ttl_ms;
	for (i = 0; i < 8; i++)
		ct[i] = (unsigned char)(exp >> (56 - 8 * i));
	memcpy(ct + 8, answers, len);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, ct, 8 + len,
	    ad, adlen, NULL, raw + 1, srv->sv_state_key);
	sodium_bin2base64(b64, b64len, raw,
	    1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + clen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	jw_str(out, b64);
	free(raw);
	free(b64);
	return out->err ? -1 : 0;
}

int
state_open(struct mcp_server *srv, const struct mcpd_call *c,
    const char *state, size_t slen, char **answers, size_t *len,
    const char **why)
{
	unsigned char		 ad[STATE_AD_MAX], *raw;
	unsigned long long	 plen;
	uint64_t		 exp = 0;
	size_t			 rawlen, adlen, i, hdr;
	const size_t		 npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	*answers = NULL;
	*len = 0;
	hdr = 1 + npub;
	if (slen > sodium_base64_ENCODED_LEN(MCP_STATE_MAX + hdr + 8 +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)) {
		*why = "requestState is too long";
		return -1;
	}
	if ((raw = malloc(slen + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	if (sodium_base642bin(raw, slen, state, slen, NULL, &rawlen, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    rawlen < hdr + 8 + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
	    raw[0] != STATE_VERSION) {
		free(raw);
		*why = "requestState is not one of ours";
		return -1;
	}
	adlen = state_ad(c, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(raw + hdr, &plen, NULL,
	    raw + hdr, rawlen - hdr, ad, adlen, raw + 1,
	    srv->sv_state_key) != 0) {
		free(raw);
		*why = "requestState failed verification (tampered, or made "
		    "for another request)";
		return -1;
	}
	for (i = 0; i < 8; i++)
		exp = exp << 8 | raw[hdr + i];
	if ((uint64_t)(ev_now(srv->sv_loop) * 1000.0) > exp) {
		free(raw);
		*why = "requestState has expired";
		return -1;
	}
	memmove(raw, raw + hdr + 8, plen - 8);
	*answers = (char *)raw;
	*len = plen - 8;
	return 0;
}

/*
 * The answers a retry brings: the sealed ones of earlier rounds, then this
 * round's inputResponses (which win).  0, or -1 after answering.
 */
static int
gather_answers(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_ctx *x, enum call_kind kind)
{
	struct mcpd_call	 fake;
	char			*buf = NULL, *nb, key[128], msg[200];
	size_t			 len = 0, n, vlen, klen;
	const char		*why, *text;
	int			 rs, ir, k, v, end;

	rs = engine_param(m, "requestState", JSON_NONE);
	ir = engine_param(m, "inputResponses", JSON_NONE);
	if (rs == -1 && ir == -1)
		return 0;
	if (rs != -1) {
		if (json_type(&m->m_j, rs) != JSON_STRING) {
			fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
			    "Invalid params: requestState must be a string",
			    NULL);
			return -1;
		}
		memset(&fake, 0, sizeof(fake));
		fake.c_kind = kind;
		memcpy(fake.c_name, x->x_name, sizeof(fake.c_name));
		text = json_raw(&m->m_j, rs, &n);
		if (state_open(srv, &fake, text, n, &buf, &len, &why) == -1) {
			snprintf(msg, sizeof(msg), "Invalid params: %s", why);
			log_info("%s%srejected a requestState: %s",
			    x->x_trace[0] ? x->x_trace : "",
			    x->x_trace[0] ? ": " : "", why);
			fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS, msg,
			    NULL);
			return -1;
		}
	}
	if (ir != -1) {
		if (json_type(&m->m_j, ir) != JSON_OBJECT) {
			free(buf);
			fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
			    "Invalid params: inputResponses must be an object",
			    NULL);
			return -1;
		}
		end = json_skip(&m->m_j, ir);
		for (k = ir + 1; k < end; k = json_skip(&m->m_j, v)) {
			v = k + 1;
			if (json_strcpy(&m->m_j, k, key, sizeof(key)) == -1)
				continue;	/* not a key of ours */
			if (json_type(&m->m_j, v) != JSON_OBJECT) {
				free(buf);
				snprintf(msg, sizeof(msg), "Invalid params: "
				    "inputResponses.%.64s must be an object",
				    key);
				fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
				    msg, NULL);
				return -1;
			}
			text = json_text(&m->m_j, v, &vlen);
			klen = strlen(key);
			if (len + klen + vlen + 2 > MCP_STATE_MAX) {
				free(buf);
				fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
				    "Invalid params: inputResponses too large",
				    NULL);
				return -1;
			}
			if ((nb = realloc(buf, len + klen + vlen + 2)) ==
			    NULL) {
				free(buf);
				fail(srv, m, st, 500, JSONRPC_INTERNAL_ERROR,
				    "out of memory", NULL);
				return -1;
			}
			buf = nb;
			memcpy(buf + len, key, klen + 1);
			len += klen + 1;
			/* one line: raw newlines only between tokens */
			memcpy(buf + len, text, vlen);
			for (n = 0; n < vlen; n++)
				if (buf[len + n] == '\n' || buf[len + n] == '\r')
					buf[len + n] = ' ';
			buf[len + vlen] = '\0';
			len += vlen + 1;
		}
	}
	x->x_answers = buf;
	x->x_answers_len = len;
	return 0;
}

/* server/discover */

static void
write_capabilities(struct jw *w)
{
	jw_key(w, "capabilities");
	jw_obj(w);
	jw_key(w, "completions");
	jw_obj(w);
	jw_obj_end(w);
	jw_key(w, "logging");
	jw_obj(w);
	jw_obj_end(w);
	jw_key(w, "prompts");
	jw_obj(w);
	jw_key(w, "listChanged");
	jw_bool(w, 1);
	jw_obj_end(w);
	jw_key(w, "resources");
	jw_obj(w);
	jw_key(w, "subscribe");
	jw_bool(w, 1);
	jw_key(w, "listChanged");
	jw_bool(w, 1);
	jw_obj_end(w);
	jw_key(w, "tools");
	jw_obj(w);
	jw_key(w, "listChanged");
	jw_bool(w, 1);
	jw_obj_end(w);
	jw_key(w, "extensions");
	jw_obj(w);
	jw_key(w, TASKS_EXT);
	jw_obj(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

static enum mcp_disp
do_discover(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st)
{
	struct jw	*w = &srv->sv_out;
	const char	*id;
	size_t		 i, n = 0;

	id = m->m_id >= 0 ? json_text(&m->m_j, m->m_id, &n) : NULL;
	mcp_begin_response(w, id, n);
	jw_obj(w);
	jw_key(w, "supportedVersions");
	jw_arr(w);
	for (i = 0; i < sizeof(all_versions) / sizeof(all_versions[0]); i++)
		jw_str(w, all_versions[i]);
	jw_arr_end(w);
	write_capabilities(w);
	jw_key(w, "serverInfo");
	jw_obj(w);
	jw_key(w, "name");
	jw_str(w, srv->sv_name);
	jw_key(w, "version");
	jw_str(w, srv->sv_version);
	jw_obj_end(w);
	jw_key(w, "ttlMs");
	jw_uint(w, srv->sv_list_ttl_ms);
	jw_key(w, "cacheScope");
	jw_str(w, "public");
	jw_obj_end(w);
	mcp_stamp_result(srv, w, "complete", 0, 0, NULL);
	mcp_end_response(w);
	mcp_send(st, w, 1);
	return MCP_DONE;
}

/* subscriptions/listen */

static void
listener_free(struct mcp_listener *l)
{
	unsigned i;

	for (i = 0; i < l->l_nuris; i++)
		free(l->l_uris[i]);
	free(l);
}

/* one notification for listener l */
static void
listen_send(struct mcp_server *srv, struct mcp_listener *l,
    const char *method, const char *uri, int ack)
{
	struct jw	*w = &srv->sv_out;
	unsigned	 i;

	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "method");
	jw_str(w, method);
	jw_key(w, "params");
	jw_obj(w);
	if (ack) {
		jw_key(w, "notifications");
		jw_obj(w);
		if (l->l_what & LISTEN_TOOLS) {
			jw_key(w, "toolsListChanged");
			jw_bool(w, 1);
		}
		if (l->l_what & LISTEN_PROMPTS) {
			jw_key(w, "promptsListChanged");
			jw_bool(w, 1);
		}
		if (l->l_what & LISTEN_RESOURCES) {
			jw_key(w, "resourcesListChanged");
			jw_bool(w, 1);
		}
		if (l->l_nuris > 0) {
			jw_key(w, "resourceSubscriptions");
			jw_arr(w);
			for (i = 0; i < l->l_nuris; i++)
				jw_str(w, l->l_uris[i]);
			jw_arr_end(w);
		}
		jw_obj_end(w);
	}
	if (uri != NULL) {
		jw_key(w, "uri");
		jw_str(w, uri);
	}
	jw_key(w, "_meta");
	jw_obj(w);
	jw_key(w, META_SUBID);
	jw_raw(w, l->l_id, strlen(l->l_id));
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
	mcp_send(l->l_stream, w, 0);
}

static int
filter_flag(const struct mcp_msg *m, int f, const char *key)
{
	int v, b;

	if ((v = json_get(&m->m_j, f, key)) == -1)
		return 0;
	if (json_bool(&m->m_j, v, &b) == -1)
		return -1;
	return b;
}

static enum mcp_disp
do_listen(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st)
{
	struct mcp_listener	*l;
	const char		*id;
	char			 uri[1024];
	size_t			 n;
	int			 f, a, t, end, tools, prompts, res;

	if ((f = engine_param(m, "notifications", JSON_OBJECT)) == -1)
		return fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
		    "Invalid params: subscriptions/listen needs a "
		    "notifications filter object", NULL);
	tools = filter_flag(m, f, "toolsListChanged");
	prompts = filter_flag(m, f, "promptsListChanged");
	res = filter_flag(m, f, "resourcesListChanged");
	if (tools == -1 || prompts == -1 || res == -1)
		return fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
		    "Invalid params: notification filter flags are booleans",
		    NULL);
	a = json_get(&m->m_j, f, "resourceSubscriptions");
	if (a != -1 && json_type(&m->m_j, a) != JSON_ARRAY)
		return fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
		    "Invalid params: resourceSubscriptions is an array of "
		    "URIs", NULL);
	if (srv->sv_nlisteners >= MCP_LISTENERS_MAX)
		return fail(srv, m, st, 503, MCP_SERVER_ERROR,
		    "too many subscriptions/listen streams", NULL);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return fail(srv, m, st, 500, JSONRPC_INTERNAL_ERROR,
		    "out of memory", NULL);
	l->l_stream = st;
	id = json_text(&m->m_j, m->m_id, &n);
	memcpy(l->l_id, id, n);		/* shorter than MCP_ID_MAX */
	l->l_id[n] = '\0';
	l->l_what = (tools ? LISTEN_TOOLS : 0) |
	    (prompts ? LISTEN_PROMPTS : 0) | (res ? LISTEN_RESOURCES : 0);
	if (a != -1) {
		end = json_skip(&m->m_j, a);
		for (t = a + 1; t < end; t = json_skip(&m->m_j, t)) {
			if (json_type(&m->m_j, t) != JSON_STRING ||
			    json_strcpy(&m->m_j, t, uri, sizeof(uri)) == -1 ||
			    l->l_nuris == MCP_LISTEN_URIS_MAX) {
				listener_free(l);
				return fail(srv, m, st, 400,
				    JSONRPC_INVALID_PARAMS, "Invalid params: "
				    "resourceSubscriptions: at most 64 URIs "
				    "of at most 1023 bytes", NULL);
			}
			if ((l->l_uris[l->l_nuris] = strdup(uri)) == NULL) {
				listener_free(l);
				return fail(srv, m, st, 500,
				    JSONRPC_INTERNAL_ERROR, "out of memory",
				    NULL);
			}
			l->l_nuris++;
		}
	}
	TAILQ_INSERT_TAIL(&srv->sv_listeners, l, l_entry);
	srv->sv_nlisteners++;
	st->s_ops->so_ref(st);
	listen_send(srv, l, "notifications/subscriptions/acknowledged", NULL,
	    1);
	return MCP_ASYNC;
}

void
mcp_listen_gone(struct mcp_server *srv, struct mcp_stream *st)
{
	struct mcp_listener *l;

	TAILQ_FOREACH(l, &srv->sv_listeners, l_entry)
		if (l->l_stream == st)
			break;
	if (l == NULL)
		return;
	TAILQ_REMOVE(&srv->sv_listeners, l, l_entry);
	srv->sv_nlisteners--;
	listener_free(l);
	st->s_ops->so_unref(st);
}

void
listen_notify(struct mcp_server *srv, const char *method, const char *uri)
{
	struct mcp_listener	*l, *next;
	unsigned		 i;
	int			 what = 0;

	if (strcmp(method, "notifications/tools/list_changed") == 0)
		what = LISTEN_TOOLS;
	else if (strcmp(method, "notifications/prompts/list_changed") == 0)
		what = LISTEN_PROMPTS;
	else if (strcmp(method, "notifications/resources/list_changed") == 0)
		what = LISTEN_RESOURCES;
	/* a send may end a stream (a slow reader): walk carefully */
	for (l = TAILQ_FIRST(&srv->sv_listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, l_entry);
		if (what != 0) {
			if (l->l_what & what)
				listen_send(srv, l, method, NULL, 0);
			continue;
		}
		for (i = 0; i < l->l_nuris; i++)
			if (strcmp(l->l_uris[i], uri) == 0)
				break;
		if (i < l->l_nuris)
			listen_send(srv, l, method, uri, 0);
	}
}

/*
 * Shutdown: every listen stream ends with its SubscriptionsListenResult,
 * so the client knows it was not a network failure.
 */
void
mcp_listen_end_all(struct mcp_server *srv)
{
	struct mcp_listener	*l;
	struct mcp_stream	*st;
	struct jw		*w = &srv->sv_out;

	while ((l = TAILQ_FIRST(&srv->sv_listeners)) != NULL) {
		TAILQ_REMOVE(&srv->sv_listeners, l, l_entry);
		srv->sv_nlisteners--;
		st = l->l_stream;
		mcp_begin_response(w, l->l_id, strlen(l->l_id));
		jw_obj(w);
		jw_key(w, "_meta");
		jw_obj(w);
		jw_key(w, META_SUBID);
		jw_raw(w, l->l_id, strlen(l->l_id));
		jw_obj_end(w);
		jw_obj_end(w);
		mcp_stamp_result(srv, w, "complete", 0, w->mark + 9, NULL);
		mcp_end_response(w);
		listener_free(l);
		mcp_send(st, w, 1);
		st->s_ops->so_unref(st);
	}
}

unsigned
mcp_listener_count(const struct mcp_server *srv)
{
	return srv->sv_nlisteners;
}

/* Session-era GET streams: list changes, and subscribed resources. */
static void
session_notify(struct mcp_server *srv, const char *method, const char *uri)
{
	struct mcp_session	*s;
	struct jw		*w = &srv->sv_out;
	unsigned		 i;

	TAILQ_FOREACH(s, &srv->sv_sessions, s_entry) {
		if (s->s_get == NULL)
			continue;	/* no stream to tell it on */
		if (uri != NULL) {
			for (i = 0; i < s->s_nsubs; i++)
				if (strcmp(s->s_subs[i], uri) == 0)
					break;
			if (i == s->s_nsubs)
				continue;
		}
		jw_reset(w);
		jw_obj(w);
		jw_key(w, "jsonrpc");
		jw_str(w, "2.0");
		jw_key(w, "method");
		jw_str(w, method);
		if (uri != NULL) {
			jw_key(w, "params");
			jw_obj(w);
			jw_key(w, "uri");
			jw_str(w, uri);
			jw_obj_end(w);
		}
		jw_obj_end(w);
		mcp_send(s->s_get, w, 0);
	}
}

void
mcp_notify(struct mcp_server *srv, const char *method, const char *uri)
{
	session_notify(srv, method, uri);
	listen_notify(srv, method, uri);
}

void
mcp_set_broadcast(struct mcp_server *srv, mcp_broadcast_fn fn, void *arg)
{
	srv->sv_bcast = fn;
	srv->sv_bcast_arg = arg;
}

/* A change a plugin reports: here, and (through the hook) everywhere. */
static void
changed(struct mcpd_call *c, const char *method, const char *uri)
{
	struct mcp_server *srv = c->c_srv;

	mcp_notify(srv, method, uri);
	if (srv->sv_bcast != NULL)
		srv->sv_bcast(srv->sv_bcast_arg, method, uri);
}

int
mcpd_notify_list_changed(struct mcpd_call *c, const char *list)
{
	char method[64];

	if (strcmp(list, "tools") != 0 && strcmp(list, "prompts") != 0 &&
	    strcmp(list, "resources") != 0)
		return -1;
	snprintf(method, sizeof(method), "notifications/%s/list_changed",
	    list);
	changed(c, method, NULL);
	return 0;
}

void
mcpd_notify_resource_updated(struct mcpd_call *c, const char *uri)
{
	changed(c, "notifications/resources/updated", uri);
}

/* Cancellation: the client closed the stream of a request. */
void
mcp_stream_gone(struct mcp_server *srv, struct mcp_stream *st)
{
	struct mcpd_call *c, *next;

	mcp_listen_gone(srv, st);
	for (c = TAILQ_FIRST(&srv->sv_orphans); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		if (c->c_stream == st && c->c_stateless)
			call_cancel(c, "the client closed the stream");
	}
}

/* notifications/cancelled (stdio): the request, or the listen stream */
static void
cancel_request(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st)
{
	struct mcpd_call	*c;
	struct mcp_listener	*l;
	const char		*id;
	size_t			 n;
	int			 v;

	if ((v = engine_param(m, "requestId", JSON_NONE)) == -1)
		return;
	id = json_text(&m->m_j, v, &n);
	TAILQ_FOREACH(l, &srv->sv_listeners, l_entry) {
		if (l->l_stream == st && strlen(l->l_id) == n &&
		    memcmp(l->l_id, id, n) == 0) {
			TAILQ_REMOVE(&srv->sv_listeners, l, l_entry);
			srv->sv_nlisteners--;
			listener_free(l);
			st->s_ops->so_unref(st);
			return;
		}
	}
	TAILQ_FOREACH(c, &srv->sv_orphans, c_entry) {
		if (c->c_stateless && c->c_stream == st &&
		    strlen(c->c_id) == n && memcmp(c->c_id, id, n) == 0) {
			call_cancel(c, "cancelled by the client");
			return;
		}
	}
}

/* a tools/call of a tool that runs only as a task */
static int
task_required(struct mcp_server *srv, const struct mcp_msg *m)
{
	const struct cat_tool	*t;
	char			 name[256];
	int			 v;

	return (v = engine_param(m, "name", JSON_STRING)) != -1 &&
	    json_strcpy(&m->m_j, v, name, sizeof(name)) != -1 &&
	    (t = cat_tool(&srv->sv_cat, name)) != NULL &&
	    t->t_task == MCPD_TASK_REQUIRED;
}

/* Dispatch */

/* params._meta: 0 with x filled in, or -1 after answering */
static int
read_meta(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_ctx *x, char *version, size_t vlen)
{
	const struct json	*j = &m->m_j;
	char			 lvl[16];
	int			 meta, v, caps, e;

	if ((meta = meta_of(m)) == -1) {
		fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS, "Invalid params: "
		    "params._meta is required in protocol version 2026-07-28",
		    NULL);
		return -1;
	}
	if ((v = json_get(j, meta, META_VERSION)) == -1 ||
	    json_strcpy(j, v, version, vlen) == -1) {
		fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS, "Invalid params: "
		    "_meta." META_VERSION " must be a string", NULL);
		return -1;
	}
	if ((caps = json_get(j, meta, META_CAPS)) == -1 ||
	    json_type(j, caps) != JSON_OBJECT) {
		fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS, "Invalid params: "
		    "_meta." META_CAPS " must be an object", NULL);
		return -1;
	}
	x->x_caps = 0;
	if (json_get(j, caps, "sampling") != -1)
		x->x_caps |= CAP_SAMPLING;
	if (json_get(j, caps, "elicitation") != -1)
		x->x_caps |= CAP_ELICIT;
	if (json_get(j, caps, "roots") != -1)
		x->x_caps |= CAP_ROOTS;
	if ((e = json_get(j, caps, "extensions")) != -1 &&
	    json_type(j, e) == JSON_OBJECT && json_get(j, e, TASKS_EXT) != -1)
		x->x_caps |= CAP_TASKS;
	if ((v = json_get(j, meta, META_INFO)) != -1 &&
	    json_type(j, v) != JSON_OBJECT) {
		fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS, "Invalid params: "
		    "_meta." META_INFO " must be an object", NULL);
		return -1;
	}
	x->x_log_level = -1;
	if ((v = json_get(j, meta, META_LEVEL)) != -1) {
		if (json_strcpy(j, v, lvl, sizeof(lvl)) == -1 ||
		    (x->x_log_level = mcp_level_from_name(lvl)) == -1) {
			fail(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
			    "Invalid params: _meta." META_LEVEL " is not a "
			    "log level", NULL);
			return -1;
		}
	}
	/* W3C trace context, carried into our log lines about the request */
	x->x_trace[0] = '\0';
	if ((v = json_get(j, meta, "traceparent")) != -1) {
		char	tp[64], ts[64];
		int	k;

		if (json_strcpy(j, v, tp, sizeof(tp)) == -1)
			tp[0] = '\0';
		ts[0] = '\0';
		if ((k = json_get(j, meta, "tracestate")) != -1 &&
		    json_strcpy(j, k, ts, sizeof(ts)) == -1)
			ts[0] = '\0';
		if (tp[0] != '\0')
			snprintf(x->x_trace, sizeof(x->x_trace), "trace %s%s%s",
			    tp, ts[0] ? " " : "", ts);
	}
	return 0;
}

enum mcp_disp
mcp_dispatch_stateless(struct mcp_server *srv, struct mcp_msg *m,
    struct mcp_stream *st, const struct mcp_headers *h)
{
	struct mcp_ctx	 x;
	char		 version[32];
	enum mcp_disp	 d;
	enum call_kind	 kind = CALL_TOOL;
	int		 v;

	st->s_status = 0;
	switch (m->m_kind) {
	case MCP_NOTIFICATION:
		/* stdio: notifications/cancelled names a request */
		if (strcmp(m->m_method, "notifications/cancelled") == 0)
			cancel_request(srv, m, st);
		return MCP_ACCEPTED;
	case MCP_RESPONSE:
		/* no server-to-client requests in this era */
		return MCP_ACCEPTED;
	case MCP_BATCH:
		return fail(srv, NULL, st, 400, JSONRPC_INVALID_REQUEST,
		    "Invalid Request: batches are not supported", NULL);
	case MCP_REQUEST:
		break;
	}
	memset(&x, 0, sizeof(x));
	if (read_meta(srv, m, st, &x, version, sizeof(version)) == -1)
		return MCP_DONE;
	log_debug("%s%s%s", m->m_method, x.x_trace[0] ? ": " : "", x.x_trace);
	/* a header that disagrees with _meta first, then the version itself */
	if (h != NULL && check_headers(srv, m, st, h, version) == -1)
		return MCP_DONE;
	if (!mcp_version_stateless(version))
		return unsupported_version(srv, m, st, version);
	if (strcmp(m->m_method, "server/discover") == 0)
		return do_discover(srv, m, st);
	if (tasks_method(srv, m, st, x.x_caps, &d) == 0)
		return d;
	if (strcmp(m->m_method, "tools/call") == 0 && !(x.x_caps & CAP_TASKS) &&
	    task_required(srv, m))
		return fail(srv, m, st, 400, MCP_MISSING_CAPABILITY,
		    "Missing required client capability",
		    "{\"requiredCapabilities\":{\"extensions\":{\""
		    TASKS_EXT "\":{}}}}");
	if (strcmp(m->m_method, "subscriptions/listen") == 0)
		return do_listen(srv, m, st);
	if (strcmp(m->m_method, "tools/call") == 0 ||
	    strcmp(m->m_method, "prompts/get") == 0)
		v = engine_param(m, "name", JSON_STRING);
	else if (strcmp(m->m_method, "resources/read") == 0) {
		v = engine_param(m, "uri", JSON_STRING);
		kind = CALL_READ;
	} else
		v = -1;
	if (strcmp(m->m_method, "prompts/get") == 0)
		kind = CALL_PROMPT;
	if (v != -1 && json_strcpy(&m->m_j, v, x.x_name,
	    sizeof(x.x_name)) == -1)
		x.x_name[0] = '\0';
	if (v != -1 && gather_answers(srv, m, st, &x, kind) == -1)
		return MCP_DONE;
	srv->sv_ctx = &x;
	if (engine_method(srv, NULL, m, st, &d) == -1)
		d = fail(srv, m, st, 404, JSONRPC_METHOD_NOT_FOUND,
		    "Method not found", NULL);
	srv->sv_ctx = NULL;
	free(x.x_answers);	/* no call took them */
	return d;
}
