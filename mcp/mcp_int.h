/*
 * mcp_int.h -- the engine's insides, shared by mcp/ files only.
 */
#ifndef MCPD_MCP_INT_H
#define MCPD_MCP_INT_H

#include <sodium.h>

#include "mcp.h"

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
};

/* who registered an entry: a reload of mcpd.conf replaces its own only */
#define CAT_PLUGIN	0
#define CAT_CONF	1

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
	int			 x_caps;	/* CAP_* */
	int			 x_log_level;	/* -1: no notifications/message */
	char			 x_trace[128];	/* traceparent, or "" */
	char			 x_name[256];	/* tool, prompt or URI */
	char			*x_answers;	/* "key\0json\0"..., for call_new */
	size_t			 x_answers_len;
};

#define MCP_STATE_MAX		(16 * 1024)	/* bytes of a requestState */
#define MCP_STATE_TTL_MS	(10 * 60 * 1000) /* a requestState is valid */
#define MCP_INPUTS_MAX		16	/* input requests per round */

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
	char			 c_id[MCP_ID_MAX];	/* JSON text */
	char			 c_token[MCP_ID_MAX];	/* progressToken */
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
	char			 s_id[MCP_SID_LEN + 1];
	char			 s_proto[16];
	int			 s_initialized;
	int			 s_cap_sampling;
	int			 s_cap_elicitation;
	int			 s_cap_roots;
	int			 s_log_level;	/* enum mcpd_log_level */
	uint64_t		 s_used_ms;
	char			*s_subs[MCP_SUBS_MAX];
	unsigned		 s_nsubs;
	int64_t			 s_next_req;
	struct creqlist		 s_creqs;
	struct calllist		 s_calls;
	unsigned		 s_ncalls;
	struct mcp_stream	*s_get;		/* standalone stream */
	struct replay_ev {
		uint64_t	 e_stream;
		uint64_t	 e_seq;
		char		*e_data;
		size_t		 e_len;
		int		 e_final;
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
	char			 l_id[MCP_ID_MAX];	/* the request's id */
	int			 l_what;		/* LISTEN_* */
	char			*l_uris[MCP_LISTEN_URIS_MAX];
	unsigned		 l_nuris;
};
TAILQ_HEAD(listenlist, mcp_listener);
struct mcp_task;
TAILQ_HEAD(tasklist, mcp_task);

struct mcp_server {
	struct ev_loop		*sv_loop;
	char			*sv_name;
	char			*sv_version;
	struct catalog		 sv_cat;
	struct jw		 sv_out;
	jsmntok_t		*sv_toks;
	unsigned char		 sv_key[crypto_auth_KEYBYTES];
	unsigned		 sv_partition;
	struct mcp_session	*sv_buckets[SESS_BUCKETS];
	struct sesslist		 sv_sessions;
	unsigned		 sv_nsessions;
	struct calllist		 sv_orphans;	/* calls without session */
	void			**sv_dl;	/* dlopen handles */
	size_t			 sv_ndl;
	/* the stateless era */
	struct mcp_ctx		*sv_ctx;	/* the request being dispatched */
	unsigned		 sv_list_ttl_ms;	/* ttlMs of lists */
	char			*sv_stamp;	/* resultType + serverInfo, "," */
	size_t			 sv_stamplen;
	unsigned		 sv_state_ttl_ms;	/* a requestState lives */
	unsigned char		 sv_state_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	struct listenlist	 sv_listeners;	/* subscriptions/listen */
	mcp_broadcast_fn	 sv_bcast;	/* to the other workers */
	unsigned char		 sv_task_key[crypto_auth_KEYBYTES];
	struct mcp_task		**sv_task_buckets;
	struct tasklist		 sv_tasks;	/* by creation */
	unsigned		 sv_ntasks;
	unsigned		 sv_task_ttl_ms;
	void			*sv_bcast_arg;
	unsigned		 sv_nlisteners;
};

/* catalog.c */
void	cat_free(struct catalog *);
void	cat_drop_owner(struct catalog *, int owner);
const struct cat_tool	*cat_tool(const struct catalog *, const char *);
const struct cat_res	*cat_resource(const struct catalog *, const char *);
const struct cat_res	*cat_template_match(const struct catalog *,
	    const char *uri);
const struct cat_prompt	*cat_prompt(const struct catalog *, const char *);

/* call.c */
struct mcpd_call *call_new(struct mcp_server *, struct mcp_session *,
	    struct mcp_stream *, enum call_kind, const struct mcp_msg *);
void	call_enter(struct mcpd_call *);
/* after the handler returned: MCP_DONE or MCP_ASYNC */
enum mcp_disp call_leave(struct mcpd_call *);
void	call_cancel(struct mcpd_call *, const char *reason);
void	call_session_gone(struct mcpd_call *);
/* stateless era: deliver answers we have; ask for the rest */
void	call_settle(struct mcpd_call *);
int	cap_bit(const char *);
void	call_done_async(struct mcpd_call *);
void	call_reply(struct mcp_session *, int64_t id, int is_error,
	    const char *json, size_t len);
void	creq_drop_session(struct mcp_session *);

/* a trusted result object, written by the engine's own handlers */
void	call_result_raw(struct mcpd_call *, const char *json, size_t len);

/* engine.c */
void	mcp_send(struct mcp_stream *, struct jw *, int final);
/* the result object starts at w->mark */
void	mcp_begin_response(struct jw *, const char *idtext, size_t idlen);
void	mcp_end_response(struct jw *);
/*
 * The stateless era: stamp the result object at w->mark with resultType
 * (unless has_type) and serverInfo in _meta (into the object's own _meta at
 * meta_off when that is not 0), and extra members (JSON text) unless NULL.
 */
void	mcp_write_server_info(struct jw *, const struct mcp_server *);
void	mcp_stamp_result(struct mcp_server *, struct jw *, const char *type,
	    int has_type, size_t meta_off, const char *extra);
/* the methods common to both eras: MCP_DONE/MCP_ASYNC, or -1: unknown */
int	engine_method(struct mcp_server *, struct mcp_session *,
	    struct mcp_msg *, struct mcp_stream *, enum mcp_disp *);
enum mcp_disp engine_error(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, int code, const char *message);
enum mcp_disp engine_error_data(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, int code, const char *message,
	    const char *data);
int	engine_param(const struct mcp_msg *, const char *key, enum json_type);

/* tasks.c */
#define MCP_TASKS_MAX		10000	/* tasks a worker keeps */
#define MCP_TASK_TTL_MS		(5 * 60 * 1000)	/* a task is kept */
#define MCP_TASK_POLL_MS	500	/* pollIntervalMs we suggest */
void	tasks_init(struct mcp_server *);
void	tasks_free(struct mcp_server *);
/* tasks/get, tasks/update, tasks/cancel: -1 for another method */
int	tasks_method(struct mcp_server *, const struct mcp_msg *,
	    struct mcp_stream *, int caps, enum mcp_disp *);
/* the call behind a task: ended with a result or error (JSON text) */
void	task_end(struct mcpd_call *, int is_error, const char *, size_t);
int	task_input(struct mcpd_call *, const char *key, const char *method,
	    const char *params, mcpd_reply_fn, void *);
void	task_call_gone(struct mcpd_call *);

/* stateless.c */
void	stateless_init(struct mcp_server *);
/* a tool's x-mcp-header annotations are valid: 0, or -1 and why */
int	mcp_xhdr_valid(const char *schema, char *why, size_t whylen);
void	stateless_free(struct mcp_server *);
void	listen_notify(struct mcp_server *, const char *method,
	    const char *uri);
/* requestState: seal the answers so far; open one into answers */
int	state_seal(struct mcp_server *, const struct mcpd_call *,
	    const char *answers, size_t len, struct jw *out);
int	state_open(struct mcp_server *, const struct mcpd_call *,
	    const char *state, size_t slen, char **answers, size_t *len,
	    const char **why);
int	mcp_level_from_name(const char *);
const char *mcp_level_name(int);

#endif
