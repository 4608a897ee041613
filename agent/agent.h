/*
 * agent.h -- the insides of the agent, shared by the files that make it:
 *
 *	agent.c		the role: its channels to the workers
 *	fetch.c		HTTP requests (libcurl's multi on the libev loop)
 *	keys.c		the issuers' keys (JWKS), fetched and refreshed
 *	introspect.c	opaque tokens, asked about (RFC 7662) and cached
 *	registry.c	the node's registry replica
 *	redis.c		the link to Redis (cluster mode)
 *	cluster.c	this node as a member: epoch, liveness, members
 */
#ifndef MCPD_AGENT_H
#define MCPD_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ev.h>

#include "msg.h"		/* AGT_FWD_*_MAX_BYTES */

#define FETCH_ERR_MAX_BYTES	256

struct conf;

/* fetch.c */
struct fetch_result {
	int		 fr_status;	/* HTTP status, 0: none came */
	const char	*fr_body;	/* NUL-terminated; NULL on error */
	size_t		 fr_len;
	char		 fr_err[FETCH_ERR_MAX_BYTES]; /* "": a 2xx answer */
};
typedef void (*fetch_cb)(const struct fetch_result *, void *arg);
void	fetch_init(struct ev_loop *);
/*
 * GET url (post NULL) or POST the form post, with HTTP Basic when user is
 * not NULL; an answer over max bytes or later than timeout_ms is an
 * error.  0, and cb runs once later; -1: out of memory, no callback.
 */
int	fetch_start(const char *url, const char *post, const char *user,
	    const char *pass, size_t max, uint32_t timeout_ms, fetch_cb,
	    void *arg);
unsigned fetch_count(void);		/* in flight */
/* s, URL-encoded (malloc'd), or NULL; after fetch_init() */
char	*fetch_escape(const char *s);

/*
 * What keys.c and introspect.c send to the workers, through agent.c's
 * channels: given to them when they load, so that they call nothing of
 * agent.c by name (agent.c calls them).
 */
struct agent_out {
	/* keys of auth block auth, to worker channel num (-1: every one) */
	void	(*ao_keys)(int num, uint32_t auth, const char *name,
		    const char *doc, size_t len);
	/* the answer to a worker channel's introspection query id */
	void	(*ao_answer)(uint32_t num, uint32_t id, int verdict,
		    const char *principal, const char *scopes,
		    uint64_t until);
	/* nothing asked is in flight any more (a stopping agent may go) */
	void	(*ao_idle)(void);
};

/* keys.c */
void	keys_load(struct ev_loop *, const struct conf *,
	    const struct agent_out *);
void	keys_miss(uint32_t auth);
/* a new worker channel: what keys we have */
void	keys_send_all(int worker);

/* registry.c */
struct sb_metrics;
void	registry_load(const struct conf *);
void	registry_metrics(struct sb_metrics *);
void	registry_put(uint32_t slot, const char *id, const char *data,
	    size_t len);
void	registry_del(uint32_t slot, const char *id);
/* a record of whichever slot (another node took it) */
void	registry_drop(const char *id);
/* every record of slot (its worker sends them all again) */
void	registry_forget(uint32_t slot);
/* the ids of a slot's records, malloc'd (a snapshot to adopt from) */
char	**registry_ids(uint32_t slot, size_t *n);
/* a record of slot by id, or NULL (gone since) */
const char *registry_get(uint32_t slot, const char *id, size_t *len);
/* an event of a session of slot (its record's), or not kept */
struct agt_ev;
struct chan;
void	registry_event(uint32_t slot, const struct agt_ev *);
/* the events of a record of slot, to ch: how many, or -1 */
int	registry_send_events(uint32_t slot, const char *id, struct chan *);
struct registry_stats {
	uint64_t	rs_records;
	uint64_t	rs_bytes;	/* of records and events */
	uint64_t	rs_refused;	/* records not kept */
	uint64_t	rs_events;
	uint64_t	rs_shed;	/* events dropped for room */
};
void	registry_stats(struct registry_stats *);

/* redis.c */
struct conf_cluster;
struct mx_cluster;
struct redisReply;
/* a command's answer; NULL: it failed (timeout, the link went) */
typedef void (*redis_reply_fn)(const struct redisReply *, void *arg);
struct redis_ops {
	void	(*ro_up)(void);		/* the link is up, set up */
	void	(*ro_down)(void);	/* it went: commands in flight failed */
};
void	redis_init(struct ev_loop *, const struct conf_cluster *,
	    const struct redis_ops *, struct mx_cluster *);
/*
 * Send a command (argv of argc, each lens long): 0, and fn runs once
 * later; -1 when the link is down (fn never runs).
 */
int	redis_cmd(redis_reply_fn fn, void *arg, int argc, const char **argv,
	    const size_t *lens);
int	redis_up(void);
/* a message of a channel SUBSCRIBEd to on every link (set before init) */
#define REDIS_CHANNELS_MAX	4
typedef void (*redis_message_fn)(const char *channel, const char *,
		    size_t);
void	redis_subscribe(const char *const *, size_t, redis_message_fn);
const char *redis_why(void);		/* why it is down; "" up */
void	redis_reconf(const struct conf_cluster *);	/* same link */
void	redis_close(void);

/* cluster.c */
#define CLUSTER_ID_MAX_BYTES	128	/* a record's id, with NUL */
/* a record the workers write (MCP_SESSION_RECORD_MAX_BYTES): larger ones
   in Redis are not a node's */
#define CLUSTER_RECORD_MAX_BYTES (48 * 1024)
#define CLUSTER_METHOD_MAX_BYTES 64	/* a notification's method, with NUL */
#define CLUSTER_URI_MAX_BYTES	1024	/* its URI, with NUL */
#define CLUSTER_NOTIFY_MAX_BYTES (CONF_NODE_MAX_BYTES + \
	CLUSTER_METHOD_MAX_BYTES + CLUSTER_URI_MAX_BYTES)
struct cluster_out {
	/* the answer to worker channel num's AGT_TAKE query qid */
	void	(*co_taken)(uint32_t num, uint32_t qid, int verdict,
		    const char *rec, size_t len);
	/* another node took this id over: it is not ours any more */
	void	(*co_lost)(const char *id);
	/* a change another node announced, for every worker's listeners */
	void	(*co_notify)(const char *method, const char *uri);
	/* a replay event of a session taken over, for worker channel num */
	void	(*co_events)(uint32_t num, const struct agt_ev *);
};
void	cluster_init(struct ev_loop *, const struct conf *,
	    struct mx_cluster *, const struct cluster_out *);
/* a record of ours changed, ended (write-through, fenced by the epoch) */
void	cluster_put(const char *id, const char *rec, size_t len);
void	cluster_del(const char *id);
/* a replay event of a session of ours: to its Redis stream */
#define CLUSTER_EVENTS_MAX	64	/* a session's, MCP_REPLAY_EVENTS */
void	cluster_event(const struct agt_ev *);
/* take a session over for worker channel num: co_taken answers */
void	cluster_take(uint32_t num, uint32_t qid, const char *id);
/* a change our workers announced: to the other nodes */
void	cluster_notify(const char *method, const char *uri);
/* a reload's new block (the same node), old the running one */
void	cluster_reconf(const struct conf_cluster *old,
	    const struct conf_cluster *);
uint64_t cluster_epoch(void);		/* 0: none, or fenced */

/* forward.c: tasks/ requests for tasks that run on other nodes */
#define FORWARD_CHANNEL		"mcpd:fwd:"	/* + the node it is for */
struct msg;
struct fwd_req {
	char		 principal[AGT_FWD_PRINCIPAL_MAX_BYTES];
	char		 version[AGT_FWD_VERSION_MAX_BYTES];
	char		 method[AGT_FWD_METHOD_MAX_BYTES];
	char		 name[AGT_FWD_NAME_MAX_BYTES];
	const char	*body;
	size_t		 len;
};
int	forward_req(struct fwd_req *, const struct msg *, unsigned first);
struct forward_out {
	/* the answer to worker channel num's AGT_FWD qid; status 0: none */
	void	(*fo_answer)(uint32_t num, uint32_t qid, int status,
		    const char *body, size_t len);
	/* another node's request for a task of our worker index: -1 when
	   no worker has that index */
	int	(*fo_ask)(const char *from, uint64_t id, uint32_t index,
		    const struct fwd_req *);
};
void	forward_init(struct ev_loop *, const char *node, uint32_t timeout_ms,
	    const struct forward_out *);
void	forward_reconf(uint32_t timeout_ms);
void	forward_ask(uint32_t num, uint32_t qid, const char *node,
	    uint32_t index, const struct fwd_req *);
void	forward_reply(const char *node, uint64_t id, int status,
	    const char *body, size_t len);
void	forward_message(const char *, size_t);
void	forward_link_down(void);
void	forward_close(void);

/* keys.c: the URL of an issuer's metadata, RFC 8414 (step 0), OIDC (1) */
int	keys_meta_url(const char *issuer, int step, char *buf, size_t len);

/* introspect.c */
#define INTRO_PRINCIPAL_MAX_BYTES 800	/* as a worker keeps it */
#define INTRO_SCOPES_MAX_BYTES	2048
struct introspection {
	int		in_verdict;	/* enum agt_verdict */
	uint64_t	in_until;	/* Unix seconds: keep it until */
	char		in_principal[INTRO_PRINCIPAL_MAX_BYTES];
	char		in_scopes[INTRO_SCOPES_MAX_BYTES];
};
/*
 * An RFC 7662 answer of len bytes (the server's: hostile), judged for
 * audience, with issuer for a principal when the answer names none, kept
 * at most cache_ms from now.  Fills out.
 */
void	introspect_judge(const char *body, size_t len, const char *audience,
	    const char *issuer, uint32_t cache_ms, time_t now,
	    struct introspection *out);
void	introspect_load(const struct conf *, const struct agent_out *);
void	introspect_ask(uint32_t worker, uint32_t id, uint32_t auth,
	    const char *token, size_t len);
/* a worker's channel closed: its questions are forgotten */
void	introspect_forget(uint32_t worker);
uint64_t introspect_busy(void);

#endif
