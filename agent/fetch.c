/*
 * fetch.c -- the agent's HTTP client: libcurl's multi interface on the
 * agent's libev loop.
 *
 * A fetch is one GET or POST with a bound on the answer's size and on its
 * time; when it ends, one way or another, its callback runs once with the
 * status and the body (or why there is none).  No redirect is followed
 * (an issuer's keys come from where its metadata says, an introspection
 * from its endpoint), only http and https are spoken, and the TLS peer
 * is verified with the system's CAs.  What comes back is the server's:
 * the callers parse it as the hostile input it is.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <ev.h>

#include "agent.h"
#include "log.h"

#define FETCH_MAX_PER_HOST	16	/* connections to one server */
#define FETCH_CONNECT_MS	3000	/* of the whole timeout, to connect */

struct fetch {
	TAILQ_ENTRY(fetch)	 f_entry;
	CURL			*f_easy;
	struct curl_slist	*f_headers;
	char			*f_body;	/* what came */
	size_t			 f_len;
	size_t			 f_max;
	int			 f_too_big;
	char			*f_post;	/* what goes, or NULL */
	fetch_cb		 f_cb;
	void			*f_arg;
	char			 f_err[CURL_ERROR_SIZE];
};

/* A socket libcurl wants watched. */
struct fsock {
	ev_io		 fs_io;
	curl_socket_t	 fs_fd;
};

static struct {
	struct ev_loop		*loop;
	CURLM			*multi;
	CURL			*esc;		/* for curl_easy_escape */
	ev_timer		 timer;
	TAILQ_HEAD(, fetch)	 all;
	unsigned		 n;
} F;

static void check_done(void);

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct fetch	*f = arg;
	size_t		 len = size * n;
	char		*nb;

	if (f->f_len + len > f->f_max) {
		f->f_too_big = 1;
		return 0;	/* curl stops: CURLE_WRITE_ERROR */
	}
	if ((nb = realloc(f->f_body, f->f_len + len + 1)) == NULL)
		return 0;
	f->f_body = nb;
	memcpy(f->f_body + f->f_len, p, len);
	f->f_len += len;
	f->f_body[f->f_len] = '\0';
	return len;
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fsock	*fs = w->data;
	int		 running, flags = 0;

	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(F.multi, fs->fs_fd, flags, &running);
	check_done();
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int running;

	curl_multi_socket_action(F.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what, or stop. */
static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *uarg, void *sarg)
{
	struct fsock	*fs = sarg;
	int		 ev = 0;

	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL) {
			ev_io_stop(F.loop, &fs->fs_io);
			free(fs);
			curl_multi_assign(F.multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	if (fs == NULL) {
		if ((fs = calloc(1, sizeof(*fs))) == NULL)
			return -1;
		fs->fs_fd = fd;
		ev_io_init(&fs->fs_io, io_cb, fd, ev);
		fs->fs_io.data = fs;
		curl_multi_assign(F.multi, fd, fs);
	} else {
		ev_io_stop(F.loop, &fs->fs_io);
		ev_io_set(&fs->fs_io, fd, ev);
	}
	ev_io_start(F.loop, &fs->fs_io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call back in ms (-1: no timer). */
static int
multi_timer_cb(CURLM *m, long ms, void *arg)
{
	ev_timer_stop(F.loop, &F.timer);
	if (ms >= 0) {
		ev_timer_set(&F.timer, ms / 1000.0, 0.);
		ev_timer_start(F.loop, &F.timer);
	}
	return 0;
}

static void
fetch_free(struct fetch *f)
{
	TAILQ_REMOVE(&F.all, f, f_entry);
	F.n--;
	curl_multi_remove_handle(F.multi, f->f_easy);
	curl_easy_cleanup(f->f_easy);
	curl_slist_free_all(f->f_headers);
	free(f->f_body);
	if (f->f_post != NULL)
		explicit_bzero(f->f_post, strlen(f->f_post)); /* a token */
	free(f->f_post);
	free(f);
}

/* The transfers that ended: their callbacks, once each. */
static void
check_done(void)
{
	struct fetch_result	 res;
	struct fetch		*f;
	CURLMsg			*m;
	long			 status;
	int			 left;

	while ((m = curl_multi_info_read(F.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		f = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &f);
		if (f == NULL)
			continue;
		memset(&res, 0, sizeof(res));
		status = 0;
		curl_easy_getinfo(f->f_easy, CURLINFO_RESPONSE_CODE, &status);
		res.fr_status = (int)status;
		if (m->data.result == CURLE_OK) {
			res.fr_body = f->f_body != NULL ? f->f_body : "";
			res.fr_len = f->f_len;
		} else if (f->f_too_big)
			snprintf(res.fr_err, sizeof(res.fr_err), "the answer "
			    "is over %zu bytes", f->f_max);
		else
			snprintf(res.fr_err, sizeof(res.fr_err), "%s",
			    f->f_err[0] != '\0' ? f->f_err :
			    curl_easy_strerror(m->data.result));
		if (res.fr_err[0] == '\0' && (status < 200 || status > 299))
			snprintf(res.fr_err, sizeof(res.fr_err), "HTTP status "
			    "%ld", status);
		f->f_cb(&res, f->f_arg);
		fetch_free(f);
	}
}

void
fetch_init(struct ev_loop *loop)
{
	if (F.multi != NULL)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (F.multi = curl_multi_init()) == NULL ||
	    (F.esc = curl_easy_init()) == NULL)
		fatalx("libcurl: cannot initialize");
	F.loop = loop;
	TAILQ_INIT(&F.all);
	ev_init(&F.timer, timer_cb);
	curl_multi_setopt(F.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(F.multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(F.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)FETCH_MAX_PER_HOST);
}

unsigned
fetch_count(void)
{
	return F.n;
}

int
fetch_start(const char *url, const char *post, const char *user,
    const char *pass, size_t max, uint32_t timeout_ms, fetch_cb cb,
    void *arg)
{
	struct fetch	*f;
	CURL		*e;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	if ((f->f_easy = e = curl_easy_init()) == NULL ||
	    (post != NULL && (f->f_post = strdup(post)) == NULL)) {
		if (e != NULL)
			curl_easy_cleanup(e);
		free(f);
		return -1;
	}
	f->f_max = max;
	f->f_cb = cb;
	f->f_arg = arg;
	f->f_headers = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, f);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->f_err);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms <
	    FETCH_CONNECT_MS ? timeout_ms : FETCH_CONNECT_MS));
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (f->f_post != NULL) {
		f->f_headers = curl_slist_append(f->f_headers,
		    "Content-Type: application/x-www-form-urlencoded");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->f_post);
	}
	if (user != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, pass);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->f_headers);
	if (curl_multi_add_handle(F.multi, e) != CURLM_OK) {
		curl_slist_free_all(f->f_headers);
		curl_easy_cleanup(e);
		free(f->f_post);
		free(f);
		return -1;
	}
	TAILQ_INSERT_TAIL(&F.all, f, f_entry);
	F.n++;
	return 0;
}

char *
fetch_escape(const char *s)
{
	char *c, *out;

	if (F.esc == NULL || (c = curl_easy_escape(F.esc, s, 0)) == NULL)
		return NULL;
	out = strdup(c);
	curl_free(c);
	return out;
}
