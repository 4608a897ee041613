/*
 * audit.c -- the audit log: who called which tool, read which resource,
 * got which prompt, and who was turned away.
 *
 * One line a request, written with one write(2) to a file opened with
 * O_APPEND, so that the workers' lines never mix, or to syslog:
 *
 *	2026-12-07T02:50:00.123Z principal=static:alice addr=127.0.0.1
 *	    method=tools/call name="echo" outcome=ok status=200 rpc=0
 *	    ms=1.234 bytes=345
 *
 * (one line).  Values come from the network: anything but printable
 * ASCII, and '"' and '\', is written as \xHH, so a line is one line and
 * a name cannot forge a field.  The token is never written.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

static int	 audit_fd = -1;
static int	 to_syslog;
static char	 path[CONF_PATH_MAX_BYTES];

static void
open_file(void)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NONBLOCK, 0640)) == -1) {
		log_warn("access-log %s", path);
		return;
	}
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = fd;
}

void
audit_open(const struct conf *c)
{
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = -1;
	to_syslog = 0;
	path[0] = '\0';
	if (c->c_access_log[0] == '\0')
		return;
	if (strcmp(c->c_access_log, "syslog") == 0) {
		to_syslog = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s", c->c_access_log);
	open_file();
}

void
audit_reopen(void)
{
	if (path[0] != '\0')
		open_file();
}

/* s, escaped, at most n bytes of it, into b (which has room for 4n+1) */
static void
escape(char *b, size_t blen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t	o = 0;

	for (; n > 0 && *s != '\0' && o + 5 < blen; s++, n--) {
		unsigned char ch = (unsigned char)*s;

		if (ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\')
			b[o++] = (char)ch;
		else {
			b[o++] = '\\';
			b[o++] = 'x';
			b[o++] = hex[ch >> 4];
			b[o++] = hex[ch & 15];
		}
	}
	b[o] = '\0';
}

static void
peer(const struct conn *c, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof(ss);

	snprintf(buf, len, "-");
	if (getpeername(c->c_fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf,
		    (socklen_t)len);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    buf, (socklen_t)len);
}

static void
emit(const char *fields)
{
	char		 line[AUDIT_LINE_MAX_BYTES + 64], ts[32];
	struct timespec	 t;
	struct tm	 tm;
	int		 n;

	if (to_syslog) {
		syslog(LOG_NOTICE, "audit: %s", fields);
		return;
	}
	if (audit_fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s\n", ts,
	    t.tv_nsec / 1000000, fields);
	if (n >= (int)sizeof(line)) {
		n = (int)sizeof(line);
		line[n - 1] = '\n';
	}
	/* a full disk loses lines, not the worker's loop */
	if (write(audit_fd, line, (size_t)n) == -1 && errno != EAGAIN)
		log_warn("access-log %s", path);
}

static int
enabled(void)
{
	return to_syslog || audit_fd != -1;
}

void
audit_request(struct conn *c)
{
	const struct hreq	*r = c->c_req;
	char			 who[4 * PRINCIPAL_MAX_BYTES + 1];
	char			 name[4 * AUDIT_NAME_MAX_BYTES + 1];
	char			 addr[INET6_ADDRSTRLEN], f[AUDIT_LINE_MAX_BYTES];
	const char		*outcome;
	int			 st = r->r_status ? r->r_status : 200;

	if (!enabled() || (r->r_mx != MX_TOOLS_CALL &&
	    r->r_mx != MX_RESOURCES_READ && r->r_mx != MX_PROMPTS_GET))
		return;
	if (r->r_scope_denied)
		outcome = "insufficient_scope";
	else if (st == 503 || st == 429)
		outcome = "rejected";
	else if (st >= 500 || r->r_rpc_code == JSONRPC_INTERNAL_ERROR)
		outcome = "failure";
	else if (st >= 400 || r->r_rpc_code != 0)
		outcome = "error";
	else
		outcome = "ok";
	escape(who, sizeof(who), r->r_principal[0] ? r->r_principal : "-",
	    PRINCIPAL_MAX_BYTES);
	escape(name, sizeof(name), r->r_audit_name[0] ? r->r_audit_name :
	    "-", AUDIT_NAME_MAX_BYTES);
	peer(c, addr, sizeof(addr));
	snprintf(f, sizeof(f), "principal=%s addr=%s method=%s name=\"%s\" "
	    "outcome=%s status=%d rpc=%d ms=%.3f bytes=%llu", who, addr,
	    mx_method_name((enum mx_method)r->r_mx), name, outcome, st,
	    r->r_rpc_code, (double)(now_us() - r->r_t0_us) / 1000.0,
	    (unsigned long long)r->r_bytes);
	emit(f);
}

void
audit_denied(struct conn *c, const char *why)
{
	char	addr[INET6_ADDRSTRLEN], f[256];

	if (!enabled())
		return;
	peer(c, addr, sizeof(addr));
	snprintf(f, sizeof(f), "principal=- addr=%s method=auth name=\"-\" "
	    "outcome=denied status=401 reason=%s", addr, why);
	emit(f);
}
