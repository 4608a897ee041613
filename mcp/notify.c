/*
 * notify.c -- change notifications, both eras: the subscriptions/listen
 * streams of the stateless era, the GET streams of session-era sessions,
 * and the hook that carries a change a plugin reports to the other workers.
 *
 * A listen stream stays open (the engine holds a reference on it) until the
 * client closes it, cancels it, or the server shuts down; each change goes
 * to the streams whose filter asked for it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

#define META_SUBID	"io.modelcontextprotocol/subscriptionId"

void
notify_init(struct mcp_server *srv)
{
	TAILQ_INIT(&srv->sv_listeners);
}

void
notify_free(struct mcp_server *srv)
{
	struct mcp_listener *l;

	while ((l = TAILQ_FIRST(&srv->sv_listeners)) != NULL)
		mcp_listen_gone(srv, l->l_stream);
}

static void
listener_free(struct mcp_listener *l)
{
	unsigned i;

	for (i = 0; i < l->l_nuris; i++)
		free(l->l_uris[i]);
	free(l);
}

/* A listener ends without a word: its stream goes back to the transport. */
static void
listener_drop(struct mcp_server *srv, struct mcp_listener *l)
{
	struct mcp_stream *st = l->l_stream;

	TAILQ_REMOVE(&srv->sv_listeners, l, l_entry);
	srv->sv_nlisteners--;
	listener_free(l);
	st->s_ops->so_unref(st);
}

/* "_meta":{"io.modelcontextprotocol/subscriptionId":id} */
static void
write_subid(struct jw *w, const struct mcp_listener *l)
{
	jw_key(w, "_meta");
	jw_obj(w);
	jw_key(w, META_SUBID);
	jw_raw(w, l->l_id, strlen(l->l_id));
	jw_obj_end(w);
}

/* one notification for listener l */
static void
listen_send(struct mcp_server *srv, struct mcp_listener *l,
    const char *method, const char *uri, int ack)
{
	struct jw	*w = &srv->sv_out;
	unsigned	 i;

	rpc_begin_notification(w, method);
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
	write_subid(w, l);
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

enum mcp_disp
listen_start(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st)
{
	struct mcp_listener	*l;
	const char		*id;
	char			 uri[1024];
	size_t			 n;
	int			 f, a, t, end, tools, prompts, res;

	if ((f = rpc_param(m, "notifications", JSON_OBJECT)) == -1)
		return rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
		    "Invalid params: subscriptions/listen needs a "
		    "notifications filter object", NULL);
	tools = filter_flag(m, f, "toolsListChanged");
	prompts = filter_flag(m, f, "promptsListChanged");
	res = filter_flag(m, f, "resourcesListChanged");
	if (tools == -1 || prompts == -1 || res == -1)
		return rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
		    "Invalid params: notification filter flags are booleans",
		    NULL);
	a = json_get(&m->m_j, f, "resourceSubscriptions");
	if (a != -1 && json_type(&m->m_j, a) != JSON_ARRAY)
		return rpc_error(srv, m, st, 400, JSONRPC_INVALID_PARAMS,
		    "Invalid params: resourceSubscriptions is an array of "
		    "URIs", NULL);
	if (srv->sv_nlisteners >= MCP_LISTENERS_MAX)
		return rpc_error(srv, m, st, 503, MCP_SERVER_ERROR,
		    "too many subscriptions/listen streams", NULL);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return rpc_error(srv, m, st, 500, JSONRPC_INTERNAL_ERROR,
		    "out of memory", NULL);
	l->l_stream = st;
	id = json_text(&m->m_j, m->m_id, &n);
	memcpy(l->l_id, id, n);		/* shorter than MCP_ID_MAX_BYTES */
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
				return rpc_error(srv, m, st, 400,
				    JSONRPC_INVALID_PARAMS, "Invalid params: "
				    "resourceSubscriptions: at most 64 URIs "
				    "of at most 1023 bytes", NULL);
			}
			if ((l->l_uris[l->l_nuris] = strdup(uri)) == NULL) {
				listener_free(l);
				return rpc_error(srv, m, st, 500,
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
	if (l != NULL)
		listener_drop(srv, l);
}

int
listen_cancel(struct mcp_server *srv, struct mcp_stream *st, const char *id,
    size_t n)
{
	struct mcp_listener *l;

	TAILQ_FOREACH(l, &srv->sv_listeners, l_entry) {
		if (l->l_stream == st && strlen(l->l_id) == n &&
		    memcmp(l->l_id, id, n) == 0) {
			listener_drop(srv, l);
			return 1;
		}
	}
	return 0;
}

static void
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
		write_subid(w, l);
		jw_obj_end(w);
		/* serverInfo into that _meta, at {"_meta":{ */
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
		rpc_begin_notification(w, method);
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

void
mcp_resource_updated(struct mcp_server *srv, const char *uri)
{
	mcp_notify(srv, "notifications/resources/updated", uri);
}
