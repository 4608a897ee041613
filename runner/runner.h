/*
 * runner.h -- the runner: exec tools run here (runner.c), each run under
 * a shepherd of its own (shepherd.c).
 */
#ifndef MCPD_RUNNER_H
#define MCPD_RUNNER_H

#include <sys/types.h>

#include <stdint.h>

#include <ev.h>

#include "conf.h"

/*
 * The shepherd's descriptors: its channel to the runner, and the write
 * ends of the run's standard output and error (the tool's 1 and 2).
 */
#define SHEP_CTL_FD		3
#define SHEP_OUT_FD		4
#define SHEP_ERR_FD		5
/* a tool's limits: no core files, this many descriptors */
#define RUN_NOFILE		1024
/*
 * The PATH of a tool, unless PATH is among its env names: a fixed one,
 * never the daemon's.
 */
#define RUN_PATH		"PATH=/usr/local/bin:/usr/bin:/bin"
#define PROC_CHILDREN_MAX	4096	/* pids listed at once */
/* who called, in the tool's environment (never the token) */
#define RUN_PRINCIPAL_VAR	"MCPD_PRINCIPAL"
#define RUN_PRINCIPAL_MAX_BYTES	1024

/* What a shepherd is to do. */
struct shepherd_spec {
	const char	 *s_tool;	/* the tool's name, for its title */
	char		**s_argv;
	char		**s_envp;
	const char	 *s_cwd;
	uint32_t	  s_mem_max;	/* RLIMIT_AS, bytes; 0 none */
	uint32_t	  s_nproc_max;	/* RLIMIT_NPROC; 0 none */
	int		  s_ctl;	/* the shepherd's ends, moved to */
	int		  s_out;	/* SHEP_*_FD */
	int		  s_err;
	pid_t		  s_runner;
	/*
	 * The tool's user and group (the tool's own, else the runner's),
	 * and whether its process takes them (not when they are root: mcpd
	 * runs as root with no user).
	 */
	uid_t		  s_uid;
	gid_t		  s_gid;
	int		  s_switch;
};

/*
 * The shepherd's records to the runner, one a SOCK_SEQPACKET datagram,
 * in this order: SPAWNED (the tool's pid) or NOSTART (a stage and an
 * errno), EXITED (the tool's wait status) when it ended, GONE (how many
 * processes were killed) when none is left, just before it exits.  The
 * runner sends one byte, SHEP_KILL: kill every process of the run.
 */
enum shep_rec_kind {
	SHEP_SPAWNED,
	SHEP_NOSTART,
	SHEP_EXITED,
	SHEP_GONE
};

/* where a run failed to start */
enum shep_stage {
	SHEP_STAGE_FORK,
	SHEP_STAGE_DIRECTORY,
	SHEP_STAGE_LIMITS,
	SHEP_STAGE_EXEC,
	SHEP_STAGE_USER		/* becoming the tool's user */
};

struct shep_rec {
	int32_t		sr_kind;
	int32_t		sr_a;
	int32_t		sr_b;
};

#define SHEP_KILL	'k'

/* shepherd.c */
/* In the forked child: run the tool, kill all it leaves; never returns. */
void	shepherd_main(const struct shepherd_spec *) __attribute__((noreturn));
/*
 * The children of this process (every thread's): how many pids were put
 * in pids (at most max), or -1.
 */
int	proc_children(pid_t *pids, int max);

/* runner.c */
/*
 * mcpd --stdio: this process is the runner of its engine's exec tools,
 * on the other end of fd (conf is the caller's, and stays).
 */
void	runner_local(struct ev_loop *, struct conf *, int fd);

#endif
