/*
 * route.c -- who serves a message: its era, and the partition that keeps
 * what it names.
 *
 * Every transport asks here before anything of a session is touched, so
 * the era is chosen once, by one function, for HTTP and stdio alike: the
 * MCP-Protocol-Version header (and without one, the body's _meta), then,
 * in the session era, the session the request names -- a sealed id says
 * which partition keeps it, so a request that landed on another worker is
 * sent there without a lookup -- and in the stateless era the task a
 * tasks/ request names, likewise.  The transport does what the verdict
 * says: hand the connection over, or call mcp_serve(), which answers a
 * refusal with its error and dispatches the rest to the era's dispatcher.
 *
 * New things that live in one partition (a principal's state, a resumable
 * stream) get their routing here, and no transport learns of them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "mcp_int.h"
#include "scope.h"

#define TASK_ID_MAX		128	/* bytes of a taskId we look at */

/* The partition keeping the task a tasks/ request names, or -1. */
static int
task_owner(struct mcp_server *srv, const struct mcp_msg *m)
{
	char	id[TASK_ID_MAX];
	int	v;

	if (m->m_kind != MCP_REQUEST || strncmp(m->m_method, "tasks/", 6) != 0 ||
	    m->m_params < 0 || json_type(&m->m_j, m->m_params) != JSON_OBJECT ||
	    (v = json_get(&m->m_j, m->m_params, "taskId")) == -1 ||
	    json_strcpy(&m->m_j, v, id, sizeof(id)) == -1)
		return -1;
	return mcp_task_owner(srv, id);
}

/* A tasks/ request names a task of our partition that is not here. */
static int
task_missing(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_route *rt)
{
	unsigned char	rnd[SEALID_RND_BYTES];
	char		id[TASK_ID_MAX];
	int		v;

	if (m == NULL || m->m_kind != MCP_REQUEST ||
	    strncmp(m->m_method, "tasks/", 6) != 0 || m->m_params < 0 ||
	    json_type(&m->m_j, m->m_params) != JSON_OBJECT ||
	    (v = json_get(&m->m_j, m->m_params, "taskId")) == -1 ||
	    json_strcpy(&m->m_j, v, id, sizeof(id)) == -1 ||
	    mcp_task_owner(srv, id) != (int)srv->sv_partition)
		return 0;
	/* (no task here yet: no store either) */
	if (task_id_open(srv, id, rnd) == 0 && task_lookup(srv, rnd) != NULL)
		return 0;
	snprintf(rt->rt_task_id, sizeof(rt->rt_task_id), "%s", id);
	return 1;
}

/*
 * What completing an argument of a prompt or a template needs: the
 * prompt's or the resource's scope (its arguments' values tell what it
 * holds).
 */
static const char *
completion_scope(struct mcp_server *srv, const struct mcp_msg *m)
{
	const struct cat_res	*r;
	const struct cat_prompt	*p;
	char			 val[512];
	size_t			 i;
	int			 ref, v;

	if (m->m_params < 0 ||
	    json_type(&m->m_j, m->m_params) != JSON_OBJECT ||
	    (ref = json_get(&m->m_j, m->m_params, "ref")) == -1 ||
	    json_type(&m->m_j, ref) != JSON_OBJECT ||
	    (v = json_get(&m->m_j, ref, "type")) == -1)
		return NULL;
	if (json_streq(&m->m_j, v, "ref/prompt")) {
		if ((v = json_get(&m->m_j, ref, "name")) != -1 &&
		    json_strcpy(&m->m_j, v, val, sizeof(val)) != -1 &&
		    (p = cat_prompt(&srv->sv_cat, val)) != NULL)
			return p->p_scope;
	} else if (json_streq(&m->m_j, v, "ref/resource")) {
		if ((v = json_get(&m->m_j, ref, "uri")) == -1 ||
		    json_strcpy(&m->m_j, v, val, sizeof(val)) == -1)
			return NULL;
		/* a template by its uriTemplate, or what one matches */
		for (i = 0; i < srv->sv_cat.ntmpl; i++)
			if (strcmp(srv->sv_cat.tmpl[i].r_uri, val) == 0)
				return srv->sv_cat.tmpl[i].r_scope;
		if ((r = cat_resource(&srv->sv_cat, val)) != NULL ||
		    (r = cat_template_match(&srv->sv_cat, val)) != NULL)
			return r->r_scope;
	}
	return NULL;
}

const char *
mcp_scope_lacking(struct mcp_server *srv, const struct mcp_msg *m,
    const char *granted)
{
	const struct cat_tool	*t;
	const struct cat_res	*r;
	const struct cat_prompt	*p;
	const char		*need = NULL;
	/* the dispatch's bounds: a longer name or URI is found by neither */
	char			 name[256], uri[512];

	if (m == NULL || m->m_kind != MCP_REQUEST)
		return NULL;
	if (strcmp(m->m_method, "tools/call") == 0) {
		if (rpc_param_str(m, "name", name, sizeof(name)) == 0 &&
		    (t = cat_tool(&srv->sv_cat, name)) != NULL)
			need = t->t_scope;
	} else if (strcmp(m->m_method, "resources/read") == 0 ||
	    strcmp(m->m_method, "resources/subscribe") == 0) {
		if (rpc_param_str(m, "uri", uri, sizeof(uri)) == 0 &&
		    ((r = cat_resource(&srv->sv_cat, uri)) != NULL ||
		    (r = cat_template_match(&srv->sv_cat, uri)) != NULL))
			need = r->r_scope;
	} else if (strcmp(m->m_method, "prompts/get") == 0) {
		if (rpc_param_str(m, "name", name, sizeof(name)) == 0 &&
		    (p = cat_prompt(&srv->sv_cat, name)) != NULL)
			need = p->p_scope;
	} else if (strcmp(m->m_method, "completion/complete") == 0)
		need = completion_scope(srv, m);
	if (need == NULL || scope_has_all(granted != NULL ? granted : "",
	    need))
		return NULL;
	return need;
}

/* The session era's rules: the session the request names, if any. */
static enum mcp_verdict
session_route(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_route *rt)
{
	int init, owner;

	init = m != NULL && m->m_kind == MCP_REQUEST &&
	    strcmp(m->m_method, "initialize") == 0;
	if (!rt->rt_by_header)
		return MCP_ROUTE_SERVE;	/* the transport's own session */
	rt->rt_sess = NULL;
	if (rt->rt_sid == NULL || rt->rt_sid[0] == '\0') {
		if (!init)
			return MCP_ROUTE_NO_SID;
		rt->rt_new_session = 1;
		return MCP_ROUTE_SERVE;
	}
	if ((rt->rt_sess = mcp_session_find(srv, rt->rt_sid, &owner)) !=
	    NULL && mcp_session_expired(srv, rt->rt_sess)) {
		mcp_session_close(srv, rt->rt_sess);
		rt->rt_sess = NULL;
		return MCP_ROUTE_NO_SESSION;
	}
	if (rt->rt_sess == NULL) {
		if (owner >= 0 && (unsigned)owner != srv->sv_partition) {
			rt->rt_owner = owner;
			return MCP_ROUTE_PEER;
		}
		return MCP_ROUTE_NO_SESSION;
	}
	if (!mcp_owned_by(rt->rt_sess->s_owner, rt->rt_principal)) {
		rt->rt_sess = NULL;
		return MCP_ROUTE_NO_SESSION;
	}
	return init ? MCP_ROUTE_INITIALIZED : MCP_ROUTE_SERVE;
}

enum mcp_verdict
mcp_route(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_route *rt)
{
	int owner;

	rt->rt_owner = -1;
	rt->rt_task = 0;
	rt->rt_task_missing = 0;
	rt->rt_new_session = 0;
	rt->rt_need = NULL;
	rt->rt_era = mcp_era(rt->rt_version, m);
	switch (rt->rt_era) {
	case MCP_ERA_UNSUPPORTED:
		rt->rt_verdict = MCP_ROUTE_UNSUPPORTED;
		break;
	case MCP_ERA_STATELESS:
		rt->rt_verdict = MCP_ROUTE_SERVE;
		rt->rt_sess = NULL;	/* this era has none */
		if (m != NULL && (owner = task_owner(srv, m)) >= 0 &&
		    (unsigned)owner != srv->sv_partition) {
			rt->rt_owner = owner;
			rt->rt_task = 1;
			rt->rt_verdict = MCP_ROUTE_PEER;
		}
		break;
	case MCP_ERA_SESSION:
		rt->rt_verdict = session_route(srv, m, rt);
		break;
	}
	if (rt->rt_verdict == MCP_ROUTE_SERVE)
		rt->rt_task_missing = task_missing(srv, m, rt);
	/* here, before anything of it runs or a byte of the answer goes */
	if (rt->rt_verdict == MCP_ROUTE_SERVE && rt->rt_scopes != NULL &&
	    (rt->rt_need = mcp_scope_lacking(srv, m, rt->rt_scopes)) != NULL)
		rt->rt_verdict = MCP_ROUTE_SCOPE;
	return rt->rt_verdict;
}

int
mcp_route_error(struct mcp_server *srv, const struct mcp_msg *m,
    const struct mcp_route *rt)
{
	switch (rt->rt_verdict) {
	case MCP_ROUTE_SERVE:
	case MCP_ROUTE_PEER:
		break;
	case MCP_ROUTE_UNSUPPORTED:
		mcp_write_unsupported_version(srv, m, rt->rt_version);
		return 400;
	case MCP_ROUTE_NO_SID:
		mcp_write_error(srv, NULL, MCP_SERVER_ERROR,
		    "Bad Request: Mcp-Session-Id header is required");
		return 400;
	case MCP_ROUTE_INITIALIZED:
		mcp_write_error(srv, NULL, JSONRPC_INVALID_REQUEST,
		    "Invalid Request: Server already initialized");
		return 400;
	case MCP_ROUTE_NO_SESSION:
		mcp_write_error(srv, NULL, MCP_SESSION_NOT_FOUND,
		    "Session not found");
		return 404;
	case MCP_ROUTE_SCOPE:
		mcp_write_error(srv, NULL, MCP_SERVER_ERROR,
		    "Forbidden: insufficient scope");
		return 403;
	case MCP_ROUTE_GONE:
		/*
		 * The worker that keeps it is not there: with a registry, and
		 * when it went away lately, its successor is starting and
		 * adopts what it kept (try again); without one, or long gone
		 * (a reload made fewer workers), that went with it.
		 */
		if (!rt->rt_task && srv->sv_reg != NULL && rt->rt_away) {
			mcp_write_error_data(srv, NULL, MCP_SERVER_ERROR,
			    "Service Unavailable: the worker that keeps the "
			    "session is starting", MCP_RETRY_DATA);
			return 503;
		}
		if (!rt->rt_task) {
			mcp_write_error(srv, NULL, MCP_SESSION_NOT_FOUND,
			    "Session not found");
			return 404;
		}
		mcp_write_error(srv, m, JSONRPC_INVALID_PARAMS,
		    "Failed to retrieve task: Task not found");
		return 200;
	}
	mcp_write_error(srv, m, JSONRPC_INTERNAL_ERROR, "no such route");
	return 500;
}

enum mcp_disp
mcp_serve(struct mcp_server *srv, const struct mcp_route *rt,
    struct mcp_session **sessp, struct mcp_msg *m, struct mcp_stream *st,
    const struct mcp_headers *h)
{
	enum mcp_disp		 d;
	struct mcp_session	*before = *sessp;

	if (rt->rt_verdict != MCP_ROUTE_SERVE) {
		st->s_status = mcp_route_error(srv, m, rt);
		mcp_send(st, &srv->sv_out, 1);
		return MCP_DONE;
	}
	/* what the dispatch makes (a task, a run) is the principal's */
	srv->sv_principal = rt->rt_principal;
	if (rt->rt_era == MCP_ERA_STATELESS) {
		d = mcp_dispatch_stateless(srv, m, st, h);
		srv->sv_principal = NULL;
		return d;
	}
	/* a cancel names a request of this stream, of either era (stdio) */
	if (m->m_kind == MCP_NOTIFICATION &&
	    strcmp(m->m_method, "notifications/cancelled") == 0)
		(void)mcp_dispatch_stateless(srv, m, st, NULL);
	d = mcp_dispatch(srv, sessp, m, st);
	srv->sv_principal = NULL;
	/* an initialize opened it: it is its principal's */
	if (*sessp != NULL && *sessp != before) {
		mcp_owner_hash(rt->rt_principal, (*sessp)->s_owner);
		sess_changed(*sessp);
	}
	return d;
}
