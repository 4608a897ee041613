/*
 * log.h -- one error vocabulary for every process (OpenBSD log.c shape).
 *
 * Every line carries the process title ("supervisor", "worker 3").  In the
 * foreground lines go to stderr; a daemon logs to syslog (LOG_DAEMON) or, when
 * "log-file" is set, to that file, which SIGUSR1 reopens.
 */
#ifndef MCPD_LOG_H
#define MCPD_LOG_H

#include <sys/types.h>

#include <stdarg.h>

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_FILE
};

void	log_init(enum log_dest, int debug, const char *file);
void	log_procname(const char *);
const char *log_getprocname(void);
int	log_reopen(void);
/* the log file (now and when reopened) goes to uid; -1: left as it is */
void	log_set_owner(uid_t);
int	log_getverbose(void);
void	log_setverbose(int);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_crit(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
