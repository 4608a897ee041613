/*
 * session.c -- the session era's sessions of one partition (worker): the
 * table of them by id, their expiry, and the replay ring of their streams.
 *
 * A session id is a sealed id (sealid.c) under the node key: a forged one
 * costs no table access, and a well-formed one names the worker that owns
 * the session.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

static void	ring_drop_oldest(struct mcp_session *);

struct mcp_session *
mcp_session_new(struct mcp_server *srv)
{
	struct mcp_session	*s;
	unsigned char		 rnd[SEALID_RND_BYTES];
	unsigned		 b;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	sealid_new(srv->sv_key, srv->sv_partition, rnd, s->s_id,
	    sizeof(s->s_id));
	s->s_srv = srv;
	s->s_log_level = MCPD_LOG_INFO;
	s->s_used_ms = loop_ms(srv);
	TAILQ_INIT(&s->s_creqs);
	TAILQ_INIT(&s->s_calls);
	b = sealid_bucket(rnd, SESS_BUCKETS);
	s->s_next = srv->sv_buckets[b];
	srv->sv_buckets[b] = s;
	TAILQ_INSERT_TAIL(&srv->sv_sessions, s, s_entry);
	TAILQ_INSERT_TAIL(&srv->sv_fresh, s, s_fresh_entry);
	s->s_fresh = 1;
	srv->sv_nsessions++;
	return s;
}

struct mcp_session *
mcp_session_find(struct mcp_server *srv, const char *id, int *owner)
{
	struct mcp_session	*s;
	unsigned char		 rnd[SEALID_RND_BYTES];
	unsigned		 part;

	*owner = -1;
	if (sealid_open(srv->sv_key, id, &part, rnd) == -1)
		return NULL;
	*owner = (int)part;
	if (part != srv->sv_partition)
		return NULL;
	for (s = srv->sv_buckets[sealid_bucket(rnd, SESS_BUCKETS)]; s != NULL;
	    s = s->s_next)
		if (strcmp(s->s_id, id) == 0)
			return s;
	return NULL;
}

const char *
mcp_session_id(const struct mcp_session *s)
{
	return s->s_id;
}

const char *
mcp_session_protocol(const struct mcp_session *s)
{
	return s->s_proto;
}

void
mcp_session_touch(struct mcp_session *s)
{
	struct mcp_server *srv = s->s_srv;

	s->s_used_ms = loop_ms(srv);
	TAILQ_REMOVE(&srv->sv_sessions, s, s_entry);
	TAILQ_INSERT_TAIL(&srv->sv_sessions, s, s_entry);
	if (s->s_fresh) {
		TAILQ_REMOVE(&srv->sv_fresh, s, s_fresh_entry);
		s->s_fresh = 0;
	}
}

void
mcp_session_close(struct mcp_server *srv, struct mcp_session *s)
{
	struct mcp_session	**pp;
	struct mcpd_call	*c;
	unsigned char		 rnd[SEALID_RND_BYTES];
	unsigned		 i, part;

	if (s->s_get != NULL && s->s_get->s_ops->so_close != NULL)
		s->s_get->s_ops->so_close(s->s_get);	/* ends it */
	s->s_get = NULL;
	creq_drop_session(s);
	while ((c = TAILQ_FIRST(&s->s_calls)) != NULL) {
		call_cancel(c, "the session ended");
		if (TAILQ_FIRST(&s->s_calls) == c)
			call_session_gone(c);
	}
	if (sealid_open(srv->sv_key, s->s_id, &part, rnd) == 0) {
		for (pp = &srv->sv_buckets[sealid_bucket(rnd, SESS_BUCKETS)];
		    *pp != NULL;
		    pp = &(*pp)->s_next) {
			if (*pp == s) {
				*pp = s->s_next;
				break;
			}
		}
	}
	TAILQ_REMOVE(&srv->sv_sessions, s, s_entry);
	if (s->s_fresh)
		TAILQ_REMOVE(&srv->sv_fresh, s, s_fresh_entry);
	srv->sv_nsessions--;
	for (i = 0; i < s->s_nsubs; i++)
		free(s->s_subs[i]);
	while (s->s_ring_count > 0)
		ring_drop_oldest(s);
	free(s->s_ring);
	free(s);
}

int
mcp_session_attach(struct mcp_session *s, struct mcp_stream *st)
{
	if (s->s_get != NULL)
		return -1;
	s->s_get = st;
	mcp_session_touch(s);
	return 0;
}

void
mcp_session_detach(struct mcp_session *s, struct mcp_stream *st)
{
	if (s->s_get == st)
		s->s_get = NULL;
}

unsigned
mcp_session_expire(struct mcp_server *srv, uint64_t idle_ms,
    uint64_t start_ms)
{
	struct mcp_session	*s, *next;
	uint64_t		 now = loop_ms(srv);
	unsigned		 n = 0;

	/*
	 * Sessions nothing came for after their initialize, oldest first:
	 * they hold a place of max-sessions for start_ms, not idle_ms.
	 */
	while ((s = TAILQ_FIRST(&srv->sv_fresh)) != NULL &&
	    now - s->s_used_ms > start_ms) {
		mcp_session_close(srv, s);
		n++;
	}

	/* the list is in order of last use: stop at the first fresh one */
	for (s = TAILQ_FIRST(&srv->sv_sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, s_entry);
		if (now - s->s_used_ms <= idle_ms)
			break;
		if (s->s_get != NULL || !TAILQ_EMPTY(&s->s_calls))
			continue;	/* in use, if quietly */
		mcp_session_close(srv, s);
		n++;
	}
	return n;
}

static void
ring_drop_oldest(struct mcp_session *s)
{
	struct replay_ev *e = &s->s_ring[s->s_ring_head];

	s->s_ring_bytes -= e->e_len;
	free(e->e_data);
	e->e_data = NULL;
	s->s_ring_head = (s->s_ring_head + 1) % MCP_REPLAY_EVENTS;
	s->s_ring_count--;
}

void
mcp_session_record(struct mcp_session *s, uint64_t stream, uint64_t seq,
    const char *data, size_t len, int final)
{
	struct replay_ev	*e;
	char			*copy;

	if (len > MCP_REPLAY_BYTES)
		return;		/* too big to keep: not resumable */
	if (s->s_ring == NULL &&
	    (s->s_ring = calloc(MCP_REPLAY_EVENTS, sizeof(*s->s_ring))) == NULL)
		return;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return;
	memcpy(copy, data, len);
	while (s->s_ring_count > 0 && (s->s_ring_count == MCP_REPLAY_EVENTS ||
	    s->s_ring_bytes + len > MCP_REPLAY_BYTES))
		ring_drop_oldest(s);
	e = &s->s_ring[(s->s_ring_head + s->s_ring_count) % MCP_REPLAY_EVENTS];
	e->e_stream = stream;
	e->e_seq = seq;
	e->e_data = copy;
	e->e_len = len;
	e->e_final = final;
	s->s_ring_count++;
	s->s_ring_bytes += len;
}

int
mcp_session_replay(struct mcp_session *s, uint64_t stream, uint64_t after,
    mcp_replay_fn fn, void *arg)
{
	unsigned	i;
	int		final = 0;

	for (i = 0; i < s->s_ring_count; i++) {
		struct replay_ev *e =
		    &s->s_ring[(s->s_ring_head + i) % MCP_REPLAY_EVENTS];

		if (e->e_stream != stream || e->e_seq <= after)
			continue;
		fn(arg, e->e_seq, e->e_data, e->e_len, e->e_final);
		final |= e->e_final;
	}
	return final;
}

unsigned
mcp_session_count(const struct mcp_server *srv)
{
	return srv->sv_nsessions;
}
