/*
 * listen.c -- the supervisor binds every listener; workers only accept.
 *
 * On reload, a listener whose address and port did not change keeps its
 * socket, so no connection is refused while workers are replaced.
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
bind_one(const struct conf_listener *l, char *err, size_t errlen)
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

/*
 * Open the listeners of conf into out, reusing the sockets of old where the
 * address is the same (the caller closes the old ones not reused).  On error
 * nothing of old is touched and what was opened is closed.
 */
int
listen_open(const struct conf *conf, struct slistener *out, uint32_t *n,
    const struct slistener *old, uint32_t nold, char *err, size_t errlen)
{
	uint32_t i, j;

	*n = 0;
	for (i = 0; i < conf->c_nlisteners; i++) {
		const struct conf_listener *cl = &conf->c_listeners[i];

		out[i].sl_conf = *cl;
		out[i].sl_fd = -1;
		for (j = 0; j < nold; j++) {
			if (old[j].sl_fd != -1 &&
			    same_listener(&old[j].sl_conf, cl)) {
				out[i].sl_fd = old[j].sl_fd;
				break;
			}
		}
		if (out[i].sl_fd == -1 &&
		    (out[i].sl_fd = bind_one(cl, err, errlen)) == -1) {
			/* close only what we bound ourselves */
			while (i-- > 0) {
				for (j = 0; j < nold; j++)
					if (old[j].sl_fd == out[i].sl_fd)
						break;
				if (j == nold)
					close(out[i].sl_fd);
			}
			return -1;
		}
		(*n)++;
	}
	return 0;
}

void
listen_close_all(struct slistener *l, uint32_t *n)
{
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (l[i].sl_fd != -1)
			close(l[i].sl_fd);
	*n = 0;
}
