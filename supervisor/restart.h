/*
 * restart.h -- the restart policy of one supervisor, as a pure state machine.
 *
 * OTP semantics (supervisor(3erl)): restart types permanent / transient /
 * temporary; strategies one_for_one, one_for_all, rest_for_one,
 * simple_one_for_one; restart intensity (more than max_restarts restarts
 * within period_ms escalates: the supervisor stops every child in reverse
 * order and exits non-zero); significant children with auto_shutdown.  On top
 * of OTP, a Dovecot-style crash-loop throttle: a child that dies before READY,
 * or within reset_ms of READY, is restarted after a delay that starts at
 * throttle_min_ms and doubles up to throttle_max_ms; a child that was up for
 * reset_ms or more restarts at once and its delay is forgotten.
 *
 * The module owns no processes and reads no clock: the caller reports events
 * with the current time in milliseconds and carries out the decision.
 * Children are identified by their index in start order.
 */
#ifndef MCPD_RESTART_H
#define MCPD_RESTART_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define RS_CHILDREN_MAX		(WORKERS_MAX + 8)
#define RS_HISTORY_MAX		1024	/* restart times kept: > max intensity */

enum rs_state {
	RS_IDLE,		/* not started yet, or stopped by the caller */
	RS_STARTING,		/* running, READY not seen */
	RS_RUNNING,		/* READY seen */
	RS_GONE			/* will not be restarted (temporary, 78, ...) */
};

/* How a child ended, as the caller classifies its wait status. */
enum rs_exit {
	RS_EXIT_NORMAL,		/* exit 0, or it stopped because it was asked */
	RS_EXIT_ABNORMAL,	/* non-zero exit, signal, readiness deadline */
	RS_EXIT_NORESTART	/* exit EXIT_NORESTART: never restart it */
};

struct rs_params {
	enum conf_strategy	 strategy;
	uint32_t		 max_restarts;	/* intensity */
	uint32_t		 period_ms;
	uint32_t		 throttle_min_ms;
	uint32_t		 throttle_max_ms;
	uint32_t		 reset_ms;
	enum conf_auto_shutdown	 auto_shutdown;
};

struct rs_child {
	enum conf_restart	 restart;
	int			 significant;
	enum rs_state		 state;
	uint64_t		 started_ms;
	uint64_t		 ready_ms;	/* 0: never READY in this run */
	uint32_t		 throttle_ms;	/* next delay; 0: none pending */
	uint32_t		 restarts;	/* times restarted, for status */
};

struct rs_sup {
	struct rs_params	 p;
	struct rs_child		 c[RS_CHILDREN_MAX];
	size_t			 n;
	uint64_t		 hist[RS_HISTORY_MAX];	/* restart times */
	size_t			 nhist;
};

enum rs_action {
	RS_NONE,	/* nothing to restart (temporary, transient exit 0, 78) */
	RS_RESTART,	/* stop the listed survivors, wait delay_ms, start */
	RS_ESCALATE,	/* intensity exceeded: stop everything, exit non-zero */
	RS_SHUTDOWN	/* auto_shutdown: stop everything, exit 0 */
};

struct rs_decision {
	enum rs_action	 action;
	uint32_t	 delay_ms;	/* before the (re)starts */
	/* children still running that must be stopped first, in this order */
	size_t		 stop[RS_CHILDREN_MAX];
	size_t		 nstop;
	/* children to start after the delay, in this order */
	size_t		 start[RS_CHILDREN_MAX];
	size_t		 nstart;
	char		 reason[160];	/* for the log: the numbers behind it */
};

void	rs_init(struct rs_sup *, const struct rs_params *);
/* Append a child spec in start order; returns its index or -1 when full. */
int	rs_add(struct rs_sup *, enum conf_restart, int significant);
/* Remove the last child (the caller has stopped it), e.g. fewer workers. */
void	rs_pop(struct rs_sup *);
void	rs_started(struct rs_sup *, size_t, uint64_t now_ms);
void	rs_ready(struct rs_sup *, size_t, uint64_t now_ms);
/* The caller stopped this child on purpose (shutdown, group restart). */
void	rs_stopped(struct rs_sup *, size_t);
/* A child ended on its own: what to do about it. */
void	rs_exited(struct rs_sup *, size_t, enum rs_exit, uint64_t now_ms,
	    struct rs_decision *);

const char *rs_state_name(enum rs_state);
const char *rs_action_name(enum rs_action);

#endif
