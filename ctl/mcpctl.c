/*
 * mcpctl.c -- mcpctl(8): ask a running mcpd over its control socket.
 *
 * One request, one reply: the reply is a series of frames ending with
 * CTL_RESULT.  The socket path comes from -s, or from the configuration
 * file (-c, default MCPD_CONF_PATH), or is MCPD_RUNDIR/mcpd.sock.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "metrics.h"
#include "msg.h"
#include "tokens.h"

#ifndef MCPD_CONF_PATH
#define MCPD_CONF_PATH	"/etc/mcpd/mcpd.conf"
#endif

#define CTL_TIMEOUT_MS	30000	/* a reload may wait for bind(2) */

/* exit statuses */
#define CTL_EXIT_OK	0
#define CTL_EXIT_FAIL	1	/* the request failed (e.g. bad config) */
#define CTL_EXIT_USAGE	2
#define CTL_EXIT_CONN	3	/* cannot reach mcpd */

struct row {
	char		role[16];
	uint64_t	index, pid, gen, up, restarts, conns, delay;
	char		state[16];
};

static const char usage_text[] =
    "usage: mcpctl [-c file | -s socket] status [--json]\n"
    "       mcpctl [-c file | -s socket] stats [--json]\n"
    "       mcpctl [-c file | -s socket] cluster [--json]\n"
    "       mcpctl [-c file | -s socket] reload\n"
    "       mcpctl [-c file | -s socket] stop\n"
    "       mcpctl token new NAME [--scope SCOPE ...] [SCOPE ...]\n"
    "       mcpctl -h | --help | -V | --version\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stderr);
	exit(CTL_EXIT_USAGE);
}

/* A usage error that names itself first. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("mcpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
}

static void __attribute__((noreturn))
help(void)
{
	fputs(usage_text, stdout);
	printf("\n"
	    "Ask a running mcpd over its control socket.\n"
	    "  -c file    the daemon's configuration, for its control-socket "
	    "(default %s)\n"
	    "  -s socket  the control socket itself\n"
	    "  status     the daemon and each of its processes\n"
	    "  stats      its figures, added up over its processes\n"
	    "  cluster    this node's view of the cluster\n"
	    "  reload     read the configuration again (as SIGHUP)\n"
	    "  stop       stop the daemon (as SIGTERM)\n"
	    "  token new  a new static bearer token and its hash line\n"
	    "  --json     one JSON object instead of the table\n"
	    "Exit status: 0 ok, 1 the request failed, 2 usage, 3 mcpd not "
	    "reached.  See mcpctl(8).\n", MCPD_CONF_PATH);
	exit(CTL_EXIT_OK);
}

/* "--json" or nothing after a command: 1, 0; anything else is an error. */
static int
json_arg(int argc, char *argv[])
{
	if (argc == 1)
		return 0;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return 1;
	usage_err("%s: unexpected argument \"%s\"", argv[0],
	    strcmp(argv[1], "--json") == 0 ? argv[2] : argv[1]);
}

/*
 * The scopes of "token new": each word of "--scope S" (or "--scope=S";
 * S may be a " "-separated list) and each bare word after NAME, in order,
 * appended to line.  The name is argv[0]; NULL: a usage error.
 */
static const char *
token_scopes(int argc, char *argv[], char *line, size_t len, size_t *used)
{
	const char	*name = NULL, *v, *e;
	int		 i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--scope") == 0) {
			if (++i == argc)
				return NULL;
			v = argv[i];
		} else if (strncmp(argv[i], "--scope=", 8) == 0)
			v = argv[i] + 8;
		else if (name == NULL) {
			name = argv[i];
			continue;
		} else
			v = argv[i];
		for (; *v != '\0' && *used < len; v = e) {
			if (*v == ' ') {
				e = v + 1;
				continue;
			}
			if ((e = strchr(v, ' ')) == NULL)
				e = v + strlen(v);
			*used += (size_t)snprintf(line + *used, len - *used,
			    " %.*s", (int)(e - v), v);
		}
	}
	return name;
}

/*
 * "token new NAME [--scope SCOPE ...] [SCOPE ...]": a new static token,
 * printed once, and the line of its hash for an auth block's
 * static-tokens file.  Nothing is asked of mcpd and nothing is written:
 * the token exists only on this terminal, the file holds only its hash.
 */
static int
token_new(int argc, char *argv[])
{
	char	tok[TOKEN_TEXT_MAX_BYTES], hex[2 * TOKEN_HASH_BYTES + 1];
	char	line[TOKEN_NAME_MAX_BYTES + TOKEN_SCOPES_MAX_BYTES + 80];
	char	scopes[TOKEN_SCOPES_MAX_BYTES + 80], err[128];
	const char *name;
	struct tokens ts;
	size_t	used = 0;

	if (argc < 2)
		usage_err("token: which? (token new NAME ...)");
	if (strcmp(argv[1], "new") != 0)
		usage_err("token: unknown subcommand \"%s\"", argv[1]);
	scopes[0] = '\0';
	if (argc < 3 || (name = token_scopes(argc - 2, argv + 2, scopes,
	    sizeof(scopes), &used)) == NULL)
		usage_err("token new: a NAME is needed (and --scope a SCOPE)");
	if (sodium_init() == -1) {
		fprintf(stderr, "mcpctl: libsodium does not start\n");
		return CTL_EXIT_FAIL;
	}
	if (strlen(name) >= TOKEN_NAME_MAX_BYTES || name[0] == '\0' ||
	    name[strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@")] != '\0') {
		fprintf(stderr, "mcpctl: token new: invalid name \"%s\" (1 to "
		    "%d letters, digits, \"_\", \".\", \"-\", \"@\")\n", name,
		    TOKEN_NAME_MAX_BYTES - 1);
		return CTL_EXIT_USAGE;
	}
	if (used >= sizeof(scopes)) {
		fprintf(stderr, "mcpctl: token new: too long\n");
		return CTL_EXIT_USAGE;
	}
	tokens_new(tok, sizeof(tok), hex, sizeof(hex));
	used = (size_t)snprintf(line, sizeof(line), "%s sha256:%s%s", name,
	    hex, scopes);
	/* the line must read back as the daemon will read it */
	if (used >= sizeof(line) ||
	    tokens_parse(line, strlen(line), &ts, err, sizeof(err)) == -1) {
		fprintf(stderr, "mcpctl: token new: %s\n", used >= sizeof(line) ?
		    "too long" : strchr(err, ' ') != NULL ?
		    strchr(err, ' ') + 1 : err);
		sodium_memzero(tok, sizeof(tok));
		return CTL_EXIT_USAGE;
	}
	tokens_free(&ts);
	printf("token: %s\n", tok);
	printf("line:  %s\n", line);
	sodium_memzero(tok, sizeof(tok));
	return CTL_EXIT_OK;
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "mcpctl: %s: path too long\n", path);
		exit(CTL_EXIT_USAGE);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "mcpctl: %s: %s (is mcpd running?)\n", path,
		    strerror(errno));
		exit(CTL_EXIT_CONN);
	}
	return fd;
}

/*
 * The file does not parse (e.g. a reload is about to fail): still find the
 * daemon by the first top-level "control-socket" line.
 */
static int
peek_control_socket(const char *file, char *out, size_t outlen)
{
	FILE	*f;
	char	 line[1024], *p, *e;
	int	 found = 0;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		p = line + strspn(line, " \t");
		if (strncmp(p, "control-socket", 14) != 0 ||
		    (p[14] != ' ' && p[14] != '\t'))
			continue;
		p += 14 + strspn(p + 14, " \t");
		if (*p == '"') {
			if ((e = strchr(++p, '"')) == NULL)
				continue;
		} else
			e = p + strcspn(p, " \t\r\n#");
		*e = '\0';
		if (*p != '\0' && strlen(p) < outlen) {
			memcpy(out, p, strlen(p) + 1);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* The tier's number, as mcpd_alert_tier and stats --json give it. */
static unsigned
tier_level(const char *name)
{
	unsigned t;

	for (t = 0; t < MX_TIERS; t++)
		if (strcmp(name, mx_tier_name(t)) == 0)
			return t;
	return 0;
}

static void
fmt_uptime(char *buf, size_t len, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llu.%01llus", (unsigned long long)s,
		    (unsigned long long)(ms % 1000) / 100);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)s / 3600,
		    (unsigned long long)(s % 3600) / 60);
	else
		snprintf(buf, len, "%llud%02lluh",
		    (unsigned long long)s / 86400,
		    (unsigned long long)(s % 86400) / 3600);
}

int
main(int argc, char *argv[])
{
	static char		 buf[MSG_FRAME_MAX_BYTES + 1];
	struct msg		 msgs[MSG_PER_FRAME_MAX];
	struct row		*rows = NULL;
	size_t			 nrows = 0;
	msgpack_sbuffer		 sb;
	const char		*conffile = MCPD_CONF_PATH, *sock = NULL, *cmd;
	char			 sockbuf[CONF_PATH_MAX_BYTES], err[160];
	char			 dconf[CONF_PATH_MAX_BYTES] = "";
	char			 dstate[16] = "";
	char			 atier[16] = "green", awhy[256] = "";
	int			 ashed = 0;
	uint64_t		 reg[4] = { 0, 0, 0, 0 };
	char			 result[MSG_FRAME_MAX_BYTES + 1] = "";
	uint64_t		 dpid = 0, dgen = 0, dup_ms = 0, dworkers = 0;
	uint32_t		 type;
	int			 ch, fd, json = 0, done = 0, status = -1, i, n;
	int			 cflag = 0;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	ssize_t			 len;

	while ((ch = getopt_long(argc, argv, "+c:hs:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			cflag = 1;
			break;
		case 'h':
			help();
		case 's':
			sock = optarg;
			break;
		case 'V':
			printf("mcpctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage_err("no command");
	cmd = argv[0];
	if (strcmp(cmd, "token") == 0)
		return token_new(argc, argv);
	if (strcmp(cmd, "status") == 0) {
		type = MSG_CTL_STATUS;
		json = json_arg(argc, argv);
	} else if (strcmp(cmd, "stats") == 0) {
		type = MSG_CTL_STATS;
		json = json_arg(argc, argv);
	} else if (strcmp(cmd, "cluster") == 0) {
		type = MSG_CTL_CLUSTER;
		json = json_arg(argc, argv);
	} else if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "stop") == 0) {
		type = strcmp(cmd, "reload") == 0 ? MSG_CTL_RELOAD :
		    MSG_CTL_STOP;
		if (argc != 1)
			usage_err("%s: unexpected argument \"%s\"", cmd,
			    argv[1]);
	} else
		usage_err("unknown command \"%s\"", cmd);

	/* a file named on the command line must be there */
	if (sock == NULL && cflag && access(conffile, R_OK) == -1) {
		fprintf(stderr, "mcpctl: %s: %s\n", conffile, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	if (sock == NULL) {
		struct conf_errors	 errs;
		struct conf		*c;

		memset(&errs, 0, sizeof(errs));
		if ((c = conf_parse(conffile, &errs)) != NULL) {
			snprintf(sockbuf, sizeof(sockbuf), "%s",
			    c->c_control_socket);
			conf_free(&c);
		} else if (peek_control_socket(conffile, sockbuf,
		    sizeof(sockbuf)) == -1)
			snprintf(sockbuf, sizeof(sockbuf), "%s",
			    MCPD_RUNDIR "/mcpd.sock");
		sock = sockbuf;
	}
	fd = ctl_connect(sock);
	msgpack_sbuffer_init(&sb);
	if ((type == MSG_CTL_STATS || type == MSG_CTL_CLUSTER ? msg_pack(&sb, &msg_proto_ctl, type, 0,
	    1, (uint64_t)CTL_PROTO_VERSION, (uint64_t)json) :
	    msg_pack(&sb, &msg_proto_ctl, type, 0, 1,
	    (uint64_t)CTL_PROTO_VERSION)) == -1 ||
	    send(fd, sb.data, sb.size, MSG_NOSIGNAL) != (ssize_t)sb.size) {
		fprintf(stderr, "mcpctl: send: %s\n", strerror(errno));
		return CTL_EXIT_CONN;
	}
	msgpack_sbuffer_destroy(&sb);

	while (!done) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, CTL_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "mcpctl: no answer from mcpd within "
			    "%d ms\n", CTL_TIMEOUT_MS);
			return CTL_EXIT_CONN;
		}
		if ((len = recv(fd, buf, sizeof(buf), 0)) <= 0) {
			fprintf(stderr, "mcpctl: mcpd closed the connection\n");
			return CTL_EXIT_CONN;
		}
		n = msg_unpack_frame(&msg_proto_ctl, buf, len, -1, 0, msgs,
		    err, sizeof(err));
		if (n == -1) {
			fprintf(stderr, "mcpctl: bad reply: %s\n", err);
			return CTL_EXIT_CONN;
		}
		for (i = 0; i < n && !done; i++) {
			struct msg *m = &msgs[i];

			if (strcmp(msg_dir(&msg_proto_ctl, m->m_type),
			    "sup>ctl") != 0) {
				fprintf(stderr, "mcpctl: bad reply: %s from "
				    "mcpd\n", msg_name(&msg_proto_ctl,
				    m->m_type));
				return CTL_EXIT_CONN;
			}

			switch (m->m_type) {
			case MSG_CTL_DAEMON:
				dpid = m->m_f[0].u;
				dgen = m->m_f[1].u;
				dup_ms = m->m_f[2].u;
				msg_strcpy(dconf, sizeof(dconf), &m->m_f[3]);
				dworkers = m->m_f[4].u;
				msg_strcpy(dstate, sizeof(dstate), &m->m_f[5]);
				break;
			case MSG_CTL_PROC: {
				struct row *r;

				r = realloc(rows, (nrows + 1) * sizeof(*r));
				if (r == NULL)
					return CTL_EXIT_FAIL;
				rows = r;
				r = &rows[nrows++];
				memset(r, 0, sizeof(*r));
				msg_strcpy(r->role, sizeof(r->role),
				    &m->m_f[0]);
				r->index = m->m_f[1].u;
				r->pid = m->m_f[2].u;
				r->gen = m->m_f[3].u;
				msg_strcpy(r->state, sizeof(r->state),
				    &m->m_f[4]);
				r->up = m->m_f[5].u;
				r->restarts = m->m_f[6].u;
				r->conns = m->m_f[7].u;
				r->delay = m->m_f[8].u;
				break;
			}
			case MSG_CTL_ALERT:
				msg_strcpy(atier, sizeof(atier), &m->m_f[1]);
				msg_strcpy(awhy, sizeof(awhy), &m->m_f[2]);
				ashed = m->m_f[3].u != 0;
				break;
			case MSG_CTL_REGISTRY:
				reg[0] = m->m_f[0].u;
				reg[1] = m->m_f[1].u;
				reg[2] = m->m_f[2].u;
				reg[3] = m->m_f[3].u;
				break;
			case MSG_CTL_TEXT:
				fwrite(m->m_f[0].s.p, 1, m->m_f[0].s.len,
				    stdout);
				break;
			case MSG_CTL_RESULT:
				status = (int)m->m_f[0].u;
				msg_strcpy(result, sizeof(result), &m->m_f[1]);
				done = 1;
				break;
			default:
				fprintf(stderr, "mcpctl: unexpected %s\n",
				    msg_name(&msg_proto_ctl, m->m_type));
				return CTL_EXIT_CONN;
			}
		}
	}
	close(fd);

	if (status != 0) {
		fprintf(stderr, "%s\n", result[0] ? result : "failed");
		return CTL_EXIT_FAIL;
	}
	if (type != MSG_CTL_STATUS) {
		if (result[0])
			printf("%s\n", result);
		return CTL_EXIT_OK;
	}
	if (json) {
		size_t k;

		printf("{\"pid\":%llu,\"generation\":%llu,\"uptime_ms\":%llu,"
		    "\"config\":", (unsigned long long)dpid,
		    (unsigned long long)dgen, (unsigned long long)dup_ms);
		json_str(dconf);
		printf(",\"workers\":%llu,\"state\":",
		    (unsigned long long)dworkers);
		json_str(dstate);
		printf(",\"alert\":{\"tier\":");
		json_str(atier);
		printf(",\"level\":%u", tier_level(atier));
		printf(",\"reason\":");
		json_str(awhy);
		printf(",\"shedding\":%s}", ashed ? "true" : "false");
		printf(",\"registry\":{\"records\":%llu,\"replay_events\":%llu,"
		    "\"bytes\":%llu,\"lag_bytes\":%llu}",
		    (unsigned long long)reg[0], (unsigned long long)reg[1],
		    (unsigned long long)reg[2], (unsigned long long)reg[3]);
		printf(",\"processes\":[");
		for (k = 0; k < nrows; k++) {
			struct row *r = &rows[k];

			printf("%s{\"role\":", k ? "," : "");
			json_str(r->role);
			printf(",\"index\":%llu,\"pid\":%llu,\"generation\":"
			    "%llu,\"state\":", (unsigned long long)r->index,
			    (unsigned long long)r->pid,
			    (unsigned long long)r->gen);
			json_str(r->state);
			printf(",\"uptime_ms\":%llu,\"restarts\":%llu,"
			    "\"connections\":%llu,\"restart_delay_ms\":%llu}",
			    (unsigned long long)r->up,
			    (unsigned long long)r->restarts,
			    (unsigned long long)r->conns,
			    (unsigned long long)r->delay);
		}
		printf("]}\n");
	} else {
		char	up[32], idx[24], pid[24], delay[64];
		size_t	k;

		printf("mcpd pid %llu, generation %llu, %s, %llu workers, "
		    "config %s\n", (unsigned long long)dpid,
		    (unsigned long long)dgen, dstate,
		    (unsigned long long)dworkers, dconf);
		printf("alert %s%s%s%s\n", atier, awhy[0] ? ": " : "", awhy,
		    ashed ? " (shedding load)" : "");
		printf("registry %llu records, %llu replay events, %llu "
		    "bytes, lag %llu bytes\n", (unsigned long long)reg[0],
		    (unsigned long long)reg[1], (unsigned long long)reg[2],
		    (unsigned long long)reg[3]);
		printf("%-10s %5s %8s %4s %-11s %9s %8s %11s\n", "ROLE",
		    "INDEX", "PID", "GEN", "STATE", "UPTIME", "RESTARTS",
		    "CONNECTIONS");
		for (k = 0; k < nrows; k++) {
			struct row *r = &rows[k];

			if (strcmp(r->role, "worker") == 0)
				snprintf(idx, sizeof(idx), "%llu",
				    (unsigned long long)r->index);
			else
				snprintf(idx, sizeof(idx), "-");
			if (r->pid)
				snprintf(pid, sizeof(pid), "%llu",
				    (unsigned long long)r->pid);
			else
				snprintf(pid, sizeof(pid), "-");
			fmt_uptime(up, sizeof(up), r->up);
			printf("%-10s %5s %8s %4llu %-11s %9s %8llu %11llu",
			    r->role, idx, pid, (unsigned long long)r->gen,
			    r->state, r->pid ? up : "-",
			    (unsigned long long)r->restarts,
			    (unsigned long long)r->conns);
			if (r->delay) {
				snprintf(delay, sizeof(delay),
				    "  restart in %llu.%03llus",
				    (unsigned long long)r->delay / 1000,
				    (unsigned long long)r->delay % 1000);
				fputs(delay, stdout);
			}
			putchar('\n');
		}
	}
	free(rows);
	return CTL_EXIT_OK;
}
