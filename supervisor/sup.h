/*
 * sup.h -- the supervisor: process table, listeners, control socket,
 * alerting.
 */
#ifndef MCPD_SUP_H
#define MCPD_SUP_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <ev.h>

#include "clusterkey.h"
#include "conf.h"
#include "msg.h"
#include "restart.h"
#include "scoreboard.h"

#define LISTEN_BACKLOG		4096	/* net.core.somaxconn here */
#define PROC_SOCKETS_MAX	(2 * WORKERS_MAX + CONF_LISTENERS_MAX)
#define CTL_CLIENTS_MAX		16	/* concurrent mcpctl connections */
#define CTL_IDLE_MS		5000	/* a ctl client that says nothing */
#define FAST_STOP_MS		1000	/* SIGQUIT: SIGTERM, then SIGKILL */
#define QUIT_GRACE_MS		250	/* past its drain deadline, then SIGTERM */

/* exit statuses of mcpd(8) */
#define EXIT_OK			0
#define EXIT_STARTUP		1	/* bad config, bind failed, ... */
#define EXIT_ESCALATED		2	/* restart intensity exceeded */

enum pstate {
	P_STARTING,	/* forked, READY not seen */
	P_READY,
	P_STOPPING,	/* QUIT sent: draining */
	P_TERMINATING,	/* SIGTERM sent */
	P_KILLED	/* SIGKILL sent */
};

struct proc {
	TAILQ_ENTRY(proc)	 p_entry;
	enum proc_role		 p_role;
	uint32_t		 p_index;
	uint32_t		 p_gen;
	pid_t			 p_pid;
	struct chan		*p_chan;
	uint32_t		 p_slot;	/* scoreboard */
	int			 p_member;	/* -1: retired generation */
	enum pstate		 p_state;
	int			 p_asked;	/* we stopped it: not a crash */
	int			 p_sent[PROC_SOCKETS_MAX]; /* listeners given */
	uint32_t		 p_nsent;
	/* decided at its channel's EOF (proc_lost), logged at the reap */
	struct rs_decision	*p_dec;
	int			 p_dec_applied;
	uint64_t		 p_start_ms;
	uint64_t		 p_ready_ms;
	uint32_t		 p_drain_ms;
	uint32_t		 p_term_ms;	/* SIGTERM -> SIGKILL */
	ev_timer		 p_to;		/* READY deadline, stop ladder */
};
TAILQ_HEAD(proclist, proc);

/* A child spec instance: the policy's child i is members[i]. */
struct member {
	enum proc_role		 m_role;
	uint32_t		 m_index;
	struct proc		*m_proc;	/* NULL: not running */
	uint64_t		 m_start_at;	/* 0: no start pending */
	int			 m_removing;	/* fewer workers: pop when dead */
};

/*
 * A listener.  An HTTP one is a SO_REUSEPORT group: sl_group[i] is worker
 * i's own socket (sl_group[0] is sl_fd), so that the kernel gives each
 * connection to one worker; one socket shared by 53 workers woke all of
 * them for every connection.  The supervisor keeps them all: a worker's
 * successor takes over its socket and what waits in its queue.
 */
struct slistener {
	struct conf_listener	 sl_conf;
	int			 sl_fd;
	int			 sl_group[WORKERS_MAX];
	uint32_t		 sl_ngroup;
};

enum sup_state {
	SUP_STARTING,	/* until every child was READY once */
	SUP_RUNNING,
	SUP_STOPPING
};

struct sup {
	struct ev_loop		*s_loop;
	struct conf		*s_conf;
	char			 s_conf_path[CONF_PATH_MAX_BYTES];
	char			*s_conf_text;	/* normalized, for children */
	size_t			 s_conf_len;
	int			 s_debug;
	int			 s_foreground;
	/* root with "user": children and alert-command run as these */
	int			 s_drop;
	uid_t			 s_uid;
	gid_t			 s_gid;
	enum sup_state		 s_state;
	int			 s_exit;
	int			 s_reloading;	/* READY=1 when all are */
	uint32_t		 s_gen;
	uint64_t		 s_start_ms;
	uint64_t		 s_start_wall_ms;

	struct rs_sup		 s_rs;
	struct member		 s_members[RS_CHILDREN_MAX];
	struct proclist		 s_procs;
	uint32_t		 s_nprocs;

	struct scoreboard	 s_sb;
	uint8_t			 s_slot_used[SB_SLOTS];

	struct slistener	 s_listeners[CONF_LISTENERS_MAX];
	uint32_t		 s_nlisteners;

	int			 s_ctl_fd;
	ev_io			 s_ctl_ev;
	uint32_t		 s_nctl;

	int			 s_pidfile_fd;
	/* seal session ids: a random key, or the cluster key file's */
	struct cluster_keys	 s_keys;

	ev_child		 s_child_ev;
	ev_timer		 s_start_to;	/* next pending (re)start */
	ev_timer		 s_watchdog_to;	/* heartbeats looked at */
	ev_timer		 s_delay_to;	/* shutdown-delay, then stop */
	int			 s_delaying;	/* in it: a stop requested */
	ev_signal		 s_sig[6];
};

extern struct sup	*sup;

/* alert.c */
void		 alert_start(void);
/* 1 when pid was the alert command's (reaped), else 0 */
int		 alert_reap(pid_t, int status);
int		 alert_tier(const char **why);

/* sup.c */
void	sup_run(void) __attribute__((noreturn));
int	sup_reload(char *err, size_t errlen);
int	sup_keys_load(const struct conf *, struct cluster_keys *);
void	sup_shutdown(int exitcode, const char *why);
/* SIGTERM, mcpctl stop: after shutdown-delay, sup_shutdown(EXIT_OK) */
void	sup_stop(const char *why);
void	sup_fast_stop(const char *why);
void	sup_check_started(void);
void	sup_notify(const char *state);

/* proc.c */
void	proc_init(void);
int	proc_add_member(enum proc_role, uint32_t index, enum conf_restart,
	    int significant);
void	proc_start_member(int member);
void	proc_schedule(void);
void	proc_stop(struct proc *, uint32_t drain_ms);
void	proc_kill_all(int sig);
void	proc_swap_workers(void);
unsigned proc_reconf_workers(void);
void	proc_reconf_services(void);
void	proc_resize_workers(uint32_t n);
void	proc_send_listeners(struct proc *);
void	proc_send_keys(struct proc *);
void	proc_reap(pid_t pid, int status);
const char *proc_name(const struct proc *, char *, size_t);
const char *pstate_name(enum pstate);
uint32_t proc_nworkers(void);

/* listen.c */
int	listen_open(const struct conf *, struct slistener *, uint32_t *n,
	    const struct slistener *old, uint32_t nold, char *err,
	    size_t errlen);
void	listen_close_all(struct slistener *, uint32_t *n);
void	listen_close_unused(struct slistener *old, uint32_t nold,
	    const struct slistener *now, uint32_t nnow);
int	listen_fd_for(const struct slistener *, uint32_t worker);

/* control.c */
int	control_open(const char *path);
void	control_start(void);
void	control_close(const char *path);

#endif
