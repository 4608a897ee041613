/*
 * agent.c -- the agent: registry replica, notification hub and cluster
 * member of this node.
 *
 * For now it starts, reports READY and stops when told; the registry and
 * the cluster come in later issues.  It holds no listener.
 */
#include "config.h"

#include <unistd.h>

#include "child.h"
#include "log.h"

static void
agent_listener(struct child *c, enum listen_kind kind, int fd,
    const char *addr, uint16_t port, int standby)
{
	close(fd);	/* the agent serves no clients */
}

const struct role_ops agent_ops = {
	.r_listener = agent_listener,
	.r_start = NULL,
	.r_quit = NULL,		/* nothing to drain yet */
	.r_busy = NULL,
};
