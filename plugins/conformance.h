/*
 * conformance.h -- what the two halves of the conformance fixture plugin
 * share (conformance.c: the suite's 2025 scenarios; stateless.c: its
 * 2026-07-28 ones).
 */
#ifndef MCPD_CONFORMANCE_H
#define MCPD_CONFORMANCE_H

#include <stddef.h>

#include "plugin.h"

#define CF_HIDDEN	__attribute__((visibility("hidden")))

/* snprintf that fails instead of truncating: 0 or -1 */
int	cf_bprintf(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4))) CF_HIDDEN;
/* the 2026-07-28 fixtures */
int	conformance_stateless_init(struct mcpd_host *) CF_HIDDEN;
/* the tasks extension's */
int	conformance_tasks_init(struct mcpd_host *) CF_HIDDEN;
/* step-up authorization's (mcpd's own, not the suite's) */
int	conformance_scoped_init(struct mcpd_host *) CF_HIDDEN;

#endif
