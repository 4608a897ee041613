/*
 * sup.c -- the supervisor's event loop: signals, reload, shutdown.
 *
 * The supervisor holds the configuration, the listeners, the scoreboard and
 * the control socket, and never serves a client.  SIGHUP reloads, SIGTERM
 * and SIGINT stop gracefully (a second one kills), SIGQUIT stops fast,
 * SIGUSR1 reopens the log file everywhere.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "sup.h"
#include "util.h"

static struct sup	 the_sup;
struct sup		*sup = &the_sup;
static char		 notify_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
void
sup_notify(const char *state)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	if (notify_path[0] == '\0')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, notify_path, sizeof(sun.sun_path));
	len = offsetof(struct sockaddr_un, sun_path) + strlen(notify_path);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("sd_notify %s", notify_path);
	close(fd);
}

/*
 * Every member that should run is READY: the start-up, or a reload, is
 * complete.  That is when systemd hears READY=1.
 */
void
sup_check_started(void)
{
	size_t	i;
	char	buf[64];

	if (sup->s_state != SUP_STARTING && !sup->s_reloading)
		return;
	for (i = 0; i < sup->s_rs.n; i++) {
		struct member *m = &sup->s_members[i];

		if (sup->s_rs.c[i].state == RS_GONE || m->m_removing)
			continue;
		if (m->m_proc == NULL || m->m_proc->p_state != P_READY)
			return;
	}
	if (sup->s_state == SUP_STARTING) {
		sup->s_state = SUP_RUNNING;
		log_info("started: %u workers, agent and runner ready in "
		    "%llu ms (generation %u)", proc_nworkers(),
		    (unsigned long long)(now_ms() - sup->s_start_ms),
		    sup->s_gen);
	} else
		log_info("reload complete: %u workers ready (generation %u)",
		    proc_nworkers(), sup->s_gen);
	sup->s_reloading = 0;
	snprintf(buf, sizeof(buf), "READY=1\nMAINPID=%ld", (long)getpid());
	sup_notify(buf);
}

static int
conf_text(const struct conf *c, char **text, size_t *len)
{
	FILE *f;

	*text = NULL;
	*len = 0;
	if ((f = open_memstream(text, len)) == NULL)
		return -1;
	conf_print(f, c);
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

/* Set the policy parameters and child specs from the configuration. */
static void
apply_policy(const struct conf *c)
{
	size_t i;

	sup->s_rs.p.strategy = c->c_strategy;
	sup->s_rs.p.max_restarts = c->c_restart_intensity;
	sup->s_rs.p.period_ms = c->c_restart_period_ms;
	sup->s_rs.p.throttle_min_ms = c->c_throttle_min_ms;
	sup->s_rs.p.throttle_max_ms = c->c_throttle_max_ms;
	sup->s_rs.p.reset_ms = c->c_throttle_reset_ms;
	sup->s_rs.p.auto_shutdown = c->c_auto_shutdown;
	for (i = 0; i < sup->s_rs.n; i++) {
		const struct conf_spec *s =
		    &c->c_spec[sup->s_members[i].m_role];

		sup->s_rs.c[i].restart = s->s_restart;
		sup->s_rs.c[i].significant = s->s_significant;
	}
}

/*
 * The keys that seal ids: the cluster key file's, or one random key of
 * this run.  0, or -1 (logged).
 */
int
sup_keys_load(const struct conf *c, struct cluster_keys *ks)
{
	char err[CONF_PATH_MAX_BYTES + 160];

	if (c->c_cluster == NULL) {
		memset(ks, 0, sizeof(*ks));
		ks->n = 1;
		randombytes_buf(ks->k[0].ck_key, sizeof(ks->k[0].ck_key));
		return 0;
	}
	if (cluster_keys_load(c->c_cluster->cl_key_file, ks, err,
	    sizeof(err)) == -1) {
		log_warnx("cluster: key-file: %s", err);
		return -1;
	}
	return 0;
}

/*
 * A reload re-reads the cluster key file (its text is not in the
 * configuration's): new keys go to every worker at once, so all seal with
 * the new one and open with the old until its date.
 */
static void
reload_keys(const struct conf *nc)
{
	struct cluster_keys ks;

	if (nc->c_cluster == NULL || sup_keys_load(nc, &ks) == -1)
		return;
	if (sodium_memcmp(&ks, &sup->s_keys, sizeof(ks)) != 0) {
		sup->s_keys = ks;
		proc_send_keys(NULL);
		log_info("reload: cluster keys: sealing with key %u, %u in "
		    "all", (unsigned)ks.k[0].ck_id, (unsigned)ks.n);
	}
	sodium_memzero(&ks, sizeof(ks));
}

/*
 * Parse the file again into a new object; keep the running one on error.
 * A change of "workers" alone starts or stops workers; any other change
 * starts a new generation of workers with the new configuration.  The
 * agent and the runner keep running; the runner gets the new
 * configuration first (the tools it checks runs against).
 */
int
sup_reload(char *msg, size_t msglen)
{
	struct conf		*nc, tmp;
	struct proc		*p;
	struct conf_errors	 errs;
	struct slistener	 nl[CONF_LISTENERS_MAX];
	uint32_t		 nnl, was, want;
	char			*text, *t2;
	size_t			 len, l2, off;
	int			 workers_only, catalog_only, k;

	msg[0] = '\0';
	if (sup->s_state == SUP_STOPPING) {
		snprintf(msg, msglen, "mcpd is stopping");
		return -1;
	}
	memset(&errs, 0, sizeof(errs));
	if ((nc = conf_parse(sup->s_conf_path, &errs)) == NULL) {
		off = 0;
		for (k = 0; k < errs.e_count && k < CONF_ERRORS_MAX; k++) {
			log_warnx("reload: %s", errs.e_msg[k]);
			if (off < msglen)
				off += snprintf(msg + off, msglen - off, "%s%s",
				    k ? "\n" : "", errs.e_msg[k]);
		}
		log_warnx("reload: %s has errors; keeping the running "
		    "configuration", sup->s_conf_path);
		return -1;
	}
	/* paths the running daemon holds cannot change under it */
	if (strcmp(nc->c_pidfile, sup->s_conf->c_pidfile) != 0 ||
	    strcmp(nc->c_control_socket, sup->s_conf->c_control_socket) != 0)
		log_warnx("reload: pidfile and control-socket changes take "
		    "effect at the next start");
	memcpy(nc->c_pidfile, sup->s_conf->c_pidfile, sizeof(nc->c_pidfile));
	memcpy(nc->c_control_socket, sup->s_conf->c_control_socket,
	    sizeof(nc->c_control_socket));
	/*
	 * One user for every process of a run: the agent and the runner
	 * keep theirs, and the log file belongs to it.
	 */
	if (strcmp(nc->c_user, sup->s_conf->c_user) != 0 ||
	    strcmp(nc->c_group, sup->s_conf->c_group) != 0)
		log_warnx("reload: user and group changes take effect at the "
		    "next start");
	memcpy(nc->c_user, sup->s_conf->c_user, sizeof(nc->c_user));
	memcpy(nc->c_group, sup->s_conf->c_group, sizeof(nc->c_group));
	/*
	 * A node's name and its being one of a cluster are in every id it
	 * made: they change at the next start, when its sessions end anyway.
	 */
	if ((nc->c_cluster == NULL) != (sup->s_conf->c_cluster == NULL) ||
	    (nc->c_cluster != NULL && strcmp(nc->c_cluster->cl_node,
	    sup->s_conf->c_cluster->cl_node) != 0)) {
		snprintf(msg, msglen, "cluster: a change of node, or of having "
		    "a cluster block, needs a restart; keeping the running "
		    "configuration");
		log_warnx("reload: %s", msg);
		conf_free(&nc);
		return -1;
	}
	reload_keys(nc);
	if (conf_text(nc, &text, &len) == -1) {
		conf_free(&nc);
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	if (len == sup->s_conf_len && memcmp(text, sup->s_conf_text, len) == 0) {
		free(text);
		conf_free(&nc);
		log_info("reload: configuration unchanged");
		snprintf(msg, msglen, "configuration unchanged");
		return 0;
	}
	if (listen_open(nc, nl, &nnl, sup->s_listeners, sup->s_nlisteners,
	    msg, msglen) == -1) {
		log_warnx("reload: %s; keeping the running configuration",
		    msg);
		free(text);
		conf_free(&nc);
		return -1;
	}
	sup_notify("RELOADING=1");
	listen_close_unused(sup->s_listeners, sup->s_nlisteners, nl, nnl);
	memcpy(sup->s_listeners, nl, sizeof(nl));
	sup->s_nlisteners = nnl;

	tmp = *nc;
	tmp.c_workers = sup->s_conf->c_workers;
	workers_only = 0;
	if (conf_text(&tmp, &t2, &l2) == 0) {
		workers_only = l2 == sup->s_conf_len &&
		    memcmp(t2, sup->s_conf_text, l2) == 0;
		free(t2);
	}
	catalog_only = 0;
	{
		struct conf	 a = *nc, b = *sup->s_conf;
		char		*ta, *tb;
		size_t		 la, lb;

		/* blank the catalogs of both (struct copies share them) */
		a.c_ntools = b.c_ntools = 0;
		a.c_nresources = b.c_nresources = 0;
		a.c_nprompts = b.c_nprompts = 0;
		if (conf_text(&a, &ta, &la) == 0) {
			if (conf_text(&b, &tb, &lb) == 0) {
				catalog_only = la == lb &&
				    memcmp(ta, tb, la) == 0;
				free(tb);
			}
			free(ta);
		}
	}
	was = proc_nworkers();
	want = conf_workers(nc);
	if (!sup->s_foreground)
		log_init(nc->c_log_file[0] ? LOG_TO_FILE : LOG_TO_SYSLOG,
		    sup->s_debug, nc->c_log_file);
	conf_free(&sup->s_conf);
	sup->s_conf = nc;
	free(sup->s_conf_text);
	sup->s_conf_text = text;
	sup->s_conf_len = len;
	apply_policy(nc);
	proc_reconf_services();
	if (catalog_only) {
		/* tools, resources, prompts: in place, sessions live on */
		unsigned n = proc_reconf_workers();

		snprintf(msg, msglen, "reloaded: catalog updated in %u "
		    "workers", n);
	} else if (workers_only) {
		proc_resize_workers(want);
		snprintf(msg, msglen, "reloaded: workers %u -> %u", was, want);
	} else {
		sup->s_gen++;
		proc_resize_workers(want);
		proc_swap_workers();
		snprintf(msg, msglen, "reloaded: generation %u, %u workers",
		    sup->s_gen, want);
	}
	/* the sockets a new number of workers gives the running ones */
	TAILQ_FOREACH(p, &sup->s_procs, p_entry)
		proc_send_listeners(p);
	log_info("%s", msg);
	sup->s_reloading = 1;
	sup_check_started();
	return 0;
}

void
sup_shutdown(int code, const char *why)
{
	struct proc *p;

	if (sup->s_state == SUP_STOPPING)
		return;
	if (sup->s_delaying)
		ev_timer_stop(sup->s_loop, &sup->s_delay_to);
	sup->s_state = SUP_STOPPING;
	sup->s_exit = code;
	log_info("%s: stopping %u processes, drain deadline %u.%03u s", why,
	    sup->s_nprocs, sup->s_conf->c_drain_timeout_ms / 1000,
	    sup->s_conf->c_drain_timeout_ms % 1000);
	sup_notify("STOPPING=1");
	listen_close_all(sup->s_listeners, &sup->s_nlisteners);
	ev_timer_stop(sup->s_loop, &sup->s_start_to);
	TAILQ_FOREACH_REVERSE(p, &sup->s_procs, proclist, p_entry)
		proc_stop(p, sup->s_conf->c_drain_timeout_ms);
	if (sup->s_nprocs == 0)
		ev_break(sup->s_loop, EVBREAK_ALL);
}

static void
delay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	sup_shutdown(EXIT_OK, "shutdown-delay over");
}

/*
 * A stop asked for (SIGTERM, SIGINT, mcpctl stop).  With shutdown-delay,
 * the node first says it is going -- /readyz 503, "drain" to HAProxy's
 * agent check, no more keep-alive -- and goes on serving for that long,
 * so that a load balancer stops sending it requests before a listener
 * or a kept-alive connection closes under one; then the stop proper.
 * Asked again meanwhile: at once.
 */
void
sup_stop(const char *why)
{
	uint32_t ms = sup->s_conf->c_shutdown_delay_ms;

	if (sup->s_state == SUP_STOPPING)
		return;
	if (ms == 0 || sup->s_delaying) {
		sup_shutdown(EXIT_OK, why);
		return;
	}
	sup->s_delaying = 1;
	SB_HDR_SET(&sup->s_sb, SB_H_STOPPING, 1);
	log_info("%s: stopping in %u.%03u s (shutdown-delay): not ready "
	    "meanwhile, serving on", why, ms / 1000, ms % 1000);
	sup_notify("STOPPING=1");
	ev_timer_init(&sup->s_delay_to, delay_cb, ms / 1000.0, 0.);
	ev_timer_start(sup->s_loop, &sup->s_delay_to);
}

void
sup_fast_stop(const char *why)
{
	if (sup->s_state != SUP_STOPPING) {
		sup->s_state = SUP_STOPPING;
		sup->s_exit = EXIT_OK;
		sup_notify("STOPPING=1");
		listen_close_all(sup->s_listeners, &sup->s_nlisteners);
		ev_timer_stop(sup->s_loop, &sup->s_start_to);
	}
	log_info("%s: fast stop of %u processes (SIGTERM, SIGKILL after "
	    "%d ms)", why, sup->s_nprocs, FAST_STOP_MS);
	proc_kill_all(SIGTERM);
	if (sup->s_nprocs == 0)
		ev_break(sup->s_loop, EVBREAK_ALL);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	char		 msg[CONF_ERRORS_MAX * 200];
	struct proc	*p;

	switch (w->signum) {
	case SIGHUP:
		log_info("SIGHUP: reloading %s", sup->s_conf_path);
		sup_reload(msg, sizeof(msg));
		break;
	case SIGTERM:
	case SIGINT:
		if (sup->s_state == SUP_STOPPING) {
			log_warnx("%s again: killing every child now",
			    strsignal(w->signum));
			proc_kill_all(SIGKILL);
			break;
		}
		sup_stop(w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	case SIGQUIT:
		sup_fast_stop("SIGQUIT");
		break;
	case SIGUSR1:
		log_info("SIGUSR1: reopening the log file");
		if (log_reopen() == -1)
			log_warn("reopen %s", sup->s_conf->c_log_file);
		TAILQ_FOREACH(p, &sup->s_procs, p_entry)
			if (p->p_chan != NULL)
				chan_send(p->p_chan, MSG_SUP_LOG_REOPEN, -1);
		break;
	}
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	if (!alert_reap(w->rpid, w->rstatus))
		proc_reap(w->rpid, w->rstatus);
}

void
sup_run(void)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT,
	    SIGUSR1 };
	const char	*ns;
	uint32_t	 i, n;
	size_t		 k;

	if ((ns = getenv("NOTIFY_SOCKET")) != NULL) {
		snprintf(notify_path, sizeof(notify_path), "%s", ns);
		unsetenv("NOTIFY_SOCKET");	/* not for our children */
	}
	if ((sup->s_loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("libev: no event loop");
	if (sodium_init() == -1)
		fatalx("libsodium does not initialize");
	if (sup_keys_load(sup->s_conf, &sup->s_keys) == -1)
		fatalx("cluster key file: unreadable since it was checked");
	for (k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++) {
		ev_signal_init(&sup->s_sig[k], signal_cb, sigs[k]);
		ev_signal_start(sup->s_loop, &sup->s_sig[k]);
		ev_unref(sup->s_loop);
	}
	ev_child_init(&sup->s_child_ev, child_cb, 0, 0);
	ev_child_start(sup->s_loop, &sup->s_child_ev);
	ev_unref(sup->s_loop);
	ev_init(&sup->s_start_to, NULL);
	control_start();
	alert_start();

	if (conf_text(sup->s_conf, &sup->s_conf_text, &sup->s_conf_len) == -1)
		fatal("configuration text");
	sup->s_gen = 1;
	sup->s_start_ms = now_ms();
	sup->s_start_wall_ms = wall_ms();
	SB_HDR_SET(&sup->s_sb, SB_H_START_WALL_MS, sup->s_start_wall_ms);
	sup->s_state = SUP_STARTING;
	proc_init();
	/* start order: the agent first, since workers will depend on it */
	proc_add_member(ROLE_AGENT, 0,
	    sup->s_conf->c_spec[ROLE_AGENT].s_restart,
	    sup->s_conf->c_spec[ROLE_AGENT].s_significant);
	proc_add_member(ROLE_RUNNER, 0,
	    sup->s_conf->c_spec[ROLE_RUNNER].s_restart,
	    sup->s_conf->c_spec[ROLE_RUNNER].s_significant);
	n = conf_workers(sup->s_conf);
	for (i = 0; i < n; i++)
		proc_add_member(ROLE_WORKER, i,
		    sup->s_conf->c_spec[ROLE_WORKER].s_restart,
		    sup->s_conf->c_spec[ROLE_WORKER].s_significant);
	for (k = 0; k < sup->s_rs.n; k++)
		sup->s_members[k].m_start_at = 1;
	log_info("starting %u workers (up to %u connections each), agent, "
	    "runner; strategy %s, intensity %u in %u.%03u s", n,
	    conf_worker_connections(sup->s_conf),
	    conf_strategy_name(sup->s_conf->c_strategy),
	    sup->s_conf->c_restart_intensity,
	    sup->s_conf->c_restart_period_ms / 1000,
	    sup->s_conf->c_restart_period_ms % 1000);
	proc_schedule();

	ev_run(sup->s_loop, 0);

	control_close(sup->s_conf->c_control_socket);
	if (sup->s_pidfile_fd != -1) {
		unlink(sup->s_conf->c_pidfile);
		close(sup->s_pidfile_fd);
	}
	log_info("exiting with status %d after %llu ms", sup->s_exit,
	    (unsigned long long)(now_ms() - sup->s_start_ms));
	exit(sup->s_exit);
}
