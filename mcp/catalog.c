/*
 * catalog.c -- the catalog: the tools, resources, resource templates and
 * prompts that plugins and mcpd.conf register (the registration half of
 * the plugin ABI), and their lookup.
 *
 * Lists keep registration order, so every list is deterministic.  Every
 * entry records its owner, so a reload of mcpd.conf replaces its own only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"
#include "scope.h"

#define CAT_ENTRIES_MAX		100000	/* entries of one kind */

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
res_free(struct cat_res *r)
{
	free(r->r_uri);
	free(r->r_name);
	free(r->r_title);
	free(r->r_desc);
	free(r->r_mime);
	free(r->r_scope);
}

static void
tool_free(struct cat_tool *t)
{
	free(t->t_name);
	free(t->t_title);
	free(t->t_desc);
	free(t->t_schema);
	free(t->t_annot);
	free(t->t_scope);
}

static void
prompt_free(struct cat_prompt *p)
{
	size_t k;

	free(p->p_name);
	free(p->p_title);
	free(p->p_desc);
	for (k = 0; k < p->p_nargs; k++) {
		free((char *)p->p_args[k].name);
		free((char *)p->p_args[k].description);
	}
	free(p->p_args);
	free(p->p_scope);
}

void
cat_free(struct catalog *c)
{
	size_t i;

	for (i = 0; i < c->ntools; i++)
		tool_free(&c->tools[i]);
	for (i = 0; i < c->nres; i++)
		res_free(&c->res[i]);
	for (i = 0; i < c->ntmpl; i++)
		res_free(&c->tmpl[i]);
	for (i = 0; i < c->nprompts; i++)
		prompt_free(&c->prompts[i]);
	free(c->tools);
	free(c->res);
	free(c->tmpl);
	free(c->prompts);
	memset(c, 0, sizeof(*c));
}

/* Remove every entry of one owner, keeping the others in their order. */
void
cat_drop_owner(struct catalog *c, int owner)
{
	size_t i, n;

#define DROP(arr, count, field, freefn) do {			\
	for (i = n = 0; i < (count); i++) {			\
		if ((arr)[i].field == owner)			\
			freefn(&(arr)[i]);			\
		else						\
			(arr)[n++] = (arr)[i];			\
	}							\
	(count) = n;						\
} while (0)
	DROP(c->tools, c->ntools, t_owner, tool_free);
	DROP(c->res, c->nres, r_owner, res_free);
	DROP(c->tmpl, c->ntmpl, r_owner, res_free);
	DROP(c->prompts, c->nprompts, p_owner, prompt_free);
#undef DROP
}

/* JSON text kept for lists goes out on one line (see jw_raw_line). */
static char *
one_line(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

static int
grow(void **arr, size_t n, size_t size)
{
	void *p;

	if (n >= CAT_ENTRIES_MAX)
		return -1;
	if ((p = realloc(*arr, (n + 1) * size)) == NULL)
		return -1;
	*arr = p;
	return 0;
}

static int
valid_object(const char *text)
{
	jsmntok_t	toks[1024];
	struct json	j;

	return text != NULL && json_parse(&j, text, strlen(text), toks,
	    1024) == JSON_OK && json_type(&j, 0) == JSON_OBJECT;
}

const struct cat_tool *
cat_tool(const struct catalog *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ntools; i++)
		if (strcmp(c->tools[i].t_name, name) == 0)
			return &c->tools[i];
	return NULL;
}

const struct cat_res *
cat_resource(const struct catalog *c, const char *uri)
{
	size_t i;

	for (i = 0; i < c->nres; i++)
		if (strcmp(c->res[i].r_uri, uri) == 0)
			return &c->res[i];
	return NULL;
}

/*
 * RFC 6570 levels 1 and 2: {var} matches one or more characters but '/',
 * {+var} (reserved expansion) any, '/' included.
 */
static int
tmpl_match(const char *t, const char *u)
{
	while (*t != '\0') {
		if (*t == '{') {
			const char *e = strchr(t, '}');
			size_t n = 0;
			int plus = t[1] == '+';

			if (e == NULL)
				return 0;
			t = e + 1;
			while (u[n] != '\0' && (plus || u[n] != '/') &&
			    (*t == '\0' || u[n] != *t))
				n++;
			if (n == 0)
				return 0;
			u += n;
			continue;
		}
		if (*t++ != *u++)
			return 0;
	}
	return *u == '\0';
}

const struct cat_res *
cat_template_match(const struct catalog *c, const char *uri)
{
	size_t i;

	for (i = 0; i < c->ntmpl; i++)
		if (tmpl_match(c->tmpl[i].r_uri, uri))
			return &c->tmpl[i];
	return NULL;
}

const struct cat_prompt *
cat_prompt(const struct catalog *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nprompts; i++)
		if (strcmp(c->prompts[i].p_name, name) == 0)
			return &c->prompts[i];
	return NULL;
}

int
mcpd_register_tool(struct mcpd_host *h, const struct mcpd_tool *t)
{
	struct catalog	*c = &h->h_srv->sv_cat;
	struct cat_tool	*n;
	char		 why[200];

	if (t->name == NULL || t->call == NULL ||
	    cat_tool(c, t->name) != NULL || !valid_object(t->input_schema) ||
	    (t->annotations != NULL && !valid_object(t->annotations))) {
		log_warnx("plugin %s: tool %s refused (duplicate, or a schema "
		    "that is not a JSON object)", h->h_name,
		    t->name ? t->name : "(null)");
		return -1;
	}
	if (mcp_xhdr_valid(t->input_schema, why, sizeof(why)) == -1) {
		/* clients drop such a tool: refuse it here, and say why */
		log_warnx("plugin %s: tool %s refused: %s", h->h_name, t->name,
		    why);
		return -1;
	}
	if (grow((void **)&c->tools, c->ntools, sizeof(*c->tools)) == -1)
		return -1;
	n = &c->tools[c->ntools];
	memset(n, 0, sizeof(*n));
	n->t_name = xstrdup(t->name);
	n->t_title = xstrdup(t->title);
	n->t_desc = xstrdup(t->description);
	n->t_schema = one_line(xstrdup(t->input_schema));
	n->t_annot = one_line(xstrdup(t->annotations));
	n->t_call = t->call;
	n->t_arg = t->arg;
	n->t_owner = h->h_owner;
	c->ntools++;
	return 0;
}

int
mcpd_set_task_support(struct mcpd_host *h, const char *tool,
    enum mcpd_task_support support)
{
	struct catalog	*c = &h->h_srv->sv_cat;
	size_t		 i;

	if (support > MCPD_TASK_REQUIRED)
		return -1;
	for (i = 0; i < c->ntools; i++)
		if (strcmp(c->tools[i].t_name, tool) == 0) {
			c->tools[i].t_task = support;
			return 0;
		}
	return -1;
}

/* *dst = a copy of scope, or NULL for none: 0, or -1 */
static int
set_scope(char **dst, const char *scope)
{
	char *s = NULL;

	if (scope != NULL && (s = strdup(scope)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

int
mcpd_set_scope(struct mcpd_host *h, enum mcpd_item kind, const char *name,
    const char *scopes)
{
	struct catalog	*c = &h->h_srv->sv_cat;
	char		 why[128];
	size_t		 i;
	int		 found = 0;

	if (name == NULL)
		return -1;
	if (scopes != NULL && scope_list_valid(scopes, why, sizeof(why)) ==
	    -1) {
		log_warnx("plugin %s: the scope of %s refused: %s", h->h_name,
		    name, why);
		return -1;
	}
	switch (kind) {
	case MCPD_ITEM_TOOL:
		for (i = 0; i < c->ntools && !found; i++)
			if (strcmp(c->tools[i].t_name, name) == 0) {
				if (set_scope(&c->tools[i].t_scope, scopes) ==
				    -1)
					return -1;
				found = 1;
			}
		break;
	case MCPD_ITEM_RESOURCE:
		for (i = 0; i < c->nres && !found; i++)
			if (strcmp(c->res[i].r_uri, name) == 0) {
				if (set_scope(&c->res[i].r_scope, scopes) == -1)
					return -1;
				found = 1;
			}
		break;
	case MCPD_ITEM_TEMPLATE:
		/* templates may repeat: every one of that text */
		for (i = 0; i < c->ntmpl; i++)
			if (strcmp(c->tmpl[i].r_uri, name) == 0) {
				if (set_scope(&c->tmpl[i].r_scope, scopes) ==
				    -1)
					return -1;
				found = 1;
			}
		break;
	case MCPD_ITEM_PROMPT:
		for (i = 0; i < c->nprompts && !found; i++)
			if (strcmp(c->prompts[i].p_name, name) == 0) {
				if (set_scope(&c->prompts[i].p_scope, scopes) ==
				    -1)
					return -1;
				found = 1;
			}
		break;
	default:
		return -1;
	}
	return found ? 0 : -1;
}

int
cat_scope_last(struct catalog *c, enum mcpd_item kind, const char *scope)
{
	/* on failure the entry goes: not served, rather than to anyone */
	switch (kind) {
	case MCPD_ITEM_TOOL:
		if (c->ntools == 0)
			return -1;
		if (set_scope(&c->tools[c->ntools - 1].t_scope, scope) == -1) {
			tool_free(&c->tools[--c->ntools]);
			return -1;
		}
		return 0;
	case MCPD_ITEM_RESOURCE:
		if (c->nres == 0)
			return -1;
		if (set_scope(&c->res[c->nres - 1].r_scope, scope) == -1) {
			res_free(&c->res[--c->nres]);
			return -1;
		}
		return 0;
	case MCPD_ITEM_TEMPLATE:
		if (c->ntmpl == 0)
			return -1;
		if (set_scope(&c->tmpl[c->ntmpl - 1].r_scope, scope) == -1) {
			res_free(&c->tmpl[--c->ntmpl]);
			return -1;
		}
		return 0;
	case MCPD_ITEM_PROMPT:
		if (c->nprompts == 0)
			return -1;
		if (set_scope(&c->prompts[c->nprompts - 1].p_scope, scope) ==
		    -1) {
			prompt_free(&c->prompts[--c->nprompts]);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int
add_res(struct mcpd_host *h, struct cat_res **arr, size_t *n,
    const struct mcpd_resource *r)
{
	struct cat_res *e;

	if (r->uri == NULL || r->name == NULL || r->read == NULL)
		return -1;
	if (grow((void **)arr, *n, sizeof(**arr)) == -1)
		return -1;
	e = &(*arr)[*n];
	memset(e, 0, sizeof(*e));
	e->r_uri = xstrdup(r->uri);
	e->r_name = xstrdup(r->name);
	e->r_title = xstrdup(r->title);
	e->r_desc = xstrdup(r->description);
	e->r_mime = xstrdup(r->mime_type);
	e->r_read = r->read;
	e->r_arg = r->arg;
	e->r_owner = h->h_owner;
	(*n)++;
	return 0;
}

int
mcpd_register_resource(struct mcpd_host *h, const struct mcpd_resource *r)
{
	struct catalog *c = &h->h_srv->sv_cat;

	if (r->uri != NULL && cat_resource(c, r->uri) != NULL)
		return -1;
	return add_res(h, &c->res, &c->nres, r);
}

int
mcpd_register_template(struct mcpd_host *h, const struct mcpd_resource *r)
{
	struct catalog *c = &h->h_srv->sv_cat;

	return add_res(h, &c->tmpl, &c->ntmpl, r);
}

int
mcpd_register_prompt(struct mcpd_host *h, const struct mcpd_prompt *p)
{
	struct catalog		*c = &h->h_srv->sv_cat;
	struct cat_prompt	*e;
	size_t			 k;

	if (p->name == NULL || p->get == NULL || cat_prompt(c, p->name) !=
	    NULL)
		return -1;
	if (grow((void **)&c->prompts, c->nprompts, sizeof(*c->prompts)) ==
	    -1)
		return -1;
	e = &c->prompts[c->nprompts];
	memset(e, 0, sizeof(*e));
	e->p_name = xstrdup(p->name);
	e->p_title = xstrdup(p->title);
	e->p_desc = xstrdup(p->description);
	if (p->nargs > 0 &&
	    (e->p_args = calloc(p->nargs, sizeof(*e->p_args))) == NULL)
		return -1;
	for (k = 0; k < p->nargs; k++) {
		e->p_args[k].name = xstrdup(p->args[k].name);
		e->p_args[k].description = xstrdup(p->args[k].description);
		e->p_args[k].required = p->args[k].required;
	}
	e->p_nargs = p->nargs;
	e->p_get = p->get;
	e->p_arg = p->arg;
	e->p_owner = h->h_owner;
	c->nprompts++;
	return 0;
}

int
mcpd_register_completion(struct mcpd_host *h, mcpd_complete_fn fn,
    void *arg)
{
	h->h_srv->sv_cat.complete = fn;
	h->h_srv->sv_cat.complete_arg = arg;
	return 0;
}
