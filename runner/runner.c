/*
 * runner.c -- the runner: starts exec tools (posix_spawn, away from the
 * workers' address spaces) with their limits.
 *
 * For now it starts, reports READY and stops when told: exec tools are
 * still spawned by the workers (mcp/exec.c) until they move here.
 */
#include "config.h"

#include <unistd.h>

#include "child.h"
#include "log.h"

static void
runner_listener(struct child *c, enum listen_kind kind, int fd,
    const char *addr, uint16_t port, int standby)
{
	close(fd);
}

const struct role_ops runner_ops = {
	.r_listener = runner_listener,
	.r_start = NULL,
	.r_quit = NULL,
	.r_busy = NULL,
};
