/*
 * mcp.h -- the MCP engine: JSON-RPC 2.0, the session era (2025-03-26,
 * 2025-06-18, 2025-11-25), the catalog and the call context.
 *
 * The engine knows no process and no transport.  A transport parses a
 * message with mcp_msg_parse(), decides what it may (HTTP: the session
 * header, the status codes) and hands it to mcp_dispatch() with a stream:
 * the place where the messages for that request go (a POST's response or
 * SSE stream, stdout).  Replies are written into the server's one output
 * buffer and passed to the stream at once; nothing is allocated per request
 * unless the request outlives the call (a tool that answers later).
 */
#ifndef MCPD_MCP_H
#define MCPD_MCP_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "json.h"
#include "plugin.h"

#define MCP_SID_BYTES		16	/* randomness in a session id */
#define MCP_SID_MAX_CHARS	96	/* characters in a session id, max */
#define MCP_NODE_MAX_BYTES	33	/* a cluster node's name, with NUL */
#define MCP_PRINCIPAL_MAX_BYTES	800	/* who asks, as the transport says */
#define MCP_ID_MAX_BYTES	128	/* bytes of a request id's JSON text */
#define MCP_METHOD_MAX_BYTES	64	/* bytes of a method name */
#define MCP_PAGE_ITEMS		100	/* items per list page */
#define MCP_SUBS_MAX		64	/* resource subscriptions per session */
#define MCP_CLIENT_REQ_TIMEOUT_MS 60000	/* answer to sampling & co. */
#define MCP_CALL_TIMERS_MAX	16	/* mcpd_call_after() pending per call */
#define MCP_CALLS_MAX		10000	/* requests in flight per session */

/* JSON-RPC 2.0 and MCP error codes */
#define JSONRPC_PARSE_ERROR	-32700
#define JSONRPC_INVALID_REQUEST	-32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS	-32602
#define JSONRPC_INTERNAL_ERROR	-32603
#define MCP_RESOURCE_NOT_FOUND	-32002	/* session era; -32602 after */
#define MCP_SERVER_ERROR	-32000
#define MCP_SESSION_NOT_FOUND	-32001	/* with HTTP 404 */
/* the stateless era (2026-07-28) */
#define MCP_HEADER_MISMATCH	-32020
#define MCP_MISSING_CAPABILITY	-32021
#define MCP_UNSUPPORTED_VERSION	-32022

enum mcp_kind {
	MCP_REQUEST,
	MCP_NOTIFICATION,
	MCP_RESPONSE,		/* the client answering our request */
	MCP_BATCH
};

struct mcp_msg {
	struct json	 m_j;
	enum mcp_kind	 m_kind;
	int		 m_id;		/* token, -1: none */
	int		 m_params;	/* token, -1: none */
	int		 m_result;
	int		 m_error;
	char		 m_method[MCP_METHOD_MAX_BYTES];
};

struct mcp_stream;
struct mcp_stream_ops {
	/*
	 * One JSON-RPC message for the client.  final: the response that ends
	 * the request this stream belongs to.
	 */
	void	(*so_send)(struct mcp_stream *, const char *, size_t,
		    int final);
	/* the engine keeps (ref) a stream while a request is in flight */
	void	(*so_ref)(struct mcp_stream *);
	void	(*so_unref)(struct mcp_stream *);
	/* optional: end the stream early, the request goes on (SEP-1699) */
	void	(*so_close)(struct mcp_stream *);
};

struct mcp_stream {
	const struct mcp_stream_ops	*s_ops;
	void				*s_owner;
	/*
	 * The HTTP status the engine gives the error it sends next (stateless
	 * era: 400 for a bad _meta, version or header, 404 for an unknown
	 * method); 0: the transport's default.  The transport clears it.
	 */
	int				 s_status;
};

struct mcp_server;
struct mcp_session;

struct mcp_server	*mcp_server_new(struct ev_loop *, const char *name,
			    const char *version);
void			 mcp_server_free(struct mcp_server **);
/* load a plugin: 0, or -1 with a reason in err */
int			 mcp_plugin_load(struct mcp_server *, const char *path,
			    const char *arg, char *err, size_t errlen);
/* the key that seals session ids (crypto_auth_KEYBYTES) and our partition */
void			 mcp_server_set_key(struct mcp_server *,
			    const unsigned char *key, unsigned partition);
/*
 * The same for a node of a cluster: its name (in every id it makes; ""
 * none) and the cluster's keys (clusterkey.h), the first of which seals.
 */
struct cluster_keys;
void			 mcp_server_set_keys(struct mcp_server *,
			    const char *node, const struct cluster_keys *,
			    unsigned partition);
struct jw		*mcp_server_out(struct mcp_server *);

/*
 * Parse one message.  On error returns -1 and writes the JSON-RPC error
 * response (-32700 or -32600) into the server's output buffer.
 */
int	mcp_msg_parse(struct mcp_server *, struct mcp_msg *, const char *,
	    size_t);
/* a request's id as its JSON text (not NUL-terminated), or NULL */
const char *mcp_msg_id(const struct mcp_msg *, size_t *len);

enum mcp_disp {
	MCP_DONE,		/* the response was sent (final) */
	MCP_ASYNC,		/* in flight: the stream was ref'd */
	MCP_ACCEPTED		/* notification or response: nothing to send */
};
/* sess may be NULL only for initialize; *sessp receives a new session */
enum mcp_disp mcp_dispatch(struct mcp_server *, struct mcp_session **sessp,
	    struct mcp_msg *, struct mcp_stream *);
/* Write a JSON-RPC error response for request id token (or null). */
void	mcp_write_error_id(struct mcp_server *, const char *idtext,
	    size_t idlen, int code, const char *message);
void	mcp_write_error(struct mcp_server *, const struct mcp_msg *, int code,
	    const char *message);
/* The same with error.data, the raw JSON text data (or NULL). */
void	mcp_write_error_data(struct mcp_server *, const struct mcp_msg *,
	    int code, const char *message, const char *data);
/* error.data of an answer that asks to come back in a second */
#define MCP_RETRY_DATA		"{\"retryAfterMs\":1000}"

/* Sessions (session.c), one table per partition (worker). */
struct mcp_session *mcp_session_new(struct mcp_server *);
/*
 * Look a session up by id: NULL when forged (bad MAC, checked first) or
 * unknown (expired, deleted).  owner receives the partition named by a
 * well-formed id (-1 when forged) so a transport can hand over.
 */
struct mcp_session *mcp_session_find(struct mcp_server *, const char *id,
	    int *owner);
const char	*mcp_session_id(const struct mcp_session *);
const char	*mcp_session_protocol(const struct mcp_session *);
void		 mcp_session_touch(struct mcp_session *);
void		 mcp_session_close(struct mcp_server *, struct mcp_session *);
/* the standalone (GET) stream: 0, or -1 when one is open already */
int		 mcp_session_attach(struct mcp_session *, struct mcp_stream *);
void		 mcp_session_detach(struct mcp_session *, struct mcp_stream *);
/* the standalone stream is this one now: one open before is ended */
void		 mcp_session_take_get(struct mcp_session *,
		    struct mcp_stream *);
/*
 * Sessions idle for longer than idle_ms are closed, and those nothing came
 * for after their initialize after start_ms; returns how many.  Till the
 * next call, a request for a session idle for longer than idle_ms finds it
 * ended too (a clock a predecessor's record set may say so before a sweep
 * does).
 */
unsigned	 mcp_session_expire(struct mcp_server *, uint64_t idle_ms,
		    uint64_t start_ms);
unsigned	 mcp_session_count(const struct mcp_server *);

/*
 * The registry: a copy of each session's and each task's record kept
 * outside the process that serves it (the agent), so that another process
 * of the node can adopt them.  The engine says when a record changes (a
 * session's initialize, logging/setLevel, a subscription; a task's status
 * and result) and when one ends (closed,
 * expired: not when the server is freed), as a JSON object of at most
 * MCP_SESSION_RECORD_MAX_BYTES; the transport carries it.  A session's
 * record says how long ago it was last used, as of when it was written
 * (a use alone writes none): an adopted session's idle clock goes on from
 * there.  A task that was running is adopted failed.
 */
#define MCP_SESSION_RECORD_MAX_BYTES	(48 * 1024)
struct mcp_registry_ops {
	void	(*ro_put)(void *arg, const char *id, const char *rec,
		    size_t len);
	void	(*ro_del)(void *arg, const char *id);
	/*
	 * an event of one of session id's streams that the transport asked
	 * to copy, or a stream's head (seq 0; mcp_session_record): the
	 * keeper keeps the last ones (MCP_REPLAY_EVENTS, MCP_REPLAY_BYTES)
	 * and forgets them with the session
	 */
	void	(*ro_event)(void *arg, const char *id, uint64_t stream,
		    uint64_t seq, const char *data, size_t len, int final);
};
void		 mcp_set_registry(struct mcp_server *,
		    const struct mcp_registry_ops *, void *arg);
/* every record to ro_put, every ring's events to ro_event, again */
unsigned	 mcp_registry_resend(struct mcp_server *);
/*
 * A session or a task from its record: 0; 1 when it is here already (or
 * a task's time is up, or not taken); -1 when the record is not one of
 * this server's partition, or not one (err says why).  live:
 * MCP_ADOPT_START at start, after the partition's process died: a task
 * that was running is taken failed; MCP_ADOPT_RELOAD at start while that
 * process lives on (a reload's older generation, draining): a running
 * task is not taken (it is still that process's to finish);
 * MCP_ADOPT_LIVE, a record of that process later: a new session is
 * taken, and a finished task; MCP_ADOPT_UPDATE, the same from that
 * process directly, in order: a session here already takes its state.
 */
/* Tasks not finished yet (a draining process waits for them). */
unsigned	 mcp_tasks_running(const struct mcp_server *);
/*
 * Every task not finished is failed, with why as its error's message (a
 * process that stops before they end): how many.  Their records change.
 */
unsigned	 mcp_tasks_abandon(struct mcp_server *, const char *why);
#define MCP_ADOPT_START		0
#define MCP_ADOPT_LIVE		1
#define MCP_ADOPT_UPDATE	2
#define MCP_ADOPT_RELOAD	3
/* MCP_ADOPT_TASKS: tasks only, as at start (its process died) */
#define MCP_ADOPT_TASKS		4
int		 mcp_registry_adopt(struct mcp_server *, const char *rec,
		    size_t len, int live, char *err, size_t errlen);
/*
 * A session that is not ours any more (another node of the cluster took
 * it): closed, its streams ended, without a word to the registry.
 */
void		 mcp_session_forget(struct mcp_server *, struct mcp_session *);
/*
 * An event of an adopted session's replay ring, in the order they came:
 * 0; -1 when the session is not here (adopted before, this partition's).
 */
int		 mcp_registry_adopt_event(struct mcp_server *, const char *id,
		    uint64_t stream, uint64_t seq, const char *data,
		    size_t len, int final);

/*
 * The replay ring of a session (SSE resumption): the last events of its
 * streams, bounded by MCP_REPLAY_EVENTS and MCP_REPLAY_BYTES.
 *
 * A stream's head, seq 0, is no event but says what the stream answers:
 * the JSON-RPC id of its request (JSON text), so that a stream resumed
 * after its request died with its process gets an error for it, not
 * silence.  It is never replayed; nor is an empty final event, the mark
 * of a stream that ended without an answer (its request cancelled).
 *
 * With copy, an event (and its stream's head) goes to the registry too:
 * the transport asks for it when the event may not reach the client
 * before the process dies (the client is gone, its output waits in the
 * process); an event written whole to a live connection is delivered
 * by the kernel even then.  mcp_session_share_stream() copies what the
 * registry lacks of a stream, when that changes (the stream outlives
 * its dispatch, its connection closed, its output backs up).
 */
#define MCP_REPLAY_EVENTS	64
#define MCP_REPLAY_BYTES	(1024 * 1024)
typedef void	(*mcp_replay_fn)(void *, uint64_t seq, const char *, size_t,
		    int final);
void	mcp_session_record(struct mcp_session *, uint64_t stream,
	    uint64_t seq, const char *, size_t, int final, int copy);
void	mcp_session_share_stream(struct mcp_session *, uint64_t stream);
/*
 * Events of stream after seq, in order; 1 when the stream's final one
 * is in the ring (replayed now or not: the stream has ended).
 */
int	mcp_session_replay(struct mcp_session *, uint64_t stream,
	    uint64_t after, mcp_replay_fn, void *);
/* the head of stream (len 0 and not NULL: the head is empty), or NULL */
const char *mcp_session_stream_head(struct mcp_session *, uint64_t stream,
	    size_t *len);
/*
 * The number the transport gave the session's standalone (GET) stream,
 * kept in its record: a client that resumes that stream on a successor
 * gets it back, open, not ended.  0: none yet.
 */
void	mcp_session_set_get(struct mcp_session *, uint64_t stream);
uint64_t mcp_session_get_of(const struct mcp_session *);

/*
 * The catalog of mcpd.conf (confcat.c, exec.c, files.c): exec tools, file
 * resources with change notifications, prompts.  The engine keeps conf
 * (and frees it once a reload replaced it and no tool run of it is left).
 * A reload replaces the catalog's entries of mcpd.conf, not those of
 * plugins, and tells the sessions with a GET stream that the lists changed.
 */
struct conf;
int	mcp_load_conf(struct mcp_server *, struct conf *, char *err,
	    size_t errlen);
int	mcp_reload_conf(struct mcp_server *, struct conf *, char *err,
	    size_t errlen);
/*
 * The channel to the runner (msg_run.def), where the exec tools run; fd
 * is the engine's.  A new one replaces the old, whose calls fail, as
 * they do when it closes.  Without one a call fails at once.
 */
void	mcp_exec_runner(struct ev_loop *, int fd);
/*
 * Change notifications (notify.c): notifications/resources/updated to
 * every session subscribed to uri.
 */
void	mcp_resource_updated(struct mcp_server *, const char *uri);
/*
 * A change notification (notifications/tools/list_changed, ...,
 * notifications/resources/updated with uri) to this server's GET streams
 * and subscriptions/listen streams that asked for it.
 */
void	mcp_notify(struct mcp_server *, const char *method, const char *uri);
/*
 * Where changes a plugin reports go besides this server: the worker sends
 * them to its peers, which mcp_notify() their own streams.
 */
typedef void	(*mcp_broadcast_fn)(void *arg, const char *method,
		    const char *uri);
void	mcp_set_broadcast(struct mcp_server *, mcp_broadcast_fn, void *);

/* Protocol versions. */
int		 mcp_version_supported(const char *);
const char	*mcp_version_negotiate(const char *);
#define MCP_VERSION_LATEST	"2025-11-25"	/* of the session era */
#define MCP_VERSION_STATELESS	"2026-07-28"

/*
 * The stateless era (stateless.c; the headers: headers.c, listen streams:
 * notify.c, task ids: taskstore.c).  A transport picks the era of a message
 * before anything per-session is looked at: mcp_era() from the version
 * header (NULL when absent) and, without one, from the body's _meta.
 */
enum mcp_era {
	MCP_ERA_SESSION,	/* 2025-03-26 .. 2025-11-25 */
	MCP_ERA_STATELESS,	/* 2026-07-28 */
	MCP_ERA_UNSUPPORTED	/* a version header we do not speak */
};
enum mcp_era	 mcp_era(const char *version_header, const struct mcp_msg *);
int		 mcp_version_stateless(const char *);

/*
 * The request headers that mirror the body (Mcp-Method, Mcp-Name,
 * Mcp-Param-*), as the transport received them; NULL: absent.
 */
#define MCP_PARAM_HEADERS_MAX	16	/* Mcp-Param-* headers per request */
#define MCP_PARAM_HEADER_BYTES	4096	/* their names and values, bytes */
struct mcp_headers {
	const char	*h_version;
	const char	*h_method;
	const char	*h_name;
	size_t		 h_nparams;
	const char	*h_pname[MCP_PARAM_HEADERS_MAX];	/* after the prefix */
	const char	*h_pvalue[MCP_PARAM_HEADERS_MAX];
	int		 h_too_many;
};
/* Decode a header value of the Base64 sentinel form (=?base64?...?=) */
int	mcp_header_decode(const char *, char *out, size_t outlen);
/*
 * Dispatch one message of the stateless era: the per-request _meta is
 * checked first, then (h not NULL: HTTP) the headers against the body;
 * errors set st->s_status.
 */
enum mcp_disp mcp_dispatch_stateless(struct mcp_server *, struct mcp_msg *,
	    struct mcp_stream *, const struct mcp_headers *h);
/* UnsupportedProtocolVersionError (-32022), into the server's output */
void	mcp_write_unsupported_version(struct mcp_server *,
	    const struct mcp_msg *, const char *requested);
#define MCP_LISTENERS_MAX	10000	/* subscriptions/listen per worker */
unsigned	 mcp_listener_count(const struct mcp_server *);
/* shutting down: end every listen stream with its result */
void		 mcp_listen_end_all(struct mcp_server *);
/* The worker that keeps a task (from its id), or -1 for a forged id. */
int		 mcp_task_owner(struct mcp_server *, const char *id);
unsigned	 mcp_task_count(const struct mcp_server *);
/* the listen stream of st was closed by the client (or the transport) */
void	mcp_listen_gone(struct mcp_server *, struct mcp_stream *);
/* a request of the stateless era whose stream the client closed */
void	mcp_stream_gone(struct mcp_server *, struct mcp_stream *);

/*
 * Routing (route.c): every transport asks who serves a message before
 * anything of a session is touched.  It fills the first part of a
 * struct mcp_route and mcp_route() the rest.
 */
enum mcp_verdict {
	MCP_ROUTE_SERVE,	/* here: mcp_serve() */
	MCP_ROUTE_PEER,		/* partition rt_owner keeps what it names */
	MCP_ROUTE_UNSUPPORTED,	/* a version header we do not speak */
	MCP_ROUTE_NO_SID,	/* the session era needs Mcp-Session-Id */
	MCP_ROUTE_NO_SESSION,	/* no such session (ended, expired, forged) */
	MCP_ROUTE_INITIALIZED,	/* initialize inside a session */
	MCP_ROUTE_SCOPE,	/* rt_scopes lacks one of rt_need (403) */
	MCP_ROUTE_GONE		/* the transport's: rt_owner did not take it */
};
struct mcp_route {
	/* what the transport knows */
	const char		*rt_version;	/* MCP-Protocol-Version, NULL */
	const char		*rt_sid;	/* Mcp-Session-Id, NULL */
	int			 rt_by_header;	/* sessions are named by rt_sid */
	/*
	 * Who asks, as the transport verified it (NULL: nobody).  A
	 * session belongs to the principal of its initialize; asked for by
	 * another, it is as unknown (404), so that an id does not say
	 * whether it exists.
	 */
	const char		*rt_principal;
	/*
	 * The scopes its token grants, " "-separated ("" for none), when the
	 * transport enforces them; NULL when it does not (HTTP without auth,
	 * stdio).  A tools/call, resources/read or prompts/get whose item
	 * needs a scope not among them is refused (MCP_ROUTE_SCOPE) where it
	 * is served: a request handed over is judged by its owner.
	 */
	const char		*rt_scopes;
	/* what mcp_route() says */
	struct mcp_session	*rt_sess;	/* by header: the one named */
	enum mcp_era		 rt_era;
	enum mcp_verdict	 rt_verdict;
	int			 rt_owner;	/* MCP_ROUTE_PEER: partition */
	/*
	 * MCP_ROUTE_GONE: the partition's worker went away lately, and with
	 * a registry its successor will keep what it kept: 503, not 404
	 */
	int			 rt_away;
	int			 rt_task;	/* it names a task, not a session */
	/*
	 * SERVE: a tasks/ request names a task of this partition that is
	 * not here (an older process of the partition may keep it yet)
	 */
	int			 rt_task_missing;
	char			 rt_task_id[128]; /* its taskId, with it */
	int			 rt_new_session; /* an initialize opens one */
	const char		*rt_need;	/* SCOPE: what it needs */
};
/* m: the message, or NULL for a request that has none (GET, DELETE) */
enum mcp_verdict mcp_route(struct mcp_server *, const struct mcp_msg *m,
	    struct mcp_route *);
/*
 * Step-up authorization: the scopes the item m names needs (tools/call:
 * params.name, resources/read: params.uri, prompts/get: params.name, as
 * the dispatch finds it) when granted lacks one of them; else NULL.  For
 * a transport that judges messages mcp_route() does not see one by one
 * (a batch).  The string is the catalog's: valid until it changes.
 */
const char	*mcp_scope_lacking(struct mcp_server *,
		    const struct mcp_msg *, const char *granted);
/*
 * The error of a verdict that refuses, into the server's output buffer;
 * returns the HTTP status that goes with it.
 */
int	mcp_route_error(struct mcp_server *, const struct mcp_msg *,
	    const struct mcp_route *);
/*
 * Serve a routed message: a refusal's error (with st->s_status), or the
 * era's dispatcher.  *sessp is the session of the session era (the one
 * the route found, or the transport's own) and receives the one an
 * initialize opens; h: the headers that mirror the body (HTTP), or NULL.
 */
enum mcp_disp mcp_serve(struct mcp_server *, const struct mcp_route *,
	    struct mcp_session **sessp, struct mcp_msg *,
	    struct mcp_stream *, const struct mcp_headers *h);

#endif
