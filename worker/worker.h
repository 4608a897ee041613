/*
 * worker.h -- a worker process: its listeners, limits and settings, the
 * hand-over record, and the entry points of its HTTP service.
 */
#ifndef MCPD_WORKER_H
#define MCPD_WORKER_H

#include <stdint.h>

#include <ev.h>

#include "child.h"

/* an HTTP listener's sockets it serves (see proc.c), and the others */
#define WORKER_LISTENERS_MAX	(2 * WORKERS_MAX + CONF_LISTENERS_MAX)
#define ACCEPT_BATCH		64	/* accepts per wakeup, then yield */
#define ACCEPT_PAUSE_MS		1000	/* after EMFILE/ENFILE (bgpd) */
#define SESSION_SWEEP_MS	1000	/* idle-session expiry check */
/*
 * Request states kept for reuse, with body buffers up to HREQ_BODY_KEEP_BYTES
 * bytes: at most 256 x (11 KiB + 16 KiB) stay allocated per worker (the
 * head's buffers are most of it: worker/head.h).
 */
#define HREQ_POOL_MAX		256
#define HREQ_BODY_KEEP_BYTES		(16 * 1024)
#define SSE_RETRY_MS		1000	/* retry: field of SEP-1699 */
#define READ_SCRATCH_BYTES	(64 * 1024) /* one buffer per worker */

struct wlistener {
	int			 wl_fd;
	enum listen_kind	 wl_kind;
	int			 wl_auth;	/* an auth block, -1: none */
	ev_io			 wl_ev;
	int			 wl_standby;	/* another worker's: polled */
	int			 wl_waiting;	/* queue seen non-empty */
};

/* HTTP settings of this worker, from the configuration */
struct hcfg {
	char			 h_path[128];		/* MCP endpoint */
	uint64_t		 h_body_max;		/* bytes */
	uint32_t		 h_header_max;		/* bytes */
	uint32_t		 h_header_ms;
	uint32_t		 h_body_ms;
	uint32_t		 h_idle_ms;
	uint32_t		 h_keepalive_ms;	/* SSE comments */
	uint32_t		 h_session_ms;		/* idle session */
	uint32_t		 h_session_start_ms;	/* unused since initialize */
	int			 h_sse_always;		/* no JSON answers */
	uint64_t		 h_out_max;		/* bytes queued, conn */
	uint32_t		 h_pending_max;		/* in flight, worker */
	uint32_t		 h_sessions_max;	/* session era, worker */
	uint32_t		 h_initialize_rate;	/* a second, address */
	uint32_t		 h_request_rate;	/* a second, principal */
};

struct mcp_server;

struct worker {
	struct child		*w_child;
	struct mcp_server	*w_mcp;
	struct sb_metrics	*w_metrics;	/* our scoreboard block */
	struct hcfg		 w_http;
	struct ev_loop		*w_loop;
	struct wlistener	 w_listeners[WORKER_LISTENERS_MAX];
	uint32_t		 w_nlisteners;
	uint32_t		 w_cap;		/* connections */
	uint64_t		 w_conns;
	int			 w_accepting;
	int			 w_quitting;
	ev_timer		 w_pause_to;
	ev_timer		 w_queue_to;	/* unwatched queues (queue_cb) */
	uint64_t		 w_pending;	/* requests in flight */
	/* limits on accepting */
	uint64_t		 w_max_conns;	/* the node's, max-connections */
	uint32_t		 w_per_address;	/* 0: no cap */
	uint32_t		 w_accept_rate;	/* a second, 0: any */
	double			 w_tokens;	/* accept-rate bucket */
	double			 w_tokens_at;
	ev_tstamp		 w_refuse_logged;
};

extern struct worker	*worker;

/* worker.c */
void	worker_conn_closed(void);
/* the per-address count of a connection's peer (16 bytes, v4 mapped) */
#define ADDR_KEY_BYTES		16
void	worker_addr_release(const unsigned char *);
void	worker_addr_take(int fd, unsigned char *key);
/*
 * A token from the bucket of key (16 bytes) in table which (RATE_*),
 * refilled at rate a second with a one-second burst: 1, or 0 when empty.
 */
#define RATE_INITIALIZE		0
#define RATE_REQUEST		1
int	worker_rate(int which, const unsigned char *key, uint32_t rate);

/*
 * A request and its connection, handed to the worker that keeps what it
 * names (peer.c): everything that worker needs to judge the request as
 * the one that read it would.
 */
struct rhead;
struct handoff {
	enum listen_kind	 h_kind;
	int			 h_auth;	/* its listener's, -1: none */
	unsigned		 h_method;	/* enum http_method */
	unsigned		 h_major;
	unsigned		 h_minor;
	int			 h_keepalive;
	int			 h_admitted;	/* its rates were taken */
	int			 h_served;	/* (no request) had one before */
	const struct rhead	*h_head;	/* target and headers */
	const char		*h_body;
	size_t			 h_bodylen;
	const char		*h_pend;	/* read after the request */
	size_t			 h_pendlen;
};

#define PEER_INLINE_MAX_BYTES	(48 * 1024)	/* body + rest in the frame */
#define PEER_HEAD_MAX_BYTES	(12 * 1024)	/* the head, packed */

/* peer.c */
void	peer_add(struct child *, uint32_t index, int inbound, uint32_t gen,
	    int fd);
int	peer_handoff(uint32_t owner, int fd, const struct handoff *);
/* the channel to worker index closed lately: its successor is expected */
int	peer_away(uint32_t index);
int	peer_there(uint32_t index);
int	peer_pending(void);
/* an older process of our index, draining: unknown sessions go to it */
int	peer_predecessor(void);
int	peer_handoff_back(int fd, const struct handoff *);
/* a draining worker's idle connection to its successor, if there is one */
int	peer_successor(void);
int	peer_pass(int fd, enum listen_kind, int auth, int served,
	    const char *pend, size_t pendlen);
void	peer_pass_record(const char *id, const char *rec, size_t len,
	    int change);
void	peer_pass_room(size_t bytes);
void	peer_bye(void);
void	peer_start(void);
void	worker_drained(void);
void	peer_broadcast(void *, const char *method, const char *uri);
/* a change another node announced (AGT_NOTIFY_IN): our streams */
void	peer_notify_in(const struct msg *);
/*
 * The head as the record carries it: the target, then every header kept,
 * name NUL value NUL; its length, or 0 when it does not fit.  Unpacking
 * replays it through head.c's rules: 0, or -1 for a record no worker
 * packs (a bug: the caller ends the process).
 */
size_t	handoff_head_pack(const struct rhead *, char *buf, size_t len);
int	handoff_head_unpack(struct rhead *, uint32_t max_bytes,
	    const char *buf, size_t len);

/* http.c */
void	http_init(struct worker *);
void	http_adopt(struct worker *, int fd, const struct handoff *);
void	http_adopt_idle(struct worker *, int fd, const struct handoff *);
/* take a connection; bytes already read from it (a hand-over) or NULL */
/*
 * addr: the peer's key (ADDR_KEY_BYTES bytes) or NULL; counted: it is counted
 * for max-connections-per-address (released at close).
 */
void	http_conn_new(struct worker *, int fd, enum listen_kind, int auth,
	    const char *pre, size_t prelen, const unsigned char *addr,
	    int counted);
void	http_quit(struct worker *);

#endif
