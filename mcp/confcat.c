/*
 * confcat.c -- the catalog of mcpd.conf: loaded at start and on each
 * reload, its exec tools (exec.c), file resources (files.c) and prompts
 * (here) registered like a plugin's, under their own owner, so a reload
 * replaces them and nothing a plugin registered.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mcp_int.h"

#define PROMPT_ARGS_TOKENS_MAX	512	/* tokens of prompts/get arguments */

static void
prompt_get(struct mcpd_call *c, const char *args, size_t alen, void *arg)
{
	const struct conf_prompt	*p = arg;
	jsmntok_t			 toks[PROMPT_ARGS_TOKENS_MAX];
	struct json			 j;
	struct jw			 w;
	uint32_t			 i;
	int				 whole;
	char				*text;

	if (json_parse(&j, args, alen, toks,
	    PROMPT_ARGS_TOKENS_MAX) != JSON_OK) {
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "arguments too complex");
		return;
	}
	jw_init(&w);
	jw_obj(&w);
	if (p->p_desc != NULL) {
		jw_key(&w, "description");
		jw_str(&w, p->p_desc);
	}
	jw_key(&w, "messages");
	jw_arr(&w);
	for (i = 0; i < p->p_nmsgs; i++) {
		text = subst_args(p->p_msgs[i].m_text, &j, &whole);
		jw_obj(&w);
		jw_key(&w, "role");
		jw_str(&w, p->p_msgs[i].m_assistant ? "assistant" : "user");
		jw_key(&w, "content");
		jw_obj(&w);
		jw_key(&w, "type");
		jw_str(&w, "text");
		jw_key(&w, "text");
		jw_str(&w, text != NULL ? text : "");
		jw_obj_end(&w);
		jw_obj_end(&w);
		free(text);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (w.err)
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
	else
		call_result_raw(c, w.buf, w.len);
	jw_free(&w);
}

int
mcp_load_conf(struct mcp_server *srv, struct conf *conf, char *err,
    size_t errlen)
{
	struct mcpd_host	 host = { srv, "mcpd.conf", CAT_CONF };
	uint32_t		 i, k;

	srv->sv_list_ttl_ms = conf->c_cache_ttl_ms;
	srv->sv_task_ttl_ms = conf->c_task_ttl_ms;
	if (exec_load(srv, &host, conf, err, errlen) == -1)
		return -1;
	for (i = 0; i < conf->c_nprompts; i++) {
		const struct conf_prompt	*p = &conf->c_prompts[i];
		struct mcpd_prompt_arg		 args[CONF_PROMPT_ARGS_MAX];
		struct mcpd_prompt		 mp;

		for (k = 0; k < p->p_nargs; k++) {
			args[k].name = p->p_args[k].a_name;
			args[k].description = p->p_args[k].a_desc;
			args[k].required = p->p_args[k].a_required;
		}
		memset(&mp, 0, sizeof(mp));
		mp.name = p->p_name;
		mp.title = p->p_title;
		mp.description = p->p_desc;
		mp.args = args;
		mp.nargs = p->p_nargs;
		mp.get = prompt_get;
		mp.arg = (void *)p;
		if (mcpd_register_prompt(&host, &mp) == -1 ||
		    cat_scope_last(&srv->sv_cat, MCPD_ITEM_PROMPT,
		    p->p_scope) == -1) {
			snprintf(err, errlen, "prompt %s (line %d) could not be "
			    "registered", p->p_name, p->p_line);
			return -1;
		}
	}
	return files_load(srv, conf, err, errlen);
}

static void
list_changed(struct mcp_server *srv)
{
	mcp_notify(srv, "notifications/tools/list_changed", NULL);
	mcp_notify(srv, "notifications/resources/list_changed", NULL);
	mcp_notify(srv, "notifications/prompts/list_changed", NULL);
}

int
mcp_reload_conf(struct mcp_server *srv, struct conf *conf, char *err,
    size_t errlen)
{
	cat_drop_owner(&srv->sv_cat, CAT_CONF);
	cat_drop_owner(&srv->sv_cat, CAT_FILES);
	files_unload();
	exec_unload();
	if (mcp_load_conf(srv, conf, err, errlen) == -1)
		return -1;
	list_changed(srv);
	return 0;
}
