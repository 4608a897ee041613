/*
 * scoreboard.h -- shared memory with one slot per process.
 *
 * The supervisor creates it (a memfd) before the first fork and hands the fd
 * to every child with its slot index.  Each slot is written only by the
 * process that owns it -- the supervisor owns slot 0 and clears a child's
 * slot only after reaping it -- and read by anyone, without locks: fields are
 * single aligned 64-bit words stored with relaxed atomics.
 */
#ifndef MCPD_SCOREBOARD_H
#define MCPD_SCOREBOARD_H

#include <stdint.h>

#include "mcpd.h"

/* two generations of workers during a reload, plus agent, runner, us */
#define SB_SLOTS		(2 * (WORKERS_MAX + 2) + 1)
#define SB_MAGIC		0x6d637064736230ULL	/* "mcpdsb0" */
#define SB_VERSION		10

enum sb_state {
	SB_FREE,
	SB_STARTING,
	SB_READY,
	SB_DRAINING
};

struct sb_slot {
	uint64_t	s_pid;
	uint64_t	s_role;		/* enum proc_role */
	uint64_t	s_index;
	uint64_t	s_state;	/* enum sb_state */
	uint64_t	s_gen;
	uint64_t	s_start_ms;	/* CLOCK_REALTIME */
	uint64_t	s_restarts;
	uint64_t	s_conns;	/* open client connections */
	uint64_t	s_accepted;	/* connections accepted, total */
	uint64_t	s_beat_ms;	/* CLOCK_MONOTONIC: its loop turned */
	uint64_t	s_rss;		/* resident bytes (each beat) */
	uint64_t	s_fds;		/* open descriptors (SB_FDS_BEATS) */
	uint64_t	s_spare[4];	/* later issues: counters */
} __attribute__((aligned(64)));

struct sb_header {
	uint64_t	h_magic;
	uint64_t	h_version;
	uint64_t	h_nslots;
	uint64_t	h_spare[5];
} __attribute__((aligned(64)));

struct sb_metrics;
struct mx_tools;
struct mx_cluster;

struct scoreboard {
	struct sb_header	*sb_hdr;
	struct sb_slot		*sb_slots;
	struct sb_metrics	*sb_metrics;	/* one block per slot */
	struct mx_tools		*sb_tools;	/* the runner's, exec tools */
	struct mx_cluster	*sb_cluster;	/* the agent's, cluster link */
	size_t			 sb_size;
	int			 sb_fd;
};

int	sb_create(struct scoreboard *);
int	sb_attach(struct scoreboard *, int fd);
void	sb_detach(struct scoreboard *);
/* the supervisor: a slot is free again (its counters go to slot 0) */
void	sb_clear(struct scoreboard *, uint32_t slot);
/* the metrics block of a slot */
/* the client connections of every worker, as their slots say */
uint64_t sb_worker_conns(const struct scoreboard *);
struct sb_metrics *sb_metrics_of(const struct scoreboard *,
	    const struct sb_slot *);

/* words of the header the supervisor publishes (h_spare) */
#define SB_H_ALERT_TIER		0	/* 0 green .. 3 emergency */
#define SB_H_SHEDDING		1	/* 1: refuse new work */
#define SB_H_STOPPING		2	/* 1: a stop comes (shutdown-delay) */
#define SB_H_ACCEPTED_GONE	3	/* s_accepted of slots cleared */
#define SB_H_START_WALL_MS	4	/* the supervisor's start, realtime */

/* a process counts its descriptors every this many heartbeats */
#define SB_FDS_BEATS		10
/* a process's own figures in its slot: resident bytes, and (fds) its
 * descriptors -- a readdir of /proc/self/fd, not at every beat */
void	sb_usage(struct sb_slot *, int fds);
#define SB_HDR_SET(sb, i, v) \
	__atomic_store_n(&(sb)->sb_hdr->h_spare[i], (uint64_t)(v), \
	    __ATOMIC_RELAXED)
#define SB_HDR_GET(sb, i) \
	__atomic_load_n(&(sb)->sb_hdr->h_spare[i], __ATOMIC_RELAXED)

#define SB_SET(slot, field, v) \
	__atomic_store_n(&(slot)->field, (uint64_t)(v), __ATOMIC_RELAXED)
#define SB_GET(slot, field) \
	__atomic_load_n(&(slot)->field, __ATOMIC_RELAXED)
/* single writer: a relaxed load and store is enough, no lock prefix */
#define SB_ADD(slot, field, d) \
	SB_SET(slot, field, SB_GET(slot, field) + (d))

#endif
