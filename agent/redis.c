/*
 * redis.c -- the node's one link to Redis (DESIGN 9): a command
 * connection to the primary, on the agent's libev loop (hiredis's
 * adapter), with what hiredis 0.14 lacks -- timeouts and Sentinel.
 *
 * The primary is the cluster block's "redis", or the one the Sentinels
 * name for master-name (SENTINEL get-master-addr-by-name, asked of each
 * sentinel in turn); either way it must say it is a master (ROLE) before
 * it is used, so a node never writes to a replica a failover left behind.
 * Then AUTH (redis-user, redis-password-file) and CLIENT SETNAME go first.
 *
 * Replies come in order, so the oldest command in flight is the one a
 * deadline (redis-timeout) is checked on; one late, a connect that does
 * not complete, or a connection closed, and the link is down: every
 * command in flight fails (its callback gets NULL), and the link is made
 * again -- through the Sentinels again -- after a pause that doubles from
 * REDIS_RETRY_MIN_MS to REDIS_RETRY_MAX_MS.  Commands while it is down,
 * or beyond REDIS_INFLIGHT_MAX waiting, fail at once: the caller decides
 * (the agent answers 503 upstream).  A second connection SUBSCRIBEs to
 * the node's channels (redis_subscribe); it goes and comes with the link.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libev.h>
#include <sodium.h>

#include "agent.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "tokens.h"
#include "util.h"

#define REDIS_RETRY_MIN_MS	100	/* the first pause before a retry */
#define REDIS_RETRY_MAX_MS	5000	/* pauses double up to this */
/*
 * A primary that refuses writes for want of replicas (its
 * min-replicas-to-write) makes us ask the Sentinels again, at most once
 * in this long of a link: a failover may have left it on the other side
 * of a partition
 */
#define REDIS_NOREPLICAS_RECHECK_MS 5000
#define REDIS_PASSWORD_MAX_BYTES 512	/* redis-password-file */
#define REDIS_DOWN_LOG_SECS	60	/* "still down", at most this often */
#define REDIS_INFLIGHT_MAX	65536	/* commands waiting: more are refused */

enum rl_state {
	RL_DOWN,	/* waiting to try again */
	RL_SENTINEL,	/* asking a sentinel where the primary is */
	RL_CONNECTING,	/* to the primary, AUTH, ROLE */
	RL_UP
};

struct rcmd {
	TAILQ_ENTRY(rcmd)	 c_entry;
	redis_reply_fn		 c_fn;
	void			*c_arg;
	uint64_t		 c_sent_us;
	int			 c_internal;	/* ours: ROLE, AUTH */
};
TAILQ_HEAD(rcmdlist, rcmd);

static struct {
	struct ev_loop		*loop;
	struct conf_cluster	 cl;		/* a copy; its strings not */
	char			*password;	/* NULL: no AUTH */
	const struct redis_ops	*ops;
	enum rl_state		 state;
	redisAsyncContext	*ac;		/* the primary's */
	redisAsyncContext	*sac;		/* a sentinel's, asked */
	redisAsyncContext	*sub;		/* the primary's, SUBSCRIBEd */
	/* what sub listens to */
	char			 channel[REDIS_CHANNELS_MAX][128];
	size_t			 nchannels;
	redis_message_fn	 on_message;
	int			 sub_ok;	/* SUBSCRIBE confirmed */
	struct rcmdlist		 inflight;	/* on ac, oldest first */
	uint32_t		 ninflight;
	uint32_t		 next_sentinel;
	char			 host[CONF_REDIS_HOST_MAX_BYTES];
	uint16_t		 port;
	ev_timer		 deadline;	/* connect, sentinel, command */
	ev_timer		 retry;
	uint32_t		 backoff_ms;
	uint64_t		 step_us;	/* the connect or ask began */
	uint64_t		 up_us;		/* the link came up */
	time_t			 down_since;
	time_t			 down_logged;
	int			 ever_up;
	char			 why[160];	/* the last failure */
	struct mx_cluster	*mx;		/* the scoreboard's, or local */
	struct mx_cluster	 local;
} L;

static void	link_try(void);
static void	sub_connect(void);
static void	link_lost(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

static void
gauges(void)
{
	char		p[sizeof(L.mx->c_primary)];
	unsigned	i;
	uint64_t	w;

	MX_SET(&L.mx->c_up, L.state == RL_UP);
	MX_SET(&L.mx->c_inflight, L.ninflight);
	MX_SET(&L.mx->c_down_since_ms, L.state == RL_UP ? 0 :
	    (uint64_t)L.down_since * 1000);
	memset(p, 0, sizeof(p));
	if (L.host[0] != '\0')
		snprintf(p, sizeof(p), "%.*s:%u", (int)sizeof(p) - 7, L.host,
		    (unsigned)L.port);
	for (i = 0; i < sizeof(p) / sizeof(w); i++) {
		memcpy(&w, p + i * sizeof(w), sizeof(w));
		MX_SET(&L.mx->c_primary[i], w);
	}
}

/* the deadline of what we wait for now, or none */
static void
deadline_arm(void)
{
	uint64_t	 since = 0, now = now_us(), due;
	struct rcmd	*c;

	ev_timer_stop(L.loop, &L.deadline);
	if (L.state == RL_SENTINEL || L.state == RL_CONNECTING)
		since = L.step_us;
	if ((c = TAILQ_FIRST(&L.inflight)) != NULL &&
	    (since == 0 || c->c_sent_us < since))
		since = c->c_sent_us;
	if (since == 0)
		return;
	due = since + (uint64_t)L.cl.cl_redis_timeout_ms * 1000;
	ev_timer_set(&L.deadline, due > now ? (double)(due - now) / 1e6 :
	    0.001, 0.);
	ev_timer_start(L.loop, &L.deadline);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	uint64_t	 limit = (uint64_t)L.cl.cl_redis_timeout_ms * 1000;
	uint64_t	 now = now_us();
	struct rcmd	*c;

	if ((L.state == RL_SENTINEL || L.state == RL_CONNECTING) &&
	    now - L.step_us >= limit) {
		MX_ADD(&L.mx->c_timeouts, 1);
		link_lost("%s %s:%u: no answer in %u ms", L.state ==
		    RL_SENTINEL ? "sentinel" : "redis", L.host, L.port,
		    L.cl.cl_redis_timeout_ms);
		return;
	}
	if ((c = TAILQ_FIRST(&L.inflight)) != NULL &&
	    now - c->c_sent_us >= limit) {
		MX_ADD(&L.mx->c_timeouts, 1);
		link_lost("redis %s:%u: a command had no answer in %u ms",
		    L.host, L.port, L.cl.cl_redis_timeout_ms);
		return;
	}
	deadline_arm();
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	link_try();
}

/*
 * The link is down: every command in flight fails, the connections go,
 * and we try again after a pause.
 */
static void
link_lost(const char *fmt, ...)
{
	redisAsyncContext	*ac = L.ac, *sac = L.sac, *sub = L.sub;
	va_list			 ap;
	time_t			 now = time(NULL);
	int			 was_up = L.state == RL_UP;

	va_start(ap, fmt);
	vsnprintf(L.why, sizeof(L.why), fmt, ap);
	va_end(ap);
	L.state = RL_DOWN;
	L.ac = L.sac = L.sub = NULL;
	L.sub_ok = 0;
	ev_timer_stop(L.loop, &L.deadline);
	/* their callbacks see NULL replies and a context not ours */
	if (sac != NULL)
		redisAsyncFree(sac);
	if (sub != NULL)
		redisAsyncFree(sub);
	if (ac != NULL)
		redisAsyncFree(ac);
	if (was_up) {
		L.down_since = now;
		L.down_logged = now;
		MX_ADD(&L.mx->c_lost, 1);
		log_warnx("cluster: %s; the shared state is out of reach "
		    "until it is back", L.why);
		if (L.ops->ro_down != NULL)
			L.ops->ro_down();
	} else if (L.down_logged == 0 ||
	    now - L.down_logged >= REDIS_DOWN_LOG_SECS) {
		L.down_logged = now;
		log_warnx("cluster: redis out of reach (%lld s): %s; trying "
		    "again", (long long)(now - L.down_since), L.why);
	}
	gauges();
	ev_timer_set(&L.retry, L.backoff_ms / 1000.0, 0.);
	ev_timer_start(L.loop, &L.retry);
	L.backoff_ms = L.backoff_ms * 2 > REDIS_RETRY_MAX_MS ?
	    REDIS_RETRY_MAX_MS : L.backoff_ms * 2;
}

/* one of our commands answered (r NULL: failed, or the link went) */
static void
reply_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct rcmd	*c = priv;
	uint64_t	 rtt;

	if (c == NULL)
		return;
	TAILQ_REMOVE(&L.inflight, c, c_entry);
	L.ninflight--;
	if (r != NULL) {
		rtt = now_us() - c->c_sent_us;
		mx_hist_add(&L.mx->c_rtt, rtt);
	}
	if (ac == L.ac)
		deadline_arm();
	gauges();
	if (c->c_fn != NULL)
		c->c_fn(r, c->c_arg);
	free(c);
	/*
	 * A primary that a failover made a replica (the connection stayed
	 * open): find the new one, through the Sentinels again
	 */
	if (r == NULL || ac != L.ac || L.state != RL_UP ||
	    ((const redisReply *)r)->type != REDIS_REPLY_ERROR)
		return;
	if (strncmp(((const redisReply *)r)->str, "READONLY", 8) == 0)
		link_lost("redis %s:%u is a replica now (READONLY)", L.host,
		    L.port);
	/*
	 * One that refuses writes for want of replicas: with Sentinels, it
	 * may be a primary a failover left behind a partition (the others
	 * write to the new one): ask them again, not too often
	 */
	else if (L.cl.cl_nsentinels > 0 && strstr(((const redisReply *)r)->str,
	    "NOREPLICAS") != NULL &&
	    now_us() - L.up_us >= REDIS_NOREPLICAS_RECHECK_MS * 1000ULL)
		link_lost("redis %s:%u refuses writes (NOREPLICAS): asking the "
		    "Sentinels which is the primary", L.host, L.port);
}

static int
send_argv(redis_reply_fn fn, void *arg, int argc, const char **argv,
    const size_t *lens)
{
	struct rcmd *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->c_fn = fn;
	c->c_arg = arg;
	c->c_sent_us = now_us();
	if (redisAsyncCommandArgv(L.ac, reply_cb, c, argc, argv, lens) !=
	    REDIS_OK) {
		free(c);
		return -1;
	}
	TAILQ_INSERT_TAIL(&L.inflight, c, c_entry);
	L.ninflight++;
	MX_ADD(&L.mx->c_commands, 1);
	if (TAILQ_FIRST(&L.inflight) == c)
		deadline_arm();
	gauges();
	return 0;
}

int
redis_cmd(redis_reply_fn fn, void *arg, int argc, const char **argv,
    const size_t *lens)
{
	if (L.state != RL_UP || L.ac == NULL ||
	    L.ninflight >= REDIS_INFLIGHT_MAX) {
		MX_ADD(&L.mx->c_refused, 1);
		return -1;
	}
	return send_argv(fn, arg, argc, argv, lens);
}

int
redis_up(void)
{
	return L.state == RL_UP;
}

/* ROLE: the last of the set-up; a master is what we want */
static void
role_cb(const redisReply *r, void *arg)
{
	if (r == NULL || L.state != RL_CONNECTING)
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "master") != 0) {
		link_lost("redis %s:%u is not a master (%s)", L.host, L.port,
		    r->type == REDIS_REPLY_ERROR ? r->str : "ROLE says "
		    "replica or sentinel");
		return;
	}
	L.state = RL_UP;
	L.up_us = now_us();
	L.backoff_ms = REDIS_RETRY_MIN_MS;
	MX_ADD(&L.mx->c_connects, 1);
	deadline_arm();
	gauges();
	if (L.ever_up)
		log_info("cluster: redis %s:%u is back after %lld s", L.host,
		    L.port, (long long)(time(NULL) - L.down_since));
	else
		log_info("cluster: redis %s:%u is the primary", L.host,
		    L.port);
	L.down_since = 0;
	L.ever_up = 1;
	if (L.nchannels > 0)
		sub_connect();
	if (L.ops->ro_up != NULL)
		L.ops->ro_up();
}

/* the subscriber: its messages, its confirmation, its end */
static void
sub_cb(redisAsyncContext *ac, void *rv, void *priv)
{
	const redisReply *r = rv;

	if (ac != L.sub)
		return;
	if (r == NULL) {
		L.sub = NULL;		/* going: hiredis frees it */
		link_lost("redis %s:%u: the subscriber's connection went",
		    L.host, L.port);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		link_lost("redis %s:%u: SUBSCRIBE: %s", L.host, L.port,
		    r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(r->element[0]->str, "subscribe") == 0) {
		L.sub_ok = 1;
		return;
	}
	if (strcmp(r->element[0]->str, "message") == 0 &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    r->element[2]->type == REDIS_REPLY_STRING && L.on_message != NULL)
		L.on_message(r->element[1]->str, r->element[2]->str,
		    r->element[2]->len);
}

static void
sub_auth_cb(redisAsyncContext *ac, void *rv, void *priv)
{
	const redisReply *r = rv;

	if (ac != L.sub || r == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR)
		link_lost("redis %s:%u: the subscriber's AUTH: %s", L.host,
		    L.port, r->str);
}

static void
sub_disconnect_cb(const redisAsyncContext *ac, int status)
{
	if (ac != L.sub)
		return;
	L.sub = NULL;
	link_lost("redis %s:%u closed the subscriber's connection", L.host,
	    L.port);
}

/*
 * A second connection to the primary, only to SUBSCRIBE (a connection in
 * that mode takes no other command); it goes and comes with the link.
 */
static void
sub_connect(void)
{
	const char	*argv[REDIS_CHANNELS_MAX + 1] = { "SUBSCRIBE" };
	size_t		 lens[REDIS_CHANNELS_MAX + 1] = { 9 };
	size_t		 i;

	if ((L.sub = redisAsyncConnect(L.host, L.port)) == NULL ||
	    L.sub->err != 0) {
		char e[128];

		/* its text, before the context goes */
		snprintf(e, sizeof(e), "%s", L.sub != NULL ? L.sub->errstr :
		    "out of memory");
		if (L.sub != NULL)
			redisAsyncFree(L.sub);
		L.sub = NULL;
		link_lost("redis %s:%u: the subscriber: %s", L.host, L.port, e);
		return;
	}
	redisLibevAttach(L.loop, L.sub);
	redisAsyncSetDisconnectCallback(L.sub, sub_disconnect_cb);
	if (L.password != NULL) {
		if (L.cl.cl_redis_user[0] != '\0')
			redisAsyncCommand(L.sub, sub_auth_cb, NULL,
			    "AUTH %s %s", L.cl.cl_redis_user, L.password);
		else
			redisAsyncCommand(L.sub, sub_auth_cb, NULL, "AUTH %s",
			    L.password);
	}
	for (i = 0; i < L.nchannels; i++) {
		argv[i + 1] = L.channel[i];
		lens[i + 1] = strlen(L.channel[i]);
	}
	redisAsyncCommandArgv(L.sub, sub_cb, NULL, (int)L.nchannels + 1, argv,
	    lens);
}

void
redis_subscribe(const char *const *names, size_t n, redis_message_fn fn)
{
	size_t i;

	if (n > REDIS_CHANNELS_MAX)
		fatalx("redis_subscribe: %zu channels", n);
	for (i = 0; i < n; i++)
		if ((size_t)snprintf(L.channel[i], sizeof(L.channel[i]), "%s",
		    names[i]) >= sizeof(L.channel[i]))
			fatalx("redis_subscribe: a channel's name too long");
	L.nchannels = n;
	L.on_message = fn;
}

static void
setup_cb(const redisReply *r, void *arg)
{
	const char *what = arg;

	if (r == NULL || L.state != RL_CONNECTING)
		return;
	if (r->type == REDIS_REPLY_ERROR)
		link_lost("redis %s:%u: %s: %s", L.host, L.port, what, r->str);
}

static void
connect_cb(const redisAsyncContext *ac, int status)
{
	if (ac != L.ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees it after we return */
		L.ac = NULL;
		link_lost("redis %s:%u: %s", L.host, L.port, ac->errstr);
	}
}

static void
disconnect_cb(const redisAsyncContext *ac, int status)
{
	if (ac != L.ac)
		return;
	L.ac = NULL;		/* hiredis frees it */
	link_lost("redis %s:%u closed the connection%s%s", L.host, L.port,
	    status != REDIS_OK ? ": " : "", status != REDIS_OK ?
	    ac->errstr : "");
}

/* connect to L.host:L.port, then AUTH, CLIENT SETNAME, ROLE */
static void
primary_connect(void)
{
	const char	*argv[3];
	size_t		 lens[3];
	char		 name[CONF_NODE_MAX_BYTES + 8];
	int		 n = 0;

	L.state = RL_CONNECTING;
	L.step_us = now_us();
	if ((L.ac = redisAsyncConnect(L.host, L.port)) == NULL ||
	    L.ac->err != 0) {
		char e[128];

		/* its text, before the context goes */
		snprintf(e, sizeof(e), "%s", L.ac != NULL ? L.ac->errstr :
		    "out of memory");
		if (L.ac != NULL)
			redisAsyncFree(L.ac);
		L.ac = NULL;
		link_lost("redis %s:%u: %s", L.host, L.port, e);
		return;
	}
	redisLibevAttach(L.loop, L.ac);
	redisAsyncSetConnectCallback(L.ac, connect_cb);
	redisAsyncSetDisconnectCallback(L.ac, disconnect_cb);
	if (L.password != NULL) {
		argv[n] = "AUTH";
		lens[n++] = 4;
		if (L.cl.cl_redis_user[0] != '\0') {
			argv[n] = L.cl.cl_redis_user;
			lens[n] = strlen(argv[n]);
			n++;
		}
		argv[n] = L.password;
		lens[n] = strlen(argv[n]);
		n++;
		send_argv(setup_cb, "AUTH", n, argv, lens);
	}
	snprintf(name, sizeof(name), "mcpd-%s", L.cl.cl_node);
	argv[0] = "CLIENT";
	argv[1] = "SETNAME";
	argv[2] = name;
	lens[0] = 6;
	lens[1] = 7;
	lens[2] = strlen(name);
	send_argv(setup_cb, "CLIENT SETNAME", 3, argv, lens);
	argv[0] = "ROLE";
	lens[0] = 4;
	send_argv(role_cb, NULL, 1, argv, lens);
	deadline_arm();
}

/* a sentinel's answer: [host, port] of the primary, or nil */
static void
sentinel_cb(redisAsyncContext *ac, void *rv, void *priv)
{
	const redisReply	*r = rv;
	const struct conf_redis_addr *sa = priv;
	long			 port;
	char			*end;

	if (ac != L.sac || L.state != RL_SENTINEL)
		return;
	if (r == NULL) {
		L.sac = NULL;	/* going: hiredis frees it */
		link_lost("sentinel %s:%u: %s", sa->ra_host, sa->ra_port,
		    ac->errstr[0] != '\0' ? ac->errstr : "no answer");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len == 0 ||
	    r->element[0]->len >= sizeof(L.host)) {
		link_lost("sentinel %s:%u knows no master \"%s\"%s%s",
		    sa->ra_host, sa->ra_port, L.cl.cl_master_name,
		    r->type == REDIS_REPLY_ERROR ? ": " : "",
		    r->type == REDIS_REPLY_ERROR ? r->str : "");
		return;
	}
	port = strtol(r->element[1]->str, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		link_lost("sentinel %s:%u: a bad port \"%s\"", sa->ra_host,
		    sa->ra_port, r->element[1]->str);
		return;
	}
	memcpy(L.host, r->element[0]->str, r->element[0]->len + 1);
	L.port = (uint16_t)port;
	L.sac = NULL;
	redisAsyncDisconnect(ac);	/* in its callback: after it */
	primary_connect();
}

static void
sentinel_connect_cb(const redisAsyncContext *ac, int status)
{
	if (ac != L.sac || status == REDIS_OK)
		return;
	L.sac = NULL;
	link_lost("sentinel %s:%u: %s", L.host, L.port, ac->errstr);
}

static void
sentinel_ask(void)
{
	const struct conf_redis_addr *sa;

	sa = &L.cl.cl_sentinels[L.next_sentinel++ % L.cl.cl_nsentinels];
	L.state = RL_SENTINEL;
	L.step_us = now_us();
	snprintf(L.host, sizeof(L.host), "%s", sa->ra_host);
	L.port = sa->ra_port;
	if ((L.sac = redisAsyncConnect(sa->ra_host, sa->ra_port)) == NULL ||
	    L.sac->err != 0) {
		char e[128];

		/* its text, before the context goes */
		snprintf(e, sizeof(e), "%s", L.sac != NULL ? L.sac->errstr :
		    "out of memory");
		if (L.sac != NULL)
			redisAsyncFree(L.sac);
		L.sac = NULL;
		link_lost("sentinel %s:%u: %s", sa->ra_host, sa->ra_port, e);
		return;
	}
	redisLibevAttach(L.loop, L.sac);
	redisAsyncSetConnectCallback(L.sac, sentinel_connect_cb);
	if (redisAsyncCommand(L.sac, sentinel_cb, (void *)sa,
	    "SENTINEL get-master-addr-by-name %s", L.cl.cl_master_name) !=
	    REDIS_OK) {
		link_lost("sentinel %s:%u: cannot ask", sa->ra_host,
		    sa->ra_port);
		return;
	}
	deadline_arm();
}

static void
link_try(void)
{
	if (L.state != RL_DOWN)
		return;
	if (L.cl.cl_nsentinels > 0)
		sentinel_ask();
	else {
		snprintf(L.host, sizeof(L.host), "%s", L.cl.cl_redis.ra_host);
		L.port = L.cl.cl_redis.ra_port;
		primary_connect();
	}
}

/* the password, read as mcpd's user (the supervisor checked it exists) */
static void
password_load(const char *path)
{
	char	err[CONF_PATH_MAX_BYTES + 64], *buf;
	size_t	len;

	if (file_read(path, REDIS_PASSWORD_MAX_BYTES, &buf, &len, err,
	    sizeof(err)) == -1) {
		log_warnx("cluster: redis-password-file: %s: connecting "
		    "without AUTH", err);
		return;
	}
	if (client_secret_trim(buf, len) == 0) {
		log_warnx("cluster: redis-password-file: %s: not one line of "
		    "printable ASCII; connecting without AUTH", path);
		sodium_memzero(buf, len);
		free(buf);
		return;
	}
	L.password = buf;
}

void
redis_init(struct ev_loop *loop, const struct conf_cluster *cl,
    const struct redis_ops *ops, struct mx_cluster *mx)
{
	L.loop = loop;
	L.cl = *cl;
	L.cl.cl_password_file = L.cl.cl_key_file = NULL;
	L.ops = ops;
	L.mx = mx != NULL ? mx : &L.local;
	MX_SET(&L.mx->c_enabled, 1);
	L.state = RL_DOWN;
	L.backoff_ms = REDIS_RETRY_MIN_MS;
	L.down_since = time(NULL);
	L.down_logged = 0;		/* the first failure is said */
	TAILQ_INIT(&L.inflight);
	ev_timer_init(&L.deadline, deadline_cb, 1., 0.);
	ev_timer_init(&L.retry, retry_cb, 1., 0.);
	if (cl->cl_password_file != NULL)
		password_load(cl->cl_password_file);
	gauges();
	link_try();
}

const char *
redis_why(void)
{
	return L.state == RL_UP ? "" : L.why;
}

/* the same link, a new configuration: what is read at each use */
void
redis_reconf(const struct conf_cluster *cl)
{
	L.cl = *cl;
	L.cl.cl_password_file = L.cl.cl_key_file = NULL;
}

void
redis_close(void)
{
	redisAsyncContext *ac = L.ac, *sac = L.sac, *sub = L.sub;

	L.state = RL_DOWN;
	L.ac = L.sac = L.sub = NULL;
	L.sub_ok = 0;
	if (sub != NULL)
		redisAsyncFree(sub);
	ev_timer_stop(L.loop, &L.deadline);
	ev_timer_stop(L.loop, &L.retry);
	if (sac != NULL)
		redisAsyncFree(sac);
	if (ac != NULL)
		redisAsyncFree(ac);
	if (L.password != NULL) {
		sodium_memzero(L.password, strlen(L.password));
		free(L.password);
		L.password = NULL;
	}
}
