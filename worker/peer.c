/*
 * peer.c -- the worker mesh: a connection handed to the worker that keeps
 * what its request names, and change notifications for every worker.
 *
 * A session id or a task id says which worker keeps it (mcp/route.c), so
 * a request that lands elsewhere travels once: its connection and the
 * request as read here go to that worker, which answers it and keeps the
 * connection (a keep-alive client then talks to it directly).  The
 * hand-over is one record, packed and unpacked here only: listener kind,
 * method, version, keep-alive, the head (target and every header the
 * endpoint reads, replayed through head.c's rules on arrival), the body
 * and the bytes read after the request.  When body and rest are too large
 * for the frame they travel in a sealed memfd, sent on the same channel
 * just before (PEER_BODY): each channel has its own slot for it, so bodies
 * of several workers handing over at once never change places.
 *
 * A malformed frame or record from a peer is a bug: log it and exit, and
 * the supervisor restarts us.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "mcp.h"
#include "registry.h"
#include "util.h"

/* the head record's first byte: '@' and these */
#define HEAD_F_URL_LONG		0x01
#define HEAD_F_PARAMS_OVER	0x02
/* PEER_CONN's flags */
#define CONN_F_KEEPALIVE	0x01
#define CONN_F_ADMITTED		0x02
#define CONN_F_IDLE		0x04	/* no request: a keep-alive connection */
#define CONN_F_SERVED		0x08	/* (idle) it had a request before */
/* the listener's auth block + 1 (0: none), in bits 8 to 15 */
#define CONN_F_AUTH_SHIFT	8
#define CONN_F_AUTH_MASK	0xff

/*
 * A peer whose channel closed this long ago or less is "away": its
 * successor is expected (the crash-loop throttle waits up to 60 s).
 */
#define PEER_AWAY_MS		60000

/*
 * A channel of the mesh.  peers[N] is where worker N's requests go: the
 * current process of N.  A channel it replaced, and one the supervisor
 * gave us only to read from (a draining process's), is kept on "inbound"
 * for what comes in on it until the other end closes it: a worker of an
 * older generation hands over until it exits.  "succ" is the process
 * that takes our index's place when we drain (a new generation): our idle
 * connections go to it.
 */
struct peer {
	LIST_ENTRY(peer)	 p_entry;	/* on inbound */
	struct chan		*p_chan;
	uint32_t		 p_index;
	int			 p_older;	/* an older process: it drains */
	int			 p_bye;		/* it said PEER_BYE */
	int			 p_body_fd;	/* PEER_BODY for its PEER_CONN */
};
static struct peer		*peers[WORKERS_MAX];
static struct peer		*succ;	/* of our index: a new generation's */
static LIST_HEAD(, peer)	 inbound = LIST_HEAD_INITIALIZER(inbound);
static ev_tstamp		 peer_lost[WORKERS_MAX]; /* 0: never */
static struct ev_loop		*peer_loop;	/* the channels' */
static uint32_t			 self_index;

static void	peer_dispatch(struct chan *, struct msg *, void *);
static void	peer_err(struct chan *, const char *, void *);

static void
body_clear(struct peer *p)
{
	if (p->p_body_fd != -1)
		close(p->p_body_fd);
	p->p_body_fd = -1;
}

void
peer_add(struct child *c, uint32_t index, int in, uint32_t gen, int fd)
{
	struct peer	*p;
	char		 name[48];

	if (index >= WORKERS_MAX) {
		close(fd);
		return;
	}
	peer_loop = c->c_loop;
	self_index = c->c_index;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("peer channel");
	p->p_index = index;
	p->p_older = gen < c->c_gen;	/* a reload's older generation */
	p->p_body_fd = -1;
	snprintf(name, sizeof(name), "worker %u%s", index,
	    in ? " (draining)" : index == c->c_index ? " (successor)" : "");
	if (fd_nonblock(fd) == -1 ||
	    (p->p_chan = chan_new(c->c_loop, fd, &msg_proto_peer, 1,
	    peer_dispatch, peer_err, p, name)) == NULL)
		fatal("peer channel to %s", name);
	chan_set_accept(p->p_chan, "worker>worker");
	if (worker->w_mcp == NULL)	/* its hand-overs wait for peer_start */
		chan_hold(p->p_chan, 1);
	log_debug("channel to %s", name);
	if (in) {
		LIST_INSERT_HEAD(&inbound, p, p_entry);
		return;
	}
	if (index == c->c_index) {
		if (succ != NULL)
			LIST_INSERT_HEAD(&inbound, succ, p_entry);
		succ = p;
		return;
	}
	if (peers[index] != NULL)	/* its predecessor's */
		LIST_INSERT_HEAD(&inbound, peers[index], p_entry);
	peers[index] = p;
	endpoint_peer_back(index);	/* what waited for it */
}

static void
peer_err(struct chan *ch, const char *reason, void *arg)
{
	struct peer *p = arg;

	if (reason != NULL)
		fatalx("channel to worker %u: %s", p->p_index, reason);
	log_debug("channel to worker %u closed", p->p_index);
	/* our predecessor died: what it ran is not coming */
	if (p->p_older && p->p_index == self_index && !p->p_bye)
		registry_predecessor_died();
	if (p == succ)
		succ = NULL;
	else if (peers[p->p_index] == p) {
		peers[p->p_index] = NULL;
		peer_lost[p->p_index] = ev_now(peer_loop);
	} else
		LIST_REMOVE(p, p_entry);
	chan_free(&p->p_chan);
	body_clear(p);
	free(p);
}

int
peer_away(uint32_t i)
{
	if (i >= WORKERS_MAX || peer_loop == NULL)
		return 0;
	/* died this moment: a write to it found out before our read */
	if (peers[i] != NULL)
		return chan_broken(peers[i]->p_chan);
	/*
	 * never wired yet: a worker of our generation that starts after us
	 * (it adopts its slot first); or lost lately: its successor comes
	 */
	return peer_lost[i] == 0 ||
	    (ev_now(peer_loop) - peer_lost[i]) * 1000 < PEER_AWAY_MS;
}

/* Worker i's channel is there and whole (a send that failed: it was full). */
int
peer_there(uint32_t i)
{
	return i < WORKERS_MAX && peers[i] != NULL &&
	    !chan_broken(peers[i]->p_chan);
}

/* Started, and the records of our index adopted: read what peers sent. */
void
peer_start(void)
{
	struct peer	*p;
	uint32_t	 i;

	for (i = 0; i < WORKERS_MAX; i++)
		if (peers[i] != NULL)
			chan_hold(peers[i]->p_chan, 0);
	if (succ != NULL)
		chan_hold(succ->p_chan, 0);
	LIST_FOREACH(p, &inbound, p_entry)
		chan_hold(p->p_chan, 0);
}

/*
 * Whether a peer has sent what we have not read yet, or we have queued
 * what a peer has not taken, or an older process that may hand over to
 * us still runs: a draining worker waits for all three before it exits.
 * A hand-over sent to it just before its peers learnt of its successor
 * would be lost with it (under load a process may learn late), and so
 * would the connections it handed over itself while the channel was
 * full.  Older processes exit first: none of them waits for a newer one.
 */
static int
unsettled(struct pollfd *pfd, nfds_t *n, struct chan *ch)
{
	if (chan_queued(ch) > 0)
		return 1;
	pfd[*n].fd = chan_fd(ch);
	pfd[*n].events = POLLIN;
	if (++*n < WORKERS_MAX)
		return 0;
	*n = 0;
	return poll(pfd, WORKERS_MAX, 0) > 0;
}

int
peer_pending(void)
{
	struct pollfd	 pfd[WORKERS_MAX];
	struct peer	*p;
	nfds_t		 n = 0;
	uint32_t	 i;

	for (i = 0; i < WORKERS_MAX; i++)
		if (peers[i] != NULL && unsettled(pfd, &n, peers[i]->p_chan))
			return 1;
	if (succ != NULL && unsettled(pfd, &n, succ->p_chan))
		return 1;
	LIST_FOREACH(p, &inbound, p_entry)
		if (p->p_older || unsettled(pfd, &n, p->p_chan))
			return 1;
	return n > 0 && poll(pfd, n, 0) > 0;
}

/* The head record */

struct packer {
	char	*buf;
	size_t	 len, cap;
	int	 full;
};

static void
put(struct packer *k, const char *s, size_t n)
{
	if (k->full || n + 1 > k->cap - k->len) {
		k->full = 1;
		return;
	}
	memcpy(k->buf + k->len, s, n);
	k->buf[k->len + n] = '\0';
	k->len += n + 1;
}

static int
put_header(void *arg, const char *name, const char *value)
{
	struct packer *k = arg;

	put(k, name, strlen(name));
	put(k, value, strlen(value));
	return k->full ? -1 : 0;
}

size_t
handoff_head_pack(const struct rhead *h, char *buf, size_t len)
{
	struct packer	k = { buf, 0, len, 0 };
	char		flags = '@';	/* a letter: never the NUL after it */

	if (h->rh_url_long)
		flags |= HEAD_F_URL_LONG;
	if (h->rh_params_over)
		flags |= HEAD_F_PARAMS_OVER;
	put(&k, &flags, 1);
	put(&k, h->rh_url, h->rh_urllen);
	if (k.full || head_each(h, put_header, &k) == -1)
		return 0;
	return k.len;
}

/* the next NUL-terminated string of the record, or NULL at its end */
static const char *
take(const char **p, const char *end)
{
	const char *s = *p, *nul;

	if (s >= end || (nul = memchr(s, '\0', end - s)) == NULL)
		return NULL;
	*p = nul + 1;
	return s;
}

int
handoff_head_unpack(struct rhead *h, uint32_t max_bytes, const char *buf,
    size_t len)
{
	const char	*p = buf, *end = buf + len, *flags, *url, *name,
			*value;

	head_init(h, max_bytes);
	if ((flags = take(&p, end)) == NULL || p - flags != 2 ||
	    (url = take(&p, end)) == NULL ||
	    head_url(h, url, strlen(url)) == -1)
		return -1;
	while ((name = take(&p, end)) != NULL) {
		if ((value = take(&p, end)) == NULL ||
		    head_add(h, name, value) == -1)
			return -1;
	}
	if (p != end)
		return -1;
	h->rh_url_long |= (flags[0] & HEAD_F_URL_LONG) != 0;
	h->rh_params_over |= (flags[0] & HEAD_F_PARAMS_OVER) != 0;
	return 0;
}

/* The hand-over */

static int
data_memfd(const struct handoff *h)
{
	return memfd_sealed("mcpd-body", h->h_body, h->h_bodylen, h->h_pend,
	    h->h_pendlen);
}

/* Send fd and its request (none: h_head NULL) on ch; fd is taken. */
static int
handoff_on(struct chan *ch, int fd, const struct handoff *h)
{
	static char	 head[PEER_HEAD_MAX_BYTES];
	size_t		 headlen = 0;
	uint64_t	 flags = 0;
	int		 dfd, inmemfd = 0, rv;

	if (ch == NULL || (h->h_head != NULL && (headlen =
	    handoff_head_pack(h->h_head, head, sizeof(head))) == 0)) {
		close(fd);
		return -1;
	}
	if (h->h_bodylen + h->h_pendlen > PEER_INLINE_MAX_BYTES) {
		if ((dfd = data_memfd(h)) == -1 ||
		    chan_send(ch, MSG_PEER_BODY, dfd, (uint64_t)(h->h_bodylen +
		    h->h_pendlen)) == -1) {
			close(fd);
			return -1;
		}
		inmemfd = 1;
	}
	if (h->h_head == NULL)
		flags |= CONN_F_IDLE;
	if (h->h_served)
		flags |= CONN_F_SERVED;
	if (h->h_keepalive)
		flags |= CONN_F_KEEPALIVE;
	if (h->h_admitted)
		flags |= CONN_F_ADMITTED;
	flags |= (uint64_t)((h->h_auth + 1) & CONN_F_AUTH_MASK) <<
	    CONN_F_AUTH_SHIFT;
	rv = chan_send(ch, MSG_PEER_CONN, fd, (uint64_t)h->h_kind,
	    (uint64_t)h->h_method, (uint64_t)h->h_major,
	    (uint64_t)h->h_minor, flags, head, headlen,
	    (uint64_t)h->h_bodylen, (uint64_t)h->h_pendlen,
	    (uint64_t)inmemfd, inmemfd || h->h_body == NULL ? "" : h->h_body,
	    inmemfd ? (size_t)0 : h->h_bodylen,
	    inmemfd || h->h_pend == NULL ? "" : h->h_pend,
	    inmemfd ? (size_t)0 : h->h_pendlen);
	if (rv == 0)
		chan_flush(ch);
	return rv;
}

/* Send fd and its request to the owner; fd is taken in all cases. */
int
peer_handoff(uint32_t owner, int fd, const struct handoff *h)
{
	if (owner >= WORKERS_MAX || peers[owner] == NULL) {
		close(fd);
		return -1;
	}
	return handoff_on(peers[owner]->p_chan, fd, h);
}

/* Our index's newest predecessor still running (draining), or NULL. */
static struct peer *
predecessor(void)
{
	struct peer *p;

	LIST_FOREACH(p, &inbound, p_entry)	/* the newest first */
		if (p->p_index == self_index && p->p_older)
			return p;
	return NULL;
}

int
peer_predecessor(void)
{
	return predecessor() != NULL;
}

/* A request for a session of ours we do not have, to our predecessor. */
int
peer_handoff_back(int fd, const struct handoff *h)
{
	struct peer *p = predecessor();

	return handoff_on(p != NULL ? p->p_chan : NULL, fd, h);
}

int
peer_successor(void)
{
	return succ != NULL;
}

/*
 * A draining worker's keep-alive connection between two requests, and
 * what was read of the next (pend), to our successor; fd is taken.
 */
int
peer_pass(int fd, enum listen_kind kind, int auth, int served,
    const char *pend, size_t pendlen)
{
	struct handoff h;

	memset(&h, 0, sizeof(h));
	h.h_kind = kind;
	h.h_auth = auth;
	h.h_served = served;
	h.h_keepalive = 1;
	h.h_pend = pend;
	h.h_pendlen = pendlen;
	return handoff_on(succ != NULL ? succ->p_chan : NULL, fd, &h);
}

/*
 * A session our successor serves next: its record ("": deleted), a change
 * or (all) one of all.  A record the channel does not take is still on
 * its way through the agent.
 */
void
peer_pass_record(const char *id, const char *rec, size_t len, int change)
{
	if (succ != NULL)
		(void)chan_send(succ->p_chan, MSG_PEER_SESS, -1, id, rec, len,
		    (uint64_t)change);
}

/* Before an exit in order: our last word to our successor, and out. */
void
peer_bye(void)
{
	if (succ == NULL)
		return;
	(void)chan_send(succ->p_chan, MSG_PEER_BYE, -1);
	(void)chan_flush(succ->p_chan);
}

/* All our records go at once: as much as the agent keeps of them. */
void
peer_pass_room(size_t bytes)
{
	if (succ != NULL)
		chan_set_queue_max(succ->p_chan, bytes);
}

static void
on_conn(struct peer *p, struct msg *m)
{
	static struct rhead	 head;
	struct handoff		 h;
	char			*map = NULL;
	size_t			 maplen = 0;
	uint64_t		 flags = m->m_f[4].u;
	off_t			 len;

	memset(&h, 0, sizeof(h));
	h.h_kind = m->m_f[0].u == LISTEN_ADMIN ? LISTEN_ADMIN : LISTEN_HTTP;
	h.h_method = (unsigned)m->m_f[1].u;
	h.h_major = (unsigned)m->m_f[2].u;
	h.h_minor = (unsigned)m->m_f[3].u;
	h.h_keepalive = (flags & CONN_F_KEEPALIVE) != 0;
	h.h_admitted = (flags & CONN_F_ADMITTED) != 0;
	h.h_served = (flags & CONN_F_SERVED) != 0;
	h.h_auth = (int)((flags >> CONN_F_AUTH_SHIFT) & CONN_F_AUTH_MASK) - 1;
	if (h.h_auth >= CONF_AUTHS_MAX)
		fatalx("a hand-over names auth block %d", h.h_auth);
	if (flags & CONN_F_IDLE) {
		if (m->m_f[5].s.len != 0 || m->m_f[6].u != 0)
			fatalx("an idle connection handed over with a request");
	} else if (handoff_head_unpack(&head, worker->w_http.h_header_max,
	    m->m_f[5].s.p, m->m_f[5].s.len) == -1)
		fatalx("a hand-over whose head does not unpack");
	else
		h.h_head = &head;
	h.h_bodylen = m->m_f[6].u;
	h.h_pendlen = m->m_f[7].u;
	if (m->m_f[8].u) {
		if (p->p_body_fd == -1)
			fatalx("PEER_CONN without its PEER_BODY");
		len = lseek(p->p_body_fd, 0, SEEK_END);
		if (len < 0 || (uint64_t)len != h.h_bodylen + h.h_pendlen)
			fatalx("a hand-over's memfd holds %lld bytes, not "
			    "%llu", (long long)len, (unsigned long long)
			    (h.h_bodylen + h.h_pendlen));
		if (len > 0 && (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE,
		    p->p_body_fd, 0)) == MAP_FAILED)
			fatal("map a handed-over body");
		maplen = (size_t)len;
		h.h_body = map;
		h.h_pend = map != NULL ? map + h.h_bodylen : NULL;
	} else {
		if (m->m_f[9].s.len != h.h_bodylen ||
		    m->m_f[10].s.len != h.h_pendlen)
			fatalx("a hand-over's lengths do not match its data");
		h.h_body = m->m_f[9].s.p;
		h.h_pend = m->m_f[10].s.p;
	}
	body_clear(p);		/* taken, or a stale one */
	worker->w_conns++;
	SB_SET(worker->w_child->c_slot, s_conns, worker->w_conns);
	if (h.h_head == NULL)
		http_adopt_idle(worker, m->m_fd, &h);
	else
		http_adopt(worker, m->m_fd, &h);
	if (map != NULL)
		munmap(map, maplen);
}

static void
on_sess(struct msg *m)
{
	char id[MCP_SID_MAX_CHARS + 1];

	if (msg_strcpy(id, sizeof(id), &m->m_f[0]) == -1)
		fatalx("PEER_SESS: a session id too long");
	registry_update(id, m->m_f[1].s.p, m->m_f[1].s.len,
	    m->m_f[2].u != 0);
}

static void
on_notify(const struct msg *m)
{
	char	method[64], uri[1024];

	if (worker->w_mcp == NULL || msg_strcpy(method, sizeof(method),
	    &m->m_f[0]) == -1 || msg_strcpy(uri, sizeof(uri),
	    &m->m_f[1]) == -1)
		return;
	mcp_notify(worker->w_mcp, method, uri[0] != '\0' ? uri : NULL);
}

/* The engine's broadcast hook: every peer hears of the change. */
void
peer_broadcast(void *arg, const char *method, const char *uri)
{
	struct chan	*agent;
	uint32_t	 i;

	for (i = 0; i < WORKERS_MAX; i++)
		if (peers[i] != NULL)
			(void)chan_send(peers[i]->p_chan, MSG_PEER_NOTIFY, -1,
			    method, uri != NULL ? uri : "");
	/* and, in a cluster, through the agent to the other nodes */
	if (worker->w_child->c_conf->c_cluster != NULL &&
	    (agent = agentc()) != NULL)
		(void)chan_send(agent, MSG_AGT_NOTIFY, -1, method,
		    uri != NULL ? uri : "");
}

/* A change another node announced: our own streams only. */
void
peer_notify_in(const struct msg *m)
{
	on_notify(m);
}

static void
peer_dispatch(struct chan *ch, struct msg *m, void *arg)
{
	struct peer *p = arg;

	switch (m->m_type) {
	case MSG_PEER_BODY:
		body_clear(p);
		p->p_body_fd = m->m_fd;
		break;
	case MSG_PEER_CONN:
		if (worker->w_mcp == NULL) {	/* not started yet */
			close(m->m_fd);
			body_clear(p);
			break;
		}
		on_conn(p, m);
		break;
	case MSG_PEER_NOTIFY:
		on_notify(m);
		break;
	case MSG_PEER_SESS:
		on_sess(m);
		break;
	case MSG_PEER_BYE:
		p->p_bye = 1;
		break;
	default:
		fatalx("unexpected %s from a peer",
		    msg_name(&msg_proto_peer, m->m_type));
	}
}
