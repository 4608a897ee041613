/*
 * tasks.c -- the tasks extension of 2026-07-28 (io.modelcontextprotocol/
 * tasks): a tool call that outlives its request.
 *
 * A call becomes a task with mcpd_call_task(): the client gets a task id
 * at once and polls tasks/get; questions the call asks wait in the task
 * (input_required) until tasks/update answers them; tasks/cancel cancels
 * the call.  The task keeps the call's result or error for the task TTL
 * from its creation, then it is forgotten.
 *
 * A task id is base64url(version, partition, 16 random bytes, MAC), the MAC
 * (crypto_auth under a subkey of the node key) checked before any lookup:
 * a forged id costs no table access, and the partition names the worker
 * that keeps the task, so a tasks/get that lands elsewhere is handed over
 * like a session-era request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mcp_int.h"

#define TID_VERSION	1
#define TID_RND		16
#define TID_MAC		16
#define TID_RAW		(1 + 2 + TID_RND + TID_MAC)
#define TID_LEN		64	/* characters of a task id, max */
#define TASK_BUCKETS	1024
#define TASKS_EXT	"io.modelcontextprotocol/tasks"

enum task_status {
	T_WORKING,
	T_INPUT,
	T_COMPLETED,
	T_FAILED,
	T_CANCELLED
};

static const char *const status_names[] = {
	"working", "input_required", "completed", "failed", "cancelled"
};

struct task_input {
	char		*i_key;
	char		*i_request;	/* {"method":...,"params":...} */
	mcpd_reply_fn	 i_fn;
	void		*i_arg;
};

struct mcp_task {
	TAILQ_ENTRY(mcp_task)	 k_entry;
	struct mcp_task		*k_next;	/* hash chain */
	unsigned char		 k_rnd[TID_RND];
	char			 k_id[TID_LEN + 1];
	enum task_status	 k_status;
	uint64_t		 k_created;	/* ms since the epoch */
	uint64_t		 k_updated;
	uint64_t		 k_expires;
	struct mcpd_call	*k_call;	/* while it runs */
	struct task_input	 k_in[MCP_INPUTS_MAX];
	unsigned		 k_nin;
	char			*k_end;		/* result, or error object */
};

static uint64_t
now_ms(struct mcp_server *srv)
{
	return (uint64_t)(ev_now(srv->sv_loop) * 1000.0);
}

static unsigned
bucket(const unsigned char *rnd)
{
	unsigned v;

	memcpy(&v, rnd, sizeof(v));
	return v % TASK_BUCKETS;
}

void
tasks_init(struct mcp_server *srv)
{
	if (srv->sv_tasks.tqh_last == NULL) {
		TAILQ_INIT(&srv->sv_tasks);
		srv->sv_task_ttl_ms = MCP_TASK_TTL_MS;
	}
	crypto_kdf_derive_from_key(srv->sv_task_key, sizeof(srv->sv_task_key),
	    2, "mcpdtask", srv->sv_key);
}

static void
mac(const struct mcp_server *srv, const unsigned char *raw,
    unsigned char *out)
{
	unsigned char full[crypto_auth_BYTES];

	crypto_auth(full, raw, 1 + 2 + TID_RND, srv->sv_task_key);
	memcpy(out, full, TID_MAC);
}

/* Decode and authenticate a task id: 0, or -1 for a forgery. */
static int
tid_open(const struct mcp_server *srv, const char *id, unsigned char *raw)
{
	unsigned char	m[TID_MAC];
	size_t		n;

	if (strlen(id) > TID_LEN ||
	    sodium_base642bin(raw, TID_RAW, id, strlen(id), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || n != TID_RAW ||
	    raw[0] != TID_VERSION)
		return -1;
	mac(srv, raw, m);
	return crypto_verify_16(m, raw + 1 + 2 + TID_RND) == 0 ? 0 : -1;
}

int
mcp_task_owner(struct mcp_server *srv, const char *id)
{
	unsigned char raw[TID_RAW];

	if (tid_open(srv, id, raw) == -1)
		return -1;
	return raw[1] << 8 | raw[2];
}

static void
input_free(struct task_input *in)
{
	free(in->i_key);
	free(in->i_request);
	memset(in, 0, sizeof(*in));
}

/*
 * The pending questions of a task that will not be answered: each reply is
 * called once, with an error.  c is the task's call, ended already (its
 * replies can only let go of what they hold), or NULL.
 */
static void
inputs_drop(struct mcp_task *k, struct mcpd_call *c, const char *why)
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

/*
 * The same for a call that goes on: its replies run as a handler runs.
 * Returns c, or NULL when a reply ended it (and it is gone).
 */
static struct mcpd_call *
inputs_fail(struct mcp_task *k, struct mcpd_call *c, const char *why)
{
	int outer = c->c_in_handler;

	c->c_in_handler = 1;
	inputs_drop(k, c, why);
	c->c_in_handler = outer;
	if (!outer && c->c_done) {
		call_done_async(c);
		return NULL;
	}
	return c;
}

static void
task_free(struct mcp_server *srv, struct mcp_task *k)
{
	struct mcp_task **pp;

	for (pp = &srv->sv_task_buckets[bucket(k->k_rnd)]; *pp != NULL;
	    pp = &(*pp)->k_next)
		if (*pp == k) {
			*pp = k->k_next;
			break;
		}
	TAILQ_REMOVE(&srv->sv_tasks, k, k_entry);
	srv->sv_ntasks--;
	if (k->k_call != NULL) {
		struct mcpd_call *c = k->k_call;

		/* expired while running: the call is cancelled, goes nowhere */
		k->k_status = T_CANCELLED;
		if ((c = inputs_fail(k, c, "the task expired")) != NULL) {
			k->k_call = NULL;
			c->c_task = NULL;
			if (!c->c_done)
				call_cancel(c, "the task expired");
		}
	}
	while (k->k_nin > 0)
		input_free(&k->k_in[--k->k_nin]);
	free(k->k_end);
	free(k);
}

/* Forget the tasks whose time is up (they are in creation order). */
static void
expire(struct mcp_server *srv)
{
	struct mcp_task	*k, *next;
	uint64_t	 now = now_ms(srv);

	for (k = TAILQ_FIRST(&srv->sv_tasks); k != NULL; k = next) {
		next = TAILQ_NEXT(k, k_entry);
		if (k->k_expires > now)
			break;
		task_free(srv, k);
	}
}

void
tasks_free(struct mcp_server *srv)
{
	struct mcp_task *k;

	while ((k = TAILQ_FIRST(&srv->sv_tasks)) != NULL)
		task_free(srv, k);
	free(srv->sv_task_buckets);
	srv->sv_task_buckets = NULL;
	sodium_memzero(srv->sv_task_key, sizeof(srv->sv_task_key));
}

static struct mcp_task *
task_find(struct mcp_server *srv, const char *id)
{
	unsigned char	 raw[TID_RAW];
	struct mcp_task	*k;

	if (srv->sv_task_buckets == NULL || tid_open(srv, id, raw) == -1)
		return NULL;
	expire(srv);
	for (k = srv->sv_task_buckets[bucket(raw + 3)]; k != NULL;
	    k = k->k_next)
		if (memcmp(k->k_rnd, raw + 3, TID_RND) == 0)
			return k;
	return NULL;
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

/* The task's fields (a Task object's members) into an open object. */
static void
write_task(struct mcp_server *srv, struct jw *w, const struct mcp_task *k)
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
	(void)srv;
}

static void
set_status(struct mcp_server *srv, struct mcp_task *k, enum task_status s)
{
	k->k_status = s;
	k->k_updated = now_ms(srv);
}

static int
terminal(const struct mcp_task *k)
{
	return k->k_status >= T_COMPLETED;
}

/* a stream that takes nothing: where a task's call writes after */
static void	null_send(struct mcp_stream *, const char *, size_t, int);
static void	null_ref(struct mcp_stream *);

static const struct mcp_stream_ops null_ops = {
	null_send, null_ref, null_ref, NULL
};
static struct mcp_stream null_stream = { &null_ops, NULL, 0 };

static void
null_send(struct mcp_stream *st, const char *json, size_t len, int final)
{
}

static void
null_ref(struct mcp_stream *st)
{
}

int
mcpd_call_task(struct mcpd_call *c)
{
	struct mcp_server	*srv = c->c_srv;
	struct mcp_task		*k;
	struct jw		*w = &srv->sv_out;
	struct mcp_stream	*st;
	unsigned char		 raw[TID_RAW];
	unsigned		 b;

	/* (after a question of this round: answer it first, in a retry) */
	if (c->c_done || c->c_cancelled || c->c_task != NULL ||
	    !c->c_stateless || !(c->c_caps & CAP_TASKS) || !c->c_task_ok ||
	    c->c_kind != CALL_TOOL || c->c_nasks > 0)
		return -1;
	expire(srv);
	if (srv->sv_ntasks >= MCP_TASKS_MAX) {
		log_warnx("%u tasks: a call runs without one", srv->sv_ntasks);
		return -1;
	}
	if (srv->sv_task_buckets == NULL &&
	    (srv->sv_task_buckets = calloc(TASK_BUCKETS,
	    sizeof(*srv->sv_task_buckets))) == NULL)
		return -1;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -1;
	raw[0] = TID_VERSION;
	raw[1] = srv->sv_partition >> 8;
	raw[2] = srv->sv_partition & 0xff;
	randombytes_buf(raw + 3, TID_RND);
	mac(srv, raw, raw + 3 + TID_RND);
	memcpy(k->k_rnd, raw + 3, TID_RND);
	sodium_bin2base64(k->k_id, sizeof(k->k_id), raw, TID_RAW,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	k->k_created = k->k_updated = now_ms(srv);
	k->k_expires = k->k_created + srv->sv_task_ttl_ms;
	k->k_status = T_WORKING;
	k->k_call = c;
	b = bucket(k->k_rnd);
	k->k_next = srv->sv_task_buckets[b];
	srv->sv_task_buckets[b] = k;
	TAILQ_INSERT_TAIL(&srv->sv_tasks, k, k_entry);
	srv->sv_ntasks++;
	c->c_task = k;

	/* the task exists before the client hears of it */
	mcp_begin_response(w, c->c_id[0] ? c->c_id : NULL, strlen(c->c_id));
	jw_obj(w);
	jw_key(w, "resultType");
	jw_str(w, "task");
	write_task(srv, w, k);
	jw_obj_end(w);
	mcp_stamp_result(srv, w, "task", 1, 0, NULL);
	mcp_end_response(w);
	st = c->c_stream;
	mcp_send(st, w, 1);
	/* the request is answered: the call writes nowhere from now on */
	c->c_stream = &null_stream;
	if (c->c_linked)
		st->s_ops->so_unref(st);
	log_debug("%s%stask %s for request %s", c->c_trace[0] ? c->c_trace :
	    "", c->c_trace[0] ? ": " : "", k->k_id, c->c_id);
	return 0;
}

void
task_end(struct mcpd_call *c, int is_error, const char *json, size_t len)
{
	struct mcp_task *k = c->c_task;

	if (k == NULL || terminal(k))
		return;		/* cancelled meanwhile: it goes nowhere */
	free(k->k_end);
	if ((k->k_end = strndup(json, len)) != NULL) {
		char *p;

		/* a plugin's JSON: CR and LF only between tokens */
		for (p = k->k_end; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	set_status(c->c_srv, k, is_error ? T_FAILED : T_COMPLETED);
	/* the call is done (c_done): its replies only let go */
	inputs_drop(k, c, "the task ended");
}

void
task_call_gone(struct mcpd_call *c)
{
	struct mcp_task *k = c->c_task;

	if (k == NULL)
		return;
	c->c_task = NULL;
	k->k_call = NULL;
	if (!terminal(k)) {
		/* ended without a word: a failure */
		free(k->k_end);
		k->k_end = strdup("{\"code\":-32603,\"message\":\"the tool "
		    "ended without a result\"}");
		set_status(c->c_srv, k, T_FAILED);
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

	if (terminal(k) || k->k_nin >= MCP_INPUTS_MAX)
		return -1;
	for (i = 0; i < k->k_nin; i++)
		if (strcmp(k->k_in[i].i_key, key) == 0)
			return -1;	/* keys are unique */
	jw_init(&w);
	jw_obj(&w);
	jw_key(&w, "method");
	jw_str(&w, method);
	if (params != NULL) {
		jw_key(&w, "params");
		jw_raw_line(&w, params, strlen(params));
	}
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
	set_status(c->c_srv, k, T_INPUT);
	return 0;
}

/* Run fn's replies for a task's call the way a handler runs. */
static void
deliver(struct mcpd_call *c, struct task_input *in, const char *json,
    size_t len)
{
	int outer = c->c_in_handler;

	c->c_in_handler = 1;
	in->i_fn(c, 0, json, len, in->i_arg);
	c->c_in_handler = outer;
	if (!outer && c->c_done)
		call_done_async(c);
}

static enum mcp_disp
ack(struct mcp_server *srv, const struct mcp_msg *m, struct mcp_stream *st)
{
	struct jw	*w = &srv->sv_out;
	const char	*id;
	size_t		 n = 0;

	id = m->m_id >= 0 ? json_text(&m->m_j, m->m_id, &n) : NULL;
	mcp_begin_response(w, id, n);
	jw_obj(w);
	jw_obj_end(w);
	mcp_stamp_result(srv, w, "complete", 0, 0, NULL);
	mcp_end_response(w);
	mcp_send(st, w, 1);
	return MCP_DONE;
}

static enum mcp_disp
do_get(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_task *k)
{
	struct jw	*w = &srv->sv_out;
	const char	*id;
	size_t		 n = 0;

	id = m->m_id >= 0 ? json_text(&m->m_j, m->m_id, &n) : NULL;
	mcp_begin_response(w, id, n);
	jw_obj(w);
	write_task(srv, w, k);
	jw_obj_end(w);
	mcp_stamp_result(srv, w, "complete", 0, 0, NULL);
	mcp_end_response(w);
	mcp_send(st, w, 1);
	return MCP_DONE;
}

static enum mcp_disp
do_update(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_task *k)
{
	struct task_input	 got[MCP_INPUTS_MAX];
	const char		*texts[MCP_INPUTS_MAX];
	size_t			 lens[MCP_INPUTS_MAX];
	struct mcpd_call	*c = k->k_call;
	char			 key[128];
	unsigned		 ngot = 0, i;
	int			 ir, t, v, end;

	ir = engine_param(m, "inputResponses", JSON_NONE);
	if (ir != -1 && json_type(&m->m_j, ir) != JSON_OBJECT)
		return engine_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Invalid params: inputResponses must be an object");
	if (ir == -1 || terminal(k) || c == NULL)
		return ack(srv, m, st);
	/*
	 * Take every answered question off the task before the ack, so a
	 * tasks/get right after it sees only what is still open; keys we
	 * did not ask (or asked and had answered) are ignored.
	 */
	end = json_skip(&m->m_j, ir);
	for (t = ir + 1; t < end; t = json_skip(&m->m_j, v)) {
		v = t + 1;
		if (json_strcpy(&m->m_j, t, key, sizeof(key)) == -1)
			continue;
		for (i = 0; i < k->k_nin; i++)
			if (strcmp(k->k_in[i].i_key, key) == 0)
				break;
		if (i == k->k_nin || json_type(&m->m_j, v) != JSON_OBJECT)
			continue;
		got[ngot] = k->k_in[i];
		texts[ngot] = json_text(&m->m_j, v, &lens[ngot]);
		ngot++;
		memmove(&k->k_in[i], &k->k_in[i + 1],
		    (k->k_nin - i - 1) * sizeof(k->k_in[0]));
		k->k_nin--;
	}
	if (ngot > 0 && k->k_nin == 0)
		set_status(srv, k, T_WORKING);
	else if (ngot > 0)
		k->k_updated = now_ms(srv);
	/* the answers go to the call; it may ask again, or end */
	for (i = 0; i < ngot; i++) {
		if (k->k_call != NULL && !c->c_done)
			deliver(c, &got[i], texts[i], lens[i]);
		free(got[i].i_key);
		free(got[i].i_request);
	}
	return ack(srv, m, st);
}

static enum mcp_disp
do_cancel(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, struct mcp_task *k)
{
	struct mcpd_call *c = k->k_call;

	if (!terminal(k)) {
		set_status(srv, k, T_CANCELLED);
		if (c != NULL && (c = inputs_fail(k, c,
		    "the task was cancelled")) != NULL && !c->c_done)
			call_cancel(c, "the task was cancelled");
	}
	return ack(srv, m, st);
}

int
tasks_method(struct mcp_server *srv, const struct mcp_msg *m,
    struct mcp_stream *st, int caps, enum mcp_disp *d)
{
	struct mcp_task	*k;
	char		 id[TID_LEN + 2], data[128];
	int		 which, v;

	if (strcmp(m->m_method, "tasks/get") == 0)
		which = 0;
	else if (strcmp(m->m_method, "tasks/update") == 0)
		which = 1;
	else if (strcmp(m->m_method, "tasks/cancel") == 0)
		which = 2;
	else
		return -1;
	if (!(caps & CAP_TASKS)) {
		snprintf(data, sizeof(data), "{\"requiredCapabilities\":"
		    "{\"extensions\":{\"%s\":{}}}}", TASKS_EXT);
		st->s_status = 400;
		*d = engine_error_data(srv, m, st,
		    MCP_MISSING_CAPABILITY, "Missing required client "
		    "capability", data);
		return 0;
	}
	if ((v = engine_param(m, "taskId", JSON_STRING)) == -1 ||
	    json_strcpy(&m->m_j, v, id, sizeof(id)) == -1 ||
	    (k = task_find(srv, id)) == NULL) {
		*d = engine_error(srv, m, st, JSONRPC_INVALID_PARAMS,
		    "Failed to retrieve task: Task not found");
		return 0;
	}
	switch (which) {
	case 0:
		*d = do_get(srv, m, st, k);
		break;
	case 1:
		*d = do_update(srv, m, st, k);
		break;
	default:
		*d = do_cancel(srv, m, st, k);
		break;
	}
	return 0;
}

unsigned
mcp_task_count(const struct mcp_server *srv)
{
	return srv->sv_ntasks;
}
