/*
 * conf.c -- defaults, names and the normalized form of the configuration.
 *
 * The parser lives in parse.y; this file holds what every process needs
 * without the grammar: the defaults of mcpd.conf(5), the word for each enum
 * value, conf_print() (mcpd -nv, and the text the supervisor hands its
 * children), and the worker arithmetic that depends on the machine.
 */
#include "config.h"

#include <sys/resource.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "mcpd.h"

/* RLIMIT_NOFILE beyond this buys nothing: a worker never needs more fds. */
#define NOFILE_USEFUL_MAX	1000000

static const char *const role_names[ROLE_MAX] = {
	[ROLE_SUPERVISOR] =	"supervisor",
	[ROLE_WORKER] =		"worker",
	[ROLE_AGENT] =		"agent",
	[ROLE_RUNNER] =		"runner"
};

const char *
role_name(enum proc_role role)
{
	if ((unsigned int)role >= ROLE_MAX)
		return "unknown";
	return role_names[role];
}

int
role_from_name(const char *name)
{
	int	i;

	for (i = 0; i < ROLE_MAX; i++)
		if (strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}

int
conf_node_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CONF_NODE_MAX_BYTES)
		return 0;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

const char *
conf_strategy_name(enum conf_strategy s)
{
	switch (s) {
	case STRATEGY_ONE_FOR_ONE:
		return "one_for_one";
	case STRATEGY_ONE_FOR_ALL:
		return "one_for_all";
	case STRATEGY_REST_FOR_ONE:
		return "rest_for_one";
	case STRATEGY_SIMPLE_ONE_FOR_ONE:
		return "simple_one_for_one";
	}
	return "unknown";
}

const char *
conf_restart_name(enum conf_restart r)
{
	switch (r) {
	case RESTART_PERMANENT:
		return "permanent";
	case RESTART_TRANSIENT:
		return "transient";
	case RESTART_TEMPORARY:
		return "temporary";
	}
	return "unknown";
}

const char *
conf_auto_shutdown_name(enum conf_auto_shutdown a)
{
	switch (a) {
	case AUTO_SHUTDOWN_NEVER:
		return "never";
	case AUTO_SHUTDOWN_ANY_SIGNIFICANT:
		return "any_significant";
	case AUTO_SHUTDOWN_ALL_SIGNIFICANT:
		return "all_significant";
	}
	return "unknown";
}

const char *
conf_listen_kind_name(enum listen_kind k)
{
	switch (k) {
	case LISTEN_HTTP:
		return "http";
	case LISTEN_ADMIN:
		return "admin";
	}
	return "unknown";
}

/* The largest unit that shows ms exactly, so the text parses back to ms. */
const char *
conf_fmt_duration(char *buf, size_t len, uint32_t ms)
{
	if (ms != 0 && ms % (60 * 60 * 1000) == 0)
		snprintf(buf, len, "%luh",
		    (unsigned long)ms / (60 * 60 * 1000));
	else if (ms != 0 && ms % (60 * 1000) == 0)
		snprintf(buf, len, "%lum", (unsigned long)ms / (60 * 1000));
	else if (ms != 0 && ms % 1000 == 0)
		snprintf(buf, len, "%lus", (unsigned long)ms / 1000);
	else
		snprintf(buf, len, "%lums", (unsigned long)ms);
	return buf;
}

/* The largest power of 1024 that shows bytes exactly: parses back. */
const char *
conf_fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char	units[] = "KMG";
	int			i;

	for (i = 2; i >= 0; i--)
		if (bytes != 0 && bytes % (1ULL << (10 * (i + 1))) == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)
			    (bytes >> (10 * (i + 1))), units[i]);
			return buf;
		}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}

void
conf_defaults(struct conf *c)
{
	static const char *const hosts[] = { DEF_ALLOW_HOSTS };
	size_t			 i;
	int			 r;

	memset(c, 0, sizeof(*c));
	c->c_workers = 0;
	c->c_max_connections = DEF_MAX_CONNECTIONS;
	c->c_worker_connections = 0;
	snprintf(c->c_pidfile, sizeof(c->c_pidfile), "%s",
	    MCPD_RUNDIR "/mcpd.pid");
	snprintf(c->c_control_socket, sizeof(c->c_control_socket), "%s",
	    MCPD_RUNDIR "/mcpd.sock");
	c->c_log_file[0] = '\0';
	c->c_access_log[0] = '\0';
	c->c_user[0] = '\0';
	c->c_group[0] = '\0';
	c->c_strategy = STRATEGY_ONE_FOR_ONE;
	c->c_restart_intensity = DEF_RESTART_INTENSITY;
	c->c_restart_period_ms = DEF_RESTART_PERIOD_MS;
	c->c_throttle_min_ms = DEF_THROTTLE_MIN_MS;
	c->c_throttle_max_ms = DEF_THROTTLE_MAX_MS;
	c->c_throttle_reset_ms = DEF_THROTTLE_RESET_MS;
	c->c_ready_timeout_ms = DEF_READY_TIMEOUT_MS;
	c->c_watchdog_timeout_ms = DEF_WATCHDOG_TIMEOUT_MS;
	c->c_drain_timeout_ms = DEF_DRAIN_TIMEOUT_MS;
	c->c_auto_shutdown = AUTO_SHUTDOWN_NEVER;
	for (r = 0; r < ROLE_MAX; r++) {
		c->c_spec[r].s_restart = RESTART_PERMANENT;
		c->c_spec[r].s_shutdown_ms = DEF_SHUTDOWN_TIMEOUT_MS;
		c->c_spec[r].s_significant = 0;
	}
	c->c_nlisteners = 0;

	snprintf(c->c_mcp_path, sizeof(c->c_mcp_path), "%s", DEF_MCP_PATH);
	c->c_max_header_size = DEF_MAX_HEADER_SIZE;
	c->c_max_body_size = DEF_MAX_BODY_SIZE;
	c->c_header_timeout_ms = DEF_HEADER_TIMEOUT_MS;
	c->c_body_timeout_ms = DEF_BODY_TIMEOUT_MS;
	c->c_idle_timeout_ms = DEF_IDLE_TIMEOUT_MS;
	c->c_session_timeout_ms = DEF_SESSION_TIMEOUT_MS;
	c->c_session_start_timeout_ms = DEF_SESSION_START_TIMEOUT_MS;
	c->c_sse_keepalive_ms = DEF_SSE_KEEPALIVE_MS;
	c->c_cache_ttl_ms = DEF_CACHE_TTL_MS;
	c->c_task_ttl_ms = DEF_TASK_TTL_MS;
	c->c_max_pending = DEF_MAX_PENDING;
	c->c_max_pending_conn = DEF_MAX_PENDING_CONN;
	c->c_max_output_buffer = DEF_MAX_OUTPUT_BUFFER_BYTES;
	c->c_alert_window_ms = DEF_ALERT_WINDOW_MS;
	c->c_alert_min_requests = DEF_ALERT_MIN_REQUESTS;
	c->c_alert_errors_ppm[0] = DEF_ALERT_YELLOW_PPM;
	c->c_alert_errors_ppm[1] = DEF_ALERT_RED_PPM;
	c->c_alert_errors_ppm[2] = DEF_ALERT_EMERGENCY_PPM;
	c->c_alert_p95_ms[0] = DEF_ALERT_YELLOW_P95_MS;
	c->c_alert_p95_ms[1] = DEF_ALERT_RED_P95_MS;
	c->c_alert_pending_ppm = DEF_ALERT_PENDING_PPM;
	c->c_alert_hold_ms = DEF_ALERT_HOLD_MS;
	c->c_max_sessions = DEF_MAX_SESSIONS;
	c->c_registry_bytes = DEF_REGISTRY_BYTES;
	c->c_adopt_wait_ms = DEF_ADOPT_WAIT_MS;
	c->c_handoff_wait_ms = DEF_HANDOFF_WAIT_MS;
	c->c_handoff_queue = DEF_HANDOFF_QUEUE;
	c->c_max_per_address = DEF_MAX_PER_ADDRESS;
	c->c_initialize_rate = DEF_INITIALIZE_RATE;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		snprintf(c->c_allow_hosts[i], sizeof(c->c_allow_hosts[i]),
		    "%s", hosts[i]);
	c->c_nallow_hosts = (uint32_t)i;
	c->c_nallow_origins = 0;
	c->c_nplugins = 0;
	c->c_session_responses = RESPONSES_SSE;
	c->c_healthz = HEALTHZ_ADMIN;

	c->c_tools = NULL;
	c->c_ntools = 0;
	c->c_resources = NULL;
	c->c_nresources = 0;
	c->c_prompts = NULL;
	c->c_nprompts = 0;
	c->c_auths = NULL;
	c->c_nauths = 0;
	c->c_cluster = NULL;
}

const char *
conf_healthz_name(enum healthz_details h)
{
	return h == HEALTHZ_ALL ? "all" : "admin";
}

const char *
conf_session_responses_name(enum session_responses r)
{
	switch (r) {
	case RESPONSES_SSE:
		return "sse";
	case RESPONSES_JSON:
		return "json";
	}
	return "unknown";
}

void
conf_tool_free(struct conf_tool *t)
{
	uint32_t	i;

	free(t->t_name);
	free(t->t_title);
	free(t->t_desc);
	free(t->t_schema);
	for (i = 0; i < t->t_argc && i < CONF_ARGV_MAX; i++)
		free(t->t_argv[i]);
	free(t->t_cwd);
	for (i = 0; i < t->t_nenv && i < CONF_ENV_MAX; i++)
		free(t->t_env[i]);
	free(t->t_user);
	free(t->t_group);
	free(t->t_scope);
	memset(t, 0, sizeof(*t));
}

void
conf_resource_free(struct conf_resource *r)
{
	free(r->r_uri);
	free(r->r_path);
	free(r->r_name);
	free(r->r_desc);
	free(r->r_mime);
	free(r->r_scope);
	memset(r, 0, sizeof(*r));
}

void
conf_auth_free(struct conf_auth *a)
{
	uint32_t	i;

	free(a->a_name);
	free(a->a_resource);
	for (i = 0; i < a->a_nservers; i++)
		free(a->a_servers[i]);
	for (i = 0; i < a->a_nscopes; i++)
		free(a->a_scopes[i]);
	free(a->a_static_tokens);
	free(a->a_jwt_issuer);
	free(a->a_jwks_file);
	free(a->a_audience);
	free(a->a_jwks_uri);
	free(a->a_introspection);
	free(a->a_client_id);
	free(a->a_client_secret_file);
	memset(a, 0, sizeof(*a));
}

void
conf_cluster_free(struct conf_cluster **clp)
{
	struct conf_cluster *cl;

	if (clp == NULL || (cl = *clp) == NULL)
		return;
	free(cl->cl_password_file);
	free(cl->cl_key_file);
	free(cl);
	*clp = NULL;
}

uint32_t
conf_registry_records(const struct conf *c)
{
	uint64_t n = 2ULL * c->c_max_sessions;

	if (c->c_registry_records != 0)
		return c->c_registry_records;
	return n > REGISTRY_RECORDS_MAX ? REGISTRY_RECORDS_MAX : (uint32_t)n;
}

int
conf_addr_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

void
conf_prompt_free(struct conf_prompt *p)
{
	uint32_t	i;

	free(p->p_name);
	free(p->p_title);
	free(p->p_desc);
	for (i = 0; i < p->p_nargs && i < CONF_PROMPT_ARGS_MAX; i++) {
		free(p->p_args[i].a_name);
		free(p->p_args[i].a_desc);
	}
	for (i = 0; i < p->p_nmsgs && i < CONF_PROMPT_MSGS_MAX; i++)
		free(p->p_msgs[i].m_text);
	free(p->p_scope);
	memset(p, 0, sizeof(*p));
}

void
conf_free(struct conf **cp)
{
	struct conf	*c;
	uint32_t	 i;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (i = 0; i < c->c_ntools; i++)
		conf_tool_free(&c->c_tools[i]);
	free(c->c_tools);
	for (i = 0; i < c->c_nresources; i++)
		conf_resource_free(&c->c_resources[i]);
	free(c->c_resources);
	for (i = 0; i < c->c_nprompts; i++)
		conf_prompt_free(&c->c_prompts[i]);
	free(c->c_prompts);
	for (i = 0; i < c->c_nauths; i++)
		conf_auth_free(&c->c_auths[i]);
	free(c->c_auths);
	conf_cluster_free(&c->c_cluster);
	free(c);
	*cp = NULL;
}

/* A string, quoted so that the lexer reads it back byte for byte. */
static void
print_string(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

static void
print_duration(FILE *fp, const char *key, uint32_t ms)
{
	char	buf[CONF_DURATION_LEN];

	fprintf(fp, "%s %s\n", key, conf_fmt_duration(buf, sizeof(buf), ms));
}

static void
print_size(FILE *fp, const char *key, uint64_t bytes)
{
	char	buf[CONF_SIZE_LEN];

	fprintf(fp, "%s %s\n", key, conf_fmt_size(buf, sizeof(buf), bytes));
}

/* "\tKEY \"text\"": NULL (none) as "". */
/* bytes in the largest unit that divides them: 0, 512K, 2G */
static void
print_bytes(FILE *fp, const char *key, uint64_t n)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (n != 0 && n % 1024 == 0 && u < 3) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		fprintf(fp, "%s %llu\n", key, (unsigned long long)n);
	else
		fprintf(fp, "%s %llu%c\n", key, (unsigned long long)n,
		    units[u]);
}

/* parts per million as the shortest percentage: 500 -> "0.05%" */
static void
print_percent(FILE *fp, const char *key, uint32_t ppm)
{
	char	frac[8];
	int	n;

	n = snprintf(frac, sizeof(frac), "%04u", ppm % 10000);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	fprintf(fp, "%s %u%s%s%%\n", key, ppm / 10000, n ? "." : "", frac);
}

static void
print_text(FILE *fp, const char *key, const char *s)
{
	fprintf(fp, "\t%s ", key);
	print_string(fp, s != NULL ? s : "");
	putc('\n', fp);
}

/* "\tKEY \"value\"", or the word that stands for NULL. */
static void
print_opt(FILE *fp, const char *key, const char *s, const char *null)
{
	fprintf(fp, "\t%s ", key);
	if (s != NULL)
		print_string(fp, s);
	else
		fputs(null, fp);
	putc('\n', fp);
}

static void
print_words(FILE *fp, const char *key, char *const *words, uint32_t n)
{
	uint32_t	i;

	fprintf(fp, "\t%s", key);
	for (i = 0; i < n; i++) {
		putc(' ', fp);
		print_string(fp, words[i]);
	}
	putc('\n', fp);
}

/* "\tscope \"a\" \"b\"": each scope quoted (one may hold a "#") */
static void
print_scope(FILE *fp, const char *scope)
{
	const char	*p, *e;

	if (scope == NULL)
		return;
	fprintf(fp, "\tscope");
	for (p = scope; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		fprintf(fp, " \"%.*s\"", (int)(e - p), p);
	}
	putc('\n', fp);
}

static void
print_tool(FILE *fp, const struct conf_tool *t)
{
	fprintf(fp, "tool ");
	print_string(fp, t->t_name);
	fprintf(fp, " {\n");
	print_text(fp, "description", t->t_desc);
	print_text(fp, "title", t->t_title);
	print_opt(fp, "input-schema", t->t_schema, "auto");
	print_words(fp, "command", t->t_argv,
	    t->t_argc < CONF_ARGV_MAX ? t->t_argc : CONF_ARGV_MAX);
	print_opt(fp, "directory", t->t_cwd, "none");
	if (t->t_nenv > 0)
		print_words(fp, "env", t->t_env,
		    t->t_nenv < CONF_ENV_MAX ? t->t_nenv : CONF_ENV_MAX);
	if (t->t_user != NULL)
		print_text(fp, "user", t->t_user);
	if (t->t_group != NULL)
		print_text(fp, "group", t->t_group);
	print_duration(fp, "\ttimeout", t->t_timeout_ms);
	print_size(fp, "\tmax-output", t->t_output_max);
	fprintf(fp, "\tconcurrency %lu\n", (unsigned long)t->t_concurrency);
	if (t->t_mem_max > 0)
		print_size(fp, "\tmax-memory", t->t_mem_max);
	if (t->t_nproc_max > 0)
		fprintf(fp, "\tmax-processes %lu\n",
		    (unsigned long)t->t_nproc_max);
	fprintf(fp, "\ttask %s\n", t->t_task == 2 ? "required" :
	    t->t_task == 1 ? "optional" : "forbidden");
	print_scope(fp, t->t_scope);
	fprintf(fp, "}\n");
}

int
conf_tool_digest(const struct conf_tool *t, unsigned char *out)
{
	FILE	*f;
	char	*text = NULL;
	size_t	 len = 0;

	if (sodium_init() == -1 || (f = open_memstream(&text, &len)) == NULL)
		return -1;
	print_tool(f, t);
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	crypto_generichash(out, CONF_TOOL_DIGEST_BYTES,
	    (const unsigned char *)text, len, NULL, 0);
	free(text);
	return 0;
}

static void
print_resource(FILE *fp, const struct conf_resource *r)
{
	fprintf(fp, "resource ");
	print_string(fp, r->r_uri);
	fprintf(fp, " {\n");
	print_text(fp, "path", r->r_path);
	print_text(fp, "name", r->r_name);
	print_text(fp, "description", r->r_desc);
	print_opt(fp, "mime-type", r->r_mime, "auto");
	print_size(fp, "\tmax-size", r->r_size_max);
	print_duration(fp, "\tcache-ttl", r->r_cache_ttl_ms);
	fprintf(fp, "\tcache-scope %s\n", r->r_cache_public ? "public" :
	    "private");
	fprintf(fp, "\tdot-files %s\n", r->r_dot_files ? "yes" : "no");
	print_scope(fp, r->r_scope);
	fprintf(fp, "}\n");
}

static void
print_auth(FILE *fp, const struct conf_auth *a)
{
	uint32_t	i;

	fprintf(fp, "auth %s {\n", a->a_name);
	print_text(fp, "resource-uri", a->a_resource);
	for (i = 0; i < a->a_nservers; i++)
		print_text(fp, "authorization-server", a->a_servers[i]);
	if (a->a_nscopes > 0) {
		fprintf(fp, "\tscopes-supported");
		for (i = 0; i < a->a_nscopes; i++) {
			fprintf(fp, " ");
			print_string(fp, a->a_scopes[i]);
		}
		fprintf(fp, "\n");
	}
	if (a->a_static_tokens != NULL)
		print_text(fp, "static-tokens", a->a_static_tokens);
	if (a->a_jwt_issuer != NULL)
		print_text(fp, "jwt-issuer", a->a_jwt_issuer);
	if (a->a_jwks_file != NULL)
		print_text(fp, "jwks-file", a->a_jwks_file);
	if (a->a_audience != NULL)
		print_text(fp, "audience", a->a_audience);
	print_duration(fp, "\tclock-skew", a->a_skew_ms);
	if (a->a_jwks_uri != NULL)
		print_text(fp, "jwks-uri", a->a_jwks_uri);
	print_duration(fp, "\tjwks-refresh", a->a_jwks_refresh_ms);
	print_duration(fp, "\tjwks-refresh-min", a->a_jwks_refresh_min_ms);
	if (a->a_introspection != NULL)
		print_text(fp, "introspection-endpoint", a->a_introspection);
	if (a->a_client_id != NULL)
		print_text(fp, "introspection-client-id", a->a_client_id);
	if (a->a_client_secret_file != NULL)
		print_text(fp, "introspection-secret-file",
		    a->a_client_secret_file);
	print_duration(fp, "\tintrospection-cache",
	    a->a_introspection_cache_ms);
	fprintf(fp, "\tintrospection-pending %u\n",
	    a->a_introspection_pending);
	print_duration(fp, "\tfetch-timeout", a->a_fetch_timeout_ms);
	fprintf(fp, "}\n");
}

static void
print_redis_addr(FILE *fp, const struct conf_redis_addr *ra)
{
	fprintf(fp, strchr(ra->ra_host, ':') != NULL ? " [%s]:%u" : " %s:%u",
	    ra->ra_host, (unsigned)ra->ra_port);
}

static void
print_cluster(FILE *fp, const struct conf_cluster *cl)
{
	uint32_t	i;

	fprintf(fp, "cluster {\n\tnode %s\n", cl->cl_node);
	if (cl->cl_redis.ra_host[0] != '\0') {
		fprintf(fp, "\tredis");
		print_redis_addr(fp, &cl->cl_redis);
		fprintf(fp, "\n");
	} else {
		fprintf(fp, "\tsentinel");
		for (i = 0; i < cl->cl_nsentinels; i++)
			print_redis_addr(fp, &cl->cl_sentinels[i]);
		fprintf(fp, "\n");
		print_text(fp, "master-name", cl->cl_master_name);
	}
	if (cl->cl_redis_user[0] != '\0')
		print_text(fp, "redis-user", cl->cl_redis_user);
	if (cl->cl_password_file != NULL)
		print_text(fp, "redis-password-file", cl->cl_password_file);
	print_text(fp, "key-file", cl->cl_key_file);
	print_duration(fp, "\tredis-timeout", cl->cl_redis_timeout_ms);
	print_duration(fp, "\tnode-ttl", cl->cl_node_ttl_ms);
	fprintf(fp, "}\n");
}

static void
print_prompt(FILE *fp, const struct conf_prompt *p)
{
	const struct conf_prompt_arg	*a;
	const struct conf_prompt_msg	*m;
	uint32_t			 i;

	fprintf(fp, "prompt ");
	print_string(fp, p->p_name);
	fprintf(fp, " {\n");
	print_text(fp, "description", p->p_desc);
	print_text(fp, "title", p->p_title);
	for (i = 0; i < p->p_nargs && i < CONF_PROMPT_ARGS_MAX; i++) {
		a = &p->p_args[i];
		fprintf(fp, "\targument ");
		print_string(fp, a->a_name);
		/* a bare word: a quoted "required" is a description */
		if (a->a_required)
			fprintf(fp, " required");
		if (a->a_desc != NULL) {
			putc(' ', fp);
			print_string(fp, a->a_desc);
		}
		putc('\n', fp);
	}
	for (i = 0; i < p->p_nmsgs && i < CONF_PROMPT_MSGS_MAX; i++) {
		m = &p->p_msgs[i];
		fprintf(fp, "\tmessage %s ", m->m_assistant ? "assistant" :
		    "user");
		print_string(fp, m->m_text);
		putc('\n', fp);
	}
	print_scope(fp, p->p_scope);
	fprintf(fp, "}\n");
}

/*
 * Every key, in the order of mcpd.conf(5).  The output must parse back to
 * the same text: mcpd hands it to its children, and the tests check it.
 */
void
conf_print(FILE *fp, const struct conf *c)
{
	const struct conf_listener	*l;
	const struct conf_plugin	*p;
	const struct conf_spec		*s;
	uint32_t			 i;
	int				 r;

	if (c->c_workers == 0)
		fprintf(fp, "workers auto\n");
	else
		fprintf(fp, "workers %lu\n", (unsigned long)c->c_workers);
	fprintf(fp, "max-connections %llu\n",
	    (unsigned long long)c->c_max_connections);
	if (c->c_worker_connections == 0)
		fprintf(fp, "worker-connections auto\n");
	else
		fprintf(fp, "worker-connections %lu\n",
		    (unsigned long)c->c_worker_connections);
	fprintf(fp, "pidfile ");
	print_string(fp, c->c_pidfile);
	fprintf(fp, "\ncontrol-socket ");
	print_string(fp, c->c_control_socket);
	fprintf(fp, "\nlog-file ");
	if (c->c_log_file[0] == '\0')
		fprintf(fp, "none");
	else
		print_string(fp, c->c_log_file);
	fprintf(fp, "\naccess-log ");
	if (c->c_access_log[0] == '\0')
		fprintf(fp, "none");
	else if (strcmp(c->c_access_log, "syslog") == 0)
		fprintf(fp, "syslog");
	else
		print_string(fp, c->c_access_log);
	putc('\n', fp);
	/* no word stands for "none": a user may be called anything */
	if (c->c_user[0] != '\0') {
		fprintf(fp, "user ");
		print_string(fp, c->c_user);
		putc('\n', fp);
	}
	if (c->c_group[0] != '\0') {
		fprintf(fp, "group ");
		print_string(fp, c->c_group);
		putc('\n', fp);
	}
	fprintf(fp, "strategy %s\n", conf_strategy_name(c->c_strategy));
	fprintf(fp, "restart-intensity %lu\n",
	    (unsigned long)c->c_restart_intensity);
	print_duration(fp, "restart-period", c->c_restart_period_ms);
	print_duration(fp, "throttle-min", c->c_throttle_min_ms);
	print_duration(fp, "throttle-max", c->c_throttle_max_ms);
	print_duration(fp, "throttle-reset", c->c_throttle_reset_ms);
	print_duration(fp, "ready-timeout", c->c_ready_timeout_ms);
	print_duration(fp, "drain-timeout", c->c_drain_timeout_ms);
	print_duration(fp, "shutdown-delay", c->c_shutdown_delay_ms);
	print_duration(fp, "watchdog-timeout", c->c_watchdog_timeout_ms);
	fprintf(fp, "auto-shutdown %s\n",
	    conf_auto_shutdown_name(c->c_auto_shutdown));

	for (i = 0; i < c->c_nlisteners && i < CONF_LISTENERS_MAX; i++) {
		l = &c->c_listeners[i];
		fprintf(fp, "listen %s %s port %u",
		    conf_listen_kind_name(l->l_kind), l->l_addr,
		    (unsigned int)l->l_port);
		if (l->l_auth[0] != '\0')
			fprintf(fp, " auth %s", l->l_auth);
		fprintf(fp, "\n");
	}

	fprintf(fp, "mcp-path ");
	print_string(fp, c->c_mcp_path);
	fprintf(fp, "\n");
	print_size(fp, "max-header-size", c->c_max_header_size);
	print_size(fp, "max-body-size", c->c_max_body_size);
	print_duration(fp, "header-timeout", c->c_header_timeout_ms);
	print_duration(fp, "body-timeout", c->c_body_timeout_ms);
	print_duration(fp, "idle-timeout", c->c_idle_timeout_ms);
	print_duration(fp, "session-timeout", c->c_session_timeout_ms);
	print_duration(fp, "session-start-timeout",
	    c->c_session_start_timeout_ms);
	print_duration(fp, "sse-keepalive", c->c_sse_keepalive_ms);
	print_duration(fp, "list-cache-ttl", c->c_cache_ttl_ms);
	print_duration(fp, "task-ttl", c->c_task_ttl_ms);
	fprintf(fp, "max-connections-per-address %lu\n",
	    (unsigned long)c->c_max_per_address);
	fprintf(fp, "accept-rate %lu\n", (unsigned long)c->c_accept_rate);
	fprintf(fp, "max-pending %lu\n", (unsigned long)c->c_max_pending);
	fprintf(fp, "max-pending-per-connection %lu\n",
	    (unsigned long)c->c_max_pending_conn);
	print_size(fp, "max-output-buffer", c->c_max_output_buffer);
	fprintf(fp, "connections-soft-limit %lu\n",
	    (unsigned long)c->c_connections_soft);
	fprintf(fp, "max-sessions %lu\n", (unsigned long)c->c_max_sessions);
	fprintf(fp, "initialize-rate %lu\n",
	    (unsigned long)c->c_initialize_rate);
	fprintf(fp, "request-rate %lu\n", (unsigned long)c->c_request_rate);
	print_bytes(fp, "memory-soft-limit", c->c_memory_soft);
	if (c->c_registry_records == 0)
		fprintf(fp, "registry-records auto\n");
	else
		fprintf(fp, "registry-records %u\n", c->c_registry_records);
	print_bytes(fp, "registry-size", c->c_registry_bytes);
	print_duration(fp, "registry-adopt-wait", c->c_adopt_wait_ms);
	print_duration(fp, "registry-handoff-wait", c->c_handoff_wait_ms);
	fprintf(fp, "registry-handoff-queue %u\n", c->c_handoff_queue);
	print_bytes(fp, "memory-hard-limit", c->c_memory_hard);
	print_duration(fp, "alert-window", c->c_alert_window_ms);
	fprintf(fp, "alert-min-requests %lu\n",
	    (unsigned long)c->c_alert_min_requests);
	print_percent(fp, "alert-yellow-errors", c->c_alert_errors_ppm[0]);
	print_percent(fp, "alert-red-errors", c->c_alert_errors_ppm[1]);
	print_percent(fp, "alert-emergency-errors", c->c_alert_errors_ppm[2]);
	print_duration(fp, "alert-yellow-p95", c->c_alert_p95_ms[0]);
	print_duration(fp, "alert-red-p95", c->c_alert_p95_ms[1]);
	print_percent(fp, "alert-emergency-pending", c->c_alert_pending_ppm);
	print_duration(fp, "alert-hold", c->c_alert_hold_ms);
	fprintf(fp, "alert-command ");
	if (c->c_alert_command[0] != '\0')
		print_string(fp, c->c_alert_command);
	else
		fputs("none", fp);
	putc('\n', fp);
	fprintf(fp, "session-responses %s\n",
	    conf_session_responses_name(c->c_session_responses));
	fprintf(fp, "healthz %s\n", conf_healthz_name(c->c_healthz));
	for (i = 0; i < c->c_nallow_hosts && i < CONF_ALLOW_MAX; i++) {
		fprintf(fp, "allow-host ");
		print_string(fp, c->c_allow_hosts[i]);
		fprintf(fp, "\n");
	}
	for (i = 0; i < c->c_nallow_origins && i < CONF_ALLOW_MAX; i++) {
		fprintf(fp, "allow-origin ");
		print_string(fp, c->c_allow_origins[i]);
		fprintf(fp, "\n");
	}

	for (i = 0; i < c->c_nplugins && i < CONF_PLUGINS_MAX; i++) {
		p = &c->c_plugins[i];
		fprintf(fp, "plugin ");
		print_string(fp, p->p_path);
		if (p->p_arg[0] != '\0') {
			putc(' ', fp);
			print_string(fp, p->p_arg);
		}
		fprintf(fp, "\n");
	}

	for (r = ROLE_WORKER; r < ROLE_MAX; r++) {
		s = &c->c_spec[r];
		fprintf(fp, "%s {\n", role_name(r));
		fprintf(fp, "\trestart %s\n", conf_restart_name(s->s_restart));
		print_duration(fp, "\tshutdown-timeout", s->s_shutdown_ms);
		fprintf(fp, "\tsignificant %s\n",
		    s->s_significant ? "yes" : "no");
		fprintf(fp, "}\n");
	}

	for (i = 0; i < c->c_ntools; i++)
		print_tool(fp, &c->c_tools[i]);
	for (i = 0; i < c->c_nresources; i++)
		print_resource(fp, &c->c_resources[i]);
	for (i = 0; i < c->c_nprompts; i++)
		print_prompt(fp, &c->c_prompts[i]);
	for (i = 0; i < c->c_nauths; i++)
		print_auth(fp, &c->c_auths[i]);
	if (c->c_cluster != NULL)
		print_cluster(fp, c->c_cluster);
}

/* A list that is only "*". */
static int
is_any(const char *first, uint32_t n)
{
	return n == 1 && strcmp(first, "*") == 0;
}

int
conf_host_allowed(const struct conf *c, const char *host, size_t len)
{
	size_t		n, i;
	uint32_t	h;

	if (is_any(c->c_allow_hosts[0], c->c_nallow_hosts))
		return 1;
	/* the name, then nothing or ":" and digits */
	if (len > 0 && host[0] == '[') {
		n = 0;
		while (n < len && host[n] != ']')
			n++;
		if (n++ == len)
			return 0;
	} else
		for (n = 0; n < len && host[n] != ':'; n++)
			;
	if (n == 0 || (n < len && host[n] != ':'))
		return 0;
	for (i = n + 1; i < len; i++)
		if (host[i] < '0' || host[i] > '9')
			return 0;
	for (h = 0; h < c->c_nallow_hosts && h < CONF_ALLOW_MAX; h++)
		if (strlen(c->c_allow_hosts[h]) == n &&
		    strncasecmp(c->c_allow_hosts[h], host, n) == 0)
			return 1;
	return 0;
}

int
conf_origin_allowed(const struct conf *c, const char *origin, size_t len)
{
	size_t		n, i;
	uint32_t	o;

	if (is_any(c->c_allow_origins[0], c->c_nallow_origins))
		return 1;
	if (c->c_nallow_origins > 0) {
		for (o = 0; o < c->c_nallow_origins && o < CONF_ALLOW_MAX; o++)
			if (strlen(c->c_allow_origins[o]) == len &&
			    strncasecmp(c->c_allow_origins[o], origin, len) ==
			    0)
				return 1;
		return 0;
	}
	/* scheme "://" host [":" port], and no path */
	for (n = 0; n < len && origin[n] != ':'; n++)
		if (!isalnum((unsigned char)origin[n]) && origin[n] != '+' &&
		    origin[n] != '-' && origin[n] != '.')
			return 0;
	if (n == 0 || len - n < 3 || memcmp(origin + n, "://", 3) != 0)
		return 0;
	n += 3;
	for (i = n; i < len; i++)
		if (origin[i] == '/' || origin[i] == '?' || origin[i] == '#' ||
		    origin[i] == '@')
			return 0;
	return conf_host_allowed(c, origin + n, len - n);
}

uint32_t
conf_worker_connections_for(uint64_t nofile)
{
	if (nofile > NOFILE_USEFUL_MAX)
		nofile = NOFILE_USEFUL_MAX;
	if (nofile <= WORKER_FD_RESERVE)
		return 1;
	return (uint32_t)(nofile - WORKER_FD_RESERVE);
}

uint32_t
conf_workers_for(uint64_t max_connections, uint32_t per_worker, long ncpu)
{
	uint64_t	n;

	if (per_worker == 0)
		per_worker = 1;
	n = max_connections / per_worker +
	    (max_connections % per_worker != 0);
	if (ncpu > 0 && n < (uint64_t)ncpu)
		n = (uint64_t)ncpu;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	if (n == 0)
		n = 1;
	return (uint32_t)n;
}

uint32_t
conf_worker_connections(const struct conf *c)
{
	struct rlimit	rl;

	if (c->c_worker_connections != 0)
		return c->c_worker_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return conf_worker_connections_for(0);
	if (rl.rlim_max == RLIM_INFINITY)
		return conf_worker_connections_for(UINT64_MAX);
	return conf_worker_connections_for((uint64_t)rl.rlim_max);
}

uint32_t
conf_workers(const struct conf *c)
{
	if (c->c_workers != 0)
		return c->c_workers;
	return conf_workers_for(c->c_max_connections,
	    conf_worker_connections(c), sysconf(_SC_NPROCESSORS_ONLN));
}
