/*
 * session.c -- session-era sessions of one partition (worker).
 *
 * A session id is base64url(version, partition, 16 random bytes, MAC): the
 * MAC (crypto_auth under the node key, cut to 16 bytes) is checked before
 * any lookup, so a forged id costs no table access, and the partition says
 * which worker owns the session without asking anyone.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mcp_int.h"

#define SID_VERSION	1
#define SID_MAC_BYTES	16
#define SID_RAW		(1 + 2 + MCP_SID_BYTES + SID_MAC_BYTES)

static void	ring_drop_oldest(struct mcp_session *);

static uint64_t
now_ms_loop(struct mcp_server *srv)
{
	return (uint64_t)(ev_now(srv->sv_loop) * 1000.0);
}

static unsigned
bucket(const unsigned char *rnd)
{
	unsigned v;

	memcpy(&v, rnd, sizeof(v));
	return v % SESS_BUCKETS;
}

static void
mac(const struct mcp_server *srv, const unsigned char *raw,
    unsigned char *out)
{
	unsigned char full[crypto_auth_BYTES];

	crypto_auth(full, raw, 1 + 2 + MCP_SID_BYTES, srv->sv_key);
	memcpy(out, full, SID_MAC_BYTES);
}

/* Decode and authenticate; 0 with the raw bytes, or -1 for a forgery. */
static int
sid_open(const struct mcp_server *srv, const char *id, unsigned char *raw)
{
	unsigned char	m[SID_MAC_BYTES];
	size_t		n;

	if (strlen(id) > MCP_SID_LEN ||
	    sodium_base642bin(raw, SID_RAW, id, strlen(id), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || n != SID_RAW ||
	    raw[0] != SID_VERSION)
		return -1;
	mac(srv, raw, m);
	return crypto_verify_16(m, raw + 1 + 2 + MCP_SID_BYTES) == 0 ? 0 : -1;
}

struct mcp_session *
mcp_session_new(struct mcp_server *srv)
{
	struct mcp_session	*s;
	unsigned char		 raw[SID_RAW];
	unsigned		 b;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	raw[0] = SID_VERSION;
	raw[1] = srv->sv_partition >> 8;
	raw[2] = srv->sv_partition & 0xff;
	randombytes_buf(raw + 3, MCP_SID_BYTES);
	mac(srv, raw, raw + 3 + MCP_SID_BYTES);
	sodium_bin2base64(s->s_id, sizeof(s->s_id), raw, SID_RAW,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	s->s_srv = srv;
	s->s_log_level = MCPD_LOG_INFO;
	s->s_used_ms = now_ms_loop(srv);
	TAILQ_INIT(&s->s_creqs);
	TAILQ_INIT(&s->s_calls);
	b = bucket(raw + 3);
	s->s_next = srv->sv_buckets[b];
	srv->sv_buckets[b] = s;
	TAILQ_INSERT_TAIL(&srv->sv_sessions, s, s_entry);
	srv->sv_nsessions++;
	return s;
}

struct mcp_session *
mcp_session_find(struct mcp_server *srv, const char *id, int *owner)
{
	struct mcp_session	*s;
	unsigned char		 raw[SID_RAW];

	*owner = -1;
	if (sid_open(srv, id, raw) == -1)
		return NULL;
	*owner = raw[1] << 8 | raw[2];
	if ((unsigned)*owner != srv->sv_partition)
		return NULL;
	for (s = srv->sv_buckets[bucket(raw + 3)]; s != NULL; s = s->s_next)
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

	s->s_used_ms = now_ms_loop(srv);
	TAILQ_REMOVE(&srv->sv_sessions, s, s_entry);
	TAILQ_INSERT_TAIL(&srv->sv_sessions, s, s_entry);
}

void
mcp_session_close(struct mcp_server *srv, struct mcp_session *s)
{
	struct mcp_session	**pp;
	struct mcpd_call	*c;
	unsigned char		 raw[SID_RAW];
	unsigned		 i;

	if (s->s_get != NULL && s->s_get->s_ops->so_close != NULL)
		s->s_get->s_ops->so_close(s->s_get);	/* ends it */
	s->s_get = NULL;
	creq_drop_session(s);
	while ((c = TAILQ_FIRST(&s->s_calls)) != NULL) {
		call_cancel(c, "the session ended");
		if (TAILQ_FIRST(&s->s_calls) == c)
			call_session_gone(c);
	}
	if (sid_open(srv, s->s_id, raw) == 0) {
		for (pp = &srv->sv_buckets[bucket(raw + 3)]; *pp != NULL;
		    pp = &(*pp)->s_next) {
			if (*pp == s) {
				*pp = s->s_next;
				break;
			}
		}
	}
	TAILQ_REMOVE(&srv->sv_sessions, s, s_entry);
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
	return 0;
}

void
mcp_session_detach(struct mcp_session *s, struct mcp_stream *st)
{
	if (s->s_get == st)
		s->s_get = NULL;
}

unsigned
mcp_session_expire(struct mcp_server *srv, uint64_t idle_ms)
{
	struct mcp_session	*s, *next;
	uint64_t		 now = now_ms_loop(srv);
	unsigned		 n = 0;

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
