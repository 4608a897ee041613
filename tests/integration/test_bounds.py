#!/usr/bin/env python3
"""Bounds, each exceeded on purpose against the real daemon: the node's
connection limit, the per-address cap, the accept rate, requests in
flight (HTTP and stdio), and the output buffer of a client that does not
read.  Each gets the exact answer (503 with Retry-After and a JSON-RPC
error, or the stream closed), the accepted work still completes, the
rejection is counted in /metrics, memory stays flat and the daemon stays
up."""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
ACCEPT = "application/json, text/event-stream"
V = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {}}
CATALOG = """
tool "sleeper" {
	description "sleeps 30 s"
	command "/bin/sleep" "30"
	timeout 60s
}
"""


def daemon(**keys):
    k = {"workers": "1", "plugin": '"%s"' % PLUGIN}
    k.update(keys)
    d = T.Daemon(keys=k, extra=CATALOG)
    d.start()
    return d


def request(method, params=None, rid=1):
    p = dict(params or {})
    p["_meta"] = META
    b = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                    "params": p}).encode()
    h = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
         "application/json\r\nAccept: %s\r\nMCP-Protocol-Version: %s\r\n"
         "Mcp-Method: %s\r\n" % (ACCEPT, V, method))
    if "name" in p:
        h += "Mcp-Name: %s\r\n" % p["name"]
    h += "Content-Length: %d\r\n\r\n" % len(b)
    return h.encode() + b


def read_response(s, timeout=5):
    """(status, headers, body) of one response, or None if closed."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, hdrs, rest[:n]


def connect(port, src="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def ask(s, method="tools/list", params=None, rid=1):
    s.sendall(request(method, params, rid))
    return read_response(s)


def check_refused(r, what):
    check(r is not None, "%s: an answer before the close" % what)
    st, h, body = r
    check_eq(st, 503, what)
    check_eq(h.get("retry-after"), "1", "%s: Retry-After" % what)
    e = json.loads(body)["error"]
    check_eq(e["code"], -32000, "%s: the JSON-RPC error" % what)
    check(e["data"]["retryAfterMs"] >= 1, "%s: a retry hint" % what)


def metrics(d):
    c = http.client.HTTPConnection("127.0.0.1", d.admin_port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return text


def rejections(d, reason):
    m = re.search(r'^mcpd_rejections_total\{reason="%s"\} (\d+)$' % reason,
                  metrics(d), re.M)
    return int(m.group(1)) if m else -1


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def bucket_max(burst, rate, elapsed):
    """The most a token bucket (burst tokens, refilled at rate a second)
    lets through in elapsed seconds, timed by the client: the daemon's
    window lies inside it.  +1 for the rounding of its clock."""
    return int(burst + rate * elapsed) + 1


def worker_pid(d):
    return T.Daemon.row(d.status(), "worker")["pid"]


def test_connection_limit():
    d = daemon(**{"max-connections": "20"})
    try:
        p = d.http_port
        held = [connect(p) for _ in range(20)]
        for s in held:
            check_eq(ask(s)[0], 200, "an accepted connection answers")
        wpid = worker_pid(d)
        before = rss_kb(wpid)
        for i in range(300):
            s = connect(p)
            try:
                s.sendall(request("tools/list"))
            except OSError:
                pass
            r = read_response(s)
            check_refused(r, "connection %d past max-connections" % (21 + i))
            check(s.recv(1) == b"", "the refused connection is closed")
            s.close()
        grew = rss_kb(wpid) - before
        info("worker RSS %+d KiB after 300 refused connections" % grew)
        check(grew < 2048, "memory flat: %d KiB more" % grew)
        # those accepted still work; the admin listener is never refused
        for s in held:
            check_eq(ask(s, rid=2)[0], 200, "accepted work goes on")
        check_eq(rejections(d, "connections"), 300,
                 "rejections_total{connections}")
        for s in held:
            s.close()
        # room again
        # (the admin listener is never refused: ask there)
        T.wait_until(lambda: re.search(r"^mcpd_connections [01]$", metrics(d),
                                       re.M), 10, "the connections gone")
        s = connect(p)
        check_eq(ask(s)[0], 200, "accepted again under the limit")
        s.close()
        check("refusing connections: too many connections" in d.log(),
              "the refusals are logged")
    finally:
        d.stop()


def test_per_address_and_rate():
    d = daemon(**{"max-connections-per-address": "3"})
    try:
        p = d.http_port
        held = [connect(p) for _ in range(3)]
        for s in held:
            check_eq(ask(s)[0], 200, "within the per-address cap")
        s = connect(p)
        check_refused(ask(s), "a 4th connection from 127.0.0.1")
        s.close()
        other = connect(p, "127.0.0.2")
        check_eq(ask(other)[0], 200, "another address is not capped")
        other.close()
        held.pop().close()
        # a slot freed by a close, once the worker has seen it (on a busy
        # machine it may not have yet: refused again meanwhile, counted)
        early = 0
        for _ in range(100):
            s = connect(p)
            r = ask(s)
            s.close()
            if r is not None and r[0] == 200:
                break
            check_refused(r, "a 4th connection before the close was seen")
            early += 1
            time.sleep(0.1)
        check_eq(r[0], 200, "a slot freed by a close")
        if early:
            info("refused %d more time(s) before the close was seen" % early)
        check_eq(rejections(d, "address"), 1 + early,
                 "rejections_total{address}")
        for s in held:
            s.close()
    finally:
        d.stop()
    d = daemon(**{"accept-rate": "5"})
    try:
        p = d.http_port
        ok = refused = 0
        t0 = time.monotonic()
        for _ in range(40):
            s = connect(p)
            r = ask(s)
            if r is not None and r[0] == 200:
                ok += 1
            else:
                check_refused(r, "past accept-rate")
                refused += 1
            s.close()
        dt = time.monotonic() - t0
        info("accept-rate 5: %d accepted, %d refused in %.2f s" %
             (ok, refused, dt))
        # the burst (1 s of the rate), then 5 a second: how many that is
        # depends on how long the client took, not on a fixed count
        check(5 <= ok <= bucket_max(5, 5, dt), "accepted %d in %.2f s, want "
              "the burst of 5 and at most 5 a second more" % (ok, dt))
        check(refused >= 1, "none refused")
        check_eq(rejections(d, "accept_rate"), refused,
                 "rejections_total{accept_rate}")
        time.sleep(1.1)
        s = connect(p)
        check_eq(ask(s)[0], 200, "accepted again a second later")
        s.close()
    finally:
        d.stop()


def test_pending():
    d = daemon(**{"max-pending": "2"})
    try:
        p = d.http_port
        busy = []
        for i in range(2):
            s = connect(p)
            s.sendall(request("tools/call", {"name": "sleeper"}, rid=i))
            busy.append(s)
        T.wait_until(lambda: len([q for q in T.descendants(d.pid)
                                  if (T.cmdline(q) or b"").startswith(
                                      b"/bin/sleep")]) == 2, 10,
                     "two calls in flight")
        s = connect(p)
        r = ask(s, rid=7)
        check_refused(r, "a request past max-pending")
        check_eq(json.loads(r[2])["id"], 7, "the request's id")
        # a notification is not work in flight
        s.close()
        check_eq(rejections(d, "pending"), 1, "rejections_total{pending}")
        check(re.search(r'^mcpd_requests_total\{mcp_method_name="tools/list"'
                        r',outcome="rejected"\} 1$', metrics(d), re.M),
              "counted as rejected")
        for s in busy:
            s.close()       # cancels them
        T.wait_until(lambda: not [q for q in T.descendants(d.pid)
                                  if (T.cmdline(q) or b"").startswith(
                                      b"/bin/sleep")], 10, "the calls gone")
        # the worker counts a call out when the runner's answer comes,
        # a moment after its processes are gone
        def accepted():
            s = connect(p)
            st = ask(s)[0]
            s.close()
            return st == 200
        T.wait_until(accepted, 10, "new work accepted again")
    finally:
        d.stop()


def initialize(s, rid=1, auth=None):
    b = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25",
                               "capabilities": {},
                               "clientInfo": {"name": "t", "version": "1"}}
                    }).encode()
    s.sendall(("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
               "application/json\r\nAccept: %s\r\nContent-Length: %d\r\n"
               "\r\n" % (ACCEPT, len(b))).encode() + b)
    return read_response(s)


def test_sessions_and_rates():
    d = daemon(**{"max-sessions": "2", "session-responses": "json"})
    try:
        s = connect(d.http_port)
        check_eq(initialize(s, 1)[0], 200, "a first session")
        check_eq(initialize(s, 2)[0], 200, "a second session")
        check_refused(initialize(s, 3), "a session past max-sessions")
        check_eq(rejections(d, "sessions"), 1, "rejections{sessions}")
        s.close()
    finally:
        d.stop()
    d = daemon(**{"initialize-rate": "2", "session-responses": "json"})
    try:
        s = connect(d.http_port)
        t0 = time.monotonic()
        got = [initialize(s, i)[0] for i in range(5)]
        dt = time.monotonic() - t0
        info("initialize-rate 2: %r in %.2f s" % (got, dt))
        check_eq(got[:2], [200, 200], "the burst of initialize-rate")
        check(got.count(200) + got.count(503) == 5 and
              got.count(200) <= bucket_max(2, 2, dt) and got.count(503) >= 1,
              "then 503, at most 2 a second accepted: %r in %.2f s" %
              (got, dt))
        o = connect(d.http_port, "127.0.0.3")
        check_eq(initialize(o, 9)[0], 200, "another address")
        o.close()
        s.close()
    finally:
        d.stop()
    d = daemon(**{"request-rate": "5"})
    try:
        s = connect(d.http_port)
        got = []
        t0 = time.monotonic()
        for i in range(20):
            r = ask(s, rid=i)
            got.append(r[0])
            if r[0] == 429:
                check_eq(r[1].get("retry-after"), "1", "429 Retry-After")
                e = json.loads(r[2])["error"]
                check_eq((e["code"], json.loads(r[2])["id"]), (-32000, i),
                         "429's JSON-RPC error")
        dt = time.monotonic() - t0
        info("request-rate 5: %r in %.2f s" % (got, dt))
        check(5 <= got.count(200) <= bucket_max(5, 5, dt),
              "the burst of 5, then at most 5 a second: %r in %.2f s" %
              (got, dt))
        check(got.count(200) + got.count(429) == 20 and got.count(429) >= 1,
              "the rest 429: %r" % got)
        check_eq(rejections(d, "rate"), got.count(429), "rejections{rate}")
        # a bearer token nobody verified names nobody (auth none): one
        # made up is not a fresh budget (test_auth: a verified one is)
        made_up = []
        for i in range(5):
            b = request("tools/list").replace(
                b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\n"
                b"Authorization: Bearer tok-%d\r\n" % i)
            s.sendall(b)
            made_up.append(read_response(s)[0])
        check(made_up.count(429) >= 1,
              "five made-up tokens, five budgets: %r" % made_up)
        s.close()
    finally:
        d.stop()


def session_post(s, sid, body):
    b = json.dumps(body).encode()
    s.sendall(("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
               "application/json\r\nAccept: %s\r\nMcp-Session-Id: %s\r\n"
               "MCP-Protocol-Version: 2025-11-25\r\nContent-Length: %d\r\n"
               "\r\n" % (ACCEPT, sid, len(b))).encode() + b)
    return read_response(s)


def test_unused_sessions_expire_soon():
    """A session nothing came for after its initialize holds its place of
    max-sessions for session-start-timeout, not session-timeout."""
    d = daemon(**{"session-start-timeout": "1s", "session-timeout": "1m",
                  "session-responses": "json"})
    try:
        s = connect(d.http_port)
        unused = initialize(s, 1)[1]["mcp-session-id"]
        used = initialize(s, 2)[1]["mcp-session-id"]
        check_eq(session_post(s, used, {
            "jsonrpc": "2.0", "method": "notifications/initialized"})[0],
            202, "the used one's notifications/initialized")
        t0 = time.monotonic()
        # the sweep runs every second; an unused session is not touched
        # by asking about it: a 404 or 200 would say so (no ping is sent)
        T.wait_until(lambda: d.healthz()["sessions"] == 1, 10,
                     "the unused session to end")
        info("the unused session ended %.2f s after its initialize" %
             (time.monotonic() - t0))
        check_eq(session_post(s, unused, {"jsonrpc": "2.0", "id": 3,
                                          "method": "ping"})[0], 404,
                 "the unused session ended")
        check_eq(session_post(s, used, {"jsonrpc": "2.0", "id": 4,
                                        "method": "ping"})[0], 200,
                 "the used session lives on")
        s.close()
    finally:
        d.stop()


def test_silent_connections():
    """A connection that sends nothing is closed at header-timeout, one
    that was served waits for its next request idle-timeout."""
    d = daemon(**{"header-timeout": "1s", "idle-timeout": "1m"})
    try:
        served = connect(d.http_port)
        check_eq(ask(served)[0], 200, "a request")
        t0 = time.monotonic()
        silent = [connect(d.http_port) for _ in range(20)]
        for c in silent:
            c.settimeout(10)
            check_eq(c.recv(1), b"", "closed, without a word")
        dt = time.monotonic() - t0
        info("20 silent connections closed after %.2f s" % dt)
        check(dt < 10, "at header-timeout (1 s), not idle-timeout (60 s)")
        served.settimeout(0.5)
        try:
            served.recv(1)
            check(False, "the served connection was closed")
        except socket.timeout:
            pass
        check_eq(ask(served)[0], 200, "the served connection serves on")
        served.close()
    finally:
        d.stop()


def test_default_per_address():
    """max-connections-per-address is 1000 unless said otherwise."""
    d = daemon()
    try:
        conns = [connect(d.http_port) for _ in range(1000)]
        check_eq(ask(conns[-1])[0], 200, "the 1000th connection")
        extra = connect(d.http_port)
        r = read_response(extra, timeout=10)
        check_refused(r, "the 1001st connection from one address")
        check_eq(rejections(d, "address"), 1, "rejections{address}")
        check_eq(ask(connect(d.http_port, "127.0.0.7"))[0], 200,
                 "another address")
        for c in conns:
            c.close()
    finally:
        d.stop()


def test_stdio_pending():
    conf = os.path.join(T._short_tmpdir(), "stdio.conf")
    with open(conf, "w") as f:
        f.write('plugin "%s"\nmax-pending-per-connection 2\n' % PLUGIN)
    lines = []
    for i in range(3):
        lines.append(json.dumps({"jsonrpc": "2.0", "id": i,
                                 "method": "tools/call", "params": {
                                     "name": "slow_compute",
                                     "arguments": {"seconds": 1},
                                     "_meta": META}}))
    r = subprocess.run([T.MCPD, "--stdio", "-c", conf],
                       input=("\n".join(lines) + "\n").encode(),
                       capture_output=True, timeout=20)
    out = [json.loads(x) for x in r.stdout.decode().splitlines() if x]
    by_id = {m["id"]: m for m in out if "id" in m}
    check_eq(by_id[2]["error"]["code"], -32000, "the third: overloaded")
    check(by_id[2]["error"]["data"]["retryAfterMs"] >= 1, "a retry hint")
    for i in (0, 1):
        check("result" in by_id[i], "request %d completes: %r" %
              (i, by_id[i]))


def test_output_buffer():
    d = daemon(**{"max-output-buffer": "64K"})
    try:
        p = d.http_port
        s = connect(p)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        uri = "test://" + "u" * 1000
        s.sendall(request("subscriptions/listen", {"notifications": {
            "resourceSubscriptions": [uri]}}, rid="L"))
        t = connect(p)
        n = 0
        while rejections(d, "output") < 1 and n < 20000:
            t.sendall(request("tools/call",
                              {"name": "test_trigger_resource_update",
                               "arguments": {"uri": uri}}, rid=n) * 200)
            got = 0
            while got < 200:
                got += t.recv(1 << 20).count(b"HTTP/1.1 200")
            n += 200
        info("closed after %d notifications" % n)
        check_eq(rejections(d, "output"), 1, "rejections_total{output}")
        check(n < 20000, "the bound was reached")
        t.close()
        s.close()
        check_eq(ask(connect(p))[0], 200, "the daemon serves on")
    finally:
        d.stop()


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_connection_limit, test_per_address_and_rate, test_pending,
            test_sessions_and_rates, test_unused_sessions_expire_soon,
            test_silent_connections, test_default_per_address,
            test_stdio_pending, test_output_buffer])
