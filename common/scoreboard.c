/*
 * scoreboard.c -- create and map the shared-memory scoreboard, and read
 * what its slots add up to.
 */
#include "config.h"

#include <sys/mman.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "scoreboard.h"

/*
 * The slots, then (page aligned) a metrics block per slot, then the
 * runner's block of exec tools, then the agent's of the cluster link
 * (metrics.h).
 */
static size_t
sb_metrics_off(void)
{
	size_t n = sizeof(struct sb_header) + SB_SLOTS * sizeof(struct sb_slot);

	return (n + 4095) & ~(size_t)4095;
}

static size_t
sb_tools_off(void)
{
	size_t n = sb_metrics_off() + SB_SLOTS * sizeof(struct sb_metrics);

	return (n + 4095) & ~(size_t)4095;
}

static size_t
sb_cluster_off(void)
{
	size_t n = sb_tools_off() + sizeof(struct mx_tools);

	return (n + 63) & ~(size_t)63;
}

static size_t
sb_bytes(void)
{
	return sb_cluster_off() + sizeof(struct mx_cluster);
}

struct sb_metrics *
sb_metrics_of(const struct scoreboard *sb, const struct sb_slot *s)
{
	if (sb->sb_metrics == NULL || s == NULL)
		return NULL;
	return &sb->sb_metrics[s - sb->sb_slots];
}

static int
sb_map(struct scoreboard *sb, int fd)
{
	void *p;

	sb->sb_size = sb_bytes();
	p = mmap(NULL, sb->sb_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	sb->sb_hdr = p;
	sb->sb_slots = (struct sb_slot *)((char *)p + sizeof(struct sb_header));
	sb->sb_metrics = (struct sb_metrics *)((char *)p + sb_metrics_off());
	sb->sb_tools = (struct mx_tools *)((char *)p + sb_tools_off());
	sb->sb_cluster = (struct mx_cluster *)((char *)p + sb_cluster_off());
	sb->sb_fd = fd;
	return 0;
}

int
sb_create(struct scoreboard *sb)
{
	int fd;

	if ((fd = memfd_create("mcpd-scoreboard", MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, sb_bytes()) == -1 || sb_map(sb, fd) == -1) {
		close(fd);
		return -1;
	}
	sb->sb_hdr->h_magic = SB_MAGIC;
	sb->sb_hdr->h_version = SB_VERSION;
	sb->sb_hdr->h_nslots = SB_SLOTS;
	return 0;
}

int
sb_attach(struct scoreboard *sb, int fd)
{
	if (sb_map(sb, fd) == -1)
		return -1;
	if (sb->sb_hdr->h_magic != SB_MAGIC ||
	    sb->sb_hdr->h_version != SB_VERSION ||
	    sb->sb_hdr->h_nslots != SB_SLOTS) {
		sb_detach(sb);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

void
sb_detach(struct scoreboard *sb)
{
	if (sb->sb_hdr != NULL)
		munmap(sb->sb_hdr, sb->sb_size);
	if (sb->sb_fd != -1)
		close(sb->sb_fd);
	memset(sb, 0, sizeof(*sb));
	sb->sb_fd = -1;
}

void
sb_clear(struct scoreboard *sb, uint32_t slot)
{
	struct sb_slot *s = &sb->sb_slots[slot];

	mx_retire(sb, slot);
	/* a counter never goes down: a dead process's accepts are kept */
	SB_HDR_SET(sb, SB_H_ACCEPTED_GONE, SB_HDR_GET(sb,
	    SB_H_ACCEPTED_GONE) + SB_GET(s, s_accepted));
	SB_SET(s, s_state, SB_FREE);
	SB_SET(s, s_pid, 0);
	SB_SET(s, s_conns, 0);
	SB_SET(s, s_accepted, 0);
}

uint64_t
sb_worker_conns(const struct scoreboard *sb)
{
	uint64_t	n = 0;
	uint32_t	i;

	for (i = 1; i < SB_SLOTS; i++)
		if (SB_GET(&sb->sb_slots[i], s_state) != SB_FREE &&
		    SB_GET(&sb->sb_slots[i], s_role) == ROLE_WORKER)
			n += SB_GET(&sb->sb_slots[i], s_conns);
	return n;
}

void
sb_usage(struct sb_slot *s, int fds)
{
	FILE			*f;
	DIR			*d;
	struct dirent		*e;
	unsigned long		 size, res;
	uint64_t		 n = 0;

	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%lu %lu", &size, &res) == 2)
			SB_SET(s, s_rss, (uint64_t)res *
			    (uint64_t)sysconf(_SC_PAGESIZE));
		fclose(f);
	}
	if (!fds || (d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	SB_SET(s, s_fds, n > 0 ? n - 1 : 0);	/* less the one we read */
}
