#!/usr/bin/env python3
"""Streamable HTTP, session era: the probe matrix of REFERENCE C.3 and the
limits, against mcpd with the conformance fixture plugin and 4 workers (so
sessions cross workers by hand-over)."""

import base64
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
ACCEPT = "application/json, text/event-stream"


def daemon(debug=False, **keys):
    k = {"workers": "4", "plugin": '"%s"' % PLUGIN}
    k.update(keys)
    d = T.Daemon(keys=k)
    d.start(args=("-f", "-d") if debug else ("-f",))
    return d


def post(port, body, sid=None, headers=None, raw=None):
    """POST /mcp; returns (status, headers dict, messages list or text)."""
    h = {"Content-Type": "application/json", "Accept": ACCEPT,
         "Host": "127.0.0.1:%d" % port}
    if sid:
        h["Mcp-Session-Id"] = sid
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    data = raw if raw is not None else json.dumps(body).encode()
    c.putrequest("POST", "/mcp", skip_host=True, skip_accept_encoding=True)
    for k, v in h.items():
        c.putheader(k, v)
    c.putheader("Content-Length", str(len(data)))
    c.endheaders(data)
    r = c.getresponse()
    text = r.read().decode()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, parse_body(hdrs, text)


def parse_body(hdrs, text):
    ctype = hdrs.get("content-type", "")
    if ctype.startswith("text/event-stream"):
        msgs = []
        for ev in text.split("\n\n"):
            data = [ln[5:].lstrip() for ln in ev.split("\n")
                    if ln.startswith("data:")]
            if data and "".join(data):
                msgs.append(json.loads("".join(data)))
        return msgs
    if ctype.startswith("application/json") and text:
        return [json.loads(text)]
    return text


def request(method, params=None, rid=1):
    m = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        m["params"] = params
    return m


def init(port, version="2025-11-25"):
    st, h, msgs = post(port, request("initialize", {
        "protocolVersion": version,
        "capabilities": {"sampling": {}, "elicitation": {}},
        "clientInfo": {"name": "test", "version": "1"}}))
    check_eq(st, 200, "initialize status")
    sid = h.get("mcp-session-id")
    check(sid and all(0x21 <= ord(ch) <= 0x7e for ch in sid),
          "session id %r" % sid)
    st2, _, _ = post(port, {"jsonrpc": "2.0",
                            "method": "notifications/initialized"}, sid)
    check_eq(st2, 202, "notifications/initialized status")
    return sid, msgs[-1]["result"]


def raw_request(port, method, sid=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    h = {"Host": "127.0.0.1:%d" % port}
    if sid:
        h["Mcp-Session-Id"] = sid
    h.update(headers or {})
    c.request(method, "/mcp", headers=h)
    r = c.getresponse()
    return c, r


def test_probe_matrix():
    d = daemon()
    try:
        p = d.http_port
        sid, res = init(p, "2025-06-18")
        check_eq(res["protocolVersion"], "2025-06-18", "echoed version")
        for v in ("2024-11-05", "1999-01-01"):
            _, r2 = init(p, v)
            check_eq(r2["protocolVersion"], "2025-11-25",
                     "version answered to %s" % v)
        check(res["capabilities"]["resources"]["subscribe"],
              "resources.subscribe")
        st, h, msgs = post(p, request("tools/list", rid=2), sid)
        check_eq(st, 200, "tools/list")
        names = [t["name"] for t in msgs[-1]["result"]["tools"]]
        check("test_simple_text" in names, "tools %r" % names)
        st, _, body = post(p, request("ping"), sid,
                           {"Accept": "application/json"})
        check_eq(st, 406, "Accept: application/json only")
        st, _, body = post(p, request("ping"), sid,
                           {"Content-Type": "text/plain"})
        check_eq(st, 415, "Content-Type: text/plain")
        st, _, body = post(p, request("ping"))
        check_eq(st, 400, "no Mcp-Session-Id")
        st, _, body = post(p, request("ping"), "AQAAnot-a-real-session")
        check_eq(st, 404, "forged session id")
        st, _, body = post(p, request("ping"), sid[:-2] + (
            "AA" if not sid.endswith("AA") else "BB"))
        check_eq(st, 404, "tampered session id")
        st, _, body = post(p, request("ping"), sid,
                           {"MCP-Protocol-Version": "1999-01-01"})
        check_eq(st, 400, "unsupported MCP-Protocol-Version")
        # any supported version is accepted in the header
        st, _, body = post(p, request("ping"), sid,
                           {"MCP-Protocol-Version": "2025-03-26"})
        check_eq(st, 200, "MCP-Protocol-Version 2025-03-26")
        st, _, body = post(p, None, sid, raw=b'{"jsonrpc": "2.0", "id"')
        check_eq(st, 400, "invalid JSON")
        check_eq(body[0]["error"]["code"], -32700, "invalid JSON code")
        st, _, body = post(p, [request("ping", rid=1),
                               request("ping", rid=2)], sid)
        check_eq(st, 400, "batch")
        st, _, msgs = post(p, request("no/such/method", rid=9), sid)
        check_eq(st, 200, "unknown method status")
        check_eq(msgs[-1]["error"]["code"], -32601, "unknown method")
        check_eq(msgs[-1]["id"], 9, "error id")
        st, _, body = post(p, request("initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "x", "version": "1"}}), sid)
        check_eq(st, 400, "second initialize")
        check_eq(body[0]["error"]["code"], -32600, "second initialize code")
        st, _, body = post(p, request("ping"), sid,
                           {"Host": "evil.example.com"})
        check_eq(st, 403, "foreign Host")
        st, _, body = post(p, request("ping"), sid,
                           {"Origin": "http://evil.example.com"})
        check_eq(st, 403, "foreign Origin")
        st, _, body = post(p, request("ping"), sid,
                           {"Origin": "http://localhost:%d" % p})
        check_eq(st, 200, "own Origin")
        c, r = raw_request(p, "GET", sid)
        check_eq(r.status, 406, "GET without Accept: text/event-stream")
        c.close()
        c1, r1 = raw_request(p, "GET", sid, {"Accept": "text/event-stream"})
        check_eq(r1.status, 200, "GET stream")
        check(r1.getheader("Content-Type").startswith("text/event-stream"),
              "GET content type")
        c2, r2 = raw_request(p, "GET", sid, {"Accept": "text/event-stream"})
        check_eq(r2.status, 409, "second GET stream")
        c2.close()
        c1.close()
        c, r = raw_request(p, "PUT", sid)
        check_eq(r.status, 405, "PUT")
        check_eq(r.getheader("Allow"), "GET, POST, DELETE", "Allow")
        c.close()
        c, r = raw_request(p, "DELETE", sid)
        check_eq(r.status, 200, "DELETE")
        c.close()
        st, _, body = post(p, request("ping"), sid)
        check_eq(st, 404, "request after DELETE")
        c, r = raw_request(p, "DELETE", sid)
        check_eq(r.status, 404, "DELETE again")
        c.close()
    finally:
        d.stop()


def test_one_session_across_workers():
    """Fresh connections land on any of 4 workers; all see one session."""
    d = daemon(debug=True)
    try:
        p = d.http_port
        sid, _ = init(p)
        for i in range(40):
            st, _, msgs = post(p, request("tools/call", {
                "name": "test_simple_text"}, rid=100 + i), sid)
            check_eq(st, 200, "call %d over a new connection" % i)
            check_eq(msgs[-1]["id"], 100 + i, "answer id")
        # the kernel picks the worker: find a connection that landed on
        # another worker than the owner (named in the id), then use it
        raw = base64.urlsafe_b64decode(sid + "=" * (-len(sid) % 4))
        owner = raw[1] << 8 | raw[2]
        for _ in range(400):
            c = http.client.HTTPConnection("127.0.0.1", p, timeout=5)
            c.request("GET", "/healthz")
            w = json.loads(c.getresponse().read())["worker"]
            if w != owner:
                break
            c.close()
        check(w != owner, "400 connections all landed on worker %d" % owner)
        c.request("POST", "/mcp", json.dumps(request("ping", rid=7)).encode(),
                  {"Content-Type": "application/json", "Accept": ACCEPT,
                   "Mcp-Session-Id": sid})
        r = c.getresponse()
        check_eq(r.status, 200, "ping on worker %d, session of %d" %
                 (w, owner))
        msgs = parse_body({k.lower(): v for k, v in r.getheaders()},
                          r.read().decode())
        check_eq(msgs[-1]["id"], 7, "answer after the hand-over")
        c.close()
        check("worker %d: fd" % w in d.log() and "handed over" in d.log(),
              "worker %d did not hand the connection over" % w)
        # keep-alive: after the hand-over the owner keeps the connection
        c = http.client.HTTPConnection("127.0.0.1", p, timeout=5)
        for i in range(5):
            body = json.dumps(request("ping", rid=i)).encode()
            c.request("POST", "/mcp", body, {
                "Content-Type": "application/json", "Accept": ACCEPT,
                "Mcp-Session-Id": sid})
            r = c.getresponse()
            check_eq(r.status, 200, "keep-alive ping %d" % i)
            msgs = parse_body({k.lower(): v for k, v in r.getheaders()},
                              r.read().decode())
            check_eq(msgs[-1]["id"], i, "keep-alive answer id")
        c.close()
    finally:
        d.stop()


def test_sse_notifications_before_result():
    d = daemon()
    try:
        p = d.http_port
        sid, _ = init(p)
        st, h, msgs = post(p, request("tools/call", {
            "name": "test_tool_with_progress",
            "_meta": {"progressToken": "tok"}}, rid=5), sid)
        check_eq(st, 200, "progress call")
        check(h["content-type"].startswith("text/event-stream"), "SSE")
        kinds = [m.get("method", "result") for m in msgs]
        check_eq(kinds, ["notifications/progress"] * 3 + ["result"],
                 "messages on the stream")
        check_eq([m["params"]["progress"] for m in msgs[:3]], [0, 50, 100],
                 "progress values")
    finally:
        d.stop()


def test_batches():
    """A batch: 400 in 2025-06-18 and later, answered in 2025-03-26."""
    d = daemon()
    try:
        p = d.http_port
        sid, res = init(p, "2025-03-26")
        check_eq(res["protocolVersion"], "2025-03-26", "version")
        st, h, msgs = post(p, [request("ping", rid=1),
                               {"jsonrpc": "2.0",
                                "method": "notifications/initialized"},
                               request("tools/call", {
                                   "name": "test_tool_with_progress",
                                   "_meta": {"progressToken": 3}}, rid=2),
                               request("no/such", rid=3),
                               "not a message"], sid)
        check_eq(st, 200, "batch status")
        check(h["content-type"].startswith("text/event-stream"), "SSE")
        ids = sorted(str(m.get("id")) for m in msgs if "method" not in m)
        check_eq(ids, ["1", "2", "3", "None"], "answers in the batch")
        check_eq(len([m for m in msgs if m.get("method") ==
                      "notifications/progress"]), 3, "progress in a batch")
        st, _, _ = post(p, [{"jsonrpc": "2.0",
                             "method": "notifications/initialized"}], sid)
        check_eq(st, 202, "a batch of notifications")
        st, _, body = post(p, [], sid)
        check_eq(st, 400, "an empty batch")
        sid2, _ = init(p, "2025-06-18")
        st, _, body = post(p, [request("ping")], sid2)
        check_eq(st, 400, "a batch in 2025-06-18")
    finally:
        d.stop()


def test_idle_session_expires():
    """session-timeout: an idle session ends (404), a used one stays."""
    # 2 s: the session in use is pinged every 0.5 s, and stays even if a
    # busy machine holds this test up by a second between two pings
    d = daemon(**{"session-timeout": "2s", "workers": "2"})
    try:
        p = d.http_port
        idle, _ = init(p)
        t_idle = time.monotonic()
        busy, _ = init(p)
        for _ in range(5):
            time.sleep(0.5)
            st, _, _ = post(p, request("ping"), busy)
            check_eq(st, 200, "a session in use")
        # the sweep runs every second: idle for the timeout, a sweep, and
        # a second for a busy machine
        time.sleep(max(0.0, t_idle + 2.0 + 1.0 + 1.0 - time.monotonic()))
        st, _, _ = post(p, request("ping"), idle)
        check_eq(st, 404, "an idle session after session-timeout")
    finally:
        d.stop()


def test_limits():
    d = daemon(**{"max-body-size": "1K", "max-header-size": "1K",
                  "header-timeout": "1s"})
    try:
        p = d.http_port
        sid, _ = init(p)
        st, _, _ = post(p, None, sid, raw=b"{" + b" " * 2000 + b"}")
        check_eq(st, 413, "body over max-body-size")
        st, _, _ = post(p, request("ping"), sid, {"X-Big": "x" * 2000})
        check_eq(st, 431, "header over max-header-size")
        # timed from before the connect, so the daemon's 1 s (from its
        # accept) lies inside the test's: never less, and late only by
        # what a busy machine delays a timer and this test
        t0 = time.monotonic()
        s = socket.create_connection(("127.0.0.1", p), timeout=10)
        s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        data = s.recv(4096)
        dt = time.monotonic() - t0
        check(data.startswith(b"HTTP/1.1 408"), "slow header: %r" % data)
        check(0.95 <= dt <= 3.0, "408 after %.2f s, want 1 s" % dt)
        s.close()
        # the daemon is fine afterwards
        st, _, _ = post(p, request("ping"), sid)
        check_eq(st, 200, "ping after the limits")
    finally:
        d.stop()


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_probe_matrix, test_one_session_across_workers,
            test_sse_notifications_before_result, test_batches,
            test_idle_session_expires, test_limits])
