/*
 * stateless.c -- the stateless era (MCP 2026-07-28): which era a message
 * is of, the per-request _meta, server/discover, and the dispatcher of the
 * era's requests.
 *
 * Every request stands alone: what the session era kept in a session (the
 * client's capabilities, its log level) comes with each request in _meta,
 * and what a multi round-trip call must remember between rounds travels
 * with the client, sealed (state.c).  So any worker answers any request
 * with no lookup.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

#define META_VERSION	"io.modelcontextprotocol/protocolVersion"
#define META_CAPS	"io.modelcontextprotocol/clientCapabilities"
#define META_INFO	"io.modelcontextprotocol/clientInfo"
#define META_LEVEL	"io.modelcontextprotocol/logLevel"

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

/* UnsupportedProtocolVersionError, into the server's output buffer */
void
mcp_write_unsupported_version(struct mcp_server *srv, const struct mcp_msg *m,
    const char *requested)
{
	struct jw d;

	jw_init(&d);
	jw_obj(&d);
	jw_key(&d, "supported");
	mcp_write_versions(&d);
	jw_key(&d, "requested");
	jw_str(&d, requested != NULL ? requested : "");
	jw_obj_end(&d);
	mcp_write_error_data(srv, m, MCP_UNSUPPORTED_VERSION,
	    "Unsupported protocol version", d.err ? NULL : d.buf);
	jw_free(&d);
}

/* ... and sent, with 400 */
static enum mcp_disp
unsupported_version(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const char *requested)
{
	mcp_write_unsupported_version(srv, m, requested);
	st->s_status = 400;
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

static enum mcp_disp
do_discover(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st)
{
	struct jw *w = &srv->sv_out;

	rpc_begin_result(srv, m);
	jw_obj(w);
	jw_key(w, "supportedVersions");
	mcp_write_versions(w);
	mcp_write_capabilities(w, 1);
	mcp_write_server_info(w, srv, "serverInfo");
	jw_key(w, "ttlMs");
	jw_uint(w, srv->sv_list_ttl_ms);
	jw_key(w, "cacheScope");
	jw_str(w, "public");
	jw_obj_end(w);
	return rpc_end_result(srv, st, 1);
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
	const char		*id;
	size_t			 n;
	int			 v;

	if ((v = rpc_param(m, "requestId", JSON_NONE)) == -1)
		return;
	id = json_text(&m->m_j, v, &n);
	if (listen_cancel(srv, st, id, n))
		return;
	TAILQ_FOREACH(c, &srv->sv_orphans, c_entry) {
		if (c->c_stateless && c->c_stream == st &&
		    strlen(c->c_id) == n && memcmp(c->c_id, id, n) == 0) {
			call_cancel(c, "cancelled by the client");
			return;
		}
	}
}

/* the tool a tools/call names, or NULL */
static const struct cat_tool *
called_tool(struct mcp_server *srv, const struct mcp_msg *m)
{
	char	name[256];

	if (strcmp(m->m_method, "tools/call") != 0 ||
	    rpc_param_str(m, "name", name, sizeof(name)) == -1)
		return NULL;
	return cat_tool(&srv->sv_cat, name);
}

/* -1 after answering that _meta is not what the era requires */
static int
bad_meta(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, const char *message)
{
	rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS, message, NULL);
	return -1;
}

/* params._meta: 0 with x filled in, or -1 after answering */
static int
read_meta(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_ctx *x, char *version, size_t vlen)
{
	const struct json	*j = &m->m_j;
	char			 lvl[16];
	int			 meta, v, caps, e;

	if ((meta = meta_of(m)) == -1)
		return bad_meta(srv, m, st, "Invalid params: params._meta is "
		    "required in protocol version 2026-07-28");
	if ((v = json_get(j, meta, META_VERSION)) == -1 ||
	    json_strcpy(j, v, version, vlen) == -1)
		return bad_meta(srv, m, st, "Invalid params: _meta."
		    META_VERSION " must be a string");
	if ((caps = json_get(j, meta, META_CAPS)) == -1 ||
	    json_type(j, caps) != JSON_OBJECT)
		return bad_meta(srv, m, st, "Invalid params: _meta."
		    META_CAPS " must be an object");
	x->x_caps = 0;
	if (json_get(j, caps, "sampling") != -1)
		x->x_caps |= CAP_SAMPLING;
	if (json_get(j, caps, "elicitation") != -1)
		x->x_caps |= CAP_ELICIT;
	if (json_get(j, caps, "roots") != -1)
		x->x_caps |= CAP_ROOTS;
	if ((e = json_get(j, caps, "extensions")) != -1 &&
	    json_type(j, e) == JSON_OBJECT &&
	    json_get(j, e, MCP_TASKS_EXT) != -1)
		x->x_caps |= CAP_TASKS;
	if ((v = json_get(j, meta, META_INFO)) != -1 &&
	    json_type(j, v) != JSON_OBJECT)
		return bad_meta(srv, m, st, "Invalid params: _meta."
		    META_INFO " must be an object");
	x->x_log_level = -1;
	if ((v = json_get(j, meta, META_LEVEL)) != -1 &&
	    (json_strcpy(j, v, lvl, sizeof(lvl)) == -1 ||
	    (x->x_log_level = mcp_level_from_name(lvl)) == -1))
		return bad_meta(srv, m, st, "Invalid params: _meta."
		    META_LEVEL " is not a log level");
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
	const struct cat_tool	*t;
	struct mcp_ctx		 x;
	char			 version[32];
	enum mcp_disp		 d;
	enum call_kind		 kind = CALL_TOOL;
	int			 v;

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
		return rpc_error(srv, NULL, st, 400, JSONRPC_INVALID_REQUEST,
		    "Invalid Request: batches are not supported", NULL);
	case MCP_REQUEST:
		break;
	}
	memset(&x, 0, sizeof(x));
	mcp_owner_hash(srv->sv_principal, x.x_owner);
	if (read_meta(srv, m, st, &x, version, sizeof(version)) == -1)
		return MCP_DONE;
	log_debug("%s%s%s", m->m_method, x.x_trace[0] ? ": " : "", x.x_trace);
	/* once, for the header check and the task rule */
	t = called_tool(srv, m);
	/* a header that disagrees with _meta first, then the version itself */
	if (h != NULL && check_headers(srv, m, st, h, version,
	    t != NULL ? t->t_schema : NULL) == -1)
		return MCP_DONE;
	if (!mcp_version_stateless(version))
		return unsupported_version(srv, m, st, version);
	if (strcmp(m->m_method, "server/discover") == 0)
		return do_discover(srv, m, st);
	if (tasks_method(srv, m, st, x.x_caps, &d) == 0)
		return d;
	if (t != NULL && t->t_task == MCPD_TASK_REQUIRED &&
	    !(x.x_caps & CAP_TASKS))
		return rpc_error(srv, m, st, 400, MCP_MISSING_CAPABILITY,
		    "Missing required client capability",
		    "{\"requiredCapabilities\":{\"extensions\":{\""
		    MCP_TASKS_EXT "\":{}}}}");
	if (strcmp(m->m_method, "subscriptions/listen") == 0)
		return listen_start(srv, m, st);
	if (strcmp(m->m_method, "tools/call") == 0 ||
	    strcmp(m->m_method, "prompts/get") == 0)
		v = rpc_param(m, "name", JSON_STRING);
	else if (strcmp(m->m_method, "resources/read") == 0) {
		v = rpc_param(m, "uri", JSON_STRING);
		kind = CALL_READ;
	} else
		v = -1;
	if (strcmp(m->m_method, "prompts/get") == 0)
		kind = CALL_PROMPT;
	if (v != -1 && json_strcpy(&m->m_j, v, x.x_name,
	    sizeof(x.x_name)) == -1)
		x.x_name[0] = '\0';
	if (v != -1 && ask_gather_answers(srv, m, st, &x, kind) == -1)
		return MCP_DONE;
	srv->sv_ctx = &x;
	if (engine_method(srv, NULL, m, st, &d) == -1)
		d = rpc_error(srv, m, st, 404, JSONRPC_METHOD_NOT_FOUND,
		    "Method not found", NULL);
	srv->sv_ctx = NULL;
	free(x.x_answers);	/* no call took them */
	return d;
}
