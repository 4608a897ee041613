/*
 * worker.c -- a worker process: it accepts client connections within its
 * limits and starts the HTTP service (conn.c and its neighbours) and the
 * MCP engine with the catalog and plugins of the configuration.
 *
 * An HTTP listener is a SO_REUSEPORT group the supervisor holds (see
 * supervisor/proc.c): each worker watches its own socket of the group and
 * looks at the next worker's queue QUEUE_CHECK_MS apart (standby), so a
 * socket whose worker is dead, full or throttled is still served, and
 * what nobody can take is answered 503 rather than left waiting.  A new
 * connection over a limit -- max-connections across the node (from the
 * scoreboard), max-connections-per-address, accept-rate, the emergency
 * tier's shedding -- is read, answered 503 and closed.  The per-address
 * counts and the rate buckets of initialize-rate and request-rate live
 * here, bounded.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "scoreboard.h"
#include "util.h"
#include "registry.h"
#include "worker.h"

static struct worker	 the_worker;
struct worker		*worker = &the_worker;

static void	listeners_watch(struct worker *, int);
static void	refuse(int, enum mx_reason, const char *);
static void	accept_cb(struct ev_loop *, ev_io *, int);

#define QUEUE_CHECK_MS		100	/* unwatched queues looked at */

/*
 * The sockets nobody watches: another worker's (standby: it is their
 * first taker, see supervisor/proc.c), and this worker's own at its cap.
 * A queue found non-empty twice QUEUE_CHECK_MS apart has no taker: this
 * worker serves it, or at its cap answers it 503 -- nobody waits for
 * nothing.  A killed worker's socket is served this way until its
 * successor is up; one shared socket woke every worker for every
 * connection (53 of them at 1M connections).
 */
static void
queue_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tcp_info	 ti;
	socklen_t	 len;
	uint32_t	 i, k;
	int		 fd;

	for (i = 0; i < worker->w_nlisteners; i++) {
		struct wlistener *l = &worker->w_listeners[i];

		if (!l->wl_standby && worker->w_accepting)
			continue;
		len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		/* a listening socket's tcpi_unacked is its queue's length */
		if (getsockopt(l->wl_fd, IPPROTO_TCP, TCP_INFO, &ti,
		    &len) == -1 || ti.tcpi_unacked == 0) {
			l->wl_waiting = 0;
			continue;
		}
		if (!l->wl_waiting++)
			continue;
		if (worker->w_conns < worker->w_cap &&
		    !ev_is_active(&worker->w_pause_to)) {
			accept_cb(loop, &l->wl_ev, EV_READ);
			continue;
		}
		for (k = 0; k < ti.tcpi_unacked && k < ACCEPT_BATCH; k++) {
			if ((fd = accept4(l->wl_fd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
				break;
			refuse(fd, MX_R_CONNECTIONS, "the workers of this "
			    "listening socket are full");
		}
	}
}

static void
pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (!worker->w_quitting)
		listeners_watch(worker, 1);
}

/* Connections of each client address, in this worker. */
#define ADDR_BUCKETS		4096
struct addr_count {
	struct addr_count	*a_next;
	unsigned char		 a_key[ADDR_KEY_BYTES];
	uint32_t		 a_n;
};
static struct addr_count	*addrs[ADDR_BUCKETS];

static unsigned
addr_hash(const unsigned char *k)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < ADDR_KEY_BYTES; i++)
		h = (h ^ k[i]) * 16777619u;
	return h % ADDR_BUCKETS;
}

static struct addr_count *
addr_find(const unsigned char *k, int make)
{
	struct addr_count	*a;
	unsigned		 b = addr_hash(k);

	for (a = addrs[b]; a != NULL; a = a->a_next)
		if (memcmp(a->a_key, k, ADDR_KEY_BYTES) == 0)
			return a;
	if (!make || (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	memcpy(a->a_key, k, ADDR_KEY_BYTES);
	a->a_next = addrs[b];
	addrs[b] = a;
	return a;
}

static void
addr_key(const struct sockaddr_storage *ss, unsigned char *k)
{
	memset(k, 0, ADDR_KEY_BYTES);
	if (ss->ss_family == AF_INET6)
		memcpy(k, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else if (ss->ss_family == AF_INET) {
		k[10] = k[11] = 0xff;
		memcpy(k + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

void
worker_addr_release(const unsigned char *k)
{
	struct addr_count	*a, **pp;
	unsigned		 b;

	if (worker->w_per_address == 0 || (a = addr_find(k, 0)) == NULL)
		return;
	if (--a->a_n > 0)
		return;
	b = addr_hash(k);
	for (pp = &addrs[b]; *pp != NULL; pp = &(*pp)->a_next)
		if (*pp == a) {
			*pp = a->a_next;
			break;
		}
	free(a);
}

/* count a connection handed over to us (no cap: it was accepted) */
void
worker_addr_take(int fd, unsigned char *k)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	struct addr_count	*a;

	memset(k, 0, ADDR_KEY_BYTES);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return;
	addr_key(&ss, k);
	if (worker->w_per_address != 0 && (a = addr_find(k, 1)) != NULL)
		a->a_n++;
}

/*
 * A connection over a limit: what it sent is read and dropped, it gets
 * 503 with Retry-After and is closed -- never left hanging.
 */
static void
refuse(int fd, enum mx_reason why, const char *what)
{
	static const char head[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Retry-After: 1\r\nContent-Type: application/json\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s";
	char	body[256], msg[512];
	int	n;

	while (recv(fd, msg, sizeof(msg), 0) > 0)
		;
	snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":null,"
	    "\"error\":{\"code\":-32000,\"message\":\"Server overloaded: "
	    "%s\",\"data\":{\"retryAfterMs\":1000}}}", what);
	n = snprintf(msg, sizeof(msg), head, strlen(body), body);
	(void)send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	close(fd);
	if (worker->w_metrics != NULL)
		MX_ADD(&worker->w_metrics->m_rejected[why], 1);
	if (ev_now(worker->w_loop) - worker->w_refuse_logged >= 1.0) {
		worker->w_refuse_logged = ev_now(worker->w_loop);
		log_warnx("refusing connections: %s", what);
	}
}

/* A token of the accept-rate bucket: 1, or 0 when none is left. */
static int
accept_token(void)
{
	ev_tstamp now = ev_now(worker->w_loop);

	if (worker->w_accept_rate == 0)
		return 1;
	worker->w_tokens += (now - worker->w_tokens_at) * worker->w_accept_rate;
	worker->w_tokens_at = now;
	if (worker->w_tokens > worker->w_accept_rate)
		worker->w_tokens = worker->w_accept_rate;	/* 1 s burst */
	if (worker->w_tokens < 1.0)
		return 0;
	worker->w_tokens -= 1.0;
	return 1;
}

static void
accept_cb(struct ev_loop *loop, ev_io *ev, int revents)
{
	struct wlistener	*l = ev->data;
	struct sockaddr_storage	 ss;
	struct addr_count	*a = NULL;
	unsigned char		 key[ADDR_KEY_BYTES];
	socklen_t		 sslen;
	int			 fd, i, one = 1;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (worker->w_conns >= worker->w_cap) {
			log_debug("at the cap of %u connections; "
			    "leaving new ones to other workers", worker->w_cap);
			listeners_watch(worker, 0);
			return;
		}
		sslen = sizeof(ss);
		fd = accept4(l->wl_fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				log_warn("accept: pausing for %d ms",
				    ACCEPT_PAUSE_MS);
				listeners_watch(worker, 0);
				ev_timer_set(&worker->w_pause_to,
				    ACCEPT_PAUSE_MS / 1000.0, 0.);
				ev_timer_start(loop, &worker->w_pause_to);
				return;
			default:
				log_warn("accept");
				return;
			}
		}
		/* the limits; the admin listener is never refused */
		addr_key(&ss, key);
		if (l->wl_kind == LISTEN_HTTP) {
			if (SB_HDR_GET(&worker->w_child->c_sb,
			    SB_H_SHEDDING)) {
				refuse(fd, MX_R_SHED, "shedding load (alert "
				    "tier emergency)");
				continue;
			}
			if (sb_worker_conns(&worker->w_child->c_sb) >=
			    worker->w_max_conns) {
				refuse(fd, MX_R_CONNECTIONS,
				    "too many connections");
				continue;
			}
			if (!accept_token()) {
				refuse(fd, MX_R_ACCEPT_RATE,
				    "too many new connections a second");
				continue;
			}
			if (worker->w_per_address != 0) {
				if ((a = addr_find(key, 1)) == NULL ||
				    a->a_n >= worker->w_per_address) {
					if (a != NULL && a->a_n == 0)
						worker_addr_release(key);
					refuse(fd, MX_R_ADDRESS, "too many "
					    "connections from one address");
					continue;
				}
				a->a_n++;
			}
		}
		/* answers go out in pieces (SSE): no Nagle delay on them */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		worker->w_conns++;
		SB_SET(worker->w_child->c_slot, s_conns, worker->w_conns);
		SB_ADD(worker->w_child->c_slot, s_accepted, 1);
		http_conn_new(worker, fd, l->wl_kind, l->wl_auth, NULL, 0, key,
		    a != NULL);
		a = NULL;
	}
}

static void
listeners_watch(struct worker *w, int on)
{
	uint32_t i;

	if (w->w_accepting == on)
		return;
	w->w_accepting = on;
	for (i = 0; i < w->w_nlisteners; i++) {
		if (on && !w->w_listeners[i].wl_standby)
			ev_io_start(w->w_loop, &w->w_listeners[i].wl_ev);
		else
			ev_io_stop(w->w_loop, &w->w_listeners[i].wl_ev);
	}
}

/*
 * A quitting worker whose last connection closed exits, unless a peer
 * sent it something it has not read yet (a hand-over sent before the
 * peer learnt of our successor) or it has not sent its peers everything
 * yet: looked at again DRAIN_RECHECK_MS later; or a task it started is
 * still running (without a connection): looked at again every
 * DRAIN_TASKS_MS.  The drain deadline bounds it (worker_deadline).
 */
#define DRAIN_RECHECK_MS	10
#define DRAIN_TASKS_MS		100

static ev_timer drain_to;

static void
drained_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	worker_drained();
}

void
worker_drained(void)
{
	uint32_t ms = 0;

	if (worker->w_conns > 0 || ev_is_active(&drain_to))
		return;
	if (worker->w_mcp != NULL && mcp_tasks_running(worker->w_mcp) > 0)
		ms = DRAIN_TASKS_MS;
	else if (worker->w_mcp != NULL && peer_pending())
		ms = DRAIN_RECHECK_MS;
	if (ms > 0) {
		ev_timer_init(&drain_to, drained_cb, ms / 1000.0, 0.);
		ev_timer_start(worker->w_loop, &drain_to);
		return;
	}
	if (worker->w_mcp != NULL)
		peer_bye();
	child_drained(worker->w_child);
}

/*
 * The drain deadline passed: a task still running fails, saying so, and
 * its record goes to our successor and the agent before we exit.
 */
static void
worker_deadline(struct child *c)
{
	unsigned n;

	if (worker->w_mcp == NULL)
		return;
	if ((n = mcp_tasks_abandon(worker->w_mcp, "the worker was stopped "
	    "(drain-timeout) before the task finished")) > 0)
		log_warnx("%u tasks not finished: failed", n);
	peer_bye();
	if (agentc() != NULL)
		(void)chan_flush(agentc());
}

void
worker_conn_closed(void)
{
	worker->w_conns--;
	SB_SET(worker->w_child->c_slot, s_conns, worker->w_conns);
	if (worker->w_quitting) {
		worker_drained();
		return;
	}
	if (!worker->w_accepting && worker->w_conns < worker->w_cap &&
	    !ev_is_active(&worker->w_pause_to))
		listeners_watch(worker, 1);
}

static void
worker_listener(struct child *c, enum listen_kind kind, int fd,
    const char *addr, uint16_t port, int standby)
{
	struct wlistener *l;

	if (worker->w_nlisteners == WORKER_LISTENERS_MAX) {
		log_warnx("more than %d listening sockets: %s port %u left "
		    "to the other workers", WORKER_LISTENERS_MAX, addr, port);
		close(fd);
		return;
	}
	if (fd_nonblock(fd) == -1)
		fatal("listener %s port %u", addr, port);
	l = &worker->w_listeners[worker->w_nlisteners++];
	l->wl_fd = fd;
	l->wl_kind = kind;
	l->wl_auth = auth_of_listener(c->c_conf, addr, port);
	l->wl_standby = standby;
	l->wl_waiting = 0;
	ev_io_init(&l->wl_ev, accept_cb, fd, EV_READ);
	l->wl_ev.data = l;
	log_debug("listener %s %s port %u", conf_listen_kind_name(kind),
	    addr, port);
}

/* The HTTP settings of the configuration, in the worker's terms. */
static void
hcfg_load(struct hcfg *h, const struct conf *conf)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->h_path, sizeof(h->h_path), "%s", conf->c_mcp_path);
	h->h_body_max = conf->c_max_body_size;
	h->h_header_max = conf->c_max_header_size;
	h->h_header_ms = conf->c_header_timeout_ms;
	h->h_body_ms = conf->c_body_timeout_ms;
	h->h_idle_ms = conf->c_idle_timeout_ms;
	h->h_keepalive_ms = conf->c_sse_keepalive_ms;
	h->h_session_ms = conf->c_session_timeout_ms;
	h->h_session_start_ms = conf->c_session_start_timeout_ms;
	h->h_sse_always = conf->c_session_responses == RESPONSES_SSE;
	h->h_out_max = conf->c_max_output_buffer;
	/* the node's bound on requests in flight, shared by the workers */
	h->h_pending_max = conf->c_max_pending / conf_workers(conf) +
	    (conf->c_max_pending % conf_workers(conf) != 0);
	h->h_sessions_max = conf->c_max_sessions / conf_workers(conf) +
	    (conf->c_max_sessions % conf_workers(conf) != 0);
	h->h_initialize_rate = conf->c_initialize_rate;
	h->h_request_rate = conf->c_request_rate;
}

/*
 * Rate buckets: a fixed table per kind, indexed by a hash of the key; a
 * key that finds another's bucket takes it over (a full one), so memory
 * is bounded and an attacker with many addresses only frees others.
 */
#define RATE_SLOTS		8192
struct rate_slot {
	unsigned char	r_key[ADDR_KEY_BYTES];
	double		r_tokens;
	ev_tstamp	r_at;
};
static struct rate_slot	*rates[2];

int
worker_rate(int which, const unsigned char *key, uint32_t rate)
{
	struct rate_slot	*r;
	ev_tstamp		 now = ev_now(worker->w_loop);
	uint32_t		 h = 2166136261u;
	int			 i;

	if (rate == 0)
		return 1;
	if (rates[which] == NULL &&
	    (rates[which] = calloc(RATE_SLOTS, sizeof(**rates))) == NULL)
		return 1;
	for (i = 0; i < ADDR_KEY_BYTES; i++)
		h = (h ^ key[i]) * 16777619u;
	r = &rates[which][h % RATE_SLOTS];
	if (r->r_at == 0 || memcmp(r->r_key, key, ADDR_KEY_BYTES) != 0) {
		memcpy(r->r_key, key, ADDR_KEY_BYTES);
		r->r_tokens = rate;
		r->r_at = now;
	}
	r->r_tokens += (now - r->r_at) * rate;
	r->r_at = now;
	if (r->r_tokens > rate)
		r->r_tokens = rate;
	if (r->r_tokens < 1.0)
		return 0;
	r->r_tokens -= 1.0;
	return 1;
}

static void
worker_start(struct child *c)
{
	struct rlimit	rl;
	struct timespec	now;
	char		err[512];
	uint32_t	i;

	/* use every fd we may: REFERENCE A, the hard limit is the budget */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit NOFILE");
	}
	worker->w_loop = c->c_loop;
	worker->w_cap = conf_worker_connections(c->c_conf);
	hcfg_load(&worker->w_http, c->c_conf);
	auth_load(c->c_conf);
	audit_open(c->c_conf);
	worker->w_max_conns = c->c_conf->c_max_connections;
	worker->w_per_address = c->c_conf->c_max_per_address;
	worker->w_accept_rate = c->c_conf->c_accept_rate;
	worker->w_tokens = worker->w_accept_rate;
	worker->w_tokens_at = ev_now(c->c_loop);
	if ((worker->w_mcp = mcp_server_new(c->c_loop, "mcpd",
	    PACKAGE_VERSION)) == NULL)
		fatalx("MCP engine: out of memory");
	if (!c->c_have_key)
		fatalx("no node key from the supervisor");
	mcp_server_set_keys(worker->w_mcp, c->c_node, &c->c_keys, c->c_index);
	mcp_set_broadcast(worker->w_mcp, peer_broadcast, NULL);
	worker->w_metrics = sb_metrics_of(&c->c_sb, c->c_slot);
	if (mcp_load_conf(worker->w_mcp, c->c_conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		exit(EXIT_NORESTART);
	}
	for (i = 0; i < c->c_conf->c_nplugins; i++) {
		const struct conf_plugin *pl = &c->c_conf->c_plugins[i];

		/* a plugin that does not load is a configuration error */
		if (mcp_plugin_load(worker->w_mcp, pl->p_path,
		    pl->p_arg[0] ? pl->p_arg : NULL, err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			exit(EXIT_NORESTART);
		}
	}
	/* the sessions of our index that outlived a predecessor: ours */
	clock_gettime(CLOCK_REALTIME, &now);
	sse_streams_past((uint64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000);
	registry_adopt();
	registry_start();
	http_init(worker);
	peer_start();
	ev_timer_init(&worker->w_pause_to, pause_cb, 0., 0.);
	ev_timer_init(&worker->w_queue_to, queue_cb, QUEUE_CHECK_MS / 1000.0,
	    QUEUE_CHECK_MS / 1000.0);
	listeners_watch(worker, 1);
	ev_timer_start(worker->w_loop, &worker->w_queue_to);
	log_debug("accepting, up to %u connections", worker->w_cap);
}

static void
worker_quit(struct child *c)
{
	uint32_t i;

	worker->w_quitting = 1;
	listeners_watch(worker, 0);
	ev_timer_stop(worker->w_loop, &worker->w_pause_to);
	ev_timer_stop(worker->w_loop, &worker->w_queue_to);
	for (i = 0; i < worker->w_nlisteners; i++)
		close(worker->w_listeners[i].wl_fd);
	worker->w_nlisteners = 0;
	registry_handover();	/* before the connections that need them */
	http_quit(worker);
	worker_drained();
}

/* A catalog-only reload: new tools, resources and prompts in place. */
static void
worker_reconf(struct child *c, struct conf *old)
{
	char err[512];

	(void)old;	/* the engine frees it once no tool run uses it */
	if (mcp_reload_conf(worker->w_mcp, c->c_conf, err, sizeof(err)) == -1)
		fatalx("reload: %s", err);
	log_info("catalog reloaded: %u tools, %u resources, %u prompts",
	    c->c_conf->c_ntools, c->c_conf->c_nresources,
	    c->c_conf->c_nprompts);
}

static void
worker_reopen(struct child *c)
{
	(void)c;
	audit_reopen();
}

static uint64_t
worker_busy(struct child *c)
{
	return worker->w_conns;
}

/* The child this worker is: known from the first message that needs it. */
static void
worker_bind(struct child *c)
{
	worker->w_child = c;
	worker->w_loop = c->c_loop;
}

static void
worker_listener_init(struct child *c, enum listen_kind kind, int fd,
    const char *addr, uint16_t port, int standby)
{
	worker_bind(c);
	worker_listener(c, kind, fd, addr, port, standby);
}

/* Our channel to the runner: exec tools run there. */
static void
worker_runner(struct child *c, uint32_t index, int fd)
{
	worker_bind(c);
	mcp_exec_runner(c->c_loop, fd);
}

/* Our channel to the agent: keys, introspection. */
static void
worker_agent(struct child *c, uint32_t index, int fd)
{
	worker_bind(c);
	agentc_open(c->c_loop, c->c_conf, fd);
}

static void
worker_start_init(struct child *c)
{
	worker_bind(c);
	worker_start(c);
}

/* the cluster key file was rotated: seal with its first key from now */
static void
worker_keys(struct child *c)
{
	mcp_server_set_keys(worker->w_mcp, c->c_node, &c->c_keys, c->c_index);
	log_info("keys: sealing with key %u of %u",
	    (unsigned)c->c_keys.k[0].ck_id, (unsigned)c->c_keys.n);
}

const struct role_ops worker_ops = {
	.r_listener = worker_listener_init,
	.r_peer = peer_add,
	.r_runner = worker_runner,
	.r_agent = worker_agent,
	.r_reconf = worker_reconf,
	.r_start = worker_start_init,
	.r_quit = worker_quit,
	.r_reopen = worker_reopen,
	.r_busy = worker_busy,
	.r_deadline = worker_deadline,
	.r_keys = worker_keys,
};
