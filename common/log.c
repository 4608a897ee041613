/*
 * log.c -- logging to stderr, syslog or a file, with the process title.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX_BYTES	2048	/* bytes in one formatted line */

static enum log_dest	 log_dest = LOG_TO_STDERR;
static int		 log_verbose;
static char		 log_name[64] = "mcpd";
static char		*log_file;
static int		 log_fd = -1;
static uid_t		 log_owner = (uid_t)-1;
static int		 log_journal;	/* stderr is systemd's journal */

/*
 * The file belongs to the user the children run as, or they could not
 * reopen it after a rotation (nginx does the same with its logs).
 */
static void
own_file(int fd)
{
	struct stat	st;

	if (log_owner == (uid_t)-1 || fstat(fd, &st) == -1 ||
	    st.st_uid == log_owner)
		return;
	if (fchown(fd, log_owner, (gid_t)-1) == -1)
		syslog(LOG_DAEMON | LOG_ERR, "%s: chown %s to uid %lu: %s",
		    log_name, log_file, (unsigned long)log_owner,
		    strerror(errno));
}

static void
open_file(void)
{
	int fd;

	fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1) {
		/* keep the old file, or fall back to syslog */
		syslog(LOG_DAEMON | LOG_ERR, "%s: open %s: %s", log_name,
		    log_file, strerror(errno));
		return;
	}
	own_file(fd);
	if (log_fd != -1)
		close(log_fd);
	log_fd = fd;
}

void
log_set_owner(uid_t uid)
{
	log_owner = uid;
	if (log_fd != -1 && log_dest == LOG_TO_FILE)
		own_file(log_fd);
}

/*
 * Our standard error is the journal's stream when JOURNAL_STREAM names
 * its device and inode (systemd.exec(5)): then each line starts with its
 * priority, "<3>", and carries no time or pid of ours (sd-daemon(3)) --
 * the journal adds its own.
 */
static int
journal_stream(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;
	char			 end;

	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_dest dest, int debug, const char *file)
{
	log_dest = dest;
	log_verbose = debug;
	free(log_file);
	log_file = NULL;
	if (dest == LOG_TO_FILE && file != NULL && *file != '\0') {
		if ((log_file = strdup(file)) == NULL)
			log_dest = LOG_TO_SYSLOG;
		else
			open_file();
	}
	if (log_dest != LOG_TO_STDERR)
		openlog("mcpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_journal = journal_stream();
	tzset();
}

void
log_procname(const char *name)
{
	snprintf(log_name, sizeof(log_name), "%s", name);
}

const char *
log_getprocname(void)
{
	return log_name;
}

int
log_reopen(void)
{
	if (log_dest != LOG_TO_FILE || log_file == NULL)
		return 0;
	open_file();
	return log_fd == -1 ? -1 : 0;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

static void vlog(int, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char		 msg[LOG_LINE_MAX_BYTES];
	char		 line[LOG_LINE_MAX_BYTES + 128];
	struct timespec	 ts;
	struct tm	 tm;
	int		 saved = errno, n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	switch (log_dest) {
	case LOG_TO_SYSLOG:
		if (suffix != NULL)
			syslog(pri, "%s: %s: %s", log_name, msg, suffix);
		else
			syslog(pri, "%s: %s", log_name, msg);
		break;
	case LOG_TO_STDERR:
	case LOG_TO_FILE:
		if (log_dest == LOG_TO_STDERR && log_journal) {
			n = snprintf(line, sizeof(line), "<%d>%s: %s%s%s\n",
			    LOG_PRI(pri), log_name, msg, suffix ? ": " : "",
			    suffix ? suffix : "");
			goto out;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
		    "%04d-%02d-%02d %02d:%02d:%02d.%03ld mcpd[%ld]: %s: %s%s%s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid(),
		    log_name, msg, suffix ? ": " : "", suffix ? suffix : "");
	out:
		if (n < 0)
			break;
		if ((size_t)n >= sizeof(line)) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		/* one write(2) per line: lines of several processes do not mix */
		if (log_dest == LOG_TO_FILE && log_fd != -1)
			(void)!write(log_fd, line, n);
		else
			(void)!write(STDERR_FILENO, line, n);
		break;
	}
	errno = saved;
}

#define LOGFN(fn, pri, cond)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	if (!(cond))					\
		return;					\
	va_start(ap, fmt);				\
	vlog(pri, fmt, ap, NULL);			\
	va_end(ap);					\
}

LOGFN(log_warnx, LOG_WARNING, 1)
LOGFN(log_crit, LOG_CRIT, 1)
LOGFN(log_err, LOG_ERR, 1)
LOGFN(log_info, LOG_INFO, 1)
LOGFN(log_notice, LOG_NOTICE, 1)
LOGFN(log_debug, LOG_DEBUG, log_verbose)

/* the line with strerror(errno) after it */
static void __attribute__((format(printf, 2, 0)))
vlog_errno(int pri, const char *fmt, va_list ap)
{
	char err[128];

	snprintf(err, sizeof(err), "%s", strerror(errno));
	vlog(pri, fmt, ap, err);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
