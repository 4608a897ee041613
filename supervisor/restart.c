/*
 * NAME
 *	restart.c -- the restart policy of one supervisor
 *
 * DESCRIPTION
 *	rs_exited() turns "child i ended this way at this time" into one
 *	decision: whether it is restarted (OTP restart types, exit 78),
 *	whether a significant child ends the supervisor (auto_shutdown),
 *	whether the restart intensity is exceeded (escalation), how long to
 *	wait first (Dovecot-style crash-loop throttle) and which children to
 *	stop and start (OTP strategies).
 *
 *	Pure: no processes, no clock, no allocation, no logging.  The caller
 *	reports events with its monotonic time in milliseconds and carries out
 *	the decision; d->reason carries the numbers for its log line.
 *
 *	Intensity is counted per supervisor in hist[], which keeps only the
 *	newest RS_HISTORY_MAX restart times.  The count therefore saturates at
 *	RS_HISTORY_MAX: with max_restarts >= RS_HISTORY_MAX intensity can never
 *	be exceeded and only the throttle limits a crash loop.  Configuration
 *	should keep max_restarts below RS_HISTORY_MAX.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mcpd.h"
#include "restart.h"

/* a time in ms as "12.345", for "%llu.%03u" */
#define SECS_FMT	"%llu.%03u"
#define SECS(ms)	(unsigned long long)((ms) / 1000), \
			(unsigned int)((ms) % 1000)

static void	 reasonf(struct rs_decision *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 restarted(const struct rs_child *, enum rs_exit);
static void	 not_restarted(struct rs_sup *, size_t, enum rs_exit,
		    struct rs_decision *);
static size_t	 count_restart(struct rs_sup *, uint64_t);
static void	 throttle(struct rs_sup *, size_t, uint64_t,
		    struct rs_decision *);
static void	 stop_running(const struct rs_sup *, size_t, size_t,
		    struct rs_decision *);
static void	 start_group(struct rs_sup *, size_t, size_t,
		    struct rs_decision *);
static const char *strategy_name(enum conf_strategy);
static const char *auto_shutdown_name(enum conf_auto_shutdown);

void
rs_init(struct rs_sup *sup, const struct rs_params *p)
{
	memset(sup, 0, sizeof(*sup));
	sup->p = *p;
}

int
rs_add(struct rs_sup *sup, enum conf_restart restart, int significant)
{
	struct rs_child	*c;

	if (sup->n >= RS_CHILDREN_MAX)
		return (-1);
	c = &sup->c[sup->n];
	memset(c, 0, sizeof(*c));
	c->restart = restart;
	c->significant = significant != 0;
	c->state = RS_IDLE;
	return ((int)sup->n++);
}

void
rs_pop(struct rs_sup *sup)
{
	if (sup->n == 0)
		return;
	sup->n--;
	memset(&sup->c[sup->n], 0, sizeof(sup->c[sup->n]));
}

void
rs_started(struct rs_sup *sup, size_t i, uint64_t now)
{
	if (i >= sup->n)
		return;
	sup->c[i].state = RS_STARTING;
	sup->c[i].started_ms = now;
	sup->c[i].ready_ms = 0;
}

void
rs_ready(struct rs_sup *sup, size_t i, uint64_t now)
{
	if (i >= sup->n)
		return;
	sup->c[i].state = RS_RUNNING;
	sup->c[i].ready_ms = now;
}

/*
 * A GONE child stays GONE: a group restart marks the temporary children it
 * stops as GONE before the caller has stopped them and reports it here.
 */
void
rs_stopped(struct rs_sup *sup, size_t i)
{
	if (i >= sup->n || sup->c[i].state == RS_GONE)
		return;
	sup->c[i].state = RS_IDLE;
}

void
rs_exited(struct rs_sup *sup, size_t i, enum rs_exit how, uint64_t now,
    struct rs_decision *d)
{
	const struct rs_params	*p = &sup->p;
	struct rs_child		*c;
	size_t			 k, count;

	memset(d, 0, sizeof(*d));
	d->action = RS_NONE;
	if (i >= sup->n) {
		reasonf(d, "child %zu of %zu: no such child", i, sup->n);
		return;
	}
	c = &sup->c[i];

	if (!restarted(c, how)) {
		not_restarted(sup, i, how, d);
		return;
	}
	c->state = RS_IDLE;

	count = count_restart(sup, now);
	if (count > p->max_restarts) {
		d->action = RS_ESCALATE;
		stop_running(sup, 0, i, d);
		reasonf(d, "intensity exceeded: %zu restarts in " SECS_FMT
		    " s (max %u)", count, SECS(p->period_ms), p->max_restarts);
		return;
	}

	d->action = RS_RESTART;
	reasonf(d, "%s: restart %zu of %u allowed in " SECS_FMT " s; ",
	    strategy_name(p->strategy), count, p->max_restarts,
	    SECS(p->period_ms));
	throttle(sup, i, now, d);

	switch (p->strategy) {
	case STRATEGY_ONE_FOR_ALL:
		stop_running(sup, 0, i, d);
		start_group(sup, 0, i, d);
		break;
	case STRATEGY_REST_FOR_ONE:
		stop_running(sup, i + 1, i, d);
		start_group(sup, i, i, d);
		break;
	case STRATEGY_ONE_FOR_ONE:
	case STRATEGY_SIMPLE_ONE_FOR_ONE:
	default:
		d->start[d->nstart++] = i;
		break;
	}
	for (k = 0; k < d->nstart; k++)
		sup->c[d->start[k]].restarts++;
}

const char *
rs_state_name(enum rs_state s)
{
	switch (s) {
	case RS_IDLE:
		return ("idle");
	case RS_STARTING:
		return ("starting");
	case RS_RUNNING:
		return ("running");
	case RS_GONE:
		return ("gone");
	}
	return ("unknown");
}

const char *
rs_action_name(enum rs_action a)
{
	switch (a) {
	case RS_NONE:
		return ("none");
	case RS_RESTART:
		return ("restart");
	case RS_ESCALATE:
		return ("escalate");
	case RS_SHUTDOWN:
		return ("shutdown");
	}
	return ("unknown");
}

/* Append to d->reason; a line too long is cut, never overflowed. */
static void
reasonf(struct rs_decision *d, const char *fmt, ...)
{
	va_list	ap;
	size_t	len;

	len = strlen(d->reason);
	if (len + 1 >= sizeof(d->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(d->reason + len, sizeof(d->reason) - len, fmt, ap);
	va_end(ap);
}

static int
restarted(const struct rs_child *c, enum rs_exit how)
{
	if (how == RS_EXIT_NORESTART)
		return (0);
	switch (c->restart) {
	case RESTART_PERMANENT:
		return (1);
	case RESTART_TRANSIENT:
		return (how == RS_EXIT_ABNORMAL);
	case RESTART_TEMPORARY:
	default:
		return (0);
	}
}

static void
not_restarted(struct rs_sup *sup, size_t i, enum rs_exit how,
    struct rs_decision *d)
{
	struct rs_child	*c = &sup->c[i];
	size_t		 k, left;

	c->state = RS_GONE;
	if (how == RS_EXIT_NORESTART)
		reasonf(d, "exit status %d: not restarted", EXIT_NORESTART);
	else
		reasonf(d, "%s child exited %s: not restarted",
		    c->restart == RESTART_TEMPORARY ? "temporary" : "transient",
		    how == RS_EXIT_NORMAL ? "normally" : "abnormally");

	/* OTP: only a significant child ending by itself ends the supervisor */
	if (!c->significant || sup->p.auto_shutdown == AUTO_SHUTDOWN_NEVER)
		return;
	if (!(c->restart == RESTART_TEMPORARY ||
	    (c->restart == RESTART_TRANSIENT && how == RS_EXIT_NORMAL)))
		return;

	left = 0;
	for (k = 0; k < sup->n; k++)
		if (sup->c[k].significant && sup->c[k].state != RS_GONE)
			left++;
	if (sup->p.auto_shutdown == AUTO_SHUTDOWN_ALL_SIGNIFICANT &&
	    left > 0) {
		reasonf(d, "; %zu significant left (auto_shutdown %s)", left,
		    auto_shutdown_name(sup->p.auto_shutdown));
		return;
	}
	d->action = RS_SHUTDOWN;
	stop_running(sup, 0, i, d);
	reasonf(d, "; significant child gone, auto_shutdown %s: shutting down",
	    auto_shutdown_name(sup->p.auto_shutdown));
}

/*
 * Forget restarts period_ms old or older, record this one, return how many
 * fall within the period.  When the history is full the oldest is dropped,
 * which is why the count saturates at RS_HISTORY_MAX (see DESCRIPTION).
 */
static size_t
count_restart(struct rs_sup *sup, uint64_t now)
{
	size_t	k, keep;

	keep = 0;
	for (k = 0; k < sup->nhist; k++)
		if (sup->hist[k] + sup->p.period_ms > now)
			sup->hist[keep++] = sup->hist[k];
	if (keep == RS_HISTORY_MAX) {
		memmove(&sup->hist[0], &sup->hist[1],
		    (RS_HISTORY_MAX - 1) * sizeof(sup->hist[0]));
		keep--;
	}
	sup->hist[keep++] = now;
	sup->nhist = keep;
	return (keep);
}

/* Dovecot: a child that never got healthy waits, doubling, up to the cap. */
static void
throttle(struct rs_sup *sup, size_t i, uint64_t now, struct rs_decision *d)
{
	const struct rs_params	*p = &sup->p;
	struct rs_child		*c = &sup->c[i];
	uint64_t		 up, ready, next;

	up = now > c->started_ms ? now - c->started_ms : 0;
	ready = now > c->ready_ms ? now - c->ready_ms : 0;
	if (c->ready_ms != 0 && ready >= p->reset_ms) {
		c->throttle_ms = 0;
		d->delay_ms = 0;
		reasonf(d, "died " SECS_FMT " s after READY: no delay",
		    SECS(ready));
		return;
	}

	if (c->throttle_ms == 0)
		c->throttle_ms = p->throttle_min_ms;
	else {
		next = 2 * (uint64_t)c->throttle_ms;
		c->throttle_ms = next > p->throttle_max_ms ?
		    p->throttle_max_ms : (uint32_t)next;
	}
	d->delay_ms = c->throttle_ms;
	if (c->ready_ms == 0)
		reasonf(d, "died " SECS_FMT " s after start, before READY: "
		    "throttled " SECS_FMT " s", SECS(up), SECS(d->delay_ms));
	else
		reasonf(d, "died " SECS_FMT " s after READY (healthy at "
		    SECS_FMT " s): throttled " SECS_FMT " s", SECS(ready),
		    SECS(p->reset_ms), SECS(d->delay_ms));
}

/* OTP stops in reverse start order. */
static void
stop_running(const struct rs_sup *sup, size_t from, size_t except,
    struct rs_decision *d)
{
	size_t	k;

	for (k = sup->n; k-- > from;) {
		if (k == except)
			continue;
		if (sup->c[k].state == RS_STARTING ||
		    sup->c[k].state == RS_RUNNING)
			d->stop[d->nstop++] = k;
	}
}

/*
 * Children from index `from' on, in start order.  OTP drops a temporary child
 * that a group restart stops instead of restarting it.
 */
static void
start_group(struct rs_sup *sup, size_t from, size_t i, struct rs_decision *d)
{
	struct rs_child	*c;
	size_t		 k;

	for (k = from; k < sup->n; k++) {
		c = &sup->c[k];
		if (k != i && c->restart == RESTART_TEMPORARY)
			c->state = RS_GONE;
		if (c->state != RS_GONE)
			d->start[d->nstart++] = k;
	}
}

static const char *
strategy_name(enum conf_strategy s)
{
	switch (s) {
	case STRATEGY_ONE_FOR_ONE:
		return ("one_for_one");
	case STRATEGY_ONE_FOR_ALL:
		return ("one_for_all");
	case STRATEGY_REST_FOR_ONE:
		return ("rest_for_one");
	case STRATEGY_SIMPLE_ONE_FOR_ONE:
		return ("simple_one_for_one");
	}
	return ("unknown");
}

static const char *
auto_shutdown_name(enum conf_auto_shutdown a)
{
	switch (a) {
	case AUTO_SHUTDOWN_NEVER:
		return ("never");
	case AUTO_SHUTDOWN_ANY_SIGNIFICANT:
		return ("any_significant");
	case AUTO_SHUTDOWN_ALL_SIGNIFICANT:
		return ("all_significant");
	}
	return ("unknown");
}
