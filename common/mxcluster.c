/*
 * mxcluster.c -- the cluster link's figures (the agent's block of the
 * scoreboard, metrics.h struct mx_cluster) for /metrics and
 * mcpctl cluster.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "scoreboard.h"
#include "util.h"

#define COPY_TRIES	8	/* reads of the member rows while rewritten */

/* Prometheus histogram bounds, in seconds: Redis round trips */
static const double rtt_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5
};

struct cl_copy {
	struct mx_cluster	c;
	char			primary[sizeof(((struct mx_cluster *)0)->c_primary)
				    + 1];
	char			names[MX_MEMBERS_MAX][8 * MX_NODE_NAME_WORDS
				    + 1];
};

/* A copy of the block, its member rows consistent (c_seq even, same). */
static int
cl_copy(const struct scoreboard *sb, struct cl_copy *out)
{
	const struct mx_cluster	*c;
	uint64_t		 seq, w;
	unsigned		 i, k, tries;

	memset(out, 0, sizeof(*out));
	if (sb == NULL || (c = sb->sb_cluster) == NULL ||
	    MX_GET(&c->c_enabled) == 0)
		return -1;
	for (tries = 0; tries < COPY_TRIES; tries++) {
		seq = MX_GET(&c->c_seq);
		if (seq & 1)
			continue;
		out->c.c_nrows = MX_GET(&c->c_nrows);
		if (out->c.c_nrows > MX_MEMBERS_MAX)
			out->c.c_nrows = MX_MEMBERS_MAX;
		for (i = 0; i < out->c.c_nrows; i++) {
			for (k = 0; k < MX_NODE_NAME_WORDS; k++) {
				w = MX_GET(&c->c_rows[i].m_name[k]);
				memcpy(out->names[i] + 8 * k, &w, 8);
			}
			out->names[i][8 * MX_NODE_NAME_WORDS] = '\0';
			out->c.c_rows[i].m_epoch =
			    MX_GET(&c->c_rows[i].m_epoch);
			out->c.c_rows[i].m_records =
			    MX_GET(&c->c_rows[i].m_records);
		}
		if (MX_GET(&c->c_seq) == seq)
			break;
	}
	if (tries == COPY_TRIES)
		out->c.c_nrows = 0;
	out->c.c_enabled = 1;
	out->c.c_up = MX_GET(&c->c_up);
	out->c.c_down_since_ms = MX_GET(&c->c_down_since_ms);
	out->c.c_epoch = MX_GET(&c->c_epoch);
	out->c.c_members = MX_GET(&c->c_members);
	out->c.c_connects = MX_GET(&c->c_connects);
	out->c.c_lost = MX_GET(&c->c_lost);
	out->c.c_timeouts = MX_GET(&c->c_timeouts);
	out->c.c_commands = MX_GET(&c->c_commands);
	out->c.c_refused = MX_GET(&c->c_refused);
	out->c.c_fenced = MX_GET(&c->c_fenced);
	out->c.c_takeovers = MX_GET(&c->c_takeovers);
	out->c.c_lapses = MX_GET(&c->c_lapses);
	out->c.c_inflight = MX_GET(&c->c_inflight);
	out->c.c_fenced_now = MX_GET(&c->c_fenced_now);
	for (k = 0; k < sizeof(c->c_primary) / sizeof(c->c_primary[0]);
	    k++) {
		w = MX_GET(&c->c_primary[k]);
		memcpy(out->primary + 8 * k, &w, 8);
	}
	out->primary[sizeof(out->primary) - 1] = '\0';
	out->c.c_rtt.h_count = MX_GET(&c->c_rtt.h_count);
	out->c.c_rtt.h_sum_us = MX_GET(&c->c_rtt.h_sum_us);
	for (k = 0; k < MX_HIST_BUCKETS; k++)
		out->c.c_rtt.h_b[k] = MX_GET(&c->c_rtt.h_b[k]);
	return 0;
}

static void
counter(FILE *fp, const char *name, const char *help, uint64_t v)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
	    name, name, (unsigned long long)v);
}

static void
gauge(FILE *fp, const char *name, const char *help, uint64_t v)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help,
	    name, name, (unsigned long long)v);
}

void
mx_cluster_prometheus(FILE *fp, const struct scoreboard *sb)
{
	struct cl_copy	*cc;
	const struct mx_hist *h;
	uint64_t	 cum = 0;
	unsigned	 b = 0, e;

	if ((cc = malloc(sizeof(*cc))) == NULL)
		return;
	if (cl_copy(sb, cc) == -1) {
		free(cc);
		return;
	}
	gauge(fp, "mcpd_cluster_redis_up", "1 while the link to the Redis "
	    "primary is up", cc->c.c_up);
	gauge(fp, "mcpd_cluster_epoch", "This run's epoch (0: none yet)",
	    cc->c.c_epoch);
	gauge(fp, "mcpd_cluster_fenced", "1 when a newer run has this node's "
	    "id: this process claims nothing", cc->c.c_fenced_now);
	gauge(fp, "mcpd_cluster_members", "Nodes alive at the last look",
	    cc->c.c_members);
	gauge(fp, "mcpd_cluster_redis_inflight", "Redis commands waiting for "
	    "an answer", cc->c.c_inflight);
	counter(fp, "mcpd_cluster_redis_connects_total", "Links to the Redis "
	    "primary made", cc->c.c_connects);
	counter(fp, "mcpd_cluster_redis_lost_total", "Links to the Redis "
	    "primary lost", cc->c.c_lost);
	counter(fp, "mcpd_cluster_redis_timeouts_total", "Redis commands or "
	    "connects with no answer within redis-timeout", cc->c.c_timeouts);
	counter(fp, "mcpd_cluster_redis_commands_total", "Redis commands sent",
	    cc->c.c_commands);
	counter(fp, "mcpd_cluster_redis_refused_total", "Redis commands not "
	    "sent: the link was down", cc->c.c_refused);
	counter(fp, "mcpd_cluster_fenced_writes_total", "Writes Redis refused: "
	    "another node or a newer run owns what they were for",
	    cc->c.c_fenced);
	counter(fp, "mcpd_cluster_takeovers_total", "Sessions this node took "
	    "over from another", cc->c.c_takeovers);
	counter(fp, "mcpd_cluster_lapses_total", "Times this node's liveness "
	    "key had expired: the others took it for dead", cc->c.c_lapses);
	h = &cc->c.c_rtt;
	fprintf(fp, "# HELP mcpd_cluster_redis_seconds Round trips of Redis "
	    "commands.\n# TYPE mcpd_cluster_redis_seconds histogram\n");
	for (e = 0; e < sizeof(rtt_bounds) / sizeof(rtt_bounds[0]); e++) {
		uint64_t lim = (uint64_t)(rtt_bounds[e] * 1e6 + 0.5);

		for (; b < MX_HIST_BUCKETS && mx_bucket_high(b) <= lim; b++)
			cum += h->h_b[b];
		fprintf(fp, "mcpd_cluster_redis_seconds_bucket{le=\"%g\"} "
		    "%llu\n", rtt_bounds[e], (unsigned long long)cum);
	}
	fprintf(fp, "mcpd_cluster_redis_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "mcpd_cluster_redis_seconds_sum %.6f\n"
	    "mcpd_cluster_redis_seconds_count %llu\n",
	    (unsigned long long)h->h_count, (double)h->h_sum_us / 1e6,
	    (unsigned long long)h->h_count);
	free(cc);
}

/* mcpctl cluster: node is this node's id */
char *
mx_cluster_report(const struct scoreboard *sb, const char *node, int json,
    size_t *len)
{
	struct cl_copy	*cc;
	FILE		*fp;
	char		*buf = NULL;
	uint64_t	 now = wall_ms(), down;
	unsigned	 i;

	if ((cc = malloc(sizeof(*cc))) == NULL)
		return NULL;
	if ((fp = open_memstream(&buf, len)) == NULL) {
		free(cc);
		return NULL;
	}
	if (cl_copy(sb, cc) == -1) {
		if (json)
			fprintf(fp, "{\"cluster\":false}\n");
		else
			fprintf(fp, "not a cluster node (mcpd.conf has no "
			    "cluster block)\n");
		goto done;
	}
	down = cc->c.c_up || cc->c.c_down_since_ms == 0 ||
	    cc->c.c_down_since_ms > now ? 0 :
	    (now - cc->c.c_down_since_ms) / 1000;
	if (json) {
		fprintf(fp, "{\"cluster\":true,\"node\":\"%s\",\"epoch\":%llu,"
		    "\"fenced\":%s,\"redis\":{\"primary\":\"%s\",\"up\":%s,"
		    "\"down_seconds\":%llu,\"inflight\":%llu,"
		    "\"connects\":%llu,\"lost\":%llu,\"timeouts\":%llu,"
		    "\"commands\":%llu,\"refused\":%llu,\"rtt_p50_us\":%llu,"
		    "\"rtt_p99_us\":%llu},\"takeovers\":%llu,"
		    "\"fenced_writes\":%llu,\"lapses\":%llu,\"members\":[",
		    node, (unsigned long long)cc->c.c_epoch,
		    cc->c.c_fenced_now ? "true" : "false", cc->primary,
		    cc->c.c_up ? "true" : "false", (unsigned long long)down,
		    (unsigned long long)cc->c.c_inflight,
		    (unsigned long long)cc->c.c_connects,
		    (unsigned long long)cc->c.c_lost,
		    (unsigned long long)cc->c.c_timeouts,
		    (unsigned long long)cc->c.c_commands,
		    (unsigned long long)cc->c.c_refused,
		    (unsigned long long)mx_hist_quantile(&cc->c.c_rtt, 0.5),
		    (unsigned long long)mx_hist_quantile(&cc->c.c_rtt, 0.99),
		    (unsigned long long)cc->c.c_takeovers,
		    (unsigned long long)cc->c.c_fenced,
		    (unsigned long long)cc->c.c_lapses);
		for (i = 0; i < cc->c.c_nrows; i++)
			fprintf(fp, "%s{\"node\":\"%s\",\"epoch\":%llu,"
			    "\"records\":%llu}", i ? "," : "", cc->names[i],
			    (unsigned long long)cc->c.c_rows[i].m_epoch,
			    (unsigned long long)cc->c.c_rows[i].m_records);
		fprintf(fp, "]}\n");
		goto done;
	}
	fprintf(fp, "node %s, epoch %llu%s\n", node,
	    (unsigned long long)cc->c.c_epoch, cc->c.c_fenced_now ?
	    ", FENCED (a newer run has this node's id)" : "");
	if (cc->c.c_up)
		fprintf(fp, "redis %s up, %llu in flight, round trip p50 %lluus "
		    "p99 %lluus\n", cc->primary,
		    (unsigned long long)cc->c.c_inflight,
		    (unsigned long long)mx_hist_quantile(&cc->c.c_rtt, 0.5),
		    (unsigned long long)mx_hist_quantile(&cc->c.c_rtt, 0.99));
	else
		fprintf(fp, "redis %s DOWN for %llu s\n", cc->primary[0] ?
		    cc->primary : "(none yet)", (unsigned long long)down);
	fprintf(fp, "links made %llu, lost %llu, timeouts %llu; commands "
	    "%llu, refused %llu; takeovers %llu, fenced writes %llu, lapses "
	    "%llu\n", (unsigned long long)cc->c.c_connects,
	    (unsigned long long)cc->c.c_lost,
	    (unsigned long long)cc->c.c_timeouts,
	    (unsigned long long)cc->c.c_commands,
	    (unsigned long long)cc->c.c_refused,
	    (unsigned long long)cc->c.c_takeovers,
	    (unsigned long long)cc->c.c_fenced,
	    (unsigned long long)cc->c.c_lapses);
	fprintf(fp, "\n%-32s %10s %10s\n", "MEMBER", "EPOCH", "RECORDS");
	for (i = 0; i < cc->c.c_nrows; i++)
		fprintf(fp, "%-32s %10llu %10llu%s\n", cc->names[i],
		    (unsigned long long)cc->c.c_rows[i].m_epoch,
		    (unsigned long long)cc->c.c_rows[i].m_records,
		    strcmp(cc->names[i], node) == 0 ? "  (this node)" : "");
 done:
	free(cc);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
