/*
 * registry.h -- a worker's side of the node's registry (the agent keeps a
 * copy of every session's record), and its channel to the agent.
 */
#ifndef MCPD_WORKER_REGISTRY_H
#define MCPD_WORKER_REGISTRY_H

#include <stddef.h>

#include <ev.h>


struct chan;
struct conf;
struct msg;

/* agentc.c: the channel to the agent (NULL: none now) */
struct chan	*agentc(void);
void		 agentc_open(struct ev_loop *, const struct conf *, int fd);

/* registry.c */
/* the engine's sessions are copied to the agent from now on */
void	registry_start(void);
/* at start, before READY: adopt the records of our slot (bounded wait) */
void	registry_adopt(void);
void	registry_record(const char *rec, size_t len);
void	registry_update(const char *id, const char *rec, size_t len,
	    int change);
/* quitting: every record to our successor, before our connections */
void	registry_handover(void);
/* our predecessor died draining: its tasks' records from the agent */
void	registry_predecessor_died(void);
void	registry_adopted(unsigned n);
void	registry_adopt_event(const struct msg *);
void	registry_resend(void);

/* takeover.c: a cluster's sessions, taken over from another node */
struct conn;
struct mcp_route;
/* 1: the request waits for the agent's word, or was answered; 0: not ours */
int	takeover_ask(struct conn *, const struct mcp_route *);
/* the same for a task of our index that is not here */
int	takeover_task(struct conn *, const struct mcp_route *);
void	takeover_taken(const struct msg *);
void	takeover_lost(const struct msg *);
/* a task's node answered (AGT_FWD_ANSWER); another node asks (FWD_IN) */
void	takeover_fwd_answer(const struct msg *);
void	takeover_fwd_in(const struct msg *);
void	takeover_agent_lost(void);

#endif
