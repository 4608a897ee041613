#!/usr/bin/env python3
"""The registry across reloads: a reload that starts a new generation of
workers loses nothing a client holds.  The new workers adopt the old
ones' sessions; each old worker hands its keep-alive connections to the
new worker of its index between two requests, with every session record
before them and each change after, and keeps running the tasks it
started until they end (or drain-timeout fails them); a session's idle
clock goes on.  The load runs of bench/scenarios/reload, bounded."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from test_mcp_http import post, request  # noqa: E402
from test_metrics import get, scrape  # noqa: E402
from test_registry import all_alive, sessions, SESSIONS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


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

def test_fewer_workers():
    """A reload down from 2 workers to 1: the sessions of worker 1 end
    (no worker will adopt them): the agent drops their records and a
    request for one gets 404 at once (its client starts a new session),
    not 503 while it waits for a worker that is not coming; worker 0's
    sessions go on."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json",
                       "initialize-rate": "0"})
    d.start()
    sids = sessions(d, 60)
    time.sleep(0.3)
    before = get(scrape(d), "mcpd_registry_records")
    d.set_keys(workers="1")
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"reload complete", 10, since=mark)
    m = d.wait_log(r"registry: the (\d+) records of worker 1 dropped", 10,
                   since=mark)
    d.wait_log(r"worker 1 \(pid \d+, generation \d+\) exited", 10,
               since=mark)
    dropped = int(m[0].group(1))
    T.wait_until(lambda: get(scrape(d), "mcpd_registry_records") ==
                 before - dropped, 5, "worker 1's records gone")
    got = {}
    for sid in sids:
        t0 = time.monotonic()
        st, _, _ = post(d.http_port, request("ping", rid=9), sid)
        got.setdefault(st, []).append(time.monotonic() - t0)
    info("%d records, %d dropped; answers %r" % (
        before, dropped, {k: len(v) for k, v in got.items()}))
    check_eq(sorted(got), [200, 404], "statuses")
    check_eq(len(got[404]), dropped, "404s: the sessions of worker 1")
    check(max(got[404]) < 1.0, "404 at once, not after a wait: %.2f s" %
          max(got[404]))
    d.stop()


SLOW_TOOL = """
tool "slow" {
	description "sleeps 2 s"
	command "/bin/sleep" "2"
}
"""


def test_reload_tasks():
    """Tasks across a reload that starts a new generation: a running task
    stays its worker's, which drains until it ends (tasks/get on the new
    worker goes to it meanwhile) and hands its result on; one still
    running at drain-timeout is failed, saying so, not lost."""
    import test_stateless as S
    if not S.PLUGIN or not os.path.exists(S.PLUGIN):
        raise T.TestFailure("MCPD_PLUGIN (the conformance plugin) not set")
    d = S.daemon(workers="1", **{"drain-timeout": "4s"})
    p = d.http_port

    def start(seconds):
        st, _, msgs = S.post(p, S.body("tools/call", {
            "name": "slow_compute", "arguments": {"seconds": seconds}}))
        check_eq(st, 200, "slow_compute")
        return msgs[0]["result"]["taskId"]

    def status(tid):
        st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}))
        check_eq(st, 200, "tasks/get")
        check("result" in msgs[0], "tasks/get %s: %r" % (tid, msgs[0]))
        return msgs[0]["result"]

    def reload(n):
        old = d.worker_pids()[0]
        d.set_keys(**{"idle-timeout": "%ds" % (61 + n % 2)})
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload complete", 10, since=mark)
        return old

    short, long_ = start(2), start(60)
    old = reload(0)
    check_eq(status(short)["status"], "working",
             "the short task, asked of the new worker")
    T.wait_until(lambda: status(short)["status"] == "completed", 10,
                 "the short task completed on the old worker")
    T.wait_gone([old], 10)
    r = status(short)
    check_eq(r["status"], "completed", "the short task, its worker gone")
    r = status(long_)
    check_eq(r["status"], "failed", "the long task, past drain-timeout")
    check("drain-timeout" in r["error"]["message"], repr(r))
    d.stop()


def test_reload_tasks_died():
    """A reload's old worker killed while it drains with a task running:
    the new worker, which left the task to it, takes the task's record
    from the agent once the old one is gone without its last word, and
    reports it failed (not lost)."""
    import test_stateless as S
    if not S.PLUGIN or not os.path.exists(S.PLUGIN):
        raise T.TestFailure("MCPD_PLUGIN (the conformance plugin) not set")
    d = S.daemon(workers="1", **{"drain-timeout": "30s"})
    p = d.http_port
    st, _, msgs = S.post(p, S.body("tools/call", {
        "name": "slow_compute", "arguments": {"seconds": 60}}))
    check_eq(st, 200, "slow_compute")
    tid = msgs[0]["result"]["taskId"]

    def status():
        st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}))
        check_eq(st, 200, "tasks/get")
        check("result" in msgs[0], "tasks/get: %r" % msgs[0])
        return msgs[0]["result"]
    time.sleep(0.3)         # its record reaches the agent
    old = d.worker_pids()[0]
    d.set_keys(**{"idle-timeout": "62s"})
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"reload complete", 10, since=mark)
    check_eq(status()["status"], "working", "the task, on the old worker")
    os.kill(old, signal.SIGKILL)
    T.wait_gone([old], 10)

    def failed():
        # until the new worker has seen its predecessor die and taken the
        # record (milliseconds; longer on a loaded machine), the task is
        # not found there: a window the note on issue 13 states
        st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}))
        return st == 200 and msgs[0].get("result", {}).get("status") == \
            "failed"
    T.wait_until(failed, 10, "the task failed on the new worker")
    r = status()
    check("worker running the task died" in r["error"]["message"], repr(r))
    d.stop()


def reload_scenario(args):
    script = os.path.join(HERE, "..", "..", "bench", "scenarios", "reload")
    env = dict(os.environ,
               MCPD_BUILD=os.path.dirname(os.path.abspath(T.MCPD)))
    r = subprocess.run([sys.executable, script] + args + ["--json"],
                       capture_output=True, text=True, timeout=150, env=env)
    try:
        j = json.loads(r.stdout)
    except ValueError:
        raise T.TestFailure("reload scenario: exit %d: %s %s" % (
            r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    for k, v in j["facts"].items():
        info("%s: %s" % (k, v))
    bad = [v for v in j["verdicts"] if not v["ok"]]
    check(not bad and j["ok"], "reload scenario %s: %r" % (args, bad))


def test_reloads():
    """bench/scenarios/reload, bounded (the 1,000-reload run is in make
    bench): 10 reloads that each start a new generation of workers, under
    connection churn in the session era (each connection a new session
    every 20 requests, made while workers drain and adopt) and with 100
    live sessions in a closed loop on keep-alive connections: no
    connection refused or reset, no request failed, no live session lost
    (each one's connection goes to the new generation between two
    requests, its session with it)."""
    reload_scenario(["-n", "50", "-L", "100", "-d", "8", "-k", "0.2",
                     "-H", "10"])


def test_reloads_open_loop():
    """The same with the live sessions in an open loop (-l: 2 requests a
    second each): a connection idle when its worker is told to quit is
    not closed under a request on its way (HTTP's keep-alive race), it
    goes to the new generation."""
    reload_scenario(["-n", "20", "-L", "200", "-l", "2", "-d", "8", "-k",
                     "0.2", "-H", "10"])


def ka_bytes(body, sid=None, version="2025-11-25"):
    b = json.dumps(body).encode()
    h = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Content-Type: application/json\r\n"
         "Accept: application/json, text/event-stream\r\n"
         "MCP-Protocol-Version: %s\r\n" % version)
    if sid:
        h += "Mcp-Session-Id: %s\r\n" % sid
    return (h + "Content-Length: %d\r\n\r\n" % len(b)).encode() + b


def ka_init(c):
    """a session on keep-alive connection c: its id"""
    c.send(ka_bytes(request("initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}})))
    r = c.read_response()
    check_eq(r.status, 200, "initialize on a kept connection")
    sid = r.headers.get("mcp-session-id")
    c.send(ka_bytes({"jsonrpc": "2.0", "method": "notifications/initialized"},
                    sid))
    check_eq(c.read_response().status, 202, "notifications/initialized")
    return sid


def ka_response(c):
    """a response on c, a chunked one (an SSE answer) read to its end"""
    r = c.read_response()
    if r.headers.get("transfer-encoding") == "chunked":
        deadline = time.monotonic() + c.timeout
        while b"0\r\n\r\n" not in c.buf:
            c._fill(deadline)
        body, _, c.buf = c.buf.partition(b"0\r\n\r\n")
        r.body = body
    return r


def ka_ping(c, sid, what, rid=9):
    c.send(ka_bytes(request("ping", rid=rid), sid))
    try:
        r = c.read_response()
    except (OSError, ConnectionError) as e:
        raise T.TestFailure("%s: the kept connection failed: %s" % (what, e))
    check_eq(r.status, 200, what)
    check("close" not in r.headers.get("connection", ""),
          "%s: the answer closes the connection" % what)


def test_reload_keepalive():
    """Keep-alive connections outlive reloads that each start a new
    generation: the draining worker hands each one to its successor
    between two requests (at once when idle, after its answer when
    busy), and a session it made while draining goes with it (its record
    on the same channel, before the connection)."""
    d = T.Daemon(keys={"workers": "1", "session-responses": "json",
                       "initialize-rate": "0"}, extra=SLOW_TOOL)
    d.start()
    a = T.HttpConn(d.http_port, timeout=10)
    b = T.HttpConn(d.http_port, timeout=10)
    sid = ka_init(a)
    sid_b = ka_init(b)
    for i in range(3):
        old = d.worker_pids()[0]
        # b: a call that outlasts the reload's start, and an initialize
        # behind it, pipelined: the draining worker makes that session
        b.send(ka_bytes(request("tools/call", {"name": "slow"}, rid=20),
                        sid_b) +
               ka_bytes(request("initialize", {
                   "protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}},
                   rid=21)))
        time.sleep(0.3)
        d.set_keys(**{"idle-timeout": "%ds" % (61 + i % 2)})
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload complete", 10, since=mark)
        ka_ping(a, sid, "reload %d: an idle connection" % i, rid=10 + i)
        r = ka_response(b)
        check_eq(r.status, 200, "reload %d: the slow call" % i)
        check(b'"result"' in r.body, "reload %d: the slow call's answer: "
              "%r" % (i, r.body[:200]))
        r = ka_response(b)
        check_eq(r.status, 200, "reload %d: the initialize behind it" % i)
        sid_b = r.headers.get("mcp-session-id")
        T.wait_gone([old], 10)
        ka_ping(a, sid, "reload %d: after the old worker exited" % i)
        ka_ping(b, sid_b, "reload %d: the session made while draining" % i)
    a.close()
    b.close()
    d.stop()


def test_reload_idle_clock():
    """A session's idle clock goes on across reloads: one left idle ends
    session-timeout after its last use though reloads that each start a
    new generation come more often than that (the successor takes its
    predecessor's clock with the records it hands over), and one in use
    lives on."""
    d = T.Daemon(keys={"workers": "1", "session-responses": "json",
                       "initialize-rate": "0", "session-timeout": "4s"})
    d.start()
    idle, busy = sessions(d, 2)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < 7:
        st, _, _ = post(d.http_port, request("ping", rid=3), busy)
        check_eq(st, 200, "the session in use, %.1f s on" %
                 (time.monotonic() - t0))
        d.set_keys(**{"idle-timeout": "%ds" % (61 + i % 2)})
        mark = d.log_mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload complete", 10, since=mark)
        i += 1
        time.sleep(0.5)
    info("%d reloads in %.1f s" % (i, time.monotonic() - t0))
    check(i >= 4, "reloads more often than session-timeout (%d)" % i)
    st, _, _ = post(d.http_port, request("ping", rid=4), idle)
    check_eq(st, 404, "the session left idle for 7 s (session-timeout 4s)")
    st, _, _ = post(d.http_port, request("ping", rid=5), busy)
    check_eq(st, 200, "the session in use")
    d.stop()


if __name__ == "__main__":
    T.main([test_reload_generation, test_fewer_workers, test_reload_tasks,
            test_reload_tasks_died,
            test_reload_keepalive, test_reload_idle_clock, test_reloads,
            test_reloads_open_loop])
