/*
 * listen.c -- the supervisor binds every listener; workers only accept.
 *
 * An HTTP listener is a SO_REUSEPORT group of sockets, one a worker
 * (proc.c hands them out), after a plain bind has proved that no other
 * process holds the port; the admin listener is one socket.  On reload, a
 * listener whose address and port did not change keeps its sockets, so no
 * connection is refused while workers are replaced.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sup.h"
#include "util.h"

static int
same_listener(const struct conf_listener *a, const struct conf_listener *b)
{
	return a->l_kind == b->l_kind && a->l_port == b->l_port &&
	    strcmp(a->l_addr, b->l_addr) == 0;
}

static int
bind_one(const struct conf_listener *l, int reuseport, char *err,
    size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 slen;
	const char		*a = l->l_addr;
	int			 fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (strcmp(a, "*") == 0)
		a = "0.0.0.0";
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(l->l_port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(l->l_port);
		slen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "listen %s: bad address", l->l_addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, slen) == -1)
		goto fail;
	if (listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "listen %s %s port %u: %s",
	    conf_listen_kind_name(l->l_kind), l->l_addr, l->l_port,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static int
fd_of(const struct slistener *l, uint32_t n, int fd)
{
	uint32_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < l[i].sl_ngroup; k++)
			if (l[i].sl_group[k] == fd)
				return 1;
	return 0;
}

/*
 * Open the listeners of conf into out, reusing the sockets of old where the
 * address is the same (the caller closes the old ones not reused, with
 * listen_close_unused()).  An HTTP listener gets a socket per worker.  On
 * error nothing of old is touched and what was opened is closed.
 */
int
listen_open(const struct conf *conf, struct slistener *out, uint32_t *n,
    const struct slistener *old, uint32_t nold, char *err, size_t errlen)
{
	uint32_t	 i, j, k, want, nw = conf_workers(conf);
	int		 http;

	if (nw > WORKERS_MAX)
		nw = WORKERS_MAX;
	*n = 0;
	for (i = 0; i < conf->c_nlisteners; i++) {
		const struct conf_listener *cl = &conf->c_listeners[i];

		http = cl->l_kind == LISTEN_HTTP;
		want = http ? nw : 1;
		out[i].sl_conf = *cl;
		out[i].sl_fd = -1;
		out[i].sl_ngroup = 0;
		(*n)++;
		for (j = 0; j < nold; j++) {
			if (old[j].sl_fd != -1 &&
			    same_listener(&old[j].sl_conf, cl)) {
				/*
				 * all of them, fewer workers or not: closing
				 * one resets what waits in its queue
				 */
				for (k = 0; k < old[j].sl_ngroup; k++)
					out[i].sl_group[k] = old[j].sl_group[k];
				out[i].sl_ngroup = k;
				break;
			}
		}
		/*
		 * SO_REUSEPORT would let a second mcpd (or anything of the
		 * same user) share the port unseen: a plain bind first says
		 * whether it is taken.
		 */
		if (out[i].sl_ngroup == 0 && http) {
			int fd = bind_one(cl, 0, err, errlen);

			if (fd == -1)
				goto fail;
			close(fd);
		}
		while (out[i].sl_ngroup < want) {
			int fd = bind_one(cl, http, err, errlen);

			if (fd == -1)
				goto fail;
			out[i].sl_group[out[i].sl_ngroup++] = fd;
		}
		out[i].sl_fd = out[i].sl_group[0];
	}
	return 0;
fail:
	/* close only what we bound ourselves */
	for (i = 0; i < *n; i++)
		for (k = 0; k < out[i].sl_ngroup; k++)
			if (!fd_of(old, nold, out[i].sl_group[k]))
				close(out[i].sl_group[k]);
	*n = 0;
	return -1;
}

/* Close the sockets of old that now does not hold. */
void
listen_close_unused(struct slistener *old, uint32_t nold,
    const struct slistener *now, uint32_t nnow)
{
	uint32_t i, k;

	for (i = 0; i < nold; i++)
		for (k = 0; k < old[i].sl_ngroup; k++)
			if (!fd_of(now, nnow, old[i].sl_group[k]))
				close(old[i].sl_group[k]);
}

/* The socket worker w accepts on. */
int
listen_fd_for(const struct slistener *l, uint32_t w)
{
	return w < l->sl_ngroup ? l->sl_group[w] : l->sl_fd;
}

void
listen_close_all(struct slistener *l, uint32_t *n)
{
	uint32_t i;

	uint32_t k;

	for (i = 0; i < *n; i++)
		for (k = 0; k < l[i].sl_ngroup; k++)
			close(l[i].sl_group[k]);
	*n = 0;
}
