/*
 * worker.h -- a worker process: client connections on the listeners the
 * supervisor handed over.
 */
#ifndef MCPD_WORKER_H
#define MCPD_WORKER_H

#include <stdint.h>

#include <ev.h>

#include "child.h"

#define WORKER_LISTENERS_MAX	CONF_LISTENERS_MAX
#define ACCEPT_BATCH		64	/* accepts per wakeup, then yield */
#define ACCEPT_PAUSE_MS		1000	/* after EMFILE/ENFILE (bgpd) */
#define KEEPALIVE_IDLE_MS	60000	/* idle keep-alive connection */
#define READ_SCRATCH_BYTES	(64 * 1024) /* one buffer per worker */

struct wlistener {
	int			 wl_fd;
	enum listen_kind	 wl_kind;
	ev_io			 wl_ev;
};

struct worker {
	struct child		*w_child;
	struct ev_loop		*w_loop;
	struct wlistener	 w_listeners[WORKER_LISTENERS_MAX];
	uint32_t		 w_nlisteners;
	uint32_t		 w_cap;		/* connections */
	uint64_t		 w_conns;
	int			 w_accepting;
	int			 w_quitting;
	ev_timer		 w_pause_to;
};

extern struct worker	*worker;

/* worker.c */
void	worker_conn_closed(void);

/* http.c */
void	http_conn_new(struct worker *, int fd, enum listen_kind);
void	http_quit(struct worker *);

#endif
