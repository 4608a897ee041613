/*
 * mcp_int.h -- the engine's insides, shared by mcp/ files only: the
 * structures first, then each file's functions, from the bottom of the
 * call graph up (a file calls only files of the sections above its own).
 */
#ifndef MCPD_MCP_INT_H
#define MCPD_MCP_INT_H

#include <sodium.h>

#include "clusterkey.h"
#include "mcp.h"

/* a sealed id (sealid.c): session ids, task ids */
#define SEALID_RND_BYTES	MCP_SID_BYTES
#define SEALID_LEN		MCP_SID_MAX_CHARS	/* characters, max */
#define MCP_OWNER_BYTES		16	/* a session's principal, hashed */

/* the keys a kind of sealed thing opens with, by id; [0] seals */
struct sealkey {
	unsigned	 sk_id;
	uint64_t	 sk_until;	/* Unix s; 0: no end */
	unsigned char	 sk_key[crypto_auth_KEYBYTES];
};
struct sealring {
	char		 sr_node[MCP_NODE_MAX_BYTES];	/* "": one node */
	struct sealkey	 sr_keys[CLUSTER_KEYS_MAX];
	uint32_t	 sr_n;
};

struct cat_tool {
	char		*t_name;
	char		*t_title;
	char		*t_desc;
	char		*t_schema;
	char		*t_annot;
	mcpd_tool_fn	 t_call;
	void		*t_arg;
	int		 t_owner;	/* CAT_PLUGIN, CAT_CONF */
	int		 t_task;	/* enum mcpd_task_support */
	char		*t_scope;	/* needed, " "-joined; NULL none */
};

struct cat_res {
	char		*r_uri;		/* or template */
	char		*r_name;
	char		*r_title;
	char		*r_desc;
	char		*r_mime;
	mcpd_read_fn	 r_read;
	void		*r_arg;
	int		 r_owner;
	char		*r_scope;	/* needed, " "-joined; NULL none */
};

struct cat_prompt {
	char			*p_name;
	char			*p_title;
	char			*p_desc;
	struct mcpd_prompt_arg	*p_args;
	size_t			 p_nargs;
	mcpd_prompt_fn		 p_get;
	void			*p_arg;
	int			 p_owner;
	char			*p_scope;	/* needed; NULL: none */
};

/* who registered an entry: a reload of mcpd.conf replaces its own only */
#define CAT_PLUGIN	0
#define CAT_CONF	1
#define CAT_FILES	2	/* mcpd.conf's file resources: they rescan */

struct catalog {
	struct cat_tool		*tools;
	size_t			 ntools;
	struct cat_res		*res;
	size_t			 nres;
	struct cat_res		*tmpl;
	size_t			 ntmpl;
	struct cat_prompt	*prompts;
	size_t			 nprompts;
	mcpd_complete_fn	 complete;
	void			*complete_arg;
};

struct mcpd_host {
	struct mcp_server	*h_srv;
	const char		*h_name;
	int			 h_owner;	/* CAT_PLUGIN, CAT_CONF */
};

/* a request we sent to the client, waiting for its answer */
struct creq {
	TAILQ_ENTRY(creq)	 q_entry;
	int64_t			 q_id;
	struct mcpd_call	*q_call;	/* NULL: the call is gone */
	mcpd_reply_fn		 q_reply;
	void			*q_arg;
	ev_timer		 q_to;
	struct mcp_session	*q_sess;
};
TAILQ_HEAD(creqlist, creq);

struct call_timer {
	ev_timer		 ct_ev;
	struct mcpd_call	*ct_call;
	mcpd_timer_fn		 ct_fn;
	void			*ct_arg;
	int			 ct_used;
};

/* client capabilities, as bits */
#define CAP_SAMPLING	0x01
#define CAP_ELICIT	0x02
#define CAP_ROOTS	0x04
#define CAP_TASKS	0x08

/*
 * What a request of the stateless era says about itself in _meta (the
 * session era keeps the same in the session).
 */
struct mcp_ctx {
	unsigned char		 x_owner[MCP_OWNER_BYTES]; /* who asks */
	int			 x_caps;	/* CAP_* */
	int			 x_log_level;	/* -1: no notifications/message */
	char			 x_trace[128];	/* traceparent, or "" */
	char			 x_name[256];	/* tool, prompt or URI */
	char			*x_answers;	/* "key\0json\0"..., for call_new */
	size_t			 x_answers_len;
};

#define MCP_STATE_MAX_BYTES	(16 * 1024)	/* answers in a requestState */
#define MCP_STATE_TTL_MS	(10 * 60 * 1000) /* a requestState is valid */
#define MCP_INPUTS_MAX		16	/* input requests per round */
#define MCP_TASKS_EXT		"io.modelcontextprotocol/tasks"
#define MCP_META_SERVER_INFO	"io.modelcontextprotocol/serverInfo"

enum call_kind {
	CALL_TOOL,
	CALL_READ,
	CALL_PROMPT,
	CALL_COMPLETE
};

struct mcpd_call {
	TAILQ_ENTRY(mcpd_call)	 c_entry;
	struct mcp_server	*c_srv;
	struct mcp_session	*c_sess;	/* NULL once it closed */
	struct mcp_stream	*c_stream;
	enum call_kind		 c_kind;
	char			 c_id[MCP_ID_MAX_BYTES];	/* JSON text */
	char			 c_token[MCP_ID_MAX_BYTES];	/* progressToken */
	int			 c_done;
	int			 c_cancelled;
	int			 c_in_handler;
	int			 c_pending;	/* creqs */
	mcpd_cancel_fn		 c_on_cancel;
	void			*c_cancel_arg;
	struct call_timer	 c_timers[MCP_CALL_TIMERS_MAX];
	char			 c_uri[512];	/* resources/read */
	/* the stateless era */
	int			 c_stateless;
	unsigned char		 c_owner[MCP_OWNER_BYTES]; /* its principal */
	int			 c_caps;	/* CAP_* the client declared */
	int			 c_log_level;	/* -1: none */
	char			 c_trace[128];
	char			 c_name[256];	/* tool, prompt or URI */
	char			*c_answers;	/* "key\0json\0" pairs */
	size_t			 c_answers_len;
	struct jw		*c_asks;	/* inputRequests being gathered */
	unsigned		 c_nasks;
	unsigned		 c_nreq;	/* mcpd_call_request()s so far */
	struct mrtr_reply {
		mcpd_reply_fn	 fn;
		void		*arg;
		char		*json;
		size_t		 len;
	}			*c_due;		/* answered, not yet delivered */
	unsigned		 c_ndue;
	struct mrtr_reply	*c_wait;	/* asked this round */
	struct mcp_task		*c_task;	/* became a task */
	int			 c_linked;	/* on a list, stream ref'd */
	int			 c_task_ok;	/* the tool may be a task */
	uint32_t		 c_read_ttl_ms;	/* resources/read: ttlMs */
	int			 c_read_public;	/* and cacheScope */
};
TAILQ_HEAD(calllist, mcpd_call);

struct mcp_session {
	struct mcp_session	*s_next;	/* hash chain */
	TAILQ_ENTRY(mcp_session) s_entry;	/* all, by last use */
	TAILQ_ENTRY(mcp_session) s_fresh_entry;	/* unused since initialize */
	int			 s_fresh;
	char			 s_id[MCP_SID_MAX_CHARS + 1];
	/* a hash of the principal of its initialize; all 0: nobody's */
	unsigned char		 s_owner[MCP_OWNER_BYTES];
	char			 s_proto[16];
	int			 s_initialized;
	int			 s_cap_sampling;
	int			 s_cap_elicitation;
	int			 s_cap_roots;
	int			 s_log_level;	/* enum mcpd_log_level */
	uint64_t		 s_used_ms;
	uint64_t		 s_written_ms;	/* its record, last */
	int			 s_clock_adopted; /* s_used_ms: a record's */
	char			*s_subs[MCP_SUBS_MAX];
	unsigned		 s_nsubs;
	int64_t			 s_next_req;
	struct creqlist		 s_creqs;
	struct calllist		 s_calls;
	unsigned		 s_ncalls;
	struct mcp_stream	*s_get;		/* standalone stream */
	uint64_t		 s_get_no;	/* its number, the last one's */
	struct replay_ev {
		uint64_t	 e_stream;
		uint64_t	 e_seq;		/* 0: the stream's head */
		char		*e_data;
		size_t		 e_len;
		int		 e_final;
		int		 e_kept;	/* the registry has it */
	}			*s_ring;	/* MCP_REPLAY_EVENTS, lazily */
	unsigned		 s_ring_head;
	unsigned		 s_ring_count;
	size_t			 s_ring_bytes;
	struct mcp_server	*s_srv;
};
TAILQ_HEAD(sesslist, mcp_session);

#define SESS_BUCKETS		4096

/* a subscriptions/listen stream (stateless era) */
#define LISTEN_TOOLS		0x01
#define LISTEN_PROMPTS		0x02
#define LISTEN_RESOURCES	0x04
#define MCP_LISTEN_URIS_MAX	64	/* resourceSubscriptions per listener */
struct mcp_listener {
	TAILQ_ENTRY(mcp_listener) l_entry;
	struct mcp_stream	*l_stream;
	char			 l_id[MCP_ID_MAX_BYTES];	/* the request's id */
	int			 l_what;		/* LISTEN_* */
	char			*l_uris[MCP_LISTEN_URIS_MAX];
	unsigned		 l_nuris;
};
TAILQ_HEAD(listenlist, mcp_listener);

/* a task (tasks extension): a tool call that outlives its request */
#define MCP_TASKS_MAX		10000	/* tasks a worker keeps */
#define MCP_TASK_TTL_MS		(5 * 60 * 1000)	/* a task is kept */
#define MCP_TASK_POLL_MS	500	/* pollIntervalMs we suggest */
enum task_status {
	T_WORKING,
	T_INPUT,
	T_COMPLETED,
	T_FAILED,
	T_CANCELLED
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
	unsigned char		 k_rnd[SEALID_RND_BYTES];
	char			 k_id[SEALID_LEN + 1];
	enum task_status	 k_status;
	uint64_t		 k_created;	/* ms since the epoch */
	uint64_t		 k_updated;
	uint64_t		 k_expires;
	struct mcpd_call	*k_call;	/* while it runs */
	struct task_input	 k_in[MCP_INPUTS_MAX];
	unsigned		 k_nin;
	char			*k_end;		/* result, or error object */
	unsigned char		 k_owner[MCP_OWNER_BYTES]; /* its principal */
};
TAILQ_HEAD(tasklist, mcp_task);

struct mcp_server {
	struct ev_loop		*sv_loop;
	char			*sv_name;
	char			*sv_version;
	struct catalog		 sv_cat;
	struct jw		 sv_out;
	jsmntok_t		*sv_toks;
	struct sealring		 sv_sess_ring;	/* session ids */
	struct sealring		 sv_task_ring;	/* task ids */
	struct sealring		 sv_state_ring;	/* requestState */
	unsigned		 sv_partition;
	struct mcp_session	*sv_buckets[SESS_BUCKETS];
	struct sesslist		 sv_sessions;
	struct sesslist		 sv_fresh;	/* by creation, never used */
	/* the last session a predecessor's record set the clock of */
	struct mcp_session	*sv_reclock;
	unsigned		 sv_nsessions;
	uint64_t		 sv_idle_ms;	/* the last expiry's; 0: none */
	struct calllist		 sv_orphans;	/* calls without session */
	void			**sv_dl;	/* dlopen handles */
	size_t			 sv_ndl;
	/* the stateless era */
	struct mcp_ctx		*sv_ctx;	/* the request being dispatched */
	const char		*sv_principal;	/* of the one being served */
	unsigned		 sv_list_ttl_ms;	/* ttlMs of lists */
	char			*sv_stamp;	/* resultType + serverInfo, "," */
	size_t			 sv_stamplen;
	unsigned		 sv_state_ttl_ms;	/* a requestState lives */
	struct listenlist	 sv_listeners;	/* subscriptions/listen */
	mcp_broadcast_fn	 sv_bcast;	/* to the other workers */
	struct mcp_task		**sv_task_buckets;
	struct tasklist		 sv_tasks;	/* by creation */
	unsigned		 sv_ntasks;
	unsigned		 sv_task_ttl_ms;
	void			*sv_bcast_arg;
	unsigned		 sv_nlisteners;
	const struct mcp_registry_ops *sv_reg;	/* NULL: no registry */
	struct jw		 sv_rec;	/* a record being written */
	void			*sv_reg_arg;
};

/* names.c */
int	mcp_level_from_name(const char *);
const char *mcp_level_name(int);
/* every version we speak, newest first, as a JSON array */
void	mcp_write_versions(struct jw *);
int	cap_bit(const char *);

/* abijson.c: mcpd_json_*() of the plugin ABI, nothing else */

/*
 * The engine's clock: the loop's wall time (ev_now) in ms, what session
 * use, requestState expiry and task times are counted in.
 */
static inline uint64_t
loop_ms(const struct mcp_server *srv)
{
	return (uint64_t)(ev_now(srv->sv_loop) * 1000.0);
}

/* sealid.c */
/*
 * A ring of node's name and the keys ks, each as is (ctx NULL) or its
 * subkey (crypto_kdf: subkey, ctx of 8 characters).
 */
void	sealring_set(struct sealring *, const char *node,
	    const struct cluster_keys *ks, uint64_t subkey, const char *ctx);
/* key id of the ring if it still opens at now_s, or NULL */
const struct sealkey *sealring_find(const struct sealring *, unsigned id,
	    uint64_t now_s);
/* a new id of partition into id (SEALID_LEN + 1), its randomness in rnd */
void	sealid_new(const struct sealring *, unsigned partition,
	    unsigned char *rnd, char *id, size_t idlen);
/*
 * 0 with the partition and randomness of an id, or -1 for a forgery (or
 * an id of a key that no longer opens at now_s, Unix seconds)
 */
int	sealid_open(const struct sealring *, uint64_t now_s, const char *id,
	    unsigned *partition, unsigned char *rnd);
unsigned sealid_bucket(const unsigned char *rnd, unsigned nbuckets);

/* rpc.c */
void	rpc_init(struct mcp_server *);
void	rpc_free(struct mcp_server *);
/* the request's id as JSON text, or NULL (*len 0) */
const char *rpc_id(const struct mcp_msg *, size_t *len);
/* params.key as a token of type (JSON_NONE: any), or -1 */
int	rpc_param(const struct mcp_msg *, const char *key, enum json_type);
/* params.key, a string, into buf: 0, or -1 (absent, or too long) */
int	rpc_param_str(const struct mcp_msg *, const char *key, char *buf,
	    size_t len);
void	mcp_send(struct mcp_stream *, struct jw *, int final);
/* the result object starts at w->mark; mcp_end_response() ends it all */
void	mcp_begin_response(struct jw *, const char *idtext, size_t idlen);
void	mcp_end_response(struct jw *);
/*
 * The one error envelope: written up to the end of the error object (which
 * starts at w->mark, for a task that keeps it); mcp_end_response() ends it.
 */
void	rpc_begin_error(struct jw *, const char *idtext, size_t idlen,
	    int code, const char *message, const char *data);
/* {"jsonrpc":"2.0","method":method, and the caller's params */
void	rpc_begin_notification(struct jw *, const char *method);
/* {"jsonrpc":"2.0","id":id with method and params: a request to the client */
void	rpc_begin_request(struct jw *, int64_t id, const char *method,
	    const char *params);
/* the members "method" and "params" (JSON text, or NULL) of a request */
void	rpc_write_request(struct jw *, const char *method,
	    const char *params);
/* send an error (status: the HTTP status it gets, 0: the default) */
enum mcp_disp rpc_error(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, int status, int code, const char *message,
	    const char *data);
enum mcp_disp rpc_fail(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, int code, const char *message);
/* a result for m at sv_out's mark; sent (stamped, stamp set) by the end */
void	rpc_begin_result(struct mcp_server *, const struct mcp_msg *);
enum mcp_disp rpc_end_result(struct mcp_server *, struct mcp_stream *,
	    int stamp);
/* key:{"name":...,"version":...} */
void	mcp_write_server_info(struct jw *, const struct mcp_server *,
	    const char *key);
/*
 * The stateless era: stamp the result object at w->mark with resultType
 * (unless has_type) and serverInfo in _meta (into the object's own _meta at
 * meta_off when that is not 0), and extra members (JSON text) unless NULL.
 */
void	mcp_stamp_result(struct mcp_server *, struct jw *, const char *type,
	    int has_type, size_t meta_off, const char *extra);

/* headers.c */
void	headers_init(void);
/* a tool's x-mcp-header annotations are valid: 0, or -1 and why */
int	mcp_xhdr_valid(const char *schema, char *why, size_t whylen);
/*
 * The headers that mirror the body (schema: the inputSchema of the tool a
 * tools/call names, or NULL): 0, or -1 after answering -32020.
 */
int	check_headers(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, const struct mcp_headers *,
	    const char *version, const char *schema);

/* state.c */
void	state_init(struct mcp_server *);
void	state_free(struct mcp_server *);
/* requestState: seal the answers so far; open one into answers */
int	state_seal(struct mcp_server *, const struct mcpd_call *,
	    const char *answers, size_t len, struct jw *out);
int	state_open(struct mcp_server *, const struct mcpd_call *,
	    const char *state, size_t slen, char **answers, size_t *len,
	    const char **why);

/* catalog.c */
void	cat_free(struct catalog *);
void	cat_drop_owner(struct catalog *, int owner);
const struct cat_tool	*cat_tool(const struct catalog *, const char *);
const struct cat_res	*cat_resource(const struct catalog *, const char *);
const struct cat_res	*cat_template_match(const struct catalog *,
	    const char *uri);
const struct cat_prompt	*cat_prompt(const struct catalog *, const char *);
/*
 * mcpd.conf's scopes for the entry of kind just registered (a directory's
 * files are many: no lookup by name); 0, or -1 out of memory.
 */
int	cat_scope_last(struct catalog *, enum mcpd_item, const char *scope);

/* notify.c */
void	notify_init(struct mcp_server *);
void	notify_free(struct mcp_server *);
/* subscriptions/listen: MCP_ASYNC (the stream stays), or the error's */
enum mcp_disp listen_start(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *);
/* notifications/cancelled for the listen request id of st: 1 if it was */
int	listen_cancel(struct mcp_server *, struct mcp_stream *,
	    const char *id, size_t idlen);

/* taskstore.c */
void	taskstore_init(struct mcp_server *);
void	taskstore_free(struct mcp_server *);
/* a task for call c (c->c_task), or NULL */
struct mcp_task *task_new(struct mcp_server *, struct mcpd_call *);
/*
 * What stands for a principal in what it owns: a hash, all 0 for nobody
 * (sealid.c).  Owned by: the same hash, compared in constant time.
 */
/* taskstore.c: a task's record changed, to the registry; one adopted */
void	task_changed(struct mcp_server *, struct mcp_task *);
int	task_adopt(struct mcp_server *, const struct json *, int finished,
	    char *err,
	    size_t errlen);
/* session.c: a session's record changed, to the registry */
void	sess_changed(struct mcp_session *);
int	mcp_session_expired(struct mcp_server *, const struct mcp_session *);
/* the owner hash's keys, from the node's keys: alike in every worker */
void	mcp_owner_keys(const struct cluster_keys *);
void	mcp_owner_hash(const char *principal,
	    unsigned char out[MCP_OWNER_BYTES]);
int	mcp_owned_by(const unsigned char owner[MCP_OWNER_BYTES],
	    const char *principal);
/* 0 with the randomness of a task id of ours, or -1 */
int	task_id_open(struct mcp_server *, const char *id, unsigned char *rnd);
struct mcp_task *task_lookup(struct mcp_server *, const unsigned char *rnd);
/* the oldest task when its time is up, or NULL */
struct mcp_task *task_expired(struct mcp_server *);
/* off the table and the list; then (its call let go of) freed */
void	task_unlink(struct mcp_server *, struct mcp_task *);
void	task_free(struct mcp_task *);
int	task_terminal(const struct mcp_task *);
void	task_set_status(struct mcp_server *, struct mcp_task *,
	    enum task_status);
/* the task's fields (a Task object's members) into an open object */
void	task_write(struct jw *, const struct mcp_task *);
/*
 * Its pending questions will not be answered: each reply is called once,
 * with an error.  c is the task's call (or NULL).
 */
void	task_inputs_drop(struct mcp_task *, struct mcpd_call *c,
	    const char *why);
/* the call behind a task: ended with a result or error (JSON text) */
void	task_end(struct mcpd_call *, int is_error, const char *, size_t);
int	task_input(struct mcpd_call *, const char *key, const char *method,
	    const char *params, mcpd_reply_fn, void *);
void	task_call_gone(struct mcpd_call *);

/* call.c */
struct mcpd_call *call_new(struct mcp_server *, struct mcp_session *,
	    struct mcp_stream *, enum call_kind, const struct mcp_msg *);
/* a call that never went in flight: back to the free list */
void	call_release(struct mcpd_call *);
/* an in-flight call that ended: off the lists, drop the stream, reuse */
void	call_unlink(struct mcpd_call *);
/* the call ended: forget it everywhere (unlink it unless in a handler) */
void	call_finish(struct mcpd_call *);
/* send what the call wrote into sv_out; after a cancel nothing is sent */
void	call_send(struct mcpd_call *, int final);
/* finish with an error; status: its HTTP status (0: the default) */
void	call_error_data(struct mcpd_call *, int code, int status,
	    const char *message, const char *data);
/* a trusted result object, written by the engine's own handlers */
void	call_result_raw(struct mcpd_call *, const char *json, size_t len);
/* the session closed under a running call: it finishes without one */
void	call_session_gone(struct mcpd_call *);

/* ask.c */
/* stateless era: deliver answers we have; ask for the rest */
void	call_settle(struct mcpd_call *);
/* the client answered our request id */
void	call_reply(struct mcp_session *, int64_t id, int is_error,
	    const char *json, size_t len);
/* our requests for c are moot: tell the client, fail them */
void	creq_cancel_call(struct mcpd_call *, const char *reason);
void	creq_drop_session(struct mcp_session *);
/*
 * The answers a retry brings (sealed requestState, inputResponses) into
 * x->x_answers: 0, or -1 after answering.
 */
int	ask_gather_answers(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, struct mcp_ctx *, enum call_kind);

/* inflight.c */
void	call_enter(struct mcpd_call *);
/* after the handler returned: MCP_DONE or MCP_ASYNC */
enum mcp_disp call_leave(struct mcpd_call *);
void	call_cancel(struct mcpd_call *, const char *reason);

/* tasks.c */
void	tasks_free(struct mcp_server *);
/* tasks/get, tasks/update, tasks/cancel: -1 for another method */
int	tasks_method(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, int caps, enum mcp_disp *);

/* session.c: mcp_session_*() of mcp.h */

/* methods.c */
/* the capabilities member of initialize and server/discover */
void	mcp_write_capabilities(struct jw *, int stateless);
/* the methods common to both eras: 0 with *d, or -1: unknown */
int	engine_method(struct mcp_server *, struct mcp_session *,
	    struct mcp_msg *, struct mcp_stream *, enum mcp_disp *);

/* dispatch.c: mcp_dispatch() of mcp.h */

/* stateless.c: mcp_era(), mcp_dispatch_stateless() & co. of mcp.h */

/* subst.c */
/*
 * {name} placeholders of mcpd.conf replaced by the arguments (JSON object
 * j): a malloc'd string, or NULL; *whole is set when tmpl is exactly one
 * placeholder whose argument is absent (the caller drops the word).
 */
char	*subst_args(const char *tmpl, const struct json *j, int *whole);

/* exec.c */
/* the exec tools of conf, registered; conf is kept while runs of it are */
int	exec_load(struct mcp_server *, struct mcpd_host *, struct conf *,
	    char *err, size_t errlen);
/* a reload replaced the current exec tools: they go once idle */
void	exec_unload(void);

/* files.c */
/*
 * the file resources of conf, registered (owner CAT_FILES) and watched; a
 * directory's names that come and go rescan them
 */
int	files_load(struct mcp_server *, const struct conf *, char *err,
	    size_t errlen);
void	files_unload(void);

/* confcat.c: mcp_load_conf(), mcp_reload_conf() of mcp.h */

/* server.c: mcp_server_*(), mcp_plugin_load() of mcp.h */

#endif
