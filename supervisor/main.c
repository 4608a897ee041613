/*
 * main.c -- mcpd(8): options, start-up, daemonizing.
 *
 * The same binary is every process: without -P it is the supervisor; the
 * supervisor re-execs it with "-P role -I index -G generation" for each
 * child (fresh address space, fresh event loop, fresh RNG).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "priv.h"
#include "stdio_mode.h"
#include "sup.h"
#include "util.h"

#ifndef MCPD_CONF_PATH
#define MCPD_CONF_PATH	"/etc/mcpd/mcpd.conf"
#endif

static const char usage_text[] =
    "usage: mcpd [-dfnvV] [-c file]\n"
    "       mcpd --stdio [-d] [-c file]\n"
    "       mcpd -h | --help | -V | --version\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_STARTUP);
}

static void __attribute__((noreturn))
help(void)
{
	fputs(usage_text, stdout);
	printf("\n"
	    "The Model Context Protocol server daemon.\n"
	    "  -c file   the configuration (default %s)\n"
	    "  -d        log debug messages too\n"
	    "  -f        stay in the foreground, logging to the standard "
	    "error\n"
	    "  -n        check the configuration and exit (0: it is good)\n"
	    "  -v        with -n, print the configuration as read\n"
	    "  -V        print the version and exit\n"
	    "  --stdio   serve one client on the standard input and output\n"
	    "Signals: HUP reloads, TERM and INT stop.  See mcpd(8), "
	    "mcpd.conf(5).\n", MCPD_CONF_PATH);
	exit(0);
}

static void
print_errors(const struct conf_errors *errs)
{
	int i;

	for (i = 0; i < errs->e_count && i < CONF_ERRORS_MAX; i++)
		fprintf(stderr, "%s\n", errs->e_msg[i]);
	if (errs->e_count > CONF_ERRORS_MAX)
		fprintf(stderr, "(%d more errors)\n",
		    errs->e_count - CONF_ERRORS_MAX);
}

static uint32_t
parse_u32(const char *s, const char *what)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		fatalx("bad %s \"%s\"", what, s);
	return (uint32_t)v;
}

/* Take the pidfile lock; say who holds it when another mcpd does. */
static int
pidfile_lock(const char *path)
{
	char	buf[32];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		fprintf(stderr, "mcpd: pidfile %s: %s\n", path,
		    strerror(errno));
		exit(EXIT_STARTUP);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			fprintf(stderr, "mcpd: pidfile %s is locked by pid "
			    "%s: another mcpd is running with it\n", path,
			    buf[0] ? buf : "(unknown)");
		} else
			fprintf(stderr, "mcpd: lock %s: %s\n", path,
			    strerror(errno));
		exit(EXIT_STARTUP);
	}
	return fd;
}

static void
pidfile_write(int fd)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n)
		log_warn("write pidfile");
}

static void
daemonize(void)
{
	int fd, i;

	/* twice: the session leader goes, and no terminal can come back */
	for (i = 0; i < 2; i++) {
		switch (fork()) {
		case -1:
			fatal("fork");
		case 0:
			break;
		default:
			_exit(0);
		}
		if (i == 0 && setsid() == -1)
			fatal("setsid");
	}
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

int
main(int argc, char *argv[])
{
	struct conf_errors	 errs;
	char			 path[PATH_MAX], err[256];
	const char		*conffile = MCPD_CONF_PATH;
	int			 ch, debug = 0, fg = 0, noaction = 0, verbose = 0;
	int			 role = -1, stdio = 0;
	uint32_t		 index = 0, gen = 0;
	static const struct option longopts[] = {
		{ "stdio", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "c:dfhnvVP:I:G:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
		case 'S':
			stdio = 1;
			break;
		case 'c':
			conffile = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			fg = 1;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("mcpd %s\n", PACKAGE_VERSION);
			return 0;
		case 'P':
			if ((role = role_from_name(optarg)) == -1 ||
			    role == ROLE_SUPERVISOR)
				fatalx("bad role \"%s\"", optarg);
			break;
		case 'I':
			index = parse_u32(optarg, "index");
			break;
		case 'G':
			gen = parse_u32(optarg, "generation");
			break;
		default:
			usage();
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mcpd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage();
	}

	if (role != -1) {
		proctitle_init(argc, argv);
		child_main(role, index, gen, debug, fg);
	}

	if (stdio)
		stdio_main(conffile, debug);

	log_procname("supervisor");
	log_init(LOG_TO_STDERR, debug, NULL);
	memset(&errs, 0, sizeof(errs));
	if (noaction) {
		struct conf *c;

		if ((c = conf_parse(conffile, &errs)) == NULL) {
			print_errors(&errs);
			return EXIT_STARTUP;
		}
		if (verbose)
			conf_print(stdout, c);
		else
			fprintf(stderr, "configuration OK\n");
		conf_free(&c);
		return 0;
	}
	if (realpath(conffile, path) == NULL) {
		fprintf(stderr, "%s: %s\n", conffile, strerror(errno));
		return EXIT_STARTUP;
	}
	if (strlen(path) >= sizeof(sup->s_conf_path)) {
		fprintf(stderr, "%s: path too long\n", path);
		return EXIT_STARTUP;
	}
	memcpy(sup->s_conf_path, path, strlen(path) + 1);
	if ((sup->s_conf = conf_parse(sup->s_conf_path, &errs)) == NULL) {
		print_errors(&errs);
		return EXIT_STARTUP;
	}
	sup->s_debug = debug;
	sup->s_foreground = fg;
	sup->s_ctl_fd = -1;

	/* everything that can fail is done while errors still reach stderr */
	sup->s_pidfile_fd = pidfile_lock(sup->s_conf->c_pidfile);
	if (sb_create(&sup->s_sb) == -1) {
		fprintf(stderr, "mcpd: scoreboard: %s\n", strerror(errno));
		unlink(sup->s_conf->c_pidfile);
		return EXIT_STARTUP;
	}
	if (listen_open(sup->s_conf, sup->s_listeners, &sup->s_nlisteners,
	    NULL, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "mcpd: %s\n", err);
		unlink(sup->s_conf->c_pidfile);
		return EXIT_STARTUP;
	}
	if (control_open(sup->s_conf->c_control_socket) == -1) {
		fprintf(stderr, "mcpd: control socket %s: %s\n",
		    sup->s_conf->c_control_socket, strerror(errno));
		unlink(sup->s_conf->c_pidfile);
		return EXIT_STARTUP;
	}
	if (!fg) {
		daemonize();
		log_init(sup->s_conf->c_log_file[0] ? LOG_TO_FILE :
		    LOG_TO_SYSLOG, debug, sup->s_conf->c_log_file);
	}
	pidfile_write(sup->s_pidfile_fd);
	signal(SIGPIPE, SIG_IGN);
	proctitle_init(argc, argv);
	proctitle_set("supervisor");
	log_info("mcpd %s starting, configuration %s, pid %ld",
	    PACKAGE_VERSION, sup->s_conf_path, (long)getpid());
	if (priv_announce(sup->s_conf, "workers, agent and runner",
	    &sup->s_uid, &sup->s_gid)) {
		sup->s_drop = 1;
		/* theirs, or they cannot reopen it after a rotation */
		log_set_owner(sup->s_uid);
	}
	sup_run();
}
