/*
 * child.h -- what every re-exec'd child (worker, agent, runner) shares.
 *
 * child_main() runs the protocol with the supervisor on CHILD_CHAN_FD: it
 * receives the configuration, the scoreboard and the listeners, calls the
 * role's hooks, reports READY, and stops on QUIT, on SIGTERM or when the
 * channel closes (the supervisor died: no orphans).  A role only serves.
 */
#ifndef MCPD_CHILD_H
#define MCPD_CHILD_H

#include <stdint.h>

#include <ev.h>

#include "clusterkey.h"
#include "conf.h"
#include "msg.h"
#include "scoreboard.h"

/* a child whose supervisor is gone drains at most this long */
#define ORPHAN_DRAIN_MS		2000

struct child {
	enum proc_role		 c_role;
	uint32_t		 c_index;
	uint32_t		 c_gen;
	struct ev_loop		*c_loop;
	struct chan		*c_chan;
	struct conf		*c_conf;
	struct scoreboard	 c_sb;
	struct sb_slot		*c_slot;
	int			 c_quitting;
	/* what ids are sealed with: the node's (or cluster's) keys */
	char			 c_node[CONF_NODE_MAX_BYTES];	/* "": one */
	struct cluster_keys	 c_keys;
	int			 c_have_key;
	uint32_t		 c_nworkers;	/* SUP_WORKERS; 0: not told */
	int			 c_started;
	ev_timer		 c_drain_to;
	ev_timer		 c_beat_to;	/* the watchdog's heartbeat */
	ev_signal		 c_sigterm;
	ev_signal		 c_sigint;
	ev_signal		 c_sighup;
	ev_signal		 c_sigusr1;
	ev_signal		 c_sigquit;
};

struct role_ops {
	/*
	 * a listening socket was handed over (fd is ours); standby: another
	 * worker's, to take over when that one does not accept
	 */
	void	(*r_listener)(struct child *, enum listen_kind, int fd,
		    const char *addr, uint16_t port, int standby);
	/* a channel to worker index (the worker mesh; fd is ours) */
	void	(*r_peer)(struct child *, uint32_t index, int inbound,
		    uint32_t gen, int fd);
	/*
	 * the worker's channel to the runner; the runner's to worker index
	 * (msg_run.def; fd is ours)
	 */
	void	(*r_runner)(struct child *, uint32_t index, int fd);
	/*
	 * the worker's channel to the agent; the agent's to worker index
	 * (msg_agent.def; fd is ours)
	 */
	void	(*r_agent)(struct child *, uint32_t index, int fd);
	/* a new configuration after start (a catalog-only reload) */
	void	(*r_reconf)(struct child *, struct conf *old);
	/* set up after everything arrived; READY follows */
	void	(*r_start)(struct child *);
	/* stop taking new work; child_drained() when the last one ends */
	void	(*r_quit)(struct child *);
	/* SIGUSR1: reopen what the role writes to by name */
	void	(*r_reopen)(struct child *);
	/* work still in progress, for the drain log line */
	uint64_t (*r_busy)(struct child *);
	/* the drain deadline passed: what must be said before the exit */
	void	(*r_deadline)(struct child *);
	/* new keys after start (a rotated cluster key file) */
	void	(*r_keys)(struct child *);
};

/* Parse "-P role -I index -G gen" leftovers and run; never returns. */
void	child_main(enum proc_role, uint32_t index, uint32_t gen, int debug,
	    int foreground) __attribute__((noreturn));
/* The role has nothing left: exit 0 now. */
void	child_drained(struct child *) __attribute__((noreturn));
const char *child_name(const struct child *);

/* worker/worker.c, agent/agent.c, runner/runner.c */
extern const struct role_ops worker_ops;
extern const struct role_ops agent_ops;
extern const struct role_ops runner_ops;

#endif
