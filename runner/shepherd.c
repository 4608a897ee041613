/*
 * NAME
 *	shepherd.c -- one run of an exec tool, and every process it makes
 *
 * DESCRIPTION
 *	The runner forks a shepherd for each run (no exec: it is small and
 *	synchronous, and touches nothing of the runner's but its spec).  The
 *	shepherd is the run's child subreaper (PR_SET_CHILD_SUBREAPER): a
 *	process of the run that loses its parent -- one that detached with
 *	setsid(2), a daemon's double fork -- becomes its child, not init's,
 *	so every process of the run stays among its descendants, and its
 *	children are all there is to kill.
 *
 *	A tool of its own user: the shepherd takes that user as its
 *	effective uid only (priv_watch), so that it may kill every process
 *	of the run and none may kill it; the tool's process takes the user
 *	for good (priv_become) with no capability and no new privileges.
 *
 *	It forks the tool (its own process group; stdin /dev/null, stdout
 *	and stderr the runner's pipes, nothing else open; no core files and
 *	RUN_NOFILE descriptors; the tool's directory; the tool's environment
 *	only; default signals) and waits.  When the tool's main process
 *	ends, what it left behind is killed, so that its output closes; on
 *	SHEP_KILL from the runner (timeout, cancel, a worker gone), on the
 *	runner's channel closing and on SIGTERM (PR_SET_PDEATHSIG: the
 *	runner died) every process of the run is.  "Killed" is SIGKILL: a
 *	run that ignores SIGTERM is killed as surely, and its timeout bounds
 *	the whole of it.  Killing is a loop: list the children, SIGKILL
 *	them, reap one, again, until there is no child (ECHILD).  A killed
 *	process's own children become ours as it dies, so the loop reaches
 *	the whole tree.  Then GONE to the runner, and exit.
 *
 *	The tool dies with the shepherd (PR_SET_PDEATHSIG SIGKILL); were the
 *	shepherd itself SIGKILLed, the runner, a subreaper too, gets the
 *	orphans and kills them (runner.c).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"
#include "runner.h"
#include "util.h"

#define SHEP_FD_SCRATCH		64	/* fds are moved through here */
#define PROC_CHILDREN_BYTES	(64 * 1024) /* one read of a children file */

static pid_t	tool_pid = -1;
static int	tool_exited;
static int	killed;		/* processes that ended in kill_all() */

static void
report(int kind, int a, int b)
{
	struct shep_rec r;

	memset(&r, 0, sizeof(r));
	r.sr_kind = kind;
	r.sr_a = a;
	r.sr_b = b;
	/* the runner may be gone: then nobody needs to know */
	(void)send(SHEP_CTL_FD, &r, sizeof(r), MSG_NOSIGNAL);
}

/* /proc/PID/task/TID/children, every thread's, as pids. */
static int
children_file(pid_t *pids, int max)
{
	static char	 buf[PROC_CHILDREN_BYTES];
	char		 path[sizeof("/proc/self/task//children") + NAME_MAX];
	DIR		*d;
	struct dirent	*de;
	ssize_t		 n;
	char		*p, *end;
	long		 v;
	int		 fd, count = 0, full;

	if ((d = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children",
		    de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			closedir(d);
			return -1;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0) {
			closedir(d);
			return -1;
		}
		/* a full buffer may end in half a pid: the rest next round */
		full = (size_t)n == sizeof(buf) - 1;
		buf[n] = '\0';
		for (p = buf; count < max; p = end) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p == '\0')
				break;
			v = strtol(p, &end, 10);
			if (end == p || (full && *end == '\0'))
				break;
			if (v > 0)
				pids[count++] = (pid_t)v;
		}
	}
	closedir(d);
	return count;
}

/* Without CONFIG_PROC_CHILDREN: every process's parent, from its stat. */
static int
children_scan(pid_t *pids, int max)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[sizeof("/proc//stat") + NAME_MAX], buf[512], *r;
	pid_t		 me = getpid();
	ssize_t		 n;
	long		 ppid;
	int		 fd, count = 0;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) S ppid ...": comm may hold anything */
		if ((r = strrchr(buf, ')')) == NULL ||
		    sscanf(r + 1, " %*c %ld", &ppid) != 1)
			continue;
		if ((pid_t)ppid == me)
			pids[count++] = (pid_t)atol(de->d_name);
	}
	closedir(d);
	return count;
}

int
proc_children(pid_t *pids, int max)
{
	int n;

	if ((n = children_file(pids, max)) == -1)
		n = children_scan(pids, max);
	return n;
}

static void
reaped(pid_t pid, int status)
{
	if (pid == tool_pid && !tool_exited) {
		tool_exited = 1;
		report(SHEP_EXITED, status, 0);
	}
}

/* Every process of the run: killed, reaped. */
static void
kill_all(void)
{
	static pid_t	pids[PROC_CHILDREN_MAX];
	pid_t		pid;
	int		n, i, status;

	for (;;) {
		n = proc_children(pids, PROC_CHILDREN_MAX);
		for (i = 0; i < n; i++)
			(void)kill(pids[i], SIGKILL);
		if (n <= 0 && tool_pid > 0 && !tool_exited)
			(void)kill(tool_pid, SIGKILL);
		pid = waitpid(-1, &status, __WALL);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: nothing is left */
		}
		if (pid != tool_pid || !tool_exited)
			killed++;
		reaped(pid, status);
	}
}

/* Reap what ended; 1 when the tool's main process is among. */
static int
reap_some(void)
{
	pid_t	pid;
	int	status, main_ended = 0;

	while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
		if (pid == tool_pid)
			main_ended = 1;
		reaped(pid, status);
	}
	return main_ended;
}

static void __attribute__((noreturn))
tool_fail(int fd, int stage)
{
	int e[2] = { stage, errno };

	(void)write(fd, e, sizeof(e));
	_exit(127);
}

/* In the tool's process: set it up and exec; never returns. */
static void __attribute__((noreturn))
tool_exec(const struct shepherd_spec *sp, int st, pid_t shepherd)
{
	struct rlimit	rl;
	sigset_t	none;
	int		fd, sig;

	(void)setpgid(0, 0);
	/*
	 * The tool's user first: the directory is entered as the tool, and
	 * a change of uid clears the parent-death signal.  Unprivileged, it
	 * gains nothing from a set-user-ID program or file capabilities.
	 */
	if (sp->s_switch && (priv_become(sp->s_uid, sp->s_gid) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1))
		tool_fail(st, SHEP_STAGE_USER);
	/* it dies with the shepherd, if ever the shepherd is SIGKILLed */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != shepherd)
		_exit(127);
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1 ||
	    dup2(SHEP_OUT_FD, STDOUT_FILENO) == -1 ||
	    dup2(SHEP_ERR_FD, STDERR_FILENO) == -1 ||
	    dup3(st, SHEP_CTL_FD, O_CLOEXEC) == -1)
		tool_fail(st, SHEP_STAGE_FORK);
	st = SHEP_CTL_FD;
	close_from(SHEP_CTL_FD + 1);
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		tool_fail(st, SHEP_STAGE_LIMITS);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > RUN_NOFILE)) {
		rl.rlim_cur = rl.rlim_max = RUN_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			tool_fail(st, SHEP_STAGE_LIMITS);
	}
	if (sp->s_mem_max > 0) {
		rl.rlim_cur = rl.rlim_max = sp->s_mem_max;
		if (setrlimit(RLIMIT_AS, &rl) == -1)
			tool_fail(st, SHEP_STAGE_LIMITS);
	}
	/* its user's processes: set as that user, counted for its uid */
	if (sp->s_nproc_max > 0) {
		rl.rlim_cur = rl.rlim_max = sp->s_nproc_max;
		if (setrlimit(RLIMIT_NPROC, &rl) == -1)
			tool_fail(st, SHEP_STAGE_LIMITS);
	}
	if (chdir(sp->s_cwd) == -1)
		tool_fail(st, SHEP_STAGE_DIRECTORY);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(sp->s_argv[0], sp->s_argv, sp->s_envp);
	tool_fail(st, SHEP_STAGE_EXEC);
}

/* Fork the tool: its pid, or -1 with the stage and errno reported. */
static pid_t
tool_start(const struct shepherd_spec *sp)
{
	pid_t	pid, me = getpid();
	int	st[2], e[2];
	ssize_t	n;

	if (pipe2(st, O_CLOEXEC) == -1) {
		report(SHEP_NOSTART, SHEP_STAGE_FORK, errno);
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		report(SHEP_NOSTART, SHEP_STAGE_FORK, errno);
		close(st[0]);
		close(st[1]);
		return -1;
	case 0:
		close(st[0]);
		tool_exec(sp, st[1], me);
		/* NOTREACHED */
	}
	close(st[1]);
	/* the tool's copies are all the run's output needs */
	close(SHEP_OUT_FD);
	close(SHEP_ERR_FD);
	tool_pid = pid;
	/* nothing on the pipe: the exec closed it */
	do
		n = read(st[0], e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(st[0]);
	if (n == (ssize_t)sizeof(e)) {
		report(SHEP_NOSTART, e[0], e[1]);
		return -1;
	}
	report(SHEP_SPAWNED, pid, 0);
	return pid;
}

/*
 * The runner's descriptors are not ours: keep the three of the spec, and
 * /dev/null for 0 to 2 (mcpd --stdio's stdout is its client's).
 */
static void
take_fds(const struct shepherd_spec *sp)
{
	int	fds[3] = { sp->s_ctl, sp->s_out, sp->s_err }, hi[3], i, null;

	for (i = 0; i < 3; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
		    SHEP_FD_SCRATCH)) == -1)
			_exit(1);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		_exit(1);
	for (i = 0; i < 3; i++)
		if (dup2(null, i) == -1 ||
		    dup3(hi[i], SHEP_CTL_FD + i, O_CLOEXEC) == -1)
			_exit(1);
	close_from(SHEP_ERR_FD + 1);
}

void
shepherd_main(const struct shepherd_spec *sp)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	sigset_t		 all, watch;
	char			 c;
	ssize_t			 n;
	int			 sig, sfd, done = 0;

	/* signals: ours through a signalfd, none of the runner's handlers */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	take_fds(sp);
	/*
	 * A tool of another user: kill what it makes, and be out of its
	 * reach (priv.h); before the parent-death signal, which it clears.
	 */
	if (sp->s_switch && priv_watch(sp->s_uid) == -1) {
		report(SHEP_NOSTART, SHEP_STAGE_USER, errno);
		report(SHEP_GONE, 0, 0);
		_exit(0);
	}
	/* the runner's death is our SIGTERM; it may have died already */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() != sp->s_runner)
		_exit(1);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		_exit(1);
	proctitle_set("runner: tool %s", sp->s_tool);
	sigemptyset(&watch);
	sigaddset(&watch, SIGCHLD);
	sigaddset(&watch, SIGTERM);
	if ((sfd = signalfd(-1, &watch, SFD_CLOEXEC)) == -1)
		_exit(1);

	if (tool_start(sp) == -1) {
		kill_all();
		report(SHEP_GONE, killed, 0);
		_exit(0);
	}
	while (!done) {
		pfd[0].fd = SHEP_CTL_FD;
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents != 0) {
			/* SHEP_KILL, or the runner is gone: the same */
			n = read(SHEP_CTL_FD, &c, 1);
			if (n == 1 || n == 0 || (errno != EAGAIN &&
			    errno != EINTR))
				done = 1;
		}
		if (pfd[1].revents != 0 &&
		    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM)
				done = 1;
		}
		/* the main process ended: what it left holds the output */
		if (reap_some())
			done = 1;
	}
	kill_all();
	report(SHEP_GONE, killed, 0);
	_exit(0);
}
