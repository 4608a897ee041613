/*
 * session.c -- the session era's sessions of one partition (worker): the
 * table of them by id, their expiry, and the replay ring of their streams.
 *
 * A session id is a sealed id (sealid.c) under the node key: a forged one
 * costs no table access, and a well-formed one names the worker that owns
 * the session.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "mcp_int.h"

/* A session the registry knows of: one that answered its initialize. */
#define SESS_KEPT(s)	((s)->s_srv->sv_reg != NULL && (s)->s_proto[0] != '\0')

static void	ring_drop_oldest(struct mcp_session *);
static void	share(struct mcp_session *, struct replay_ev *);

/* A session with its id made (rnd: the id's randomness), in the table. */
static struct mcp_session *
sess_insert(struct mcp_server *srv, const char *id, const unsigned char *rnd,
    int fresh)
{
	struct mcp_session	*s;
	unsigned		 b;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	snprintf(s->s_id, sizeof(s->s_id), "%s", id);
	s->s_srv = srv;
	s->s_log_level = MCPD_LOG_INFO;
	s->s_used_ms = s->s_written_ms = loop_ms(srv);
	TAILQ_INIT(&s->s_creqs);
	TAILQ_INIT(&s->s_calls);
	b = sealid_bucket(rnd, SESS_BUCKETS);
	s->s_next = srv->sv_buckets[b];
	srv->sv_buckets[b] = s;
	TAILQ_INSERT_TAIL(&srv->sv_sessions, s, s_entry);
	if (fresh) {
		TAILQ_INSERT_TAIL(&srv->sv_fresh, s, s_fresh_entry);
		s->s_fresh = 1;
	}
	srv->sv_nsessions++;
	return s;
}

struct mcp_session *
mcp_session_new(struct mcp_server *srv)
{
	unsigned char	rnd[SEALID_RND_BYTES];
	char		id[MCP_SID_MAX_CHARS + 1];

	sealid_new(&srv->sv_sess_ring, srv->sv_partition, rnd, id, sizeof(id));
	return sess_insert(srv, id, rnd, 1);
}

void
mcp_set_registry(struct mcp_server *srv, const struct mcp_registry_ops *ops,
    void *arg)
{
	srv->sv_reg = ops;
	srv->sv_reg_arg = arg;
}

/* The record of a session (mcp.h): what another worker needs to serve it. */
static void
sess_pack(const struct mcp_session *s, struct jw *w)
{
	char		hex[2 * MCP_OWNER_BYTES + 1];
	unsigned	i;

	sodium_bin2hex(hex, sizeof(hex), s->s_owner, sizeof(s->s_owner));
	jw_obj(w);
	jw_key(w, "v");
	jw_int(w, 1);
	jw_key(w, "kind");
	jw_str(w, "session");
	jw_key(w, "id");
	jw_str(w, s->s_id);
	jw_key(w, "owner");
	jw_str(w, hex);
	jw_key(w, "proto");
	jw_str(w, s->s_proto);
	jw_key(w, "initialized");
	jw_bool(w, s->s_initialized);
	jw_key(w, "sampling");
	jw_bool(w, s->s_cap_sampling);
	jw_key(w, "elicitation");
	jw_bool(w, s->s_cap_elicitation);
	jw_key(w, "roots");
	jw_bool(w, s->s_cap_roots);
	jw_key(w, "log");
	jw_int(w, s->s_log_level);
	jw_key(w, "next");
	jw_int(w, s->s_next_req);
	jw_key(w, "get");
	jw_int(w, (int64_t)s->s_get_no);
	jw_key(w, "idle");		/* ms since its last use */
	jw_int(w, (int64_t)(loop_ms(s->s_srv) - s->s_used_ms));
	jw_key(w, "subs");
	jw_arr(w);
	for (i = 0; i < s->s_nsubs; i++)
		jw_str(w, s->s_subs[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

void
sess_changed(struct mcp_session *s)
{
	struct mcp_server	*srv = s->s_srv;
	struct jw		*w = &srv->sv_rec;

	if (!SESS_KEPT(s))
		return;
	s->s_written_ms = loop_ms(srv);
	jw_reset(w);
	sess_pack(s, w);
	if (!w->err && w->len <= MCP_SESSION_RECORD_MAX_BYTES)
		srv->sv_reg->ro_put(srv->sv_reg_arg, s->s_id, w->buf, w->len);
	else
		log_warnx("session %s: its record is not kept (%zu bytes)",
		    s->s_id, w->len);
}

unsigned
mcp_registry_resend(struct mcp_server *srv)
{
	struct mcp_session	*s;
	struct mcp_task		*k;
	unsigned		 i, n = 0;

	TAILQ_FOREACH(s, &srv->sv_sessions, s_entry) {
		if (!SESS_KEPT(s))
			continue;
		sess_changed(s);
		n++;
		for (i = 0; i < s->s_ring_count; i++) {
			struct replay_ev *e =
			    &s->s_ring[(s->s_ring_head + i) % MCP_REPLAY_EVENTS];

			if (e->e_seq != 0 || e->e_kept)
				share(s, e);
		}
	}
	TAILQ_FOREACH(k, &srv->sv_tasks, k_entry) {
		task_changed(srv, k);
		n++;
	}
	return n;
}

/*
 * A session's clock from a record: it was last used idle ms ago (as its
 * sender saw it; less than that when the record is older than its last
 * use, so an expiry comes late, never early).  The list stays in order of
 * last use: the session goes after the last one used before it.  A
 * draining predecessor's records come oldest first, so that is mostly
 * right after the one before (sv_reclock); else it is looked for from the
 * newest, RECLOCK_SCAN_MAX steps at most (then at the head: its expiry
 * may wait for the sessions before it, never come early).
 */
#define RECLOCK_SCAN_MAX	64

static void
reclock(struct mcp_server *srv, struct mcp_session *s, int64_t idle)
{
	struct mcp_session	*at, *next;
	uint64_t		 now = loop_ms(srv);
	unsigned		 n = 0;

	if ((uint64_t)idle > now)
		idle = (int64_t)now;
	s->s_used_ms = now - (uint64_t)idle;
	s->s_clock_adopted = 1;
	if (srv->sv_reclock == s)
		srv->sv_reclock = TAILQ_PREV(s, sesslist, s_entry);
	TAILQ_REMOVE(&srv->sv_sessions, s, s_entry);
	if ((at = srv->sv_reclock) != NULL && (at->s_used_ms > s->s_used_ms ||
	    ((next = TAILQ_NEXT(at, s_entry)) != NULL &&
	    next->s_used_ms < s->s_used_ms)))
		at = NULL;
	if (at == NULL) {
		at = TAILQ_LAST(&srv->sv_sessions, sesslist);
		while (at != NULL && at->s_used_ms > s->s_used_ms &&
		    n++ < RECLOCK_SCAN_MAX)
			at = TAILQ_PREV(at, sesslist, s_entry);
		if (at != NULL && at->s_used_ms > s->s_used_ms)
			at = NULL;	/* too far back: the head */
	}
	if (at == NULL)
		TAILQ_INSERT_HEAD(&srv->sv_sessions, s, s_entry);
	else
		TAILQ_INSERT_AFTER(&srv->sv_sessions, at, s, s_entry);
	srv->sv_reclock = s;
}

/* A boolean of the record: 0 or 1; -1 when absent or not one. */
static int
rec_bool(const struct json *j, const char *key)
{
	int i, v;

	if ((i = json_get(j, 0, key)) == -1 || json_bool(j, i, &v) == -1)
		return -1;
	return v;
}

int
mcp_registry_adopt(struct mcp_server *srv, const char *rec, size_t len,
    int live, char *err, size_t errlen)
{
	struct json		 j;
	struct mcp_session	*s;
	unsigned char		 rnd[SEALID_RND_BYTES];
	unsigned char		 owner[MCP_OWNER_BYTES];
	char			 id[MCP_SID_MAX_CHARS + 1], hex[64], proto[16];
	char			 uri[512];
	int64_t			 lvl, next, get = 0, idle = 0;
	unsigned		 part;
	int			 i, k, n, e, init, samp, elic, roots, owner_of;
	size_t			 olen;

	if (json_parse(&j, rec, len, srv->sv_toks, JSON_TOKENS_MAX) !=
	    JSON_OK || json_type(&j, 0) != JSON_OBJECT) {
		snprintf(err, errlen, "not a record");
		return -1;
	}
	if ((i = json_get(&j, 0, "kind")) != -1 && json_streq(&j, i, "task"))
		return task_adopt(srv, &j, live != MCP_ADOPT_START &&
		    live != MCP_ADOPT_TASKS, err, errlen);
	if (live == MCP_ADOPT_TASKS)
		return 1;
	if ((i = json_get(&j, 0, "kind")) == -1 ||
	    !json_streq(&j, i, "session") ||
	    (i = json_get(&j, 0, "id")) == -1 ||
	    json_strcpy(&j, i, id, sizeof(id)) == -1) {
		snprintf(err, errlen, "not a session record");
		return -1;
	}
	if (sealid_open(&srv->sv_sess_ring, 0, id, &part, rnd) == -1 ||
	    part != srv->sv_partition) {
		snprintf(err, errlen, "session %s: not one of partition %u",
		    id, srv->sv_partition);
		return -1;
	}
	s = mcp_session_find(srv, id, &owner_of);
	if ((i = json_get(&j, 0, "owner")) == -1 ||
	    json_strcpy(&j, i, hex, sizeof(hex)) == -1 ||
	    sodium_hex2bin(owner, sizeof(owner), hex, strlen(hex), NULL, &olen,
	    NULL) != 0 || olen != sizeof(owner) ||
	    (i = json_get(&j, 0, "proto")) == -1 ||
	    json_strcpy(&j, i, proto, sizeof(proto)) == -1 ||
	    mcp_version_negotiate(proto) == NULL ||
	    strcmp(mcp_version_negotiate(proto), proto) != 0 ||
	    (init = rec_bool(&j, "initialized")) == -1 ||
	    (samp = rec_bool(&j, "sampling")) == -1 ||
	    (elic = rec_bool(&j, "elicitation")) == -1 ||
	    (roots = rec_bool(&j, "roots")) == -1 ||
	    (i = json_get(&j, 0, "log")) == -1 ||
	    json_int64(&j, i, &lvl) == -1 || lvl < 0 || lvl > MCPD_LOG_EMERGENCY ||
	    (i = json_get(&j, 0, "next")) == -1 ||
	    json_int64(&j, i, &next) == -1 ||
	    ((i = json_get(&j, 0, "get")) != -1 &&
	    (json_int64(&j, i, &get) == -1 || get < 0)) ||
	    ((i = json_get(&j, 0, "idle")) != -1 &&
	    (json_int64(&j, i, &idle) == -1 || idle < 0)) ||
	    (k = json_get(&j, 0, "subs")) == -1 ||
	    json_type(&j, k) != JSON_ARRAY || (n = j.t[k].size) > MCP_SUBS_MAX) {
		snprintf(err, errlen, "session %s: a bad record", id);
		return -1;
	}
	if (s != NULL && live != MCP_ADOPT_UPDATE) {
		/* here already: only its clock, if nothing used it here */
		if (s->s_clock_adopted)
			reclock(srv, s, idle);
		return 1;
	}
	if (s != NULL) {
		/* its predecessor's change: the record says it all */
		if (memcmp(s->s_owner, owner, sizeof(owner)) != 0 ||
		    strcmp(s->s_proto, proto) != 0) {
			snprintf(err, errlen, "session %s: an update names "
			    "another owner or version", id);
			return -1;
		}
		for (i = 0; i < (int)s->s_nsubs; i++)
			free(s->s_subs[i]);
		s->s_nsubs = 0;
		if (next < s->s_next_req)
			next = s->s_next_req;
	} else if ((s = sess_insert(srv, id, rnd, 0)) == NULL) {
		snprintf(err, errlen, "session %s: out of memory", id);
		return -1;
	}
	memcpy(s->s_owner, owner, sizeof(owner));
	memcpy(s->s_proto, proto, sizeof(s->s_proto));
	s->s_initialized = init;
	s->s_cap_sampling = samp;
	s->s_cap_elicitation = elic;
	s->s_cap_roots = roots;
	s->s_log_level = (int)lvl;
	s->s_next_req = next;
	s->s_get_no = (uint64_t)get;
	for (i = k + 1, e = 0; e < n; e++, i = json_skip(&j, i)) {
		if (json_strcpy(&j, i, uri, sizeof(uri)) == -1 ||
		    (s->s_subs[s->s_nsubs] = strdup(uri)) == NULL)
			continue;
		s->s_nsubs++;
	}
	switch (live) {
	case MCP_ADOPT_START:		/* the agent's: in no order */
	case MCP_ADOPT_RELOAD:
		if ((uint64_t)idle <= loop_ms(srv))
			s->s_used_ms = loop_ms(srv) - (uint64_t)idle;
		s->s_clock_adopted = 1;
		break;
	case MCP_ADOPT_LIVE:
		reclock(srv, s, idle);
		break;
	case MCP_ADOPT_UPDATE:		/* our predecessor used it just now */
		mcp_session_touch(s);
		if ((uint64_t)idle <= loop_ms(srv))
			s->s_used_ms = loop_ms(srv) - (uint64_t)idle;
		break;
	}
	return 0;
}

struct mcp_session *
mcp_session_find(struct mcp_server *srv, const char *id, int *owner)
{
	struct mcp_session	*s;
	unsigned char		 rnd[SEALID_RND_BYTES];
	unsigned		 part;

	*owner = -1;
	if (sealid_open(&srv->sv_sess_ring, loop_ms(srv) / 1000, id, &part,
	    rnd) == -1)
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
mcp_session_forget(struct mcp_server *srv, struct mcp_session *s)
{
	const struct mcp_registry_ops *reg = srv->sv_reg;

	srv->sv_reg = NULL;
	mcp_session_close(srv, s);
	srv->sv_reg = reg;
}

void
mcp_session_touch(struct mcp_session *s)
{
	struct mcp_server *srv = s->s_srv;

	s->s_used_ms = loop_ms(srv);
	/*
	 * A record is written when the session changes; one in use that
	 * does not change is written again every half session-timeout, so
	 * that its copies (the agent's, a cluster's Redis, whose keys
	 * expire) know it is alive
	 */
	if (srv->sv_idle_ms != 0 &&
	    s->s_used_ms - s->s_written_ms >= srv->sv_idle_ms / 2)
		sess_changed(s);
	s->s_clock_adopted = 0;
	if (srv->sv_reclock == s)
		srv->sv_reclock = TAILQ_PREV(s, sesslist, s_entry);
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

	if (SESS_KEPT(s))
		srv->sv_reg->ro_del(srv->sv_reg_arg, s->s_id);
	if (s->s_get != NULL && s->s_get->s_ops->so_close != NULL)
		s->s_get->s_ops->so_close(s->s_get);	/* ends it */
	s->s_get = NULL;
	creq_drop_session(s);
	while ((c = TAILQ_FIRST(&s->s_calls)) != NULL) {
		call_cancel(c, "the session ended");
		if (TAILQ_FIRST(&s->s_calls) == c)
			call_session_gone(c);
	}
	if (sealid_open(&srv->sv_sess_ring, 0, s->s_id, &part, rnd) == 0) {
		for (pp = &srv->sv_buckets[sealid_bucket(rnd, SESS_BUCKETS)];
		    *pp != NULL;
		    pp = &(*pp)->s_next) {
			if (*pp == s) {
				*pp = s->s_next;
				break;
			}
		}
	}
	if (srv->sv_reclock == s)
		srv->sv_reclock = TAILQ_PREV(s, sesslist, s_entry);
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
mcp_session_take_get(struct mcp_session *s, struct mcp_stream *st)
{
	struct mcp_stream *old = s->s_get;

	if (old != NULL && old->s_ops->so_close != NULL)
		old->s_ops->so_close(old);	/* ends it, detaches it */
	s->s_get = st;
	mcp_session_touch(s);
}

void
mcp_session_detach(struct mcp_session *s, struct mcp_stream *st)
{
	if (s->s_get == st)
		s->s_get = NULL;
}

/* Idle past the last expiry's idle_ms, and nothing in flight or open. */
int
mcp_session_expired(struct mcp_server *srv, const struct mcp_session *s)
{
	return srv->sv_idle_ms != 0 &&
	    loop_ms(srv) - s->s_used_ms > srv->sv_idle_ms &&
	    s->s_get == NULL && TAILQ_EMPTY(&s->s_calls);
}

unsigned
mcp_session_expire(struct mcp_server *srv, uint64_t idle_ms,
    uint64_t start_ms)
{
	struct mcp_session	*s, *next;
	uint64_t		 now = loop_ms(srv);
	unsigned		 n = 0;

	srv->sv_idle_ms = idle_ms;
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

/* Into the ring: 0, or -1 when it is not kept (too big, no memory). */
static struct replay_ev *
ring_put(struct mcp_session *s, uint64_t stream, uint64_t seq,
    const char *data, size_t len, int final, int kept)
{
	struct replay_ev	*e;
	char			*copy;

	if (len > MCP_REPLAY_BYTES)
		return NULL;	/* too big to keep: not resumable */
	if (s->s_ring == NULL &&
	    (s->s_ring = calloc(MCP_REPLAY_EVENTS, sizeof(*s->s_ring))) == NULL)
		return NULL;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return NULL;
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
	e->e_kept = kept;
	s->s_ring_count++;
	s->s_ring_bytes += len;
	return e;
}

static void
share(struct mcp_session *s, struct replay_ev *e)
{
	struct mcp_server *srv = s->s_srv;

	srv->sv_reg->ro_event(srv->sv_reg_arg, s->s_id, e->e_stream,
	    e->e_seq, e->e_data, e->e_len, e->e_final);
	e->e_kept = 1;
}

/* The head of stream in the ring, or NULL. */
static struct replay_ev *
ring_head(struct mcp_session *s, uint64_t stream)
{
	unsigned i;

	/* newest first: a stream's head is near its events */
	for (i = s->s_ring_count; i-- > 0; ) {
		struct replay_ev *e =
		    &s->s_ring[(s->s_ring_head + i) % MCP_REPLAY_EVENTS];

		if (e->e_stream == stream && e->e_seq == 0)
			return e;
	}
	return NULL;
}

void
mcp_session_share_stream(struct mcp_session *s, uint64_t stream)
{
	unsigned i;

	if (!SESS_KEPT(s))
		return;
	for (i = 0; i < s->s_ring_count; i++) {
		struct replay_ev *e =
		    &s->s_ring[(s->s_ring_head + i) % MCP_REPLAY_EVENTS];

		if (e->e_stream == stream && !e->e_kept)
			share(s, e);
	}
}

const char *
mcp_session_stream_head(struct mcp_session *s, uint64_t stream, size_t *len)
{
	struct replay_ev *e;

	if ((e = ring_head(s, stream)) == NULL)
		return NULL;
	*len = e->e_len;
	return e->e_data;
}

void
mcp_session_set_get(struct mcp_session *s, uint64_t stream)
{
	if (s->s_get_no == stream)
		return;
	s->s_get_no = stream;
	sess_changed(s);
}

uint64_t
mcp_session_get_of(const struct mcp_session *s)
{
	return s->s_get_no;
}

void
mcp_session_record(struct mcp_session *s, uint64_t stream, uint64_t seq,
    const char *data, size_t len, int final, int copy)
{
	struct replay_ev	*e, *h;

	if ((e = ring_put(s, stream, seq, data, len, final, 0)) == NULL ||
	    !copy || seq == 0 || !SESS_KEPT(s))
		return;
	if ((h = ring_head(s, stream)) != NULL && !h->e_kept)
		share(s, h);
	share(s, e);
}

int
mcp_registry_adopt_event(struct mcp_server *srv, const char *id,
    uint64_t stream, uint64_t seq, const char *data, size_t len, int final)
{
	struct mcp_session	*s;
	int			 owner;

	if ((s = mcp_session_find(srv, id, &owner)) == NULL)
		return -1;
	/* the registry has it: the sender */
	(void)ring_put(s, stream, seq, data, len, final, 1);
	return 0;
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

		if (e->e_stream != stream || e->e_seq == 0)
			continue;
		final |= e->e_final;	/* replayed or seen before: ended */
		if (e->e_seq > after && e->e_len > 0)
			fn(arg, e->e_seq, e->e_data, e->e_len, e->e_final);
	}
	return final;
}

unsigned
mcp_session_count(const struct mcp_server *srv)
{
	return srv->sv_nsessions;
}
