"""test_watchdog.py -- a worker whose event loop stops turning (SIGSTOP, as
a blocked or wedged process would) is killed by the supervisor's watchdog
after watchdog-timeout, the log says so, and a successor serves; children
whose loops turn are left alone.  Times come from the daemon's own log."""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

WATCHDOG_S = 2.0
BEAT_S = 0.5                # a child's heartbeat, and the supervisor's look
LATE_S = 1.0                # what a busy machine may add


def test_stopped_worker_is_replaced():
    d = T.Daemon(keys={"workers": "2", "watchdog-timeout": "2s"})
    d.start()
    try:
        st = d.status()
        old = d.row(st, "worker", 0)["pid"]
        os.kill(old, signal.SIGSTOP)
        m = d.wait_log(r"supervisor: worker 0 \(pid %d\): its event loop "
                       r"has not turned for ([\d.]+) s \(watchdog-timeout "
                       r"2\.000 s\); killing it" % old, timeout=15)
        stalled = float(m[0].group(1))
        T.info("killed after %.3f s without a turn of its loop" % stalled)
        # more than the timeout; late by at most a beat, a look and a
        # busy machine's delay
        check(WATCHDOG_S < stalled <= WATCHDOG_S + 2 * BEAT_S + LATE_S,
              "killed %.3f s into the stall, want %.1f s (+%.1f)" %
              (stalled, WATCHDOG_S, 2 * BEAT_S + LATE_S))
        d.wait_log(r"supervisor: worker 0 \(pid %d\) exited on signal 9"
                   % old, timeout=10)
        st = d.wait_ready(timeout=10, workers=2)
        new = d.row(st, "worker", 0)["pid"]
        check(new != old, "worker 0 is a new process (pid %d)" % new)
        check(not T.alive(old), "the stopped worker (pid %d) is gone" % old)
        seen = T.workers_answering(d.http_port, {0, 1}, timeout=10)
        check(seen >= {0, 1}, "both workers answer: %r" % sorted(seen))
        # the others turned their loops all along: nobody else was killed
        check_eq(len(d.log_lines(r"has not turned")), 1, "watchdog kills")
    finally:
        d.stop()


def test_turning_loops_are_left_alone():
    d = T.Daemon(keys={"workers": "2", "watchdog-timeout": "2s"})
    d.start()
    try:
        pids = d.pids()
        # an idle daemon: every loop turns at least at each heartbeat
        time.sleep(3 * WATCHDOG_S)
        check_eq(d.log_lines(r"has not turned"), [], "no watchdog kill")
        check_eq(d.pids(), pids, "the same processes")
    finally:
        d.stop()


def test_whole_node_frozen():
    """Every process of the daemon stopped together (SIGSTOP of the node,
    a paused machine) for longer than watchdog-timeout: woken, the
    supervisor sees that it did not run either, and judges the children
    from then on -- none is killed, and all serve.  A child stopped
    alone afterwards is still killed."""
    d = T.Daemon(keys={"workers": "2", "watchdog-timeout": "2s"})
    d.start()
    try:
        pids = d.pids()
        every = [p for p in pids.values() if p]
        for p in every:
            os.kill(p, signal.SIGSTOP)
        time.sleep(2 * WATCHDOG_S + 1)
        # the supervisor first: it looks while the children still sleep
        os.kill(pids["supervisor"], signal.SIGCONT)
        time.sleep(BEAT_S)
        for p in every:
            os.kill(p, signal.SIGCONT)
        d.wait_log(r"watchdog: the supervisor itself did not run for "
                   r"[\d.]+ s", timeout=5)
        time.sleep(WATCHDOG_S + 2 * BEAT_S)
        check_eq(d.log_lines(r"has not turned"), [], "no watchdog kill")
        check_eq(d.pids(), pids, "the same processes")
        seen = T.workers_answering(d.http_port, {0, 1}, timeout=10)
        check(seen >= {0, 1}, "both workers answer: %r" % sorted(seen))
        old = d.row(d.status(), "worker", 1)["pid"]
        os.kill(old, signal.SIGSTOP)
        d.wait_log(r"supervisor: worker 1 \(pid %d\): its event loop "
                   r"has not turned" % old, timeout=15)
    finally:
        d.stop()


def test_off():
    d = T.Daemon(keys={"workers": "1", "watchdog-timeout": "0s"})
    d.start()
    try:
        old = d.row(d.status(), "worker", 0)["pid"]
        os.kill(old, signal.SIGSTOP)
        time.sleep(WATCHDOG_S + 2 * BEAT_S + 1)
        check_eq(d.log_lines(r"has not turned"), [], "no watchdog when off")
        check(T.alive(old), "the stopped worker is still there")
        os.kill(old, signal.SIGCONT)
    finally:
        d.stop()


if __name__ == "__main__":
    T.main([test_stopped_worker_is_replaced, test_turning_loops_are_left_alone,
            test_whole_node_frozen, test_off])
