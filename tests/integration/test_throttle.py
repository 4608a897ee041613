"""test_throttle.py -- the crash-loop throttle, exit status 78 and the
READY deadline, with MCPD_FAULT."""

import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

# A restart or a kill is not early (but for a fork's few ms: the supervisor
# arms its timers on libev's loop time, taken before the fork); a busy
# machine (other builds and tests beside this one, a sanitized build) may
# make it late by this much.
EARLY_S = 0.05
LATE_S = 1.0


def wait_partly_ready(d, workers, timeout=10.0):
    """Agent, runner and the given workers ready (the others are not)."""
    def ok():
        if not d.running():
            raise T.TestFailure("mcpd exited; log:\n%s" % d.log()[-3000:])
        st = d.status(quiet=True)
        if st is None:
            return None
        for role, idx in [("agent", 0), ("runner", 0)] + \
                [("worker", i) for i in workers]:
            r = d.row(st, role, idx)
            if r is None or r["state"] != "ready":
                return None
        return st
    return T.wait_until(ok, timeout, "agent, runner and workers %r ready" %
                        (workers,))


def test_crash_loop_backoff():
    """worker 1 aborts at every start: restarts 2 s, 4 s, 8 s apart."""
    d = T.Daemon(keys={"workers": "2", "restart-intensity": "100"},
                 env={"MCPD_FAULT": "worker.1:crash-start"})
    d.start(wait=False)
    st = wait_partly_ready(d, [0])
    pid0 = d.worker_pids(st)[0]
    check_eq(st["state"], "starting", "daemon state while worker 1 never "
             "gets ready")

    # poll status and worker 0 while the loop goes on, in the background
    samples = []
    health = []
    stop = threading.Event()
    errors = []

    def poll():
        for _ in range(2000):
            if stop.is_set():
                return
            try:
                s = d.status(quiet=True)
                if s is not None:
                    samples.append((time.monotonic(), d.row(s, "worker", 1),
                                    d.row(s, "worker", 0)))
                health.append((time.time(), d.healthz()))
            except Exception as e:  # noqa: reported below
                errors.append(repr(e))
            stop.wait(0.1)
    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        # start 1 at t0; crash; +2 s start 2; +4 s start 3; +8 s start 4
        starts = d.wait_log(r"worker 1: MCPD_FAULT: crash-start", count=4,
                            timeout=20)
        crashes = d.wait_log(r"supervisor: worker 1 \(pid (\d+)\) exited on "
                             r"signal 6 \(Aborted\) after ([\d.]+) s; "
                             r"restarting in ([\d.]+) s \((.*)\)$",
                             count=4, timeout=5)
    finally:
        stop.set()
        th.join(5)
    st = d.status()
    delays = [c.group(3) for c in crashes[:4]]
    check_eq(delays, ["2.000", "4.000", "8.000", "16.000"],
             "the 'restarting in' delays")
    for i, c in enumerate(crashes[:4]):
        check(re.search(r"one_for_one: restart %d of 100 allowed in 30\.000 "
                        r"s; died [\d.]+ s after start, before READY: "
                        r"throttled %s s" % (i + 1, delays[i]), c.group(4)),
              "reason of crash %d: %r" % (i + 1, c.group(4)))
    times = [T.log_time(s.string) for s in starts[:4]]
    T.info("worker 1 started at +%s s" %
           ", +".join("%.3f" % (t - times[0]) for t in times))
    # The promise: restarted 2, 4, 8 s after the crash.  Judged on the
    # supervisor's clock, not on the child's (whose first line comes after
    # exec and its set-up, late on a busy machine): crash i is logged at
    # exit_i, the next process was forked at exit_{i+1} - up_{i+1} ("after
    # X s" is its uptime from fork), so it waited the difference.  A
    # restart never comes early; late only by what a busy machine delays
    # a timer.
    exits = [T.log_time(c.string) for c in crashes[:4]]
    ups = [float(c.group(2)) for c in crashes[:4]]
    waits = [round(exits[i + 1] - ups[i + 1] - exits[i], 3)
             for i in range(3)]
    T.info("restarted %s s after each crash (supervisor's clock)" %
           ", ".join("%.3f" % w for w in waits))
    for w, want in zip(waits, (2.0, 4.0, 8.0)):
        check(want - EARLY_S <= w <= want + LATE_S, "restarted %r s after "
              "the crashes, want 2, 4, 8 s (-%.2f/+%.1f)" %
              (waits, EARLY_S, LATE_S))
    # the pids differ each time
    pids = [int(c.group(1)) for c in crashes[:4]]
    check(len(set(pids)) == 4, "crashed pids %r" % pids)

    # status saw worker 1 throttled with a delay, restarts counting up
    throttled = [s for _, s, _ in samples
                 if s and s["state"] == "throttled"]
    check(throttled, "status never showed worker 1 throttled (%d samples)" %
          len(samples))
    check(all(s["restart_delay_ms"] > 0 and s["pid"] == 0
              for s in throttled if s["restart_delay_ms"] != 0) and
          any(s["restart_delay_ms"] > 1000 for s in throttled),
          "throttled rows: %r" % throttled[:3])
    check(max(s["restart_delay_ms"] for s in throttled) <= 16000,
          "restart_delay_ms above 16000: %r" %
          max(s["restart_delay_ms"] for s in throttled))
    restarts = [s["restarts"] for _, s, _ in samples if s]
    check(restarts == sorted(restarts) and restarts[-1] >= 3,
          "worker 1 restarts over time: %r" % sorted(set(restarts)))
    check_eq(d.row(st, "worker", 1)["restarts"], 4, "worker 1 restarts now")

    # worker 0 served all along, the same process
    # (the promise is that it answers, each time it is asked, through the
    # crash loop: a few answers, none failed, some while worker 1 waited
    # its 8 s -- not how many a polling loop managed on a busy machine)
    check(not errors, "status or healthz failed meanwhile: %r" % errors[:3])
    T.info("%d healthz answers, %d status samples" % (len(health),
                                                      len(samples)))
    check(len(health) >= 5, "only %d healthz answers" % len(health))
    check([h for t, h in health if exits[2] < t < times[3]],
          "no healthz answer while worker 1 waited its 8 s")
    check(all(h["pid"] == pid0 and h["worker"] == 0 for _, h in health),
          "healthz answered by %r, want worker 0 pid %d" %
          (sorted(set((h["worker"], h["pid"]) for _, h in health)), pid0))
    w0 = [s0 for _, _, s0 in samples if s0]
    check(all(s0["pid"] == pid0 and s0["state"] == "ready" for s0 in w0),
          "worker 0 changed meanwhile")
    check_eq(d.row(st, "worker", 0)["restarts"], 0, "worker 0 restarts")
    check(not d.log_lines(r"intensity exceeded"), "intensity exceeded")
    check_eq(d.stop(), 0, "exit status")


def test_exit_norestart():
    """Exit status 78: a permanent worker is not restarted."""
    d = T.Daemon(keys={"workers": "2", "throttle-min": "100ms"},
                 env={"MCPD_FAULT": "worker.0:exit-norestart"})
    d.start(wait=False)
    m = d.wait_log(r"supervisor: worker 0 \(pid (\d+)\) exited with status 78 "
                   r"after [\d.]+ s; not restarted \(exit status 78: not "
                   r"restarted\)")
    pid = int(m[0].group(1))
    st = wait_partly_ready(d, [1])
    # well past any throttle delay: still gone, never started again
    time.sleep(1.0)
    st = d.status()
    w0 = d.row(st, "worker", 0)
    check_eq(w0["state"], "gone", "worker 0 state")
    check_eq(w0["pid"], 0, "worker 0 pid")
    check_eq(w0["restarts"], 0, "worker 0 restarts")
    check_eq(len(d.log_lines(r"worker 0: MCPD_FAULT")), 1,
             "times worker 0 was started")
    check(not T.alive(pid), "worker 0 (pid %d) still there" % pid)
    # the others are fine
    check_eq(d.row(st, "worker", 1)["state"], "ready", "worker 1 state")
    for _ in range(5):
        j = d.healthz()
        check_eq(j["worker"], 1, "healthz worker")
    check_eq(d.stop(), 0, "exit status")


def test_gone_child_does_not_block_start():
    """A child gone for good is not waited for: once every other child is
    ready the daemon is started ('running', the 'started:' line, READY=1),
    whether it went before or after the others were ready.  The last child
    started is the one most likely to go after the others' READY."""
    d = T.Daemon(keys={"workers": "2"},
                 env={"MCPD_FAULT": "worker.1:exit-norestart"})
    d.start(wait=False)
    d.wait_log(r"supervisor: worker 1 \(pid \d+\) exited with status 78")
    st = wait_partly_ready(d, [0])
    order = [m.group(1) for m in d.log_lines(
        r"supervisor: (\S+(?: \d)?) \(pid \d+(?:, generation 1)?\) "
        r"(?:ready|exited)")]
    time.sleep(0.3)
    st = d.status()
    check_eq(d.row(st, "worker", 1)["state"], "gone", "worker 1 state")
    started = d.log_lines(r"supervisor: started: ")
    check(st["state"] == "running" and len(started) == 1,
          "daemon state %r and %d 'started:' lines once worker 1 is gone "
          "and every other child is ready (want 'running' and 1; order of "
          "the ready/exit lines: %s)" % (st["state"], len(started),
                                         ", ".join(order)))
    check_eq(d.stop(), 0, "exit status")


def test_ready_timeout():
    """A worker that never says READY is killed at ready-timeout and
    throttled; it comes back after the delay, and is killed again."""
    d = T.Daemon(keys={"workers": "2", "ready-timeout": "1s"},
                 env={"MCPD_FAULT": "worker.0:hang-start"})
    d.start(wait=False)
    st = wait_partly_ready(d, [1])
    w0 = d.row(st, "worker", 0)
    check_eq(w0["state"], "starting", "worker 0 state before the deadline")
    kill_re = (r"supervisor: worker 0 \(pid (\d+)\) not READY within "
               r"1\.000 s; killing")
    m = d.wait_log(kill_re, timeout=5)
    pid = int(m[0].group(1))
    check_eq(pid, w0["pid"], "pid in the log")
    exit_re = (r"supervisor: worker 0 \(pid %d\) exited on signal 9 "
               r"\(Killed\) after ([\d.]+) s; restarting in 2\.000 s "
               r"\(.*before READY: throttled 2\.000 s\)")
    k = d.wait_log(exit_re % pid, timeout=5)
    # "after X s" is the uptime from fork() on the supervisor's clock.
    # Late only by what a busy machine delays a timer; early only by the
    # time the fork itself took (the deadline counts from after it: it
    # was armed on the loop's time of before the forks of its iteration,
    # and fired up to 80 ms early under ASan on a busy machine).
    up = float(k[0].group(1))
    T.info("first worker 0 killed %.3f s after its fork" % up)
    check(1.0 - EARLY_S <= up <= 1.0 + LATE_S, "killed after %.3f s, want "
          "1 s (-%.2f/+%.1f)" % (up, EARLY_S, LATE_S))
    check(not T.alive(pid), "the hung worker (pid %d) is still there" % pid)
    st = d.status()
    w0 = d.row(st, "worker", 0)
    # (unless this status came more than 2 s after the kill)
    check_eq(w0["state"], "throttled", "worker 0 state after the kill")
    check(0 < w0["restart_delay_ms"] <= 2000, "restart_delay_ms %r" %
          w0["restart_delay_ms"])
    check_eq(w0["restarts"], 1, "worker 0 restarts")
    check_eq(d.healthz()["worker"], 1, "healthz worker meanwhile")
    # it comes back 2 s after the kill (and hangs again) and is killed 1 s
    # after that fork
    m2 = d.wait_log(kill_re, count=2, timeout=10)
    pid2 = int(m2[1].group(1))
    check(pid2 != pid, "the same pid %d again" % pid)
    k2 = d.wait_log(r"supervisor: worker 0 \(pid %d\) exited on signal 9 "
                    r"\(Killed\) after ([\d.]+) s; restarting in 4\.000 s"
                    % pid2, timeout=5)
    up2 = float(k2[0].group(1))
    wait = T.log_time(k2[0].string) - up2 - T.log_time(k[0].string)
    T.info("restarted %.3f s after the kill, killed again %.3f s after its "
           "fork" % (wait, up2))
    check(2.0 - EARLY_S <= wait <= 2.0 + LATE_S, "restarted %.3f s after "
          "the kill, want 2 s" % wait)
    check(1.0 - EARLY_S <= up2 <= 1.0 + LATE_S, "the restarted worker 0 "
          "was killed %.3f s after its fork, want 1 s (-%.2f/+%.1f)" %
          (up2, EARLY_S, LATE_S))
    check_eq(d.stop(), 0, "exit status")


if __name__ == "__main__":
    T.main([test_crash_loop_backoff, test_exit_norestart,
            test_gone_child_does_not_block_start, test_ready_timeout])
