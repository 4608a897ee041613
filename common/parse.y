/*
 * parse.y -- the mcpd.conf(5) grammar and its lexer.
 *
 * The OpenBSD parse.y shape: a yacc grammar, a hand-written lexer reading
 * through a stack of struct file (include), and every error reported as
 * "file:line: message".  The language is line-oriented: one statement per
 * line, role blocks open with "{" on the statement's line and hold one item
 * per line.  Values are words or "quoted strings" and the actions check them,
 * so a bad value gets a message that names the key and the value.
 *
 * conf_parse() is called at start-up and on every reload, so all state of
 * one parse lives in "ps", which is cleared on entry and whose allocations
 * (token strings, file names) are released before return.
 */

%{
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clusterkey.h"
#include "conf.h"
#include "json.h"
#include "mcpd.h"
#include "priv.h"
#include "jwt.h"
#include "scope.h"
#include "tokens.h"
#include "util.h"

#define LEX_TOKEN_MAX		4096	/* bytes in one word or string */
#define LEX_UNGET_MAX		4	/* the lexer peeks one character */
#define DURATION_MAX_MS		(24UL * 60 * 60 * 1000)	/* 24h */
#define MAX_CONNECTIONS_MAX	10000000
#define WORKER_CONNECTIONS_MAX	1000000
#define RESTART_INTENSITY_MAX	1000	/* < RS_HISTORY_MAX (restart.h) */
#define SUN_PATH_LEN		sizeof(((struct sockaddr_un *)0)->sun_path)
#define SESSION_TIMEOUT_MIN_MS	1000
#define TASK_TTL_MIN_MS		1000
#define ACCEPT_RATE_MAX		10000000	/* connections a second */
#define PENDING_MAX		100000000	/* requests in flight */
#define OUTPUT_BUFFER_MIN	(16U * 1024)
#define OUTPUT_BUFFER_MAX	(1024U * 1024 * 1024)
#define CAT_NAME_MAX		64	/* a tool's, prompt's, argument's name */
#define CAT_LABEL_MAX		96	/* "tool NAME" in messages */
#define TOOL_OUTPUT_MIN		1024U			/* max-output 1K.. */
#define TOOL_OUTPUT_MAX		(64U * 1024 * 1024)	/* ..64M */
#define TOOL_CONCURRENCY_MAX	1000
#define TOOL_MEMORY_MIN		(1U << 20)		/* max-memory 1M.. */
#define TOOL_MEMORY_MAX		(3U << 30)		/* ..3G */
#define TOOL_PROCESSES_MAX	100000			/* max-processes */
#define RESOURCE_SIZE_MAX	(64U * 1024 * 1024)	/* max-size 1..64M */
#define MIME_PART_MAX		127	/* RFC 6838 restricted-name */
#define WORDS_MAX		CONF_ARGV_MAX	/* values kept of one line */

struct file {
	struct file	*f_parent;	/* the includer: the include stack */
	struct file	*f_next;	/* every file of this parse */
	FILE		*f_fp;
	int		 f_owned;	/* we opened f_fp and close it */
	char		*f_name;	/* as given, or resolved for includes */
	int		 f_lineno;
	int		 f_errors;
	int		 f_depth;	/* 0 for the top file */
	int		 f_unget[LEX_UNGET_MAX];
	int		 f_nunget;
};

/* Where a key was set: "already set on line 3", "later of the two". */
struct where {
	struct file	*w_file;	/* NULL: not set */
	int		 w_line;
	int		 w_seq;		/* statement order across files */
	int		 w_ok;		/* the value was valid and stored */
};

enum key {
	K_WORKERS,
	K_MAX_CONNECTIONS,
	K_WORKER_CONNECTIONS,
	K_PIDFILE,
	K_CONTROL_SOCKET,
	K_LOG_FILE,
	K_ACCESS_LOG,
	K_STRATEGY,
	K_RESTART_INTENSITY,
	K_RESTART_PERIOD,
	K_THROTTLE_MIN,
	K_THROTTLE_MAX,
	K_THROTTLE_RESET,
	K_READY_TIMEOUT,
	K_DRAIN_TIMEOUT,
	K_SHUTDOWN_DELAY,
	K_WATCHDOG_TIMEOUT,
	K_AUTO_SHUTDOWN,
	K_MCP_PATH,
	K_MAX_HEADER_SIZE,
	K_MAX_BODY_SIZE,
	K_HEADER_TIMEOUT,
	K_BODY_TIMEOUT,
	K_IDLE_TIMEOUT,
	K_SESSION_TIMEOUT,
	K_SESSION_START_TIMEOUT,
	K_SSE_KEEPALIVE,
	K_SESSION_RESPONSES,
	K_HEALTHZ,
	K_CACHE_TTL,
	K_TASK_TTL,
	K_MAX_PER_ADDRESS,
	K_ACCEPT_RATE,
	K_MAX_PENDING,
	K_MAX_PENDING_CONN,
	K_MAX_OUTPUT_BUFFER,
	K_ALERT_WINDOW,
	K_ALERT_MIN_REQUESTS,
	K_ALERT_YELLOW_ERRORS,
	K_ALERT_RED_ERRORS,
	K_ALERT_EMERGENCY_ERRORS,
	K_ALERT_YELLOW_P95,
	K_ALERT_RED_P95,
	K_ALERT_EMERGENCY_PENDING,
	K_ALERT_HOLD,
	K_ALERT_COMMAND,
	K_CONNECTIONS_SOFT,
	K_MAX_SESSIONS,
	K_INITIALIZE_RATE,
	K_REQUEST_RATE,
	K_MEMORY_SOFT,
	K_MEMORY_HARD,
	K_USER,
	K_GROUP,
	K_REGISTRY_RECORDS,
	K_REGISTRY_SIZE,
	K_REGISTRY_ADOPT_WAIT,
	K_REGISTRY_HANDOFF_WAIT,
	K_REGISTRY_HANDOFF_QUEUE,
	K_MAX
};

enum spec_key {
	SK_RESTART,
	SK_SHUTDOWN_TIMEOUT,
	SK_SIGNIFICANT,
	SK_MAX
};

/* The kind of a catalog block; CAT_NONE: a role block. */
enum cat_kind {
	CAT_NONE,
	CAT_TOOL,
	CAT_RESOURCE,
	CAT_PROMPT,
	CAT_AUTH,
	CAT_CLUSTER
};

/* The items of catalog blocks. */
enum cat_key {
	CK_DESCRIPTION,
	CK_TITLE,
	CK_INPUT_SCHEMA,
	CK_COMMAND,
	CK_DIRECTORY,
	CK_ENV,
	CK_TIMEOUT,
	CK_MAX_OUTPUT,
	CK_CONCURRENCY,
	CK_MAX_MEMORY,
	CK_MAX_PROCESSES,
	CK_PATH,
	CK_NAME,
	CK_MIME_TYPE,
	CK_MAX_SIZE,
	CK_ARGUMENT,
	CK_MESSAGE,
	CK_TASK,
	CK_CACHE_TTL,
	CK_CACHE_SCOPE,
	CK_DOT_FILES,
	CK_USER,
	CK_GROUP,
	CK_RESOURCE_URI,
	CK_AUTH_SERVER,
	CK_SCOPES,
	CK_STATIC_TOKENS,
	CK_JWT_ISSUER,
	CK_JWKS_FILE,
	CK_AUDIENCE,
	CK_CLOCK_SKEW,
	CK_JWKS_URI,
	CK_JWKS_REFRESH,
	CK_JWKS_REFRESH_MIN,
	CK_INTRO_ENDPOINT,
	CK_INTRO_CLIENT_ID,
	CK_INTRO_SECRET,
	CK_INTRO_CACHE,
	CK_INTRO_PENDING,
	CK_FETCH_TIMEOUT,
	CK_SCOPE,
	CK_NODE,
	CK_REDIS,
	CK_SENTINEL,
	CK_MASTER_NAME,
	CK_REDIS_USER,
	CK_REDIS_PASSWORD_FILE,
	CK_KEY_FILE,
	CK_REDIS_TIMEOUT,
	CK_NODE_TTL,
	CK_MAX
};

static struct {
	struct conf		*conf;
	struct conf_errors	*errs;
	int			 nerrors;
	struct file		*file;		/* top of the include stack */
	struct file		*files;		/* all of them, freed at end */
	struct file		*pending;	/* include, entered after \n */
	struct strnode		*strings;	/* token text, freed at end */
	int			 last_tok;
	int			 bol;		/* next token starts a line */
	int			 close_pending;	/* EOF in a block: '}' '\n' */
	int			 close_faked;
	struct file		*stmt_file;	/* the current statement */
	int			 stmt_line;
	struct file		*lasterr_file;	/* no "syntax error" on top */
	int			 lasterr_line;
	int			 seq;
	struct where		 seen[K_MAX];

	int			 in_block;
	int			 block_role;	/* -1: unknown or repeated */
	struct file		*block_file;
	int			 block_line;
	const char		*block_name;	/* of an unknown block */
	const char		*block_label;	/* for "missing }" */
	struct where		 block_at[ROLE_MAX];
	struct where		 spec_seen[ROLE_MAX][SK_MAX];
	struct where		 scratch_seen[SK_MAX];
	struct conf_spec	 scratch;
	struct conf_spec	*spec;		/* being filled, or NULL */
	struct where		*sseen;		/* its keys */

	int			 has_http;
	int			 has_admin;
	struct file		*listen_file[CONF_LISTENERS_MAX];

	struct where		 plugin_at[CONF_PLUGINS_MAX];
	struct where		 host_at[CONF_ALLOW_MAX];	/* 0: none */
	struct where		 origin_at[CONF_ALLOW_MAX];

	/* the values of a line that takes several ("command", "env") */
	const char		*words[WORDS_MAX];
	uint32_t		 nwords;	/* all of them, may be more */

	/* the catalog block being read, in_block with block_cat set */
	enum cat_kind		 block_cat;
	int			 cat_ok;
	int			 check_fs;	/* the supervisor's: look */	/* a right header: keep it */
	char			 cat_label[CAT_LABEL_MAX]; /* "tool grep" */
	struct where		 cseen[CK_MAX];
	struct conf_tool	 tool;		/* filled, then appended */
	struct conf_resource	 res;
	struct conf_prompt	 prompt;
	struct conf_auth	 auth;
	struct conf_cluster	 cluster;	/* filled, then copied */
	struct where		 cluster_at;	/* the block, once */
	struct file		*cluster_file;
	int			 cluster_key_line;
	int			 cluster_pass_line;
	struct file		*auth_file[CONF_AUTHS_MAX];
	int			 auth_tokens_line[CONF_AUTHS_MAX + 1];
	int			 auth_jwks_line[CONF_AUTHS_MAX + 1];
	int			 auth_secret_line[CONF_AUTHS_MAX + 1];
	uint32_t		 auths_cap;
	struct where		 env_at[CONF_ENV_MAX];
	struct where		 arg_at[CONF_PROMPT_ARGS_MAX];
	struct where		 msg_at[CONF_PROMPT_MSGS_MAX];
	/* the file of each entry, for "already declared at" */
	struct file		*tool_file[CONF_TOOLS_MAX];
	struct file		*res_file[CONF_RESOURCES_MAX];
	struct file		*prompt_file[CONF_PROMPTS_MAX];
	/* the lines of a tool's user and group items, for check_paths() */
	int			 tool_user_line[CONF_TOOLS_MAX];
	int			 tool_group_line[CONF_TOOLS_MAX];
	uint32_t		 tools_cap;	/* allocated entries */
	uint32_t		 res_cap;
	uint32_t		 prompts_cap;

	char			 buf[LEX_TOKEN_MAX];
} ps;

struct strnode {
	struct strnode	*s_next;
	int		 s_quoted;	/* a "string", not a bare word */
	char		 s_str[];
};

typedef struct {
	union {
		char	*string;
		int	 number;
	} v;
	int lineno;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1

static int	 yylex(void);
static void	 yyerror(const char *);
static void	 conf_error(struct file *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 stmt_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static int	 key_first(struct where *, const char *);
static int	 get_number(const char *, const char *, long long, long long,
		    long long *);
static int	 get_duration(const char *, const char *, uint32_t *);
static int	 get_duration_min(const char *, const char *, uint32_t,
		    uint32_t *);
static int	 get_size(const char *, const char *, uint32_t, uint32_t,
		    uint32_t *);
static int	 get_choice(const char *, const char *, const char *const *,
		    int);
static int	 get_path(const char *, const char *, char *, size_t);
static int	 fits_sun_path(const char *);
static void	 set_count(enum key, const char *, long long, long long,
		    int, uint32_t *);
static void	 set_duration(enum key, const char *, uint32_t *);
static void	 set_percent(enum key, const char *, uint32_t *);
static void	 set_bytes(enum key, const char *, uint64_t *);
static void	 set_duration_min(enum key, const char *, uint32_t,
		    uint32_t *);
static void	 set_size(enum key, const char *, uint32_t, uint32_t,
		    uint32_t *);
static void	 set_mcp_path(const char *);
static void	 add_allow(int, const char *);
static void	 add_plugin(const char *, const char *);
static void	 spec_item(enum spec_key, const char *, const char *);
static void	 include_file(const char *);
static void	 check_paths(void);
static void	 add_listener(const char *, const char *, const char *,
	    const char *, const char *);
static void	 block_open(int);
static void	 block_close(void);
static void	 words_add(const char *);
static void	 cat_open(enum cat_kind, const char *);
static void	 cat_item(enum cat_key);
static void	 user_item(int);
static int	 auth_uri(const char *, const char *, int);
static int	 valid_scope(const char *);
static int	 set_scope(const char *);
static const char *cat_kind_name(enum cat_kind);
static void	 cat_close(void);

static const char *const key_names[K_MAX] = {
	[K_WORKERS] =			"workers",
	[K_MAX_CONNECTIONS] =		"max-connections",
	[K_WORKER_CONNECTIONS] =	"worker-connections",
	[K_PIDFILE] =			"pidfile",
	[K_CONTROL_SOCKET] =		"control-socket",
	[K_LOG_FILE] =			"log-file",
	[K_ACCESS_LOG] =		"access-log",
	[K_STRATEGY] =			"strategy",
	[K_RESTART_INTENSITY] =		"restart-intensity",
	[K_RESTART_PERIOD] =		"restart-period",
	[K_THROTTLE_MIN] =		"throttle-min",
	[K_THROTTLE_MAX] =		"throttle-max",
	[K_THROTTLE_RESET] =		"throttle-reset",
	[K_READY_TIMEOUT] =		"ready-timeout",
	[K_DRAIN_TIMEOUT] =		"drain-timeout",
	[K_SHUTDOWN_DELAY] =		"shutdown-delay",
	[K_WATCHDOG_TIMEOUT] =		"watchdog-timeout",
	[K_AUTO_SHUTDOWN] =		"auto-shutdown",
	[K_MCP_PATH] =			"mcp-path",
	[K_MAX_HEADER_SIZE] =		"max-header-size",
	[K_MAX_BODY_SIZE] =		"max-body-size",
	[K_HEADER_TIMEOUT] =		"header-timeout",
	[K_BODY_TIMEOUT] =		"body-timeout",
	[K_IDLE_TIMEOUT] =		"idle-timeout",
	[K_SESSION_TIMEOUT] =		"session-timeout",
	[K_SESSION_START_TIMEOUT] =	"session-start-timeout",
	[K_SSE_KEEPALIVE] =		"sse-keepalive",
	[K_CACHE_TTL] =			"list-cache-ttl",
	[K_TASK_TTL] =			"task-ttl",
	[K_MAX_PER_ADDRESS] =		"max-connections-per-address",
	[K_ACCEPT_RATE] =		"accept-rate",
	[K_MAX_PENDING] =		"max-pending",
	[K_MAX_PENDING_CONN] =		"max-pending-per-connection",
	[K_MAX_OUTPUT_BUFFER] =		"max-output-buffer",
	[K_ALERT_WINDOW] =		"alert-window",
	[K_ALERT_MIN_REQUESTS] =	"alert-min-requests",
	[K_ALERT_YELLOW_ERRORS] =	"alert-yellow-errors",
	[K_ALERT_RED_ERRORS] =		"alert-red-errors",
	[K_ALERT_EMERGENCY_ERRORS] =	"alert-emergency-errors",
	[K_ALERT_YELLOW_P95] =		"alert-yellow-p95",
	[K_ALERT_RED_P95] =		"alert-red-p95",
	[K_ALERT_EMERGENCY_PENDING] =	"alert-emergency-pending",
	[K_ALERT_HOLD] =		"alert-hold",
	[K_ALERT_COMMAND] =		"alert-command",
	[K_CONNECTIONS_SOFT] =		"connections-soft-limit",
	[K_MAX_SESSIONS] =		"max-sessions",
	[K_INITIALIZE_RATE] =		"initialize-rate",
	[K_REQUEST_RATE] =		"request-rate",
	[K_MEMORY_SOFT] =		"memory-soft-limit",
	[K_REGISTRY_RECORDS] =		"registry-records",
	[K_REGISTRY_SIZE] =		"registry-size",
	[K_REGISTRY_ADOPT_WAIT] =	"registry-adopt-wait",
	[K_REGISTRY_HANDOFF_WAIT] =	"registry-handoff-wait",
	[K_REGISTRY_HANDOFF_QUEUE] =	"registry-handoff-queue",
	[K_MEMORY_HARD] =		"memory-hard-limit",
	[K_SESSION_RESPONSES] =		"session-responses",
	[K_HEALTHZ] =			"healthz",
	[K_USER] =			"user",
	[K_GROUP] =			"group"
};
%}

%token	INCLUDE WORKERS MAXCONNECTIONS WORKERCONNECTIONS PIDFILE
%token	CONTROLSOCKET LOGFILE STRATEGY RESTARTINTENSITY RESTARTPERIOD
%token	SHUTDOWNDELAY
%token	THROTTLEMIN THROTTLEMAX THROTTLERESET READYTIMEOUT DRAINTIMEOUT
%token	WATCHDOGTIMEOUT SESSIONSTARTTIMEOUT DOTFILES MAXMEMORY MAXPROCESSES
%token	AUTH RESOURCEURI AUTHSERVER SCOPESSUPPORTED STATICTOKENS ACCESSLOG
%token	JWTISSUER JWKSFILE AUDIENCE CLOCKSKEW
%token	JWKSURI JWKSREFRESH JWKSREFRESHMIN INTROENDPOINT INTROCLIENTID
%token	INTROSECRET INTROCACHE INTROPENDING FETCHTIMEOUT
%token	AUTOSHUTDOWN LISTEN PORT WORKER AGENT RUNNER RESTART SHUTDOWNTIMEOUT
%token	SIGNIFICANT PLUGIN MCPPATH SESSIONTIMEOUT MAXBODYSIZE MAXHEADERSIZE
%token	HEADERTIMEOUT BODYTIMEOUT IDLETIMEOUT SSEKEEPALIVE ALLOWHOST
%token	HEALTHZ
%token	ALLOWORIGIN SESSIONRESPONSES TOOL RESOURCE PROMPT DESCRIPTION TITLE
%token	INPUTSCHEMA COMMAND DIRECTORY ENV TIMEOUT MAXOUTPUT CONCURRENCY PATH
%token	NAME MIMETYPE MAXSIZE ARGUMENT MESSAGE CACHETTL CACHESCOPE TASKTTL
%token	TASK LISTCACHETTL MAXPERADDRESS ACCEPTRATE MAXPENDING MAXPENDINGCONN
%token	MAXOUTPUTBUFFER ALERTWINDOW ALERTMINREQUESTS ALERTYELLOWERRORS
%token	ALERTREDERRORS ALERTEMERGENCYERRORS ALERTYELLOWP95 ALERTREDP95
%token	ALERTEMERGENCYPENDING ALERTHOLD ALERTCOMMAND CONNECTIONSSOFT
%token	MAXSESSIONS INITIALIZERATE REQUESTRATE MEMORYSOFT MEMORYHARD ERROR
%token	REGISTRYRECORDS REGISTRYSIZE REGISTRYADOPTWAIT REGISTRYHANDOFFWAIT
%token	REGISTRYHANDOFFQUEUE
%token	USER GROUP SCOPE
%token	CLUSTER NODE REDIS SENTINEL MASTERNAME REDISUSER REDISPASSWORDFILE
%token	KEYFILE REDISTIMEOUT NODETTL
%token	<v.string>	STRING
%type	<v.number>	role catkind

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar INCLUDE STRING '\n'	{
			/* only once the whole line is known to be right */
			include_file($3);
		}
		| grammar main '\n'
		| grammar block '\n'
		| grammar error '\n'		{ yyerrok; }
		;

main		: WORKERS STRING		{
			set_count(K_WORKERS, $2, 1, WORKERS_MAX, 1,
			    &ps.conf->c_workers);
		}
		| MAXCONNECTIONS STRING		{
			long long	n;

			if (key_first(&ps.seen[K_MAX_CONNECTIONS],
			    "max-connections") &&
			    get_number("max-connections", $2, 1,
			    MAX_CONNECTIONS_MAX, &n)) {
				ps.conf->c_max_connections = (uint64_t)n;
				ps.seen[K_MAX_CONNECTIONS].w_ok = 1;
			}
		}
		| WORKERCONNECTIONS STRING	{
			set_count(K_WORKER_CONNECTIONS, $2, 1,
			    WORKER_CONNECTIONS_MAX, 1,
			    &ps.conf->c_worker_connections);
		}
		| PIDFILE STRING		{
			if (key_first(&ps.seen[K_PIDFILE], "pidfile") &&
			    get_path("pidfile", $2, ps.conf->c_pidfile,
			    sizeof(ps.conf->c_pidfile)))
				ps.seen[K_PIDFILE].w_ok = 1;
		}
		| CONTROLSOCKET STRING		{
			if (key_first(&ps.seen[K_CONTROL_SOCKET],
			    "control-socket") && fits_sun_path($2) &&
			    get_path("control-socket", $2,
			    ps.conf->c_control_socket,
			    sizeof(ps.conf->c_control_socket)))
				ps.seen[K_CONTROL_SOCKET].w_ok = 1;
		}
		| ACCESSLOG STRING		{
			struct where *w = &ps.seen[K_ACCESS_LOG];

			if (key_first(w, "access-log")) {
				if (strcmp($2, "none") == 0) {
					ps.conf->c_access_log[0] = '\0';
					w->w_ok = 1;
				} else if (strcmp($2, "syslog") == 0) {
					snprintf(ps.conf->c_access_log,
					    sizeof(ps.conf->c_access_log),
					    "syslog");
					w->w_ok = 1;
				} else if (get_path("access-log", $2,
				    ps.conf->c_access_log,
				    sizeof(ps.conf->c_access_log)))
					w->w_ok = 1;
			}
		}
		| LOGFILE STRING		{
			if (key_first(&ps.seen[K_LOG_FILE], "log-file")) {
				if (strcmp($2, "none") == 0) {
					ps.conf->c_log_file[0] = '\0';
					ps.seen[K_LOG_FILE].w_ok = 1;
				} else if (get_path("log-file", $2,
				    ps.conf->c_log_file,
				    sizeof(ps.conf->c_log_file)))
					ps.seen[K_LOG_FILE].w_ok = 1;
			}
		}
		| STRATEGY STRING		{
			const char	*w[] = {
				conf_strategy_name(STRATEGY_ONE_FOR_ONE),
				conf_strategy_name(STRATEGY_ONE_FOR_ALL),
				conf_strategy_name(STRATEGY_REST_FOR_ONE),
				conf_strategy_name(STRATEGY_SIMPLE_ONE_FOR_ONE)
			};
			int		 i;

			if (key_first(&ps.seen[K_STRATEGY], "strategy") &&
			    (i = get_choice("strategy", $2, w, 4)) != -1) {
				ps.conf->c_strategy = (enum conf_strategy)i;
				ps.seen[K_STRATEGY].w_ok = 1;
			}
		}
		| RESTARTINTENSITY STRING	{
			set_count(K_RESTART_INTENSITY, $2, 0,
			    RESTART_INTENSITY_MAX, 0,
			    &ps.conf->c_restart_intensity);
		}
		| RESTARTPERIOD STRING		{
			set_duration(K_RESTART_PERIOD, $2,
			    &ps.conf->c_restart_period_ms);
		}
		| THROTTLEMIN STRING		{
			set_duration(K_THROTTLE_MIN, $2,
			    &ps.conf->c_throttle_min_ms);
		}
		| THROTTLEMAX STRING		{
			set_duration(K_THROTTLE_MAX, $2,
			    &ps.conf->c_throttle_max_ms);
		}
		| THROTTLERESET STRING		{
			set_duration(K_THROTTLE_RESET, $2,
			    &ps.conf->c_throttle_reset_ms);
		}
		| READYTIMEOUT STRING		{
			set_duration(K_READY_TIMEOUT, $2,
			    &ps.conf->c_ready_timeout_ms);
		}
		| DRAINTIMEOUT STRING		{
			set_duration(K_DRAIN_TIMEOUT, $2,
			    &ps.conf->c_drain_timeout_ms);
		}
		| SHUTDOWNDELAY STRING		{
			const char	*k = key_names[K_SHUTDOWN_DELAY];
			uint32_t	 ms;

			if (key_first(&ps.seen[K_SHUTDOWN_DELAY], k) &&
			    get_duration_min(k, $2, 0, &ms)) {
				if (ms > SHUTDOWN_DELAY_MAX_MS)
					stmt_error("%s: %s is out of range "
					    "0s..%us", k, $2,
					    SHUTDOWN_DELAY_MAX_MS / 1000);
				else {
					ps.conf->c_shutdown_delay_ms = ms;
					ps.seen[K_SHUTDOWN_DELAY].w_ok = 1;
				}
			}
		}
		| WATCHDOGTIMEOUT STRING	{
			const char	*k = key_names[K_WATCHDOG_TIMEOUT];
			uint32_t	 ms;

			/* 0s: off; else room for a few heartbeats */
			if (key_first(&ps.seen[K_WATCHDOG_TIMEOUT], k) &&
			    get_duration_min(k, $2, 0, &ms)) {
				if (ms != 0 && ms < WATCHDOG_TIMEOUT_MIN_MS)
					stmt_error("%s: %s is out of range: 0s "
					    "(off), or %us..24h", k, $2,
					    WATCHDOG_TIMEOUT_MIN_MS / 1000);
				else {
					ps.conf->c_watchdog_timeout_ms = ms;
					ps.seen[K_WATCHDOG_TIMEOUT].w_ok = 1;
				}
			}
		}
		| AUTOSHUTDOWN STRING		{
			const char	*w[] = {
				conf_auto_shutdown_name(AUTO_SHUTDOWN_NEVER),
				conf_auto_shutdown_name(
				    AUTO_SHUTDOWN_ANY_SIGNIFICANT),
				conf_auto_shutdown_name(
				    AUTO_SHUTDOWN_ALL_SIGNIFICANT)
			};
			int		 i;

			if (key_first(&ps.seen[K_AUTO_SHUTDOWN],
			    "auto-shutdown") &&
			    (i = get_choice("auto-shutdown", $2, w, 3)) != -1) {
				ps.conf->c_auto_shutdown =
				    (enum conf_auto_shutdown)i;
				ps.seen[K_AUTO_SHUTDOWN].w_ok = 1;
			}
		}
		| LISTEN STRING STRING PORT STRING {
			add_listener($2, $3, $5, NULL, NULL);
		}
		| LISTEN STRING STRING PORT STRING STRING STRING {
			add_listener($2, $3, $5, $6, $7);
		}
		| MCPPATH STRING		{
			set_mcp_path($2);
		}
		| MAXHEADERSIZE STRING		{
			set_size(K_MAX_HEADER_SIZE, $2, CONF_HEADER_SIZE_MIN,
			    CONF_HEADER_SIZE_MAX, &ps.conf->c_max_header_size);
		}
		| MAXBODYSIZE STRING		{
			set_size(K_MAX_BODY_SIZE, $2, CONF_BODY_SIZE_MIN,
			    CONF_BODY_SIZE_MAX, &ps.conf->c_max_body_size);
		}
		| HEADERTIMEOUT STRING		{
			set_duration(K_HEADER_TIMEOUT, $2,
			    &ps.conf->c_header_timeout_ms);
		}
		| BODYTIMEOUT STRING		{
			set_duration(K_BODY_TIMEOUT, $2,
			    &ps.conf->c_body_timeout_ms);
		}
		| IDLETIMEOUT STRING		{
			set_duration(K_IDLE_TIMEOUT, $2,
			    &ps.conf->c_idle_timeout_ms);
		}
		| SESSIONTIMEOUT STRING		{
			set_duration_min(K_SESSION_TIMEOUT, $2,
			    SESSION_TIMEOUT_MIN_MS,
			    &ps.conf->c_session_timeout_ms);
		}
		| SESSIONSTARTTIMEOUT STRING	{
			set_duration_min(K_SESSION_START_TIMEOUT, $2,
			    SESSION_TIMEOUT_MIN_MS,
			    &ps.conf->c_session_start_timeout_ms);
		}
		| SSEKEEPALIVE STRING		{
			set_duration(K_SSE_KEEPALIVE, $2,
			    &ps.conf->c_sse_keepalive_ms);
		}
		| LISTCACHETTL STRING		{
			/* 0: stale at once */
			set_duration_min(K_CACHE_TTL, $2, 0,
			    &ps.conf->c_cache_ttl_ms);
		}
		| MAXPERADDRESS STRING		{
			set_count(K_MAX_PER_ADDRESS, $2, 0,
			    MAX_CONNECTIONS_MAX, 0, &ps.conf->c_max_per_address);
		}
		| ACCEPTRATE STRING		{
			set_count(K_ACCEPT_RATE, $2, 0, ACCEPT_RATE_MAX, 0,
			    &ps.conf->c_accept_rate);
		}
		| MAXPENDING STRING		{
			set_count(K_MAX_PENDING, $2, 1, PENDING_MAX, 0,
			    &ps.conf->c_max_pending);
		}
		| MAXPENDINGCONN STRING		{
			set_count(K_MAX_PENDING_CONN, $2, 1, PENDING_MAX, 0,
			    &ps.conf->c_max_pending_conn);
		}
		| MAXOUTPUTBUFFER STRING	{
			set_size(K_MAX_OUTPUT_BUFFER, $2, OUTPUT_BUFFER_MIN,
			    OUTPUT_BUFFER_MAX, &ps.conf->c_max_output_buffer);
		}
		| ALERTWINDOW STRING		{
			set_duration_min(K_ALERT_WINDOW, $2, 1000,
			    &ps.conf->c_alert_window_ms);
		}
		| ALERTMINREQUESTS STRING	{
			set_count(K_ALERT_MIN_REQUESTS, $2, 0, 1000000000, 0,
			    &ps.conf->c_alert_min_requests);
		}
		| ALERTYELLOWERRORS STRING	{
			set_percent(K_ALERT_YELLOW_ERRORS, $2,
			    &ps.conf->c_alert_errors_ppm[0]);
		}
		| ALERTREDERRORS STRING		{
			set_percent(K_ALERT_RED_ERRORS, $2,
			    &ps.conf->c_alert_errors_ppm[1]);
		}
		| ALERTEMERGENCYERRORS STRING	{
			set_percent(K_ALERT_EMERGENCY_ERRORS, $2,
			    &ps.conf->c_alert_errors_ppm[2]);
		}
		| ALERTYELLOWP95 STRING		{
			set_duration(K_ALERT_YELLOW_P95, $2,
			    &ps.conf->c_alert_p95_ms[0]);
		}
		| ALERTREDP95 STRING		{
			set_duration(K_ALERT_RED_P95, $2,
			    &ps.conf->c_alert_p95_ms[1]);
		}
		| ALERTEMERGENCYPENDING STRING	{
			set_percent(K_ALERT_EMERGENCY_PENDING, $2,
			    &ps.conf->c_alert_pending_ppm);
		}
		| ALERTHOLD STRING		{
			set_duration_min(K_ALERT_HOLD, $2, 0,
			    &ps.conf->c_alert_hold_ms);
		}
		| ALERTCOMMAND STRING		{
			if (key_first(&ps.seen[K_ALERT_COMMAND],
			    "alert-command")) {
				if (strcmp($2, "none") == 0) {
					ps.conf->c_alert_command[0] = '\0';
					ps.seen[K_ALERT_COMMAND].w_ok = 1;
				} else if (get_path("alert-command", $2,
				    ps.conf->c_alert_command,
				    sizeof(ps.conf->c_alert_command)))
					ps.seen[K_ALERT_COMMAND].w_ok = 1;
			}
		}
		| MAXSESSIONS STRING		{
			set_count(K_MAX_SESSIONS, $2, 1, MAX_CONNECTIONS_MAX, 0,
			    &ps.conf->c_max_sessions);
		}
		| INITIALIZERATE STRING		{
			set_count(K_INITIALIZE_RATE, $2, 0, ACCEPT_RATE_MAX, 0,
			    &ps.conf->c_initialize_rate);
		}
		| REQUESTRATE STRING		{
			set_count(K_REQUEST_RATE, $2, 0, ACCEPT_RATE_MAX, 0,
			    &ps.conf->c_request_rate);
		}
		| MEMORYSOFT STRING		{
			set_bytes(K_MEMORY_SOFT, $2, &ps.conf->c_memory_soft);
		}
		| REGISTRYRECORDS STRING	{
			set_count(K_REGISTRY_RECORDS, $2, 1,
			    REGISTRY_RECORDS_MAX, 1,
			    &ps.conf->c_registry_records);
		}
		| REGISTRYSIZE STRING		{
			set_bytes(K_REGISTRY_SIZE, $2,
			    &ps.conf->c_registry_bytes);
		}
		| REGISTRYADOPTWAIT STRING	{
			set_duration_min(K_REGISTRY_ADOPT_WAIT, $2, 0,
			    &ps.conf->c_adopt_wait_ms);
		}
		| REGISTRYHANDOFFWAIT STRING	{
			set_duration_min(K_REGISTRY_HANDOFF_WAIT, $2, 0,
			    &ps.conf->c_handoff_wait_ms);
		}
		| REGISTRYHANDOFFQUEUE STRING	{
			set_count(K_REGISTRY_HANDOFF_QUEUE, $2, 0,
			    HANDOFF_QUEUE_MAX, 0, &ps.conf->c_handoff_queue);
		}
		| MEMORYHARD STRING		{
			set_bytes(K_MEMORY_HARD, $2, &ps.conf->c_memory_hard);
		}
		| CONNECTIONSSOFT STRING	{
			set_count(K_CONNECTIONS_SOFT, $2, 0,
			    MAX_CONNECTIONS_MAX, 0,
			    &ps.conf->c_connections_soft);
		}
		| TASKTTL STRING		{
			set_duration_min(K_TASK_TTL, $2, TASK_TTL_MIN_MS,
			    &ps.conf->c_task_ttl_ms);
		}
		| SESSIONRESPONSES STRING	{
			const char	*w[] = {
				conf_session_responses_name(RESPONSES_SSE),
				conf_session_responses_name(RESPONSES_JSON)
			};
			int		 i;

			if (key_first(&ps.seen[K_SESSION_RESPONSES],
			    "session-responses") &&
			    (i = get_choice("session-responses", $2, w, 2)) !=
			    -1) {
				ps.conf->c_session_responses =
				    (enum session_responses)i;
				ps.seen[K_SESSION_RESPONSES].w_ok = 1;
			}
		}
		| HEALTHZ STRING		{
			const char	*w[] = {
				conf_healthz_name(HEALTHZ_ADMIN),
				conf_healthz_name(HEALTHZ_ALL)
			};
			int		 i;

			if (key_first(&ps.seen[K_HEALTHZ], "healthz") &&
			    (i = get_choice("healthz", $2, w, 2)) != -1) {
				ps.conf->c_healthz = (enum healthz_details)i;
				ps.seen[K_HEALTHZ].w_ok = 1;
			}
		}
		| ALLOWHOST STRING		{
			add_allow(0, $2);
		}
		| ALLOWORIGIN STRING		{
			add_allow(1, $2);
		}
		| PLUGIN STRING			{
			add_plugin($2, NULL);
		}
		| PLUGIN STRING STRING		{
			add_plugin($2, $3);
		}
		| item
		| '}'				{
			/* the end of a block whose first line was broken */
			if (ps.in_block)
				block_close();
			else
				stmt_error("unexpected \"}\"");
		}
		;

block		: role '{' { block_open($1); } '\n' items '}' {
			block_close();
		}
		| role				{
			if ($1 == -1)
				stmt_error("unknown keyword \"%s\"",
				    ps.block_name);
			else
				stmt_error("%s: missing \"{\" (it goes on the "
				    "same line)", role_name($1));
		}
		| catkind STRING '{' { cat_open($1, $2); } '\n' items '}' {
			block_close();
		}
		| catkind '{' { cat_open($1, NULL); } '\n' items '}' {
			block_close();
		}
		| catkind STRING		{
			conf_error(ps.stmt_file, ps.stmt_line, "%s %s: missing "
			    "\"{\" (it goes on the same line)",
			    cat_kind_name($1), $2);
		}
		| catkind			{
			conf_error(ps.stmt_file, ps.stmt_line, "%s: missing "
			    "name", cat_kind_name($1));
		}
		;

catkind		: TOOL				{ $$ = CAT_TOOL; }
		| RESOURCE			{ $$ = CAT_RESOURCE; }
		| PROMPT			{ $$ = CAT_PROMPT; }
		| AUTH				{ $$ = CAT_AUTH; }
		| CLUSTER			{ $$ = CAT_CLUSTER; }
		;

role		: WORKER			{ $$ = ROLE_WORKER; }
		| AGENT				{ $$ = ROLE_AGENT; }
		| RUNNER			{ $$ = ROLE_RUNNER; }
		| STRING			{
			ps.block_name = $1;
			$$ = -1;
		}
		;

items		: /* empty */
		| items '\n'
		| items item '\n'
		| items error '\n'		{ yyerrok; }
		;

item		: RESTART STRING		{
			spec_item(SK_RESTART, "restart", $2);
		}
		| SHUTDOWNTIMEOUT STRING	{
			spec_item(SK_SHUTDOWN_TIMEOUT, "shutdown-timeout", $2);
		}
		| SIGNIFICANT STRING		{
			spec_item(SK_SIGNIFICANT, "significant", $2);
		}
		| DESCRIPTION words		{ cat_item(CK_DESCRIPTION); }
		| TITLE words			{ cat_item(CK_TITLE); }
		| INPUTSCHEMA words		{ cat_item(CK_INPUT_SCHEMA); }
		| COMMAND words			{ cat_item(CK_COMMAND); }
		| DIRECTORY words		{ cat_item(CK_DIRECTORY); }
		| ENV words			{ cat_item(CK_ENV); }
		| TIMEOUT words			{ cat_item(CK_TIMEOUT); }
		| MAXOUTPUT words		{ cat_item(CK_MAX_OUTPUT); }
		| CONCURRENCY words		{ cat_item(CK_CONCURRENCY); }
		| MAXMEMORY words		{ cat_item(CK_MAX_MEMORY); }
		| MAXPROCESSES words		{ cat_item(CK_MAX_PROCESSES); }
		| PATH words			{ cat_item(CK_PATH); }
		| NAME words			{ cat_item(CK_NAME); }
		| MIMETYPE words		{ cat_item(CK_MIME_TYPE); }
		| MAXSIZE words			{ cat_item(CK_MAX_SIZE); }
		| ARGUMENT words		{ cat_item(CK_ARGUMENT); }
		| MESSAGE words			{ cat_item(CK_MESSAGE); }
		| TASK words			{ cat_item(CK_TASK); }
		| CACHETTL words		{ cat_item(CK_CACHE_TTL); }
		| CACHESCOPE words		{ cat_item(CK_CACHE_SCOPE); }
		| DOTFILES words		{ cat_item(CK_DOT_FILES); }
		| RESOURCEURI words		{ cat_item(CK_RESOURCE_URI); }
		| AUTHSERVER words		{ cat_item(CK_AUTH_SERVER); }
		| SCOPESSUPPORTED words		{ cat_item(CK_SCOPES); }
		| STATICTOKENS words		{ cat_item(CK_STATIC_TOKENS); }
		| JWTISSUER words		{ cat_item(CK_JWT_ISSUER); }
		| JWKSFILE words		{ cat_item(CK_JWKS_FILE); }
		| AUDIENCE words		{ cat_item(CK_AUDIENCE); }
		| CLOCKSKEW words		{ cat_item(CK_CLOCK_SKEW); }
		| JWKSURI words			{ cat_item(CK_JWKS_URI); }
		| JWKSREFRESH words		{ cat_item(CK_JWKS_REFRESH); }
		| JWKSREFRESHMIN words		{ cat_item(CK_JWKS_REFRESH_MIN); }
		| INTROENDPOINT words		{ cat_item(CK_INTRO_ENDPOINT); }
		| INTROCLIENTID words		{ cat_item(CK_INTRO_CLIENT_ID); }
		| INTROSECRET words		{ cat_item(CK_INTRO_SECRET); }
		| INTROCACHE words		{ cat_item(CK_INTRO_CACHE); }
		| INTROPENDING words		{ cat_item(CK_INTRO_PENDING); }
		| FETCHTIMEOUT words		{ cat_item(CK_FETCH_TIMEOUT); }
		| SCOPE words			{ cat_item(CK_SCOPE); }
		| NODE words			{ cat_item(CK_NODE); }
		| REDIS words			{ cat_item(CK_REDIS); }
		| SENTINEL words		{ cat_item(CK_SENTINEL); }
		| MASTERNAME words		{ cat_item(CK_MASTER_NAME); }
		| REDISUSER words		{ cat_item(CK_REDIS_USER); }
		| REDISPASSWORDFILE words	{ cat_item(CK_REDIS_PASSWORD_FILE); }
		| KEYFILE words			{ cat_item(CK_KEY_FILE); }
		| REDISTIMEOUT words		{ cat_item(CK_REDIS_TIMEOUT); }
		| NODETTL words			{ cat_item(CK_NODE_TTL); }
		| USER words			{ user_item(0); }
		| GROUP words			{ user_item(1); }
		;

words		: STRING			{
			ps.nwords = 0;
			words_add($1);
		}
		| words STRING			{ words_add($2); }
		;

%%

struct keywords {
	const char	*k_name;
	int		 k_val;
};

/* Sorted for bsearch(). */
static const struct keywords keywords[] = {
	{ "accept-rate",	ACCEPTRATE },
	{ "access-log",		ACCESSLOG },
	{ "agent",		AGENT },
	{ "alert-command",	ALERTCOMMAND },
	{ "alert-emergency-errors", ALERTEMERGENCYERRORS },
	{ "alert-emergency-pending", ALERTEMERGENCYPENDING },
	{ "alert-hold",		ALERTHOLD },
	{ "alert-min-requests",	ALERTMINREQUESTS },
	{ "alert-red-errors",	ALERTREDERRORS },
	{ "alert-red-p95",	ALERTREDP95 },
	{ "alert-window",	ALERTWINDOW },
	{ "alert-yellow-errors", ALERTYELLOWERRORS },
	{ "alert-yellow-p95",	ALERTYELLOWP95 },
	{ "allow-host",		ALLOWHOST },
	{ "allow-origin",	ALLOWORIGIN },
	{ "argument",		ARGUMENT },
	{ "audience",		AUDIENCE },
	{ "auth",		AUTH },
	{ "authorization-server", AUTHSERVER },
	{ "auto-shutdown",	AUTOSHUTDOWN },
	{ "body-timeout",	BODYTIMEOUT },
	{ "cache-scope",	CACHESCOPE },
	{ "cache-ttl",		CACHETTL },
	{ "clock-skew",		CLOCKSKEW },
	{ "cluster",		CLUSTER },
	{ "command",		COMMAND },
	{ "concurrency",	CONCURRENCY },
	{ "connections-soft-limit", CONNECTIONSSOFT },
	{ "control-socket",	CONTROLSOCKET },
	{ "description",	DESCRIPTION },
	{ "directory",		DIRECTORY },
	{ "dot-files",		DOTFILES },
	{ "drain-timeout",	DRAINTIMEOUT },
	{ "env",		ENV },
	{ "fetch-timeout",	FETCHTIMEOUT },
	{ "group",		GROUP },
	{ "header-timeout",	HEADERTIMEOUT },
	{ "healthz",		HEALTHZ },
	{ "idle-timeout",	IDLETIMEOUT },
	{ "include",		INCLUDE },
	{ "initialize-rate",	INITIALIZERATE },
	{ "input-schema",	INPUTSCHEMA },
	{ "introspection-cache", INTROCACHE },
	{ "introspection-client-id", INTROCLIENTID },
	{ "introspection-endpoint", INTROENDPOINT },
	{ "introspection-pending", INTROPENDING },
	{ "introspection-secret-file", INTROSECRET },
	{ "jwks-file",		JWKSFILE },
	{ "jwks-refresh",	JWKSREFRESH },
	{ "jwks-refresh-min",	JWKSREFRESHMIN },
	{ "jwks-uri",		JWKSURI },
	{ "jwt-issuer",		JWTISSUER },
	{ "key-file",		KEYFILE },
	{ "list-cache-ttl",	LISTCACHETTL },
	{ "listen",		LISTEN },
	{ "log-file",		LOGFILE },
	{ "master-name",	MASTERNAME },
	{ "max-body-size",	MAXBODYSIZE },
	{ "max-connections",	MAXCONNECTIONS },
	{ "max-connections-per-address", MAXPERADDRESS },
	{ "max-header-size",	MAXHEADERSIZE },
	{ "max-memory",		MAXMEMORY },
	{ "max-output",		MAXOUTPUT },
	{ "max-output-buffer",	MAXOUTPUTBUFFER },
	{ "max-pending",	MAXPENDING },
	{ "max-pending-per-connection", MAXPENDINGCONN },
	{ "max-processes",	MAXPROCESSES },
	{ "max-sessions",	MAXSESSIONS },
	{ "max-size",		MAXSIZE },
	{ "mcp-path",		MCPPATH },
	{ "memory-hard-limit",	MEMORYHARD },
	{ "memory-soft-limit",	MEMORYSOFT },
	{ "message",		MESSAGE },
	{ "mime-type",		MIMETYPE },
	{ "name",		NAME },
	{ "node",		NODE },
	{ "node-ttl",		NODETTL },
	{ "path",		PATH },
	{ "pidfile",		PIDFILE },
	{ "plugin",		PLUGIN },
	{ "port",		PORT },
	{ "prompt",		PROMPT },
	{ "ready-timeout",	READYTIMEOUT },
	{ "redis",		REDIS },
	{ "redis-password-file", REDISPASSWORDFILE },
	{ "redis-timeout",	REDISTIMEOUT },
	{ "redis-user",		REDISUSER },
	{ "registry-adopt-wait", REGISTRYADOPTWAIT },
	{ "registry-handoff-queue", REGISTRYHANDOFFQUEUE },
	{ "registry-handoff-wait", REGISTRYHANDOFFWAIT },
	{ "registry-records",	REGISTRYRECORDS },
	{ "registry-size",	REGISTRYSIZE },
	{ "request-rate",	REQUESTRATE },
	{ "resource",		RESOURCE },
	{ "resource-uri",	RESOURCEURI },
	{ "restart",		RESTART },
	{ "restart-intensity",	RESTARTINTENSITY },
	{ "restart-period",	RESTARTPERIOD },
	{ "runner",		RUNNER },
	{ "scope",		SCOPE },
	{ "scopes-supported",	SCOPESSUPPORTED },
	{ "sentinel",		SENTINEL },
	{ "session-responses",	SESSIONRESPONSES },
	{ "session-start-timeout", SESSIONSTARTTIMEOUT },
	{ "session-timeout",	SESSIONTIMEOUT },
	{ "shutdown-delay",	SHUTDOWNDELAY },
	{ "shutdown-timeout",	SHUTDOWNTIMEOUT },
	{ "significant",	SIGNIFICANT },
	{ "sse-keepalive",	SSEKEEPALIVE },
	{ "static-tokens",	STATICTOKENS },
	{ "strategy",		STRATEGY },
	{ "task",		TASK },
	{ "task-ttl",		TASKTTL },
	{ "throttle-max",	THROTTLEMAX },
	{ "throttle-min",	THROTTLEMIN },
	{ "throttle-reset",	THROTTLERESET },
	{ "timeout",		TIMEOUT },
	{ "title",		TITLE },
	{ "tool",		TOOL },
	{ "user",		USER },
	{ "watchdog-timeout",	WATCHDOGTIMEOUT },
	{ "worker",		WORKER },
	{ "worker-connections",	WORKERCONNECTIONS },
	{ "workers",		WORKERS }
};

static int
kw_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keywords *)e)->k_name);
}

static int
lookup(const char *s)
{
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);
	return p == NULL ? STRING : p->k_val;
}

static void
conf_verror(struct file *, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
conf_verror(struct file *f, int line, const char *fmt, va_list ap)
{
	struct conf_errors	*e = ps.errs;
	char			 msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	ps.nerrors++;
	ps.lasterr_file = f;
	ps.lasterr_line = line;
	if (f != NULL)
		f->f_errors++;
	if (e == NULL)
		return;
	if (e->e_count < CONF_ERRORS_MAX) {
		if (line > 0)
			snprintf(e->e_msg[e->e_count], sizeof(e->e_msg[0]),
			    "%s:%d: %s", f->f_name, line, msg);
		else
			snprintf(e->e_msg[e->e_count], sizeof(e->e_msg[0]),
			    "%s: %s", f->f_name, msg);
	}
	if (e->e_count < INT_MAX)
		e->e_count++;
}

static void
conf_error(struct file *f, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_verror(f, line, fmt, ap);
	va_end(ap);
}

/*
 * An error about the statement being parsed (grammar actions).  In a
 * catalog block it names the block: "tool grep: timeout: ...".
 */
static void
stmt_error(const char *fmt, ...)
{
	va_list	ap;
	char	msg[256];

	va_start(ap, fmt);
	if (ps.in_block && ps.block_cat != CAT_NONE) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		conf_error(ps.stmt_file, ps.stmt_line, "%s: %s", ps.cat_label,
		    msg);
	} else
		conf_verror(ps.stmt_file, ps.stmt_line, fmt, ap);
	va_end(ap);
}

/* An error found by the lexer, at its position. */
static void
lex_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
lex_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_verror(ps.file, ps.file->f_lineno, fmt, ap);
	va_end(ap);
}

/*
 * yacc's own errors.  A line that already has an error (a lexer error ends
 * the statement with ERROR) needs no "syntax error" on top.
 */
static void
yyerror(const char *msg)
{
	if (ps.lasterr_file == ps.file && ps.lasterr_line == yylval.lineno)
		return;
	conf_error(ps.file, yylval.lineno, "%s", msg);
}

static int
key_first(struct where *w, const char *key)
{
	if (w->w_file != NULL) {
		if (w->w_file == ps.stmt_file)
			stmt_error("%s: already set on line %d", key,
			    w->w_line);
		else
			stmt_error("%s: already set at %s:%d", key,
			    w->w_file->f_name, w->w_line);
		return 0;
	}
	w->w_file = ps.stmt_file;
	w->w_line = ps.stmt_line;
	w->w_seq = ++ps.seq;
	return 1;
}

static int
get_number(const char *key, const char *s, long long min, long long max,
    long long *out)
{
	char		*end;
	long long	 n;

	if (!(isdigit((unsigned char)s[0]) ||
	    (s[0] == '-' && isdigit((unsigned char)s[1])))) {
		stmt_error("%s: invalid number \"%s\"", key, s);
		return 0;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (*end != '\0') {
		stmt_error("%s: invalid number \"%s\"", key, s);
		return 0;
	}
	if (errno == ERANGE || n < min || n > max) {
		stmt_error("%s: %s is out of range %lld..%lld", key, s, min,
		    max);
		return 0;
	}
	*out = n;
	return 1;
}

/* "auto" (0) or a number in min..max. */
static void
set_count(enum key k, const char *s, long long min, long long max,
    int can_auto, uint32_t *out)
{
	long long	n;

	if (!key_first(&ps.seen[k], key_names[k]))
		return;
	if (can_auto && strcmp(s, "auto") == 0)
		n = 0;
	else if (!get_number(key_names[k], s, min, max, &n))
		return;
	*out = (uint32_t)n;
	ps.seen[k].w_ok = 1;
}

/* DURATION: digits and a unit, 1ms..24h, in milliseconds. */
static int
get_duration(const char *key, const char *s, uint32_t *out)
{
	return get_duration_min(key, s, 1, out);
}

/* The same, from min_ms. */
static int
get_duration_min(const char *key, const char *s, uint32_t min_ms,
    uint32_t *out)
{
	static const struct {
		const char	*u_name;
		unsigned long	 u_ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
		{ "h", 60 * 60 * 1000 }
	};
	char			*end;
	char			 lo[CONF_DURATION_LEN], hi[CONF_DURATION_LEN];
	unsigned long long	 n;
	size_t			 i;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*end == '\0') {
		stmt_error("%s: duration needs a unit (ms, s, m, h)", key);
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].u_name) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		goto bad;
	if (errno == ERANGE || n > DURATION_MAX_MS / units[i].u_ms ||
	    n * units[i].u_ms < min_ms) {
		stmt_error("%s: %s is out of range %s..%s", key, s,
		    conf_fmt_duration(lo, sizeof(lo), min_ms),
		    conf_fmt_duration(hi, sizeof(hi), DURATION_MAX_MS));
		return 0;
	}
	*out = (uint32_t)(n * units[i].u_ms);
	return 1;
 bad:
	stmt_error("%s: invalid duration \"%s\" (a number and ms, s, m or h)",
	    key, s);
	return 0;
}

/* a duration from min_ms to max_ms: 1, or 0 (said) */
static int
duration_range(const char *key, const char *s, uint32_t min_ms,
    uint32_t max_ms, uint32_t *out)
{
	char		lo[CONF_DURATION_LEN], hi[CONF_DURATION_LEN];
	uint32_t	ms;

	if (!get_duration(key, s, &ms))
		return 0;
	if (ms < min_ms || ms > max_ms) {
		stmt_error("%s: %s is out of range %s..%s", key, s,
		    conf_fmt_duration(lo, sizeof(lo), min_ms),
		    conf_fmt_duration(hi, sizeof(hi), max_ms));
		return 0;
	}
	*out = ms;
	return 1;
}

static void
set_duration(enum key k, const char *s, uint32_t *out)
{
	set_duration_min(k, s, 1, out);
}

static void
set_duration_min(enum key k, const char *s, uint32_t min_ms, uint32_t *out)
{
	if (key_first(&ps.seen[k], key_names[k]) &&
	    get_duration_min(key_names[k], s, min_ms, out))
		ps.seen[k].w_ok = 1;
}

/* SIZE: digits, then K, M or G (powers of 1024) or nothing for bytes. */
static int
get_size(const char *key, const char *s, uint32_t min, uint32_t max,
    uint32_t *out)
{
	char			*end;
	char			 lo[CONF_SIZE_LEN], hi[CONF_SIZE_LEN];
	unsigned long long	 n, unit = 1;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*end != '\0') {
		if (end[1] != '\0')
			goto bad;
		switch (*end) {
		case 'K':
			unit = 1ULL << 10;
			break;
		case 'M':
			unit = 1ULL << 20;
			break;
		case 'G':
			unit = 1ULL << 30;
			break;
		default:
			goto bad;
		}
	}
	if (errno == ERANGE || n > max / unit || n * unit < min) {
		stmt_error("%s: %s is out of range %s..%s", key, s,
		    conf_fmt_size(lo, sizeof(lo), min),
		    conf_fmt_size(hi, sizeof(hi), max));
		return 0;
	}
	*out = (uint32_t)(n * unit);
	return 1;
 bad:
	stmt_error("%s: invalid size \"%s\" (a number of bytes, or a number "
	    "and K, M or G)", key, s);
	return 0;
}

/* BYTES: 0 (none), or digits and K, M, G or T, up to 1T */
static void
set_bytes(enum key k, const char *s, uint64_t *out)
{
	unsigned long long	 n, unit = 1;
	char			*end;

	if (!key_first(&ps.seen[k], key_names[k]))
		return;
	errno = 0;
	if (!isdigit((unsigned char)s[0]) ||
	    (n = strtoull(s, &end, 10), errno != 0))
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'K':
		unit = 1ULL << 10;
		break;
	case 'M':
		unit = 1ULL << 20;
		break;
	case 'G':
		unit = 1ULL << 30;
		break;
	case 'T':
		unit = 1ULL << 40;
		break;
	default:
		goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	if (n > (1ULL << 40) / unit) {
		stmt_error("%s: %s is out of range 0..1T", key_names[k], s);
		return;
	}
	*out = n * unit;
	ps.seen[k].w_ok = 1;
	return;
bad:
	stmt_error("%s: invalid size \"%s\" (0, or a number and K, M, G or "
	    "T)", key_names[k], s);
}

/* PERCENT: digits, at most 4 decimals, "%"; 0%..100% in parts per million */
static void
set_percent(enum key k, const char *s, uint32_t *out)
{
	const char	*p = s;
	unsigned long	 whole = 0, frac = 0, scale = 10000;
	int		 digits = 0, decimals = 0;

	if (!key_first(&ps.seen[k], key_names[k]))
		return;
	while (isdigit((unsigned char)*p) && digits < 4) {
		whole = whole * 10 + (unsigned long)(*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p) && decimals < 4) {
			scale /= 10;
			frac += (unsigned long)(*p++ - '0') * scale;
			decimals++;
		}
		if (decimals == 0)
			digits = 0;
	}
	if (digits == 0 || strcmp(p, "%") != 0) {
		stmt_error("%s: invalid percentage \"%s\" (like 0.05%%, at "
		    "most 4 decimals)", key_names[k], s);
		return;
	}
	if (whole > 100 || (whole == 100 && frac > 0)) {
		stmt_error("%s: %s is out of range 0%%..100%%", key_names[k], s);
		return;
	}
	*out = (uint32_t)(whole * 10000 + frac);
	ps.seen[k].w_ok = 1;
}

static void
set_size(enum key k, const char *s, uint32_t min, uint32_t max,
    uint32_t *out)
{
	if (key_first(&ps.seen[k], key_names[k]) &&
	    get_size(key_names[k], s, min, max, out))
		ps.seen[k].w_ok = 1;
}

/* The path of the MCP endpoint: "/" and visible ASCII but '?', '#'. */
static void
set_mcp_path(const char *s)
{
	struct conf		*c = ps.conf;
	const unsigned char	*p;
	size_t			 len = strlen(s);

	if (!key_first(&ps.seen[K_MCP_PATH], "mcp-path"))
		return;
	if (s[0] != '/') {
		stmt_error("mcp-path: \"%s\" does not start with \"/\"", s);
		return;
	}
	if (len >= sizeof(c->c_mcp_path)) {
		stmt_error("mcp-path: path is too long (%zu bytes, at most "
		    "%zu)", len, sizeof(c->c_mcp_path) - 1);
		return;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#') {
			stmt_error("mcp-path: invalid character 0x%02x in "
			    "\"%s\" (visible ASCII, no \"?\" or \"#\")",
			    (unsigned int)*p, s);
			return;
		}
	memcpy(c->c_mcp_path, s, len + 1);
	ps.seen[K_MCP_PATH].w_ok = 1;
}

/* "on line 3" or "at inc.conf:3", for "already declared ...". */
static const char *
where_text(char *buf, size_t len, const struct where *w)
{
	if (w->w_file == ps.stmt_file)
		snprintf(buf, len, "on line %d", w->w_line);
	else
		snprintf(buf, len, "at %s:%d", w->w_file->f_name, w->w_line);
	return buf;
}

/*
 * A host name as in the Host header, without the port: a DNS name, an
 * IPv4 address, or an IPv6 address in brackets.  Stored in lower case.
 * s is slen bytes of the value what.
 */
static int
get_host(const char *key, const char *what, const char *s, size_t slen,
    char *dst, size_t dlen)
{
	struct in6_addr	bin;
	char		v6[INET6_ADDRSTRLEN];
	size_t		i;

	if (slen == 0) {
		stmt_error("%s: \"%s\": empty host", key, what);
		return 0;
	}
	if (slen >= dlen) {
		stmt_error("%s: host is too long (%zu bytes, at most %zu)",
		    key, slen, dlen - 1);
		return 0;
	}
	if (s[0] == '[') {
		if (slen < 3 || s[slen - 1] != ']' || slen - 2 >= sizeof(v6))
			goto bad;
		memcpy(v6, s + 1, slen - 2);
		v6[slen - 2] = '\0';
		if (inet_pton(AF_INET6, v6, &bin) != 1)
			goto bad;
	} else {
		for (i = 0; i < slen; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
			    s[i] != '.' && s[i] != '_')
				goto bad;
	}
	for (i = 0; i < slen; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[slen] = '\0';
	return 1;
 bad:
	stmt_error("%s: invalid host \"%.*s\" (a name, an IPv4 address or "
	    "an [IPv6] address)", key, (int)slen, s);
	return 0;
}

/* ORIGIN: scheme://host[:port], as a browser sends it; lower case. */
static int
get_origin(const char *s, char *dst, size_t dlen)
{
	const char	*h, *end, *colon;
	size_t		 i, n, hlen;

	if (strlen(s) >= dlen) {
		stmt_error("allow-origin: origin is too long (%zu bytes, at "
		    "most %zu)", strlen(s), dlen - 1);
		return 0;
	}
	n = strcspn(s, ":");
	if (n == 0 || !isalpha((unsigned char)s[0]) ||
	    strncmp(s + n, "://", 3) != 0)
		goto bad;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			goto bad;
	h = s + n + 3;
	end = h + strlen(h);
	if (strpbrk(h, "/?#@") != NULL)
		goto bad;
	colon = NULL;
	if (h[0] == '[') {
		if ((colon = strchr(h, ']')) == NULL)
			goto bad;
		colon++;
		if (*colon != '\0' && *colon != ':')
			goto bad;
	} else
		colon = h + strcspn(h, ":");
	hlen = (size_t)(colon - h);
	if (*colon == ':') {
		if (colon[1] == '0' || colon[1] == '\0' ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		    strlen(colon + 1) > 5 ||
		    strtol(colon + 1, NULL, 10) > UINT16_MAX) {
			stmt_error("allow-origin: \"%s\": invalid port (1 to "
			    "65535)", s);
			return 0;
		}
	}
	for (i = 0; i < n + 3; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	if (!get_host("allow-origin", s, h, hlen, dst + n + 3, dlen - n - 3))
		return 0;
	memcpy(dst + n + 3 + hlen, colon, (size_t)(end - colon) + 1);
	return 1;
 bad:
	stmt_error("allow-origin: invalid origin \"%s\" (scheme://host or "
	    "scheme://host:port)", s);
	return 0;
}

/* allow-host (origin 0) or allow-origin (1): a list, or "*" alone. */
static void
add_allow(int origin, const char *s)
{
	struct conf	*c = ps.conf;
	const char	*key = origin ? "allow-origin" : "allow-host";
	struct where	*at = origin ? ps.origin_at : ps.host_at;
	uint32_t	*np = origin ? &c->c_nallow_origins : &c->c_nallow_hosts;
	size_t		 size = origin ? sizeof(c->c_allow_origins[0]) :
			    sizeof(c->c_allow_hosts[0]);
	char		*list = origin ? c->c_allow_origins[0] :
			    c->c_allow_hosts[0];
	char		 val[CONF_HOST_MAX_BYTES > CONF_ORIGIN_MAX_BYTES ?
			    CONF_HOST_MAX_BYTES : CONF_ORIGIN_MAX_BYTES];
	char		 wbuf[CONF_PATH_MAX_BYTES + 32];
	struct in6_addr	 bin;
	uint32_t	 i, n;

	if (at[0].w_file == NULL && !origin) {
		/* the first allow-host replaces the defaults */
		memset(c->c_allow_hosts, 0, sizeof(c->c_allow_hosts));
		c->c_nallow_hosts = 0;
	}
	n = *np;
	if (!origin && s[0] != '[' && inet_pton(AF_INET6, s, &bin) == 1) {
		stmt_error("allow-host: \"%s\": an IPv6 address goes in "
		    "brackets: \"[%s]\"", s, s);
		return;
	}
	if (!origin && ((s[0] == '[' && strstr(s, "]:") != NULL) ||
	    (s[0] != '[' && strchr(s, ':') != NULL))) {
		stmt_error("allow-host: \"%s\": a host name goes without a "
		    "port (any port is allowed)", s);
		return;
	}
	if (strcmp(s, "*") == 0)
		memcpy(val, s, 2);
	else if (origin ? !get_origin(s, val, size) :
	    !get_host(key, s, s, strlen(s), val, size))
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(list + i * size, val) == 0) {
			stmt_error("%s: \"%s\" already declared %s", key, s,
			    where_text(wbuf, sizeof(wbuf), &at[i]));
			return;
		}
		if (strcmp(list + i * size, "*") == 0 ||
		    strcmp(val, "*") == 0) {
			stmt_error("%s: \"*\" must be the only %s (another "
			    "is declared %s)", key, key,
			    where_text(wbuf, sizeof(wbuf), &at[i]));
			return;
		}
	}
	if (n == CONF_ALLOW_MAX) {
		stmt_error("%s: too many (at most %d)", key, CONF_ALLOW_MAX);
		return;
	}
	memcpy(list + n * size, val, strlen(val) + 1);
	at[n].w_file = ps.stmt_file;
	at[n].w_line = ps.stmt_line;
	at[n].w_seq = ++ps.seq;
	at[n].w_ok = 1;
	(*np)++;
}

/*
 * An absolute path, or one relative to the directory of the file that
 * names it (made absolute with realpath(3) of that directory).  "." and
 * empty components are dropped; ".." is kept, as symbolic links may make
 * it mean something else than the lexical parent.
 */
static int
plugin_path(const char *s, char *dst, size_t len)
{
	const char	*name = ps.stmt_file->f_name, *slash;
	char		 dir[PATH_MAX], buf[PATH_MAX + LEX_TOKEN_MAX + 2];
	char		*p, *e;
	size_t		 dirlen, off, n;

	if (s[0] == '/')
		snprintf(buf, sizeof(buf), "%s", s);
	else {
		if ((slash = strrchr(name, '/')) == NULL)
			snprintf(dir, sizeof(dir), ".");
		else {
			dirlen = (size_t)(slash - name);
			if (dirlen == 0)
				dirlen = 1;	/* "/mcpd.conf" */
			if (dirlen >= sizeof(dir))
				dirlen = sizeof(dir) - 1;
			memcpy(dir, name, dirlen);
			dir[dirlen] = '\0';
		}
		if (realpath(dir, buf) == NULL) {
			stmt_error("plugin: \"%s\": cannot resolve the "
			    "directory %s: %s", s, dir, strerror(errno));
			return 0;
		}
		n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "/%s", s);
	}
	/* the components that count, each after a "/", in place */
	for (p = buf, off = 0; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		buf[off++] = '/';
		memmove(buf + off, p, n);
		off += n;
	}
	if (off == 0)
		buf[off++] = '/';
	buf[off] = '\0';
	if (off >= len) {
		stmt_error("plugin: path is too long (%zu bytes, at most %zu)",
		    off, len - 1);
		return 0;
	}
	memcpy(dst, buf, off + 1);
	return 1;
}

/* "plugin PATH [ARGUMENT]": in order, each path once. */
static void
add_plugin(const char *path, const char *arg)
{
	struct conf		*c = ps.conf;
	struct conf_plugin	*p;
	char			 abs[CONF_PATH_MAX_BYTES];
	char			 wbuf[CONF_PATH_MAX_BYTES + 32];
	uint32_t		 i;

	if (path[0] == '\0') {
		stmt_error("plugin: empty path");
		return;
	}
	if (arg != NULL && strlen(arg) >= sizeof(c->c_plugins[0].p_arg)) {
		stmt_error("plugin: argument is too long (%zu bytes, at most "
		    "%zu)", strlen(arg), sizeof(c->c_plugins[0].p_arg) - 1);
		return;
	}
	if (!plugin_path(path, abs, sizeof(abs)))
		return;
	for (i = 0; i < c->c_nplugins; i++)
		if (strcmp(c->c_plugins[i].p_path, abs) == 0) {
			stmt_error("plugin: \"%s\" already declared %s", path,
			    where_text(wbuf, sizeof(wbuf), &ps.plugin_at[i]));
			return;
		}
	if (c->c_nplugins == CONF_PLUGINS_MAX) {
		stmt_error("plugin: too many plugins (at most %d)",
		    CONF_PLUGINS_MAX);
		return;
	}
	p = &c->c_plugins[c->c_nplugins];
	memcpy(p->p_path, abs, strlen(abs) + 1);
	if (arg != NULL)
		memcpy(p->p_arg, arg, strlen(arg) + 1);
	p->p_line = ps.stmt_line;
	ps.plugin_at[c->c_nplugins].w_file = ps.stmt_file;
	ps.plugin_at[c->c_nplugins].w_line = ps.stmt_line;
	ps.plugin_at[c->c_nplugins].w_seq = ++ps.seq;
	ps.plugin_at[c->c_nplugins].w_ok = 1;
	c->c_nplugins++;
}

/* The index of s in words, or -1 after saying what would do. */
static int
get_choice(const char *key, const char *s, const char *const *words, int n)
{
	char	list[256];
	size_t	off;
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	list[0] = '\0';
	for (i = 0, off = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "%s%s", i > 0 ? ", " : "", words[i]);
	stmt_error("%s: \"%s\" is not one of %s", key, s, list);
	return -1;
}

static int
get_path(const char *key, const char *s, char *dst, size_t len)
{
	if (s[0] != '/') {
		stmt_error("%s: \"%s\" is not an absolute path", key, s);
		return 0;
	}
	if (strlen(s) >= len) {
		stmt_error("%s: path is too long (%zu bytes, at most %zu)",
		    key, strlen(s), len - 1);
		return 0;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 1;
}

static int
fits_sun_path(const char *s)
{
	if (strlen(s) < SUN_PATH_LEN)
		return 1;
	stmt_error("control-socket: path is too long for a unix socket "
	    "(%zu bytes, at most %zu)", strlen(s), SUN_PATH_LEN - 1);
	return 0;
}

/* restart, shutdown-timeout, significant: inside a role block only. */
static void
spec_item(enum spec_key k, const char *key, const char *s)
{
	const char	*restarts[] = {
		conf_restart_name(RESTART_PERMANENT),
		conf_restart_name(RESTART_TRANSIENT),
		conf_restart_name(RESTART_TEMPORARY)
	};
	const char	*yesno[] = { "no", "yes" };
	struct where	*w;
	int		 i;

	if (!ps.in_block || ps.block_cat != CAT_NONE) {
		stmt_error("%s: only allowed in a worker, agent or runner "
		    "block", key);
		return;
	}
	w = &ps.sseen[k];
	if (!key_first(w, key))
		return;
	switch (k) {
	case SK_RESTART:
		if ((i = get_choice(key, s, restarts, 3)) == -1)
			return;
		ps.spec->s_restart = (enum conf_restart)i;
		break;
	case SK_SHUTDOWN_TIMEOUT:
		if (!get_duration(key, s, &ps.spec->s_shutdown_ms))
			return;
		break;
	case SK_SIGNIFICANT:
		if ((i = get_choice(key, s, yesno, 2)) == -1)
			return;
		ps.spec->s_significant = i;
		break;
	case SK_MAX:
		return;
	}
	w->w_ok = 1;
}

static void
block_open(int role)
{
	struct where	*w;

	if (ps.in_block)
		block_close();
	ps.in_block = 1;
	ps.block_cat = CAT_NONE;
	ps.block_role = role;
	ps.block_file = ps.stmt_file;
	ps.block_line = ps.stmt_line;
	ps.block_label = role == -1 ? ps.block_name : role_name(role);
	memset(&ps.scratch, 0, sizeof(ps.scratch));
	memset(ps.scratch_seen, 0, sizeof(ps.scratch_seen));
	ps.spec = &ps.scratch;
	ps.sseen = ps.scratch_seen;
	if (role == -1) {
		stmt_error("unknown block \"%s\"", ps.block_name);
		return;
	}
	w = &ps.block_at[role];
	if (w->w_file != NULL) {
		if (w->w_file == ps.stmt_file)
			stmt_error("%s: block already declared on line %d",
			    role_name(role), w->w_line);
		else
			stmt_error("%s: block already declared at %s:%d",
			    role_name(role), w->w_file->f_name, w->w_line);
		ps.block_role = -1;
		return;
	}
	w->w_file = ps.stmt_file;
	w->w_line = ps.stmt_line;
	ps.spec = &ps.conf->c_spec[role];
	ps.sseen = ps.spec_seen[role];
}

/* OTP: only a transient or temporary child may be significant. */
static void
block_close(void)
{
	struct where	*sig, *rst, *w;

	if (ps.block_cat != CAT_NONE) {
		cat_close();
		ps.in_block = 0;
		ps.block_cat = CAT_NONE;
		return;
	}
	if (ps.block_role != -1 && ps.spec->s_significant &&
	    ps.spec->s_restart == RESTART_PERMANENT) {
		sig = &ps.sseen[SK_SIGNIFICANT];
		rst = &ps.sseen[SK_RESTART];
		if (rst->w_file == NULL || rst->w_ok) {
			w = sig;
			if (rst->w_file != NULL && rst->w_seq > sig->w_seq)
				w = rst;
			conf_error(w->w_file, w->w_line, "%s: a significant "
			    "child must be restart transient or temporary",
			    role_name(ps.block_role));
		}
	}
	ps.in_block = 0;
	ps.spec = NULL;
	ps.sseen = NULL;
}

/*
 * The catalog: tool, resource and prompt blocks.  An entry is filled in
 * ps.tool, ps.res or ps.prompt and appended to the conf's array when its
 * block closes, if its header (name, unique, room left) was right.
 */

#define NAME_RULE	"1 to 64 letters, digits, \"_\", \".\" or \"-\""
#define USER_RULE	"1 to 32 letters, digits, \"_\", \".\" or \"-\", " \
			"not starting with \"-\""

/* Which blocks take an item, and how many values it takes. */
#define IN_TOOL		(1U << CAT_TOOL)
#define IN_RESOURCE	(1U << CAT_RESOURCE)
#define IN_PROMPT	(1U << CAT_PROMPT)
#define IN_AUTH		(1U << CAT_AUTH)
#define IN_CLUSTER	(1U << CAT_CLUSTER)
static const struct {
	const char	*ck_name;
	unsigned int	 ck_blocks;
	const char	*ck_blocks_text;
	uint32_t	 ck_max;	/* values; 0: the item counts them */
	int		 ck_text;	/* a text: may need quotes */
} cat_keys[CK_MAX] = {
	[CK_DESCRIPTION] = { "description", IN_TOOL | IN_RESOURCE | IN_PROMPT,
	    "tool, resource or prompt", 1, 1 },
	[CK_TITLE] = { "title", IN_TOOL | IN_PROMPT, "tool or prompt", 1, 1 },
	[CK_INPUT_SCHEMA] = { "input-schema", IN_TOOL, "tool", 1, 1 },
	[CK_COMMAND] = { "command", IN_TOOL, "tool", CONF_ARGV_MAX, 0 },
	[CK_DIRECTORY] = { "directory", IN_TOOL, "tool", 1, 0 },
	[CK_ENV] = { "env", IN_TOOL, "tool", CONF_ENV_MAX, 0 },
	[CK_TIMEOUT] = { "timeout", IN_TOOL, "tool", 1, 0 },
	[CK_MAX_OUTPUT] = { "max-output", IN_TOOL, "tool", 1, 0 },
	[CK_CONCURRENCY] = { "concurrency", IN_TOOL, "tool", 1, 0 },
	[CK_MAX_MEMORY] = { "max-memory", IN_TOOL, "tool", 1, 0 },
	[CK_MAX_PROCESSES] = { "max-processes", IN_TOOL, "tool", 1, 0 },
	[CK_PATH] = { "path", IN_RESOURCE, "resource", 1, 0 },
	[CK_NAME] = { "name", IN_RESOURCE, "resource", 1, 1 },
	[CK_MIME_TYPE] = { "mime-type", IN_RESOURCE, "resource", 1, 0 },
	[CK_MAX_SIZE] = { "max-size", IN_RESOURCE, "resource", 1, 0 },
	[CK_ARGUMENT] = { "argument", IN_PROMPT, "prompt", 0, 1 },
	[CK_MESSAGE] = { "message", IN_PROMPT, "prompt", 0, 1 },
	[CK_TASK] = { "task", IN_TOOL, "tool", 1, 0 },
	[CK_CACHE_TTL] = { "cache-ttl", IN_RESOURCE, "resource", 1, 0 },
	[CK_CACHE_SCOPE] = { "cache-scope", IN_RESOURCE, "resource", 1, 0 },
	[CK_DOT_FILES] = { "dot-files", IN_RESOURCE, "resource", 1, 0 },
	[CK_USER] = { "user", IN_TOOL, "tool", 1, 0 },
	[CK_GROUP] = { "group", IN_TOOL, "tool", 1, 0 },
	[CK_RESOURCE_URI] = { "resource-uri", IN_AUTH, "auth", 1, 0 },
	[CK_AUTH_SERVER] = { "authorization-server", IN_AUTH, "auth", 0, 0 },
	[CK_SCOPES] = { "scopes-supported", IN_AUTH, "auth",
	    CONF_AUTH_SCOPES_MAX, 0 },
	[CK_STATIC_TOKENS] = { "static-tokens", IN_AUTH, "auth", 1, 0 },
	[CK_JWT_ISSUER] = { "jwt-issuer", IN_AUTH, "auth", 1, 0 },
	[CK_JWKS_FILE] = { "jwks-file", IN_AUTH, "auth", 1, 0 },
	[CK_AUDIENCE] = { "audience", IN_AUTH, "auth", 1, 0 },
	[CK_CLOCK_SKEW] = { "clock-skew", IN_AUTH, "auth", 1, 0 },
	[CK_JWKS_URI] = { "jwks-uri", IN_AUTH, "auth", 1, 0 },
	[CK_JWKS_REFRESH] = { "jwks-refresh", IN_AUTH, "auth", 1, 0 },
	[CK_JWKS_REFRESH_MIN] = { "jwks-refresh-min", IN_AUTH, "auth", 1, 0 },
	[CK_INTRO_ENDPOINT] = { "introspection-endpoint", IN_AUTH, "auth", 1,
	    0 },
	[CK_INTRO_CLIENT_ID] = { "introspection-client-id", IN_AUTH, "auth",
	    1, 1 },
	[CK_INTRO_SECRET] = { "introspection-secret-file", IN_AUTH, "auth", 1,
	    0 },
	[CK_INTRO_CACHE] = { "introspection-cache", IN_AUTH, "auth", 1, 0 },
	[CK_INTRO_PENDING] = { "introspection-pending", IN_AUTH, "auth", 1,
	    0 },
	[CK_FETCH_TIMEOUT] = { "fetch-timeout", IN_AUTH, "auth", 1, 0 },
	[CK_SCOPE] = { "scope", IN_TOOL | IN_RESOURCE | IN_PROMPT,
	    "tool, resource or prompt", SCOPE_ITEM_MAX, 0 },
	[CK_NODE] = { "node", IN_CLUSTER, "cluster", 1, 0 },
	[CK_REDIS] = { "redis", IN_CLUSTER, "cluster", 1, 0 },
	[CK_SENTINEL] = { "sentinel", IN_CLUSTER, "cluster",
	    CONF_SENTINELS_MAX, 0 },
	[CK_MASTER_NAME] = { "master-name", IN_CLUSTER, "cluster", 1, 0 },
	[CK_REDIS_USER] = { "redis-user", IN_CLUSTER, "cluster", 1, 0 },
	[CK_REDIS_PASSWORD_FILE] = { "redis-password-file", IN_CLUSTER,
	    "cluster", 1, 0 },
	[CK_KEY_FILE] = { "key-file", IN_CLUSTER, "cluster", 1, 0 },
	[CK_REDIS_TIMEOUT] = { "redis-timeout", IN_CLUSTER, "cluster", 1, 0 },
	[CK_NODE_TTL] = { "node-ttl", IN_CLUSTER, "cluster", 1, 0 }
};
#undef IN_TOOL
#undef IN_RESOURCE
#undef IN_PROMPT
#undef IN_AUTH
#undef IN_CLUSTER

static const char *
cat_kind_name(enum cat_kind k)
{
	switch (k) {
	case CAT_TOOL:
		return "tool";
	case CAT_RESOURCE:
		return "resource";
	case CAT_PROMPT:
		return "prompt";
	case CAT_AUTH:
		return "auth";
	case CAT_CLUSTER:
		return "cluster";
	case CAT_NONE:
		break;
	}
	return "block";
}

static int	cluster_item(enum cat_key, const char *);
static int	duration_range(const char *, const char *, uint32_t, uint32_t,
		    uint32_t *);

static void
words_add(const char *s)
{
	if (ps.nwords < WORDS_MAX)
		ps.words[ps.nwords] = s;
	if (ps.nwords < UINT32_MAX)
		ps.nwords++;
}

/* A token was a "quoted string": "required" is a text, not the flag. */
static int
is_quoted(const char *s)
{
	const struct strnode	*n;

	n = (const struct strnode *)(const void *)
	    (s - offsetof(struct strnode, s_str));
	return n->s_quoted;
}

/* ASCII only, whatever the locale. */
static int
c_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
c_alnum(int c)
{
	return c_alpha(c) || (c >= '0' && c <= '9');
}

/* A tool, prompt, argument or placeholder name: NAME_RULE. */
static int
valid_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > CAT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!c_alnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

/* scheme ":" and something, in visible ASCII. */
static int
valid_uri(const char *s)
{
	const char	*p;

	if (!c_alpha((unsigned char)s[0]))
		return 0;
	for (p = s + 1; *p != ':'; p++)
		if (!c_alnum((unsigned char)*p) && *p != '+' && *p != '-' &&
		    *p != '.')
			return 0;
	if (p[1] == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static int
valid_env(const char *s)
{
	if (!c_alpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s != '\0'; s++)
		if (!c_alnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/*
 * A user or group name as useradd(8) and groupadd(8) take them by
 * default, so that it prints back the same and never looks like an id.
 */
static int
valid_user(const char *key, const char *s)
{
	size_t	i, len = strlen(s);
	int	ok = len > 0 && len < CONF_USER_MAX_BYTES && s[0] != '-';

	for (i = 0; ok && i < len; i++)
		ok = c_alnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-';
	if (!ok)
		stmt_error("%s: invalid name \"%s\" (%s)", key, s, USER_RULE);
	return ok;
}

/* One side of type/subtype: an RFC 6838 restricted-name. */
static int
mime_part(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > MIME_PART_MAX || !c_alnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!c_alnum((unsigned char)s[i]) &&
		    strchr("!#$&-^_.+", s[i]) == NULL)
			return 0;
	return 1;
}

static int
valid_mime(const char *s)
{
	const char	*slash;

	if ((slash = strchr(s, '/')) == NULL)
		return 0;
	return mime_part(s, (size_t)(slash - s)) &&
	    mime_part(slash + 1, strlen(slash + 1));
}

/*
 * The next placeholder of a text from *pp: 1 and its name (*name, *len),
 * 0 at the end, -1 at a "{" without a "}" (*name points at it).  "{{"
 * is a literal "{"; a "}" alone is itself.
 */
static int
placeholder_next(const char **pp, const char **name, size_t *len)
{
	const char	*p, *e;

	for (p = *pp; *p != '\0'; p++) {
		if (*p != '{')
			continue;
		if (p[1] == '{') {
			p++;
			continue;
		}
		if ((e = strchr(p + 1, '}')) == NULL) {
			*name = p;
			*len = 0;
			*pp = p + strlen(p);
			return -1;
		}
		*name = p + 1;
		*len = (size_t)(e - p - 1);
		*pp = e + 1;
		return 1;
	}
	*pp = p;
	return 0;
}

/* Every "{" of s opens a placeholder with a valid name, or is "{{". */
static int
check_placeholders(const char *key, const char *s)
{
	const char	*p = s, *name;
	size_t		 len;
	int		 r, ok = 1;

	while ((r = placeholder_next(&p, &name, &len)) != 0) {
		if (r == -1) {
			stmt_error("%s: \"{\" without \"}\" at \"%.24s\" "
			    "(\"{{\" is a literal \"{\")", key, name);
			return 0;
		}
		if (!valid_name(name, len)) {
			stmt_error("%s: invalid placeholder \"{%.*s}\" (a name "
			    "is %s; \"{{\" is a literal \"{\")", key,
			    (int)(len > 70 ? 70 : len), name, NAME_RULE);
			ok = 0;
		}
	}
	return ok;
}

/* *dst = a copy of s, or NULL for "" (none). */
static int
set_text(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (s[0] == '\0')
		return 1;
	if ((*dst = strdup(s)) == NULL) {
		stmt_error("out of memory");
		return 0;
	}
	return 1;
}

/* The text of a JSON object, with an object as "properties" if any. */
static int
check_schema(const char *s)
{
	struct json	 j;
	jsmntok_t	*toks;
	size_t		 len = strlen(s);
	int		 i, r, ok = 0;

	/* a token takes a byte at least */
	if ((toks = calloc(len + 1, sizeof(*toks))) == NULL) {
		stmt_error("out of memory");
		return 0;
	}
	if ((r = json_parse(&j, s, len, toks, (int)len + 1)) != JSON_OK)
		stmt_error("input-schema: %s", json_strerror(r));
	else if (json_type(&j, 0) != JSON_OBJECT)
		stmt_error("input-schema: not a JSON object");
	else if ((i = json_get(&j, 0, "type")) != -1 &&
	    !json_streq(&j, i, "object"))
		stmt_error("input-schema: \"type\" is not \"object\"");
	else if ((i = json_get(&j, 0, "properties")) != -1 &&
	    json_type(&j, i) != JSON_OBJECT)
		stmt_error("input-schema: \"properties\" is not an object");
	else
		ok = 1;
	free(toks);
	return ok;
}

/* command PATH [WORD...]: an absolute program, placeholders after it. */
static int
set_command(void)
{
	struct conf_tool	*t = &ps.tool;
	uint32_t		 i;
	int			 ok = 1;

	if (ps.words[0][0] != '/') {
		stmt_error("command: \"%s\" is not an absolute path",
		    ps.words[0]);
		ok = 0;
	} else if (strchr(ps.words[0], '{') != NULL) {
		stmt_error("command: the program's path cannot hold \"{\"");
		ok = 0;
	}
	for (i = 1; i < ps.nwords; i++)
		if (!check_placeholders("command", ps.words[i]))
			ok = 0;
	if (!ok)
		return 0;
	for (i = 0; i < ps.nwords; i++) {
		if ((t->t_argv[i] = strdup(ps.words[i])) == NULL) {
			stmt_error("out of memory");
			return 0;
		}
		t->t_argc++;
	}
	return 1;
}

/* env NAME...: added up over the lines, each name once. */
static void
add_env(void)
{
	struct conf_tool	*t = &ps.tool;
	struct where		*w;
	const char		*s;
	char			 wbuf[CONF_PATH_MAX_BYTES + 32];
	uint32_t		 i, j;

	for (i = 0; i < ps.nwords; i++) {
		s = ps.words[i];
		if (!valid_env(s)) {
			stmt_error("env: invalid name \"%s\" (a letter or "
			    "\"_\", then letters, digits or \"_\")", s);
			continue;
		}
		for (j = 0; j < t->t_nenv; j++)
			if (strcmp(t->t_env[j], s) == 0)
				break;
		if (j < t->t_nenv) {
			stmt_error("env: %s already listed %s", s,
			    where_text(wbuf, sizeof(wbuf), &ps.env_at[j]));
			continue;
		}
		if (t->t_nenv == CONF_ENV_MAX) {
			stmt_error("env: too many variables (at most %d)",
			    CONF_ENV_MAX);
			return;
		}
		if ((t->t_env[t->t_nenv] = strdup(s)) == NULL) {
			stmt_error("out of memory");
			return;
		}
		w = &ps.env_at[t->t_nenv++];
		w->w_file = ps.stmt_file;
		w->w_line = ps.stmt_line;
		w->w_seq = ++ps.seq;
		w->w_ok = 1;
	}
}

/* argument NAME [required] [TEXT]: "required" as a bare word. */
static void
add_argument(void)
{
	struct conf_prompt	*p = &ps.prompt;
	struct conf_prompt_arg	*a;
	struct where		*w;
	const char		*name = ps.words[0], *desc = NULL;
	char			 wbuf[CONF_PATH_MAX_BYTES + 32];
	uint32_t		 i = 1, j;
	int			 required = 0;

	if (i < ps.nwords && !is_quoted(ps.words[i]) &&
	    strcmp(ps.words[i], "required") == 0) {
		required = 1;
		i++;
	}
	if (i < ps.nwords)
		desc = ps.words[i++];
	if (i < ps.nwords) {
		stmt_error("argument: too many values (NAME [required] [TEXT]; "
		    "quote a text with spaces)");
		return;
	}
	if (!valid_name(name, strlen(name))) {
		stmt_error("argument: invalid name \"%s\" (%s)", name,
		    NAME_RULE);
		return;
	}
	for (j = 0; j < p->p_nargs; j++)
		if (strcmp(p->p_args[j].a_name, name) == 0) {
			stmt_error("argument: %s already declared %s", name,
			    where_text(wbuf, sizeof(wbuf), &ps.arg_at[j]));
			return;
		}
	if (p->p_nargs == CONF_PROMPT_ARGS_MAX) {
		stmt_error("argument: too many arguments (at most %d)",
		    CONF_PROMPT_ARGS_MAX);
		return;
	}
	a = &p->p_args[p->p_nargs];
	if ((a->a_name = strdup(name)) == NULL ||
	    (desc != NULL && !set_text(&a->a_desc, desc))) {
		free(a->a_name);
		memset(a, 0, sizeof(*a));
		stmt_error("out of memory");
		return;
	}
	a->a_required = required;
	w = &ps.arg_at[p->p_nargs++];
	w->w_file = ps.stmt_file;
	w->w_line = ps.stmt_line;
	w->w_seq = ++ps.seq;
	w->w_ok = 1;
}

/* message user|assistant TEXT: in order. */
static void
add_message(void)
{
	const char		*roles[] = { "user", "assistant" };
	struct conf_prompt	*p = &ps.prompt;
	struct conf_prompt_msg	*m;
	struct where		*w;
	int			 role;

	if (ps.nwords != 2) {
		if (ps.nwords < 2)
			stmt_error("message: a role (user or assistant) and "
			    "a text expected");
		else
			stmt_error("message: %lu values, two expected (quote "
			    "a text with spaces)", (unsigned long)ps.nwords);
		return;
	}
	if ((role = get_choice("message", ps.words[0], roles, 2)) == -1)
		return;
	if (ps.words[1][0] == '\0') {
		stmt_error("message: empty text");
		return;
	}
	if (!check_placeholders("message", ps.words[1]))
		return;
	if (p->p_nmsgs == CONF_PROMPT_MSGS_MAX) {
		stmt_error("message: too many messages (at most %d)",
		    CONF_PROMPT_MSGS_MAX);
		return;
	}
	m = &p->p_msgs[p->p_nmsgs];
	if ((m->m_text = strdup(ps.words[1])) == NULL) {
		stmt_error("out of memory");
		return;
	}
	m->m_assistant = role;
	w = &ps.msg_at[p->p_nmsgs++];
	w->w_file = ps.stmt_file;
	w->w_line = ps.stmt_line;
	w->w_seq = ++ps.seq;
	w->w_ok = 1;
}

/* An item of a catalog block: in the right block, each key once. */
static void
cat_item(enum cat_key k)
{
	const char	*key = cat_keys[k].ck_name, *s = ps.words[0];
	struct where	*w = &ps.cseen[k];
	char		**text;
	long long	 n;

	if (!ps.in_block ||
	    (cat_keys[k].ck_blocks & (1U << ps.block_cat)) == 0) {
		stmt_error("%s: only allowed in a%s %s block", key,
		    cat_keys[k].ck_blocks_text[0] == 'a' ? "n" : "",
		    cat_keys[k].ck_blocks_text);
		return;
	}
	if (k == CK_ENV || k == CK_ARGUMENT || k == CK_MESSAGE ||
	    k == CK_AUTH_SERVER) {
		/* lists: seen, even if wrong ("a message is required") */
		if (w->w_file == NULL) {
			w->w_file = ps.stmt_file;
			w->w_line = ps.stmt_line;
			w->w_seq = ++ps.seq;
		}
	} else if (!key_first(w, key))
		return;		/* once set, even wrongly, a key is set */
	if (cat_keys[k].ck_max == 1 && ps.nwords > 1) {
		stmt_error("%s: %lu values, one expected%s", key,
		    (unsigned long)ps.nwords, cat_keys[k].ck_text ?
		    " (quote a text with spaces)" : "");
		return;
	}
	if (cat_keys[k].ck_max > 1 && ps.nwords > cat_keys[k].ck_max) {
		stmt_error("%s: too many values (%lu, at most %lu)", key,
		    (unsigned long)ps.nwords,
		    (unsigned long)cat_keys[k].ck_max);
		return;
	}
	switch (k) {
	case CK_ENV:
		add_env();
		return;
	case CK_ARGUMENT:
		add_argument();
		return;
	case CK_MESSAGE:
		add_message();
		return;
	case CK_DESCRIPTION:
		if (ps.block_cat == CAT_TOOL && s[0] == '\0') {
			stmt_error("description: empty (clients need one)");
			return;
		}
		text = ps.block_cat == CAT_TOOL ? &ps.tool.t_desc :
		    ps.block_cat == CAT_RESOURCE ? &ps.res.r_desc :
		    &ps.prompt.p_desc;
		if (!set_text(text, s))
			return;
		break;
	case CK_TITLE:
		text = ps.block_cat == CAT_TOOL ? &ps.tool.t_title :
		    &ps.prompt.p_title;
		if (!set_text(text, s))
			return;
		break;
	case CK_INPUT_SCHEMA:
		if (strcmp(s, "auto") != 0 &&
		    (!check_schema(s) || !set_text(&ps.tool.t_schema, s)))
			return;
		break;
	case CK_COMMAND:
		if (!set_command())
			return;
		break;
	case CK_DIRECTORY:
		if (strcmp(s, "none") == 0)
			break;
		if (s[0] != '/') {
			stmt_error("directory: \"%s\" is not an absolute path",
			    s);
			return;
		}
		if (!set_text(&ps.tool.t_cwd, s))
			return;
		break;
	case CK_TIMEOUT:
		if (!get_duration(key, s, &ps.tool.t_timeout_ms))
			return;
		break;
	case CK_MAX_OUTPUT:
		if (!get_size(key, s, TOOL_OUTPUT_MIN, TOOL_OUTPUT_MAX,
		    &ps.tool.t_output_max))
			return;
		break;
	case CK_CONCURRENCY:
		if (!get_number(key, s, 1, TOOL_CONCURRENCY_MAX, &n))
			return;
		ps.tool.t_concurrency = (uint32_t)n;
		break;
	case CK_MAX_MEMORY:
		if (strcmp(s, "none") == 0)
			ps.tool.t_mem_max = 0;
		else if (!get_size(key, s, TOOL_MEMORY_MIN, TOOL_MEMORY_MAX,
		    &ps.tool.t_mem_max))
			return;
		break;
	case CK_MAX_PROCESSES:
		if (strcmp(s, "none") == 0)
			ps.tool.t_nproc_max = 0;
		else if (!get_number(key, s, 1, TOOL_PROCESSES_MAX, &n))
			return;
		else
			ps.tool.t_nproc_max = (uint32_t)n;
		break;
	case CK_TASK: {
		const char *tw[] = { "forbidden", "optional", "required" };
		int i;

		if ((i = get_choice(key, s, tw, 3)) == -1)
			return;
		ps.tool.t_task = i;
		break;
	}
	case CK_CACHE_TTL:
		if (!get_duration_min(key, s, 0, &ps.res.r_cache_ttl_ms))
			return;
		break;
	case CK_CACHE_SCOPE: {
		const char *sw[] = { "private", "public" };
		int i;

		if ((i = get_choice(key, s, sw, 2)) == -1)
			return;
		ps.res.r_cache_public = i;
		break;
	}
	case CK_DOT_FILES: {
		const char *sw[] = { "no", "yes" };
		int i;

		if ((i = get_choice(key, s, sw, 2)) == -1)
			return;
		ps.res.r_dot_files = i;
		break;
	}
	case CK_PATH:
		if (s[0] != '/') {
			stmt_error("path: \"%s\" is not an absolute path", s);
			return;
		}
		if (!set_text(&ps.res.r_path, s))
			return;
		break;
	case CK_NAME:
		if (s[0] == '\0') {
			stmt_error("name: empty");
			return;
		}
		if (!set_text(&ps.res.r_name, s))
			return;
		break;
	case CK_MIME_TYPE:
		if (strcmp(s, "auto") == 0)
			break;
		if (!valid_mime(s)) {
			stmt_error("mime-type: invalid type \"%s\" "
			    "(type/subtype, as text/plain)", s);
			return;
		}
		if (!set_text(&ps.res.r_mime, s))
			return;
		break;
	case CK_MAX_SIZE:
		if (!get_size(key, s, 1, RESOURCE_SIZE_MAX,
		    &ps.res.r_size_max))
			return;
		break;
	case CK_USER:
	case CK_GROUP:
		if (!valid_user(key, s) || !set_text(k == CK_USER ?
		    &ps.tool.t_user : &ps.tool.t_group, s))
			return;
		break;
	case CK_RESOURCE_URI:
		if (!auth_uri(key, s, 1) ||
		    !set_text(&ps.auth.a_resource, s))
			return;
		break;
	case CK_AUTH_SERVER:
		if (ps.auth.a_nservers == CONF_AUTH_SERVERS_MAX) {
			stmt_error("%s: too many (at most %d)", key,
			    CONF_AUTH_SERVERS_MAX);
			return;
		}
		if (ps.nwords != 1) {
			stmt_error("%s: one URI a line", key);
			return;
		}
		if (!auth_uri(key, s, 0) ||
		    !set_text(&ps.auth.a_servers[ps.auth.a_nservers], s))
			return;
		ps.auth.a_nservers++;
		break;
	case CK_SCOPES: {
		uint32_t i;

		for (i = 0; i < ps.nwords; i++) {
			if (!valid_scope(ps.words[i])) {
				stmt_error("%s: invalid scope \"%s\" (visible "
				    "ASCII but '\"' and '\\')", key,
				    ps.words[i]);
				return;
			}
			if (!set_text(&ps.auth.a_scopes[ps.auth.a_nscopes],
			    ps.words[i]))
				return;
			ps.auth.a_nscopes++;
		}
		break;
	}
	case CK_SCOPE:
		if (!set_scope(key))
			return;
		break;
	case CK_JWT_ISSUER:
		if (!auth_uri(key, s, 0) ||
		    !set_text(&ps.auth.a_jwt_issuer, s))
			return;
		break;
	case CK_AUDIENCE:
		if (!auth_uri(key, s, 1) || !set_text(&ps.auth.a_audience, s))
			return;
		break;
	case CK_CLOCK_SKEW:
		if (!get_duration(key, s, &ps.auth.a_skew_ms))
			return;
		if (ps.auth.a_skew_ms > AUTH_SKEW_MAX_MS) {
			stmt_error("%s: at most 10m", key);
			return;
		}
		break;
	case CK_JWKS_FILE:
		if (s[0] != '/') {
			stmt_error("%s: \"%s\" is not an absolute path", key,
			    s);
			return;
		}
		if (!set_text(&ps.auth.a_jwks_file, s))
			return;
		ps.auth_jwks_line[ps.conf->c_nauths] = ps.stmt_line;
		break;
	case CK_JWKS_URI:
		if (!auth_uri(key, s, 0) || !set_text(&ps.auth.a_jwks_uri, s))
			return;
		break;
	case CK_JWKS_REFRESH:
	case CK_JWKS_REFRESH_MIN:
		if (!get_duration_min(key, s, JWKS_REFRESH_FLOOR_MS,
		    k == CK_JWKS_REFRESH ? &ps.auth.a_jwks_refresh_ms :
		    &ps.auth.a_jwks_refresh_min_ms))
			return;
		break;
	case CK_INTRO_ENDPOINT:
		if (!auth_uri(key, s, 0) ||
		    !set_text(&ps.auth.a_introspection, s))
			return;
		break;
	case CK_INTRO_CLIENT_ID: {
		const char *p;

		for (p = s; *p != '\0'; p++)
			if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
				break;
		if (*p != '\0' || *s == '\0' ||
		    strlen(s) >= CONF_CLIENT_ID_MAX_BYTES) {
			stmt_error("%s: printable ASCII, at most %d bytes",
			    key, CONF_CLIENT_ID_MAX_BYTES - 1);
			return;
		}
		if (!set_text(&ps.auth.a_client_id, s))
			return;
		break;
	}
	case CK_INTRO_CACHE:
		if (!get_duration(key, s, &ps.auth.a_introspection_cache_ms))
			return;
		break;
	case CK_INTRO_PENDING:
		if (!get_number(key, s, 1, INTROSPECTION_PENDING_MAX, &n))
			return;
		ps.auth.a_introspection_pending = (uint32_t)n;
		break;
	case CK_FETCH_TIMEOUT:
		if (!get_duration(key, s, &ps.auth.a_fetch_timeout_ms))
			return;
		if (ps.auth.a_fetch_timeout_ms > FETCH_TIMEOUT_MAX_MS) {
			stmt_error("%s: at most 1m", key);
			return;
		}
		break;
	case CK_INTRO_SECRET:
	case CK_STATIC_TOKENS:
		if (s[0] != '/') {
			stmt_error("%s: \"%s\" is not an absolute path", key,
			    s);
			return;
		}
		if (k == CK_INTRO_SECRET) {
			if (!set_text(&ps.auth.a_client_secret_file, s))
				return;
			ps.auth_secret_line[ps.conf->c_nauths] = ps.stmt_line;
			break;
		}
		if (!set_text(&ps.auth.a_static_tokens, s))
			return;
		ps.auth_tokens_line[ps.conf->c_nauths] = ps.stmt_line;
		break;
	case CK_NODE:
	case CK_REDIS:
	case CK_SENTINEL:
	case CK_MASTER_NAME:
	case CK_REDIS_USER:
	case CK_REDIS_PASSWORD_FILE:
	case CK_KEY_FILE:
	case CK_REDIS_TIMEOUT:
	case CK_NODE_TTL:
		if (!cluster_item(k, key))
			return;
		break;
	case CK_MAX:
		return;
	}
	w->w_ok = 1;
}

/*
 * A Redis or Sentinel address: "host", "host:port", "[v6]" or "[v6]:port";
 * a host name or an address, resolved by the agent when it connects.
 */
static int
redis_addr(const char *key, const char *s, uint16_t defport,
    struct conf_redis_addr *ra)
{
	const char	*host = s, *port = NULL, *e;
	size_t		 hlen;
	long long	 n;
	int		 v6 = 0;

	if (*s == '[') {
		if ((e = strchr(s, ']')) == NULL)
			goto bad;
		host = s + 1;
		hlen = (size_t)(e - host);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != '\0')
			goto bad;
		v6 = 1;
	} else if ((e = strchr(s, ':')) != NULL) {
		hlen = (size_t)(e - s);
		port = e + 1;
	} else
		hlen = strlen(s);
	if (hlen == 0 || hlen >= sizeof(ra->ra_host) ||
	    strspn(host, v6 ? "0123456789abcdefABCDEF:." :
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") < hlen || (v6 && memchr(host, ':', hlen) == NULL))
		goto bad;
	memcpy(ra->ra_host, host, hlen);
	ra->ra_host[hlen] = '\0';
	ra->ra_port = defport;
	if (port != NULL) {
		if (!get_number(key, port, 1, 65535, &n))
			return 0;
		ra->ra_port = (uint16_t)n;
	}
	return 1;
 bad:
	stmt_error("%s: \"%s\": HOST, HOST:PORT, [IPV6] or [IPV6]:PORT "
	    "expected", key, s);
	return 0;
}

/* A node id: what HAProxy's server names and session ids carry. */
#define NODE_RULE	"1 to 32 letters, digits, \"_\" or \"-\""

/* A Redis name (master-name, redis-user): visible ASCII, no space. */
static int
redis_name(const char *key, const char *s, char *dst, size_t dlen)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			break;
	if (*p != '\0' || *s == '\0' || strlen(s) >= dlen) {
		stmt_error("%s: \"%s\": visible ASCII, 1 to %zu bytes", key,
		    s, dlen - 1);
		return 0;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 1;
}

/* The items of the cluster block: 1 taken, 0 wrong (said). */
static int
cluster_item(enum cat_key k, const char *key)
{
	struct conf_cluster	*cl = &ps.cluster;
	const char		*s = ps.words[0];
	uint32_t		 i, n;

	switch (k) {
	case CK_NODE:
		if (!conf_node_valid(s, strlen(s))) {
			stmt_error("%s: invalid node id \"%s\" (%s)", key, s,
			    NODE_RULE);
			return 0;
		}
		memcpy(cl->cl_node, s, strlen(s) + 1);
		return 1;
	case CK_REDIS:
		return redis_addr(key, s, DEF_REDIS_PORT, &cl->cl_redis);
	case CK_SENTINEL:
		n = ps.nwords < CONF_SENTINELS_MAX ? ps.nwords :
		    CONF_SENTINELS_MAX;
		for (i = 0; i < n; i++)
			if (!redis_addr(key, ps.words[i], DEF_SENTINEL_PORT,
			    &cl->cl_sentinels[i]))
				return 0;
		cl->cl_nsentinels = n;
		return 1;
	case CK_MASTER_NAME:
		return redis_name(key, s, cl->cl_master_name,
		    sizeof(cl->cl_master_name));
	case CK_REDIS_USER:
		return redis_name(key, s, cl->cl_redis_user,
		    sizeof(cl->cl_redis_user));
	case CK_REDIS_PASSWORD_FILE:
	case CK_KEY_FILE:
		if (s[0] != '/') {
			stmt_error("%s: \"%s\" is not an absolute path", key,
			    s);
			return 0;
		}
		if (k == CK_KEY_FILE) {
			ps.cluster_key_line = ps.stmt_line;
			return set_text(&cl->cl_key_file, s);
		}
		ps.cluster_pass_line = ps.stmt_line;
		return set_text(&cl->cl_password_file, s);
	case CK_REDIS_TIMEOUT:
		return duration_range(key, s, REDIS_TIMEOUT_MIN_MS,
		    REDIS_TIMEOUT_MAX_MS, &cl->cl_redis_timeout_ms);
	case CK_NODE_TTL:
		return duration_range(key, s, NODE_TTL_MIN_MS,
		    NODE_TTL_MAX_MS, &cl->cl_node_ttl_ms);
	default:
		return 0;
	}
}

/*
 * user, group: at the top level, what mcpd's processes run as; in a tool
 * block, what the tool runs as.  Whether the names exist is for
 * check_paths(): a child re-reading the text does not look.
 */
static void
user_item(int group)
{
	enum key	 k = group ? K_GROUP : K_USER;
	const char	*key = key_names[k];
	char		*dst = group ? ps.conf->c_group : ps.conf->c_user;

	if (ps.in_block) {
		if (ps.block_cat == CAT_TOOL)
			cat_item(group ? CK_GROUP : CK_USER);
		else
			stmt_error("%s: only allowed at the top level or in "
			    "a tool block", key);
		return;
	}
	if (!key_first(&ps.seen[k], key))
		return;
	if (ps.nwords > 1) {
		stmt_error("%s: %lu values, one expected", key,
		    (unsigned long)ps.nwords);
		return;
	}
	if (!valid_user(key, ps.words[0]))
		return;
	memcpy(dst, ps.words[0], strlen(ps.words[0]) + 1);
	ps.seen[k].w_ok = 1;
}

/* The name of entry i of kind k, and where it was declared. */
static const char *
cat_entry(enum cat_kind k, uint32_t i, struct where *w)
{
	struct conf	*c = ps.conf;

	memset(w, 0, sizeof(*w));
	switch (k) {
	case CAT_TOOL:
		w->w_file = ps.tool_file[i];
		w->w_line = c->c_tools[i].t_line;
		return c->c_tools[i].t_name;
	case CAT_RESOURCE:
		w->w_file = ps.res_file[i];
		w->w_line = c->c_resources[i].r_line;
		return c->c_resources[i].r_uri;
	case CAT_PROMPT:
		w->w_file = ps.prompt_file[i];
		w->w_line = c->c_prompts[i].p_line;
		return c->c_prompts[i].p_name;
	case CAT_AUTH:
		w->w_file = ps.auth_file[i];
		w->w_line = c->c_auths[i].a_line;
		return c->c_auths[i].a_name;
	case CAT_CLUSTER:
	case CAT_NONE:
		break;
	}
	return "";
}

/* "tool NAME {": the header; the items go to a scratch entry anyway. */
static void
cat_open(enum cat_kind kind, const char *name)
{
	struct conf	*c = ps.conf;
	struct where	 w;
	char		 wbuf[CONF_PATH_MAX_BYTES + 32];
	char		**dst;
	uint32_t	 i, n, max;
	int		 ok;

	if (ps.in_block)
		block_close();
	ps.in_block = 1;
	ps.block_cat = kind;
	ps.block_role = -1;
	ps.block_file = ps.stmt_file;
	ps.block_line = ps.stmt_line;
	ps.spec = NULL;
	ps.sseen = NULL;
	ps.cat_ok = 0;
	memset(ps.cseen, 0, sizeof(ps.cseen));
	memset(ps.env_at, 0, sizeof(ps.env_at));
	memset(ps.arg_at, 0, sizeof(ps.arg_at));
	memset(ps.msg_at, 0, sizeof(ps.msg_at));
	conf_tool_free(&ps.tool);
	conf_resource_free(&ps.res);
	conf_prompt_free(&ps.prompt);
	conf_auth_free(&ps.auth);
	free(ps.cluster.cl_key_file);
	free(ps.cluster.cl_password_file);
	memset(&ps.cluster, 0, sizeof(ps.cluster));

	if (kind == CAT_CLUSTER) {
		snprintf(ps.cat_label, sizeof(ps.cat_label), "cluster");
		ps.block_label = ps.cat_label;
		ps.cluster.cl_line = ps.stmt_line;
		ps.cluster.cl_redis_timeout_ms = DEF_REDIS_TIMEOUT_MS;
		ps.cluster.cl_node_ttl_ms = DEF_NODE_TTL_MS;
		ps.cluster_key_line = ps.cluster_pass_line = 0;
		if (name != NULL) {
			stmt_error("takes no name (the node's is "
			    "\"node\")");
			return;
		}
		if (ps.cluster_at.w_file != NULL) {
			stmt_error("already declared %s",
			    where_text(wbuf, sizeof(wbuf), &ps.cluster_at));
			return;
		}
		ps.cluster_at.w_file = ps.stmt_file;
		ps.cluster_at.w_line = ps.stmt_line;
		ps.cat_ok = 1;
		return;
	}

	ok = name != NULL && (kind == CAT_RESOURCE ? valid_uri(name) :
	    valid_name(name, strlen(name)));
	if (name == NULL)
		snprintf(ps.cat_label, sizeof(ps.cat_label), "%s",
		    cat_kind_name(kind));
	else
		snprintf(ps.cat_label, sizeof(ps.cat_label),
		    ok ? "%s %s" : "%s \"%s\"", cat_kind_name(kind), name);
	ps.block_label = ps.cat_label;

	switch (kind) {
	case CAT_TOOL:
		ps.tool.t_line = ps.stmt_line;
		ps.tool.t_timeout_ms = DEF_TOOL_TIMEOUT_MS;
		ps.tool.t_output_max = DEF_TOOL_OUTPUT_MAX_BYTES;
		ps.tool.t_concurrency = DEF_TOOL_CONCURRENCY;
		dst = &ps.tool.t_name;
		n = c->c_ntools;
		max = CONF_TOOLS_MAX;
		break;
	case CAT_RESOURCE:
		ps.res.r_line = ps.stmt_line;
		ps.res.r_size_max = DEF_RESOURCE_SIZE_MAX;
		ps.res.r_cache_ttl_ms = DEF_RESOURCE_CACHE_TTL_MS;
		dst = &ps.res.r_uri;
		n = c->c_nresources;
		max = CONF_RESOURCES_MAX;
		break;
	case CAT_PROMPT:
		ps.prompt.p_line = ps.stmt_line;
		dst = &ps.prompt.p_name;
		n = c->c_nprompts;
		max = CONF_PROMPTS_MAX;
		break;
	case CAT_AUTH:
		ps.auth.a_line = ps.stmt_line;
		ps.auth.a_skew_ms = DEF_AUTH_SKEW_MS;
		ps.auth.a_jwks_refresh_ms = DEF_JWKS_REFRESH_MS;
		ps.auth.a_jwks_refresh_min_ms = DEF_JWKS_REFRESH_MIN_MS;
		ps.auth.a_introspection_cache_ms = DEF_INTROSPECTION_CACHE_MS;
		ps.auth.a_introspection_pending = DEF_INTROSPECTION_PENDING;
		ps.auth.a_fetch_timeout_ms = DEF_FETCH_TIMEOUT_MS;
		dst = &ps.auth.a_name;
		n = c->c_nauths;
		max = CONF_AUTHS_MAX;
		if (ok && strcmp(name, "none") == 0) {
			stmt_error("\"none\" is not a name for an auth block "
			    "(it says a listener has none)");
			return;
		}
		break;
	case CAT_NONE:
	default:
		return;
	}
	if (name == NULL) {
		stmt_error("missing name");
		return;
	}
	if (!ok) {
		if (kind == CAT_RESOURCE)
			stmt_error("invalid URI (a scheme such as \"file:\", "
			    "then visible ASCII)");
		else
			stmt_error("invalid name (%s)", NAME_RULE);
		return;
	}
	for (i = 0; i < n; i++)
		if (strcmp(cat_entry(kind, i, &w), name) == 0) {
			stmt_error("already declared %s",
			    where_text(wbuf, sizeof(wbuf), &w));
			return;
		}
	if (n == max) {
		stmt_error("too many %ss (at most %lu)", cat_kind_name(kind),
		    (unsigned long)max);
		return;
	}
	if ((*dst = strdup(name)) == NULL) {
		stmt_error("out of memory");
		return;
	}
	ps.cat_ok = 1;
}

/* "cluster { ... }" ends: what is required, what goes together. */
static void
cluster_close(struct file *f, int line)
{
	struct conf_cluster	*cl = &ps.cluster;
	struct where		*sw = &ps.cseen[CK_SENTINEL];
	struct where		*mw = &ps.cseen[CK_MASTER_NAME];

	if (ps.cseen[CK_NODE].w_file == NULL)
		conf_error(f, line, "cluster: node is required (this node's "
		    "id, unique in the cluster)");
	if (ps.cseen[CK_KEY_FILE].w_file == NULL)
		conf_error(f, line, "cluster: key-file is required (the key "
		    "every node seals ids with)");
	if (ps.cseen[CK_REDIS].w_file != NULL && sw->w_file != NULL)
		conf_error(sw->w_file, sw->w_line, "cluster: redis or "
		    "sentinel, not both");
	else if (ps.cseen[CK_REDIS].w_file == NULL && sw->w_file == NULL)
		conf_error(f, line, "cluster: redis or sentinel is required "
		    "(where the shared state is)");
	if (mw->w_file != NULL && sw->w_file == NULL)
		conf_error(mw->w_file, mw->w_line, "cluster: master-name: "
		    "only with sentinel");
	if (cl->cl_node_ttl_ms < 3 * cl->cl_redis_timeout_ms)
		conf_error(f, line, "cluster: node-ttl (%u ms) is less than "
		    "3 redis-timeouts (%u ms): one slow answer would let this "
		    "node pass for dead", cl->cl_node_ttl_ms,
		    3 * cl->cl_redis_timeout_ms);
	if (cl->cl_master_name[0] == '\0')
		memcpy(cl->cl_master_name, DEF_MASTER_NAME,
		    sizeof(DEF_MASTER_NAME));
	if (ps.conf->c_cluster != NULL)
		return;
	if ((ps.conf->c_cluster = malloc(sizeof(*cl))) == NULL) {
		conf_error(f, line, "cluster: out of memory");
		return;
	}
	*ps.conf->c_cluster = *cl;
	ps.cluster_file = f;
	memset(cl, 0, sizeof(*cl));
}

/* Room for entry n in an array of *cap: the array, or NULL. */
static void *
grow(void *arr, uint32_t n, uint32_t *cap, size_t size)
{
	void		*p;
	uint32_t	 ncap;

	if (n < *cap)
		return arr;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if ((p = realloc(arr, (size_t)ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

/* The placeholders of the command are properties of its input-schema. */
static void
tool_placeholders(void)
{
	struct conf_tool	*t = &ps.tool;
	struct where		*cmd = &ps.cseen[CK_COMMAND];
	struct json		 j;
	jsmntok_t		*toks;
	const char		*p, *name;
	char			 key[CAT_NAME_MAX + 1];
	size_t			 len;
	uint32_t		 a;
	int			 props;

	if (!cmd->w_ok || t->t_schema == NULL)
		return;
	len = strlen(t->t_schema);
	if ((toks = calloc(len + 1, sizeof(*toks))) == NULL) {
		conf_error(cmd->w_file, cmd->w_line, "%s: out of memory",
		    ps.cat_label);
		return;
	}
	if (json_parse(&j, t->t_schema, len, toks, (int)len + 1) != JSON_OK) {
		free(toks);
		return;
	}
	props = json_get(&j, 0, "properties");
	for (a = 1; a < t->t_argc; a++) {
		p = t->t_argv[a];
		while (placeholder_next(&p, &name, &len) == 1) {
			if (len >= sizeof(key))
				continue;
			memcpy(key, name, len);
			key[len] = '\0';
			if (json_get(&j, props, key) == -1)
				conf_error(cmd->w_file, cmd->w_line, "%s: "
				    "command: {%s} is not a property of the "
				    "input-schema", ps.cat_label, key);
		}
	}
	free(toks);
}

/* The placeholders of the messages are arguments. */
static void
prompt_placeholders(void)
{
	struct conf_prompt	*p = &ps.prompt;
	struct where		*w;
	const char		*s, *name;
	size_t			 len;
	uint32_t		 m, a;

	for (m = 0; m < p->p_nmsgs; m++) {
		s = p->p_msgs[m].m_text;
		w = &ps.msg_at[m];
		while (placeholder_next(&s, &name, &len) == 1) {
			for (a = 0; a < p->p_nargs; a++)
				if (strncmp(p->p_args[a].a_name, name, len) ==
				    0 && p->p_args[a].a_name[len] == '\0')
					break;
			if (a == p->p_nargs)
				conf_error(w->w_file, w->w_line, "%s: {%.*s} "
				    "is not an argument", ps.cat_label,
				    (int)len, name);
		}
	}
}

/* "name" by default: the last component of the path. */
static char *
last_component(const char *path)
{
	size_t	end = strlen(path), start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	for (start = end; start > 0 && path[start - 1] != '/'; start--)
		;
	if (start == end)
		return strdup("/");
	return strndup(path + start, end - start);
}

/* "}": what is required, then the entry joins the conf. */
static void
cat_close(void)
{
	struct conf	*c = ps.conf;
	struct file	*f = ps.block_file;
	const char	*label = ps.cat_label;
	void		*arr;
	int		 line = ps.block_line;

	switch (ps.block_cat) {
	case CAT_TOOL:
		tool_placeholders();
		/* a header that is wrong said enough */
		if (!ps.cat_ok)
			break;
		if (ps.cseen[CK_DESCRIPTION].w_file == NULL)
			conf_error(f, line, "%s: description is required",
			    label);
		if (ps.cseen[CK_COMMAND].w_file == NULL)
			conf_error(f, line, "%s: command is required", label);
		if (ps.cseen[CK_GROUP].w_ok &&
		    ps.cseen[CK_USER].w_file == NULL)
			conf_error(ps.cseen[CK_GROUP].w_file,
			    ps.cseen[CK_GROUP].w_line, "%s: group: only with "
			    "user (the tool's user)", label);
		if ((arr = grow(c->c_tools, c->c_ntools, &ps.tools_cap,
		    sizeof(*c->c_tools))) == NULL)
			goto nomem;
		c->c_tools = arr;
		ps.tool_file[c->c_ntools] = f;
		ps.tool_user_line[c->c_ntools] = ps.cseen[CK_USER].w_line;
		ps.tool_group_line[c->c_ntools] = ps.cseen[CK_GROUP].w_line;
		c->c_tools[c->c_ntools++] = ps.tool;
		memset(&ps.tool, 0, sizeof(ps.tool));
		break;
	case CAT_RESOURCE:
		if (!ps.cat_ok)
			break;
		if (ps.cseen[CK_PATH].w_file == NULL)
			conf_error(f, line, "%s: path is required", label);
		if (ps.res.r_name == NULL && ps.res.r_path != NULL &&
		    (ps.res.r_name = last_component(ps.res.r_path)) == NULL)
			goto nomem;
		if ((arr = grow(c->c_resources, c->c_nresources, &ps.res_cap,
		    sizeof(*c->c_resources))) == NULL)
			goto nomem;
		c->c_resources = arr;
		ps.res_file[c->c_nresources] = f;
		c->c_resources[c->c_nresources++] = ps.res;
		memset(&ps.res, 0, sizeof(ps.res));
		break;
	case CAT_PROMPT:
		prompt_placeholders();
		if (!ps.cat_ok)
			break;
		if (ps.cseen[CK_MESSAGE].w_file == NULL)
			conf_error(f, line, "%s: a message is required", label);
		if ((arr = grow(c->c_prompts, c->c_nprompts, &ps.prompts_cap,
		    sizeof(*c->c_prompts))) == NULL)
			goto nomem;
		c->c_prompts = arr;
		ps.prompt_file[c->c_nprompts] = f;
		c->c_prompts[c->c_nprompts++] = ps.prompt;
		memset(&ps.prompt, 0, sizeof(ps.prompt));
		break;
	case CAT_AUTH:
		if (!ps.cat_ok)
			break;
		if (ps.cseen[CK_RESOURCE_URI].w_file == NULL)
			conf_error(f, line, "%s: resource-uri is required (the "
			    "URI clients use for this server)", label);
		if (ps.auth.a_static_tokens == NULL &&
		    ps.auth.a_jwt_issuer == NULL &&
		    ps.auth.a_introspection == NULL)
			conf_error(f, line, "%s: no way to check a token "
			    "(static-tokens, jwt-issuer, or "
			    "introspection-endpoint)", label);
		if (ps.auth.a_jwks_file != NULL &&
		    ps.auth.a_jwt_issuer == NULL)
			conf_error(f, line, "%s: jwks-file: only with "
			    "jwt-issuer (the issuer's tokens, its keys)",
			    label);
		if (ps.auth.a_jwks_uri != NULL &&
		    (ps.auth.a_jwt_issuer == NULL ||
		    ps.auth.a_jwks_file != NULL))
			conf_error(ps.cseen[CK_JWKS_URI].w_file,
			    ps.cseen[CK_JWKS_URI].w_line, "%s: jwks-uri: "
			    "only with jwt-issuer, and not with jwks-file",
			    label);
		if ((ps.auth.a_introspection == NULL) !=
		    (ps.auth.a_client_id == NULL) ||
		    (ps.auth.a_introspection == NULL) !=
		    (ps.auth.a_client_secret_file == NULL))
			conf_error(f, line, "%s: introspection-endpoint, "
			    "introspection-client-id and "
			    "introspection-secret-file go together (RFC 7662 "
			    "2.1: the server knows who asks)", label);
		if (ps.auth.a_audience != NULL &&
		    ps.auth.a_jwt_issuer == NULL)
			conf_error(ps.cseen[CK_AUDIENCE].w_file,
			    ps.cseen[CK_AUDIENCE].w_line, "%s: audience: only "
			    "with jwt-issuer", label);
		if ((arr = grow(c->c_auths, c->c_nauths, &ps.auths_cap,
		    sizeof(*c->c_auths))) == NULL)
			goto nomem;
		c->c_auths = arr;
		ps.auth_file[c->c_nauths] = f;
		c->c_auths[c->c_nauths++] = ps.auth;
		memset(&ps.auth, 0, sizeof(ps.auth));
		break;
	case CAT_CLUSTER:
		if (!ps.cat_ok)
			break;
		cluster_close(f, line);
		break;
	case CAT_NONE:
		break;
	}
	conf_tool_free(&ps.tool);
	conf_resource_free(&ps.res);
	conf_prompt_free(&ps.prompt);
	conf_auth_free(&ps.auth);
	free(ps.cluster.cl_key_file);
	free(ps.cluster.cl_password_file);
	memset(&ps.cluster, 0, sizeof(ps.cluster));
	return;
 nomem:
	conf_error(f, line, "%s: out of memory", label);
	conf_tool_free(&ps.tool);
	conf_resource_free(&ps.res);
	conf_prompt_free(&ps.prompt);
	conf_auth_free(&ps.auth);
}

/*
 * A URI of an auth block: absolute https (http only for a loopback host,
 * for tests and a local setup), visible ASCII, no fragment; the resource
 * URI no query either (RFC 8707 2, RFC 9728 1.2).
 */
static int
auth_uri(const char *key, const char *s, int resource)
{
	const char	*host, *p;
	size_t		 n = strlen(s);

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0 &&
	    (strncmp(s + 7, "127.", 4) == 0 ||
	    strncmp(s + 7, "localhost", 9) == 0 ||
	    strncmp(s + 7, "[::1]", 5) == 0))
		host = s + 7;
	else {
		stmt_error("%s: \"%s\" is not an https URI (http only for "
		    "127.0.0.1, [::1] or localhost)", key, s);
		return 0;
	}
	if (n > CONF_AUTH_URI_MAX_BYTES - 1 || *host == '\0' || *host == '/') {
		stmt_error("%s: \"%s\": a host, and at most %d bytes", key, s,
		    CONF_AUTH_URI_MAX_BYTES - 1);
		return 0;
	}
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '"' || *p == '\\' || *p == '#' ||
		    (resource && *p == '?')) {
			stmt_error("%s: \"%s\": visible ASCII, no fragment%s",
			    key, s, resource ? " and no query" : "");
			return 0;
		}
	return 1;
}

/* A scope token (RFC 6749 3.3). */
static int
valid_scope(const char *s)
{
	return scope_token_valid(s, strlen(s));
}

/*
 * "scope A B": what a caller needs, all of it, to call the tool, read the
 * resource, get the prompt; kept " "-separated, as a token grants them.
 */
static int
set_scope(const char *key)
{
	char		**dst, list[SCOPE_ITEM_MAX_BYTES], why[128];
	size_t		  used = 0, n;
	uint32_t	  i;

	for (i = 0; i < ps.nwords; i++) {
		if (!valid_scope(ps.words[i])) {
			stmt_error("%s: invalid scope \"%s\" (visible ASCII "
			    "but '\"' and '\\')", key, ps.words[i]);
			return 0;
		}
		n = strlen(ps.words[i]);
		if (used + n + 1 >= sizeof(list)) {
			stmt_error("%s: longer than %d bytes", key,
			    SCOPE_ITEM_MAX_BYTES - 1);
			return 0;
		}
		if (i > 0)
			list[used++] = ' ';
		memcpy(list + used, ps.words[i], n);
		used += n;
	}
	list[used] = '\0';
	/* the rule the plugin ABI checks too */
	if (scope_list_valid(list, why, sizeof(why)) == -1) {
		stmt_error("%s: %s", key, why);
		return 0;
	}
	dst = ps.block_cat == CAT_TOOL ? &ps.tool.t_scope :
	    ps.block_cat == CAT_RESOURCE ? &ps.res.r_scope :
	    &ps.prompt.p_scope;
	return set_text(dst, list);
}

static void
add_listener(const char *kind, const char *addr, const char *port,
    const char *authkw, const char *auth)
{
	const char		*kinds[] = {
		conf_listen_kind_name(LISTEN_HTTP),
		conf_listen_kind_name(LISTEN_ADMIN)
	};
	struct conf		*c = ps.conf;
	struct conf_listener	*l;
	struct in6_addr		 bin;
	char			 canon[CONF_ADDR_MAX_BYTES];
	long long		 n;
	uint32_t		 i;
	int			 k;

	if ((k = get_choice("listen", kind, kinds, 2)) == -1)
		return;
	if (strcmp(addr, "*") == 0)
		snprintf(canon, sizeof(canon), "*");
	else if (inet_pton(AF_INET, addr, &bin) == 1)
		inet_ntop(AF_INET, &bin, canon, sizeof(canon));
	else if (inet_pton(AF_INET6, addr, &bin) == 1)
		inet_ntop(AF_INET6, &bin, canon, sizeof(canon));
	else {
		stmt_error("listen: invalid address \"%s\"", addr);
		return;
	}
	if (!get_number("listen port", port, 1, UINT16_MAX, &n))
		return;
	if (authkw != NULL && strcmp(authkw, "auth") != 0) {
		stmt_error("listen: \"%s\" after the port (\"auth NAME\" or "
		    "\"auth none\" expected)", authkw);
		return;
	}
	if (auth != NULL && k != LISTEN_HTTP) {
		stmt_error("listen: auth is for http listeners");
		return;
	}
	if (auth != NULL && strcmp(auth, "none") != 0 &&
	    !valid_name(auth, strlen(auth))) {
		stmt_error("listen: auth: invalid name (%s)", NAME_RULE);
		return;
	}
	for (i = 0; i < c->c_nlisteners; i++) {
		l = &c->c_listeners[i];
		if (l->l_port != n || strcmp(l->l_addr, canon) != 0)
			continue;
		if (ps.listen_file[i] == ps.stmt_file)
			stmt_error("listen: %s port %lld already declared on "
			    "line %d", canon, n, l->l_line);
		else
			stmt_error("listen: %s port %lld already declared at "
			    "%s:%d", canon, n, ps.listen_file[i]->f_name,
			    l->l_line);
		return;
	}
	if (c->c_nlisteners == CONF_LISTENERS_MAX) {
		stmt_error("listen: too many listeners (at most %d)",
		    CONF_LISTENERS_MAX);
		return;
	}
	l = &c->c_listeners[c->c_nlisteners];
	l->l_kind = (enum listen_kind)k;
	snprintf(l->l_addr, sizeof(l->l_addr), "%s", canon);
	l->l_port = (uint16_t)n;
	l->l_line = ps.stmt_line;
	l->l_auth_idx = -1;
	snprintf(l->l_auth, sizeof(l->l_auth), "%s", auth != NULL ? auth : "");
	ps.listen_file[c->c_nlisteners++] = ps.stmt_file;
	if (k == LISTEN_HTTP)
		ps.has_http = 1;
	else
		ps.has_admin = 1;
}

/* "listen http 127.0.0.1 port 8080" when the file has no listen http. */
static void
default_listener(struct file *top, enum listen_kind k, uint16_t port)
{
	struct conf		*c = ps.conf;
	struct conf_listener	*l;
	uint32_t		 i;

	for (i = 0; i < c->c_nlisteners; i++) {
		l = &c->c_listeners[i];
		if (l->l_port == port && strcmp(l->l_addr, "127.0.0.1") == 0) {
			conf_error(ps.listen_file[i], l->l_line, "listen: "
			    "127.0.0.1 port %u is the default %s listener; "
			    "declare a \"listen %s\"", (unsigned int)port,
			    conf_listen_kind_name(k), conf_listen_kind_name(k));
			return;
		}
	}
	if (c->c_nlisteners == CONF_LISTENERS_MAX) {
		conf_error(top, 0, "listen: no room for the default %s "
		    "listener (at most %d)", conf_listen_kind_name(k),
		    CONF_LISTENERS_MAX);
		return;
	}
	l = &c->c_listeners[c->c_nlisteners++];
	l->l_kind = k;
	snprintf(l->l_addr, sizeof(l->l_addr), "127.0.0.1");
	l->l_port = port;
	l->l_auth_idx = -1;	/* loopback: none needed */
	l->l_line = 0;
}

/*
 * A user (and group) to run as exists and is not root: where a child
 * would fail to drop, or would drop to nothing.  label: "" or "tool t: ".
 */
static void
check_user(const char *label, const char *user, struct file *uf, int uline,
    const char *group, struct file *gf, int gline)
{
	char	err[CONF_USER_MAX_BYTES + 64];
	uid_t	uid;
	gid_t	gid;

	if (priv_user(user, &uid, &gid, err, sizeof(err)) == -1) {
		conf_error(uf, uline, "%suser: %s", label, err);
		return;
	}
	if (uid == 0) {
		conf_error(uf, uline, "%suser: \"%s\" is root (uid 0): name "
		    "an unprivileged user", label, user);
		return;
	}
	if (group != NULL && group[0] != '\0') {
		if (priv_group(group, &gid, err, sizeof(err)) == -1)
			conf_error(gf, gline, "%sgroup: %s", label, err);
		else if (gid == 0)
			conf_error(gf, gline, "%sgroup: \"%s\" is gid 0: name "
			    "an unprivileged group", label, group);
	} else if (gid == 0)
		conf_error(uf, uline, "%suser: the primary group of \"%s\" "
		    "is gid 0: name another with group", label, user);
}

/*
 * What a valid configuration names in the file system (and the user
 * database) is there: a resource's path (mcpd -n says so, where a worker
 * would serve nothing), the users and groups to run as.
 */
static void
check_paths(void)
{
	const struct conf_resource	*r;
	const struct conf_tool		*t;
	struct where			*u = &ps.seen[K_USER];
	struct where			*g = &ps.seen[K_GROUP];
	struct stat			 st;
	char				 label[CAT_LABEL_MAX];
	uint32_t			 i;

	if (ps.conf->c_user[0] != '\0')
		check_user("", ps.conf->c_user, u->w_file, u->w_line,
		    ps.conf->c_group, g->w_file, g->w_line);
	for (i = 0; i < ps.conf->c_ntools; i++) {
		t = &ps.conf->c_tools[i];
		if (t->t_user == NULL)
			continue;
		snprintf(label, sizeof(label), "tool %s: ", t->t_name);
		check_user(label, t->t_user, ps.tool_file[i],
		    ps.tool_user_line[i], t->t_group, ps.tool_file[i],
		    ps.tool_group_line[i]);
	}
	for (i = 0; i < ps.conf->c_nauths; i++) {
		const struct conf_auth	*a = &ps.conf->c_auths[i];
		struct tokens		 ts;
		char			 terr[CONF_PATH_MAX_BYTES + 128];

		if (a->a_static_tokens == NULL)
			continue;
		if (tokens_load(a->a_static_tokens, &ts, terr,
		    sizeof(terr)) == -1)
			conf_error(ps.auth_file[i], ps.auth_tokens_line[i],
			    "auth %s: static-tokens: %s", a->a_name, terr);
		tokens_free(&ts);
	}
	for (i = 0; i < ps.conf->c_nauths; i++) {
		const struct conf_auth	*a = &ps.conf->c_auths[i];
		char			 serr[CONF_PATH_MAX_BYTES + 128], *sb;
		size_t			 slen;

		if (a->a_client_secret_file == NULL)
			continue;
		if (file_read(a->a_client_secret_file, CLIENT_SECRET_MAX_BYTES,
		    &sb, &slen, serr, sizeof(serr)) == -1) {
			conf_error(ps.auth_file[i], ps.auth_secret_line[i],
			    "auth %s: introspection-secret-file: %s",
			    a->a_name, serr);
			continue;
		}
		if (client_secret_trim(sb, slen) == 0)
			conf_error(ps.auth_file[i], ps.auth_secret_line[i],
			    "auth %s: introspection-secret-file: %s: no secret "
			    "(one line of printable ASCII)", a->a_name,
			    a->a_client_secret_file);
		sodium_memzero(sb, slen);
		free(sb);
	}
	for (i = 0; i < ps.conf->c_nauths; i++) {
		const struct conf_auth	*a = &ps.conf->c_auths[i];
		struct jwks		*ks;
		char			 jerr[CONF_PATH_MAX_BYTES + 256], *buf;
		size_t			 len;

		if (a->a_jwks_file == NULL)
			continue;
		if (file_read(a->a_jwks_file, JWKS_MAX_BYTES, &buf, &len, jerr,
		    sizeof(jerr)) == -1) {
			conf_error(ps.auth_file[i], ps.auth_jwks_line[i],
			    "auth %s: jwks-file: %s", a->a_name, jerr);
			continue;
		}
		if ((ks = jwks_parse(buf, len, jerr, sizeof(jerr))) == NULL)
			conf_error(ps.auth_file[i], ps.auth_jwks_line[i],
			    "auth %s: jwks-file: %s: %s", a->a_name,
			    a->a_jwks_file, jerr);
		else if (jwks_count(ks) == 0)
			conf_error(ps.auth_file[i], ps.auth_jwks_line[i],
			    "auth %s: jwks-file: %s: no key to verify a "
			    "signature with", a->a_name, a->a_jwks_file);
		jwks_free(&ks);
		free(buf);
	}
	if (ps.conf->c_cluster != NULL) {
		const struct conf_cluster	*cl = ps.conf->c_cluster;
		struct cluster_keys		 ks;
		char				 kerr[CONF_PATH_MAX_BYTES + 160];

		/* as the supervisor reads it: it seals with it */
		if (cluster_keys_load(cl->cl_key_file, &ks, kerr,
		    sizeof(kerr)) == -1)
			conf_error(ps.cluster_file, ps.cluster_key_line,
			    "cluster: key-file: %s", kerr);
		sodium_memzero(&ks, sizeof(ks));
		if (cl->cl_password_file != NULL && access(cl->cl_password_file,
		    R_OK) == -1)
			conf_error(ps.cluster_file, ps.cluster_pass_line,
			    "cluster: redis-password-file: %s: %s",
			    cl->cl_password_file, strerror(errno));
	}
	for (i = 0; i < ps.conf->c_nresources; i++) {
		r = &ps.conf->c_resources[i];
		if (stat(r->r_path, &st) == -1)
			conf_error(ps.res_file[i], r->r_line, "resource %s: path "
			    "%s: %s", r->r_uri, r->r_path, strerror(errno));
	}
}

/*
 * Each HTTP listener's auth names a block, or none; one on an address
 * other than loopback says which (a server on a network that anyone can
 * call is never the default).
 */
static void
check_listen_auth(void)
{
	struct conf		*c = ps.conf;
	struct conf_listener	*l;
	uint32_t		 i, j;

	for (i = 0; i < c->c_nlisteners; i++) {
		l = &c->c_listeners[i];
		l->l_auth_idx = -1;
		if (l->l_kind != LISTEN_HTTP)
			continue;
		if (l->l_auth[0] == '\0') {
			if (!conf_addr_loopback(l->l_addr))
				conf_error(ps.listen_file[i], l->l_line,
				    "listen http %s port %u: not a loopback "
				    "address, so say how requests are "
				    "authenticated: \"auth NAME\" (an auth "
				    "block) or \"auth none\" (anyone who "
				    "reaches it may call every tool)",
				    l->l_addr, (unsigned int)l->l_port);
			continue;
		}
		if (strcmp(l->l_auth, "none") == 0)
			continue;
		for (j = 0; j < c->c_nauths; j++)
			if (strcmp(c->c_auths[j].a_name, l->l_auth) == 0)
				break;
		if (j == c->c_nauths)
			conf_error(ps.listen_file[i], l->l_line, "listen http "
			    "%s port %u: auth %s: no such auth block",
			    l->l_addr, (unsigned int)l->l_port, l->l_auth);
		else
			l->l_auth_idx = (int)j;
	}
}

/* Checks that involve more than one statement. */
static void
check_conf(struct file *top)
{
	struct conf	*c = ps.conf;
	struct where	*tmin = &ps.seen[K_THROTTLE_MIN];
	struct where	*tmax = &ps.seen[K_THROTTLE_MAX];
	struct where	*w;
	char		 a[CONF_DURATION_LEN], b[CONF_DURATION_LEN];

	if ((tmin->w_file == NULL || tmin->w_ok) &&
	    (tmax->w_file == NULL || tmax->w_ok) &&
	    c->c_throttle_min_ms > c->c_throttle_max_ms) {
		w = tmax;
		if (tmax->w_file == NULL ||
		    (tmin->w_file != NULL && tmin->w_seq > tmax->w_seq))
			w = tmin;
		conf_error(w->w_file, w->w_line, "throttle-min %s is greater "
		    "than throttle-max %s",
		    conf_fmt_duration(a, sizeof(a), c->c_throttle_min_ms),
		    conf_fmt_duration(b, sizeof(b), c->c_throttle_max_ms));
	}
	check_listen_auth();
	w = &ps.seen[K_GROUP];
	if (w->w_ok && ps.seen[K_USER].w_file == NULL)
		conf_error(w->w_file, w->w_line, "group: only with user (the "
		    "group of mcpd's processes)");
	if (ps.nerrors != 0)
		return;
	if (!ps.has_http)
		default_listener(top, LISTEN_HTTP, DEF_HTTP_PORT);
	if (!ps.has_admin)
		default_listener(top, LISTEN_ADMIN, DEF_ADMIN_PORT);
}

static struct file *
file_new(char *name)
{
	struct file	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->f_name = name;
	f->f_lineno = 1;
	f->f_next = ps.files;
	ps.files = f;
	return f;
}

static int
file_open(struct file *f)
{
	struct stat	st;

	if ((f->f_fp = fopen(f->f_name, "re")) == NULL)
		return -1;
	f->f_owned = 1;
	if (fstat(fileno(f->f_fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f->f_fp);
		f->f_fp = NULL;
		errno = EISDIR;
		return -1;
	}
	return 0;
}

static void
file_close(struct file *f)
{
	if (f->f_fp != NULL && f->f_owned)
		fclose(f->f_fp);
	f->f_fp = NULL;
}

/*
 * Relative paths are relative to the including file's directory.  The new
 * file is entered by the lexer once the include line's '\n' is read.
 */
static void
include_file(const char *path)
{
	struct file	*cur = ps.stmt_file, *f;
	const char	*slash;
	char		*name;
	size_t		 dirlen = 0;

	if (path[0] == '\0') {
		stmt_error("include: empty path");
		return;
	}
	if (cur->f_depth >= CONF_INCLUDE_DEPTH) {
		stmt_error("include: \"%s\": nested more than %d deep (an "
		    "include loop?)", path, CONF_INCLUDE_DEPTH);
		return;
	}
	if (path[0] != '/' && (slash = strrchr(cur->f_name, '/')) != NULL)
		dirlen = (size_t)(slash - cur->f_name) + 1;
	if ((name = malloc(dirlen + strlen(path) + 1)) == NULL) {
		stmt_error("include: out of memory");
		return;
	}
	memcpy(name, cur->f_name, dirlen);
	memcpy(name + dirlen, path, strlen(path) + 1);
	if ((f = file_new(name)) == NULL) {
		free(name);
		stmt_error("include: out of memory");
		return;
	}
	if (file_open(f) == -1) {
		stmt_error("include: %s: cannot open: %s", f->f_name,
		    strerror(errno));
		return;
	}
	f->f_depth = cur->f_depth + 1;
	f->f_parent = cur;
	ps.pending = f;
}

static int
lgetc(void)
{
	struct file	*f = ps.file;

	if (f->f_nunget > 0)
		return f->f_unget[--f->f_nunget];
	return getc(f->f_fp);
}

static void
lungetc(int c)
{
	struct file	*f = ps.file;

	if (c != EOF && f->f_nunget < LEX_UNGET_MAX)
		f->f_unget[f->f_nunget++] = c;
}

/* Drop the rest of a line the lexer gave up on; its '\n' stays. */
static void
skip_line(void)
{
	int	c;

	while ((c = lgetc()) != '\n' && c != EOF)
		;
	lungetc(c);
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
is_word(int c)
{
	return c > ' ' && c != 0x7f && c != '#' && c != '"' && c != '{' &&
	    c != '}';
}

/* Token text lives until the end of the parse; error recovery drops it. */
static int
keep_string(int quoted)
{
	struct strnode	*n;
	size_t		 len = strlen(ps.buf) + 1;

	if ((n = malloc(sizeof(*n) + len)) == NULL) {
		lex_error("out of memory");
		skip_line();
		return ERROR;
	}
	n->s_quoted = quoted;
	memcpy(n->s_str, ps.buf, len);
	n->s_next = ps.strings;
	ps.strings = n;
	yylval.v.string = n->s_str;
	return STRING;
}

static int
lex_quoted(void)
{
	size_t	len = 0;
	int	c, next;

	for (;;) {
		if ((c = lgetc()) == EOF || c == '\n') {
			lungetc(c);
			lex_error("unterminated string");
			return ERROR;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			if ((next = lgetc()) == '"' || next == '\\')
				c = next;
			else
				lungetc(next);
		}
		if (c == '\0') {
			lex_error("NUL byte in a string");
			skip_line();
			return ERROR;
		}
		if (len + 1 >= sizeof(ps.buf)) {
			lex_error("string too long (at most %zu bytes)",
			    sizeof(ps.buf) - 1);
			skip_line();
			return ERROR;
		}
		ps.buf[len++] = (char)c;
	}
	ps.buf[len] = '\0';
	return keep_string(1);
}

static int
lex_word(int c, int bol)
{
	size_t	len = 0;
	int	tok;

	do {
		if (len + 1 >= sizeof(ps.buf)) {
			lex_error("word too long (at most %zu bytes)",
			    sizeof(ps.buf) - 1);
			skip_line();
			return ERROR;
		}
		ps.buf[len++] = (char)c;
	} while (is_word(c = lgetc()));
	lungetc(c);
	ps.buf[len] = '\0';
	/* keywords open a line ("port" is the one inside): "agent" is a value */
	if ((tok = lookup(ps.buf)) != STRING && (bol || tok == PORT))
		return tok;
	if (bol) {
		/* a word opening a line is a keyword, or names a block */
		while (is_blank(c = lgetc()))
			;
		lungetc(c);
		if (c != '{') {
			lex_error("unknown keyword \"%s\"", ps.buf);
			skip_line();
			return ERROR;
		}
	}
	return keep_string(0);
}

static int
lex(void)
{
	struct file	*f;
	int		 c, bol;

	if (ps.close_pending) {
		ps.close_pending = 0;
		yylval.lineno = ps.file->f_lineno;
		return '\n';
	}
 again:
	if (ps.pending != NULL && ps.last_tok == '\n') {
		ps.file = ps.pending;
		ps.pending = NULL;
		ps.bol = 1;
	}
	f = ps.file;
	while (is_blank(c = lgetc()))
		;
	if (c == '#')
		while ((c = lgetc()) != '\n' && c != EOF)
			;
	yylval.lineno = f->f_lineno;

	if (c == EOF) {
		if (!ps.bol) {
			/* the last line had no '\n' */
			ps.bol = 1;
			return '\n';
		}
		if (ps.in_block && !ps.close_faked &&
		    (ps.block_file == f || f->f_parent == NULL)) {
			conf_error(ps.block_file, ps.block_line,
			    "%s: missing \"}\" at the end of the block",
			    ps.block_label);
			ps.close_faked = 1;
			ps.close_pending = 1;
			ps.stmt_file = f;
			ps.stmt_line = f->f_lineno;
			return '}';
		}
		if (ferror(f->f_fp))
			conf_error(f, 0, "read error");
		if (f->f_parent == NULL)
			return 0;
		file_close(f);
		ps.file = f->f_parent;
		goto again;
	}
	if (c == '\n') {
		f->f_lineno++;
		ps.bol = 1;
		return '\n';
	}

	bol = ps.bol;
	ps.bol = 0;
	if (bol) {
		ps.stmt_file = f;
		ps.stmt_line = f->f_lineno;
	}
	if (c == '{' || c == '}')
		return c;
	if (c == '"')
		return lex_quoted();
	if (!is_word(c)) {
		lex_error("invalid character 0x%02x", (unsigned int)c);
		skip_line();
		return ERROR;
	}
	return lex_word(c, bol);
}

static int
yylex(void)
{
	ps.last_tok = lex();
	return ps.last_tok;
}

static struct conf *
parse(FILE *fp, const char *name, struct conf_errors *errs)
{
	struct conf	*c;
	struct file	*top, *f, *fnext;
	struct strnode	*s, *snext;
	char		*copy;

	memset(&ps, 0, sizeof(ps));
	ps.errs = errs;
	/*
	 * What names the file system is looked at by the supervisor (mcpd
	 * -n, start, reload), not by a child re-reading the text it sent.
	 */
	ps.check_fs = fp == NULL && conf_check_paths;
	if (errs != NULL)
		errs->e_count = 0;
	if (name == NULL)
		name = "-";
	if ((copy = strdup(name)) == NULL || (top = file_new(copy)) == NULL ||
	    (ps.conf = calloc(1, sizeof(*ps.conf))) == NULL) {
		/* no file to blame yet: say it here */
		if (errs != NULL && errs->e_count++ == 0)
			snprintf(errs->e_msg[0], sizeof(errs->e_msg[0]),
			    "%s: out of memory", name);
		ps.nerrors++;
		if (ps.files == NULL)
			free(copy);
		goto done;
	}
	ps.file = top;
	conf_defaults(ps.conf);
	if (strlen(name) >= sizeof(ps.conf->c_file)) {
		conf_error(top, 0, "file name too long (at most %zu bytes)",
		    sizeof(ps.conf->c_file) - 1);
		goto done;
	}
	memcpy(ps.conf->c_file, name, strlen(name) + 1);
	if (fp != NULL)
		top->f_fp = fp;
	else if (file_open(top) == -1) {
		conf_error(top, 0, "cannot open: %s", strerror(errno));
		goto done;
	}

	ps.bol = 1;
	ps.last_tok = '\n';
	if (yyparse() != 0 && ps.nerrors == 0)
		conf_error(top, 0, "cannot parse");
	check_conf(top);
	if (ps.nerrors == 0 && ps.check_fs)
		check_paths();

 done:
	for (f = ps.files; f != NULL; f = fnext) {
		fnext = f->f_next;
		file_close(f);
		free(f->f_name);
		free(f);
	}
	for (s = ps.strings; s != NULL; s = snext) {
		snext = s->s_next;
		free(s);
	}
	/* a block the parse did not close */
	conf_tool_free(&ps.tool);
	conf_resource_free(&ps.res);
	conf_prompt_free(&ps.prompt);
	c = ps.conf;
	if (ps.nerrors != 0)
		conf_free(&c);
	memset(&ps, 0, sizeof(ps));
	return c;
}

int	conf_check_paths = 1;

struct conf *
conf_parse(const char *path, struct conf_errors *errs)
{
	return parse(NULL, path, errs);
}

struct conf *
conf_parse_file(FILE *fp, const char *name, struct conf_errors *errs)
{
	return parse(fp, name, errs);
}
