/*
 * rpc.c -- JSON-RPC 2.0 for the engine: parsing a message, and writing
 * what goes back (the one response envelope, the one error envelope,
 * notifications, the stateless era's result stamp) into the server's
 * output buffer and onto a stream.
 *
 * Every writer here appends to sv_out, which is reset, not freed, between
 * messages: a warmed-up worker allocates nothing to answer.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

void
rpc_init(struct mcp_server *srv)
{
	struct jw w;

	if (srv->sv_stamp != NULL)
		return;
	/* what every complete result of the stateless era starts with */
	jw_init(&w);
	jw_obj(&w);
	jw_key(&w, "resultType");
	jw_str(&w, "complete");
	jw_key(&w, "_meta");
	jw_obj(&w);
	mcp_write_server_info(&w, srv, MCP_META_SERVER_INFO);
	jw_obj_end(&w);
	jw_append(&w, ",", 1);
	if (w.err == 0 && (srv->sv_stamp = strdup(w.buf + 1)) != NULL)
		srv->sv_stamplen = w.len - 1;
	jw_free(&w);
}

void
rpc_free(struct mcp_server *srv)
{
	free(srv->sv_stamp);
	srv->sv_stamp = NULL;
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
		if (n >= MCP_ID_MAX_BYTES) {
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
		if (json_strcpy(j, v, m->m_method, sizeof(m->m_method)) == -1) {
			/* "tools/list\u0000x" is no name of tools/list */
			if (json_has_nul(j, v)) {
				mcp_write_error(srv, m, JSONRPC_INVALID_REQUEST,
				    "Invalid Request: a method name holding a "
				    "NUL character");
				return -1;
			}
			m->m_method[0] = '\0';	/* too long: unknown */
		}
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

const char *
rpc_id(const struct mcp_msg *m, size_t *len)
{
	*len = 0;
	if (m == NULL || m->m_id < 0)
		return NULL;
	return json_text(&m->m_j, m->m_id, len);
}

const char *
mcp_msg_id(const struct mcp_msg *m, size_t *len)
{
	return rpc_id(m, len);
}

int
rpc_param(const struct mcp_msg *m, const char *key, enum json_type type)
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

int
rpc_param_str(const struct mcp_msg *m, const char *key, char *buf,
    size_t len)
{
	int v;

	if ((v = rpc_param(m, key, JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, buf, len) == -1)
		return -1;
	return 0;
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

/* {"jsonrpc":"2.0","id":id (or null), then the caller's member */
static void
begin_envelope(struct jw *w, const char *id, size_t idlen)
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
}

void
mcp_begin_response(struct jw *w, const char *id, size_t idlen)
{
	begin_envelope(w, id, idlen);
	jw_key(w, "result");
	w->mark = w->len;
}

void
mcp_end_response(struct jw *w)
{
	jw_obj_end(w);
}

void
rpc_begin_error(struct jw *w, const char *id, size_t idlen, int code,
    const char *message, const char *data)
{
	begin_envelope(w, id, idlen);
	jw_key(w, "error");
	w->mark = w->len;
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
}

void
rpc_begin_notification(struct jw *w, const char *method)
{
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "jsonrpc");
	jw_str(w, "2.0");
	jw_key(w, "method");
	jw_str(w, method);
}

void
rpc_begin_request(struct jw *w, int64_t id, const char *method,
    const char *params)
{
	char	idtext[24];
	int	n;

	n = snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	begin_envelope(w, idtext, (size_t)n);
	rpc_write_request(w, method, params);
}

void
rpc_write_request(struct jw *w, const char *method, const char *params)
{
	jw_key(w, "method");
	jw_str(w, method);
	if (params != NULL) {
		jw_key(w, "params");
		jw_raw_line(w, params, strlen(params));
	}
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
	const char	*id;
	size_t		 n;

	id = rpc_id(m, &n);
	rpc_begin_error(&srv->sv_out, id, n, code, message, data);
	mcp_end_response(&srv->sv_out);
}

/* An error for a request known by its id's JSON text (none: null). */
void
mcp_write_error_id(struct mcp_server *srv, const char *idtext, size_t idlen,
    int code, const char *message)
{
	rpc_begin_error(&srv->sv_out, idlen > 0 ? idtext : NULL, idlen, code,
	    message, NULL);
	mcp_end_response(&srv->sv_out);
}

enum mcp_disp
rpc_fail(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int code, const char *message)
{
	return rpc_error(srv, m, st, 0, code, message, NULL);
}

enum mcp_disp
rpc_error(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int status, int code, const char *message,
    const char *data)
{
	mcp_write_error_data(srv, m, code, message, data);
	if (status != 0)
		st->s_status = status;
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

void
rpc_begin_result(struct mcp_server *srv, const struct mcp_msg *m)
{
	const char	*id;
	size_t		 n;

	id = rpc_id(m, &n);
	mcp_begin_response(&srv->sv_out, id, n);
}

enum mcp_disp
rpc_end_result(struct mcp_server *srv, struct mcp_stream *st, int stamp)
{
	if (stamp)
		mcp_stamp_result(srv, &srv->sv_out, "complete", 0, 0, NULL);
	mcp_end_response(&srv->sv_out);
	mcp_send(st, &srv->sv_out, 1);
	return MCP_DONE;
}

void
mcp_write_server_info(struct jw *w, const struct mcp_server *srv,
    const char *key)
{
	jw_key(w, key);
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
		mcp_write_server_info(&t, srv, MCP_META_SERVER_INFO);
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
		mcp_write_server_info(&t, srv, MCP_META_SERVER_INFO);
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
