/*
 * metrics.h -- counters, gauges and latency histograms in the scoreboard.
 *
 * Every process owns the metrics block of its scoreboard slot and is its
 * only writer (relaxed atomic stores, no lock); anyone reads every block
 * and adds them up.  When a child's slot is freed the supervisor adds its
 * counters and histograms into its own block (slot 0), so totals never go
 * down while the daemon runs.
 *
 * A histogram is log-linear: values (microseconds) below 256 have a bucket
 * each, above that every power of two is cut into 128 buckets, up to 2^26
 * us (67 s): relative error at most 1/128 (0.8 %), 2560 buckets.  Merging
 * adds buckets, so percentiles of the sum are exact to the bucket.
 */
#ifndef MCPD_METRICS_H
#define MCPD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MX_HIST_SUB		128	/* buckets per power of two */
#define MX_HIST_MAX_US		((1ULL << 26) - 1)	/* 67 s */
#define MX_HIST_BUCKETS		2560

/* the MCP methods we count, by name; MX_OTHER: the rest */
enum mx_method {
	MX_INITIALIZE,
	MX_PING,
	MX_DISCOVER,
	MX_TOOLS_LIST,
	MX_TOOLS_CALL,
	MX_RESOURCES_LIST,
	MX_RESOURCES_TEMPLATES_LIST,
	MX_RESOURCES_READ,
	MX_PROMPTS_LIST,
	MX_PROMPTS_GET,
	MX_COMPLETE,
	MX_LISTEN,
	MX_TASKS,
	MX_NOTIFICATION,	/* notifications and client responses */
	MX_OTHER,
	MX_METHODS
};

/*
 * How a request ended: ok (a result); error (a JSON-RPC error the client
 * caused: bad params, unknown method, headers...); failure (the server's
 * fault: an internal error, a timeout, a 5xx other than 503); rejected (a
 * clean refusal under load: 503, 429).
 */
enum mx_outcome {
	MX_OK,
	MX_ERROR,
	MX_FAILURE,
	MX_REJECTED,
	MX_OUTCOMES
};

/* why a connection or a request was refused, or a stream dropped */
enum mx_reason {
	MX_R_CONNECTIONS,	/* the connection limit */
	MX_R_ADDRESS,		/* connections of one client address */
	MX_R_ACCEPT_RATE,
	MX_R_PENDING,		/* requests in flight */
	MX_R_RATE,		/* a principal's request rate */
	MX_R_SESSIONS,		/* the session cap, initialize rate */
	MX_R_OUTPUT,		/* a client that does not read */
	MX_R_SHED,		/* the emergency tier sheds load */
	MX_R_AUTH,		/* no valid bearer token (401) */
	MX_R_SCOPE,		/* a token without a scope it needs (403) */
	MX_R_REGISTRY,		/* a session record the registry had no room for */
	MX_R_REPLAY,		/* a replay event the registry shed for room */
	MX_REASONS
};

/* the alert tiers (supervisor/alert.c judges them), in mcpd_alert_tier */
enum mx_tier {
	MX_TIER_GREEN,
	MX_TIER_YELLOW,
	MX_TIER_RED,
	MX_TIER_EMERGENCY,
	MX_TIERS
};

enum mx_gauge {
	MX_G_SESSIONS,
	MX_G_LISTENERS,
	MX_G_TASKS,
	MX_G_PENDING,		/* requests in flight */
	MX_G_OUTPUT_BYTES,	/* bytes waiting for slow readers */
	MX_G_REGISTRY_RECORDS,	/* session records the agent keeps */
	MX_G_REGISTRY_BYTES,	/* of records and replay events */
	MX_G_REGISTRY_EVENTS,	/* replay events the agent keeps */
	MX_G_REGISTRY_LAG,	/* bytes the workers sent it, not read yet */
	MX_GAUGES
};

/*
 * How a run of an exec tool ended (the runner counts, msg_run.def carries
 * it): ok; error (a non-zero exit); killed (a signal it did not get from
 * us, or the runner stopped); timeout; overflow (past max-output: the
 * output is cut, the run goes on); failed_to_start (no such program or
 * directory, the runner knows no such tool...); busy (refused: the
 * tool's concurrency is reached); cancelled (its call was, or its worker
 * is gone).
 */
enum mx_run {
	MX_RUN_OK,
	MX_RUN_ERROR,
	MX_RUN_KILLED,
	MX_RUN_TIMEOUT,
	MX_RUN_OVERFLOW,
	MX_RUN_FAILED_TO_START,
	MX_RUN_BUSY,
	MX_RUN_CANCELLED,
	MX_RUNS
};

struct mx_hist {
	uint64_t	h_count;
	uint64_t	h_sum_us;
	uint64_t	h_b[MX_HIST_BUCKETS];
};

struct sb_metrics {
	uint64_t	m_req[MX_METHODS][MX_OUTCOMES];
	uint64_t	m_rejected[MX_REASONS];
	uint64_t	m_gauge[MX_GAUGES];
	struct mx_hist	m_lat[MX_METHODS];
};

/*
 * The exec tools' runs, one entry per tool name the runner has seen
 * (mcpd.conf's tools, 1024 at most: CONF_TOOLS_MAX), in a block of the
 * scoreboard of its own that only the runner writes.  Entries are keyed
 * by name, not by a tool's place in the file, so a reload that moves or
 * adds tools keeps every tool's counts, and a restarted runner goes on
 * counting where its predecessor stopped.  An entry whose tool is gone
 * from every configuration the runner keeps may be given to a new name:
 * t_seq is odd while it is rewritten, and readers skip it then.
 */
#define MX_TOOLS_MAX		1024
#define MX_TOOL_NAME_WORDS	9	/* 64 bytes of name, NUL-padded */

struct mx_tool {
	uint64_t	t_seq;
	uint64_t	t_name[MX_TOOL_NAME_WORDS];
	uint64_t	t_running;		/* runs in progress */
	uint64_t	t_runs[MX_RUNS];	/* runs ended, by outcome */
} __attribute__((aligned(64)));

struct mx_tools {
	struct mx_tool	 x_tool[MX_TOOLS_MAX];
};

/*
 * The cluster link (agent/redis.c, agent/cluster.c), in a block of the
 * scoreboard of its own that only the agent writes.  Counters go on from
 * where a restarted agent's predecessor left them.
 */
#define MX_MEMBERS_MAX		64	/* members mcpctl cluster lists */
#define MX_NODE_NAME_WORDS	5	/* 33 bytes of name, NUL-padded */
struct mx_cluster {
	uint64_t	c_enabled;	/* 1: a cluster block is configured */
	uint64_t	c_up;		/* 1: the link to the primary is up */
	uint64_t	c_down_since_ms; /* CLOCK_REALTIME; 0: up */
	uint64_t	c_epoch;	/* this node's, 0: none yet */
	uint64_t	c_members;	/* nodes alive at the last look */
	uint64_t	c_connects;	/* links made */
	uint64_t	c_lost;		/* links lost */
	uint64_t	c_timeouts;	/* commands or connects too late */
	uint64_t	c_commands;	/* commands sent */
	uint64_t	c_refused;	/* commands refused: link down */
	uint64_t	c_fenced;	/* writes refused: another owner */
	uint64_t	c_takeovers;	/* sessions taken over */
	uint64_t	c_lapses;	/* our liveness key had expired */
	uint64_t	c_inflight;	/* commands waiting for answers */
	uint64_t	c_primary[32];	/* "host:port", NUL-padded */
	uint64_t	c_fenced_now;	/* 1: a newer epoch has our node id */
	/* the members alive at the last look, c_seq odd while rewritten */
	uint64_t	c_seq;
	uint64_t	c_nrows;
	struct {
		uint64_t	m_name[MX_NODE_NAME_WORDS];
		uint64_t	m_epoch;
		uint64_t	m_records;	/* sessions and tasks it owns */
	}		c_rows[MX_MEMBERS_MAX];
	struct mx_hist	c_rtt;		/* command round trips */
};

#define MX_GET(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define MX_SET(p, v)	__atomic_store_n((p), (uint64_t)(v), __ATOMIC_RELAXED)
#define MX_ADD(p, d)	MX_SET((p), MX_GET(p) + (d))	/* one writer */

const char	*mx_method_name(enum mx_method);
enum mx_method	 mx_method_of(const char *);
const char	*mx_outcome_name(enum mx_outcome);
const char	*mx_reason_name(enum mx_reason);
/* a tier's name: green, yellow, red, emergency */
const char	*mx_tier_name(unsigned);
/* ok, error, killed, timeout, overflow, failed_to_start, busy, cancelled */
const char	*mx_run_name(enum mx_run);

unsigned	 mx_bucket(uint64_t us);
/* the smallest and largest value of a bucket */
uint64_t	 mx_bucket_low(unsigned);
uint64_t	 mx_bucket_high(unsigned);
void		 mx_hist_add(struct mx_hist *, uint64_t us);
/* the value at quantile q (0..1): the middle of its bucket; 0 if empty */
uint64_t	 mx_hist_quantile(const struct mx_hist *, double q);

/* this process's block: the worker records into it */
void		 mx_request(struct sb_metrics *, enum mx_method,
		    enum mx_outcome, uint64_t us);

/* a + b, for reports (not atomic: a is the caller's own copy) */
void		 mx_merge(struct sb_metrics *a, const struct sb_metrics *b);
/* a += b, exactly (a histogram not shared: b's counts may be live) */
void		 mx_hist_merge(struct mx_hist *a, const struct mx_hist *b);

struct scoreboard;
/*
 * The runner's side of the tools block: the entry of name (found, free,
 * or one whose flag in keep[MX_TOOLS_MAX] is 0, cleared), or -1 when
 * every entry is kept; a run ended with an outcome; runs in progress.
 * mx_tools_idle() says no run is in progress (a new runner's first act).
 */
int		 mx_tool_entry(struct scoreboard *, const char *name,
		    const uint8_t *keep);
void		 mx_tool_ran(struct scoreboard *, int entry, enum mx_run);
void		 mx_tool_running(struct scoreboard *, int entry, int delta);
void		 mx_tools_idle(struct scoreboard *);
/* every block added up, into *out (a plain copy) */
void		 mx_collect(const struct scoreboard *, struct sb_metrics *out);
/* the slot's metrics go to slot 0 (the supervisor's), and are cleared */
void		 mx_retire(struct scoreboard *, uint32_t slot);

/* Prometheus text exposition (version 0.0.4) of the whole daemon */
char		*mx_prometheus(const struct scoreboard *, size_t *len);
/* the same figures as one JSON object (mcpctl stats --json) */
char		*mx_json(const struct scoreboard *, size_t *len);
/* and as a table for people (mcpctl stats) */
char		*mx_table(const struct scoreboard *, size_t *len);

/* mxcluster.c: the cluster link, in /metrics and for mcpctl cluster */
void		 mx_cluster_prometheus(FILE *, const struct scoreboard *);
char		*mx_cluster_report(const struct scoreboard *, const char *node,
		    int json, size_t *len);

#endif
