#!/usr/bin/env python3
"""The registry: the agent keeps a copy of every session's record, so that
a worker killed with SIGKILL, or a new generation after a reload, takes
its sessions over and their clients go on with the ids they have; the
agent killed is rebuilt from the workers."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from test_mcp_http import init, post, raw_request, request  # noqa: E402
from test_metrics import get, scrape  # noqa: E402
from test_mcpbench import MCPBENCH  # noqa: E402

SESSIONS = 200


def sessions(d, n):
    """n sessions, and the worker index each one is kept by (the id
    names it; we ask the one that answered)."""
    out = []
    for _ in range(n):
        sid, _ = init(d.http_port)
        out.append(sid)
    return out


def all_alive(d, sids, what):
    bad = []
    for sid in sids:
        st, _, msgs = post(d.http_port, request("ping", rid=7), sid)
        if st != 200 or "result" not in msgs[-1]:
            bad.append((sid, st))
    check(not bad, "%s: %d of %d sessions lost, e.g. %r" %
          (what, len(bad), len(sids), bad[:3]))


def level(d, sid, lvl):
    st, _, msgs = post(d.http_port, request("logging/setLevel",
                                            {"level": lvl}, rid=5), sid)
    check_eq(st, 200, "logging/setLevel")


def test_worker_killed():
    """SIGKILL of each worker in turn: every session of it is served by
    its successor (ping 200, not 404), with what the client set on it
    (logging/setLevel) and its owner; a session deleted before the kill
    stays gone."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json", "initialize-rate": "0"})
    d.start()
    sids = sessions(d, SESSIONS)
    gone = sids.pop()
    c, r = raw_request(d.http_port, "DELETE", gone)
    check_eq(r.status, 200, "DELETE of a session")
    c.close()
    for sid in sids[:10]:
        level(d, sid, "error")
    time.sleep(0.3)         # the records reach the agent (write-behind)
    for idx in (0, 1):
        wp = d.worker_pids()
        mark = d.log_mark()
        os.kill(wp[idx], signal.SIGKILL)
        T.wait_until(lambda: d.worker_pids().get(idx) not in
                     (None, wp[idx]), 10, "worker %d restarted" % idx)
        d.wait_ready()
        m = d.wait_log(r"adopted (\d+) sessions and tasks of worker %d" % idx, 5,
                       since=mark)
        info("worker %d: %s" % (idx, m[0].group(0)))
        check(int(m[0].group(1)) > 0, "some sessions of worker %d" % idx)
        all_alive(d, sids, "after worker %d was killed" % idx)
        st, _, _ = post(d.http_port, request("ping"), gone)
        check_eq(st, 404, "the deleted session, after the kill")
    d.stop()


def test_kill_under_load():
    """mcpbench in the session era, 400 connections each with its session,
    keeping its session id when its connection is lost (-k): worker 0
    killed under the load loses no session (no 404), only the requests
    in flight on it fail; the successor adopts them."""
    import json
    import threading
    d = T.Daemon(keys={"workers": "2", "session-responses": "json",
                       "initialize-rate": "0"})
    d.start()
    out = os.path.join(d.dir, "bench.json")
    res = {}

    def run():
        res["rc"] = subprocess.run(
            [MCPBENCH, "-e", "session", "-k", "-c", "400", "-P", "2", "-d",
             "6", "-w", "0", "-j", out, "127.0.0.1:%d" % d.http_port],
            stdout=subprocess.DEVNULL, timeout=60).returncode
    t = threading.Thread(target=run)
    t.start()
    time.sleep(2.5)
    wp = d.worker_pids()
    st = d.status()
    held = [w for w in T.Daemon.rows(st, role="worker")
            if w["index"] == 0][0]["connections"]
    mark = d.log_mark()
    os.kill(wp[0], signal.SIGKILL)
    t.join()
    check_eq(res.get("rc"), 0, "mcpbench")
    with open(out) as f:
        j = json.load(f)
    m = d.wait_log(r"adopted (\d+) sessions and tasks of worker 0", 5,
                   since=mark)
    info("worker 0 held %d connections; %s; mcpbench: ok %d, errors %r, "
         "sessions lost %d, reconnects %d" % (
             held, m[0].group(0), j["ok"], j["errors"], j["sessions_lost"],
             j["reconnects"]))
    check(int(m[0].group(1)) > 0, "worker 0 had sessions to adopt")
    check_eq(j["sessions_lost"], 0, "sessions lost (404) after the kill")
    nerr = j["errors"]
    check(nerr <= held, "failed requests %d <= the %d connections of the "
          "killed worker (a request in flight each)" % (nerr, held))
    d.stop()


def test_gap():
    """Between a worker's death and its successor (held back here by the
    crash-loop throttle, 2 s), a request for one of its sessions that
    another worker takes waits for the successor and is handed over to
    it: answered, not 404, not refused.  A request that waits past
    HANDOFF_PARK_MS (5 s) would get 503 with Retry-After."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json",
                       "initialize-rate": "0", "throttle-reset": "60s"})
    d.start()
    sids = sessions(d, 60)
    time.sleep(0.3)
    wp = d.worker_pids()
    mark = d.log_mark()
    os.kill(wp[0], signal.SIGKILL)
    d.wait_log(r"worker 0 .*restarting in 2\.000 s", 5, since=mark)
    seen, waited = {}, 0
    for sid in sids:
        t0 = time.monotonic()
        st, _, _ = post(d.http_port, request("ping", rid=9), sid)
        seen[st] = seen.get(st, 0) + 1
        waited += time.monotonic() - t0 > 0.5
    info("while worker 0 was away: %r, %d waited for its successor" %
         (seen, waited))
    check_eq(seen, {200: len(sids)}, "every request answered")
    check(waited > 0, "a request waited for the successor")
    d.wait_ready()
    all_alive(d, sids, "after the gap")
    d.stop()


def test_watchdog():
    """A worker stopped (SIGSTOP) is killed by the watchdog; its successor
    adopts its sessions."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json",
                       "initialize-rate": "0", "watchdog-timeout": "2s"})
    d.start()
    sids = sessions(d, 60)
    time.sleep(0.3)
    wp = d.worker_pids()
    mark = d.log_mark()
    os.kill(wp[0], signal.SIGSTOP)
    d.wait_log(r"has not turned for", 10, since=mark)
    T.wait_until(lambda: d.worker_pids().get(0) not in (None, wp[0]), 10,
                 "worker 0 replaced")
    d.wait_ready()
    d.wait_log(r"adopted \d+ sessions and tasks of worker 0", 5, since=mark)
    all_alive(d, sids, "after the watchdog killed worker 0")
    d.stop()


def test_agent_killed():
    """SIGKILL of the agent: its successor gets every record again from
    the workers, and a worker killed after that still loses nothing."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json", "initialize-rate": "0"})
    d.start()
    sids = sessions(d, SESSIONS)
    time.sleep(0.3)
    agent = d.pids()["agent"]
    os.kill(agent, signal.SIGKILL)
    T.wait_until(lambda: d.pids().get("agent") not in (None, agent), 10,
                 "the agent restarted")
    d.wait_ready()
    time.sleep(0.5)         # the workers' records reach the new agent
    wp = d.worker_pids()
    os.kill(wp[0], signal.SIGKILL)
    T.wait_until(lambda: d.worker_pids().get(0) not in (None, wp[0]), 10,
                 "worker 0 restarted")
    d.wait_ready()
    all_alive(d, sids, "after the agent, then worker 0, were killed")
    d.stop()


def test_reload_generation():
    """A reload that starts a new generation of workers: the new workers
    adopt the old ones' sessions before they take a connection."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json", "initialize-rate": "0"})
    d.start()
    sids = sessions(d, SESSIONS)
    time.sleep(0.3)
    d.set_keys(**{"idle-timeout": "61s"})   # not the catalog: new workers
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"reload complete", 10, since=mark)
    all_alive(d, sids, "after a reload with a new generation")
    d.stop()


def test_agent_stuck():
    """The agent stopped while a worker makes thousands of sessions: the
    channel fills, the worker stops sending and, once the agent runs
    again, sends every record anew after a RESYNC: a session deleted
    meanwhile does not come back, the others are adopted."""
    d = T.Daemon(keys={"workers": "1", "session-responses": "json",
                       "initialize-rate": "0", "watchdog-timeout": "60s",
                       "max-sessions": "1000000", "registry-size": "1M"})
    d.start()
    keep = sessions(d, 20)
    agent = d.pids()["agent"]
    os.kill(agent, signal.SIGSTOP)
    try:
        gone = sessions(d, 1)[0]
        mark = d.log_mark()
        # sessions until the channel to the stopped agent is full
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not d.log_lines(
                r"channel to the agent is full", mark):
            subprocess.run([MCPBENCH, "-e", "session", "-K", "2", "-c",
                            "20", "-P", "1", "-d", "2", "-w", "0",
                            "127.0.0.1:%d" % d.http_port],
                           stdout=subprocess.DEVNULL, timeout=30)
        check(d.log_lines(r"channel to the agent is full", mark),
              "the channel filled up")
        c, r = raw_request(d.http_port, "DELETE", gone)
        check_eq(r.status, 200, "DELETE while the agent is stopped")
        c.close()
    finally:
        os.kill(agent, signal.SIGCONT)
    d.wait_log(r"has room again: (\d+) records sent anew", 30, since=mark)
    time.sleep(0.5)
    wp = d.worker_pids()
    os.kill(wp[0], signal.SIGKILL)
    T.wait_until(lambda: d.worker_pids().get(0) not in (None, wp[0]), 10,
                 "worker 0 restarted")
    d.wait_ready(workers=1)
    all_alive(d, keep, "after the resync and a kill")
    st, _, _ = post(d.http_port, request("ping"), gone)
    check_eq(st, 404, "the session deleted while the agent was stopped")
    d.stop()


def test_tasks():
    """Tasks outlive their worker: one that finished is returned by
    tasks/get on the successor with its result; one that was running is
    failed, saying why (not lost, not run again)."""
    import test_stateless as S
    if not S.PLUGIN or not os.path.exists(S.PLUGIN):
        raise T.TestFailure("MCPD_PLUGIN (the conformance plugin) not set")
    d = S.daemon(workers="2")
    p = d.http_port
    st, _, msgs = S.post(p, S.body("tools/call", {"name": "later"}))
    done = msgs[0]["result"]["taskId"]
    st, _, msgs = S.post(p, S.body("tools/call", {
        "name": "slow_compute", "arguments": {"seconds": 60}}))
    running = msgs[0]["result"]["taskId"]

    def status(tid):
        st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}))
        check_eq(st, 200, "tasks/get")
        return msgs[0]["result"]
    T.wait_until(lambda: status(done)["status"] == "completed", 10,
                 "the exec task completed")
    check_eq(status(running)["status"], "working", "the other still runs")
    time.sleep(0.3)
    wp = d.worker_pids()
    for pid in wp.values():
        os.kill(pid, signal.SIGKILL)
    T.wait_until(lambda: all(d.worker_pids().get(i) not in (None, wp[i])
                             for i in wp), 10, "the workers restarted")
    d.wait_ready(workers=2)
    r = status(done)
    check_eq(r["status"], "completed", "the finished task, adopted")
    check("done-later" in r["result"]["content"][0]["text"], repr(r))
    r = status(running)
    check_eq(r["status"], "failed", "the running task, adopted")
    check("worker running the task died" in r["error"]["message"], repr(r))
    d.stop()


def test_bound():
    """registry-records: sessions past it are served but not kept; the
    registry stays at its bound, counts and logs what it refused, and a
    session ended makes room again."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json",
                       "initialize-rate": "0", "registry-records": "50"})
    d.start()
    sids = sessions(d, 80)
    T.wait_until(lambda: get(scrape(d), "mcpd_registry_records") == 50, 5,
                 "the registry at its bound")
    s = scrape(d)
    # one write of each of the 30: its initialize
    check_eq(get(s, "mcpd_rejections_total", reason="registry"), 30,
             "record writes refused")
    T.wait_until(lambda: get(scrape(d), "mcpd_sessions") == 80, 5,
                 "every session served (the gauge, within its second)")
    d.wait_log(r"registry: full \(50 records, \d+ bytes\)")
    all_alive(d, sids, "past the bound")
    d.stop()


if __name__ == "__main__":
    T.main([test_worker_killed, test_kill_under_load, test_gap,
            test_watchdog, test_agent_killed,
            test_reload_generation, test_agent_stuck, test_tasks,
            test_bound])
