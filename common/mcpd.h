/*
 * mcpd.h -- process roles and the numbers every process agrees on.
 */
#ifndef MCPD_MCPD_H
#define MCPD_MCPD_H

#include <stdint.h>

enum proc_role {
	ROLE_SUPERVISOR,
	ROLE_WORKER,
	ROLE_AGENT,
	ROLE_RUNNER,
	ROLE_MAX
};

/* The supervisor channel of a re-exec'd child is always this fd. */
#define CHILD_CHAN_FD		3
#define CHILD_CHAN_HIGH_MAX	65536	/* a worker's channel: below this fd */

/*
 * Bump whenever a channel message enum or a message layout changes: a child
 * announces it in READY and the supervisor kills a child that disagrees.
 */
#define MCPD_PROTO_VERSION	16

#define WORKERS_MAX		256	/* worker processes */
#define SUP_PEER_INBOUND	0x01	/* SUP_PEER: nothing is sent on it */
/* fds a worker keeps for itself: channels, listeners, log, scoreboard */
#define WORKER_FD_RESERVE	100

#define NODE_KEY_BYTES		32	/* crypto_auth_KEYBYTES */

/* exit status of a child: "do not restart me" (sysexits EX_CONFIG) */
#define EXIT_NORESTART		78

const char	*role_name(enum proc_role);
int		 role_from_name(const char *);

#endif
