/*
 * head.c -- the rules of a request head, apart from any socket.
 *
 * http-parser gives the target, each header's name and its value in
 * pieces; these functions keep what the MCP endpoint reads and refuse a
 * head that breaks a rule, so that the client gets a clear answer instead
 * of a request judged on cut or merged values:
 *
 *  - the target, names and values together stay within max-header-size
 *    (431);
 *  - a value is kept whole or the head is refused (431): a cut session id
 *    or token would be judged as another one;
 *  - a header that may come once (Host, RFC 9112 3.2; Content-Type; the
 *    Mcp-* headers; Authorization; a given Mcp-Param-NAME) comes once
 *    (400); Accept, a list, may come in several lines, joined by ", "
 *    (RFC 9110 5.3);
 *  - values lose the whitespace around them (RFC 9110 5.5);
 *  - Mcp-Param-* headers past what the engine takes are flagged, and the
 *    engine answers HeaderMismatch for them.
 *
 * A hand-over (peer.c) replays a head through head_add(), so the worker
 * that owns a session judges the very request the receiver read.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "head.h"
#include "util.h"

#define HH_PARAM	HH_COUNT	/* rh_cur: an Mcp-Param-* value */
#define HH_NONE		(-1)		/* rh_cur: a header we do not keep */
#define PARAM_PREFIX	"Mcp-Param-"
#define PARAM_PREFIX_LEN (sizeof(PARAM_PREFIX) - 1)

static const struct {
	const char	*name;		/* canonical */
	size_t		 len;
	size_t		 off;		/* in struct rhead */
	size_t		 size;
	int		 list;		/* may repeat, joined by ", " */
} hdrs[HH_COUNT] = {
#define H(n, f, l)	{ n, sizeof(n) - 1, offsetof(struct rhead, f), \
			  sizeof(((struct rhead *)0)->f), l }
	[HH_HOST] =		H("Host", rh_host, 0),
	[HH_ORIGIN] =		H("Origin", rh_origin, 0),
	[HH_ACCEPT] =		H("Accept", rh_accept, 1),
	[HH_CTYPE] =		H("Content-Type", rh_ctype, 0),
	[HH_SID] =		H("Mcp-Session-Id", rh_sid, 0),
	[HH_PROTO] =		H("MCP-Protocol-Version", rh_proto, 0),
	[HH_LASTEVENT] =	H("Last-Event-ID", rh_lastevent, 0),
	[HH_METHOD] =		H("Mcp-Method", rh_method, 0),
	[HH_NAME] =		H("Mcp-Name", rh_name, 0),
	[HH_AUTH] =		H("Authorization", rh_auth, 0),
	[HH_TE] =		H("Transfer-Encoding", rh_te, 1),
	[HH_EXPECT] =		H("Expect", rh_expect, 0),
#undef H
};

static char *
value_of(struct rhead *h, int which)
{
	return (char *)h + hdrs[which].off;
}

/*
 * Every value is "" and every count 0; the buffers behind them are not
 * cleared (7 KiB a request): nothing reads past what was written.
 */
void
head_init(struct rhead *h, uint32_t max_bytes)
{
	int i;

	h->rh_url[0] = '\0';
	h->rh_urllen = 0;
	h->rh_url_long = 0;
	h->rh_authority[0] = '\0';
	h->rh_absolute = 0;
	h->rh_fieldlen = 0;
	h->rh_in_value = 0;
	h->rh_cur = HH_NONE;
	for (i = 0; i < HH_COUNT; i++)
		value_of(h, i)[0] = '\0';
	h->rh_seen = 0;
	h->rh_params[0] = '\0';
	h->rh_paramslen = 0;
	h->rh_nparams = 0;
	h->rh_params_over = 0;
	h->rh_bytes = 0;
	h->rh_max = max_bytes;
	h->rh_err = HEAD_OK;
	h->rh_errhdr[0] = '\0';
}

static int
refuse(struct rhead *h, enum head_err err, const char *name)
{
	if (h->rh_err == HEAD_OK) {
		h->rh_err = err;
		snprintf(h->rh_errhdr, sizeof(h->rh_errhdr), "%s", name);
	}
	return -1;
}

static int
count(struct rhead *h, size_t len)
{
	if (h->rh_err != HEAD_OK)
		return -1;
	h->rh_bytes += len;
	if (h->rh_bytes > h->rh_max)
		return refuse(h, HEAD_E_TOO_BIG, "");
	return 0;
}

int
head_url(struct rhead *h, const char *at, size_t len)
{
	if (count(h, len) == -1)
		return -1;
	if (h->rh_urllen + len >= sizeof(h->rh_url)) {
		h->rh_url_long = 1;
		return 0;
	}
	memcpy(h->rh_url + h->rh_urllen, at, len);
	h->rh_urllen += len;
	h->rh_url[h->rh_urllen] = '\0';
	return 0;
}

static void
trim(char *s)
{
	size_t n = strlen(s), k = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[k] == ' ' || s[k] == '\t')
		k++;
	if (k > 0)
		memmove(s, s + k, n - k + 1);
}

/* The value just read is whole. */
static void
value_end(struct rhead *h)
{
	if (h->rh_cur == HH_PARAM)
		trim(h->rh_params + h->rh_pval[h->rh_nparams - 1]);
	else if (h->rh_cur != HH_NONE)
		trim(value_of(h, h->rh_cur));
	h->rh_cur = HH_NONE;
}

/* An Mcp-Param-NAME header begins: its name goes in, the value follows. */
static int
param_begin(struct rhead *h, const char *name, size_t n)
{
	size_t		off;
	unsigned	i;

	for (i = 0; i < h->rh_nparams; i++)
		if (strlen(h->rh_params + h->rh_poff[i]) == n &&
		    strncasecmp(h->rh_params + h->rh_poff[i], name, n) == 0)
			return refuse(h, HEAD_E_REPEATED, h->rh_field);
	off = h->rh_paramslen == 0 ? 0 : h->rh_paramslen + 1;
	if (h->rh_params_over || n == 0 ||
	    h->rh_fieldlen >= sizeof(h->rh_field) ||
	    h->rh_nparams == MCP_PARAM_HEADERS_MAX ||
	    off + n + 2 >= sizeof(h->rh_params)) {
		/* the engine answers HeaderMismatch: more than it takes */
		h->rh_params_over = 1;
		return 0;
	}
	memcpy(h->rh_params + off, name, n);
	h->rh_params[off + n] = '\0';
	h->rh_poff[h->rh_nparams] = off;
	h->rh_pval[h->rh_nparams] = off + n + 1;
	h->rh_paramslen = off + n + 1;
	h->rh_params[h->rh_paramslen] = '\0';
	h->rh_nparams++;
	h->rh_cur = HH_PARAM;
	return 0;
}

/* The name is whole, its value begins: which header is it? */
static int
name_end(struct rhead *h)
{
	size_t	n = h->rh_fieldlen;
	int	i;

	h->rh_cur = HH_NONE;
	if (n == 0)
		return refuse(h, HEAD_E_BAD_NAME, "");
	if (n >= sizeof(h->rh_field)) {
		/* longer than any we keep, but it may not hide a param */
		if (strncasecmp(h->rh_field, PARAM_PREFIX,
		    PARAM_PREFIX_LEN) == 0)
			h->rh_params_over = 1;
		return 0;
	}
	h->rh_field[n] = '\0';
	for (i = 0; i < HH_COUNT; i++) {
		if (n != hdrs[i].len ||
		    strcasecmp(h->rh_field, hdrs[i].name) != 0)
			continue;
		if (h->rh_seen & (1U << i)) {
			if (!hdrs[i].list)
				return refuse(h, HEAD_E_REPEATED,
				    hdrs[i].name);
			if (strlen(value_of(h, i)) + 2 >= hdrs[i].size)
				return refuse(h, HEAD_E_VALUE_LONG,
				    hdrs[i].name);
			strcat(value_of(h, i), ", ");
		}
		h->rh_seen |= 1U << i;
		h->rh_cur = i;
		return 0;
	}
	if (n > PARAM_PREFIX_LEN &&
	    strncasecmp(h->rh_field, PARAM_PREFIX, PARAM_PREFIX_LEN) == 0)
		return param_begin(h, h->rh_field + PARAM_PREFIX_LEN,
		    n - PARAM_PREFIX_LEN);
	return 0;
}

int
head_field(struct rhead *h, const char *at, size_t len)
{
	size_t i;

	if (count(h, len) == -1)
		return -1;
	/* a name is a token: no space before the colon (RFC 9112 5.1) */
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)at[i]))
			return refuse(h, HEAD_E_BAD_NAME, "");
	if (h->rh_in_value) {
		value_end(h);
		h->rh_in_value = 0;
		h->rh_fieldlen = 0;
	}
	if (h->rh_fieldlen + len < sizeof(h->rh_field))
		memcpy(h->rh_field + h->rh_fieldlen, at, len);
	h->rh_fieldlen += len;
	return 0;
}

int
head_value(struct rhead *h, const char *at, size_t len)
{
	char	*v;
	size_t	 n, size;

	if (count(h, len) == -1)
		return -1;
	if (!h->rh_in_value) {
		h->rh_in_value = 1;
		if (name_end(h) == -1)
			return -1;
	}
	if (h->rh_cur == HH_NONE)
		return 0;
	if (h->rh_cur == HH_PARAM) {
		if (h->rh_paramslen + len + 1 >= sizeof(h->rh_params)) {
			h->rh_params_over = 1;
			h->rh_cur = HH_NONE;
			return 0;
		}
		memcpy(h->rh_params + h->rh_paramslen, at, len);
		h->rh_paramslen += len;
		h->rh_params[h->rh_paramslen] = '\0';
		return 0;
	}
	v = value_of(h, h->rh_cur);
	size = hdrs[h->rh_cur].size;
	n = strlen(v);
	if (n + len >= size)
		return refuse(h, HEAD_E_VALUE_LONG, hdrs[h->rh_cur].name);
	memcpy(v + n, at, len);
	v[n + len] = '\0';
	return 0;
}

/*
 * The path of the target: an absolute-form target ("http://host/mcp",
 * RFC 9112 3.2.2) names its host, whose authority is kept apart.
 */
static const char *
target_path(const struct rhead *h, const char **auth, size_t *authlen)
{
	const char	*u = h->rh_url, *a, *p;

	if (strncasecmp(u, "http://", 7) == 0)
		a = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		a = u + 8;
	else {
		if (auth != NULL)
			*auth = NULL;
		return u;
	}
	p = a + strcspn(a, "/?");
	if (auth != NULL) {
		*auth = a;
		*authlen = p - a;
	}
	return p;
}

int
head_end(struct rhead *h)
{
	const char	*auth;
	size_t		 n;

	if (h->rh_err != HEAD_OK)
		return -1;
	target_path(h, &auth, &n);
	if ((h->rh_absolute = auth != NULL)) {
		if (n >= sizeof(h->rh_authority))
			return refuse(h, HEAD_E_VALUE_LONG, "Host");
		memcpy(h->rh_authority, auth, n);
		h->rh_authority[n] = '\0';
	}
	if (h->rh_in_value) {
		value_end(h);
		h->rh_in_value = 0;
	} else if (h->rh_fieldlen > 0) {
		/* a name without a value (the parser gives none): empty */
		if (name_end(h) == -1)
			return -1;
		value_end(h);
	}
	h->rh_fieldlen = 0;
	return 0;
}

int
head_add(struct rhead *h, const char *name, const char *value)
{
	if (head_field(h, name, strlen(name)) == -1 ||
	    head_value(h, value, strlen(value)) == -1)
		return -1;
	return head_end(h);
}

const char *
head_get(const struct rhead *h, enum head_hdr which)
{
	return (const char *)h + hdrs[which].off;
}

int
head_has(const struct rhead *h, enum head_hdr which)
{
	return (h->rh_seen & (1U << which)) != 0;
}

int
head_each(const struct rhead *h, head_each_fn fn, void *arg)
{
	char		name[PARAM_PREFIX_LEN + HEAD_NAME_BYTES];
	unsigned	i;

	for (i = 0; i < HH_COUNT; i++)
		if (head_has(h, i) && fn(arg, hdrs[i].name,
		    head_get(h, i)) == -1)
			return -1;
	for (i = 0; i < h->rh_nparams; i++) {
		snprintf(name, sizeof(name), "%s%s", PARAM_PREFIX,
		    h->rh_params + h->rh_poff[i]);
		if (fn(arg, name, h->rh_params + h->rh_pval[i]) == -1)
			return -1;
	}
	return 0;
}

void
head_mcp_headers(const struct rhead *h, struct mcp_headers *m)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->h_version = h->rh_proto[0] != '\0' ? h->rh_proto : NULL;
	m->h_method = head_has(h, HH_METHOD) ? h->rh_method : NULL;
	m->h_name = head_has(h, HH_NAME) ? h->rh_name : NULL;
	for (i = 0; i < h->rh_nparams; i++) {
		m->h_pname[i] = h->rh_params + h->rh_poff[i];
		m->h_pvalue[i] = h->rh_params + h->rh_pval[i];
	}
	m->h_nparams = h->rh_nparams;
	m->h_too_many = h->rh_params_over;
}

int
head_status(const struct rhead *h)
{
	switch (h->rh_err) {
	case HEAD_OK:
		return 200;
	case HEAD_E_TOO_BIG:
	case HEAD_E_VALUE_LONG:
		return 431;
	case HEAD_E_REPEATED:
	case HEAD_E_BAD_NAME:
		break;
	}
	return 400;
}

const char *
head_why(const struct rhead *h, char *buf, size_t len)
{
	switch (h->rh_err) {
	case HEAD_OK:
		snprintf(buf, len, "OK");
		break;
	case HEAD_E_TOO_BIG:
		snprintf(buf, len, "Request Header Fields Too Large: more than "
		    "%u bytes", h->rh_max);
		break;
	case HEAD_E_VALUE_LONG:
		snprintf(buf, len, "Request Header Fields Too Large: the %s "
		    "header is too long", h->rh_errhdr);
		break;
	case HEAD_E_REPEATED:
		snprintf(buf, len, "Bad Request: more than one %s header",
		    h->rh_errhdr);
		break;
	case HEAD_E_BAD_NAME:
		snprintf(buf, len, "Bad Request: a header name that is not a "
		    "token (a space before its colon?)");
		break;
	}
	return buf;
}

int
head_path_is(const struct rhead *h, const char *path)
{
	const char	*u = target_path(h, NULL, NULL);
	size_t		 n = strlen(path);

	return !h->rh_url_long && strncmp(u, path, n) == 0 &&
	    (u[n] == '\0' || u[n] == '?');
}

const char *
head_host(const struct rhead *h)
{
	return h->rh_absolute ? h->rh_authority : h->rh_host;
}

int
head_list_has(const char *v, const char *tok)
{
	size_t	n = strlen(tok);
	int	c0 = tolower((unsigned char)tok[0]);

	for (; *v != '\0'; v++)
		if (tolower((unsigned char)*v) == c0 &&
		    strncasecmp(v, tok, n) == 0)
			return 1;
	return 0;
}
