/*
 * priv.h -- giving up root: the one-way drop of every child to the user
 * of mcpd.conf, and the runner's switch of a tool's process to the tool's
 * own user.
 *
 * Started as root with "user" set, the supervisor keeps root (it binds
 * the listeners and starts the children); a child drops right after it
 * has read its configuration, before anything of its own.  Nothing sets
 * supplementary groups: a process of mcpd, and a tool, has its one user
 * and one group and no other, so what it may open is what the
 * configuration names and nothing the administrator added to the user
 * for other reasons.
 */
#ifndef MCPD_PRIV_H
#define MCPD_PRIV_H

#include <sys/types.h>

#include <stddef.h>

struct conf;

/*
 * The ids of a user name (*uid, and its primary group in *gid) and of a
 * group name: 0, or -1 and why in err ("unknown user \"x\"").  NSS is
 * asked (getpwnam(3)): the supervisor's parse to check the names, and a
 * child as it drops, as OpenBSD's re-exec'd daemons do.
 */
int	priv_user(const char *name, uid_t *uid, gid_t *gid, char *err,
	    size_t errlen);
int	priv_group(const char *name, gid_t *gid, char *err, size_t errlen);
/* Both: group NULL or "" is the user's primary group. */
int	priv_lookup(const char *user, const char *group, uid_t *uid,
	    gid_t *gid, char *err, size_t errlen);

/* Some tool of the configuration names a user: the runner needs setid. */
int	priv_tools_switch(const struct conf *);

/*
 * At start, what who (the processes that drop: "workers, agent and
 * runner") will run as, said once in the log: a warning when they stay
 * root, or when user is ignored because mcpd was not started as root (it
 * then runs as it is, as nginx does).  Returns 1 when they will drop to
 * *uid:*gid, else 0.
 */
int	priv_announce(const struct conf *, const char *who, uid_t *uid,
	    gid_t *gid);

/*
 * A re-exec'd child, right after its configuration: when mcpd runs as
 * root and "user" is set, become that user and group for good: the
 * capability bounding set emptied (PR_CAPBSET_DROP), no supplementary
 * groups, setresgid, setresuid, then checked (real, effective and saved
 * ids, no groups, no capability but what keep_setid keeps, setuid(0) and
 * setgid(0) refused).  keep_setid (the runner, when a tool names a user):
 * CAP_SETUID and CAP_SETGID stay in the permitted set and the bounding
 * set, not in the effective set, for priv_become().  Returns when done
 * or when there is nothing to do; any failure is logged and the process
 * exits EXIT_NORESTART, so that the supervisor does not restart it into
 * the same failure and escalates.
 */
void	priv_drop(const struct conf *, int keep_setid);

/*
 * priv_become(uid, gid) -- make this process uid:gid before it runs a
 * tool; for the runner.
 *
 * Call it in the child between fork(2) and execve(2), never in the
 * runner itself: it is one-way.  posix_spawn(3) has no place for it.
 * It uses only system calls (no allocation, no lock, no log), so it is
 * safe after a fork.
 *
 * It raises CAP_SETUID and CAP_SETGID from the permitted set (priv_drop
 * with keep_setid left them there), sets no supplementary groups, then
 * the real, effective and saved gid and uid, then clears every
 * capability, and checks the ids, that no capability is left and that
 * setuid(0) fails.  When the process already is uid:gid (all three of
 * each) it changes no id and no group and needs no capability: mcpd not
 * started as root, or a tool of mcpd's own user.
 *
 * Returns 0, or -1 with errno: EPERM for uid or gid 0 (no tool runs as
 * root or group root) or when a check fails, else that of the failed
 * call.  After -1 the process may be half switched: the caller _exit()s
 * it and never runs the tool.
 */
int	priv_become(uid_t uid, gid_t gid);

/*
 * priv_watch(uid) -- the shepherd of a run whose tool is uid's: it must
 * be able to kill every process of the run, and no process of the run
 * may kill it (the run would lose the one that kills what it left).
 * kill(2) lets a sender whose real or effective uid is the target's real
 * or saved uid; so the shepherd takes uid as its effective uid only and
 * keeps the runner's real and saved uids.  A process of uid can then be
 * signalled by the shepherd and cannot signal it; nor ptrace it (the
 * change makes it non-dumpable, and it holds capabilities the tool has
 * not).  CAP_SETUID and CAP_SETGID stay permitted, not effective, for
 * the tool's priv_become().  Nothing to do when uid is the effective uid
 * already.  Clears the parent-death signal (any change of the effective
 * uid does): set it after.  0, or -1 with errno.
 */
int	priv_watch(uid_t uid);

/*
 * kill(2), and when that is EPERM because the process is another user's
 * (a tool of its own user whose shepherd is gone), again from a child
 * that takes the process's real uid as its effective uid for the one
 * call (the runner holds CAP_SETUID for this, and it is its child, so
 * its pid is not reused meanwhile).  0, or -1 with errno.
 */
int	priv_kill(pid_t pid, int sig);

#endif
