"""test_intensity.py -- restart strategies (OTP) and intensity escalation."""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

ALL = ["agent", "runner", "worker 0", "worker 1"]


def daemon(strategy, **keys):
    k = {"workers": "2", "strategy": strategy, "throttle-reset": "1ms"}
    k.update({a.replace("_", "-"): v for a, v in keys.items()})
    return T.Daemon(keys=k, name=strategy)


def kill_and_compare(d, victim, want_new, timeout=5.0):
    """kill -9 one child; once every child is ready again, exactly the
    children in want_new have new pids (and the victim is gone)."""
    before = d.pids()
    mark = d.log_mark()
    os.kill(before[victim], signal.SIGKILL)
    d.wait_log(r"supervisor: %s \(pid %d\) exited on signal 9" %
               (victim, before[victim]), since=mark)

    def settled():
        st = d.wait_ready(timeout=timeout)
        now = d.pids(st)
        changed = sorted(n for n in ALL if now[n] != before[n])
        return (st, now, changed) if set(want_new) <= set(changed) else None
    st, now, changed = T.wait_until(settled, timeout, "%s restarted" %
                                    ", ".join(want_new))
    # a moment more: nothing else restarts late
    time.sleep(0.2)
    st = d.wait_ready(timeout=timeout)
    now = d.pids(st)
    changed = sorted(n for n in ALL if now[n] != before[n])
    check_eq(changed, sorted(want_new), "children with new pids after "
             "killing %s" % victim)
    check_eq(now["supervisor"], before["supervisor"], "supervisor pid")
    gone = [before[n] for n in want_new]
    left = T.wait_gone(gone, 10)
    check(not left, "old pids still running: %r" % left)
    for n in want_new:
        check(T.proc_stat(now[n])["ppid"] == d.pid,
              "new %s is not the supervisor's child" % n)
    # the group restart is in the log, in reverse start order
    stopped = [m.group(1) for m in d.log_lines(
        r"supervisor: (\S+(?: \d+)?): stopping for the group restart",
        since=mark)]
    check_eq(stopped, [n for n in reversed(ALL) if n in want_new and
                       n != victim],
             "children stopped for the group restart")
    return st


def test_one_for_one():
    d = daemon("one_for_one")
    d.start()
    kill_and_compare(d, "worker 0", ["worker 0"])
    kill_and_compare(d, "agent", ["agent"])
    kill_and_compare(d, "runner", ["runner"])
    st = kill_and_compare(d, "worker 1", ["worker 1"])
    check_eq([p["restarts"] for p in st["processes"][1:]], [1, 1, 1, 1],
             "restart counts")
    check_eq(d.stop(), 0, "exit status")


def test_one_for_all():
    d = daemon("one_for_all")
    d.start()
    st = kill_and_compare(d, "worker 0", ALL)
    check_eq([p["restarts"] for p in st["processes"][1:]], [1, 1, 1, 1],
             "restart counts")
    check_eq(d.healthz()["status"], "ok", "healthz")
    check_eq(d.stop(), 0, "exit status")


def test_rest_for_one():
    d = daemon("rest_for_one")
    d.start()
    kill_and_compare(d, "worker 0", ["worker 0", "worker 1"])
    kill_and_compare(d, "worker 1", ["worker 1"])
    kill_and_compare(d, "agent", ALL)
    kill_and_compare(d, "runner", ["runner", "worker 0", "worker 1"])
    check_eq(d.healthz()["status"], "ok", "healthz")
    check_eq(d.stop(), 0, "exit status")


def test_simple_one_for_one():
    d = daemon("simple_one_for_one")
    d.start()
    kill_and_compare(d, "worker 0", ["worker 0"])
    kill_and_compare(d, "agent", ["agent"])
    check_eq(d.stop(), 0, "exit status")


def check_escalated(d, pids, mark):
    rc = d.wait_exit(10)
    check_eq(rc, 2, "exit status after the intensity was exceeded")
    log = d.log()[mark:]
    check("intensity exceeded" in log, "no 'intensity exceeded' in the log")
    check(d.log_lines(r"supervisor: restart intensity exceeded: stopping "
                      r"\d+ processes", since=mark), "no stop line")
    check(d.log_lines(r"supervisor: exiting with status 2", since=mark),
          "no 'exiting with status 2' line")
    left = T.wait_gone(pids, 3)
    check(not left, "children left after the escalation: %r" % left)
    check(not os.path.exists(d.pidfile), "the pidfile is left")
    check(not os.path.exists(d.sock), "the control socket is left")


def test_escalation():
    d = daemon("one_for_one", restart_intensity="2", restart_period="60s")
    d.start()
    seen = set(d.pids().values())
    for i in range(2):
        st = kill_and_compare(d, "worker 0", ["worker 0"])
        seen.update(d.pids(st).values())
        m = d.log_lines(r"worker 0 \(pid \d+\) exited on signal 9 .*; "
                        r"restarting in 0\.000 s \(one_for_one: restart (\d) "
                        r"of 2 allowed in 60\.000 s")
        check_eq(len(m), i + 1, "restart lines")
        check_eq(m[-1].group(1), str(i + 1), "restart number")
    mark = d.log_mark()
    victim = d.pids()["worker 0"]
    os.kill(victim, signal.SIGKILL)
    m = d.wait_log(r"supervisor: worker 0 \(pid %d\) exited on signal 9 .*; "
                   r"escalate \(intensity exceeded: 3 restarts in 60\.000 s "
                   r"\(max 2\)\)" % victim, since=mark)
    check_escalated(d, seen, mark)


def test_intensity_zero():
    d = daemon("one_for_one", restart_intensity="0")
    st = d.start()
    pids = set(d.pids(st).values())
    mark = d.log_mark()
    os.kill(d.pids(st)["runner"], signal.SIGKILL)
    d.wait_log(r"supervisor: runner \(pid \d+\) exited on signal 9 .*; "
               r"escalate \(intensity exceeded: 1 restarts in 30\.000 s "
               r"\(max 0\)\)", since=mark)
    check_escalated(d, pids, mark)
    check(not d.log_lines(r"runner \(pid \d+, generation 1\) ready",
                          since=mark), "the runner was restarted")


def test_period_forgets():
    """Restarts older than restart-period do not count."""
    d = daemon("one_for_one", restart_intensity="1", restart_period="1s")
    d.start()
    kill_and_compare(d, "worker 1", ["worker 1"])
    time.sleep(1.1)
    kill_and_compare(d, "worker 1", ["worker 1"])
    check(d.running(), "mcpd exited")
    m = d.log_lines(r"one_for_one: restart (\d) of 1 allowed in 1\.000 s")
    check_eq([x.group(1) for x in m], ["1", "1"], "restart numbers")
    check_eq(d.stop(), 0, "exit status")


if __name__ == "__main__":
    T.main([test_one_for_one, test_one_for_all, test_rest_for_one,
            test_simple_one_for_one, test_escalation, test_intensity_zero,
            test_period_forgets])
