/*
 * server.c -- the server object, the engine's top: it is made (keys and
 * all), loads plugins, and is torn down, sessions, listen streams and tasks
 * first, so nothing that ends on the way finds the server half gone.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

/*
 * The keys of each kind of sealed thing, from the node's keys: a session
 * id's MAC never seals a task id or a state.
 */
static void
derive_keys(struct mcp_server *srv, const char *node,
    const struct cluster_keys *ks)
{
	sealring_set(&srv->sv_sess_ring, node, ks, 0, NULL);
	sealring_set(&srv->sv_task_ring, node, ks, 2, "mcpdtask");
	sealring_set(&srv->sv_state_ring, "", ks, 1, "mcpdrqst");
	mcp_owner_keys(ks);
	state_init(srv);
	taskstore_init(srv);
}

/* a single node's: one key, id 0 */
static void
one_key(struct cluster_keys *ks, const unsigned char *key)
{
	memset(ks, 0, sizeof(*ks));
	ks->n = 1;
	if (key != NULL)
		memcpy(ks->k[0].ck_key, key, sizeof(ks->k[0].ck_key));
	else
		crypto_auth_keygen(ks->k[0].ck_key);
}

struct mcp_server *
mcp_server_new(struct ev_loop *loop, const char *name, const char *version)
{
	struct mcp_server *srv;

	if (sodium_init() == -1)
		return NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->sv_loop = loop;
	srv->sv_name = strdup(name);
	srv->sv_version = strdup(version);
	srv->sv_toks = calloc(JSON_TOKENS_MAX, sizeof(jsmntok_t));
	if (srv->sv_name == NULL || srv->sv_version == NULL ||
	    srv->sv_toks == NULL) {
		mcp_server_free(&srv);
		return NULL;
	}
	jw_init(&srv->sv_out);
	jw_init(&srv->sv_rec);
	TAILQ_INIT(&srv->sv_sessions);
	TAILQ_INIT(&srv->sv_fresh);
	TAILQ_INIT(&srv->sv_orphans);
	TAILQ_INIT(&srv->sv_tasks);
	srv->sv_state_ttl_ms = MCP_STATE_TTL_MS;
	srv->sv_task_ttl_ms = MCP_TASK_TTL_MS;
	notify_init(srv);
	rpc_init(srv);
	headers_init();
	{
		struct cluster_keys ks;

		one_key(&ks, NULL);
		derive_keys(srv, "", &ks);
		sodium_memzero(&ks, sizeof(ks));
	}
	return srv;
}

void
mcp_server_set_key(struct mcp_server *srv, const unsigned char *key,
    unsigned partition)
{
	struct cluster_keys ks;

	one_key(&ks, key);
	mcp_server_set_keys(srv, "", &ks, partition);
	sodium_memzero(&ks, sizeof(ks));
}

void
mcp_server_set_keys(struct mcp_server *srv, const char *node,
    const struct cluster_keys *ks, unsigned partition)
{
	srv->sv_partition = partition;
	derive_keys(srv, node, ks);
}

void
mcp_server_free(struct mcp_server **srvp)
{
	struct mcp_server	*srv = *srvp;
	struct mcp_session	*s;
	size_t			 i;

	if (srv == NULL)
		return;
	*srvp = NULL;
	srv->sv_reg = NULL;	/* a process ending ends no session: kept */
	while ((s = TAILQ_FIRST(&srv->sv_sessions)) != NULL)
		mcp_session_close(srv, s);
	notify_free(srv);
	state_free(srv);
	rpc_free(srv);
	tasks_free(srv);
	cat_free(&srv->sv_cat);
	jw_free(&srv->sv_out);
	jw_free(&srv->sv_rec);
	for (i = 0; i < srv->sv_ndl; i++)
		dlclose(srv->sv_dl[i]);
	free(srv->sv_dl);
	free(srv->sv_toks);
	free(srv->sv_name);
	free(srv->sv_version);
	free(srv);
}

struct jw *
mcp_server_out(struct mcp_server *srv)
{
	return &srv->sv_out;
}

int
mcp_plugin_load(struct mcp_server *srv, const char *path, const char *arg,
    char *err, size_t errlen)
{
	struct mcpd_host	  host = { srv, path, CAT_PLUGIN };
	void			 *dl, **p;
	const int		 *abi;
	int			(*init)(struct mcpd_host *, const char *);

	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "plugin %s: %s", path, dlerror());
		return -1;
	}
	abi = dlsym(dl, "mcpd_plugin_abi");
	*(void **)&init = dlsym(dl, "mcpd_plugin_init");
	if (abi == NULL || init == NULL || *abi != MCPD_PLUGIN_ABI) {
		snprintf(err, errlen, "plugin %s: not an mcpd plugin of ABI "
		    "%d", path, MCPD_PLUGIN_ABI);
		dlclose(dl);
		return -1;
	}
	if (init(&host, arg) != 0) {
		snprintf(err, errlen, "plugin %s: its init failed", path);
		dlclose(dl);
		return -1;
	}
	if ((p = realloc(srv->sv_dl, (srv->sv_ndl + 1) * sizeof(*p))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->sv_dl = p;
	srv->sv_dl[srv->sv_ndl++] = dl;
	return 0;
}

void
mcpd_log(struct mcpd_host *h, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_info("plugin %s: %s", h->h_name, buf);
}
