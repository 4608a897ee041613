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
 * Bounded by registry-records and registry-size: a new record past
 * either is not kept (the session is served, but would not survive its
 * worker), counted and logged once a minute.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "conf.h"
#include "log.h"
#include "mcpd.h"
#include "metrics.h"

#define REG_BUCKETS		65536	/* of the id hash table */
#define REG_REFUSED_LOG_SECS	60	/* "not kept", at most this often */

struct rec {
	struct rec		*r_next;	/* hash chain */
	TAILQ_ENTRY(rec)	 r_entry;	/* its slot's */
	uint32_t		 r_slot;
	char			*r_id;
	char			*r_data;
	size_t			 r_len;
};
TAILQ_HEAD(reclist, rec);

static struct {
	struct rec	**buckets;
	struct reclist	 slots[WORKERS_MAX];
	uint64_t	 records;
	uint64_t	 bytes;
	uint64_t	 max_records;
	uint64_t	 max_bytes;
	uint64_t	 refused;
	time_t		 refused_logged;
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
		randombytes_buf(R.key, sizeof(R.key));
	}
	R.max_records = conf_registry_records(c);
	R.max_bytes = c->c_registry_bytes;
}

static void
rec_free(struct rec **pp)
{
	struct rec *r = *pp;

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

	if (slot >= WORKERS_MAX || R.buckets == NULL)
		return;
	pp = find(id);
	if (*pp != NULL)
		was = (*pp)->r_len;
	if ((*pp == NULL && R.records >= R.max_records) ||
	    R.bytes - was + len + (*pp == NULL ? strlen(id) : 0) >
	    R.max_bytes) {
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
registry_stats(uint64_t *records, uint64_t *bytes, uint64_t *refused)
{
	*records = R.records;
	*bytes = R.bytes;
	*refused = R.refused;
}
