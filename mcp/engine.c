/*
 * engine.c -- JSON-RPC 2.0 parsing and the session-era method table.
 *
 * A response is written into the server's output buffer (sv_out) and sent
 * to the request's stream at once; the list methods write their items
 * straight from the catalog.  Handlers that may finish later (tools,
 * resource reads, prompts, completions) go through a call context
 * (call.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

static int	param(const struct mcp_msg *, const char *, enum json_type);

static const char *const versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26"
};

static const char *const levels[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency"
};

int
mcp_level_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(s, levels[i]) == 0)
			return (int)i;
	return -1;
}

const char *
mcp_level_name(int l)
{
	if (l < 0 || (size_t)l >= sizeof(levels) / sizeof(levels[0]))
		return "info";
	return levels[l];
}

int
mcp_version_supported(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(v, versions[i]) == 0)
			return 1;
	return 0;
}

/* Echo a version we speak; anything else (2024-11-05 too) gets ours. */
const char *
mcp_version_negotiate(const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(v, versions[i]) == 0)
			return versions[i];
	return MCP_VERSION_LATEST;
}

struct jw *
mcp_server_out(struct mcp_server *srv)
{
	return &srv->sv_out;
}

void
mcp_send(struct mcp_stream *st, struct jw *w, int final)
{
	if (w->err) {
		/* out of memory while writing: say so instead */
		static const char oom[] = "{\"jsonrpc\":\"2.0\",\"id\":null,"
		    "\"error\":{\"code\":-32603,\"message\":\"out of memory\"}}";

		st->s_ops->so_send(st, oom, sizeof(oom) - 1, final);
		return;
	}
	st->s_ops->so_send(st, w->buf, w->len, final);
}

void
mcp_begin_response(struct jw *w, const char *id, size_t idlen)
{
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "id");
	if (id == NULL)
		jw_null(w);
	else
		jw_raw(w, id, idlen);
	jw_key(w, "result");
	w->mark = w->len;
}

void
mcp_end_response(struct jw *w)
{
	jw_obj_end(w);
}

static void
begin_result(struct mcp_server *srv, const struct mcp_msg *m)
{
	size_t		 n = 0;
	const char	*id = NULL;

	if (m->m_id >= 0)
		id = json_text(&m->m_j, m->m_id, &n);
	mcp_begin_response(&srv->sv_out, id, n);
}

void
mcp_write_error(struct mcp_server *srv, const struct mcp_msg *m, int code,
    const char *message)
{
	mcp_write_error_data(srv, m, code, message, NULL);
}

void
mcp_write_error_data(struct mcp_server *srv, const struct mcp_msg *m,
    int code, const char *message, const char *data)
{
	struct jw	*w = &srv->sv_out;
	size_t		 n;
	const char	*id;

	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "id");
	if (m != NULL && m->m_id >= 0) {
		id = json_text(&m->m_j, m->m_id, &n);
		jw_raw(w, id, n);
	} else
		jw_null(w);
	jw_key(w, "error");
	jw_obj(w);
	jw_key(w, "code");
	jw_int(w, code);
	jw_key(w, "message");
	jw_str(w, message);
	if (data != NULL) {
		jw_key(w, "data");
		jw_raw(w, data, strlen(data));
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

static enum mcp_disp
send_error(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int code, const char *message)
{
	mcp_write_error(srv, m, code, message);
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

enum mcp_disp
engine_error(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int code, const char *message)
{
	return send_error(srv, m, st, code, message);
}

/* an error with a data member (JSON text) */
enum mcp_disp
engine_error_data(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int code, const char *message, const char *data)
{
	mcp_write_error_data(srv, m, code, message, data);
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

/* "io.modelcontextprotocol/serverInfo":{...}, the member of a _meta */
void
mcp_write_server_info(struct jw *w, const struct mcp_server *srv)
{
	jw_key(w, "io.modelcontextprotocol/serverInfo");
	jw_obj(w);
	jw_key(w, "name");
	jw_str(w, srv->sv_name);
	jw_key(w, "version");
	jw_str(w, srv->sv_version);
	jw_obj_end(w);
}

void
mcp_stamp_result(struct mcp_server *srv, struct jw *w, const char *type,
    int has_type, size_t meta_off, const char *extra)
{
	struct jw	 t;
	size_t		 at;

	if (w->err || w->mark >= w->len || w->buf[w->mark] != '{')
		return;
	/* the common case, once per response: no allocation */
	if (!has_type && meta_off == 0 && extra == NULL &&
	    strcmp(type, "complete") == 0 && srv->sv_stamp != NULL) {
		at = w->mark + 1;
		jw_insert(w, at, srv->sv_stamp, srv->sv_stamplen -
		    (w->buf[at] == '}'));	/* its "," only before more */
		return;
	}
	jw_init(&t);
	if (meta_off != 0 && meta_off < w->len && w->buf[meta_off] == '{') {
		/* into the result's own _meta */
		jw_obj(&t);
		mcp_write_server_info(&t, srv);
		at = meta_off + 1;
		if (w->buf[at] != '}')
			jw_append(&t, ",", 1);
		if (t.err == 0)
			jw_insert(w, at, t.buf + 1, t.len - 1);
		jw_reset(&t);
		meta_off = 1;	/* done */
	}
	jw_obj(&t);
	if (!has_type) {
		jw_key(&t, "resultType");
		jw_str(&t, type);
	}
	if (meta_off == 0) {
		jw_key(&t, "_meta");
		jw_obj(&t);
		mcp_write_server_info(&t, srv);
		jw_obj_end(&t);
	}
	if (extra != NULL) {
		if (t.len > 1)
			jw_append(&t, ",", 1);
		jw_append(&t, extra, strlen(extra));
	}
	at = w->mark + 1;
	if (t.len > 1) {
		if (w->buf[at] != '}')
			jw_append(&t, ",", 1);
		if (t.err)
			w->err = 1;
		else
			jw_insert(w, at, t.buf + 1, t.len - 1);
	}
	jw_free(&t);
}

static enum mcp_disp
send_result(struct mcp_server *srv, struct mcp_stream *st)
{
	if (srv->sv_ctx != NULL)
		mcp_stamp_result(srv, &srv->sv_out, "complete", 0, 0, NULL);
	mcp_end_response(&srv->sv_out);
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

/* stateless era: how long a list or read may be cached, and by whom */
static void
cacheable(struct mcp_server *srv, struct jw *w, unsigned ttl_ms,
    const char *scope)
{
	if (srv->sv_ctx == NULL)
		return;
	jw_key(w, "ttlMs");
	jw_uint(w, ttl_ms);
	jw_key(w, "cacheScope");
	jw_str(w, scope);
}

int
mcp_msg_parse(struct mcp_server *srv, struct mcp_msg *m, const char *buf,
    size_t len)
{
	struct json	*j = &m->m_j;
	int		 rv, v;

	memset(m, 0, sizeof(*m));
	m->m_id = m->m_params = m->m_result = m->m_error = -1;
	rv = json_parse(j, buf, len, srv->sv_toks, JSON_TOKENS_MAX);
	if (rv != JSON_OK) {
		m->m_j.ntok = 0;
		mcp_write_error(srv, NULL, rv == JSON_E_SYNTAX ?
		    JSONRPC_PARSE_ERROR : JSONRPC_INVALID_REQUEST,
		    rv == JSON_E_SYNTAX ? "Parse error" : json_strerror(rv));
		return -1;
	}
	if (json_type(j, 0) == JSON_ARRAY) {
		m->m_kind = MCP_BATCH;
		return 0;
	}
	if (json_type(j, 0) != JSON_OBJECT)
		goto invalid;
	/* a usable id is echoed even in the error about the rest */
	if ((v = json_get(j, 0, "id")) != -1) {
		size_t n;

		if (json_type(j, v) != JSON_STRING &&
		    json_type(j, v) != JSON_NUMBER)
			goto invalid;
		json_text(j, v, &n);
		if (n >= MCP_ID_MAX) {
			/* too long to keep: it could not be echoed later */
			mcp_write_error(srv, NULL, JSONRPC_INVALID_REQUEST,
			    "Invalid Request: id longer than 127 bytes");
			return -1;
		}
		m->m_id = v;
	}
	if ((v = json_get(j, 0, "jsonrpc")) == -1 || !json_streq(j, v, "2.0"))
		goto invalid;
	if ((v = json_get(j, 0, "method")) != -1) {
		if (json_type(j, v) != JSON_STRING)
			goto invalid;
		if (json_strcpy(j, v, m->m_method, sizeof(m->m_method)) == -1)
			m->m_method[0] = '\0';	/* too long: unknown */
		m->m_kind = m->m_id >= 0 ? MCP_REQUEST : MCP_NOTIFICATION;
		if ((v = json_get(j, 0, "params")) != -1) {
			if (json_type(j, v) != JSON_OBJECT &&
			    json_type(j, v) != JSON_ARRAY)
				goto invalid;
			m->m_params = v;
		}
		return 0;
	}
	m->m_result = json_get(j, 0, "result");
	m->m_error = json_get(j, 0, "error");
	if (m->m_id >= 0 && (m->m_result != -1) != (m->m_error != -1)) {
		m->m_kind = MCP_RESPONSE;
		return 0;
	}
invalid:
	mcp_write_error(srv, m, JSONRPC_INVALID_REQUEST, "Invalid Request");
	return -1;
}

/* params.key as a token of type (JSON_NONE: any), or -1 */
int
engine_param(const struct mcp_msg *m, const char *key, enum json_type type)
{
	return param(m, key, type);
}

static int
param(const struct mcp_msg *m, const char *key, enum json_type type)
{
	int v;

	if (m->m_params < 0 || json_type(&m->m_j, m->m_params) != JSON_OBJECT)
		return -1;
	if ((v = json_get(&m->m_j, m->m_params, key)) == -1)
		return -1;
	if (type != JSON_NONE && json_type(&m->m_j, v) != type)
		return -1;
	return v;
}

/* The page of a list: -1 on a bad cursor. */
static int
page_start(const struct mcp_msg *m, size_t total, size_t *start)
{
	char		 buf[32], *end;
	unsigned long	 v;
	int		 c;

	*start = 0;
	if ((c = param(m, "cursor", JSON_NONE)) == -1)
		return 0;
	if (json_strcpy(&m->m_j, c, buf, sizeof(buf)) == -1 ||
	    buf[0] != 'p')
		return -1;
	v = strtoul(buf + 1, &end, 10);
	if (*end != '\0' || end == buf + 1 || v > total)
		return -1;
	*start = v;
	return 0;
}

static void
page_end(struct jw *w, size_t next, size_t total)
{
	char buf[32];

	if (next < total) {
		snprintf(buf, sizeof(buf), "p%zu", next);
		jw_key(w, "nextCursor");
		jw_str(w, buf);
	}
}

static void
opt_str(struct jw *w, const char *key, const char *v)
{
	if (v != NULL) {
		jw_key(w, key);
		jw_str(w, v);
	}
}

static enum mcp_disp
do_initialize(struct mcp_server *srv, struct mcp_session **sessp,
    struct mcp_msg *m, struct mcp_stream *st)
{
	struct mcp_session	*s;
	struct jw		*w = &srv->sv_out;
	char			 ver[32];
	int			 v, caps;

	if (*sessp != NULL)
		return send_error(srv, m, st, JSONRPC_INVALID_REQUEST,
		    "Server already initialized");
	if ((v = param(m, "protocolVersion", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, ver, sizeof(ver)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "initialize: protocolVersion must be a string");
	if ((s = mcp_session_new(srv)) == NULL)
		return send_error(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "out of memory");
	snprintf(s->s_proto, sizeof(s->s_proto), "%s",
	    mcp_version_negotiate(ver));
	if ((caps = param(m, "capabilities", JSON_OBJECT)) != -1) {
		s->s_cap_sampling = json_get(&m->m_j, caps, "sampling") != -1;
		s->s_cap_elicitation =
		    json_get(&m->m_j, caps, "elicitation") != -1;
		s->s_cap_roots = json_get(&m->m_j, caps, "roots") != -1;
	}
	*sessp = s;
	begin_result(srv, m);
	jw_obj(w);
	jw_key(w, "protocolVersion");
	jw_str(w, s->s_proto);
	jw_key(w, "capabilities");
	jw_obj(w);
	jw_key(w, "logging");
	jw_obj(w);
	jw_obj_end(w);
	jw_key(w, "completions");
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
	jw_obj_end(w);
	jw_key(w, "serverInfo");
	jw_obj(w);
	jw_key(w, "name");
	jw_str(w, srv->sv_name);
	jw_key(w, "version");
	jw_str(w, srv->sv_version);
	jw_obj_end(w);
	jw_obj_end(w);
	return send_result(srv, st);
}

static enum mcp_disp
do_empty(struct mcp_server *srv, struct mcp_msg *m, struct mcp_stream *st)
{
	begin_result(srv, m);
	jw_obj(&srv->sv_out);
	jw_obj_end(&srv->sv_out);
	return send_result(srv, st);
}

static enum mcp_disp
do_tools_list(struct mcp_server *srv, struct mcp_msg *m,
    struct mcp_stream *st)
{
	const struct catalog	*c = &srv->sv_cat;
	struct jw		*w = &srv->sv_out;
	size_t			 i, start, end;

	if (page_start(m, c->ntools, &start) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Invalid cursor");
	end = start + MCP_PAGE_SIZE < c->ntools ? start + MCP_PAGE_SIZE :
	    c->ntools;
	begin_result(srv, m);
	jw_obj(w);
	jw_key(w, "tools");
	jw_arr(w);
	for (i = start; i < end; i++) {
		const struct cat_tool *t = &c->tools[i];

		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, t->t_name);
		opt_str(w, "title", t->t_title);
		opt_str(w, "description", t->t_desc);
		jw_key(w, "inputSchema");
		jw_raw(w, t->t_schema, strlen(t->t_schema));
		if (t->t_annot != NULL) {
			jw_key(w, "annotations");
			jw_raw(w, t->t_annot, strlen(t->t_annot));
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
	page_end(w, end, c->ntools);
	cacheable(srv, w, srv->sv_list_ttl_ms, "public");
	jw_obj_end(w);
	return send_result(srv, st);
}

static enum mcp_disp
do_res_list(struct mcp_server *srv, struct mcp_msg *m,
    struct mcp_stream *st, int templates)
{
	const struct catalog	*c = &srv->sv_cat;
	const struct cat_res	*list = templates ? c->tmpl : c->res;
	size_t			 n = templates ? c->ntmpl : c->nres;
	struct jw		*w = &srv->sv_out;
	size_t			 i, start, end;

	if (page_start(m, n, &start) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Invalid cursor");
	end = start + MCP_PAGE_SIZE < n ? start + MCP_PAGE_SIZE : n;
	begin_result(srv, m);
	jw_obj(w);
	jw_key(w, templates ? "resourceTemplates" : "resources");
	jw_arr(w);
	for (i = start; i < end; i++) {
		jw_obj(w);
		jw_key(w, templates ? "uriTemplate" : "uri");
		jw_str(w, list[i].r_uri);
		jw_key(w, "name");
		jw_str(w, list[i].r_name);
		opt_str(w, "title", list[i].r_title);
		opt_str(w, "description", list[i].r_desc);
		opt_str(w, "mimeType", list[i].r_mime);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	page_end(w, end, n);
	cacheable(srv, w, srv->sv_list_ttl_ms, "public");
	jw_obj_end(w);
	return send_result(srv, st);
}

static enum mcp_disp
do_prompts_list(struct mcp_server *srv, struct mcp_msg *m,
    struct mcp_stream *st)
{
	const struct catalog	*c = &srv->sv_cat;
	struct jw		*w = &srv->sv_out;
	size_t			 i, k, start, end;

	if (page_start(m, c->nprompts, &start) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Invalid cursor");
	end = start + MCP_PAGE_SIZE < c->nprompts ? start + MCP_PAGE_SIZE :
	    c->nprompts;
	begin_result(srv, m);
	jw_obj(w);
	jw_key(w, "prompts");
	jw_arr(w);
	for (i = start; i < end; i++) {
		const struct cat_prompt *p = &c->prompts[i];

		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, p->p_name);
		opt_str(w, "title", p->p_title);
		opt_str(w, "description", p->p_desc);
		jw_key(w, "arguments");
		jw_arr(w);
		for (k = 0; k < p->p_nargs; k++) {
			jw_obj(w);
			jw_key(w, "name");
			jw_str(w, p->p_args[k].name);
			opt_str(w, "description", p->p_args[k].description);
			jw_key(w, "required");
			jw_bool(w, p->p_args[k].required);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	page_end(w, end, c->nprompts);
	cacheable(srv, w, srv->sv_list_ttl_ms, "public");
	jw_obj_end(w);
	return send_result(srv, st);
}

static enum mcp_disp
do_tools_call(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	const struct cat_tool	*t;
	struct mcpd_call	*c;
	const char		*args = "{}";
	size_t			 alen = 2;
	char			 name[256];
	int			 v;

	if ((v = param(m, "name", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, name, sizeof(name)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "tools/call: name must be a string");
	if ((t = cat_tool(&srv->sv_cat, name)) == NULL)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Unknown tool");
	if ((v = param(m, "arguments", JSON_NONE)) != -1) {
		if (json_type(&m->m_j, v) != JSON_OBJECT)
			return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
			    "tools/call: arguments must be an object");
		args = json_text(&m->m_j, v, &alen);
	}
	if ((c = call_new(srv, s, st, CALL_TOOL, m)) == NULL)
		return send_error(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	c->c_task_ok = t->t_task != MCPD_TASK_FORBIDDEN;
	call_enter(c);
	t->t_call(c, args, alen, t->t_arg);
	return call_leave(c);
}

static enum mcp_disp
do_res_read(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	const struct cat_res	*r;
	struct mcpd_call	*c;
	char			 uri[512];
	int			 v;

	if ((v = param(m, "uri", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, uri, sizeof(uri)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "resources/read: uri must be a string");
	if ((r = cat_resource(&srv->sv_cat, uri)) == NULL &&
	    (r = cat_template_match(&srv->sv_cat, uri)) == NULL) {
		char		 data[sizeof(uri) + 32];
		const char	*t;
		size_t		 tn;

		/* -32602 with the URI since 2026-07-28 (SEP-2164) */
		if (srv->sv_ctx == NULL)
			return send_error(srv, m, st, MCP_RESOURCE_NOT_FOUND,
			    "Resource not found");
		t = json_text(&m->m_j, v, &tn);
		if (tn > sizeof(uri) + 16)
			tn = 0;
		snprintf(data, sizeof(data), "{\"uri\":%.*s}", (int)tn, t);
		return engine_error_data(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Resource not found", tn > 0 ? data : "{}");
	}
	if ((c = call_new(srv, s, st, CALL_READ, m)) == NULL)
		return send_error(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	snprintf(c->c_uri, sizeof(c->c_uri), "%s", uri);
	call_enter(c);
	r->r_read(c, c->c_uri, r->r_arg);
	return call_leave(c);
}

static enum mcp_disp
do_subscribe(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st, int on)
{
	char		uri[512];
	unsigned	i;
	int		v;

	if ((v = param(m, "uri", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, uri, sizeof(uri)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "uri must be a string");
	for (i = 0; i < s->s_nsubs; i++)
		if (strcmp(s->s_subs[i], uri) == 0)
			break;
	if (on && i == s->s_nsubs) {
		if (s->s_nsubs == MCP_SUBS_MAX)
			return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
			    "too many subscriptions");
		if ((s->s_subs[s->s_nsubs] = strdup(uri)) == NULL)
			return send_error(srv, m, st, JSONRPC_INTERNAL_ERROR,
			    "out of memory");
		s->s_nsubs++;
	} else if (!on && i < s->s_nsubs) {
		free(s->s_subs[i]);
		s->s_subs[i] = s->s_subs[--s->s_nsubs];
	}
	return do_empty(srv, m, st);
}

static enum mcp_disp
do_prompts_get(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	const struct cat_prompt	*p;
	struct mcpd_call	*c;
	const char		*args = "{}";
	size_t			 alen = 2, k;
	char			 name[256], msg[400];
	int			 v, a = -1;

	if ((v = param(m, "name", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, name, sizeof(name)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "prompts/get: name must be a string");
	if ((p = cat_prompt(&srv->sv_cat, name)) == NULL)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Unknown prompt");
	if ((a = param(m, "arguments", JSON_NONE)) != -1) {
		if (json_type(&m->m_j, a) != JSON_OBJECT)
			return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
			    "prompts/get: arguments must be an object");
		args = json_text(&m->m_j, a, &alen);
	}
	for (k = 0; k < p->p_nargs; k++) {
		if (!p->p_args[k].required)
			continue;
		if (a == -1 || json_get(&m->m_j, a, p->p_args[k].name) == -1) {
			snprintf(msg, sizeof(msg), "Missing required "
			    "argument: %s", p->p_args[k].name);
			return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
			    msg);
		}
	}
	if ((c = call_new(srv, s, st, CALL_PROMPT, m)) == NULL)
		return send_error(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	call_enter(c);
	p->p_get(c, args, alen, p->p_arg);
	return call_leave(c);
}

static enum mcp_disp
do_set_level(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	char	lvl[16];
	int	v, l;

	if ((v = param(m, "level", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, lvl, sizeof(lvl)) == -1 ||
	    (l = mcp_level_from_name(lvl)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "logging/setLevel: unknown level");
	s->s_log_level = l;
	return do_empty(srv, m, st);
}

static enum mcp_disp
do_complete(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	struct mcpd_call	*c;
	char			 type[32], name[512], arg[128], value[512];
	int			 ref, a, v;

	if ((ref = param(m, "ref", JSON_OBJECT)) == -1 ||
	    (a = param(m, "argument", JSON_OBJECT)) == -1 ||
	    (v = json_get(&m->m_j, ref, "type")) == -1 ||
	    json_strcpy(&m->m_j, v, type, sizeof(type)) == -1)
		return send_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "completion/complete: ref and argument are required");
	name[0] = arg[0] = value[0] = '\0';
	if ((v = json_get(&m->m_j, ref, strcmp(type, "ref/resource") == 0 ?
	    "uri" : "name")) != -1)
		json_strcpy(&m->m_j, v, name, sizeof(name));
	if ((v = json_get(&m->m_j, a, "name")) != -1)
		json_strcpy(&m->m_j, v, arg, sizeof(arg));
	if ((v = json_get(&m->m_j, a, "value")) != -1)
		json_strcpy(&m->m_j, v, value, sizeof(value));
	if (srv->sv_cat.complete == NULL) {
		struct jw *w = &srv->sv_out;

		begin_result(srv, m);
		jw_raw(w, "{\"completion\":{\"values\":[],\"total\":0,"
		    "\"hasMore\":false}}", 51);
		return send_result(srv, st);
	}
	if ((c = call_new(srv, s, st, CALL_COMPLETE, m)) == NULL)
		return send_error(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	call_enter(c);
	srv->sv_cat.complete(c, type, name, arg, value,
	    srv->sv_cat.complete_arg);
	return call_leave(c);
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
		s->s_initialized = 1;
	else if (strcmp(m->m_method, "notifications/cancelled") == 0) {
		if ((v = param(m, "requestId", JSON_NONE)) == -1)
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
		return send_error(srv, NULL, st, JSONRPC_INVALID_REQUEST,
		    "batches are not supported");
	case MCP_REQUEST:
		break;
	}
	if (strcmp(meth, "initialize") == 0)
		return do_initialize(srv, sessp, m, st);
	if (strcmp(meth, "ping") == 0)
		return do_empty(srv, m, st);
	if (s == NULL)
		return send_error(srv, m, st, JSONRPC_INVALID_REQUEST,
		    "not initialized");
	if (strcmp(meth, "resources/subscribe") == 0)
		return do_subscribe(srv, s, m, st, 1);
	if (strcmp(meth, "resources/unsubscribe") == 0)
		return do_subscribe(srv, s, m, st, 0);
	if (strcmp(meth, "logging/setLevel") == 0)
		return do_set_level(srv, s, m, st);
	if (engine_method(srv, s, m, st, &d) == 0)
		return d;
	return send_error(srv, m, st, JSONRPC_METHOD_NOT_FOUND,
	    "Method not found");
}

/* The methods both eras have. */
int
engine_method(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st, enum mcp_disp *d)
{
	const char *meth = m->m_method;

	if (strcmp(meth, "tools/call") == 0)
		*d = do_tools_call(srv, s, m, st);
	else if (strcmp(meth, "tools/list") == 0)
		*d = do_tools_list(srv, m, st);
	else if (strcmp(meth, "resources/read") == 0)
		*d = do_res_read(srv, s, m, st);
	else if (strcmp(meth, "resources/list") == 0)
		*d = do_res_list(srv, m, st, 0);
	else if (strcmp(meth, "resources/templates/list") == 0)
		*d = do_res_list(srv, m, st, 1);
	else if (strcmp(meth, "prompts/list") == 0)
		*d = do_prompts_list(srv, m, st);
	else if (strcmp(meth, "prompts/get") == 0)
		*d = do_prompts_get(srv, s, m, st);
	else if (strcmp(meth, "completion/complete") == 0)
		*d = do_complete(srv, s, m, st);
	else
		return -1;
	return 0;
}
