#!/usr/bin/env python3
"""The registry: the agent keeps a copy of every session's record and of
the replay events of its SSE streams, so that a worker killed with
SIGKILL, or a new generation after a reload, takes its sessions over and
their clients go on with the ids they have and resume their streams; the
agent killed is rebuilt from the workers."""

import json
import os
import re
import signal
import socket
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
PLUGIN = os.environ.get("MCPD_PLUGIN", "")
BIG = 150000                # bytes of the "big" exec tool's output
BIG_TOOL = """
tool "big" {
	description "prints %d x"
	command "/bin/sh" "-c" "head -c %d /dev/zero | tr '\\\\0' x"
	max-output 1M
}
""" % (BIG, BIG)


def sse_events(text):
    """(id, message) of each event of an SSE body; the priming event
    (no data) too, with None."""
    out = []
    for ev in text.split("\n\n"):
        eid, data = None, []
        for ln in ev.split("\n"):
            if ln.startswith("id:"):
                eid = ln[3:].strip()
            elif ln.startswith("data:"):
                data.append(ln[5:].lstrip())
        if eid is None and not data:
            continue
        out.append((eid, json.loads("".join(data)) if "".join(data)
                    else None))
    return out


def post_cut(port, sid, body):
    """POST body and hang up as soon as the stream's priming event came:
    its id (WORKER-STREAM-0)."""
    s, prime, _ = open_stream(port, sid, body)
    s.close()
    return prime


def resume(port, sid, last):
    """GET with Last-Event-ID: the events that come, till the stream
    ends."""
    c, r = raw_request(port, "GET", sid, {"Accept": "text/event-stream",
                                          "Last-Event-ID": last})
    check_eq(r.status, 200, "GET with Last-Event-ID %s" % last)
    text = r.read().decode()
    c.close()
    return [e for e in sse_events(text) if e[1] is not None]


def events_kept(d):
    return get(scrape(d), "mcpd_registry_events")


def kill_worker(d, idx):
    """SIGKILL of worker idx; back when its successor is ready: the
    "adopted" line it logged."""
    wp = d.worker_pids()
    mark = d.log_mark()
    os.kill(wp[idx], signal.SIGKILL)
    T.wait_until(lambda: d.worker_pids().get(idx) not in (None, wp[idx]),
                 10, "worker %d restarted" % idx)
    d.wait_ready()
    m = d.wait_log(r"adopted (\d+) sessions and tasks and (\d+) replay "
                   r"events of worker %d" % idx, 5, since=mark)
    info("worker %d: %s" % (idx, m[0].group(0)))
    return m[0]


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
        m = d.wait_log(r"adopted (\d+) sessions and tasks and \d+ replay "
                       r"events of worker %d" % idx, 5, since=mark)
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
    m = d.wait_log(r"adopted (\d+) sessions and tasks and \d+ replay "
                   r"events of worker 0", 5, since=mark)
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


class Pinned(object):
    """A keep-alive connection with the session it initialized: kept by
    the worker that holds the connection."""

    def __init__(self, port):
        import http.client
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        st, h, _ = self.post(request("initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "pinned", "version": "1"}}))
        check_eq(st, 200, "initialize on a kept connection")
        self.sid = h["mcp-session-id"]
        st, _, _ = self.post({"jsonrpc": "2.0",
                              "method": "notifications/initialized"},
                             self.sid)
        check_eq(st, 202, "notifications/initialized")

    def send(self, body, sid=None):
        h = {"Content-Type": "application/json", "Accept":
             "application/json, text/event-stream",
             "Host": "127.0.0.1:%d" % self.port}
        if sid:
            h["Mcp-Session-Id"] = sid
        self.c.request("POST", "/mcp", json.dumps(body), h)

    def answer(self):
        r = self.c.getresponse()
        text = r.read().decode()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, text

    def post(self, body, sid=None):
        self.send(body, sid)
        return self.answer()


def pinned_on_each(d, workers=2):
    """{worker index: a Pinned connection it holds}"""
    def held():
        return {w["index"]: w["connections"] for w in
                T.Daemon.rows(d.status(), role="worker")}
    out = {}
    for _ in range(40):
        before = held()
        p = Pinned(d.http_port)
        after = held()
        grew = [i for i in after if after[i] > before.get(i, 0)]
        check_eq(len(grew), 1, "one worker took the connection: %r -> %r"
                 % (before, after))
        if grew[0] in out:
            p.c.close()
            continue
        out[grew[0]] = p
        if len(out) == workers:
            return out
    check(False, "a connection on each worker in 40 tries: %r" % out)


def test_handoff_to_the_dead():
    """A worker hands a request over to the owner of its session, which
    died a moment ago: the hand-over's write finds it out before the
    read of its channel does (worker 1 stopped through the kill, the
    request its first event when it wakes).  The request waits for the
    successor and is answered, not 404 for a session the agent keeps."""
    d = T.Daemon(keys={"workers": "2", "session-responses": "json",
                       "initialize-rate": "0"})
    d.start()
    pins = pinned_on_each(d)
    time.sleep(0.3)             # the records reach the agent
    wp = d.worker_pids()
    mark = d.log_mark()
    os.kill(wp[1], signal.SIGSTOP)
    try:
        os.kill(wp[0], signal.SIGKILL)
        d.wait_log(r"worker 0 \(pid \d+, generation \d+\) ready", 10,
                   since=mark)
        # on worker 1's connection, a request for worker 0's session
        pins[1].send(request("ping", rid=4), pins[0].sid)
        time.sleep(0.2)
    finally:
        os.kill(wp[1], signal.SIGCONT)
    st, h, text = pins[1].answer()
    info("worker 0's session asked through worker 1 as it woke: %d %s" %
         (st, text[:120]))
    check_eq(st, 200, "the request for the dead worker's session")
    check('"result"' in text, "a result: %r" % text[:200])
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


def gap_requests(d, sids):
    """Kill worker 0 (its successor held back 2 s by the crash-loop
    throttle) and ping each session: (status, seconds, Retry-After)."""
    wp = d.worker_pids()
    mark = d.log_mark()
    os.kill(wp[0], signal.SIGKILL)
    d.wait_log(r"worker 0 .*restarting in 2\.000 s", 5, since=mark)
    out = []
    for sid in sids:
        t0 = time.monotonic()
        st, h, _ = post(d.http_port, request("ping", rid=9), sid)
        out.append((st, time.monotonic() - t0, h.get("retry-after")))
    return out


def test_handoff_bounds():
    """registry-handoff-wait past: a request for a session of a dead
    worker that waits longer than it (500 ms here, the successor being
    held back 2 s) gets 503 with Retry-After: 1, not 404, not a hang;
    registry-handoff-queue 0: such a request is answered 503 at once."""
    for keys, lo, hi in (({"registry-handoff-wait": "500ms"}, 0.45, 1.9),
                         ({"registry-handoff-queue": "0"}, 0, 0.4)):
        k = {"workers": "2", "session-responses": "json",
             "initialize-rate": "0", "throttle-reset": "60s"}
        k.update(keys)
        d = T.Daemon(keys=k)
        d.start()
        sids = sessions(d, 40)
        time.sleep(0.3)
        got = gap_requests(d, sids)
        refused = [g for g in got if g[0] == 503]
        info("%r: %d answered, %d refused, in %s s" % (
            keys, sum(1 for g in got if g[0] == 200), len(refused),
            ", ".join("%.2f" % g[1] for g in refused)))
        check_eq(sorted(set(g[0] for g in got) - {200, 503}), [],
                 "statuses other than 200 and 503")
        check(refused, "a request refused past the bound")
        for st, secs, ra in refused:
            check(lo <= secs <= hi and ra == "1",
                  "503 after %.2f s (want %.2f..%.2f), Retry-After %r" %
                  (secs, lo, hi, ra))
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
    d.wait_log(r"adopted \d+ sessions and tasks and \d+ replay events of "
               r"worker 0", 5, since=mark)
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


def test_replay():
    """A stream whose client hung up goes on into the session's replay
    ring, and the agent keeps a copy: after its worker was killed, GET
    with Last-Event-ID on the successor replays what came after that
    event, in order, once (no gap, no duplicate).  An event longer than
    a frame of the agent channel (the "big" tool's 150,000 bytes: in
    parts) comes back whole."""
    if not PLUGIN or not os.path.exists(PLUGIN):
        raise T.TestFailure("MCPD_PLUGIN (the conformance plugin) not set")
    d = T.Daemon(keys={"workers": "2", "session-responses": "sse",
                       "initialize-rate": "0", "plugin": '"%s"' % PLUGIN},
                 extra=BIG_TOOL)
    d.start()
    p = d.http_port
    sid, _ = init(p)
    before = events_kept(d)
    prime = post_cut(p, sid, request("tools/call", {
        "name": "test_tool_with_progress",
        "_meta": {"progressToken": "tok"}}, rid=11))
    w, stream, _ = prime.split("-")
    # the call ends while nobody listens; its head and 4 events reach
    # the agent
    T.wait_until(lambda: events_kept(d) >= before + 5, 5,
                 "the call's events in the registry")
    m = kill_worker(d, int(w))
    check(int(m.group(2)) >= 5, "the replay events adopted")
    evs = resume(p, sid, prime)
    ids = ["%s-%s-%d" % (w, stream, i) for i in (1, 2, 3, 4)]
    check_eq([e[0] for e in evs], ids, "event ids replayed after %s" % prime)
    check_eq([e[1].get("method", "result") for e in evs],
             ["notifications/progress"] * 3 + ["result"], "what came")
    check_eq(evs[-1][1]["id"], 11, "the answer's id")
    check_eq([e[0] for e in resume(p, sid, ids[1])], ids[2:],
             "replayed after the second event")
    check_eq(resume(p, sid, ids[-1]), [], "nothing after the last event")
    # a second kill: what was adopted was kept again, with the ids
    kill_worker(d, int(w))
    check_eq([e[0] for e in resume(p, sid, prime)], ids, "after two kills")
    # an event in parts
    before = events_kept(d)
    prime = post_cut(p, sid, request("tools/call", {"name": "big"}, rid=12))
    w2, stream2, _ = prime.split("-")
    T.wait_until(lambda: events_kept(d) >= before + 2, 10,
                 "the big answer (and its stream's head) in the registry")
    kill_worker(d, int(w2))
    evs = resume(p, sid, prime)
    check_eq([e[0] for e in evs], ["%s-%s-1" % (w2, stream2)], "big: ids")
    text = evs[0][1]["result"]["content"][0]["text"]
    check_eq((len(text), set(text)), (BIG, {"x"}), "big: the text")
    # a new stream of the successor is numbered past the adopted ones
    prime = post_cut(p, sid, request("ping", rid=13))
    check(int(prime.split("-")[1]) > int(stream2),
          "stream %s after %s" % (prime, stream2))
    d.stop()


def open_stream(port, sid, body=None, last=None):
    """A raw socket with a POST (body) or a GET (resuming last) sent and
    its answer read up to the priming event, or for a resumed GET up to
    the end of its head: (socket, priming id or None, what came)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if body is not None:
        data = json.dumps(body).encode()
        s.sendall(("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Content-Type: application/json\r\n"
                   "Accept: application/json, text/event-stream\r\n"
                   "Mcp-Session-Id: %s\r\nContent-Length: %d\r\n\r\n"
                   % (port, sid, len(data))).encode() + data)
    else:
        s.sendall(("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Accept: text/event-stream\r\nMcp-Session-Id: %s\r\n"
                   "%s\r\n" % (port, sid, "Last-Event-ID: %s\r\n" % last
                                 if last else "")).encode())
    got = b""
    while True:
        chunk = s.recv(4096)
        check(chunk, "the stream ended early: %r" % got)
        got += chunk
        m = re.search(rb"\nid: (\d+-\d+-0)\n", got)
        if m:
            return s, m.group(1).decode(), got
        if last and b"\r\n\r\n" in got:
            return s, None, got


def ended(s, wait):
    """Whether the chunked stream on s ends (its last chunk, or the
    connection closed) within wait seconds; what came meanwhile."""
    s.settimeout(wait)
    got = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return True, got
            got += chunk
            if got.endswith(b"\r\n0\r\n\r\n") or got.startswith(
                    b"0\r\n\r\n"):
                return True, got
    except socket.timeout:
        return False, got


def test_replay_lost():
    """A call in flight when its worker is killed: the client, resuming
    its stream on the successor, gets a JSON-RPC error for the request
    as the stream's last event (not a stream that ends without an answer,
    which a client would resume again and again).  The session's
    standalone GET stream, cut by the kill, resumed with Last-Event-ID
    stays open on the successor; resumed again, the newer takes over."""
    d = T.Daemon(keys={"workers": "1", "initialize-rate": "0"},
                 extra="""
tool "hold" {
	description "sleeps"
	command "/bin/sleep" "30"
	timeout 60s
}
""")
    d.start()
    p = d.http_port
    sid, _ = init(p)
    g, gprime, _ = open_stream(p, sid)
    s, prime, _ = open_stream(p, sid, request("tools/call", {"name": "hold"},
                                              rid="call-7"))
    w = prime.split("-")[0]
    T.wait_until(lambda: events_kept(d) >= 1, 5,
                 "the held call's stream head in the registry")
    kill_worker(d, int(w))
    check(ended(s, 5)[0], "the call's stream cut by the kill")
    check(ended(g, 5)[0], "the GET stream cut by the kill")
    s.close()
    g.close()
    evs = resume(p, sid, prime)
    check_eq(len(evs), 1, "one event: %r" % evs)
    e = evs[0][1]
    check_eq((e.get("id"), e.get("error", {}).get("code")), ("call-7", -32603),
             "the lost request's error")
    check("lost" in e["error"]["message"], e["error"]["message"])
    check_eq(resume(p, sid, evs[0][0]), [], "nothing after it")
    # the GET stream
    g1, _, head = open_stream(p, sid, last=gprime)
    check(head.startswith(b"HTTP/1.1 200"), head[:80])
    check(not ended(g1, 1.5)[0], "the resumed GET stream stays open")
    g2, _, head = open_stream(p, sid, last=gprime)
    check(head.startswith(b"HTTP/1.1 200"), head[:80])
    check(ended(g1, 5)[0], "the older GET stream ended by the newer")
    check(not ended(g2, 1)[0], "the newer stays open")
    st, _, _ = post(p, request("ping", rid=3), sid)
    check_eq(st, 200, "the session, after all")
    g1.close()
    g2.close()
    d.stop()


HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.abspath(os.environ.get("MCPD_CONFORMANCE_DIR") or
                          os.path.join(HERE, "..", "conformance"))
NODE = os.path.join(PKG_DIR, "node_modules", ".bin", "node")
RESUME_SCRIPT = os.path.join(HERE, "..", "clients", "sdk-resume.mjs")


def test_sdk_resume():
    """The official SDK client's own reconnection (GET with Last-Event-ID
    after the server's retry) resumes a stream on the successor of the
    killed worker that served it, and gets the answer the registry kept
    (tests/clients/sdk-resume.mjs: the client stands still while the
    worker is killed)."""
    if not PLUGIN or not os.path.exists(PLUGIN):
        raise T.TestFailure("MCPD_PLUGIN (the conformance plugin) not set")
    for f in (NODE, RESUME_SCRIPT):
        check(os.path.exists(f), "%s is missing; run: npm ci --prefix "
              "tests/conformance (or set MCPD_CONFORMANCE_DIR)" % f)
    d = T.Daemon(keys={"workers": "2", "initialize-rate": "0",
                       "plugin": '"%s"' % PLUGIN})
    d.start()
    before = events_kept(d)
    proc = subprocess.Popen(
        [NODE, RESUME_SCRIPT, "http://127.0.0.1:%d/mcp" % d.http_port],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    T.on_cleanup(lambda: proc.poll() is None and proc.kill())
    out = []
    try:
        for line in proc.stdout:
            out.append(line.rstrip("\n"))
            if line.startswith("token "):
                break
        check(out and out[-1].startswith("token "),
              "no token from the client: %r" % out)
        w = int(out[-1].split()[1].split("-")[0])
        # the answer (and the stream's head) reach the agent
        T.wait_until(lambda: events_kept(d) >= before + 2, 5,
                     "the answer in the registry")
        kill_worker(d, w)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        rest, _ = proc.communicate(timeout=60)
        out += rest.splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in out:
        info(line)
    check_eq(proc.returncode, 0, "sdk-resume")
    check(any(l.startswith("ok - the answer, replayed") for l in out),
          "the replayed answer")
    d.stop()


def test_shed():
    """registry-size: replay events are shed, oldest first, before a
    session's record is refused: the sessions all survive a kill, the
    registry stays within its bytes, and /metrics and the log say so."""
    if not PLUGIN or not os.path.exists(PLUGIN):
        raise T.TestFailure("MCPD_PLUGIN (the conformance plugin) not set")
    size = 1024 * 1024
    d = T.Daemon(keys={"workers": "1", "session-responses": "sse",
                       "initialize-rate": "0", "plugin": '"%s"' % PLUGIN,
                       "registry-size": "1M"}, extra=BIG_TOOL)
    d.start()
    p = d.http_port
    sids = sessions(d, 10)
    for i, sid in enumerate(sids):
        st, _, msgs = post(p, request("tools/call", {"name": "big"},
                                      rid=20 + i), sid)
        check_eq(st, 200, "big")
    T.wait_until(lambda: get(scrape(d), "mcpd_rejections_total",
                             reason="replay") > 0, 5, "events shed")
    s = scrape(d)
    info("registry: %d records, %d events, %d bytes; %d events shed" % (
        get(s, "mcpd_registry_records"), get(s, "mcpd_registry_events"),
        get(s, "mcpd_registry_bytes"),
        get(s, "mcpd_rejections_total", reason="replay")))
    check(get(s, "mcpd_registry_bytes") <= size, "within registry-size")
    check_eq(get(s, "mcpd_registry_records"), 10, "every session kept")
    check_eq(get(s, "mcpd_rejections_total", reason="registry"), 0,
             "no record refused")
    d.wait_log(r"registry: full \(\d+ bytes\): the oldest replay events "
               r"are shed")
    reg = d.status()["registry"]
    check_eq((reg["records"], reg["replay_events"] > 0,
              0 < reg["bytes"] <= size, reg["lag_bytes"] >= 0),
             (10, True, True, True), "mcpctl status: registry %r" % reg)
    rc, out, _ = d.ctl("status")
    check("registry 10 records, " in out, "mcpctl status: %r" % out)
    kill_worker(d, 0)
    all_alive(d, sids, "after the kill")
    d.stop()


if __name__ == "__main__":
    T.main([test_worker_killed, test_kill_under_load,
            test_handoff_to_the_dead, test_gap,
            test_handoff_bounds,
            test_watchdog, test_agent_killed, test_agent_stuck,
            test_tasks,
            test_bound, test_replay, test_replay_lost, test_sdk_resume,
            test_shed])
