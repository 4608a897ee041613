/*
 * metrics.c -- the scoreboard's counters and histograms: recording,
 * adding up, and the reports of the node (Prometheus text for /metrics,
 * JSON and a table for mcpctl stats).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "scoreboard.h"

static const char *const method_names[MX_METHODS] = {
	[MX_INITIALIZE] = "initialize",
	[MX_PING] = "ping",
	[MX_DISCOVER] = "server/discover",
	[MX_TOOLS_LIST] = "tools/list",
	[MX_TOOLS_CALL] = "tools/call",
	[MX_RESOURCES_LIST] = "resources/list",
	[MX_RESOURCES_TEMPLATES_LIST] = "resources/templates/list",
	[MX_RESOURCES_READ] = "resources/read",
	[MX_PROMPTS_LIST] = "prompts/list",
	[MX_PROMPTS_GET] = "prompts/get",
	[MX_COMPLETE] = "completion/complete",
	[MX_LISTEN] = "subscriptions/listen",
	[MX_TASKS] = "tasks",
	[MX_NOTIFICATION] = "notification",
	[MX_OTHER] = "other"
};

static const char *const outcome_names[MX_OUTCOMES] = {
	"ok", "error", "failure", "rejected"
};

static const char *const run_names[MX_RUNS] = {
	[MX_RUN_OK] = "ok",
	[MX_RUN_ERROR] = "error",
	[MX_RUN_KILLED] = "killed",
	[MX_RUN_TIMEOUT] = "timeout",
	[MX_RUN_OVERFLOW] = "overflow",
	[MX_RUN_FAILED_TO_START] = "failed_to_start",
	[MX_RUN_BUSY] = "busy",
	[MX_RUN_CANCELLED] = "cancelled"
};

static const char *const reason_names[MX_REASONS] = {
	"connections", "address", "accept_rate", "pending", "rate",
	"sessions", "output", "shed", "auth", "scope", "registry", "replay"
};

static const char *const gauge_names[MX_GAUGES] = {
	"mcpd_sessions", "mcpd_listen_streams", "mcpd_tasks",
	"mcpd_pending_requests", "mcpd_output_buffered_bytes",
	"mcpd_registry_records", "mcpd_registry_bytes",
	"mcpd_registry_events", "mcpd_registry_lag_bytes"
};

static const char *const gauge_help[MX_GAUGES] = {
	"Session-era sessions open",
	"subscriptions/listen streams open",
	"Tasks kept (running or finished)",
	"Requests in flight",
	"Bytes queued for clients that read slowly",
	"Session records the agent keeps for the workers (the registry)",
	"Bytes of the records and replay events the agent keeps",
	"Replay events of SSE streams the agent keeps",
	"Bytes the workers sent the agent that it has not read yet"
};

/* Prometheus histogram bounds, in seconds */
static const double le_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};

const char *
mx_method_name(enum mx_method m)
{
	return m < MX_METHODS ? method_names[m] : "other";
}

enum mx_method
mx_method_of(const char *s)
{
	int i;

	if (strncmp(s, "tasks/", 6) == 0)
		return MX_TASKS;
	for (i = 0; i < MX_TASKS; i++)
		if (strcmp(s, method_names[i]) == 0)
			return i;
	return MX_OTHER;
}

const char *
mx_outcome_name(enum mx_outcome o)
{
	return o < MX_OUTCOMES ? outcome_names[o] : "error";
}

const char *
mx_reason_name(enum mx_reason r)
{
	return r < MX_REASONS ? reason_names[r] : "other";
}

static const char *const tier_names[MX_TIERS] = {
	"green", "yellow", "red", "emergency"
};

const char *
mx_tier_name(unsigned t)
{
	return t < MX_TIERS ? tier_names[t] : "green";
}

const char *
mx_run_name(enum mx_run r)
{
	return r < MX_RUNS ? run_names[r] : "error";
}

/* The tools block: the runner writes, anyone reads */

static void
tool_name_get(const struct mx_tool *t, char *name)
{
	uint64_t	w[MX_TOOL_NAME_WORDS];
	int		i;

	for (i = 0; i < MX_TOOL_NAME_WORDS; i++)
		w[i] = MX_GET(&t->t_name[i]);
	memcpy(name, w, sizeof(w));
	name[sizeof(w) - 1] = '\0';
}

int
mx_tool_entry(struct scoreboard *sb, const char *name, const uint8_t *keep)
{
	struct mx_tool	*t;
	uint64_t	 w[MX_TOOL_NAME_WORDS];
	char		 have[sizeof(w)];
	int		 i, k, free_at = -1, spare = -1;

	if (sb == NULL || sb->sb_tools == NULL ||
	    strlen(name) >= sizeof(w))
		return -1;
	for (i = 0; i < MX_TOOLS_MAX; i++) {
		t = &sb->sb_tools->x_tool[i];
		tool_name_get(t, have);
		if (have[0] == '\0') {
			if (free_at == -1)
				free_at = i;
			continue;
		}
		if (strcmp(have, name) == 0)
			return i;
		if (spare == -1 && !keep[i])
			spare = i;
	}
	if ((i = free_at != -1 ? free_at : spare) == -1)
		return -1;
	/* a seqlock's writer: odd while the entry changes names */
	t = &sb->sb_tools->x_tool[i];
	MX_SET(&t->t_seq, MX_GET(&t->t_seq) + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memset(w, 0, sizeof(w));
	memcpy(w, name, strlen(name));
	for (k = 0; k < MX_TOOL_NAME_WORDS; k++)
		MX_SET(&t->t_name[k], w[k]);
	MX_SET(&t->t_running, 0);
	for (k = 0; k < MX_RUNS; k++)
		MX_SET(&t->t_runs[k], 0);
	__atomic_store_n(&t->t_seq, MX_GET(&t->t_seq) + 1, __ATOMIC_RELEASE);
	return i;
}

void
mx_tool_ran(struct scoreboard *sb, int entry, enum mx_run r)
{
	if (sb == NULL || sb->sb_tools == NULL || entry < 0 ||
	    entry >= MX_TOOLS_MAX || r >= MX_RUNS)
		return;
	MX_ADD(&sb->sb_tools->x_tool[entry].t_runs[r], 1);
}

void
mx_tool_running(struct scoreboard *sb, int entry, int delta)
{
	struct mx_tool	*t;

	if (sb == NULL || sb->sb_tools == NULL || entry < 0 ||
	    entry >= MX_TOOLS_MAX)
		return;
	t = &sb->sb_tools->x_tool[entry];
	if (delta < 0 && MX_GET(&t->t_running) < (uint64_t)-delta)
		MX_SET(&t->t_running, 0);
	else
		MX_SET(&t->t_running, MX_GET(&t->t_running) + delta);
}

void
mx_tools_idle(struct scoreboard *sb)
{
	int i;

	if (sb == NULL || sb->sb_tools == NULL)
		return;
	for (i = 0; i < MX_TOOLS_MAX; i++)
		MX_SET(&sb->sb_tools->x_tool[i].t_running, 0);
}

/* A reader's copy of the entries in use. */
struct tool_row {
	char		name[MX_TOOL_NAME_WORDS * 8];
	uint64_t	running;
	uint64_t	runs[MX_RUNS];
};

struct tool_rows {
	struct tool_row	*r;
	size_t		 n;
};

#define TOOL_READ_TRIES		4	/* an entry changing names, then skip */

static void
tools_copy(const struct scoreboard *sb, struct tool_rows *rows)
{
	const struct mx_tool	*t;
	struct tool_row		 row;
	uint64_t		 s1, s2;
	int			 i, k, try;

	rows->n = 0;
	if (sb->sb_tools == NULL || (rows->r = calloc(MX_TOOLS_MAX,
	    sizeof(*rows->r))) == NULL)
		return;
	for (i = 0; i < MX_TOOLS_MAX; i++) {
		t = &sb->sb_tools->x_tool[i];
		for (try = 0; try < TOOL_READ_TRIES; try++) {
			s1 = __atomic_load_n(&t->t_seq, __ATOMIC_ACQUIRE);
			if (s1 & 1)
				continue;
			tool_name_get(t, row.name);
			row.running = MX_GET(&t->t_running);
			for (k = 0; k < MX_RUNS; k++)
				row.runs[k] = MX_GET(&t->t_runs[k]);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = MX_GET(&t->t_seq);
			if (s1 == s2)
				break;
		}
		if (try < TOOL_READ_TRIES && row.name[0] != '\0')
			rows->r[rows->n++] = row;
	}
}

unsigned
mx_bucket(uint64_t us)
{
	unsigned msb, shift;

	if (us < 2 * MX_HIST_SUB)
		return (unsigned)us;
	if (us > MX_HIST_MAX_US)
		us = MX_HIST_MAX_US;
	msb = 63 - (unsigned)__builtin_clzll(us);
	shift = msb - 7;
	return (shift + 1) * MX_HIST_SUB + (unsigned)((us >> shift) -
	    MX_HIST_SUB);
}

uint64_t
mx_bucket_low(unsigned b)
{
	unsigned shift;

	if (b < 2 * MX_HIST_SUB)
		return b;
	shift = b / MX_HIST_SUB - 1;
	return (uint64_t)(MX_HIST_SUB + b % MX_HIST_SUB) << shift;
}

uint64_t
mx_bucket_high(unsigned b)
{
	if (b < 2 * MX_HIST_SUB)
		return b;
	return mx_bucket_low(b) + (1ULL << (b / MX_HIST_SUB - 1)) - 1;
}

void
mx_hist_add(struct mx_hist *h, uint64_t us)
{
	MX_ADD(&h->h_b[mx_bucket(us)], 1);
	MX_ADD(&h->h_count, 1);
	MX_ADD(&h->h_sum_us, us);
}

uint64_t
mx_hist_quantile(const struct mx_hist *h, double q)
{
	uint64_t	n = 0, rank, count = 0;
	unsigned	b;

	for (b = 0; b < MX_HIST_BUCKETS; b++)
		count += h->h_b[b];
	if (count == 0)
		return 0;
	rank = (uint64_t)(q * (double)count + 0.5);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	for (b = 0; b < MX_HIST_BUCKETS; b++) {
		n += h->h_b[b];
		if (n >= rank)
			return (mx_bucket_low(b) + mx_bucket_high(b)) / 2;
	}
	return MX_HIST_MAX_US;
}

void
mx_request(struct sb_metrics *m, enum mx_method meth, enum mx_outcome o,
    uint64_t us)
{
	if (m == NULL)
		return;
	MX_ADD(&m->m_req[meth][o], 1);
	mx_hist_add(&m->m_lat[meth], us);
}

/* Add b into a, reading b with relaxed atomics (another process writes it) */
void
mx_hist_merge(struct mx_hist *a, const struct mx_hist *b)
{
	unsigned k;

	if (MX_GET(&b->h_count) == 0)
		return;		/* never touched: leave its pages alone */
	a->h_count += MX_GET(&b->h_count);
	a->h_sum_us += MX_GET(&b->h_sum_us);
	for (k = 0; k < MX_HIST_BUCKETS; k++)
		a->h_b[k] += MX_GET(&b->h_b[k]);
}

void
mx_merge(struct sb_metrics *a, const struct sb_metrics *b)
{
	unsigned i, k;

	for (i = 0; i < MX_METHODS; i++) {
		for (k = 0; k < MX_OUTCOMES; k++)
			a->m_req[i][k] += MX_GET(&b->m_req[i][k]);
		mx_hist_merge(&a->m_lat[i], &b->m_lat[i]);
	}
	for (i = 0; i < MX_REASONS; i++)
		a->m_rejected[i] += MX_GET(&b->m_rejected[i]);
	for (i = 0; i < MX_GAUGES; i++)
		a->m_gauge[i] += MX_GET(&b->m_gauge[i]);
}

void
mx_collect(const struct scoreboard *sb, struct sb_metrics *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	if (sb->sb_metrics == NULL)
		return;
	for (i = 0; i < SB_SLOTS; i++)
		if (i == 0 || SB_GET(&sb->sb_slots[i], s_state) != SB_FREE)
			mx_merge(out, &sb->sb_metrics[i]);
}

void
mx_retire(struct scoreboard *sb, uint32_t slot)
{
	struct sb_metrics	*m, *z;
	unsigned		 i, k;

	if (sb->sb_metrics == NULL || slot == 0 || slot >= SB_SLOTS)
		return;
	m = &sb->sb_metrics[slot];
	z = &sb->sb_metrics[0];
	for (i = 0; i < MX_METHODS; i++) {
		for (k = 0; k < MX_OUTCOMES; k++)
			MX_ADD(&z->m_req[i][k], MX_GET(&m->m_req[i][k]));
		if (MX_GET(&m->m_lat[i].h_count) != 0) {
			MX_ADD(&z->m_lat[i].h_count,
			    MX_GET(&m->m_lat[i].h_count));
			MX_ADD(&z->m_lat[i].h_sum_us,
			    MX_GET(&m->m_lat[i].h_sum_us));
			for (k = 0; k < MX_HIST_BUCKETS; k++)
				MX_ADD(&z->m_lat[i].h_b[k],
				    MX_GET(&m->m_lat[i].h_b[k]));
		}
	}
	for (i = 0; i < MX_REASONS; i++)
		MX_ADD(&z->m_rejected[i], MX_GET(&m->m_rejected[i]));
	memset(m, 0, sizeof(*m));
}

/* figures that live in the slots themselves */
struct sb_sums {
	uint64_t	conns, accepted, restarts, procs, ready;
};

static void
slot_sums(const struct scoreboard *sb, struct sb_sums *s)
{
	const struct sb_slot	*p;
	uint32_t		 i;

	memset(s, 0, sizeof(*s));
	s->accepted = SB_HDR_GET(sb, SB_H_ACCEPTED_GONE);
	for (i = 1; i < SB_SLOTS; i++) {
		p = &sb->sb_slots[i];
		if (SB_GET(p, s_state) == SB_FREE)
			continue;
		s->procs++;
		if (SB_GET(p, s_state) == SB_READY)
			s->ready++;
		s->conns += SB_GET(p, s_conns);
		s->accepted += SB_GET(p, s_accepted);
		s->restarts += SB_GET(p, s_restarts);
	}
}

/*
 * The version, the start, and the resident memory and descriptors of the
 * processes by role, as each process last put them in its slot.
 */
static void
write_process(FILE *fp, const struct scoreboard *sb)
{
	static const char *const roles[] = {
		"supervisor", "agent", "runner", "worker"
	};
	uint64_t	 rss[4] = { 0 }, fds[4] = { 0 };
	const struct sb_slot *p;
	const char	*r;
	uint32_t	 i;
	unsigned	 k;

	fprintf(fp, "# HELP mcpd_build_info The version of mcpd running.\n"
	    "# TYPE mcpd_build_info gauge\nmcpd_build_info{version=\"%s\"} 1\n"
	    "# HELP mcpd_start_time_seconds When the daemon started (its "
	    "supervisor), seconds since the epoch.\n"
	    "# TYPE mcpd_start_time_seconds gauge\n"
	    "mcpd_start_time_seconds %.3f\n", PACKAGE_VERSION,
	    SB_HDR_GET(sb, SB_H_START_WALL_MS) / 1000.0);
	for (i = 0; i < SB_SLOTS; i++) {
		p = &sb->sb_slots[i];
		if (i != 0 && SB_GET(p, s_state) == SB_FREE)
			continue;
		r = i == 0 ? "supervisor" :
		    role_name((enum proc_role)SB_GET(p, s_role));
		for (k = 0; k < 4; k++)
			if (strcmp(r, roles[k]) == 0)
				break;
		if (k == 4)
			continue;
		rss[k] += SB_GET(p, s_rss);
		fds[k] += SB_GET(p, s_fds);
	}
	fprintf(fp, "# HELP mcpd_resident_memory_bytes Resident memory of the "
	    "processes, by role.\n# TYPE mcpd_resident_memory_bytes gauge\n");
	for (k = 0; k < 4; k++)
		fprintf(fp, "mcpd_resident_memory_bytes{role=\"%s\"} %llu\n",
		    roles[k], (unsigned long long)rss[k]);
	fprintf(fp, "# HELP mcpd_open_fds Open file descriptors of the "
	    "processes, by role.\n# TYPE mcpd_open_fds gauge\n");
	for (k = 0; k < 4; k++)
		fprintf(fp, "mcpd_open_fds{role=\"%s\"} %llu\n", roles[k],
		    (unsigned long long)fds[k]);
}

static void
write_prometheus(FILE *fp, const struct scoreboard *sb,
    const struct sb_metrics *m, const struct sb_sums *s,
    const struct tool_rows *tr)
{
	uint64_t		 cum;
	unsigned		 i, k, b, e;
	size_t			 t;
	fprintf(fp, "# HELP mcp_server_operation_duration_seconds Time from "
	    "a request's arrival to its answer, by MCP method.\n"
	    "# TYPE mcp_server_operation_duration_seconds histogram\n");
	for (i = 0; i < MX_METHODS; i++) {
		const struct mx_hist *h = &m->m_lat[i];

		if (h->h_count == 0)
			continue;
		cum = 0;
		b = 0;
		for (e = 0; e < sizeof(le_bounds) / sizeof(le_bounds[0]);
		    e++) {
			uint64_t lim = (uint64_t)(le_bounds[e] * 1e6 + 0.5);

			/* the buckets wholly at or under the bound */
			for (; b < MX_HIST_BUCKETS && mx_bucket_high(b) <= lim;
			    b++)
				cum += h->h_b[b];
			fprintf(fp, "mcp_server_operation_duration_seconds_bucket"
			    "{mcp_method_name=\"%s\",le=\"%g\"} %llu\n",
			    method_names[i], le_bounds[e],
			    (unsigned long long)cum);
		}
		fprintf(fp, "mcp_server_operation_duration_seconds_bucket"
		    "{mcp_method_name=\"%s\",le=\"+Inf\"} %llu\n",
		    method_names[i], (unsigned long long)h->h_count);
		fprintf(fp, "mcp_server_operation_duration_seconds_sum"
		    "{mcp_method_name=\"%s\"} %.6f\n", method_names[i],
		    (double)h->h_sum_us / 1e6);
		fprintf(fp, "mcp_server_operation_duration_seconds_count"
		    "{mcp_method_name=\"%s\"} %llu\n", method_names[i],
		    (unsigned long long)h->h_count);
	}
	fprintf(fp, "# HELP mcpd_requests_total Requests answered, by MCP "
	    "method and outcome (ok, error: the client's, failure: the "
	    "server's, rejected: refused under load).\n"
	    "# TYPE mcpd_requests_total counter\n");
	for (i = 0; i < MX_METHODS; i++)
		for (k = 0; k < MX_OUTCOMES; k++)
			if (m->m_req[i][k] != 0 || k == MX_OK)
				fprintf(fp, "mcpd_requests_total{mcp_method_name="
				    "\"%s\",outcome=\"%s\"} %llu\n",
				    method_names[i], outcome_names[k],
				    (unsigned long long)m->m_req[i][k]);
	fprintf(fp, "# HELP mcpd_rejections_total Connections and requests "
	    "refused, and streams dropped, by reason.\n"
	    "# TYPE mcpd_rejections_total counter\n");
	for (i = 0; i < MX_REASONS; i++)
		fprintf(fp, "mcpd_rejections_total{reason=\"%s\"} %llu\n",
		    reason_names[i], (unsigned long long)m->m_rejected[i]);
	for (i = 0; i < MX_GAUGES; i++)
		fprintf(fp, "# HELP %s %s.\n# TYPE %s gauge\n%s %llu\n",
		    gauge_names[i], gauge_help[i], gauge_names[i],
		    gauge_names[i], (unsigned long long)m->m_gauge[i]);
	fprintf(fp, "# HELP mcpd_connections Client connections open.\n"
	    "# TYPE mcpd_connections gauge\nmcpd_connections %llu\n"
	    "# HELP mcpd_connections_accepted_total Client connections "
	    "accepted since mcpd started.\n"
	    "# TYPE mcpd_connections_accepted_total counter\n"
	    "mcpd_connections_accepted_total %llu\n"
	    "# HELP mcpd_restarts_total Restarts of the processes running "
	    "now, added up.\n"
	    "# TYPE mcpd_restarts_total counter\nmcpd_restarts_total %llu\n"
	    "# HELP mcpd_processes Child processes running.\n"
	    "# TYPE mcpd_processes gauge\nmcpd_processes %llu\n"
	    "# HELP mcpd_processes_ready Child processes ready.\n"
	    "# TYPE mcpd_processes_ready gauge\nmcpd_processes_ready %llu\n",
	    (unsigned long long)s->conns, (unsigned long long)s->accepted,
	    (unsigned long long)s->restarts, (unsigned long long)s->procs,
	    (unsigned long long)s->ready);
	write_process(fp, sb);
	fprintf(fp, "# HELP mcpd_alert_tier The alert tier: 0 green, 1 yellow, "
	    "2 red, 3 emergency.\n# TYPE mcpd_alert_tier gauge\n"
	    "mcpd_alert_tier %llu\n"
	    "# HELP mcpd_shedding 1 while the emergency response refuses new "
	    "work.\n# TYPE mcpd_shedding gauge\nmcpd_shedding %llu\n",
	    (unsigned long long)SB_HDR_GET(sb, SB_H_ALERT_TIER),
	    (unsigned long long)SB_HDR_GET(sb, SB_H_SHEDDING));
	fprintf(fp, "# HELP mcpd_tool_runs_total Runs of exec tools ended, by "
	    "tool and outcome (ok, error: a non-zero exit, killed: a signal, "
	    "timeout, overflow: past max-output, failed_to_start, busy: "
	    "refused at its concurrency, cancelled).\n"
	    "# TYPE mcpd_tool_runs_total counter\n");
	for (t = 0; t < tr->n; t++)
		for (k = 0; k < MX_RUNS; k++)
			if (tr->r[t].runs[k] != 0 || k == MX_RUN_OK)
				fprintf(fp, "mcpd_tool_runs_total{tool=\"%s\","
				    "outcome=\"%s\"} %llu\n", tr->r[t].name,
				    run_names[k],
				    (unsigned long long)tr->r[t].runs[k]);
	fprintf(fp, "# HELP mcpd_tool_runs_in_progress Runs of exec tools "
	    "in progress, by tool.\n"
	    "# TYPE mcpd_tool_runs_in_progress gauge\n");
	for (t = 0; t < tr->n; t++)
		fprintf(fp, "mcpd_tool_runs_in_progress{tool=\"%s\"} %llu\n",
		    tr->r[t].name, (unsigned long long)tr->r[t].running);
	mx_cluster_prometheus(fp, sb);
}

static void
write_json(FILE *fp, const struct scoreboard *sb,
    const struct sb_metrics *m, const struct sb_sums *s,
    const struct tool_rows *tr)
{
	unsigned		 i, k, first = 1;
	size_t			 t;
	/* as mcpctl status --json spells it */
	fprintf(fp, "{\"alert\":{\"tier\":\"%s\",\"level\":%llu,"
	    "\"shedding\":%s},",
	    mx_tier_name(SB_HDR_GET(sb, SB_H_ALERT_TIER)),
	    (unsigned long long)SB_HDR_GET(sb, SB_H_ALERT_TIER),
	    SB_HDR_GET(sb, SB_H_SHEDDING) ? "true" : "false");
	fprintf(fp, "\"connections\":%llu,\"accepted\":%llu,\"restarts\":%llu,"
	    "\"processes\":%llu,\"ready\":%llu", (unsigned long long)s->conns,
	    (unsigned long long)s->accepted, (unsigned long long)s->restarts,
	    (unsigned long long)s->procs, (unsigned long long)s->ready);
	for (i = 0; i < MX_GAUGES; i++)
		fprintf(fp, ",\"%s\":%llu", gauge_names[i] + 5,
		    (unsigned long long)m->m_gauge[i]);
	fprintf(fp, ",\"rejections\":{");
	for (i = 0; i < MX_REASONS; i++)
		fprintf(fp, "%s\"%s\":%llu", i ? "," : "", reason_names[i],
		    (unsigned long long)m->m_rejected[i]);
	fprintf(fp, "},\"methods\":{");
	for (i = 0; i < MX_METHODS; i++) {
		const struct mx_hist *h = &m->m_lat[i];

		if (h->h_count == 0)
			continue;
		fprintf(fp, "%s\"%s\":{", first ? "" : ",", method_names[i]);
		first = 0;
		for (k = 0; k < MX_OUTCOMES; k++)
			fprintf(fp, "\"%s\":%llu,", outcome_names[k],
			    (unsigned long long)m->m_req[i][k]);
		fprintf(fp, "\"p50_us\":%llu,\"p95_us\":%llu,\"p99_us\":%llu,"
		    "\"max_us\":%llu}",
		    (unsigned long long)mx_hist_quantile(h, 0.50),
		    (unsigned long long)mx_hist_quantile(h, 0.95),
		    (unsigned long long)mx_hist_quantile(h, 0.99),
		    (unsigned long long)mx_hist_quantile(h, 1.0));
	}
	fprintf(fp, "},\"tools\":{");
	for (t = 0; t < tr->n; t++) {
		fprintf(fp, "%s\"%s\":{", t ? "," : "", tr->r[t].name);
		for (k = 0; k < MX_RUNS; k++)
			fprintf(fp, "\"%s\":%llu,", run_names[k],
			    (unsigned long long)tr->r[t].runs[k]);
		fprintf(fp, "\"in_progress\":%llu}",
		    (unsigned long long)tr->r[t].running);
	}
	fprintf(fp, "}}\n");
}

static void
fmt_us(char *buf, size_t len, uint64_t us)
{
	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1fms", us / 1e3);
	else
		snprintf(buf, len, "%.2fs", us / 1e6);
}

static void
write_table(FILE *fp, const struct scoreboard *sb,
    const struct sb_metrics *m, const struct sb_sums *s,
    const struct tool_rows *tr)
{
	char			 p50[16], p95[16], p99[16];
	unsigned		 i;
	size_t			 t;
	fprintf(fp, "alert tier %s%s\n",
	    mx_tier_name(SB_HDR_GET(sb, SB_H_ALERT_TIER)),
	    SB_HDR_GET(sb, SB_H_SHEDDING) ? ", shedding load" : "");
	fprintf(fp, "connections %llu (accepted %llu), processes %llu "
	    "(%llu ready), restarts %llu\n", (unsigned long long)s->conns,
	    (unsigned long long)s->accepted, (unsigned long long)s->procs,
	    (unsigned long long)s->ready, (unsigned long long)s->restarts);
	fprintf(fp, "sessions %llu, listen streams %llu, tasks %llu, "
	    "pending %llu, output queued %llu bytes\n",
	    (unsigned long long)m->m_gauge[MX_G_SESSIONS],
	    (unsigned long long)m->m_gauge[MX_G_LISTENERS],
	    (unsigned long long)m->m_gauge[MX_G_TASKS],
	    (unsigned long long)m->m_gauge[MX_G_PENDING],
	    (unsigned long long)m->m_gauge[MX_G_OUTPUT_BYTES]);
	fprintf(fp, "registry %llu records, %llu replay events, %llu bytes, "
	    "lag %llu bytes\n",
	    (unsigned long long)m->m_gauge[MX_G_REGISTRY_RECORDS],
	    (unsigned long long)m->m_gauge[MX_G_REGISTRY_EVENTS],
	    (unsigned long long)m->m_gauge[MX_G_REGISTRY_BYTES],
	    (unsigned long long)m->m_gauge[MX_G_REGISTRY_LAG]);
	fprintf(fp, "rejections:");
	for (i = 0; i < MX_REASONS; i++)
		fprintf(fp, " %s %llu", reason_names[i],
		    (unsigned long long)m->m_rejected[i]);
	fprintf(fp, "\n\n%-26s %9s %7s %7s %8s %8s %8s %8s\n", "METHOD",
	    "OK", "ERROR", "FAILURE", "REJECTED", "P50", "P95", "P99");
	for (i = 0; i < MX_METHODS; i++) {
		const struct mx_hist *h = &m->m_lat[i];

		if (h->h_count == 0)
			continue;
		fmt_us(p50, sizeof(p50), mx_hist_quantile(h, 0.50));
		fmt_us(p95, sizeof(p95), mx_hist_quantile(h, 0.95));
		fmt_us(p99, sizeof(p99), mx_hist_quantile(h, 0.99));
		fprintf(fp, "%-26s %9llu %7llu %7llu %8llu %8s %8s %8s\n",
		    method_names[i], (unsigned long long)m->m_req[i][MX_OK],
		    (unsigned long long)m->m_req[i][MX_ERROR],
		    (unsigned long long)m->m_req[i][MX_FAILURE],
		    (unsigned long long)m->m_req[i][MX_REJECTED], p50, p95, p99);
	}
	if (tr->n == 0)
		return;
	fprintf(fp, "\n%-26s %9s %7s %7s %7s %8s %7s %7s %9s %7s\n", "TOOL",
	    "OK", "ERROR", "KILLED", "TIMEOUT", "OVERFLOW", "NOSTART", "BUSY",
	    "CANCELLED", "RUNNING");
	for (t = 0; t < tr->n; t++) {
		const uint64_t *r = tr->r[t].runs;

		fprintf(fp, "%-26s %9llu %7llu %7llu %7llu %8llu %7llu %7llu "
		    "%9llu %7llu\n", tr->r[t].name,
		    (unsigned long long)r[MX_RUN_OK],
		    (unsigned long long)r[MX_RUN_ERROR],
		    (unsigned long long)r[MX_RUN_KILLED],
		    (unsigned long long)r[MX_RUN_TIMEOUT],
		    (unsigned long long)r[MX_RUN_OVERFLOW],
		    (unsigned long long)r[MX_RUN_FAILED_TO_START],
		    (unsigned long long)r[MX_RUN_BUSY],
		    (unsigned long long)r[MX_RUN_CANCELLED],
		    (unsigned long long)tr->r[t].running);
	}
}

/*
 * A report of the whole node: every slot's figures added up, written by fn
 * into a string of *len bytes (malloc'd), or NULL.
 */
static char *
report(const struct scoreboard *sb, size_t *len,
    void (*fn)(FILE *, const struct scoreboard *, const struct sb_metrics *,
    const struct sb_sums *, const struct tool_rows *))
{
	struct sb_metrics	*m;
	struct sb_sums		 s;
	struct tool_rows	 tr = { NULL, 0 };
	FILE			*fp;
	char			*buf = NULL;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	mx_collect(sb, m);
	slot_sums(sb, &s);
	tools_copy(sb, &tr);
	if ((fp = open_memstream(&buf, len)) == NULL) {
		free(tr.r);
		free(m);
		return NULL;
	}
	fn(fp, sb, m, &s, &tr);
	if (fclose(fp) != 0) {
		free(buf);
		buf = NULL;
	}
	free(tr.r);
	free(m);
	return buf;
}

char *
mx_prometheus(const struct scoreboard *sb, size_t *len)
{
	return report(sb, len, write_prometheus);
}

char *
mx_json(const struct scoreboard *sb, size_t *len)
{
	return report(sb, len, write_json);
}

char *
mx_table(const struct scoreboard *sb, size_t *len)
{
	return report(sb, len, write_table);
}
