/*
 * cluster.c -- this node as a member of a cluster (DESIGN 9): its epoch
 * and its liveness in Redis, and who else is alive.
 *
 * Keys (CLUSTER_PREFIX):
 *
 *	mcpd:epoch:NODE	a counter; INCR when the agent first reaches Redis
 *			gives this run of the node its epoch
 *	mcpd:node:NODE	the liveness key: EPOCH, PX node-ttl, set again
 *			every node-ttl / 3 -- but only while EPOCH is still
 *			NODE's newest (one script: a stale process of NODE
 *			never revives it)
 *	mcpd:members	a hash NODE -> "EPOCH RECORDS" of every node that
 *			joined (each beat writes it: the sessions and tasks
 *			it owns); alive are those whose liveness key is there
 *
 * (A Redis that lost its data -- restarted without persistence -- has no
 * epoch of NODE: the beat writes ours again.)
 *
 * A beat that finds a newer epoch than ours is fenced: another process
 * runs with our node id (two nodes given one id, or we are the stale one,
 * frozen and restarted elsewhere).  We stop claiming liveness, say so
 * once, and keep it fenced until a restart.  A beat that finds our
 * liveness key gone although we set it is a lapse: for longer than
 * node-ttl we were as good as dead to the others, who may have taken
 * over what we owned (counted, logged).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <hiredis/hiredis.h>

#include "agent.h"
#include "agtev.h"
#include "conf.h"
#include "log.h"
#include "mcpd.h"
#include "metrics.h"
#include "msg.h"
#include "util.h"

#define CLUSTER_PREFIX		"mcpd:"
#define CLUSTER_KEY_MAX_BYTES	(sizeof(CLUSTER_PREFIX) + 16 + \
				    CONF_NODE_MAX_BYTES)

/*
 * KEYS[1] liveness, KEYS[2] epoch, KEYS[3] members; ARGV[1] our epoch,
 * ARGV[2] ttl ms, ARGV[3] our node
 */
static const char beat_lua[] =
    "local cur = redis.call('GET', KEYS[2])\n"
    "if not cur then redis.call('SET', KEYS[2], ARGV[1]); cur = ARGV[1] "
    "end\n"
    "if cur ~= ARGV[1] then return -1 end\n"
    "local old = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], "
    "'GET')\n"
    "redis.call('HSET', KEYS[3], ARGV[3], ARGV[1] .. ' ' .. ARGV[4])\n"
    "if old then return 1 end\n"
    "return 0\n";

/*
 * KEYS[1] the members hash (NODE -> "EPOCH RECORDS"); ARGV[1] the prefix:
 * NODE, EPOCH, "EPOCH RECORDS" of the alive
 */
static const char members_lua[] =
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local out = {}\n"
    "for i = 1, #all, 2 do\n"
    "  local e = redis.call('GET', ARGV[1] .. 'node:' .. all[i])\n"
    "  if e then\n"
    "    out[#out + 1] = all[i]; out[#out + 1] = e\n"
    "    out[#out + 1] = all[i + 1]\n"
    "  end\n"
    "end\n"
    "return out\n";

/*
 * The records: KEYS[1] mcpd:rec:ID, a hash of owner, epoch and rec.
 * put: ARGV node, epoch, record, ttl ms: written only while ours (or
 * nobody's): 1; another's now: 0 (fenced).
 */
static const char put_lua[] =
    "local o = redis.call('HMGET', KEYS[1], 'owner', 'epoch')\n"
    "if o[1] and (o[1] ~= ARGV[1] or o[2] ~= ARGV[2]) then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', ARGV[2], "
    "'rec', ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "return 1\n";

/*
 * del: KEYS[2] its events; ARGV node, epoch: gone if ours or nobody's: 1;
 * another's: 0
 */
static const char del_lua[] =
    "local o = redis.call('HMGET', KEYS[1], 'owner', 'epoch')\n"
    "if not o[1] then redis.call('DEL', KEYS[2]) return 1 end\n"
    "if o[1] ~= ARGV[1] or o[2] ~= ARGV[2] then return 0 end\n"
    "redis.call('DEL', KEYS[1], KEYS[2])\n"
    "return 1\n";

/*
 * ev: a replay event of a session of ours, to its stream KEYS[2]
 * (mcpd:ev:ID, the last MCP_REPLAY_EVENTS): ARGV node, epoch, stream,
 * seq, final, data, max, ttl ms.  1; another's session: 0.  No record
 * (not written, Redis was out of reach): not kept, nothing to replay.
 */
static const char ev_lua[] =
    "local o = redis.call('HMGET', KEYS[1], 'owner', 'epoch')\n"
    "if not o[1] then return 1 end\n"
    "if o[1] ~= ARGV[1] or o[2] ~= ARGV[2] then return 0 end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[7], '*', 's', ARGV[3], "
    "'q', ARGV[4], 'f', ARGV[5], 'd', ARGV[6])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[8])\n"
    "return 1\n";

/*
 * take: ARGV node, epoch, ttl ms, id: the compare-and-set of the owner
 * (a script runs alone): ours from now on; the one it was taken from
 * hears it on its channel.  nil: no such record; else {record, owner,
 * then stream, seq, final, data of each replay event}.  A task still
 * running on a node that lives is not taken: {"", owner}.
 */
static const char take_lua[] =
    "local o = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'rec')\n"
    "if not o[3] then return false end\n"
    "if o[1] and (o[1] ~= ARGV[1] or o[2] ~= ARGV[2]) then\n"
    "  local ok, r = pcall(cjson.decode, o[3])\n"
    "  if ok and type(r) == 'table' and r.kind == 'task' and\n"
    "      (r.status == 'working' or r.status == 'input_required') and\n"
    "      redis.call('GET', '" "mcpd:" "node:' .. o[1]) == o[2] then\n"
    "    return {'', o[1]}\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "if o[1] and (o[1] ~= ARGV[1] or o[2] ~= ARGV[2]) then\n"
    "  redis.call('PUBLISH', '" "mcpd:" "lost:' .. o[1], ARGV[4])\n"
    "end\n"
    "local out = {o[3], o[1] or ''}\n"
    "for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do\n"
    "  local f = {}\n"
    "  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end\n"
    "  if f.s and f.q and f.f and f.d then\n"
    "    out[#out + 1] = f.s; out[#out + 1] = f.q\n"
    "    out[#out + 1] = f.f; out[#out + 1] = f.d\n"
    "  end\n"
    "end\n"
    "return out\n";

/*
 * reconcile: ARGV node, epoch; KEYS the records of ids we keep.  Which of
 * them (their places in KEYS) another node, or another run of ours, owns
 * now: taken while our link was down, which no channel told us (Pub/Sub
 * keeps nothing for a subscriber that is away); and, negated, which are
 * not there at all (a write that failed meanwhile, a Redis that lost
 * them in a failover or a restart): ours to write again.
 */
static const char reconcile_lua[] =
    "local out = {}\n"
    "for i, k in ipairs(KEYS) do\n"
    "  local o = redis.call('HMGET', k, 'owner', 'epoch')\n"
    "  if not o[1] then\n"
    "    out[#out + 1] = -i\n"
    "  elseif o[1] ~= ARGV[1] or o[2] ~= ARGV[2] then\n"
    "    out[#out + 1] = i\n"
    "  end\n"
    "end\n"
    "return out\n";
#define RECONCILE_BATCH		256	/* ids in one reconcile script */

static struct {
	struct ev_loop		*loop;
	struct conf_cluster	 cl;
	struct mx_cluster	*mx;
	struct mx_cluster	 local;
	const struct cluster_out *out;
	uint32_t		 rec_ttl_ms;	/* of a record in Redis */
	uint64_t		 epoch;		/* 0: none yet */
	int			 alive;		/* our key was set */
	int			 fenced;
	int			 asking;	/* INCR in flight */
	int			 linked;	/* the link was up before */
	int			 reconcile;	/* runs owed: now, next beat */
	char			 k_epoch[CLUSTER_KEY_MAX_BYTES];
	char			 k_node[CLUSTER_KEY_MAX_BYTES];
	char			 k_fwd[CLUSTER_KEY_MAX_BYTES];
	ev_timer		 beat;
} C;

static void	beat(void);
static void	lost(const char *);
static void	rec_key(char *, size_t, const char *);
static void	reconcile(void);
static void	on_message(const char *, const char *, size_t);

static void
publish_members(const redisReply *r)
{
	uint64_t	w[MX_NODE_NAME_WORDS];
	size_t		i, n = 0, len;

	MX_SET(&C.mx->c_seq, MX_GET(&C.mx->c_seq) + 1);	/* odd: writing */
	for (i = 0; i + 2 < r->elements && n < MX_MEMBERS_MAX; i += 3) {
		const redisReply *name = r->element[i], *ep = r->element[i + 1];
		const redisReply *val = r->element[i + 2];
		const char	 *sp;

		if (name->type != REDIS_REPLY_STRING ||
		    ep->type != REDIS_REPLY_STRING ||
		    val->type != REDIS_REPLY_STRING ||
		    (len = name->len) >= sizeof(w) ||
		    !conf_node_valid(name->str, len))
			continue;	/* not a node's: not ours to show */
		memset(w, 0, sizeof(w));
		memcpy(w, name->str, len);
		for (size_t k = 0; k < MX_NODE_NAME_WORDS; k++)
			MX_SET(&C.mx->c_rows[n].m_name[k], w[k]);
		MX_SET(&C.mx->c_rows[n].m_epoch,
		    strtoull(ep->str, NULL, 10));
		MX_SET(&C.mx->c_rows[n].m_records,
		    (sp = strchr(val->str, ' ')) != NULL ?
		    strtoull(sp + 1, NULL, 10) : 0);
		n++;
	}
	MX_SET(&C.mx->c_nrows, n);
	MX_SET(&C.mx->c_members, r->elements / 3);
	MX_SET(&C.mx->c_seq, MX_GET(&C.mx->c_seq) + 1);
}

static void
members_cb(const redisReply *r, void *arg)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		if (r != NULL && r->type == REDIS_REPLY_ERROR)
			log_warnx("cluster: members: %s", r->str);
		return;
	}
	publish_members(r);
}

static void
members_ask(void)
{
	const char	*argv[5] = { "EVAL", members_lua, "1",
			    CLUSTER_PREFIX "members", CLUSTER_PREFIX };
	size_t		 lens[5];
	int		 i;

	for (i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	redis_cmd(members_cb, NULL, 5, argv, lens);
}

static void
beat_cb(const redisReply *r, void *arg)
{
	if (r == NULL)
		return;		/* the link went: beat again when it is back */
	if (r->type != REDIS_REPLY_INTEGER) {
		log_warnx("cluster: liveness: %s", r->type ==
		    REDIS_REPLY_ERROR ? r->str : "an unexpected answer");
		return;
	}
	if (r->integer == -1) {
		if (!C.fenced)
			log_warnx("cluster: node %s is fenced: a newer run "
			    "of node %s took epoch over ours (%llu); this "
			    "process claims nothing until it restarts (two "
			    "nodes with one id?)", C.cl.cl_node,
			    C.cl.cl_node, (unsigned long long)C.epoch);
		C.fenced = 1;
		MX_SET(&C.mx->c_fenced_now, 1);
		MX_ADD(&C.mx->c_fenced, 1);
		return;
	}
	if (r->integer == 0 && C.alive) {
		MX_ADD(&C.mx->c_lapses, 1);
		log_warnx("cluster: node %s was out of touch for longer than "
		    "node-ttl (%u ms): the others took it for dead",
		    C.cl.cl_node, C.cl.cl_node_ttl_ms);
	}
	C.alive = 1;
	members_ask();
}

static void
beat(void)
{
	struct registry_stats rs;
	char		 ep[24], ttl[16], recs[24];
	const char	*argv[10];
	size_t		 lens[10];
	int		 i;

	if (C.epoch == 0 || C.fenced || !redis_up())
		return;
	if (C.reconcile > 0) {
		C.reconcile--;
		reconcile();
	}
	registry_stats(&rs);
	snprintf(recs, sizeof(recs), "%llu", (unsigned long long)rs.rs_records);
	snprintf(ep, sizeof(ep), "%llu", (unsigned long long)C.epoch);
	snprintf(ttl, sizeof(ttl), "%u", C.cl.cl_node_ttl_ms);
	argv[0] = "EVAL";
	argv[1] = beat_lua;
	argv[2] = "3";
	argv[3] = C.k_node;
	argv[4] = C.k_epoch;
	argv[5] = CLUSTER_PREFIX "members";
	argv[6] = ep;
	argv[7] = ttl;
	argv[8] = C.cl.cl_node;
	argv[9] = recs;
	for (i = 0; i < 10; i++)
		lens[i] = strlen(argv[i]);
	redis_cmd(beat_cb, NULL, 10, argv, lens);
}

struct reconcile_op {
	size_t		 n;
	char		*ids[RECONCILE_BATCH];
	uint32_t	 slots[RECONCILE_BATCH];	/* whose, in the registry */
};

static void
reconcile_free(struct reconcile_op *op)
{
	size_t i;

	for (i = 0; i < op->n; i++)
		free(op->ids[i]);
	free(op);
}

static void
reconcile_cb(const redisReply *r, void *arg)
{
	struct reconcile_op	*op = arg;
	const char		*rec;
	size_t			 i, len;
	long long		 k;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->elements; i++) {
			if (r->element[i]->type != REDIS_REPLY_INTEGER ||
			    (k = r->element[i]->integer) == 0 ||
			    (k < 0 ? -k : k) > (long long)op->n)
				continue;	/* not a place in our batch */
			if (k > 0) {
				log_info("cluster: %s was taken over while "
				    "the link was down", op->ids[k - 1]);
				lost(op->ids[k - 1]);
			} else if ((rec = registry_get(op->slots[-k - 1],
			    op->ids[-k - 1], &len)) != NULL) {
				log_info("cluster: %s was not in Redis: "
				    "written again", op->ids[-k - 1]);
				cluster_put(op->ids[-k - 1], rec, len);
			}
		}
	else if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warnx("cluster: reconcile: %s", r->str);
	reconcile_free(op);
}

/* one script for these ids (their records' keys, ours) */
static void
reconcile_send(struct reconcile_op *op)
{
	const char	*argv[5 + RECONCILE_BATCH];
	size_t		 lens[5 + RECONCILE_BATCH];
	char		 keys[RECONCILE_BATCH][CLUSTER_ID_MAX_BYTES + 16];
	char		 nkeys[16], ep[24];
	size_t		 i;

	snprintf(nkeys, sizeof(nkeys), "%zu", op->n);
	snprintf(ep, sizeof(ep), "%llu", (unsigned long long)C.epoch);
	argv[0] = "EVAL";
	argv[1] = reconcile_lua;
	argv[2] = nkeys;
	for (i = 0; i < op->n; i++) {
		rec_key(keys[i], sizeof(keys[i]), op->ids[i]);
		argv[3 + i] = keys[i];
	}
	argv[3 + op->n] = C.cl.cl_node;
	argv[4 + op->n] = ep;
	for (i = 0; i < 5 + op->n; i++)
		lens[i] = strlen(argv[i]);
	if (redis_cmd(reconcile_cb, op, (int)(5 + op->n), argv, lens) == -1)
		reconcile_free(op);
}

/*
 * After a link that went and came: which of the records we keep (the
 * registry has every one of our workers') are another's now.
 */
static void
reconcile(void)
{
	struct reconcile_op	*op = NULL;
	char			**ids;
	size_t			  n, i;
	uint32_t		  slot;

	for (slot = 0; slot < WORKERS_MAX; slot++) {
		if ((ids = registry_ids(slot, &n)) == NULL)
			continue;
		for (i = 0; i < n; i++) {
			if (op == NULL && (op = calloc(1, sizeof(*op))) == NULL) {
				free(ids[i]);
				continue;
			}
			if (strlen(ids[i]) >= CLUSTER_ID_MAX_BYTES) {
				free(ids[i]);
				continue;
			}
			op->slots[op->n] = slot;
			op->ids[op->n++] = ids[i];
			if (op->n == RECONCILE_BATCH) {
				reconcile_send(op);
				op = NULL;
			}
		}
		free(ids);
	}
	if (op != NULL && op->n > 0)
		reconcile_send(op);
	else
		free(op);
}

static void	epoch_ask(void);

static void
beat_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	if (C.epoch == 0)
		epoch_ask();	/* refused before (NOREPLICAS...): again */
	else
		beat();
}

static void
epoch_cb(const redisReply *r, void *arg)
{
	C.asking = 0;
	if (r == NULL)
		return;		/* asked again when the link is back */
	if (r->type != REDIS_REPLY_INTEGER || r->integer <= 0) {
		log_warnx("cluster: epoch: %s", r->type == REDIS_REPLY_ERROR ?
		    r->str : "an unexpected answer");
		return;
	}
	C.epoch = (uint64_t)r->integer;
	MX_SET(&C.mx->c_epoch, C.epoch);
	log_info("cluster: node %s joins with epoch %llu", C.cl.cl_node,
	    (unsigned long long)C.epoch);
	beat();
}

/* the link is up (again): our epoch first, then a beat at once */
static void
link_up(void)
{
	static const char *const lists[] = {
		"notifications/tools/list_changed",
		"notifications/resources/list_changed",
		"notifications/prompts/list_changed"
	};
	size_t		 i;

	/*
	 * What the other nodes announced while the link was down did not
	 * reach us: each list may have changed, our listeners hear so once
	 */
	if (C.linked && C.out != NULL && C.out->co_notify != NULL)
		for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
			C.out->co_notify(lists[i], "");
	/*
	 * And what they took from us meanwhile: once now, once more at the
	 * next beat (by then our subscriber hears what is taken after)
	 */
	if (C.linked && C.epoch != 0)
		C.reconcile = 2;
	C.linked = 1;

	if (C.epoch != 0) {
		beat();
		return;
	}
	epoch_ask();
}

/* this run's epoch, once (INCR): asked when the link is up, until given */
static void
epoch_ask(void)
{
	const char	*argv[2] = { "INCR", C.k_epoch };
	size_t		 lens[2] = { 4, strlen(C.k_epoch) };

	if (C.asking || C.epoch != 0 || !redis_up())
		return;
	if (redis_cmd(epoch_cb, NULL, 2, argv, lens) == 0)
		C.asking = 1;
}

static void
link_down(void)
{
	/* the members we saw are as old as the link: none now */
	MX_SET(&C.mx->c_members, 0);
	forward_link_down();
}

static const struct redis_ops ops = {
	.ro_up = link_up,
	.ro_down = link_down,
};

static uint32_t
rec_ttl(const struct conf *c)
{
	uint64_t t = c->c_session_timeout_ms > c->c_task_ttl_ms ?
	    c->c_session_timeout_ms : c->c_task_ttl_ms;

	t += c->c_cluster->cl_node_ttl_ms;
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

void
cluster_init(struct ev_loop *loop, const struct conf *conf,
    struct mx_cluster *mx, const struct cluster_out *out)
{
	const struct conf_cluster *cl = conf->c_cluster;
	double every = cl->cl_node_ttl_ms / 3 / 1000.0;
	char	 lost[sizeof(CLUSTER_PREFIX) + 8 + CONF_NODE_MAX_BYTES];
	const char *chans[3] = { lost, CLUSTER_PREFIX "notify", C.k_fwd };

	C.loop = loop;
	C.cl = *cl;
	C.cl.cl_key_file = C.cl.cl_password_file = NULL;
	C.mx = mx != NULL ? mx : &C.local;
	C.out = out;
	C.rec_ttl_ms = rec_ttl(conf);
	/*
	 * The epoch is the node's run's, not the agent's: a restarted
	 * agent (the scoreboard is the supervisor's) goes on with it, or the
	 * records the workers send it again would all be fenced
	 */
	C.epoch = MX_GET(&C.mx->c_epoch);
	C.fenced = MX_GET(&C.mx->c_fenced_now) != 0;
	C.alive = C.epoch != 0;
	MX_SET(&C.mx->c_members, 0);
	snprintf(lost, sizeof(lost), CLUSTER_PREFIX "lost:%s", cl->cl_node);
	snprintf(C.k_fwd, sizeof(C.k_fwd), FORWARD_CHANNEL "%s", cl->cl_node);
	redis_subscribe(chans, 3, on_message);
	snprintf(C.k_epoch, sizeof(C.k_epoch), CLUSTER_PREFIX "epoch:%s",
	    cl->cl_node);
	snprintf(C.k_node, sizeof(C.k_node), CLUSTER_PREFIX "node:%s",
	    cl->cl_node);
	ev_timer_init(&C.beat, beat_timer_cb, every, every);
	ev_timer_start(loop, &C.beat);
	redis_init(loop, cl, &ops, C.mx);
}

/* what the link is made from, the same in a and b */
static int
same_link(const struct conf_cluster *a, const struct conf_cluster *b)
{
	uint32_t i;

	if (strcmp(a->cl_redis.ra_host, b->cl_redis.ra_host) != 0 ||
	    a->cl_redis.ra_port != b->cl_redis.ra_port ||
	    a->cl_nsentinels != b->cl_nsentinels ||
	    strcmp(a->cl_master_name, b->cl_master_name) != 0 ||
	    strcmp(a->cl_redis_user, b->cl_redis_user) != 0 ||
	    (a->cl_password_file == NULL) != (b->cl_password_file == NULL) ||
	    (a->cl_password_file != NULL &&
	    strcmp(a->cl_password_file, b->cl_password_file) != 0) ||
	    a->cl_redis_timeout_ms != b->cl_redis_timeout_ms)
		return 0;
	for (i = 0; i < a->cl_nsentinels; i++)
		if (strcmp(a->cl_sentinels[i].ra_host,
		    b->cl_sentinels[i].ra_host) != 0 ||
		    a->cl_sentinels[i].ra_port != b->cl_sentinels[i].ra_port)
			return 0;
	return 1;
}

/*
 * A reload: a new node-ttl beats at its pace from now; a new Redis, user,
 * password or timeout makes the link again (the epoch stays this run's;
 * the node id cannot change without a restart: the supervisor refuses).
 */
void
cluster_reconf(const struct conf_cluster *old, const struct conf_cluster *cl)
{
	double every = cl->cl_node_ttl_ms / 3 / 1000.0;

	if (cl->cl_node_ttl_ms != C.cl.cl_node_ttl_ms) {
		ev_timer_stop(C.loop, &C.beat);
		ev_timer_set(&C.beat, every, every);
		ev_timer_start(C.loop, &C.beat);
	}
	C.cl = *cl;
	C.cl.cl_key_file = C.cl.cl_password_file = NULL;
	forward_reconf(cl->cl_redis_timeout_ms);
	if (same_link(old, cl)) {
		redis_reconf(cl);
		return;
	}
	log_info("cluster: the link to Redis changed; connecting again");
	redis_close();
	redis_init(C.loop, cl, &ops, C.mx);
}

/* ---------------------------------------------------------- records */

static void
rec_key(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, CLUSTER_PREFIX "rec:%s", id);
}

/* an id another node took: ours no more */
static void
lost(const char *id)
{
	MX_ADD(&C.mx->c_fenced, 1);
	if (C.out != NULL && C.out->co_lost != NULL)
		C.out->co_lost(id);
}

/*
 * What a node announces (mcp/notify.c): a list changed (no URI), or a
 * resource updated (its URI).  Anything else on the channel is not a
 * node's, and reaches no client.
 */
static int
notify_known(const char *method, const char *uri)
{
	if (strcmp(method, "notifications/resources/updated") == 0)
		return uri[0] != '\0';
	return uri[0] == '\0' &&
	    (strcmp(method, "notifications/tools/list_changed") == 0 ||
	    strcmp(method, "notifications/resources/list_changed") == 0 ||
	    strcmp(method, "notifications/prompts/list_changed") == 0);
}

/*
 * A change another node announced: "NODE\nMETHOD\nURI" (from Redis:
 * checked).  Ours came back to us too: our workers heard it already.
 */
static void
notify_message(const char *msg, size_t len)
{
	char		 buf[CLUSTER_NOTIFY_MAX_BYTES], *method, *uri;

	if (len == 0 || len >= sizeof(buf) || memchr(msg, '\0', len) != NULL)
		return;
	memcpy(buf, msg, len);
	buf[len] = '\0';
	if ((method = strchr(buf, '\n')) == NULL)
		return;
	*method++ = '\0';
	if ((uri = strchr(method, '\n')) == NULL)
		return;
	*uri++ = '\0';
	if (strcmp(buf, C.cl.cl_node) == 0 ||
	    strlen(uri) >= CLUSTER_URI_MAX_BYTES || !notify_known(method, uri))
		return;
	if (C.out != NULL && C.out->co_notify != NULL)
		C.out->co_notify(method, uri);
}

static void
on_message(const char *channel, const char *msg, size_t len)
{
	char buf[CLUSTER_ID_MAX_BYTES];

	if (strcmp(channel, CLUSTER_PREFIX "notify") == 0) {
		notify_message(msg, len);
		return;
	}
	if (strcmp(channel, C.k_fwd) == 0) {
		if (C.epoch != 0 && !C.fenced)	/* else not ours to serve */
			forward_message(msg, len);
		return;
	}
	if (len == 0 || len >= sizeof(buf) || memchr(msg, '\0', len) != NULL)
		return;		/* not an id of ours: nothing to drop */
	memcpy(buf, msg, len);
	buf[len] = '\0';
	if (C.out != NULL && C.out->co_lost != NULL)
		C.out->co_lost(buf);
}

static void
publish_cb(const redisReply *r, void *arg)
{
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warnx("cluster: notify: %s", r->str);
}

void
cluster_notify(const char *method, const char *uri)
{
	char		 msg[CLUSTER_NOTIFY_MAX_BYTES];
	const char	*argv[3] = { "PUBLISH", CLUSTER_PREFIX "notify", msg };
	size_t		 lens[3] = { 7, sizeof(CLUSTER_PREFIX "notify") - 1, 0 };
	int		 n;

	n = snprintf(msg, sizeof(msg), "%s\n%s\n%s", C.cl.cl_node, method,
	    uri != NULL ? uri : "");
	if (n < 0 || (size_t)n >= sizeof(msg) || C.fenced)
		return;
	lens[2] = (size_t)n;
	(void)redis_cmd(publish_cb, NULL, 3, argv, lens);
}

struct rec_op {
	char	id[CLUSTER_ID_MAX_BYTES];
};

static void
write_cb(const redisReply *r, void *arg)
{
	struct rec_op *op = arg;

	static time_t	 last;
	static unsigned	 more;
	time_t		 now;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 0)
		lost(op->id);	/* another node's now */
	else if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		/* one line a second: a primary refusing writes refuses all */
		if ((now = time(NULL)) != last) {
			log_warnx("cluster: record %s: %s (%u more refused "
			    "since the last such line)", op->id, r->str, more);
			last = now;
			more = 0;
		} else
			more++;
	}
	free(op);
}

/* a record of ours to Redis (only while we may write: epoch, not fenced) */
static void
rec_write(const char *lua, const char *id, const char *rec, size_t len)
{
	struct rec_op	*op;
	char		 key[CLUSTER_ID_MAX_BYTES + 16];
	char		 evkey[CLUSTER_ID_MAX_BYTES + 16], ep[24], ttl[16];
	const char	*argv[9];
	size_t		 lens[9];
	int		 i, argc;

	if (C.epoch == 0 || C.fenced || !redis_up() ||
	    strlen(id) >= CLUSTER_ID_MAX_BYTES ||
	    (op = calloc(1, sizeof(*op))) == NULL)
		return;		/* kept here; sent when it changes again */
	memcpy(op->id, id, strlen(id) + 1);
	rec_key(key, sizeof(key), id);
	snprintf(evkey, sizeof(evkey), CLUSTER_PREFIX "ev:%s", id);
	snprintf(ep, sizeof(ep), "%llu", (unsigned long long)C.epoch);
	snprintf(ttl, sizeof(ttl), "%u", C.rec_ttl_ms);
	argv[0] = "EVAL";
	argv[1] = lua;
	if (rec != NULL) {	/* put: one key */
		argv[2] = "1";
		argv[3] = key;
		argv[4] = C.cl.cl_node;
		argv[5] = ep;
		argv[6] = rec;
		argv[7] = ttl;
		argc = 8;
	} else {		/* del: the record and its events */
		argv[2] = "2";
		argv[3] = key;
		argv[4] = evkey;
		argv[5] = C.cl.cl_node;
		argv[6] = ep;
		argc = 7;
	}
	for (i = 0; i < argc; i++)
		lens[i] = rec != NULL && i == 6 ? len : strlen(argv[i]);
	if (redis_cmd(write_cb, op, argc, argv, lens) == -1)
		free(op);
}

void
cluster_put(const char *id, const char *rec, size_t len)
{
	rec_write(put_lua, id, rec, len);
}

void
cluster_del(const char *id)
{
	rec_write(del_lua, id, NULL, 0);
}

/* a replay event of a session of ours (agtev.h), to its Redis stream */
void
cluster_event(const struct agt_ev *ev)
{
	struct rec_op	*op;
	char		 key[CLUSTER_ID_MAX_BYTES + 16];
	char		 evkey[CLUSTER_ID_MAX_BYTES + 16], ep[24], ttl[16];
	char		 st[24], seq[24], max[16];
	const char	*argv[13];
	size_t		 lens[13];
	int		 i;

	if (C.epoch == 0 || C.fenced || !redis_up() ||
	    strlen(ev->ev_sid) >= CLUSTER_ID_MAX_BYTES ||
	    (op = calloc(1, sizeof(*op))) == NULL)
		return;
	memcpy(op->id, ev->ev_sid, strlen(ev->ev_sid) + 1);
	rec_key(key, sizeof(key), ev->ev_sid);
	snprintf(evkey, sizeof(evkey), CLUSTER_PREFIX "ev:%s", ev->ev_sid);
	snprintf(ep, sizeof(ep), "%llu", (unsigned long long)C.epoch);
	snprintf(ttl, sizeof(ttl), "%u", C.rec_ttl_ms);
	snprintf(st, sizeof(st), "%llu", (unsigned long long)ev->ev_stream);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)ev->ev_seq);
	snprintf(max, sizeof(max), "%d", CLUSTER_EVENTS_MAX);
	argv[0] = "EVAL";
	argv[1] = ev_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = evkey;
	argv[5] = C.cl.cl_node;
	argv[6] = ep;
	argv[7] = st;
	argv[8] = seq;
	argv[9] = ev->ev_final ? "1" : "0";
	argv[10] = ev->ev_data;
	argv[11] = max;
	argv[12] = ttl;
	for (i = 0; i < 13; i++)
		lens[i] = i == 10 ? ev->ev_len : strlen(argv[i]);
	if (redis_cmd(write_cb, op, 13, argv, lens) == -1)
		free(op);
}

struct take_op {
	uint32_t	num;
	uint32_t	qid;
	char		id[CLUSTER_ID_MAX_BYTES];
};

/* the replay events of a take's answer (from Redis: checked) */
static void
taken_events(const struct take_op *op, const redisReply *r)
{
	const redisReply	*s, *q, *f, *d;
	struct agt_ev		 ev;
	size_t			 i;

	for (i = 2; i + 3 < r->elements; i += 4) {
		s = r->element[i];
		q = r->element[i + 1];
		f = r->element[i + 2];
		d = r->element[i + 3];
		if (s->type != REDIS_REPLY_STRING ||
		    q->type != REDIS_REPLY_STRING ||
		    f->type != REDIS_REPLY_STRING ||
		    d->type != REDIS_REPLY_STRING ||
		    d->len > AGT_EV_MAX_BYTES)
			continue;
		memset(&ev, 0, sizeof(ev));
		memcpy(ev.ev_sid, op->id, strlen(op->id) + 1);
		ev.ev_stream = strtoull(s->str, NULL, 10);
		ev.ev_seq = strtoull(q->str, NULL, 10);
		ev.ev_final = strcmp(f->str, "1") == 0;
		ev.ev_data = d->str;
		ev.ev_len = d->len;
		C.out->co_events(op->num, &ev);
	}
}

static void
take_cb(const redisReply *r, void *arg)
{
	struct take_op	*op = arg;
	const redisReply *rec, *from;

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		if (r != NULL)
			log_warnx("cluster: take %s: %s", op->id, r->str);
		C.out->co_taken(op->num, op->qid, AGT_TAKEN_UNAVAILABLE, NULL,
		    0);
	} else if (r->type == REDIS_REPLY_NIL)
		C.out->co_taken(op->num, op->qid, AGT_TAKEN_NONE, NULL, 0);
	else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[0]->len > CLUSTER_RECORD_MAX_BYTES) {
		/* no node writes one: it would not fit the worker's channel */
		log_warnx("cluster: take %s: a record of %zu bytes in Redis, "
		    "not one of ours", op->id, (size_t)r->element[0]->len);
		C.out->co_taken(op->num, op->qid, AGT_TAKEN_NONE, NULL, 0);
	}
	else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    (rec = r->element[0])->type == REDIS_REPLY_STRING &&
	    (from = r->element[1])->type == REDIS_REPLY_STRING &&
	    rec->len == 0)
		C.out->co_taken(op->num, op->qid, AGT_TAKEN_ELSEWHERE,
		    from->str, from->len);
	else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    (r->elements - 2) % 4 == 0 &&
	    (rec = r->element[0])->type == REDIS_REPLY_STRING &&
	    (from = r->element[1])->type == REDIS_REPLY_STRING) {
		if (r->elements > 2 && C.out->co_events != NULL) {
			/* the record first, its events, then go on */
			C.out->co_taken(op->num, op->qid, AGT_TAKEN_RECORD,
			    rec->str, rec->len);
			taken_events(op, r);
			rec = NULL;
		}
		if (strcmp(from->str, C.cl.cl_node) != 0) {
			MX_ADD(&C.mx->c_takeovers, 1);
			log_debug("cluster: session %s taken over from node "
			    "%s", op->id, from->str);
		}
		C.out->co_taken(op->num, op->qid, AGT_TAKEN_OK,
		    rec != NULL ? rec->str : "", rec != NULL ? rec->len : 0);
	} else
		C.out->co_taken(op->num, op->qid, AGT_TAKEN_UNAVAILABLE, NULL,
		    0);
	free(op);
}

void
cluster_take(uint32_t num, uint32_t qid, const char *id)
{
	struct take_op	*op;
	char		 key[CLUSTER_ID_MAX_BYTES + 16];
	char		 evkey[CLUSTER_ID_MAX_BYTES + 16], ep[24], ttl[16];
	const char	*argv[9];
	size_t		 lens[9];
	int		 i;

	if (C.epoch == 0 || C.fenced || !redis_up() ||
	    strlen(id) >= CLUSTER_ID_MAX_BYTES ||
	    (op = calloc(1, sizeof(*op))) == NULL) {
		C.out->co_taken(num, qid, AGT_TAKEN_UNAVAILABLE, NULL, 0);
		return;
	}
	op->num = num;
	op->qid = qid;
	memcpy(op->id, id, strlen(id) + 1);
	rec_key(key, sizeof(key), id);
	snprintf(evkey, sizeof(evkey), CLUSTER_PREFIX "ev:%s", id);
	snprintf(ep, sizeof(ep), "%llu", (unsigned long long)C.epoch);
	snprintf(ttl, sizeof(ttl), "%u", C.rec_ttl_ms);
	argv[0] = "EVAL";
	argv[1] = take_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = evkey;
	argv[5] = C.cl.cl_node;
	argv[6] = ep;
	argv[7] = ttl;
	argv[8] = id;
	for (i = 0; i < 9; i++)
		lens[i] = strlen(argv[i]);
	if (redis_cmd(take_cb, op, 9, argv, lens) == -1) {
		free(op);
		C.out->co_taken(num, qid, AGT_TAKEN_UNAVAILABLE, NULL, 0);
	}
}

uint64_t
cluster_epoch(void)
{
	return C.fenced ? 0 : C.epoch;
}
