/*
 * conf.h -- the parsed configuration (mcpd.conf(5)).
 *
 * conf_parse() builds a new object from a file and never touches the one in
 * use, so a reload that fails keeps the running configuration.  Errors are
 * reported as "file:line: message", one line each.
 */
#ifndef MCPD_CONF_H
#define MCPD_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "mcpd.h"

#define CONF_LISTENERS_MAX	16
#define CONF_PATH_MAX_BYTES		256	/* a path, including NUL */
#define CONF_ADDR_MAX_BYTES		64	/* a listen address */
#define CONF_NAME_MAX_BYTES		65	/* a block's name (64), with NUL */
#define CONF_ERRORS_MAX		32	/* errors kept for the caller */
#define CONF_INCLUDE_DEPTH	8	/* nested includes below the top file */
#define CONF_DURATION_LEN	16	/* conf_fmt_duration() buffer */
#define CONF_SIZE_LEN		24	/* conf_fmt_size() buffer */
#define CONF_PLUGINS_MAX	16
#define CONF_PLUGIN_ARG_MAX_BYTES	1024	/* an argument, with NUL */
#define CONF_MCP_PATH_MAX_BYTES	128	/* mcp-path, including NUL */
#define CONF_ALLOW_MAX		32	/* allow-host, and allow-origin, lines */
#define CONF_HOST_MAX_BYTES		256	/* an allow-host, with NUL */
#define CONF_ORIGIN_MAX_BYTES		256	/* an allow-origin, with NUL */
#define CONF_HEADER_SIZE_MIN	1024U		/* max-header-size 1K.. */
#define CONF_HEADER_SIZE_MAX	(64U * 1024)	/* ..64K */
#define CONF_BODY_SIZE_MIN	1024U		/* max-body-size 1K.. */
#define CONF_BODY_SIZE_MAX	(64U * 1024 * 1024) /* ..64M */
/* a user or group name, with NUL: useradd(8)'s 32 */
#define CONF_USER_MAX_BYTES	33

/* Defaults: each one is a key in mcpd.conf(5). */
#define DEF_MAX_CONNECTIONS	10000
#define DEF_RESTART_INTENSITY	5		/* restarts ... */
#define DEF_RESTART_PERIOD_MS	30000		/* ... within this period */
#define DEF_THROTTLE_MIN_MS	2000		/* first crash-loop delay */
#define DEF_THROTTLE_MAX_MS	60000		/* delay cap */
#define DEF_THROTTLE_RESET_MS	10000		/* up this long = healthy */
#define DEF_READY_TIMEOUT_MS	10000
#define DEF_DRAIN_TIMEOUT_MS	10000
#define SHUTDOWN_DELAY_MAX_MS	60000	/* shutdown-delay: 0s (none)..1m */
#define DEF_WATCHDOG_TIMEOUT_MS	10000		/* a loop not turning */
#define WATCHDOG_TIMEOUT_MIN_MS	2000		/* 4 heartbeats */
#define WATCHDOG_BEAT_MS	500		/* a child's heartbeat */
#define DEF_SHUTDOWN_TIMEOUT_MS	5000		/* SIGTERM -> SIGKILL */
#define DEF_HTTP_PORT		8080
#define DEF_ADMIN_PORT		8081
#define DEF_MCP_PATH		"/mcp"
#define DEF_MAX_HEADER_SIZE	(8U * 1024)	/* request line + headers */
#define DEF_MAX_BODY_SIZE	(4U * 1024 * 1024)
#define DEF_HEADER_TIMEOUT_MS	10000		/* the whole header */
#define DEF_BODY_TIMEOUT_MS	30000		/* the whole body, after it */
#define DEF_IDLE_TIMEOUT_MS	60000		/* keep-alive, between requests */
#define DEF_SESSION_TIMEOUT_MS	600000		/* an idle MCP session */
/* one that nothing came for after its initialize */
#define DEF_SESSION_START_TIMEOUT_MS 10000
#define DEF_SSE_KEEPALIVE_MS	15000		/* SSE comment interval */
#define DEF_CACHE_TTL_MS	0		/* results are stale at once */
#define DEF_TASK_TTL_MS		300000		/* a task's result is kept */
#define DEF_RESOURCE_CACHE_TTL_MS 0		/* resources/read ttlMs */
#define DEF_MAX_PENDING		500000		/* requests in flight */
#define DEF_MAX_PENDING_CONN	10000		/* the same, per conn */
#define DEF_MAX_OUTPUT_BUFFER_BYTES	(8U * 1024 * 1024) /* bytes per conn */
#define DEF_ALERT_WINDOW_MS	60000		/* sliding window */
#define DEF_ALERT_MIN_REQUESTS	100		/* in the window, to judge */
#define DEF_ALERT_YELLOW_PPM	500		/* 0.05 % failures */
#define DEF_ALERT_RED_PPM	5000		/* 0.5 % */
#define DEF_ALERT_EMERGENCY_PPM	10000		/* 1 % */
#define DEF_ALERT_YELLOW_P95_MS	100
#define DEF_ALERT_RED_P95_MS	200
#define DEF_ALERT_PENDING_PPM	800000		/* 80 % of max-pending */
#define DEF_ALERT_HOLD_MS	30000		/* calm before shedding ends */
#define DEF_MAX_SESSIONS	100000		/* session-era sessions */
/*
 * On by default at what no single busy client reaches, so that one
 * address cannot take a worker's connections or fill its sessions; 0
 * turns them off (behind a proxy every client has its address).
 */
#define DEF_MAX_PER_ADDRESS	1000		/* connections, per worker */
#define DEF_INITIALIZE_RATE	100		/* a second, address, worker */
/* allow-host when none is given: { DEF_ALLOW_HOSTS }, any port */
#define DEF_ALLOW_HOSTS		"localhost", "127.0.0.1", "[::1]"
#define DEF_ALLOW_HOSTS_COUNT	3

enum listen_kind {
	LISTEN_HTTP,		/* MCP Streamable HTTP, served by workers */
	LISTEN_ADMIN		/* /metrics, /healthz: later issues */
};

enum conf_strategy {
	STRATEGY_ONE_FOR_ONE,
	STRATEGY_ONE_FOR_ALL,
	STRATEGY_REST_FOR_ONE,
	STRATEGY_SIMPLE_ONE_FOR_ONE
};

enum conf_restart {
	RESTART_PERMANENT,
	RESTART_TRANSIENT,
	RESTART_TEMPORARY
};

enum conf_auto_shutdown {
	AUTO_SHUTDOWN_NEVER,
	AUTO_SHUTDOWN_ANY_SIGNIFICANT,
	AUTO_SHUTDOWN_ALL_SIGNIFICANT
};

struct conf_listener {
	enum listen_kind	l_kind;
	/* "127.0.0.1", "::1", "*" */
	char			l_addr[CONF_ADDR_MAX_BYTES];
	uint16_t		l_port;
	int			l_line;			/* where it was declared */
	/* "listen ... auth NAME": "" not said, "none", or an auth block's */
	char			l_auth[CONF_NAME_MAX_BYTES];
	int			l_auth_idx;	/* c_auths[], or -1: none */
};

/*
 * "auth NAME { ... }": how an HTTP listener authenticates requests, as an
 * OAuth 2.1 resource server (RFC 9728 metadata; bearer tokens).
 */
#define CONF_AUTHS_MAX		16
#define CONF_AUTH_SERVERS_MAX	8	/* authorization-server lines */
#define CONF_AUTH_SCOPES_MAX	32	/* scopes-supported values */
#define CONF_AUTH_URI_MAX_BYTES	512	/* a resource or server URI */
#define DEF_AUTH_SKEW_MS	60000	/* clock-skew */
#define AUTH_SKEW_MAX_MS	600000	/* clock-skew at most */
#define DEF_JWKS_REFRESH_MS	3600000	/* jwks-refresh: fetch the keys again */
#define DEF_JWKS_REFRESH_MIN_MS	30000	/* jwks-refresh-min: for a new kid */
#define JWKS_REFRESH_FLOOR_MS	1000	/* either, at least */
#define DEF_FETCH_TIMEOUT_MS	5000	/* fetch-timeout: the agent's requests */
#define FETCH_TIMEOUT_MAX_MS	60000	/* fetch-timeout at most */
#define DEF_INTROSPECTION_CACHE_MS 300000 /* introspection-cache */
#define DEF_INTROSPECTION_PENDING 256	/* introspection-pending, a worker */
#define INTROSPECTION_PENDING_MAX 65536	/* introspection-pending at most */
#define CONF_CLIENT_ID_MAX_BYTES 256	/* introspection-client-id */
/* the registry (agent/registry.c): records and bytes it keeps at most */
#define REGISTRY_RECORDS_MAX	(16U * 1024 * 1024)
#define DEF_REGISTRY_BYTES	(256ULL * 1024 * 1024)
/* a starting worker waits this long for its records (registry-adopt-wait) */
#define DEF_ADOPT_WAIT_MS	5000
/*
 * a request for a session whose worker died waits this long for its
 * successor (registry-handoff-wait), this many at most a worker
 * (registry-handoff-queue)
 */
#define DEF_HANDOFF_WAIT_MS	5000
#define DEF_HANDOFF_QUEUE	1024
#define HANDOFF_QUEUE_MAX	65536
struct conf;
/* registry-records auto: two generations of max-sessions each */
uint32_t	conf_registry_records(const struct conf *);

/*
 * "cluster { ... }": this node is one of several sharing their state
 * through Redis (DESIGN 9).  Absent: a single node, no Redis.
 */
#define CONF_NODE_MAX_BYTES	33	/* a node id (32), with NUL */
#define CONF_SENTINELS_MAX	8	/* sentinel addresses */
#define CONF_REDIS_HOST_MAX_BYTES 256	/* a host name or address, with NUL */
#define CONF_REDIS_NAME_MAX_BYTES 129	/* master-name, redis-user, with NUL */
#define DEF_REDIS_PORT		6379
#define DEF_SENTINEL_PORT	26379
#define DEF_MASTER_NAME		"mcpd"
#define DEF_REDIS_TIMEOUT_MS	2000	/* redis-timeout: a command's answer */
#define REDIS_TIMEOUT_MIN_MS	100
#define REDIS_TIMEOUT_MAX_MS	60000
#define DEF_NODE_TTL_MS		10000	/* node-ttl: the liveness key's */
#define NODE_TTL_MIN_MS		2000	/* at least 4 refreshes of a 500 ms beat */
#define NODE_TTL_MAX_MS		600000

struct conf_redis_addr {
	char		 ra_host[CONF_REDIS_HOST_MAX_BYTES];
	uint16_t	 ra_port;
};

struct conf_cluster {
	char			 cl_node[CONF_NODE_MAX_BYTES];
	struct conf_redis_addr	 cl_redis;	/* ra_host "": sentinels */
	struct conf_redis_addr	 cl_sentinels[CONF_SENTINELS_MAX];
	uint32_t		 cl_nsentinels;
	char			 cl_master_name[CONF_REDIS_NAME_MAX_BYTES];
	char			 cl_redis_user[CONF_REDIS_NAME_MAX_BYTES];
	char			*cl_password_file;	/* NULL: no AUTH */
	char			*cl_key_file;		/* the cluster key */
	uint32_t		 cl_redis_timeout_ms;
	uint32_t		 cl_node_ttl_ms;
	int			 cl_line;
};

/* Whether the agent fetches the auth block's keys (a JWKS) for it. */
#define CONF_AUTH_FETCHES_KEYS(a) \
	((a)->a_jwt_issuer != NULL && (a)->a_jwks_file == NULL)

struct conf_auth {
	char		*a_name;
	char		*a_resource;	/* canonical resource URI (RFC 8707) */
	char		*a_servers[CONF_AUTH_SERVERS_MAX];
	uint32_t	 a_nservers;
	char		*a_scopes[CONF_AUTH_SCOPES_MAX];
	uint32_t	 a_nscopes;
	char		*a_static_tokens;	/* a file of token hashes */
	/* JSON Web Tokens (RFC 9068) signed by an issuer's keys */
	char		*a_jwt_issuer;		/* iss, exactly */
	char		*a_jwks_file;		/* its public keys (RFC 7517) */
	char		*a_audience;		/* NULL: a_resource */
	uint32_t	 a_skew_ms;		/* exp, nbf, iat leeway */
	/*
	 * The keys fetched by the agent: from jwks-uri, or (jwt-issuer
	 * without jwks-file or jwks-uri) from the issuer's metadata
	 */
	char		*a_jwks_uri;
	uint32_t	 a_jwks_refresh_ms;
	uint32_t	 a_jwks_refresh_min_ms;	/* between two for a new kid */
	/* opaque tokens, asked about through the agent (RFC 7662) */
	char		*a_introspection;	/* the endpoint; NULL: none */
	char		*a_client_id;
	char		*a_client_secret_file;
	uint32_t	 a_introspection_cache_ms;
	uint32_t	 a_introspection_pending; /* queries a worker waits on */
	uint32_t	 a_fetch_timeout_ms;	/* each request of the agent */
	int		 a_line;
};

/* "plugin PATH [ARGUMENT]", in the order of the file. */
struct conf_plugin {
	char			p_path[CONF_PATH_MAX_BYTES];	/* absolute */
	char			p_arg[CONF_PLUGIN_ARG_MAX_BYTES]; /* "": none */
	int			p_line;			/* where it was declared */
};

/* A child spec (OTP): one per role. */
struct conf_spec {
	enum conf_restart	s_restart;
	uint32_t		s_shutdown_ms;
	int			s_significant;
};

/* The catalog of mcpd.conf: exec tools, file resources, prompts. */
#define CONF_TOOLS_MAX		1024
#define CONF_RESOURCES_MAX	1024
#define CONF_PROMPTS_MAX	1024
#define CONF_ARGV_MAX		64	/* command words of an exec tool */
#define CONF_ENV_MAX		64	/* variables passed through */
#define CONF_PROMPT_ARGS_MAX	32
#define CONF_PROMPT_MSGS_MAX	32
#define DEF_TOOL_TIMEOUT_MS	30000
#define DEF_TOOL_OUTPUT_MAX_BYTES	(1024 * 1024)	/* of stdout, kept */
#define DEF_TOOL_CONCURRENCY	4		/* runs at once, node */
#define DEF_RESOURCE_SIZE_MAX	(4 * 1024 * 1024) /* bytes read */

enum session_responses {
	RESPONSES_SSE,		/* every answer on an SSE stream */
	RESPONSES_JSON		/* JSON unless messages precede the answer */
};

/* what /healthz tells: the worker's figures on which listeners */
enum healthz_details {
	HEALTHZ_ADMIN,		/* admin listeners; the others: "ok" only */
	HEALTHZ_ALL		/* every listener (a private network) */
};

struct conf_tool {
	char		*t_name;
	char		*t_title;		/* NULL: none */
	char		*t_desc;
	char		*t_schema;	/* JSON object text; NULL: derived */
	char		*t_argv[CONF_ARGV_MAX];	/* "{arg}" placeholders */
	uint32_t	 t_argc;
	char		*t_cwd;			/* NULL: "/" */
	char		*t_env[CONF_ENV_MAX];	/* names passed through */
	uint32_t	 t_nenv;
	char		*t_user;	/* NULL: the user of mcpd */
	char		*t_group;	/* NULL: t_user's primary group */
	uint32_t	 t_timeout_ms;
	uint32_t	 t_output_max;		/* bytes */
	uint32_t	 t_concurrency;
	uint32_t	 t_mem_max;	/* bytes of address space; 0 none */
	uint32_t	 t_nproc_max;	/* processes of its user; 0 none */
	int		 t_task;		/* 0 forbidden, 1 optional, 2 required */
	char		*t_scope;	/* all needed, " "-separated */
	int		 t_line;
};

struct conf_resource {
	char		*r_uri;		/* a file's URI, or a directory's prefix */
	char		*r_path;	/* absolute file or directory */
	char		*r_name;
	char		*r_desc;
	char		*r_mime;	/* NULL: by extension */
	uint32_t	 r_size_max;	/* bytes */
	uint32_t	 r_cache_ttl_ms;	/* ttlMs of reads */
	int		 r_cache_public;	/* cacheScope of reads */
	int		 r_dot_files;	/* list and read .names */
	char		*r_scope;	/* all needed, " "-separated */
	int		 r_line;
};


struct conf_prompt_arg {
	char		*a_name;
	char		*a_desc;
	int		 a_required;
};

struct conf_prompt_msg {
	int		 m_assistant;	/* role: 0 user, 1 assistant */
	char		*m_text;	/* "{arg}" placeholders */
};

struct conf_prompt {
	char			*p_name;
	char			*p_title;
	char			*p_desc;
	struct conf_prompt_arg	 p_args[CONF_PROMPT_ARGS_MAX];
	uint32_t		 p_nargs;
	struct conf_prompt_msg	 p_msgs[CONF_PROMPT_MSGS_MAX];
	uint32_t		 p_nmsgs;
	char			*p_scope;	/* all needed; NULL none */
	int			 p_line;
};

struct conf {
	char			 c_file[CONF_PATH_MAX_BYTES];

	uint32_t		 c_workers;		/* 0: computed */
	uint64_t		 c_max_connections;
	uint32_t		 c_worker_connections;	/* 0: computed */

	char			 c_pidfile[CONF_PATH_MAX_BYTES];
	char			 c_control_socket[CONF_PATH_MAX_BYTES];
	/* "": syslog */
	char			 c_log_file[CONF_PATH_MAX_BYTES];
	/* the audit log: "" none, "syslog", or a file */
	char			 c_access_log[CONF_PATH_MAX_BYTES];
	/* children run as (priv.h); "": as mcpd was started */
	char			 c_user[CONF_USER_MAX_BYTES];
	char			 c_group[CONF_USER_MAX_BYTES];	/* "": c_user's */

	enum conf_strategy	 c_strategy;
	uint32_t		 c_restart_intensity;
	uint32_t		 c_restart_period_ms;
	uint32_t		 c_throttle_min_ms;
	uint32_t		 c_throttle_max_ms;
	uint32_t		 c_throttle_reset_ms;
	uint32_t		 c_ready_timeout_ms;
	uint32_t		 c_drain_timeout_ms;
	uint32_t		 c_shutdown_delay_ms;	/* before a stop: 0 none */
	uint32_t		 c_watchdog_timeout_ms;	/* 0: off */
	enum conf_auto_shutdown	 c_auto_shutdown;
	struct conf_spec	 c_spec[ROLE_MAX];	/* [ROLE_SUPERVISOR] unused */

	struct conf_listener	 c_listeners[CONF_LISTENERS_MAX];
	uint32_t		 c_nlisteners;

	/* MCP Streamable HTTP */
	char			 c_mcp_path[CONF_MCP_PATH_MAX_BYTES];
	uint32_t		 c_max_header_size;	/* bytes */
	uint32_t		 c_max_body_size;	/* bytes */
	uint32_t		 c_header_timeout_ms;
	uint32_t		 c_body_timeout_ms;
	uint32_t		 c_idle_timeout_ms;
	uint32_t		 c_session_timeout_ms;
	uint32_t		 c_session_start_timeout_ms;
	uint32_t		 c_sse_keepalive_ms;
	uint32_t		 c_cache_ttl_ms;	/* ttlMs of lists */
	uint32_t		 c_task_ttl_ms;		/* tasks are kept */
	uint32_t		 c_max_per_address;	/* 0: no cap */
	uint32_t		 c_accept_rate;		/* a second; 0: any */
	uint32_t		 c_max_pending;		/* in flight, node */
	uint32_t		 c_max_pending_conn;	/* in flight, conn */
	uint32_t		 c_max_output_buffer;	/* bytes, per conn */
	/* alert tiers */
	uint32_t		 c_alert_window_ms;
	uint32_t		 c_alert_min_requests;
	uint32_t		 c_alert_errors_ppm[3];	/* yellow, red, emergency */
	uint32_t		 c_alert_p95_ms[2];	/* yellow, red */
	uint32_t		 c_alert_pending_ppm;	/* of max-pending */
	uint32_t		 c_alert_hold_ms;
	/* "": none */
	char			 c_alert_command[CONF_PATH_MAX_BYTES];
	uint32_t		 c_connections_soft;	/* 0: 80 % of max */
	uint32_t		 c_max_sessions;	/* session era, node */
	uint32_t		 c_initialize_rate;	/* a second, address */
	uint32_t		 c_request_rate;	/* a second, principal */
	uint64_t		 c_memory_soft;		/* bytes RSS; 0: none */
	uint32_t		 c_registry_records;	/* 0: auto */
	uint64_t		 c_registry_bytes;
	uint32_t		 c_adopt_wait_ms;	/* 0: adopt nothing */
	uint32_t		 c_handoff_wait_ms;	/* 0: 503 at once */
	uint32_t		 c_handoff_queue;	/* parked, a worker */
	uint64_t		 c_memory_hard;
	/*
	 * Host header names (lower case, no port; "[::1]" for IPv6), the
	 * defaults unless the file has allow-host lines.  A single "*": any.
	 */
	char			 c_allow_hosts[CONF_ALLOW_MAX]
				    [CONF_HOST_MAX_BYTES];
	uint32_t		 c_nallow_hosts;
	/*
	 * Origin header values, "scheme://host[:port]" in lower case.  None:
	 * an origin whose host is an allowed host passes.  A single "*": any.
	 */
	char			 c_allow_origins[CONF_ALLOW_MAX]
				    [CONF_ORIGIN_MAX_BYTES];
	uint32_t		 c_nallow_origins;

	struct conf_plugin	 c_plugins[CONF_PLUGINS_MAX];
	uint32_t		 c_nplugins;

	enum session_responses	 c_session_responses;
	enum healthz_details	 c_healthz;

	/* allocated; conf_free() frees them (a struct copy shares them) */
	struct conf_tool	*c_tools;
	uint32_t		 c_ntools;
	struct conf_resource	*c_resources;
	uint32_t		 c_nresources;
	struct conf_prompt	*c_prompts;
	uint32_t		 c_nprompts;
	struct conf_auth	*c_auths;
	uint32_t		 c_nauths;
	struct conf_cluster	*c_cluster;	/* NULL: a single node */
};

struct conf_errors {
	char	e_msg[CONF_ERRORS_MAX][CONF_PATH_MAX_BYTES + 160];
	int	e_count;	/* total, may exceed CONF_ERRORS_MAX */
};

/* Defaults for every key; listeners and plugins are left empty. */
void		 conf_defaults(struct conf *);
/*
 * Parse path into a new object.  Returns NULL and fills errs when the file
 * cannot be read or has errors; unset keys keep their defaults.  When the file
 * declares no "listen http", "listen http 127.0.0.1 port 8080" is added, and
 * likewise "listen admin 127.0.0.1 port 8081" (l_line 0).  errs may be NULL.
 * Safe to call again and again (start-up, every reload): it keeps no state.
 */
struct conf	*conf_parse(const char *path, struct conf_errors *errs);
/*
 * conf_parse() also looks at what the file names in the file system (a
 * resource's path must exist); the unit tests turn that off to parse
 * examples.  conf_parse_file(), a child re-reading the supervisor's text,
 * never looks.
 */
extern int	 conf_check_paths;
/* The same, from a stream (name is used in messages). */
struct conf	*conf_parse_file(FILE *, const char *name, struct conf_errors *);
void		 conf_free(struct conf **);
/* The heap strings of one catalog entry, and zero it (conf_free() uses). */
void		 conf_tool_free(struct conf_tool *);
void		 conf_resource_free(struct conf_resource *);
void		 conf_prompt_free(struct conf_prompt *);
void		 conf_auth_free(struct conf_auth *);
void		 conf_cluster_free(struct conf_cluster **);
/* Is this listen address one of loopback ("127.x.y.z", "::1")? */
int		 conf_addr_loopback(const char *addr);
/* The normalized configuration: every key, re-parseable to the same text. */
void		 conf_print(FILE *, const struct conf *);
/*
 * A digest of a tool's normalized text: a worker and the runner agree on
 * what a tool is across reloads (msg_run.def).  0, or -1 out of memory.
 */
#define CONF_TOOL_DIGEST_BYTES	16
int		 conf_tool_digest(const struct conf_tool *, unsigned char *out);
/* Effective numbers that depend on the machine (fd limit, CPUs). */
uint32_t	 conf_workers(const struct conf *);
uint32_t	 conf_worker_connections(const struct conf *);
/* The arithmetic behind them, for given limits (tests, mcpd -nv). */
uint32_t	 conf_workers_for(uint64_t max_connections, uint32_t per_worker,
		    long ncpu);
uint32_t	 conf_worker_connections_for(uint64_t nofile_hard_limit);

/* a node id (cluster node): 1 to 32 of [A-Za-z0-9_-] */
int		 conf_node_valid(const char *, size_t);
const char	*conf_strategy_name(enum conf_strategy);
const char	*conf_restart_name(enum conf_restart);
const char	*conf_listen_kind_name(enum listen_kind);
const char	*conf_auto_shutdown_name(enum conf_auto_shutdown);
const char	*conf_session_responses_name(enum session_responses);
const char	*conf_healthz_name(enum healthz_details);
/* "500ms", "10s", "2m", "1h": the largest unit that is exact. */
const char	*conf_fmt_duration(char *, size_t, uint32_t ms);
/* "512", "8K", "4M", "1G": the largest unit (1024) that is exact. */
const char	*conf_fmt_size(char *, size_t, uint64_t bytes);
/*
 * The checks of allow-host and allow-origin, on a header's value (len
 * bytes, no NUL needed; case does not matter).  Host may carry ":port".
 * With no allow-origin, an origin passes if it is scheme://host[:port]
 * with an allowed host.
 */
int		 conf_host_allowed(const struct conf *, const char *host,
		    size_t len);
int		 conf_origin_allowed(const struct conf *, const char *origin,
		    size_t len);

#endif
