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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mcpd.h"

#define LEX_TOKEN_MAX		4096	/* bytes in one word or string */
#define LEX_UNGET_MAX		4	/* the lexer peeks one character */
#define DURATION_MAX_MS		(24UL * 60 * 60 * 1000)	/* 24h */
#define MAX_CONNECTIONS_MAX	10000000
#define WORKER_CONNECTIONS_MAX	1000000
#define RESTART_INTENSITY_MAX	1000	/* < RS_HISTORY_MAX (restart.h) */
#define SUN_PATH_LEN		sizeof(((struct sockaddr_un *)0)->sun_path)
#define SESSION_TIMEOUT_MIN_MS	1000

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
	K_STRATEGY,
	K_RESTART_INTENSITY,
	K_RESTART_PERIOD,
	K_THROTTLE_MIN,
	K_THROTTLE_MAX,
	K_THROTTLE_RESET,
	K_READY_TIMEOUT,
	K_DRAIN_TIMEOUT,
	K_AUTO_SHUTDOWN,
	K_MCP_PATH,
	K_MAX_HEADER_SIZE,
	K_MAX_BODY_SIZE,
	K_HEADER_TIMEOUT,
	K_BODY_TIMEOUT,
	K_IDLE_TIMEOUT,
	K_SESSION_TIMEOUT,
	K_SSE_KEEPALIVE,
	K_MAX
};

enum spec_key {
	SK_RESTART,
	SK_SHUTDOWN_TIMEOUT,
	SK_SIGNIFICANT,
	SK_MAX
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

	char			 buf[LEX_TOKEN_MAX];
} ps;

struct strnode {
	struct strnode	*s_next;
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
static void	 set_duration_min(enum key, const char *, uint32_t,
		    uint32_t *);
static void	 set_size(enum key, const char *, uint32_t, uint32_t,
		    uint32_t *);
static void	 set_mcp_path(const char *);
static void	 add_allow(int, const char *);
static void	 add_plugin(const char *, const char *);
static void	 spec_item(enum spec_key, const char *, const char *);
static void	 include_file(const char *);
static void	 add_listener(const char *, const char *, const char *);
static void	 block_open(int);
static void	 block_close(void);

static const char *const key_names[K_MAX] = {
	[K_WORKERS] =			"workers",
	[K_MAX_CONNECTIONS] =		"max-connections",
	[K_WORKER_CONNECTIONS] =	"worker-connections",
	[K_PIDFILE] =			"pidfile",
	[K_CONTROL_SOCKET] =		"control-socket",
	[K_LOG_FILE] =			"log-file",
	[K_STRATEGY] =			"strategy",
	[K_RESTART_INTENSITY] =		"restart-intensity",
	[K_RESTART_PERIOD] =		"restart-period",
	[K_THROTTLE_MIN] =		"throttle-min",
	[K_THROTTLE_MAX] =		"throttle-max",
	[K_THROTTLE_RESET] =		"throttle-reset",
	[K_READY_TIMEOUT] =		"ready-timeout",
	[K_DRAIN_TIMEOUT] =		"drain-timeout",
	[K_AUTO_SHUTDOWN] =		"auto-shutdown",
	[K_MCP_PATH] =			"mcp-path",
	[K_MAX_HEADER_SIZE] =		"max-header-size",
	[K_MAX_BODY_SIZE] =		"max-body-size",
	[K_HEADER_TIMEOUT] =		"header-timeout",
	[K_BODY_TIMEOUT] =		"body-timeout",
	[K_IDLE_TIMEOUT] =		"idle-timeout",
	[K_SESSION_TIMEOUT] =		"session-timeout",
	[K_SSE_KEEPALIVE] =		"sse-keepalive"
};
%}

%token	INCLUDE WORKERS MAXCONNECTIONS WORKERCONNECTIONS PIDFILE
%token	CONTROLSOCKET LOGFILE STRATEGY RESTARTINTENSITY RESTARTPERIOD
%token	THROTTLEMIN THROTTLEMAX THROTTLERESET READYTIMEOUT DRAINTIMEOUT
%token	AUTOSHUTDOWN LISTEN PORT WORKER AGENT RUNNER RESTART SHUTDOWNTIMEOUT
%token	SIGNIFICANT PLUGIN MCPPATH SESSIONTIMEOUT MAXBODYSIZE MAXHEADERSIZE
%token	HEADERTIMEOUT BODYTIMEOUT IDLETIMEOUT SSEKEEPALIVE ALLOWHOST
%token	ALLOWORIGIN ERROR
%token	<v.string>	STRING
%type	<v.number>	role

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
			add_listener($2, $3, $5);
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
		| SSEKEEPALIVE STRING		{
			set_duration(K_SSE_KEEPALIVE, $2,
			    &ps.conf->c_sse_keepalive_ms);
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
		;

%%

struct keywords {
	const char	*k_name;
	int		 k_val;
};

/* Sorted for bsearch(). */
static const struct keywords keywords[] = {
	{ "agent",		AGENT },
	{ "allow-host",		ALLOWHOST },
	{ "allow-origin",	ALLOWORIGIN },
	{ "auto-shutdown",	AUTOSHUTDOWN },
	{ "body-timeout",	BODYTIMEOUT },
	{ "control-socket",	CONTROLSOCKET },
	{ "drain-timeout",	DRAINTIMEOUT },
	{ "header-timeout",	HEADERTIMEOUT },
	{ "idle-timeout",	IDLETIMEOUT },
	{ "include",		INCLUDE },
	{ "listen",		LISTEN },
	{ "log-file",		LOGFILE },
	{ "max-body-size",	MAXBODYSIZE },
	{ "max-connections",	MAXCONNECTIONS },
	{ "max-header-size",	MAXHEADERSIZE },
	{ "mcp-path",		MCPPATH },
	{ "pidfile",		PIDFILE },
	{ "plugin",		PLUGIN },
	{ "port",		PORT },
	{ "ready-timeout",	READYTIMEOUT },
	{ "restart",		RESTART },
	{ "restart-intensity",	RESTARTINTENSITY },
	{ "restart-period",	RESTARTPERIOD },
	{ "runner",		RUNNER },
	{ "session-timeout",	SESSIONTIMEOUT },
	{ "shutdown-timeout",	SHUTDOWNTIMEOUT },
	{ "significant",	SIGNIFICANT },
	{ "sse-keepalive",	SSEKEEPALIVE },
	{ "strategy",		STRATEGY },
	{ "throttle-max",	THROTTLEMAX },
	{ "throttle-min",	THROTTLEMIN },
	{ "throttle-reset",	THROTTLERESET },
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

/* An error about the statement being parsed (grammar actions). */
static void
stmt_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
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
	char		 val[CONF_HOST_MAX > CONF_ORIGIN_MAX ? CONF_HOST_MAX :
			    CONF_ORIGIN_MAX];
	char		 wbuf[CONF_PATH_MAX + 32];
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
	char			 abs[CONF_PATH_MAX];
	char			 wbuf[CONF_PATH_MAX + 32];
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

	if (!ps.in_block) {
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

static void
add_listener(const char *kind, const char *addr, const char *port)
{
	const char		*kinds[] = {
		conf_listen_kind_name(LISTEN_HTTP),
		conf_listen_kind_name(LISTEN_ADMIN)
	};
	struct conf		*c = ps.conf;
	struct conf_listener	*l;
	struct in6_addr		 bin;
	char			 canon[CONF_ADDR_MAX];
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
	l->l_line = 0;
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
keep_string(void)
{
	struct strnode	*n;
	size_t		 len = strlen(ps.buf) + 1;

	if ((n = malloc(sizeof(*n) + len)) == NULL) {
		lex_error("out of memory");
		skip_line();
		return ERROR;
	}
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
	return keep_string();
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
	return keep_string();
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
	c = ps.conf;
	if (ps.nerrors != 0)
		conf_free(&c);
	memset(&ps, 0, sizeof(ps));
	return c;
}

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
