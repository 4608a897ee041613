/*
 * http.h -- the insides of a worker's HTTP/1.1 service, shared by the files
 * that make it:
 *
 *	conn.c		the connection: reading, parsing, deadlines,
 *			keep-alive and pipelining
 *	out.c		what it sends: the output buffer, the cork, response
 *			heads, SSE framing
 *	endpoint.c	the MCP endpoint (POST, GET, DELETE) of both eras
 *	admit.c		admission: what is refused before the engine sees it
 *	admin.c		/metrics, /readyz, /healthz
 *	peer.c		the hand-over of a connection to another worker
 */
#ifndef MCPD_HTTP_H
#define MCPD_HTTP_H

#include <http_parser.h>

#include "audit.h"
#include "auth.h"
#include "head.h"
#include "mcp.h"
#include "worker.h"

#define HTTP_OUT_MAX_BYTES	(8 * 1024 * 1024) /* unsent per conn, default */
#define BATCH_MAX		100	/* messages in a batch (2025-03-26) */
/* a request id kept for its stream's head (mcp.h); longer: none kept */
#define RPCID_MAX_BYTES		128

/* A request being read or served; from a pool (conn.c). */
struct hreq {
	struct hreq		*r_next;	/* pool */
	char			*r_body;	/* kept across reuse */
	size_t			 r_bodylen;
	size_t			 r_bodycap;
	int			 r_too_big;
	int			 r_in_body;	/* the header is whole */
	int			 r_answered;	/* refused from its head */
	/* answering */
	struct mcp_session	*r_sess;
	int			 r_headers_sent;
	int			 r_sse;
	int			 r_get;		/* standalone GET stream */
	uint64_t		 r_stream;	/* this worker's stream number */
	unsigned		 r_batch_pending; /* requests not answered */
	int			 r_batch;	/* answering a batch */
	int			 r_batch_open;	/* still dispatching it */
	int			 r_close_stream; /* asked to, in dispatch */
	int			 r_detached;	/* response ended, call goes on */
	uint64_t		 r_event;
	int			 r_stateless;	/* a request of 2026-07-28 */
	int			 r_admitted;	/* a hand-over: rates were taken */
	uint64_t		 r_bytes;	/* of its answer, written */
	/* metrics: what it was, when it came, how it ended */
	int			 r_mx;		/* enum mx_method; -1: none */
	uint64_t		 r_t0_us;
	int			 r_status;	/* HTTP status of the answer */
	int			 r_rpc_code;	/* its JSON-RPC error, 0: none */
	int			 r_pending;	/* counted in w_pending */
	int			 r_scope_denied; /* 403 insufficient_scope */
	size_t			 r_rpcidlen;	/* 0: no id kept */
	int			 r_shared;	/* its stream goes to the registry */
	int			 r_took;	/* asked for a takeover once */
	/* not cleared whole (a kilobyte a request): strings, "" when new */
	char			 r_rpcid[RPCID_MAX_BYTES]; /* JSON text */
	char			 r_principal[PRINCIPAL_MAX_BYTES]; /* "": none */
	char			 r_audit_name[AUDIT_NAME_MAX_BYTES]; /* tool... */
	char			 r_scopes[SCOPES_MAX_BYTES]; /* " "-separated */
	struct rhead		 r_head;	/* last: not cleared whole */
};

struct conn {
	int			 c_fd;
	enum listen_kind	 c_kind;
	int			 c_auth;	/* its listener's, -1: none */
	http_parser		 c_parser;
	ev_io			 c_rd;
	ev_io			 c_wr;
	ev_timer		 c_to;
	ev_tstamp		 c_deadline;	/* of c_to; 0: none */
	char			*c_out;		/* unsent output, or NULL */
	size_t			 c_outlen;
	size_t			 c_outoff;
	size_t			 c_outcap;	/* bytes allocated at c_out */
	char			*c_pend;	/* read, not yet parsed */
	size_t			 c_pendlen;
	struct hreq		*c_req;
	struct mcp_stream	 c_stream;
	int			 c_refs;	/* engine's references */
	size_t			 c_slot;	/* in conns[] */
	uint8_t			 c_close;	/* close once output is out */
	uint8_t			 c_served;	/* answered at least once */
	uint8_t			 c_busy;	/* a request in flight */
	uint8_t			 c_dead;	/* fd closed, refs pending */
	uint8_t			 c_inreq;	/* a request is being read */
	uint8_t			 c_indispatch;	/* inside the engine's dispatch */
	uint8_t			 c_inparse;	/* inside http_parser_execute */
	uint8_t			 c_overflow;	/* output over its bound */
	uint8_t			 c_handoff_task; /* the hand-over is a task's */
	uint8_t			 c_handoff_back; /* to our predecessor */
	uint8_t			 c_has_addr;	/* counted for its address */
	unsigned char		 c_addr[ADDR_KEY_BYTES];
	int			 c_handoff;	/* owner + 1: hand it over */
	struct conn		*c_resumer;	/* dead: who took my stream */
	struct conn		*c_resumes;	/* GET: the dead conn I follow */
	struct conn		*c_next_dead;	/* dead conns a call holds */
};

/* conn.c */
extern struct conn	**conns;	/* every live connection */
extern size_t		  nconns;
extern struct conn	 *deadlist;	/* closed, still referenced */
void	request_done(struct conn *);
/* after serving: hand over, finish, or wait (what serve() leaves) */
void	request_served(struct conn *);
void	pending_take(struct hreq *);
void	conn_arm(struct conn *);
void	conn_flush(struct conn *);
void	conn_close(struct conn *);
/* a closed connection the engine no longer holds: its memory goes */
void	conn_release(struct conn *);
void	update_gauges(void);
struct hreq *hreq_get(void);
void	hreq_put(struct hreq *);

/* out.c */
extern uint64_t		  overflows;	/* closed: client did not read */
void	out_cork(struct conn *);
void	out_uncork(struct conn *);
int	out_corked(const struct conn *);
/* the same with a reason phrase of ours (HAProxy's agent check reads it) */
void	reply_as(struct conn *, int status, const char *reason,
	    const char *ctype, const char *extra, const char *body,
	    size_t len);
void	reply(struct conn *, int status, const char *ctype, const char *extra,
	    const char *body, size_t len);
/* an HTTP error whose body is a JSON-RPC error (id null) */
void	reply_error(struct conn *, int status, int code, const char *message,
	    const char *extra);
void	reply_continue(struct conn *);
/* the answer in the server's output buffer, as it is */
void	reply_out(struct conn *, int status, const char *extra);
const char *status_reason(int);
int	rpc_code(const char *json, size_t len);
/* SSE: the response head (sid: the session's, or NULL), events, end */
void	sse_headers_plain(struct conn *, const char *sid);
void	sse_headers(struct conn *);
void	sse_streams_past(uint64_t);
void	sse_share(struct conn *);
void	sse_write(struct conn *, uint64_t stream, uint64_t seq,
	    const char *json, size_t len);
void	sse_write_plain(struct conn *, const char *json, size_t len);
void	sse_comment(struct conn *, const char *text);
void	sse_end(struct conn *);

/* endpoint.c */
extern const struct mcp_stream_ops conn_stream_ops;
void	endpoint_serve(struct conn *);
void	endpoint_authed(struct conn *);
/* answer 404: no such session (a takeover found none) */
void	endpoint_no_session(struct conn *);
void	endpoint_handoff(struct conn *);
void	endpoint_handoff_now(struct conn *, int may_wait);
/* worker index's channel is back (its successor): what waited for it */
void	endpoint_peer_back(uint32_t index);

/* admit.c */
/* a request the engine will see: 0, or -1 after refusing it (429, 503) */
int	admit_request(struct conn *, const struct mcp_msg *);
int	admit_stopping(void);
/* a new session (initialize): 0, or -1 after refusing it */
int	admit_session(struct conn *, const struct mcp_msg *);

/* admin.c */
/* a request for the admin paths: 1 when answered, 0: not one */
int	admin_serve(struct conn *);

#endif
