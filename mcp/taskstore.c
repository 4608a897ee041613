/*
 * taskstore.c -- the tasks a worker keeps (tasks extension of 2026-07-28):
 * their records, ids, status, the result or error of their call, the
 * questions they wait on, their expiry, and a task as JSON.
 *
 * A task id is a sealed id (sealid.c) under a subkey of the node key: a
 * forged id costs no table access, and the partition names the worker that
 * keeps the task, so a tasks/get that lands elsewhere is handed over like
 * a session-era request.  What a task does to its running call (cancel it,
 * answer it) is tasks.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mcp_int.h"

#define TASK_BUCKETS	1024

static const char *const status_names[] = {
	"working", "input_required", "completed", "failed", "cancelled"
};

void
taskstore_init(struct mcp_server *srv)
{
	(void)srv;	/* the ring is set with the keys (server.c) */
}

void
taskstore_free(struct mcp_server *srv)
{
	free(srv->sv_task_buckets);
	srv->sv_task_buckets = NULL;
	sodium_memzero(&srv->sv_task_ring, sizeof(srv->sv_task_ring));
}

int
mcp_task_owner(struct mcp_server *srv, const char *id)
{
	unsigned char	rnd[SEALID_RND_BYTES];
	unsigned	part;

	if (sealid_open(&srv->sv_task_ring, loop_ms(srv) / 1000, id, &part,
	    rnd) == -1)
		return -1;
	return (int)part;
}

unsigned
mcp_task_count(const struct mcp_server *srv)
{
	return srv->sv_ntasks;
}

int
task_id_open(struct mcp_server *srv, const char *id, unsigned char *rnd)
{
	unsigned part;

	if (srv->sv_task_buckets == NULL ||
	    sealid_open(&srv->sv_task_ring, loop_ms(srv) / 1000, id, &part,
	    rnd) == -1)
		return -1;
	return 0;
}

struct mcp_task *
task_lookup(struct mcp_server *srv, const unsigned char *rnd)
{
	struct mcp_task *k;

	for (k = srv->sv_task_buckets[sealid_bucket(rnd, TASK_BUCKETS)];
	    k != NULL; k = k->k_next)
		if (memcmp(k->k_rnd, rnd, SEALID_RND_BYTES) == 0)
			return k;
	return NULL;
}

struct mcp_task *
task_new(struct mcp_server *srv, struct mcpd_call *c)
{
	struct mcp_task	*k;
	unsigned	 b;

	if (srv->sv_task_buckets == NULL &&
	    (srv->sv_task_buckets = calloc(TASK_BUCKETS,
	    sizeof(*srv->sv_task_buckets))) == NULL)
		return NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	sealid_new(&srv->sv_task_ring, srv->sv_partition, k->k_rnd, k->k_id,
	    sizeof(k->k_id));
	k->k_created = k->k_updated = loop_ms(srv);
	k->k_expires = k->k_created + srv->sv_task_ttl_ms;
	k->k_status = T_WORKING;
	k->k_call = c;
	memcpy(k->k_owner, c->c_owner, sizeof(k->k_owner));
	b = sealid_bucket(k->k_rnd, TASK_BUCKETS);
	k->k_next = srv->sv_task_buckets[b];
	srv->sv_task_buckets[b] = k;
	TAILQ_INSERT_TAIL(&srv->sv_tasks, k, k_entry);
	srv->sv_ntasks++;
	c->c_task = k;
	task_changed(srv, k);
	return k;
}

/* (they are in creation order: the first is the oldest) */
struct mcp_task *
task_expired(struct mcp_server *srv)
{
	struct mcp_task *k = TAILQ_FIRST(&srv->sv_tasks);

	return k != NULL && k->k_expires <= loop_ms(srv) ? k : NULL;
}

static void
input_free(struct task_input *in)
{
	free(in->i_key);
	free(in->i_request);
	memset(in, 0, sizeof(*in));
}

/* (when c has ended already, its replies can only let go of what they hold) */
void
task_inputs_drop(struct mcp_task *k, struct mcpd_call *c, const char *why)
{
	struct task_input	 in;
	char			 err[200];
	int			 n;

	n = snprintf(err, sizeof(err), "{\"code\":%d,\"message\":\"%s\"}",
	    MCP_SERVER_ERROR, why);
	while (k->k_nin > 0) {
		in = k->k_in[--k->k_nin];
		memset(&k->k_in[k->k_nin], 0, sizeof(in));
		if (c != NULL && in.i_fn != NULL)
			in.i_fn(c, 1, err, (size_t)n, in.i_arg);
		free(in.i_key);
		free(in.i_request);
	}
}

void
task_unlink(struct mcp_server *srv, struct mcp_task *k)
{
	struct mcp_task **pp;

	for (pp = &srv->sv_task_buckets[sealid_bucket(k->k_rnd,
	    TASK_BUCKETS)]; *pp != NULL; pp = &(*pp)->k_next)
		if (*pp == k) {
			*pp = k->k_next;
			break;
		}
	TAILQ_REMOVE(&srv->sv_tasks, k, k_entry);
	srv->sv_ntasks--;
	if (srv->sv_reg != NULL)
		srv->sv_reg->ro_del(srv->sv_reg_arg, k->k_id);
}

void
task_free(struct mcp_task *k)
{
	while (k->k_nin > 0)
		input_free(&k->k_in[--k->k_nin]);
	free(k->k_end);
	free(k);
}

static void
iso_time(uint64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

void
task_write(struct jw *w, const struct mcp_task *k)
{
	char		 t[64];
	unsigned	 i;

	jw_key(w, "taskId");
	jw_str(w, k->k_id);
	jw_key(w, "status");
	jw_str(w, status_names[k->k_status]);
	iso_time(k->k_created, t, sizeof(t));
	jw_key(w, "createdAt");
	jw_str(w, t);
	iso_time(k->k_updated, t, sizeof(t));
	jw_key(w, "lastUpdatedAt");
	jw_str(w, t);
	jw_key(w, "ttlMs");
	jw_uint(w, k->k_expires - k->k_created);
	jw_key(w, "pollIntervalMs");
	jw_uint(w, MCP_TASK_POLL_MS);
	if (k->k_status == T_INPUT && k->k_nin > 0) {
		jw_key(w, "inputRequests");
		jw_obj(w);
		for (i = 0; i < k->k_nin; i++) {
			jw_key(w, k->k_in[i].i_key);
			jw_raw(w, k->k_in[i].i_request,
			    strlen(k->k_in[i].i_request));
		}
		jw_obj_end(w);
	}
	if (k->k_status == T_COMPLETED && k->k_end != NULL) {
		jw_key(w, "result");
		jw_raw(w, k->k_end, strlen(k->k_end));
	}
	if (k->k_status == T_FAILED && k->k_end != NULL) {
		jw_key(w, "error");
		jw_raw(w, k->k_end, strlen(k->k_end));
	}
}

void
task_set_status(struct mcp_server *srv, struct mcp_task *k,
    enum task_status s)
{
	k->k_status = s;
	k->k_updated = loop_ms(srv);
	task_changed(srv, k);
}

int
task_terminal(const struct mcp_task *k)
{
	return k->k_status >= T_COMPLETED;
}

void
task_end(struct mcpd_call *c, int is_error, const char *json, size_t len)
{
	struct mcp_task *k = c->c_task;

	if (k == NULL || task_terminal(k))
		return;		/* cancelled meanwhile: it goes nowhere */
	free(k->k_end);
	if ((k->k_end = strndup(json, len)) != NULL) {
		char *p;

		/* a plugin's JSON: CR and LF only between tokens */
		for (p = k->k_end; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	task_set_status(c->c_srv, k, is_error ? T_FAILED : T_COMPLETED);
	/* the call is done (c_done): its replies only let go */
	task_inputs_drop(k, c, "the task ended");
}

unsigned
mcp_tasks_running(const struct mcp_server *srv)
{
	const struct mcp_task	*k;
	unsigned		 n = 0;

	TAILQ_FOREACH(k, &srv->sv_tasks, k_entry)
		if (!task_terminal(k))
			n++;
	return n;
}

unsigned
mcp_tasks_abandon(struct mcp_server *srv, const char *why)
{
	struct mcp_task	*k;
	struct jw	 w;
	unsigned	 n = 0;

	jw_init(&w);
	TAILQ_FOREACH(k, &srv->sv_tasks, k_entry) {
		if (task_terminal(k))
			continue;
		jw_reset(&w);
		jw_obj(&w);
		jw_key(&w, "code");
		jw_int(&w, -32603);
		jw_key(&w, "message");
		jw_str(&w, why);
		jw_obj_end(&w);
		free(k->k_end);
		k->k_end = w.err ? NULL : strndup(w.buf, w.len);
		task_set_status(srv, k, T_FAILED);
		n++;
	}
	jw_free(&w);
	return n;
}

void
task_call_gone(struct mcpd_call *c)
{
	struct mcp_task *k = c->c_task;

	if (k == NULL)
		return;
	c->c_task = NULL;
	k->k_call = NULL;
	if (!task_terminal(k)) {
		/* ended without a word: a failure */
		free(k->k_end);
		k->k_end = strdup("{\"code\":-32603,\"message\":\"the tool "
		    "ended without a result\"}");
		task_set_status(c->c_srv, k, T_FAILED);
	}
}

int
task_input(struct mcpd_call *c, const char *key, const char *method,
    const char *params, mcpd_reply_fn fn, void *arg)
{
	struct mcp_task		*k = c->c_task;
	struct task_input	*in;
	struct jw		 w;
	unsigned		 i;

	if (task_terminal(k) || k->k_nin >= MCP_INPUTS_MAX)
		return -1;
	for (i = 0; i < k->k_nin; i++)
		if (strcmp(k->k_in[i].i_key, key) == 0)
			return -1;	/* keys are unique */
	jw_init(&w);
	jw_obj(&w);
	rpc_write_request(&w, method, params);
	jw_obj_end(&w);
	in = &k->k_in[k->k_nin];
	if (w.err || (in->i_key = strdup(key)) == NULL) {
		jw_free(&w);
		return -1;
	}
	in->i_request = w.buf;		/* the buffer is the text */
	in->i_fn = fn;
	in->i_arg = arg;
	k->k_nin++;
	task_set_status(c->c_srv, k, T_INPUT);
	return 0;
}

/*
 * The registry (mcp.h): a task's record, so that its worker's successor
 * still answers tasks/get.  A task that was running is adopted failed: its
 * call died with the worker.  A result too big for a record is not kept:
 * the task is adopted failed, saying so.
 */
void
task_changed(struct mcp_server *srv, struct mcp_task *k)
{
	struct jw	*w = &srv->sv_rec;
	char		 hex[2 * MCP_OWNER_BYTES + 1];
	int		 keep_end;

	if (srv->sv_reg == NULL)
		return;
	keep_end = k->k_end != NULL && strlen(k->k_end) <=
	    MCP_SESSION_RECORD_MAX_BYTES - 1024;
	sodium_bin2hex(hex, sizeof(hex), k->k_owner, sizeof(k->k_owner));
	jw_reset(w);
	jw_obj(w);
	jw_key(w, "v");
	jw_int(w, 1);
	jw_key(w, "kind");
	jw_str(w, "task");
	jw_key(w, "id");
	jw_str(w, k->k_id);
	jw_key(w, "status");
	jw_str(w, status_names[k->k_status]);
	jw_key(w, "created");
	jw_uint(w, k->k_created);
	jw_key(w, "updated");
	jw_uint(w, k->k_updated);
	jw_key(w, "expires");
	jw_uint(w, k->k_expires);
	jw_key(w, "owner");
	jw_str(w, hex);
	jw_key(w, "end");
	if (keep_end)
		jw_raw(w, k->k_end, strlen(k->k_end));
	else
		jw_null(w);
	jw_obj_end(w);
	if (!w->err && w->len <= MCP_SESSION_RECORD_MAX_BYTES)
		srv->sv_reg->ro_put(srv->sv_reg_arg, k->k_id, w->buf, w->len);
}

int
task_adopt(struct mcp_server *srv, const struct json *j, int finished,
    char *err, size_t errlen)
{
	struct mcp_task	*k;
	unsigned char	 rnd[SEALID_RND_BYTES], owner[MCP_OWNER_BYTES];
	char		 id[SEALID_LEN + 1], st[32], hex[64];
	const char	*end;
	int64_t		 created, updated, expires;
	unsigned	 part, b, s;
	size_t		 olen, elen = 0;
	int		 i;

	if ((i = json_get(j, 0, "id")) == -1 ||
	    json_strcpy(j, i, id, sizeof(id)) == -1 ||
	    sealid_open(&srv->sv_task_ring, 0, id, &part, rnd) == -1 ||
	    part != srv->sv_partition) {
		snprintf(err, errlen, "a task record not of partition %u",
		    srv->sv_partition);
		return -1;
	}
	if (srv->sv_task_buckets != NULL && task_lookup(srv, rnd) != NULL)
		return 1;
	if ((i = json_get(j, 0, "status")) == -1 ||
	    json_strcpy(j, i, st, sizeof(st)) == -1 ||
	    (i = json_get(j, 0, "created")) == -1 ||
	    json_int64(j, i, &created) == -1 ||
	    (i = json_get(j, 0, "updated")) == -1 ||
	    json_int64(j, i, &updated) == -1 ||
	    (i = json_get(j, 0, "expires")) == -1 ||
	    json_int64(j, i, &expires) == -1 ||
	    (i = json_get(j, 0, "owner")) == -1 ||
	    json_strcpy(j, i, hex, sizeof(hex)) == -1 ||
	    sodium_hex2bin(owner, sizeof(owner), hex, strlen(hex), NULL,
	    &olen, NULL) != 0 || olen != sizeof(owner) ||
	    (i = json_get(j, 0, "end")) == -1) {
		snprintf(err, errlen, "task %s: a bad record", id);
		return -1;
	}
	for (s = 0; s < sizeof(status_names) / sizeof(status_names[0]); s++)
		if (strcmp(st, status_names[s]) == 0)
			break;
	if (s == sizeof(status_names) / sizeof(status_names[0])) {
		snprintf(err, errlen, "task %s: status %s", id, st);
		return -1;
	}
	if ((uint64_t)expires <= loop_ms(srv))
		return 1;		/* its time is up: nothing to keep */
	if (finished && s < T_COMPLETED)
		return 1;		/* still its process's to finish */
	end = json_type(j, i) == JSON_OBJECT ? json_text(j, i, &elen) : NULL;
	if (srv->sv_task_buckets == NULL &&
	    (srv->sv_task_buckets = calloc(TASK_BUCKETS,
	    sizeof(*srv->sv_task_buckets))) == NULL)
		goto nomem;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		goto nomem;
	memcpy(k->k_rnd, rnd, sizeof(k->k_rnd));
	snprintf(k->k_id, sizeof(k->k_id), "%s", id);
	memcpy(k->k_owner, owner, sizeof(owner));
	k->k_created = (uint64_t)created;
	k->k_updated = (uint64_t)updated;
	k->k_expires = (uint64_t)expires;
	k->k_status = (enum task_status)s;
	if (k->k_status < T_COMPLETED) {
		/* running when its worker died: its call died too */
		k->k_status = T_FAILED;
		k->k_updated = loop_ms(srv);
		k->k_end = strdup("{\"code\":-32603,\"message\":\"the "
		    "worker running the task died; it did not finish\"}");
	} else if (end != NULL)
		k->k_end = strndup(end, elen);
	else if (k->k_status != T_CANCELLED) {
		k->k_status = T_FAILED;
		k->k_end = strdup("{\"code\":-32603,\"message\":\"the "
		    "task's result was too big to outlive its worker\"}");
	}
	b = sealid_bucket(k->k_rnd, TASK_BUCKETS);
	k->k_next = srv->sv_task_buckets[b];
	srv->sv_task_buckets[b] = k;
	/* in creation order, as expiry wants */
	TAILQ_INSERT_TAIL(&srv->sv_tasks, k, k_entry);
	srv->sv_ntasks++;
	return 0;
nomem:
	snprintf(err, errlen, "task %s: out of memory", id);
	return -1;
}
