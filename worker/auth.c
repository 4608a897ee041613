/*
 * auth.c -- bearer tokens on the HTTP listeners that name an auth block.
 *
 * A request to such a listener carries "Authorization: Bearer TOKEN"
 * (RFC 6750 2.1; a token in the query or the body is not looked at), or
 * gets 401 with a WWW-Authenticate challenge that points to the RFC 9728
 * metadata of the resource, served here, so that a client can find its
 * authorization server.  A token is checked against the auth block's
 * static tokens (common/tokens.c: a hash and a binary search); the
 * principal it stands for is what the request's rate is counted on.
 *
 * Everything here is made once, when the configuration is loaded: the
 * metadata document, its path, and the two challenges.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "tokens.h"

#define AUTH_HEADER_MAX_BYTES	2048	/* a WWW-Authenticate line */

struct wauth {
	const struct conf_auth	*wa_conf;
	struct tokens		 wa_tokens;
	struct jw		 wa_meta;	/* the metadata document */
	char			 wa_meta_path[CONF_AUTH_URI_MAX_BYTES + 64];
	char			 wa_challenge[AUTH_HEADER_MAX_BYTES];
	char			 wa_invalid[AUTH_HEADER_MAX_BYTES];
};

static struct wauth	auths[CONF_AUTHS_MAX];
static uint32_t		nauths;

/* The path of an https URI ("" for none), and the URI up to it. */
static const char *
uri_path(const char *uri, size_t *originlen)
{
	const char *host = strstr(uri, "://"), *p;

	host = host != NULL ? host + 3 : uri;
	p = strchr(host, '/');
	*originlen = p != NULL ? (size_t)(p - uri) : strlen(uri);
	return p != NULL ? p : "";
}

static void
make(struct wauth *wa, const struct conf_auth *a)
{
	char		 url[2 * CONF_AUTH_URI_MAX_BYTES + 64];
	char		 scope[CONF_AUTH_SCOPES_MAX * 64];
	const char	*path;
	size_t		 olen, used = 0;
	uint32_t	 i;
	char		 err[CONF_PATH_MAX_BYTES + 128];

	wa->wa_conf = a;
	/* RFC 9728 3.1: the well-known part goes between host and path */
	path = uri_path(a->a_resource, &olen);
	if (strcmp(path, "/") == 0)
		path = "";
	snprintf(wa->wa_meta_path, sizeof(wa->wa_meta_path), "%s%s",
	    AUTH_META_PREFIX, path);
	snprintf(url, sizeof(url), "%.*s%s", (int)olen, a->a_resource,
	    wa->wa_meta_path);

	jw_init(&wa->wa_meta);
	jw_obj(&wa->wa_meta);
	jw_key(&wa->wa_meta, "resource");
	jw_str(&wa->wa_meta, a->a_resource);
	if (a->a_nservers > 0) {
		jw_key(&wa->wa_meta, "authorization_servers");
		jw_arr(&wa->wa_meta);
		for (i = 0; i < a->a_nservers; i++)
			jw_str(&wa->wa_meta, a->a_servers[i]);
		jw_arr_end(&wa->wa_meta);
	}
	if (a->a_nscopes > 0) {
		jw_key(&wa->wa_meta, "scopes_supported");
		jw_arr(&wa->wa_meta);
		for (i = 0; i < a->a_nscopes; i++)
			jw_str(&wa->wa_meta, a->a_scopes[i]);
		jw_arr_end(&wa->wa_meta);
	}
	jw_key(&wa->wa_meta, "bearer_methods_supported");
	jw_arr(&wa->wa_meta);
	jw_str(&wa->wa_meta, "header");
	jw_arr_end(&wa->wa_meta);
	jw_key(&wa->wa_meta, "resource_name");
	jw_str(&wa->wa_meta, "mcpd");
	jw_obj_end(&wa->wa_meta);
	jw_raw(&wa->wa_meta, "\n", 1);
	if (wa->wa_meta.err)
		fatalx("auth %s: the metadata: out of memory", a->a_name);

	scope[0] = '\0';
	for (i = 0; i < a->a_nscopes && used + strlen(a->a_scopes[i]) + 2 <
	    sizeof(scope); i++)
		used += (size_t)snprintf(scope + used, sizeof(scope) - used,
		    "%s%s", i > 0 ? " " : "", a->a_scopes[i]);
	/* RFC 6750 3.1: no error code when the request had no token */
	if (snprintf(wa->wa_challenge, sizeof(wa->wa_challenge),
	    "WWW-Authenticate: Bearer resource_metadata=\"%s\"%s%s%s\r\n",
	    url, scope[0] ? ", scope=\"" : "", scope, scope[0] ? "\"" : "") >=
	    (int)sizeof(wa->wa_challenge))
		/* the scopes are in the metadata too */
		snprintf(wa->wa_challenge, sizeof(wa->wa_challenge),
		    "WWW-Authenticate: Bearer resource_metadata=\"%s\"\r\n",
		    url);
	snprintf(wa->wa_invalid, sizeof(wa->wa_invalid),
	    "WWW-Authenticate: Bearer resource_metadata=\"%s\", "
	    "error=\"invalid_token\", error_description=\"The access token "
	    "is not valid\"\r\n", url);

	/*
	 * Read as mcpd's user; the supervisor's parse found it readable
	 * as root.  One that fails now leaves no token valid: closed.
	 */
	if (a->a_static_tokens != NULL &&
	    tokens_load(a->a_static_tokens, &wa->wa_tokens, err,
	    sizeof(err)) == -1)
		log_warnx("auth %s: static-tokens: %s: every request to its "
		    "listeners gets 401", a->a_name, err);
}

void
auth_load(const struct conf *c)
{
	uint32_t	i;

	for (i = 0; i < nauths; i++) {
		tokens_free(&auths[i].wa_tokens);
		jw_free(&auths[i].wa_meta);
	}
	memset(auths, 0, sizeof(auths));
	nauths = 0;
	for (i = 0; i < c->c_nauths && i < CONF_AUTHS_MAX; i++)
		make(&auths[nauths++], &c->c_auths[i]);
}

int
auth_of_listener(const struct conf *c, const char *addr, unsigned port)
{
	const struct conf_listener	*l;
	uint32_t			 i;

	for (i = 0; i < c->c_nlisteners; i++) {
		l = &c->c_listeners[i];
		if (l->l_kind == LISTEN_HTTP && l->l_port == port &&
		    strcmp(l->l_addr, addr) == 0)
			return l->l_auth_idx;
	}
	return -1;
}

int
auth_serve_metadata(struct conn *c)
{
	const struct rhead	*h = &c->c_req->r_head;
	const struct wauth	*wa;
	int			 m = c->c_parser.method;

	if (c->c_auth < 0 || (uint32_t)c->c_auth >= nauths)
		return 0;
	if (m != HTTP_GET && m != HTTP_HEAD)
		return 0;
	wa = &auths[c->c_auth];
	if (!head_path_is(h, wa->wa_meta_path) &&
	    !head_path_is(h, AUTH_META_PREFIX))
		return 0;
	reply(c, 200, "application/json", "Cache-Control: max-age=300\r\n",
	    wa->wa_meta.buf, wa->wa_meta.len);
	return 1;
}

/* 401, with the challenge; counted as a refusal of authentication. */
static int
unauthorized(struct conn *c, const char *challenge, const char *message)
{
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[MX_R_AUTH], 1);
	reply_error(c, 401, MCP_SERVER_ERROR, message, challenge);
	return -1;
}

int
auth_check(struct conn *c)
{
	struct hreq		*r = c->c_req;
	const struct wauth	*wa;
	const struct token	*t;
	const char		*a = r->r_head.rh_auth, *tok;

	r->r_principal[0] = '\0';
	if (c->c_auth < 0)
		return 0;
	if ((uint32_t)c->c_auth >= nauths)
		return unauthorized(c, "", "Unauthorized");
	wa = &auths[c->c_auth];
	/* RFC 6750 2.1: b64token after "Bearer" and one or more spaces */
	if (strncasecmp(a, "Bearer ", 7) != 0)
		return unauthorized(c, wa->wa_challenge, "Unauthorized: a "
		    "bearer token is required");
	for (tok = a + 7; *tok == ' '; tok++)
		;
	if (*tok == '\0' ||
	    (t = tokens_find(&wa->wa_tokens, tok, strlen(tok))) == NULL)
		return unauthorized(c, wa->wa_invalid, "Unauthorized: the "
		    "access token is not valid");
	snprintf(r->r_principal, sizeof(r->r_principal), "static:%s",
	    t->tk_name);
	return 0;
}
