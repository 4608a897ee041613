/*
 * peer.c -- the worker mesh: hand a connection to the worker that owns the
 * session its request names.
 *
 * The session id says which worker owns it (mcp/session.c), so a request
 * that lands elsewhere travels once: its connection fd and the request,
 * already parsed, go to the owner, which answers it and keeps the
 * connection (a keep-alive client then talks to the owner directly).  Large
 * bodies travel in a sealed memfd just before.  A malformed frame from a
 * peer is a bug: log it and exit, and the supervisor restarts us.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mcp.h"
#include "util.h"
#include "worker.h"

static struct chan	*peers[WORKERS_MAX];
static int		 body_fd = -1;	/* PEER_BODY waiting for its CONN */

static void	peer_dispatch(struct chan *, struct msg *, void *);
static void	peer_err(struct chan *, const char *, void *);

void
peer_add(struct child *c, uint32_t index, int fd)
{
	char name[32];

	if (index >= WORKERS_MAX || index == c->c_index) {
		close(fd);
		return;
	}
	chan_free(&peers[index]);
	snprintf(name, sizeof(name), "worker %u", index);
	if (fd_nonblock(fd) == -1 ||
	    (peers[index] = chan_new(c->c_loop, fd, &msg_proto_peer, 1,
	    peer_dispatch, peer_err, (void *)(uintptr_t)index, name)) == NULL)
		fatal("peer channel to %s", name);
	log_debug("channel to %s", name);
}

static void
peer_err(struct chan *ch, const char *reason, void *arg)
{
	uint32_t i = (uint32_t)(uintptr_t)arg;

	if (reason != NULL)
		fatalx("channel to worker %u: %s", i, reason);
	log_debug("channel to worker %u closed", i);
	if (peers[i] == ch)
		chan_free(&peers[i]);
}

static int
body_memfd(const char *body, size_t len)
{
	int fd;

	if ((fd = memfd_create("mcpd-body", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (write(fd, body, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send fd and its request to the owner; fd is taken in all cases. */
int
peer_handoff(uint32_t owner, int fd, const struct handoff *h)
{
	struct chan	*ch;
	int		 bfd, inmemfd = 0, rv;

	if (owner >= WORKERS_MAX || (ch = peers[owner]) == NULL) {
		close(fd);
		return -1;
	}
	if (h->h_body.len > PEER_INLINE_MAX) {
		if ((bfd = body_memfd(h->h_body.p, h->h_body.len)) == -1 ||
		    chan_send(ch, MSG_PEER_BODY, bfd,
		    (uint64_t)h->h_body.len) == -1) {
			close(fd);
			return -1;
		}
		inmemfd = 1;
	}
	rv = chan_send(ch, MSG_PEER_CONN, fd, (uint64_t)h->h_kind,
	    (uint64_t)h->h_method, (uint64_t)h->h_major,
	    (uint64_t)h->h_minor, (uint64_t)h->h_keepalive,
	    h->h_url.p, (uint64_t)h->h_has_origin, h->h_origin.p,
	    h->h_lastevent.p, h->h_host.p, h->h_accept.p, h->h_ctype.p,
	    h->h_sid.p, h->h_proto.p, (uint64_t)inmemfd,
	    inmemfd ? "" : h->h_body.p, inmemfd ? (size_t)0 : h->h_body.len,
	    h->h_pend.p != NULL ? h->h_pend.p : "", h->h_pend.len,
	    (uint64_t)h->h_has_mcp_method, h->h_mcp_method.p,
	    (uint64_t)h->h_has_mcp_name, h->h_mcp_name.p);
	if (rv == 0)
		chan_flush(ch);
	return rv;
}

static void
ref(struct msg_field_ref *r, const union msg_field *f)
{
	r->p = f->s.p;
	r->len = f->s.len;
}

static void
on_conn(struct msg *m)
{
	struct handoff	 h;
	char		*map = NULL;
	size_t		 maplen = 0;

	memset(&h, 0, sizeof(h));
	h.h_kind = m->m_f[0].u == LISTEN_ADMIN ? LISTEN_ADMIN : LISTEN_HTTP;
	h.h_method = (unsigned)m->m_f[1].u;
	h.h_major = (unsigned)m->m_f[2].u;
	h.h_minor = (unsigned)m->m_f[3].u;
	h.h_keepalive = m->m_f[4].u != 0;
	ref(&h.h_url, &m->m_f[5]);
	h.h_has_origin = m->m_f[6].u != 0;
	ref(&h.h_origin, &m->m_f[7]);
	ref(&h.h_lastevent, &m->m_f[8]);
	ref(&h.h_host, &m->m_f[9]);
	ref(&h.h_accept, &m->m_f[10]);
	ref(&h.h_ctype, &m->m_f[11]);
	ref(&h.h_sid, &m->m_f[12]);
	ref(&h.h_proto, &m->m_f[13]);
	ref(&h.h_body, &m->m_f[15]);
	ref(&h.h_pend, &m->m_f[16]);
	h.h_has_mcp_method = m->m_f[17].u != 0;
	ref(&h.h_mcp_method, &m->m_f[18]);
	h.h_has_mcp_name = m->m_f[19].u != 0;
	ref(&h.h_mcp_name, &m->m_f[20]);
	if (m->m_f[14].u) {
		off_t len;

		if (body_fd == -1)
			fatalx("PEER_CONN without its PEER_BODY");
		len = lseek(body_fd, 0, SEEK_END);
		if (len > 0 && (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE,
		    body_fd, 0)) == MAP_FAILED)
			fatal("map a handed-over body");
		maplen = len > 0 ? (size_t)len : 0;
		h.h_body.p = map;
		h.h_body.len = maplen;
		close(body_fd);
		body_fd = -1;
	}
	worker->w_conns++;
	SB_SET(worker->w_child->c_slot, s_conns, worker->w_conns);
	http_adopt(worker, m->m_fd, &h);
	if (map != NULL)
		munmap(map, maplen);
}

static void
on_notify(struct msg *m)
{
	char	method[64], uri[1024];

	if (worker->w_mcp == NULL || m->m_f[0].s.len >= sizeof(method) ||
	    m->m_f[1].s.len >= sizeof(uri))
		return;
	memcpy(method, m->m_f[0].s.p, m->m_f[0].s.len);
	method[m->m_f[0].s.len] = '\0';
	memcpy(uri, m->m_f[1].s.p, m->m_f[1].s.len);
	uri[m->m_f[1].s.len] = '\0';
	mcp_notify(worker->w_mcp, method, uri[0] != '\0' ? uri : NULL);
}

/* The engine's broadcast hook: every peer hears of the change. */
void
peer_broadcast(void *arg, const char *method, const char *uri)
{
	uint32_t i;

	for (i = 0; i < WORKERS_MAX; i++)
		if (peers[i] != NULL)
			(void)chan_send(peers[i], MSG_PEER_NOTIFY, -1, method,
			    uri != NULL ? uri : "");
}

static void
peer_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	switch (m->m_type) {
	case MSG_PEER_BODY:
		if (body_fd != -1)
			close(body_fd);
		body_fd = m->m_fd;
		break;
	case MSG_PEER_CONN:
		if (worker->w_mcp == NULL) {	/* not started yet */
			close(m->m_fd);
			break;
		}
		on_conn(m);
		break;
	case MSG_PEER_NOTIFY:
		on_notify(m);
		break;
	default:
		fatalx("unexpected %s from a peer",
		    msg_name(&msg_proto_peer, m->m_type));
	}
}
