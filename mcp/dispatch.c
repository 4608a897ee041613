/*
 * dispatch.c -- the session era's dispatcher: initialize (which makes the
 * session), ping, resource subscriptions, the log level, the client's
 * notifications and its answers to our requests; every other method is
 * one both eras serve (methods.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

static enum mcp_disp
do_initialize(struct mcp_server *srv, struct mcp_session **sessp,
    struct mcp_msg *m, struct mcp_stream *st)
{
	struct mcp_session	*s;
	struct jw		*w = &srv->sv_out;
	char			 ver[32];
	int			 caps;

	if (*sessp != NULL)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_REQUEST,
		    "Server already initialized");
	if (rpc_param_str(m, "protocolVersion", ver, sizeof(ver)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "initialize: protocolVersion must be a string");
	if ((s = mcp_session_new(srv)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "out of memory");
	snprintf(s->s_proto, sizeof(s->s_proto), "%s",
	    mcp_version_negotiate(ver));
	if ((caps = rpc_param(m, "capabilities", JSON_OBJECT)) != -1) {
		s->s_cap_sampling = json_get(&m->m_j, caps, "sampling") != -1;
		s->s_cap_elicitation =
		    json_get(&m->m_j, caps, "elicitation") != -1;
		s->s_cap_roots = json_get(&m->m_j, caps, "roots") != -1;
	}
	*sessp = s;
	rpc_begin_result(srv, m);
	jw_obj(w);
	jw_key(w, "protocolVersion");
	jw_str(w, s->s_proto);
	mcp_write_capabilities(w, 0);
	mcp_write_server_info(w, srv, "serverInfo");
	jw_obj_end(w);
	return rpc_end_result(srv, st, 0);
}

static enum mcp_disp
do_empty(struct mcp_server *srv, struct mcp_msg *m, struct mcp_stream *st)
{
	rpc_begin_result(srv, m);
	jw_obj(&srv->sv_out);
	jw_obj_end(&srv->sv_out);
	return rpc_end_result(srv, st, 0);
}

static enum mcp_disp
do_subscribe(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st, int on)
{
	char		uri[512];
	unsigned	i;

	if (rpc_param_str(m, "uri", uri, sizeof(uri)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "uri must be a string");
	for (i = 0; i < s->s_nsubs; i++)
		if (strcmp(s->s_subs[i], uri) == 0)
			break;
	if (on && i == s->s_nsubs) {
		if (s->s_nsubs == MCP_SUBS_MAX)
			return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
			    "too many subscriptions");
		if ((s->s_subs[s->s_nsubs] = strdup(uri)) == NULL)
			return rpc_fail(srv, m, st, JSONRPC_INTERNAL_ERROR,
			    "out of memory");
		s->s_nsubs++;
		sess_changed(s);
	} else if (!on && i < s->s_nsubs) {
		free(s->s_subs[i]);
		s->s_subs[i] = s->s_subs[--s->s_nsubs];
		sess_changed(s);
	}
	return do_empty(srv, m, st);
}

static enum mcp_disp
do_set_level(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	char	lvl[16];
	int	l;

	if (rpc_param_str(m, "level", lvl, sizeof(lvl)) == -1 ||
	    (l = mcp_level_from_name(lvl)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "logging/setLevel: unknown level");
	s->s_log_level = l;
	sess_changed(s);
	return do_empty(srv, m, st);
}

static void
do_notification(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m)
{
	struct mcpd_call	*c;
	const char		*id;
	size_t			 n;
	int			 v;

	if (s == NULL)
		return;
	if (strcmp(m->m_method, "notifications/initialized") == 0)
		s->s_initialized = 1;	/* gates nothing: not worth a record */
	else if (strcmp(m->m_method, "notifications/cancelled") == 0) {
		if ((v = rpc_param(m, "requestId", JSON_NONE)) == -1)
			return;
		id = json_text(&m->m_j, v, &n);
		TAILQ_FOREACH(c, &s->s_calls, c_entry) {
			if (strlen(c->c_id) == n &&
			    memcmp(c->c_id, id, n) == 0) {
				call_cancel(c, "cancelled by the client");
				break;
			}
		}
	}
	/* notifications/roots/list_changed and others: nothing to do */
}

enum mcp_disp
mcp_dispatch(struct mcp_server *srv, struct mcp_session **sessp,
    struct mcp_msg *m, struct mcp_stream *st)
{
	struct mcp_session	*s = *sessp;
	const char		*meth = m->m_method;
	int64_t			 id;
	size_t			 n;
	const char		*txt;
	int			 tok;
	enum mcp_disp		 d;

	if (s != NULL)
		mcp_session_touch(s);
	switch (m->m_kind) {
	case MCP_NOTIFICATION:
		do_notification(srv, s, m);
		return MCP_ACCEPTED;
	case MCP_RESPONSE:
		if (s != NULL && json_int64(&m->m_j, m->m_id, &id) == 0) {
			tok = m->m_result != -1 ? m->m_result : m->m_error;
			txt = json_text(&m->m_j, tok, &n);
			call_reply(s, id, m->m_error != -1, txt, n);
		}
		return MCP_ACCEPTED;
	case MCP_BATCH:
		return rpc_fail(srv, NULL, st, JSONRPC_INVALID_REQUEST,
		    "batches are not supported");
	case MCP_REQUEST:
		break;
	}
	if (strcmp(meth, "initialize") == 0)
		return do_initialize(srv, sessp, m, st);
	if (strcmp(meth, "ping") == 0)
		return do_empty(srv, m, st);
	if (s == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_REQUEST,
		    "not initialized");
	if (strcmp(meth, "resources/subscribe") == 0)
		return do_subscribe(srv, s, m, st, 1);
	if (strcmp(meth, "resources/unsubscribe") == 0)
		return do_subscribe(srv, s, m, st, 0);
	if (strcmp(meth, "logging/setLevel") == 0)
		return do_set_level(srv, s, m, st);
	if (engine_method(srv, s, m, st, &d) == 0)
		return d;
	return rpc_fail(srv, m, st, JSONRPC_METHOD_NOT_FOUND,
	    "Method not found");
}
