/*
 * methods.c -- the methods both eras serve: the lists (tools, resources,
 * resource templates, prompts), tools/call, resources/read, prompts/get and
 * completion/complete; and the capabilities they amount to.
 *
 * A list is written straight from the catalog into the server's output
 * buffer, a page at a time.  The handlers that may finish later (tools,
 * reads, prompts, completions) get a call context (call.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

/* an empty object as the member key */
static void
empty_member(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_obj(w);
	jw_obj_end(w);
}

/* {"listChanged":true, and subscribe when asked} as the member key */
static void
list_changed_member(struct jw *w, const char *key, int subscribe)
{
	jw_key(w, key);
	jw_obj(w);
	if (subscribe) {
		jw_key(w, "subscribe");
		jw_bool(w, 1);
	}
	jw_key(w, "listChanged");
	jw_bool(w, 1);
	jw_obj_end(w);
}

/* (each era in the member order it has always had) */
void
mcp_write_capabilities(struct jw *w, int stateless)
{
	jw_key(w, "capabilities");
	jw_obj(w);
	if (!stateless)
		empty_member(w, "logging");
	empty_member(w, "completions");
	if (stateless)
		empty_member(w, "logging");
	list_changed_member(w, "prompts", 0);
	list_changed_member(w, "resources", 1);
	list_changed_member(w, "tools", 0);
	if (stateless) {
		jw_key(w, "extensions");
		jw_obj(w);
		empty_member(w, MCP_TASKS_EXT);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

/* the stateless era: how long a list may be cached, and by whom */
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

static enum mcp_disp
send_result(struct mcp_server *srv, struct mcp_stream *st)
{
	return rpc_end_result(srv, st, srv->sv_ctx != NULL);
}

/* The page of a list: -1 on a bad cursor. */
static int
page_start(const struct mcp_msg *m, size_t total, size_t *start)
{
	char		 buf[32], *end;
	unsigned long	 v;
	int		 c;

	*start = 0;
	if ((c = rpc_param(m, "cursor", JSON_NONE)) == -1)
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
opt_str(struct jw *w, const char *key, const char *v)
{
	if (v != NULL) {
		jw_key(w, key);
		jw_str(w, v);
	}
}

/* the name, title and description members of a list item */
static void
write_names(struct jw *w, const char *name, const char *title,
    const char *desc)
{
	jw_key(w, "name");
	jw_str(w, name);
	opt_str(w, "title", title);
	opt_str(w, "description", desc);
}

/*
 * The page of a list of total items that m asks for, [*start, *end), into
 * an open result with an array key: 0, or -1 after answering.
 */
static int
list_begin(struct mcp_server *srv, struct mcp_msg *m, struct mcp_stream *st,
    const char *key, size_t total, size_t *start, size_t *end)
{
	struct jw *w = &srv->sv_out;

	if (page_start(m, total, start) == -1) {
		rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS, "Invalid cursor");
		return -1;
	}
	*end = *start + MCP_PAGE_ITEMS < total ? *start + MCP_PAGE_ITEMS : total;
	rpc_begin_result(srv, m);
	jw_obj(w);
	jw_key(w, key);
	jw_arr(w);
	return 0;
}

/* the array ends; the next page's cursor, if there is one; send it all */
static enum mcp_disp
list_end(struct mcp_server *srv, struct mcp_stream *st, size_t end,
    size_t total)
{
	struct jw	*w = &srv->sv_out;
	char		 buf[32];

	jw_arr_end(w);
	if (end < total) {
		snprintf(buf, sizeof(buf), "p%zu", end);
		jw_key(w, "nextCursor");
		jw_str(w, buf);
	}
	cacheable(srv, w, srv->sv_list_ttl_ms, "public");
	jw_obj_end(w);
	return send_result(srv, st);
}

static enum mcp_disp
do_tools_list(struct mcp_server *srv, struct mcp_msg *m,
    struct mcp_stream *st)
{
	const struct catalog	*c = &srv->sv_cat;
	struct jw		*w = &srv->sv_out;
	size_t			 i, start, end;

	if (list_begin(srv, m, st, "tools", c->ntools, &start, &end) == -1)
		return MCP_DONE;
	for (i = start; i < end; i++) {
		const struct cat_tool *t = &c->tools[i];

		jw_obj(w);
		write_names(w, t->t_name, t->t_title, t->t_desc);
		jw_key(w, "inputSchema");
		jw_raw(w, t->t_schema, strlen(t->t_schema));
		if (t->t_annot != NULL) {
			jw_key(w, "annotations");
			jw_raw(w, t->t_annot, strlen(t->t_annot));
		}
		jw_obj_end(w);
	}
	return list_end(srv, st, end, c->ntools);
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

	if (list_begin(srv, m, st, templates ? "resourceTemplates" :
	    "resources", n, &start, &end) == -1)
		return MCP_DONE;
	for (i = start; i < end; i++) {
		jw_obj(w);
		jw_key(w, templates ? "uriTemplate" : "uri");
		jw_str(w, list[i].r_uri);
		write_names(w, list[i].r_name, list[i].r_title,
		    list[i].r_desc);
		opt_str(w, "mimeType", list[i].r_mime);
		jw_obj_end(w);
	}
	return list_end(srv, st, end, n);
}

static enum mcp_disp
do_prompts_list(struct mcp_server *srv, struct mcp_msg *m,
    struct mcp_stream *st)
{
	const struct catalog	*c = &srv->sv_cat;
	struct jw		*w = &srv->sv_out;
	size_t			 i, k, start, end;

	if (list_begin(srv, m, st, "prompts", c->nprompts, &start, &end) == -1)
		return MCP_DONE;
	for (i = start; i < end; i++) {
		const struct cat_prompt *p = &c->prompts[i];

		jw_obj(w);
		write_names(w, p->p_name, p->p_title, p->p_desc);
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
	return list_end(srv, st, end, c->nprompts);
}

/*
 * params.arguments as JSON text (*args, "{}" when absent): its token, 0
 * when absent, or -1 when it is not an object.
 */
static int
arguments(const struct mcp_msg *m, const char **args, size_t *alen)
{
	int a;

	*args = "{}";
	*alen = 2;
	if ((a = rpc_param(m, "arguments", JSON_NONE)) == -1)
		return 0;
	if (json_type(&m->m_j, a) != JSON_OBJECT)
		return -1;
	*args = json_text(&m->m_j, a, alen);
	return a;
}

static enum mcp_disp
do_tools_call(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	const struct cat_tool	*t;
	struct mcpd_call	*c;
	const char		*args;
	size_t			 alen;
	char			 name[256];

	if (rpc_param_str(m, "name", name, sizeof(name)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "tools/call: name must be a string");
	if ((t = cat_tool(&srv->sv_cat, name)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Unknown tool");
	if (arguments(m, &args, &alen) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "tools/call: arguments must be an object");
	if ((c = call_new(srv, s, st, CALL_TOOL, m)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INTERNAL_ERROR,
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

	if ((v = rpc_param(m, "uri", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, uri, sizeof(uri)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "resources/read: uri must be a string");
	if ((r = cat_resource(&srv->sv_cat, uri)) == NULL &&
	    (r = cat_template_match(&srv->sv_cat, uri)) == NULL) {
		char		 data[sizeof(uri) + 32];
		const char	*t;
		size_t		 tn;

		/* -32602 with the URI since 2026-07-28 (SEP-2164) */
		if (srv->sv_ctx == NULL)
			return rpc_fail(srv, m, st, MCP_RESOURCE_NOT_FOUND,
			    "Resource not found");
		t = json_text(&m->m_j, v, &tn);
		if (tn > sizeof(uri) + 16)
			tn = 0;
		snprintf(data, sizeof(data), "{\"uri\":%.*s}", (int)tn, t);
		return rpc_error(srv, m, st, 0, JSONRPC_INVALID_PARAMS,
		    "Resource not found", tn > 0 ? data : "{}");
	}
	if ((c = call_new(srv, s, st, CALL_READ, m)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	snprintf(c->c_uri, sizeof(c->c_uri), "%s", uri);
	call_enter(c);
	r->r_read(c, c->c_uri, r->r_arg);
	return call_leave(c);
}

static enum mcp_disp
do_prompts_get(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	const struct cat_prompt	*p;
	struct mcpd_call	*c;
	const char		*args;
	size_t			 alen, k;
	char			 name[256], msg[400];
	int			 a;

	if (rpc_param_str(m, "name", name, sizeof(name)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "prompts/get: name must be a string");
	if ((p = cat_prompt(&srv->sv_cat, name)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Unknown prompt");
	if ((a = arguments(m, &args, &alen)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "prompts/get: arguments must be an object");
	for (k = 0; k < p->p_nargs; k++) {
		if (!p->p_args[k].required)
			continue;
		if (a == 0 || json_get(&m->m_j, a, p->p_args[k].name) == -1) {
			snprintf(msg, sizeof(msg), "Missing required "
			    "argument: %s", p->p_args[k].name);
			return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
			    msg);
		}
	}
	if ((c = call_new(srv, s, st, CALL_PROMPT, m)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	call_enter(c);
	p->p_get(c, args, alen, p->p_arg);
	return call_leave(c);
}

static enum mcp_disp
do_complete(struct mcp_server *srv, struct mcp_session *s,
    struct mcp_msg *m, struct mcp_stream *st)
{
	struct mcpd_call	*c;
	char			 type[32], name[512], arg[128], value[512];
	int			 ref, a, v;

	if ((ref = rpc_param(m, "ref", JSON_OBJECT)) == -1 ||
	    (a = rpc_param(m, "argument", JSON_OBJECT)) == -1 ||
	    (v = json_get(&m->m_j, ref, "type")) == -1 ||
	    json_strcpy(&m->m_j, v, type, sizeof(type)) == -1)
		return rpc_fail(srv, m, st, JSONRPC_INVALID_PARAMS,
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

		rpc_begin_result(srv, m);
		jw_raw(w, "{\"completion\":{\"values\":[],\"total\":0,"
		    "\"hasMore\":false}}", 51);
		return send_result(srv, st);
	}
	if ((c = call_new(srv, s, st, CALL_COMPLETE, m)) == NULL)
		return rpc_fail(srv, m, st, JSONRPC_INTERNAL_ERROR,
		    "too many requests in flight");
	call_enter(c);
	srv->sv_cat.complete(c, type, name, arg, value,
	    srv->sv_cat.complete_arg);
	return call_leave(c);
}

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
