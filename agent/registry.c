/*
 * registry.c -- the node's registry replica: a copy of every session's
 * record, by the worker index (slot) whose partition keeps it.
 *
 * A worker sends a record when it changes and when its session ends
 * (msg_agent.def: AGT_SESS_PUT, AGT_SESS_DEL), batched with everything
 * else it sends in one loop iteration; it never waits for us.  A worker
 * that starts (the successor of one that died, or a worker of a new
 * generation) asks for the records of its slot (AGT_ADOPT) and serves
 * their sessions from then on.  When we die, the workers send us every
 * record again on the channel our successor gets.
 *
 * With a session's record go the last events of its SSE streams, as the
 * worker's replay ring keeps them (AGT_EV_PUT; the same bounds a session,
 * MCP_REPLAY_EVENTS and MCP_REPLAY_BYTES, so that both drop the same
 * ones): a client resumes a stream on the successor with Last-Event-ID.
 *
 * Bounded by registry-records (records) and registry-size (bytes of
 * records and events).  When the bytes would pass, the oldest replay
 * events of the node are shed first, to make room (counted, logged once
 * a minute); a new record that still finds no room is not kept (the
 * session is served, but would not survive its worker), counted and
 * logged once a minute.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "agtev.h"
#include "conf.h"
#include "log.h"
#include "mcpd.h"
#include "metrics.h"
#include "msg.h"

#define REG_BUCKETS		65536	/* of the id hash table */
#define REG_REFUSED_LOG_SECS	60	/* "not kept", at most this often */
#define REG_SHED_LOG_SECS	60	/* "events shed", at most this often */
/* a session's events: the worker's ring's bounds (mcp.h) */
#define REG_EV_MAX		64	/* MCP_REPLAY_EVENTS */
#define REG_EV_MAX_BYTES	AGT_EV_MAX_BYTES /* MCP_REPLAY_BYTES */

struct ev {
	TAILQ_ENTRY(ev)		 e_entry;	/* its record's, oldest first */
	TAILQ_ENTRY(ev)		 e_age;		/* the node's, oldest first */
	struct rec		*e_rec;
	uint64_t		 e_stream;
	uint64_t		 e_seq;
	int			 e_final;
	size_t			 e_len;
	char			 e_data[];
};
TAILQ_HEAD(evlist, ev);
/* what an event costs in R.bytes: its data and its keeping */
#define EV_BYTES(len)		(sizeof(struct ev) + (len))

struct rec {
	struct rec		*r_next;	/* hash chain */
	TAILQ_ENTRY(rec)	 r_entry;	/* its slot's */
	uint32_t		 r_slot;
	char			*r_id;
	char			*r_data;
	size_t			 r_len;
	struct evlist		 r_evs;
	unsigned		 r_nev;
	size_t			 r_evlen;	/* their data's bytes */
};
TAILQ_HEAD(reclist, rec);

static struct {
	struct rec	**buckets;
	struct reclist	 slots[WORKERS_MAX];
	uint64_t	 records;
	uint64_t	 bytes;
	uint64_t	 max_records;
	uint64_t	 max_bytes;
	uint32_t	 nslots;	/* workers configured */
	uint64_t	 refused;
	time_t		 refused_logged;
	struct evlist	 events;	/* every record's, by age */
	uint64_t	 nevents;
	uint64_t	 shed;		/* events dropped for room */
	uint64_t	 shed_logged_at; /* R.shed when last logged */
	time_t		 shed_logged;
	unsigned char	 key[crypto_shorthash_KEYBYTES];
	struct sb_metrics *mx;		/* ours in the scoreboard, or NULL */
} R;

static void
gauges(void)
{
	if (R.mx == NULL)
		return;
	MX_SET(&R.mx->m_gauge[MX_G_REGISTRY_RECORDS], R.records);
	MX_SET(&R.mx->m_gauge[MX_G_REGISTRY_BYTES], R.bytes);
	MX_SET(&R.mx->m_gauge[MX_G_REGISTRY_EVENTS], R.nevents);
}

static unsigned
bucket(const char *id)
{
	unsigned char	h[crypto_shorthash_BYTES];
	uint32_t	v;

	crypto_shorthash(h, (const unsigned char *)id, strlen(id), R.key);
	memcpy(&v, h, sizeof(v));
	return v % REG_BUCKETS;
}

static struct rec **
find(const char *id)
{
	struct rec **pp;

	for (pp = &R.buckets[bucket(id)]; *pp != NULL; pp = &(*pp)->r_next)
		if (strcmp((*pp)->r_id, id) == 0)
			return pp;
	return pp;
}

void
registry_metrics(struct sb_metrics *mx)
{
	R.mx = mx;
	gauges();
}

void
registry_load(const struct conf *c)
{
	uint32_t i;

	if (R.buckets == NULL) {
		if ((R.buckets = calloc(REG_BUCKETS, sizeof(*R.buckets))) ==
		    NULL)
			fatal("registry");
		for (i = 0; i < WORKERS_MAX; i++)
			TAILQ_INIT(&R.slots[i]);
		TAILQ_INIT(&R.events);
		randombytes_buf(R.key, sizeof(R.key));
	}
	R.max_records = conf_registry_records(c);
	R.max_bytes = c->c_registry_bytes;
	R.nslots = conf_workers(c);
	/*
	 * Fewer workers: no worker will adopt what the others kept.  Their
	 * sessions end (a client's next request gets 404 and it starts a
	 * new one); what those workers send while they drain is not kept.
	 */
	for (i = R.nslots; i < WORKERS_MAX; i++) {
		struct rec	*r;
		unsigned	 n = 0;

		TAILQ_FOREACH(r, &R.slots[i], r_entry)
			n++;
		if (n == 0)
			continue;
		registry_forget(i);
		log_info("registry: the %u records of worker %u dropped: "
		    "%u workers now", n, i, R.nslots);
	}
}

static void
ev_drop(struct ev *e)
{
	struct rec *r = e->e_rec;

	TAILQ_REMOVE(&r->r_evs, e, e_entry);
	TAILQ_REMOVE(&R.events, e, e_age);
	r->r_nev--;
	r->r_evlen -= e->e_len;
	R.nevents--;
	R.bytes -= EV_BYTES(e->e_len);
	free(e);
}

/*
 * Room for need more bytes, made by shedding the node's oldest replay
 * events: 0, or -1 when there is none even without any.
 */
static int
room(size_t need)
{
	struct ev	*e;
	time_t		 now;

	while (R.bytes + need > R.max_bytes &&
	    (e = TAILQ_FIRST(&R.events)) != NULL) {
		ev_drop(e);
		R.shed++;
		if (R.mx != NULL)
			MX_ADD(&R.mx->m_rejected[MX_R_REPLAY], 1);
	}
	if (R.shed != R.shed_logged_at &&
	    (now = time(NULL)) - R.shed_logged >= REG_SHED_LOG_SECS) {
		R.shed_logged = now;
		R.shed_logged_at = R.shed;
		log_warnx("registry: full (%llu bytes): the oldest replay "
		    "events are shed to make room, %llu so far; a stream "
		    "that lost them resumes on a successor without them",
		    (unsigned long long)R.bytes,
		    (unsigned long long)R.shed);
	}
	return R.bytes + need > R.max_bytes ? -1 : 0;
}

static void
rec_free(struct rec **pp)
{
	struct rec	*r = *pp;
	struct ev	*e;

	while ((e = TAILQ_FIRST(&r->r_evs)) != NULL)
		ev_drop(e);
	*pp = r->r_next;
	TAILQ_REMOVE(&R.slots[r->r_slot], r, r_entry);
	R.records--;
	R.bytes -= r->r_len + strlen(r->r_id);
	free(r->r_id);
	free(r->r_data);
	free(r);
}

static void
refuse(uint32_t slot, const char *id)
{
	time_t now = time(NULL);

	R.refused++;
	if (R.mx != NULL)
		MX_ADD(&R.mx->m_rejected[MX_R_REGISTRY], 1);
	if (now - R.refused_logged < REG_REFUSED_LOG_SECS)
		return;
	R.refused_logged = now;
	log_warnx("registry: full (%llu records, %llu bytes): session %s of "
	    "worker %u not kept; %llu refused so far", (unsigned long long)
	    R.records, (unsigned long long)R.bytes, id, slot,
	    (unsigned long long)R.refused);
}

void
registry_put(uint32_t slot, const char *id, const char *data, size_t len)
{
	struct rec	**pp, *r;
	char		 *copy;
	size_t		  was = 0;

	if (slot >= R.nslots || R.buckets == NULL)
		return;		/* a worker that a reload did away with */
	pp = find(id);
	if (*pp != NULL)
		was = (*pp)->r_len;
	if (*pp == NULL && R.records >= R.max_records) {
		refuse(slot, id);
		return;
	}
	/* events go before records; this record's own ones count too */
	if (len + (*pp == NULL ? strlen(id) : 0) > was &&
	    room(len + (*pp == NULL ? strlen(id) : 0) - was) == -1) {
		refuse(slot, id);
		return;
	}
	if ((copy = malloc(len)) == NULL) {
		refuse(slot, id);
		return;
	}
	memcpy(copy, data, len);
	if ((r = *pp) != NULL) {
		free(r->r_data);
		R.bytes -= r->r_len;
		if (r->r_slot != slot) {	/* a new generation's now */
			TAILQ_REMOVE(&R.slots[r->r_slot], r, r_entry);
			TAILQ_INSERT_TAIL(&R.slots[slot], r, r_entry);
			r->r_slot = slot;
		}
	} else {
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    (r->r_id = strdup(id)) == NULL) {
			free(r);
			free(copy);
			refuse(slot, id);
			return;
		}
		r->r_slot = slot;
		TAILQ_INIT(&r->r_evs);
		*pp = r;
		TAILQ_INSERT_TAIL(&R.slots[slot], r, r_entry);
		R.records++;
		R.bytes += strlen(id);
	}
	r->r_data = copy;
	r->r_len = len;
	R.bytes += len;
	gauges();
}

void
registry_event(uint32_t slot, const struct agt_ev *in)
{
	struct rec	*r;
	struct ev	*e;

	if (R.buckets == NULL || (r = *find(in->ev_sid)) == NULL ||
	    r->r_slot != slot || in->ev_len > REG_EV_MAX_BYTES)
		return;		/* a session not kept: nor its events */
	/* the ring's bounds, as the worker's */
	while ((e = TAILQ_FIRST(&r->r_evs)) != NULL &&
	    (r->r_nev >= REG_EV_MAX ||
	    r->r_evlen + in->ev_len > REG_EV_MAX_BYTES))
		ev_drop(e);
	if (room(EV_BYTES(in->ev_len)) == -1 ||
	    (e = malloc(EV_BYTES(in->ev_len))) == NULL) {
		R.shed++;
		if (R.mx != NULL)
			MX_ADD(&R.mx->m_rejected[MX_R_REPLAY], 1);
		gauges();
		return;
	}
	e->e_rec = r;
	e->e_stream = in->ev_stream;
	e->e_seq = in->ev_seq;
	e->e_final = in->ev_final;
	e->e_len = in->ev_len;
	memcpy(e->e_data, in->ev_data, in->ev_len);
	TAILQ_INSERT_TAIL(&r->r_evs, e, e_entry);
	TAILQ_INSERT_TAIL(&R.events, e, e_age);
	r->r_nev++;
	r->r_evlen += e->e_len;
	R.nevents++;
	R.bytes += EV_BYTES(e->e_len);
	gauges();
}

int
registry_send_events(uint32_t slot, const char *id, struct chan *ch)
{
	struct rec	*r;
	struct ev	*e;
	int		 n = 0;

	if (R.buckets == NULL || (r = *find(id)) == NULL || r->r_slot != slot)
		return 0;
	TAILQ_FOREACH(e, &r->r_evs, e_entry) {
		if (agt_ev_send(ch, MSG_AGT_EV_REC, id, e->e_stream,
		    e->e_seq, e->e_data, e->e_len, e->e_final) == -1)
			return -1;
		n++;
	}
	return n;
}

void
registry_del(uint32_t slot, const char *id)
{
	struct rec **pp;

	if (R.buckets == NULL)
		return;
	if (*(pp = find(id)) != NULL)
		rec_free(pp);
	gauges();
}

void
registry_drop(const char *id)
{
	struct rec **pp;

	if (R.buckets == NULL)
		return;
	if (*(pp = find(id)) != NULL)
		rec_free(pp);
	gauges();
}

void
registry_forget(uint32_t slot)
{
	struct rec *r;

	if (slot >= WORKERS_MAX || R.buckets == NULL)
		return;
	while ((r = TAILQ_FIRST(&R.slots[slot])) != NULL)
		rec_free(find(r->r_id));
	gauges();
}

char **
registry_ids(uint32_t slot, size_t *n)
{
	struct rec	 *r;
	char		**ids;
	size_t		  i = 0, cnt = 0;

	*n = 0;
	if (slot >= WORKERS_MAX || R.buckets == NULL)
		return NULL;
	TAILQ_FOREACH(r, &R.slots[slot], r_entry)
		cnt++;
	if (cnt == 0 || (ids = calloc(cnt, sizeof(*ids))) == NULL)
		return NULL;
	TAILQ_FOREACH(r, &R.slots[slot], r_entry)
		if ((ids[i] = strdup(r->r_id)) != NULL)
			i++;
	*n = i;
	return ids;
}

const char *
registry_get(uint32_t slot, const char *id, size_t *len)
{
	struct rec *r;

	if (R.buckets == NULL || (r = *find(id)) == NULL || r->r_slot != slot)
		return NULL;
	*len = r->r_len;
	return r->r_data;
}

void
registry_stats(struct registry_stats *st)
{
	st->rs_records = R.records;
	st->rs_bytes = R.bytes;
	st->rs_refused = R.refused;
	st->rs_events = R.nevents;
	st->rs_shed = R.shed;
}
