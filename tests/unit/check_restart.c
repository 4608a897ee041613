/*
 * NAME
 *	check_restart.c -- unit tests of the restart policy
 *
 * DESCRIPTION
 *	The supervision rules (OTP restart types, strategies, intensity,
 *	auto_shutdown; the crash-loop throttle) checked on the pure state
 *	machine of supervisor/restart.c with made-up times.  Times start at
 *	T0 because ready_ms == 0 means "never READY".
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restart.h"

#define T0	1000000		/* ms; any monotonic clock reading */

static struct rs_sup	 sup;
static struct rs_decision d;

static const enum conf_strategy strategies[] = {
	STRATEGY_ONE_FOR_ONE,
	STRATEGY_ONE_FOR_ALL,
	STRATEGY_REST_FOR_ONE,
	STRATEGY_SIMPLE_ONE_FOR_ONE
};
#define NSTRATEGIES	(sizeof(strategies) / sizeof(strategies[0]))

static void
defaults(struct rs_params *p, enum conf_strategy strategy)
{
	memset(p, 0, sizeof(*p));
	p->strategy = strategy;
	p->max_restarts = DEF_RESTART_INTENSITY;
	p->period_ms = DEF_RESTART_PERIOD_MS;
	p->throttle_min_ms = DEF_THROTTLE_MIN_MS;
	p->throttle_max_ms = DEF_THROTTLE_MAX_MS;
	p->reset_ms = DEF_THROTTLE_RESET_MS;
	p->auto_shutdown = AUTO_SHUTDOWN_NEVER;
}

static void
setup(enum conf_strategy strategy, enum conf_auto_shutdown as)
{
	struct rs_params p;

	defaults(&p, strategy);
	p.auto_shutdown = as;
	rs_init(&sup, &p);
}

/* Add a child and bring it to state s (started at T0, READY at T0 + 100). */
static size_t
child(enum conf_restart restart, int significant, enum rs_state s)
{
	int i;

	i = rs_add(&sup, restart, significant);
	ck_assert_int_ge(i, 0);
	switch (s) {
	case RS_IDLE:
		break;
	case RS_STARTING:
		rs_started(&sup, i, T0);
		break;
	case RS_RUNNING:
		rs_started(&sup, i, T0);
		rs_ready(&sup, i, T0 + 100);
		break;
	case RS_GONE:
		rs_started(&sup, i, T0);
		rs_exited(&sup, i, RS_EXIT_NORESTART, T0 + 50, &d);
		ck_assert_int_eq(sup.c[i].state, RS_GONE);
		break;
	}
	return ((size_t)i);
}

static void
ck_list(const size_t *got, size_t ngot, const size_t *want, size_t nwant)
{
	size_t k;

	ck_assert_uint_eq(ngot, nwant);
	for (k = 0; k < nwant; k++)
		ck_assert_msg(got[k] == want[k], "[%zu]: got %zu, want %zu",
		    k, got[k], want[k]);
}

#define CK_STOP(...) do {						\
	const size_t want_[] = { __VA_ARGS__ };				\
	ck_list(d.stop, d.nstop, want_, sizeof(want_) / sizeof(size_t)); \
} while (0)
#define CK_START(...) do {						\
	const size_t want_[] = { __VA_ARGS__ };				\
	ck_list(d.start, d.nstart, want_, sizeof(want_) / sizeof(size_t)); \
} while (0)

#define CK_REASON(s)	ck_assert_msg(strstr(d.reason, (s)) != NULL,	\
			    "reason \"%s\" lacks \"%s\"", d.reason, (s))

/* Basics */

START_TEST(test_init_add_pop)
{
	struct rs_params	p;
	size_t			k;

	defaults(&p, STRATEGY_REST_FOR_ONE);
	p.max_restarts = 7;
	memset(&sup, 0xa5, sizeof(sup));
	rs_init(&sup, &p);
	ck_assert_uint_eq(sup.n, 0);
	ck_assert_uint_eq(sup.nhist, 0);
	ck_assert_int_eq(sup.p.strategy, STRATEGY_REST_FOR_ONE);
	ck_assert_uint_eq(sup.p.max_restarts, 7);
	ck_assert_uint_eq(sup.p.period_ms, DEF_RESTART_PERIOD_MS);

	ck_assert_int_eq(rs_add(&sup, RESTART_PERMANENT, 0), 0);
	ck_assert_int_eq(rs_add(&sup, RESTART_TRANSIENT, 1), 1);
	ck_assert_int_eq(rs_add(&sup, RESTART_TEMPORARY, 0), 2);
	ck_assert_uint_eq(sup.n, 3);
	ck_assert_int_eq(sup.c[1].restart, RESTART_TRANSIENT);
	ck_assert_int_eq(sup.c[1].significant, 1);
	ck_assert_int_eq(sup.c[2].significant, 0);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(sup.c[k].state, RS_IDLE);
		ck_assert_uint_eq(sup.c[k].throttle_ms, 0);
		ck_assert_uint_eq(sup.c[k].restarts, 0);
		ck_assert_uint_eq(sup.c[k].ready_ms, 0);
	}

	rs_pop(&sup);
	ck_assert_uint_eq(sup.n, 2);
	ck_assert_int_eq(rs_add(&sup, RESTART_PERMANENT, 0), 2);
	ck_assert_int_eq(sup.c[2].restart, RESTART_PERMANENT);
	ck_assert_int_eq(sup.c[2].state, RS_IDLE);
	rs_pop(&sup);
	rs_pop(&sup);
	rs_pop(&sup);
	ck_assert_uint_eq(sup.n, 0);
	rs_pop(&sup);
	ck_assert_uint_eq(sup.n, 0);
}
END_TEST

START_TEST(test_add_full)
{
	size_t k;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	for (k = 0; k < RS_CHILDREN_MAX; k++)
		ck_assert_int_eq(rs_add(&sup, RESTART_PERMANENT, 0), (int)k);
	ck_assert_int_eq(rs_add(&sup, RESTART_PERMANENT, 0), -1);
	ck_assert_uint_eq(sup.n, RS_CHILDREN_MAX);
	rs_pop(&sup);
	ck_assert_int_eq(rs_add(&sup, RESTART_TEMPORARY, 0),
	    RS_CHILDREN_MAX - 1);
}
END_TEST

/* A popped child's slot is clean and no longer takes part in decisions. */
START_TEST(test_pop_excluded)
{
	size_t a, b, c;

	setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_NEVER);
	a = child(RESTART_PERMANENT, 0, RS_RUNNING);
	b = child(RESTART_PERMANENT, 0, RS_RUNNING);
	c = child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_pop(&sup);
	ck_assert_int_eq(sup.c[c].state, RS_IDLE);
	rs_exited(&sup, a, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	CK_STOP(b);
	CK_START(a, b);
}
END_TEST

START_TEST(test_lifecycle)
{
	size_t i;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_started(&sup, i, T0);
	ck_assert_int_eq(sup.c[i].state, RS_STARTING);
	ck_assert_uint_eq(sup.c[i].started_ms, T0);
	ck_assert_uint_eq(sup.c[i].ready_ms, 0);
	rs_ready(&sup, i, T0 + 250);
	ck_assert_int_eq(sup.c[i].state, RS_RUNNING);
	ck_assert_uint_eq(sup.c[i].ready_ms, T0 + 250);
	rs_started(&sup, i, T0 + 1000);
	ck_assert_uint_eq(sup.c[i].ready_ms, 0);
	ck_assert_uint_eq(sup.c[i].started_ms, T0 + 1000);

	/* a throttled child stopped on purpose keeps its backoff */
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 1100, &d);
	ck_assert_uint_eq(d.delay_ms, 2000);
	ck_assert_int_eq(sup.c[i].state, RS_IDLE);
	rs_started(&sup, i, T0 + 3100);
	rs_stopped(&sup, i);
	ck_assert_int_eq(sup.c[i].state, RS_IDLE);
	ck_assert_uint_eq(sup.c[i].throttle_ms, 2000);
	ck_assert_uint_eq(sup.nhist, 1);
	rs_started(&sup, i, T0 + 4000);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 4100, &d);
	ck_assert_uint_eq(d.delay_ms, 4000);
}
END_TEST

/* rs_stopped() does not revive a child that will not be restarted. */
START_TEST(test_stopped_keeps_gone)
{
	size_t i;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_GONE);
	rs_stopped(&sup, i);
	ck_assert_int_eq(sup.c[i].state, RS_GONE);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(rs_state_name(RS_IDLE), "idle");
	ck_assert_str_eq(rs_state_name(RS_STARTING), "starting");
	ck_assert_str_eq(rs_state_name(RS_RUNNING), "running");
	ck_assert_str_eq(rs_state_name(RS_GONE), "gone");
	ck_assert_str_eq(rs_action_name(RS_NONE), "none");
	ck_assert_str_eq(rs_action_name(RS_RESTART), "restart");
	ck_assert_str_eq(rs_action_name(RS_ESCALATE), "escalate");
	ck_assert_str_eq(rs_action_name(RS_SHUTDOWN), "shutdown");
	ck_assert_ptr_nonnull(rs_state_name((enum rs_state)42));
	ck_assert_ptr_nonnull(rs_action_name((enum rs_action)42));
}
END_TEST

START_TEST(test_out_of_range)
{
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	memset(&d, 0xa5, sizeof(d));
	rs_exited(&sup, 5, RS_EXIT_ABNORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	ck_assert_uint_eq(d.nstop, 0);
	ck_assert_uint_eq(d.nstart, 0);
	ck_assert_uint_eq(d.delay_ms, 0);
	ck_assert_uint_eq(sup.nhist, 0);
	rs_started(&sup, 5, T0);
	rs_ready(&sup, 5, T0);
	rs_stopped(&sup, 5);
	ck_assert_uint_eq(sup.n, 1);
}
END_TEST

/* Restart types x exit kinds x strategies */

/*
 * Three running children of one restart type; the middle one ends.  Loop
 * index: strategy.
 */
START_TEST(test_matrix)
{
	static const enum conf_restart types[] = {
		RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY
	};
	static const enum rs_exit exits[] = {
		RS_EXIT_NORMAL, RS_EXIT_ABNORMAL, RS_EXIT_NORESTART
	};
	/* [type][exit]: restarted? (OTP table, plus exit 78 never) */
	static const int want[3][3] = {
		{ 1, 1, 0 },
		{ 0, 1, 0 },
		{ 0, 0, 0 }
	};
	enum conf_strategy	 st = strategies[_i];
	size_t			 t, e, k;

	for (t = 0; t < 3; t++) {
		for (e = 0; e < 3; e++) {
			setup(st, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
			child(types[t], 0, RS_RUNNING);
			child(types[t], 0, RS_RUNNING);
			child(types[t], 0, RS_RUNNING);
			memset(&d, 0xa5, sizeof(d));
			rs_exited(&sup, 1, exits[e], T0 + 60000, &d);
			ck_assert_ptr_nonnull(memchr(d.reason, '\0',
			    sizeof(d.reason)));
			ck_assert_msg(strlen(d.reason) > 0, "empty reason");
			if (!want[t][e]) {
				ck_assert_int_eq(d.action, RS_NONE);
				ck_assert_uint_eq(d.nstop, 0);
				ck_assert_uint_eq(d.nstart, 0);
				ck_assert_uint_eq(d.delay_ms, 0);
				ck_assert_int_eq(sup.c[1].state, RS_GONE);
				ck_assert_int_eq(sup.c[0].state, RS_RUNNING);
				ck_assert_int_eq(sup.c[2].state, RS_RUNNING);
				ck_assert_uint_eq(sup.nhist, 0);
				CK_REASON("not restarted");
				continue;
			}
			ck_assert_int_eq(d.action, RS_RESTART);
			ck_assert_int_eq(sup.c[1].state, RS_IDLE);
			ck_assert_uint_eq(sup.nhist, 1);
			CK_REASON("restart 1 of 5 allowed in 30.000 s");
			switch (st) {
			case STRATEGY_ONE_FOR_ALL:
				CK_STOP(2, 0);
				CK_START(0, 1, 2);
				CK_REASON("one_for_all: ");
				break;
			case STRATEGY_REST_FOR_ONE:
				CK_STOP(2);
				CK_START(1, 2);
				CK_REASON("rest_for_one: ");
				break;
			case STRATEGY_ONE_FOR_ONE:
				ck_assert_uint_eq(d.nstop, 0);
				CK_START(1);
				ck_assert_msg(strncmp(d.reason, "one_for_one: ",
				    13) == 0, "%s", d.reason);
				break;
			case STRATEGY_SIMPLE_ONE_FOR_ONE:
				ck_assert_uint_eq(d.nstop, 0);
				CK_START(1);
				CK_REASON("simple_one_for_one: ");
				break;
			}
			for (k = 0; k < 3; k++)
				ck_assert_uint_eq(sup.c[k].restarts,
				    st == STRATEGY_ONE_FOR_ALL ||
				    (st == STRATEGY_REST_FOR_ONE && k >= 1) ||
				    k == 1 ? 1 : 0);
		}
	}
}
END_TEST

START_TEST(test_reason_not_restarted)
{
	setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_NEVER);
	child(RESTART_TRANSIENT, 0, RS_RUNNING);
	child(RESTART_TEMPORARY, 0, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 0, RS_EXIT_NORMAL, T0 + 1000, &d);
	ck_assert_str_eq(d.reason,
	    "transient child exited normally: not restarted");
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, T0 + 1000, &d);
	ck_assert_str_eq(d.reason,
	    "temporary child exited abnormally: not restarted");
	rs_exited(&sup, 2, RS_EXIT_NORESTART, T0 + 1000, &d);
	ck_assert_str_eq(d.reason, "exit status 78: not restarted");
}
END_TEST

/* Exit 78 from a permanent child: gone, nobody else touched, no count. */
START_TEST(test_norestart_permanent)
{
	size_t k;

	setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
	for (k = 0; k < 4; k++)
		child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 1, RS_EXIT_NORESTART, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	ck_assert_uint_eq(d.nstop, 0);
	ck_assert_uint_eq(d.nstart, 0);
	ck_assert_int_eq(sup.c[1].state, RS_GONE);
	ck_assert_uint_eq(sup.c[1].restarts, 0);
	ck_assert_uint_eq(sup.nhist, 0);
	ck_assert_str_eq(d.reason, "exit status 78: not restarted");

	/* later group restarts leave it out */
	rs_exited(&sup, 3, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	CK_STOP(2, 0);
	CK_START(0, 2, 3);
}
END_TEST

/* Group restarts with GONE, IDLE and temporary children in the group */

static void
mixed_group(enum conf_strategy st)
{
	setup(st, AUTO_SHUTDOWN_NEVER);
	child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 0 */
	child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 1 */
	child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 2: ends */
	child(RESTART_TEMPORARY, 0, RS_RUNNING);	/* 3 */
	child(RESTART_PERMANENT, 0, RS_GONE);		/* 4 */
	child(RESTART_TRANSIENT, 0, RS_STARTING);	/* 5 */
	child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 6 */
	child(RESTART_TEMPORARY, 0, RS_IDLE);		/* 7 */
	child(RESTART_PERMANENT, 0, RS_IDLE);		/* 8: stopped */
}

START_TEST(test_one_for_all_group)
{
	size_t k;

	mixed_group(STRATEGY_ONE_FOR_ALL);
	rs_exited(&sup, 2, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	CK_STOP(6, 5, 3, 1, 0);
	CK_START(0, 1, 2, 5, 6, 8);
	ck_assert_int_eq(sup.c[3].state, RS_GONE);
	ck_assert_int_eq(sup.c[4].state, RS_GONE);
	ck_assert_int_eq(sup.c[7].state, RS_GONE);
	ck_assert_int_eq(sup.c[2].state, RS_IDLE);
	/* the caller stops the others; it does not un-GONE 3 */
	for (k = 0; k < d.nstop; k++)
		rs_stopped(&sup, d.stop[k]);
	ck_assert_int_eq(sup.c[3].state, RS_GONE);
	ck_assert_int_eq(sup.c[0].state, RS_IDLE);
	for (k = 0; k < sup.n; k++)
		ck_assert_uint_eq(sup.c[k].restarts,
		    k == 3 || k == 4 || k == 7 ? 0 : 1);
}
END_TEST

START_TEST(test_rest_for_one_group)
{
	mixed_group(STRATEGY_REST_FOR_ONE);
	rs_exited(&sup, 2, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	CK_STOP(6, 5, 3);
	CK_START(2, 5, 6, 8);
	ck_assert_int_eq(sup.c[0].state, RS_RUNNING);
	ck_assert_int_eq(sup.c[1].state, RS_RUNNING);
	ck_assert_int_eq(sup.c[3].state, RS_GONE);
	ck_assert_int_eq(sup.c[7].state, RS_GONE);
	ck_assert_uint_eq(sup.c[0].restarts, 0);
	ck_assert_uint_eq(sup.c[1].restarts, 0);
	ck_assert_uint_eq(sup.c[2].restarts, 1);
	ck_assert_uint_eq(sup.c[6].restarts, 1);
}
END_TEST

/* The first and the last child under rest_for_one. */
START_TEST(test_rest_for_one_edges)
{
	size_t k;

	setup(STRATEGY_REST_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	for (k = 0; k < 4; k++)
		child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 0, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	CK_STOP(3, 2, 1);
	CK_START(0, 1, 2, 3);

	setup(STRATEGY_REST_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	for (k = 0; k < 4; k++)
		child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 3, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_uint_eq(d.nstop, 0);
	CK_START(3);
}
END_TEST

/* A one_for_one restart leaves temporary siblings alone. */
START_TEST(test_one_for_one_temporary_sibling)
{
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	child(RESTART_TEMPORARY, 0, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	CK_START(1);
	ck_assert_int_eq(sup.c[0].state, RS_RUNNING);
}
END_TEST

/* Throttle */

/* Dies 100 ms after every start, before READY: 2, 4, ..., 60, 60 s. */
START_TEST(test_throttle_sequence)
{
	static const uint32_t want[] = {
		2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000
	};
	uint64_t	now = T0;
	size_t		k, i;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		rs_started(&sup, i, now);
		now += 100;
		rs_exited(&sup, i, RS_EXIT_ABNORMAL, now, &d);
		ck_assert_msg(d.action == RS_RESTART, "%zu: %s", k, d.reason);
		ck_assert_uint_eq(d.delay_ms, want[k]);
		ck_assert_uint_eq(sup.c[i].throttle_ms, want[k]);
		ck_assert_uint_eq(sup.c[i].restarts, k + 1);
		CK_REASON("died 0.100 s after start, before READY");
		now += d.delay_ms;
	}
	ck_assert_str_eq(d.reason, "one_for_one: restart 1 of 5 allowed in "
	    "30.000 s; died 0.100 s after start, before READY: "
	    "throttled 60.000 s");
}
END_TEST

/* READY but dead within reset_ms: still throttled, still doubling. */
START_TEST(test_throttle_after_ready)
{
	size_t i;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_started(&sup, i, T0);
	rs_ready(&sup, i, T0 + 500);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 3500, &d);
	ck_assert_uint_eq(d.delay_ms, 2000);
	CK_REASON("died 3.000 s after READY (healthy at 10.000 s): "
	    "throttled 2.000 s");

	rs_started(&sup, i, T0 + 6000);
	rs_ready(&sup, i, T0 + 7000);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 7000 + 9999, &d);
	ck_assert_uint_eq(d.delay_ms, 4000);
	ck_assert_uint_eq(sup.c[i].throttle_ms, 4000);
	CK_REASON("died 9.999 s after READY");
	CK_REASON("throttled 4.000 s");
}
END_TEST

/* Up reset_ms after READY: restarted at once, backoff forgotten. */
START_TEST(test_throttle_reset)
{
	uint64_t	now = T0;
	size_t		i, k;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	for (k = 0; k < 3; k++) {
		rs_started(&sup, i, now);
		rs_exited(&sup, i, RS_EXIT_ABNORMAL, now + 10, &d);
		now += 10 + d.delay_ms;
	}
	ck_assert_uint_eq(sup.c[i].throttle_ms, 8000);

	/* reset_ms - 1: not yet healthy */
	now += 40000;
	rs_started(&sup, i, now);
	rs_ready(&sup, i, now + 200);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, now + 200 + 9999, &d);
	ck_assert_uint_eq(d.delay_ms, 16000);

	/* exactly reset_ms: healthy */
	now += 60000;
	rs_started(&sup, i, now);
	rs_ready(&sup, i, now + 200);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, now + 200 + 10000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	ck_assert_uint_eq(d.delay_ms, 0);
	ck_assert_uint_eq(sup.c[i].throttle_ms, 0);
	CK_REASON("died 10.000 s after READY: no delay");

	/* the next start-up crash begins at throttle_min_ms again */
	now += 60000;
	rs_started(&sup, i, now);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, now + 10, &d);
	ck_assert_uint_eq(d.delay_ms, 2000);
}
END_TEST

/* Each child has its own backoff; a group restart uses the dead child's. */
START_TEST(test_throttle_per_child)
{
	size_t a, b;

	setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_NEVER);
	a = child(RESTART_PERMANENT, 0, RS_STARTING);
	b = child(RESTART_PERMANENT, 0, RS_STARTING);
	rs_exited(&sup, a, RS_EXIT_ABNORMAL, T0 + 10, &d);
	ck_assert_uint_eq(d.delay_ms, 2000);
	rs_stopped(&sup, b);
	rs_started(&sup, a, T0 + 2010);
	rs_started(&sup, b, T0 + 2010);
	rs_exited(&sup, a, RS_EXIT_ABNORMAL, T0 + 2020, &d);
	ck_assert_uint_eq(d.delay_ms, 4000);
	rs_stopped(&sup, b);
	rs_started(&sup, a, T0 + 6020);
	rs_started(&sup, b, T0 + 6020);
	rs_exited(&sup, b, RS_EXIT_ABNORMAL, T0 + 6030, &d);
	ck_assert_uint_eq(d.delay_ms, 2000);
	ck_assert_uint_eq(sup.c[a].throttle_ms, 4000);
	ck_assert_uint_eq(sup.c[b].throttle_ms, 2000);
}
END_TEST

/* A restarted child that is not throttled yet, with odd limits. */
START_TEST(test_throttle_limits)
{
	struct rs_params	p;
	size_t			i;

	defaults(&p, STRATEGY_ONE_FOR_ONE);
	p.throttle_min_ms = 3000;
	p.throttle_max_ms = 5000;
	p.max_restarts = 100;
	rs_init(&sup, &p);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_started(&sup, i, T0);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 1, &d);
	ck_assert_uint_eq(d.delay_ms, 3000);
	rs_started(&sup, i, T0 + 2);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 3, &d);
	ck_assert_uint_eq(d.delay_ms, 5000);

	/* no overflow when doubling near UINT32_MAX */
	p.throttle_min_ms = UINT32_MAX - 1;
	p.throttle_max_ms = UINT32_MAX;
	rs_init(&sup, &p);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_started(&sup, i, T0);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 1, &d);
	ck_assert_uint_eq(d.delay_ms, UINT32_MAX - 1);
	rs_started(&sup, i, T0 + 2);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 3, &d);
	ck_assert_uint_eq(d.delay_ms, UINT32_MAX);

	/* throttle_min_ms 0: never a delay */
	p.throttle_min_ms = 0;
	rs_init(&sup, &p);
	i = child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_started(&sup, i, T0);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 1, &d);
	ck_assert_uint_eq(d.delay_ms, 0);
	rs_started(&sup, i, T0 + 2);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, T0 + 3, &d);
	ck_assert_uint_eq(d.delay_ms, 0);
}
END_TEST

/* Intensity */

/* Healthy child restarted at the given time. */
static void
crash_at(size_t i, uint64_t now)
{
	rs_started(&sup, i, now - 20000);
	rs_ready(&sup, i, now - 19000);
	rs_exited(&sup, i, RS_EXIT_ABNORMAL, now, &d);
}

START_TEST(test_intensity_boundary)
{
	size_t i, k;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 1; k <= 5; k++) {
		crash_at(i, T0 + k * 1000);
		ck_assert_msg(d.action == RS_RESTART, "%zu: %s", k, d.reason);
		ck_assert_uint_eq(d.delay_ms, 0);
	}
	CK_REASON("restart 5 of 5 allowed in 30.000 s");
	crash_at(i, T0 + 6000);
	ck_assert_int_eq(d.action, RS_ESCALATE);
	ck_assert_str_eq(d.reason,
	    "intensity exceeded: 6 restarts in 30.000 s (max 5)");
	ck_assert_uint_eq(d.nstart, 0);
	ck_assert_uint_eq(d.delay_ms, 0);
	ck_assert_uint_eq(sup.c[i].restarts, 5);
}
END_TEST

/* A restart exactly period_ms old no longer counts; 1 ms younger does. */
START_TEST(test_intensity_window)
{
	size_t i, k;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 1; k <= 5; k++)
		crash_at(i, T0 + k * 1000);
	crash_at(i, T0 + 1000 + 30000);
	ck_assert_msg(d.action == RS_RESTART, "%s", d.reason);
	CK_REASON("restart 5 of 5");
	ck_assert_uint_eq(sup.nhist, 5);

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 1; k <= 5; k++)
		crash_at(i, T0 + k * 1000);
	crash_at(i, T0 + 1000 + 29999);
	ck_assert_int_eq(d.action, RS_ESCALATE);

	/* spaced out, a crash loop never escalates */
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	i = child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 1; k <= 100; k++) {
		crash_at(i, T0 + k * 6000);
		ck_assert_int_eq(d.action, RS_RESTART);
	}
	ck_assert_uint_eq(sup.nhist, 5);
}
END_TEST

START_TEST(test_intensity_zero)
{
	struct rs_params p;

	defaults(&p, STRATEGY_ONE_FOR_ALL);
	p.max_restarts = 0;
	rs_init(&sup, &p);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_ESCALATE);
	CK_STOP(0);
	ck_assert_uint_eq(d.nstart, 0);
	ck_assert_str_eq(d.reason,
	    "intensity exceeded: 1 restarts in 30.000 s (max 0)");
}
END_TEST

/* Restarts of different children add up in one supervisor. */
START_TEST(test_intensity_shared)
{
	size_t k;

	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	for (k = 0; k < 6; k++)
		child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 0; k < 5; k++) {
		crash_at(k, T0 + 50000 + k);
		ck_assert_int_eq(d.action, RS_RESTART);
	}
	crash_at(5, T0 + 50005);
	ck_assert_int_eq(d.action, RS_ESCALATE);
}
END_TEST

/* Escalation stops every other live child, last started first. */
START_TEST(test_escalate_stop_list)
{
	struct rs_params	p;
	size_t			k;

	for (k = 0; k < NSTRATEGIES; k++) {
		defaults(&p, strategies[k]);
		p.max_restarts = 1;
		rs_init(&sup, &p);
		child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 0 */
		child(RESTART_TEMPORARY, 0, RS_STARTING);	/* 1 */
		child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 2 */
		child(RESTART_PERMANENT, 0, RS_GONE);		/* 3 */
		child(RESTART_TRANSIENT, 0, RS_RUNNING);	/* 4 */
		child(RESTART_PERMANENT, 0, RS_IDLE);		/* 5 */
		child(RESTART_PERMANENT, 0, RS_STARTING);	/* 6 */
		crash_at(2, T0 + 50000);
		ck_assert_int_eq(d.action, RS_RESTART);
		rs_started(&sup, 2, T0 + 50001);
		rs_exited(&sup, 2, RS_EXIT_ABNORMAL, T0 + 50002, &d);
		ck_assert_int_eq(d.action, RS_ESCALATE);
		if (strategies[k] == STRATEGY_ONE_FOR_ALL) {
			/* the first group restart dropped temporary 1 */
			CK_STOP(6, 4, 0);
		} else
			CK_STOP(6, 4, 1, 0);
		ck_assert_uint_eq(d.nstart, 0);
		ck_assert_uint_eq(d.delay_ms, 0);
		CK_REASON("2 restarts in 30.000 s (max 1)");
	}
}
END_TEST

/* max_restarts >= RS_HISTORY_MAX: the count saturates, never escalates. */
START_TEST(test_intensity_history_max)
{
	struct rs_params	p;
	size_t			i, k;

	defaults(&p, STRATEGY_ONE_FOR_ONE);
	p.max_restarts = RS_HISTORY_MAX - 1;
	rs_init(&sup, &p);
	i = child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 0; k < RS_HISTORY_MAX - 1; k++) {
		crash_at(i, T0 + 50000 + k);
		ck_assert_int_eq(d.action, RS_RESTART);
	}
	crash_at(i, T0 + 50000 + k);
	ck_assert_int_eq(d.action, RS_ESCALATE);
	ck_assert_uint_eq(sup.nhist, RS_HISTORY_MAX);

	p.max_restarts = RS_HISTORY_MAX + 10;
	rs_init(&sup, &p);
	i = child(RESTART_PERMANENT, 0, RS_RUNNING);
	for (k = 0; k < 3 * RS_HISTORY_MAX; k++) {
		crash_at(i, T0 + 50000 + k);
		ck_assert_int_eq(d.action, RS_RESTART);
		ck_assert_uint_le(sup.nhist, RS_HISTORY_MAX);
	}
	/* the newest are kept */
	ck_assert_uint_eq(sup.hist[RS_HISTORY_MAX - 1], T0 + 50000 + k - 1);
	ck_assert_uint_eq(sup.hist[0],
	    T0 + 50000 + k - RS_HISTORY_MAX);
	/* and they still expire */
	crash_at(i, T0 + 50000 + k - 1 + 30000);
	ck_assert_uint_eq(sup.nhist, 1);
}
END_TEST

/* auto_shutdown */

START_TEST(test_auto_shutdown_never)
{
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_NEVER);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);
	child(RESTART_TEMPORARY, 1, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 0, RS_EXIT_NORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	ck_assert_uint_eq(d.nstop, 0);
	ck_assert_int_eq(sup.c[0].state, RS_GONE);
	ck_assert_int_eq(sup.c[1].state, RS_GONE);
	ck_assert_int_eq(sup.c[2].state, RS_RUNNING);
}
END_TEST

START_TEST(test_auto_shutdown_any)
{
	size_t k;

	/* significant transient, normal exit: shut down */
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_GONE);
	child(RESTART_PERMANENT, 0, RS_STARTING);
	child(RESTART_TEMPORARY, 1, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_exited(&sup, 1, RS_EXIT_NORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_SHUTDOWN);
	CK_STOP(4, 3, 0);
	ck_assert_uint_eq(d.nstart, 0);
	ck_assert_uint_eq(d.delay_ms, 0);
	ck_assert_int_eq(sup.c[1].state, RS_GONE);
	ck_assert_uint_eq(sup.nhist, 0);
	CK_REASON("transient child exited normally: not restarted");
	CK_REASON("auto_shutdown any_significant");

	/* significant transient, abnormal exit: an ordinary restart */
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	CK_START(1);

	/* significant transient, exit 78: gone, but no shutdown */
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);
	rs_exited(&sup, 1, RS_EXIT_NORESTART, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	ck_assert_int_eq(sup.c[1].state, RS_GONE);

	/* significant temporary: any exit shuts down */
	for (k = 0; k < 3; k++) {
		setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
		child(RESTART_PERMANENT, 0, RS_RUNNING);
		child(RESTART_TEMPORARY, 1, RS_RUNNING);
		child(RESTART_PERMANENT, 0, RS_RUNNING);
		rs_exited(&sup, 1, (enum rs_exit)k, T0 + 1000, &d);
		ck_assert_int_eq(d.action, RS_SHUTDOWN);
		CK_STOP(2, 0);
		ck_assert_uint_eq(d.nstart, 0);
	}

	/* the same children, not significant: nothing */
	setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_ANY_SIGNIFICANT);
	child(RESTART_TRANSIENT, 0, RS_RUNNING);
	child(RESTART_TEMPORARY, 0, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 0, RS_EXIT_NORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	ck_assert_uint_eq(d.nstop, 0);
}
END_TEST

START_TEST(test_auto_shutdown_all)
{
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_ALL_SIGNIFICANT);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);	/* 0 */
	child(RESTART_PERMANENT, 0, RS_RUNNING);	/* 1 */
	child(RESTART_TEMPORARY, 1, RS_RUNNING);	/* 2 */
	child(RESTART_TRANSIENT, 1, RS_STARTING);	/* 3 */
	child(RESTART_PERMANENT, 0, RS_STARTING);	/* 4 */

	rs_exited(&sup, 0, RS_EXIT_NORMAL, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	ck_assert_uint_eq(d.nstop, 0);
	CK_REASON("2 significant left");

	/* an abnormal exit of a significant transient child is restarted */
	rs_exited(&sup, 3, RS_EXIT_ABNORMAL, T0 + 60000, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	rs_started(&sup, 3, T0 + 62000);

	rs_exited(&sup, 2, RS_EXIT_ABNORMAL, T0 + 63000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	CK_REASON("1 significant left");

	rs_exited(&sup, 3, RS_EXIT_NORMAL, T0 + 64000, &d);
	ck_assert_int_eq(d.action, RS_SHUTDOWN);
	CK_STOP(4, 1);
	ck_assert_uint_eq(d.nstart, 0);
	CK_REASON("auto_shutdown all_significant: shutting down");
}
END_TEST

/*
 * A significant child gone with exit 78 counts as gone for all_significant,
 * though it does not itself trigger the shutdown.
 */
START_TEST(test_auto_shutdown_all_with_78)
{
	setup(STRATEGY_ONE_FOR_ONE, AUTO_SHUTDOWN_ALL_SIGNIFICANT);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);
	child(RESTART_TRANSIENT, 1, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_exited(&sup, 0, RS_EXIT_NORESTART, T0 + 1000, &d);
	ck_assert_int_eq(d.action, RS_NONE);
	rs_exited(&sup, 1, RS_EXIT_NORMAL, T0 + 2000, &d);
	ck_assert_int_eq(d.action, RS_SHUTDOWN);
	CK_STOP(2);
}
END_TEST

/* Reason strings */

START_TEST(test_reason_example)
{
	uint64_t now = T0;

	setup(STRATEGY_ONE_FOR_ALL, AUTO_SHUTDOWN_NEVER);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	child(RESTART_PERMANENT, 0, RS_RUNNING);
	rs_started(&sup, 1, now);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, now += 100, &d);
	rs_started(&sup, 1, now += d.delay_ms);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, now += 100, &d);
	rs_started(&sup, 1, now += d.delay_ms);
	rs_exited(&sup, 1, RS_EXIT_ABNORMAL, now += 412, &d);
	ck_assert_str_eq(d.reason, "one_for_all: restart 3 of 5 allowed in "
	    "30.000 s; died 0.412 s after start, before READY: "
	    "throttled 8.000 s");
}
END_TEST

START_TEST(test_reason_long_numbers)
{
	struct rs_params p;

	defaults(&p, STRATEGY_SIMPLE_ONE_FOR_ONE);
	p.max_restarts = UINT32_MAX;
	p.period_ms = UINT32_MAX;
	p.throttle_min_ms = UINT32_MAX;
	p.throttle_max_ms = UINT32_MAX;
	p.reset_ms = UINT32_MAX;
	rs_init(&sup, &p);
	child(RESTART_PERMANENT, 0, RS_IDLE);
	rs_started(&sup, 0, 1);
	rs_ready(&sup, 0, 2);
	rs_exited(&sup, 0, RS_EXIT_ABNORMAL, UINT64_MAX / 2, &d);
	ck_assert_int_eq(d.action, RS_RESTART);
	ck_assert_uint_lt(strlen(d.reason), sizeof(d.reason));
	CK_REASON("4294967.295 s");
}
END_TEST

static Suite *
restart_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("restart");

	tc = tcase_create("basics");
	tcase_add_test(tc, test_init_add_pop);
	tcase_add_test(tc, test_add_full);
	tcase_add_test(tc, test_pop_excluded);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_stopped_keeps_gone);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_out_of_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("types");
	tcase_add_loop_test(tc, test_matrix, 0, NSTRATEGIES);
	tcase_add_test(tc, test_reason_not_restarted);
	tcase_add_test(tc, test_norestart_permanent);
	suite_add_tcase(s, tc);

	tc = tcase_create("strategies");
	tcase_add_test(tc, test_one_for_all_group);
	tcase_add_test(tc, test_rest_for_one_group);
	tcase_add_test(tc, test_rest_for_one_edges);
	tcase_add_test(tc, test_one_for_one_temporary_sibling);
	suite_add_tcase(s, tc);

	tc = tcase_create("throttle");
	tcase_add_test(tc, test_throttle_sequence);
	tcase_add_test(tc, test_throttle_after_ready);
	tcase_add_test(tc, test_throttle_reset);
	tcase_add_test(tc, test_throttle_per_child);
	tcase_add_test(tc, test_throttle_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("intensity");
	tcase_add_test(tc, test_intensity_boundary);
	tcase_add_test(tc, test_intensity_window);
	tcase_add_test(tc, test_intensity_zero);
	tcase_add_test(tc, test_intensity_shared);
	tcase_add_test(tc, test_escalate_stop_list);
	tcase_add_test(tc, test_intensity_history_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("auto_shutdown");
	tcase_add_test(tc, test_auto_shutdown_never);
	tcase_add_test(tc, test_auto_shutdown_any);
	tcase_add_test(tc, test_auto_shutdown_all);
	tcase_add_test(tc, test_auto_shutdown_all_with_78);
	suite_add_tcase(s, tc);

	tc = tcase_create("reason");
	tcase_add_test(tc, test_reason_example);
	tcase_add_test(tc, test_reason_long_numbers);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(restart_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
