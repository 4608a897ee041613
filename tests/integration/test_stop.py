"""test_stop.py -- graceful stop, drain, the stop ladder, fast stop, and no
orphans when the supervisor is killed."""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

HALF = b"GET /healthz HTTP/1.1\r\n"


def all_pids(d, st=None):
    st = st or d.status()
    return [p["pid"] for p in st["processes"]]


def check_stopped(d, pids, rc, what):
    check_eq(rc, 0, "exit status after %s" % what)
    left = [p for p in pids if T.alive(p)]
    check(not left, "processes left after %s: %r" % (what, left))
    check(not os.path.exists(d.pidfile), "pidfile left after %s" % what)
    check(not os.path.exists(d.sock), "control socket left after %s" % what)
    d.wait_log(r"supervisor: exiting with status 0")


def half_request(d, worker_pids):
    """A connection with half a request on it, held by some worker: wait
    until the scoreboard counts it.  Returns (conn, pid of that worker)."""
    c = T.HttpConn(d.http_port)
    c.send(HALF)

    def busy():
        st = d.status()
        for p in d.rows(st, "worker"):
            if p["connections"] >= 1:
                return p["pid"]
        return None
    pid = T.wait_until(busy, 3, "a worker with the connection")
    check(pid in worker_pids, "pid %d is not a worker" % pid)
    return c, pid


def test_sigterm():
    d = T.Daemon(keys={"drain-timeout": "2s"})
    st = d.start()
    pids = all_pids(d, st)
    # an idle keep-alive connection does not hold the drain up
    c = T.HttpConn(d.http_port)
    check_eq(c.request().status, 200, "GET on the keep-alive connection")
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(5)
    dt = time.monotonic() - t0
    T.info("stopped in %.3f s" % dt)
    check(dt < 1.0, "stop took %.3f s with nothing in progress" % dt)
    check(c.at_eof(1), "the idle keep-alive connection was not closed")
    c.close()
    check_stopped(d, pids, rc, "SIGTERM")
    d.wait_log(r"supervisor: SIGTERM: stopping 4 processes, drain deadline "
               r"2\.000 s")
    for name, pid in d.pids(st).items():
        if name != "supervisor":
            d.wait_log(r"supervisor: %s \(pid %d, generation 1\) exited with "
                       r"status 0" % (name, pid))
    check(not T.alive(d.pid), "supervisor alive")
    check(not d.log_lines(r"SIGKILL|SIGTERM, SIGKILL"), "something was killed")


def test_sigint():
    d = T.Daemon()
    st = d.start()
    pids = all_pids(d, st)
    d.signal(signal.SIGINT)
    rc = d.wait_exit(5)
    check_stopped(d, pids, rc, "SIGINT")
    d.wait_log(r"supervisor: SIGINT: stopping 4 processes")


def test_ctl_stop():
    d = T.Daemon()
    st = d.start()
    pids = all_pids(d, st)
    rc, out, err = d.ctl("stop")
    check_eq(rc, 0, "mcpctl stop exit status (stderr %r)" % err)
    check_eq(out.strip(), "stopping", "mcpctl stop stdout")
    rc = d.wait_exit(5)
    check_stopped(d, pids, rc, "mcpctl stop")
    d.wait_log(r"supervisor: stop requested over the control socket: "
               r"stopping 4 processes")
    # nobody to talk to now
    rc, out, err = d.ctl("status")
    check_eq(rc, 3, "mcpctl status with no mcpd: exit status")
    check("is mcpd running?" in err, "mcpctl status stderr %r" % err)


def test_drain_waits_for_request():
    d = T.Daemon(keys={"drain-timeout": "1s"})
    st = d.start()
    pids = all_pids(d, st)
    wp = list(d.worker_pids(st).values())
    c, busy = half_request(d, wp)
    others = [p for p in pids if p not in (busy, d.pid)]
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    left = T.wait_gone(others, 0.5)
    check(not left, "idle processes still running 0.5 s after SIGTERM: %r" %
          left)
    check(T.alive(busy), "the worker with a request in progress did not "
          "wait for it")
    check(d.running(), "the supervisor did not wait for the busy worker")
    rc = d.wait_exit(3)
    dt = time.monotonic() - t0
    T.info("stopped in %.3f s (drain-timeout 1 s)" % dt)
    check(0.9 <= dt <= 1.6, "stop took %.3f s, want about the drain "
          "timeout of 1 s" % dt)
    check_stopped(d, pids, rc, "a drain")
    d.wait_log(r"mcpd\[%d\]: worker \d: drain deadline passed with 1 in "
               r"progress; exiting" % busy)
    check(not d.log_lines(r"SIGKILL|sending SIGTERM"), "the ladder was used")
    check(c.at_eof(1), "the half-sent request's connection is still open")
    c.close()


def test_stop_ladder():
    d = T.Daemon(keys={"drain-timeout": "500ms"},
                 extra="worker {\n\tshutdown-timeout 500ms\n}",
                 env={"MCPD_FAULT": "worker.0:stuck-stop"})
    st = d.start()
    pids = all_pids(d, st)
    w0 = d.pids(st)["worker 0"]
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(5)
    dt = time.monotonic() - t0
    T.info("stopped in %.3f s" % dt)
    check(dt <= 2.0, "stop took %.3f s, want <= 2 s" % dt)
    check_stopped(d, pids, rc, "the stop ladder")
    q = d.wait_log(r"worker 0: MCPD_FAULT stuck-stop: ignoring QUIT")
    t = d.wait_log(r"supervisor: worker 0 \(pid %d\) still running 0\.500 s "
                   r"after QUIT; sending SIGTERM, SIGKILL in 0\.500 s" % w0)
    d.wait_log(r"worker 0: MCPD_FAULT stuck-stop: ignoring SIGTERM")
    k = d.wait_log(r"supervisor: worker 0 \(pid %d\) ignored SIGTERM for "
                   r"0\.500 s; sending SIGKILL" % w0)
    d.wait_log(r"supervisor: worker 0 \(pid %d, generation 1\) exited on "
               r"signal 9" % w0)
    tq, tt, tk = (T.log_time(x[0].string) for x in (q, t, k))
    check(0.5 <= tt - tq <= 1.0, "SIGTERM %.3f s after QUIT, want 0.5..1" %
          (tt - tq))
    check(0.4 <= tk - tt <= 0.8, "SIGKILL %.3f s after SIGTERM, want 0.5" %
          (tk - tt))
    # only worker 0 was stuck: the others went at once
    for name, pid in d.pids(st).items():
        if name not in ("supervisor", "worker 0"):
            d.wait_log(r"supervisor: %s \(pid %d, generation 1\) exited with "
                       r"status 0" % (name, pid))


def test_second_term_kills():
    d = T.Daemon(keys={"drain-timeout": "10s"})
    st = d.start()
    pids = all_pids(d, st)
    wp = list(d.worker_pids(st).values())
    c, busy = half_request(d, wp)
    d.signal(signal.SIGTERM)
    d.wait_log(r"supervisor: SIGTERM: stopping 4 processes, drain deadline "
               r"10\.000 s")
    d.wait_log(r"mcpd\[%d\]: worker \d: asked to stop" % busy)
    time.sleep(0.3)
    check(T.alive(busy) and d.running(), "the drain did not wait")
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(3)
    dt = time.monotonic() - t0
    T.info("stopped %.3f s after the second SIGTERM" % dt)
    check(dt < 1.0, "the second SIGTERM took %.3f s" % dt)
    d.wait_log(r"supervisor: Terminated again: killing every child now")
    d.wait_log(r"supervisor: worker \d \(pid %d\): sending SIGKILL" % busy)
    d.wait_log(r"supervisor: worker \d \(pid %d, generation 1\) exited on "
               r"signal 9" % busy)
    check_stopped(d, pids, rc, "a second SIGTERM")
    c.close()


def test_sigquit_fast():
    d = T.Daemon(keys={"drain-timeout": "10s"})
    st = d.start()
    pids = all_pids(d, st)
    wp = list(d.worker_pids(st).values())
    c, busy = half_request(d, wp)
    t0 = time.monotonic()
    d.signal(signal.SIGQUIT)
    rc = d.wait_exit(3)
    dt = time.monotonic() - t0
    T.info("stopped %.3f s after SIGQUIT" % dt)
    check(dt < 1.0, "SIGQUIT took %.3f s" % dt)
    d.wait_log(r"supervisor: SIGQUIT: fast stop of 4 processes")
    d.wait_log(r"mcpd\[%d\]: worker \d: SIGTERM: exiting with 1 in progress"
               % busy)
    check_stopped(d, pids, rc, "SIGQUIT")
    c.close()


def test_sigquit_stuck():
    """SIGQUIT: SIGTERM, then SIGKILL after a second for a stuck child."""
    d = T.Daemon(env={"MCPD_FAULT": "worker.1:stuck-stop"})
    st = d.start()
    pids = all_pids(d, st)
    t0 = time.monotonic()
    d.signal(signal.SIGQUIT)
    rc = d.wait_exit(4)
    dt = time.monotonic() - t0
    T.info("stopped %.3f s after SIGQUIT" % dt)
    check(0.9 <= dt <= 2.0, "SIGQUIT with a stuck child took %.3f s, want "
          "about 1 s" % dt)
    d.wait_log(r"supervisor: worker 1 \(pid \d+, generation 1\) exited on "
               r"signal 9")
    check_stopped(d, pids, rc, "SIGQUIT")
    # the log says how long the SIGTERM was ignored: the fast-stop second
    m = d.wait_log(r"supervisor: worker 1 \(pid \d+\) ignored SIGTERM for "
                   r"([\d.]+) s; sending SIGKILL")
    check_eq(m[0].group(1), "1.000", "seconds in %r (SIGQUIT sends SIGKILL "
             "1 s after SIGTERM, not after worker shutdown-timeout)" %
             m[0].group(0))


def test_supervisor_killed_no_orphans():
    d = T.Daemon(keys={"drain-timeout": "10s"})
    st = d.start()
    children = d.child_pids(st)
    wp = list(d.worker_pids(st).values())
    c, busy = half_request(d, wp)
    t0 = time.monotonic()
    os.kill(d.pid, signal.SIGKILL)
    d.wait_exit(3)
    idle = [p for p in children if p != busy]
    left = T.wait_gone(idle, 1.0)
    check(not left, "idle children still running 1 s after the supervisor "
          "died: %r" % left)
    left = T.wait_gone([busy], 3.0 - (time.monotonic() - t0))
    dt = time.monotonic() - t0
    check(not left, "worker pid %d still running 3 s after the supervisor "
          "died" % busy)
    T.info("every child gone %.3f s after the supervisor" % dt)
    for pid in children:
        d.wait_log(r"mcpd\[%d\]: \S+(?: \d)?: supervisor channel closed; "
                   r"draining for at most 2\.000 s" % pid)
    d.wait_log(r"mcpd\[%d\]: worker \d: drain deadline passed with 1 in "
               r"progress; exiting" % busy)
    c.close()


if __name__ == "__main__":
    T.main([test_sigterm, test_sigint, test_ctl_stop,
            test_drain_waits_for_request, test_stop_ladder,
            test_second_term_kills, test_sigquit_fast, test_sigquit_stuck,
            test_supervisor_killed_no_orphans])
