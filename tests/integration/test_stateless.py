#!/usr/bin/env python3
"""Streamable HTTP, stateless era (2026-07-28), against mcpd with the
conformance fixture plugin, an exec tool catalog and 4 workers: both eras
on one endpoint, what this era ignores and refuses, subscriptions/listen
streams on every worker hearing a change made on one, a closed stream
cancelling its request (the exec tool's process group is killed), and
tasks found from any worker."""

import http.client
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
ACCEPT = "application/json, text/event-stream"
V = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {
            "extensions": {"io.modelcontextprotocol/tasks": {}}}}

CATALOG = """
tool "sleeper" {
	description "sleeps 30 s (a process to cancel)"
	command "/bin/sleep" "30"
	timeout 60s
}
tool "later" {
	description "answers after a second, as a task if the client takes one"
	command "/bin/sh" "-c" "sleep 1; echo done-later"
	task optional
}
"""


def daemon(**keys):
    k = {"workers": "4", "plugin": '"%s"' % PLUGIN, "sse-keepalive": "1s"}
    k.update(keys)
    d = T.Daemon(keys=k, extra=CATALOG)
    d.start()
    return d


def body(method, params=None, rid=1, meta=None):
    p = dict(params or {})
    p["_meta"] = meta or META
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": p}


def headers_for(b, version=V):
    h = {"Content-Type": "application/json", "Accept": ACCEPT,
         "MCP-Protocol-Version": version, "Mcp-Method": b["method"]}
    p = b.get("params") or {}
    for k in ("name", "uri", "taskId"):
        if k in p and b["method"] in ("tools/call", "prompts/get",
                                      "resources/read", "tasks/get",
                                      "tasks/update", "tasks/cancel"):
            h["Mcp-Name"] = p[k]
            break
    return h


def post(port, b, headers=None, method="POST", raw=None):
    """One request; (status, headers, list of messages or text)."""
    h = headers_for(b) if b is not None else {}
    h["Host"] = "127.0.0.1:%d" % port
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = raw if raw is not None else (json.dumps(b).encode()
                                         if b is not None else b"")
    c.putrequest(method, "/mcp", skip_host=True, skip_accept_encoding=True)
    for k, v in h.items():
        c.putheader(k, v)
    c.putheader("Content-Length", str(len(data)))
    c.endheaders(data)
    r = c.getresponse()
    text = r.read().decode()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    ctype = hdrs.get("content-type", "")
    if ctype.startswith("text/event-stream"):
        msgs = [json.loads(m) for m in re.findall(r"^data: (.+)$", text,
                                                  re.M) if m.strip()]
        return r.status, hdrs, msgs
    if ctype.startswith("application/json"):
        return r.status, hdrs, [json.loads(text)]
    return r.status, hdrs, text


class Stream(object):
    """A POST whose SSE answer is read as it comes (listen, long calls)."""

    def __init__(self, port, b):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        data = json.dumps(b).encode()
        h = headers_for(b)
        h["Host"] = "127.0.0.1:%d" % port
        h["Content-Length"] = str(len(data))
        head = "POST /mcp HTTP/1.1\r\n" + "".join(
            "%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        self.s.sendall(head.encode() + data)
        self.buf = b""
        self.msgs = []
        self.comments = 0

    def read(self, want, timeout):
        """Until want(messages) or the timeout; returns the messages."""
        deadline = time.monotonic() + timeout
        while not want(self.msgs) and time.monotonic() < deadline:
            self.s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            self.buf += chunk
            self.msgs = [json.loads(m) for m in re.findall(
                rb"^data: (.+)$", self.buf, re.M) if m.strip()]
            self.comments = len(re.findall(rb"^: keepalive", self.buf,
                                           re.M))
        return self.msgs

    def close(self):
        self.s.close()


def test_both_eras_one_endpoint():
    d = daemon()
    try:
        p = d.http_port
        # a 2025 session
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25",
                           "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}
        st, h, _ = post(p, None, raw=json.dumps(init).encode(),
                        headers={"Content-Type": "application/json",
                                 "Accept": ACCEPT})
        check_eq(st, 200, "initialize (2025-11-25)")
        check("mcp-session-id" in h, "a session id for the 2025 client")
        # a 2026 request beside it, with a stale session id: ignored
        st, h, msgs = post(p, body("tools/call", {"name": "test_simple_text"}),
                           headers={"Mcp-Session-Id": "bogus",
                                    "Last-Event-ID": "0-1-2"})
        check_eq(st, 200, "2026 tools/call with a bogus Mcp-Session-Id")
        check("mcp-session-id" not in h, "no session id minted: %r" % h)
        check_eq(msgs[0]["result"]["resultType"], "complete", "resultType")
        check_eq(h.get("content-type"), "application/json", "a JSON answer")
        # versions nobody speaks: -32022 listing ours, in both eras' shape
        st, _, msgs = post(p, body("tools/list"),
                           headers={"MCP-Protocol-Version": "2099-01-01"})
        check_eq(st, 400, "unknown version")
        check_eq(msgs[0]["error"]["code"], -32022, "UnsupportedProtocolVersion")
        check(V in msgs[0]["error"]["data"]["supported"] and
              "2025-11-25" in msgs[0]["error"]["data"]["supported"],
              "supported versions: %r" % msgs[0]["error"]["data"])
        # GET and DELETE are not of this era
        for m in ("GET", "DELETE"):
            st, h, _ = post(p, None, method=m,
                            headers={"MCP-Protocol-Version": V,
                                     "Accept": "text/event-stream"})
            check_eq(st, 405, "%s with MCP-Protocol-Version %s" % (m, V))
            check_eq(h.get("allow"), "POST", "Allow of the 405")
        # a notification: 202, nothing else
        n = {"jsonrpc": "2.0", "method": "notifications/whatever",
             "params": {"_meta": META}}
        st, _, text = post(p, None, raw=json.dumps(n).encode(),
                           headers={"Content-Type": "application/json",
                                    "Accept": ACCEPT,
                                    "MCP-Protocol-Version": V,
                                    "Mcp-Method": "notifications/whatever"})
        check_eq(st, 202, "a notification")
        # server/discover names both eras
        st, _, msgs = post(p, body("server/discover"))
        check_eq(st, 200, "server/discover")
        r = msgs[0]["result"]
        check(r["supportedVersions"][0] == V and
              "2025-03-26" in r["supportedVersions"], "versions %r" % r)
        check_eq(r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
                 "mcpd", "serverInfo in _meta")
        # a session-era method in this era: 404 -32601
        st, _, msgs = post(p, body("ping"))
        check_eq((st, msgs[0]["error"]["code"]), (404, -32601), "ping")
    finally:
        d.stop()


def test_listen_every_worker():
    d = daemon()
    try:
        p = d.http_port
        tools = [Stream(p, body("subscriptions/listen",
                                {"notifications": {"toolsListChanged": True}},
                                rid=100 + i)) for i in range(8)]
        prompts = Stream(p, body("subscriptions/listen",
                                 {"notifications":
                                  {"promptsListChanged": True}}, rid=200))
        for s in tools + [prompts]:
            msgs = s.read(lambda m: len(m) >= 1, 10)
            check(msgs and msgs[0]["method"] ==
                  "notifications/subscriptions/acknowledged",
                  "the first event is the ack: %r" % msgs)
        ack = tools[0].msgs[0]["params"]
        check_eq(ack["notifications"], {"toolsListChanged": True},
                 "what the server honours")
        check_eq(ack["_meta"]["io.modelcontextprotocol/subscriptionId"], 100,
                 "the ack names the subscription")
        # the streams are on several workers: one change reaches them all
        st, _, msgs = post(p, body("tools/call",
                                   {"name": "test_trigger_tool_change"}))
        check_eq(st, 200, "the trigger")
        for i, s in enumerate(tools):
            msgs = s.read(lambda m: len(m) >= 2, 10)
            check(len(msgs) >= 2 and msgs[1]["method"] ==
                  "notifications/tools/list_changed",
                  "listener %d heard the change: %r" % (i, msgs))
            check_eq(msgs[1]["params"]["_meta"]
                     ["io.modelcontextprotocol/subscriptionId"], 100 + i,
                     "tagged with its own subscription")
        # keep-alive comments while quiet (sse-keepalive 1 s: one within
        # that and what a busy machine adds), and the prompts-only stream
        # heard nothing of tools (whose listeners all heard it, above)
        msgs = prompts.read(lambda m: prompts.comments >= 1, 1.0 + 2.0)
        check_eq(len(msgs), 1, "the prompts listener got only its ack")
        check(prompts.comments >= 1, "keep-alive comments on a quiet stream")
        hz = json.loads(T.http_get(p).body)
        for s in tools + [prompts]:
            s.close()
        # closed streams are forgotten on every worker
        def gone():
            n = 0
            for _ in range(16):
                n = max(n, json.loads(T.http_get(p).body)["listeners"])
            return n == 0
        T.wait_until(gone, 10, "listeners forgotten")
        check("listeners" in hz, "/healthz counts listeners: %r" % hz)
    finally:
        d.stop()


def test_listen_ends_at_shutdown():
    d = daemon()
    try:
        s = Stream(d.http_port, body("subscriptions/listen", {
            "notifications": {"resourceSubscriptions": ["test://static-text"]}},
            rid="L1"))
        s.read(lambda m: len(m) >= 1, 10)
        t0 = time.monotonic()
        os.kill(d.pid, 15)
        msgs = s.read(lambda m: any("result" in x for x in m), 10)
        end = [x for x in msgs if "result" in x]
        check(end, "a SubscriptionsListenResult at shutdown: %r" % msgs)
        check_eq(end[0]["id"], "L1", "its id")
        check_eq(end[0]["result"]["_meta"]
                 ["io.modelcontextprotocol/subscriptionId"], "L1",
                 "its subscriptionId")
        # at once, not at the drain deadline (drain-timeout 10 s); timed by
        # the test, with a busy machine's slack
        check(time.monotonic() - t0 < 5, "ended without the drain deadline")
        s.close()
    finally:
        d.stop()


def test_listener_that_does_not_read():
    """A listen stream nobody drains: its connection is closed once 8 MiB
    (HTTP_OUT_MAX) wait for it, and counted; the daemon lives on."""
    d = daemon(workers="1")
    try:
        p = d.http_port
        uri = "test://" + "u" * 1000
        s = Stream(p, body("subscriptions/listen", {
            "notifications": {"resourceSubscriptions": [uri]}}, rid="slow"))
        s.read(lambda m: len(m) >= 1, 10)
        s.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # pipelined triggers on one connection, a batch at a time
        one = json.dumps(body("tools/call", {
            "name": "test_trigger_resource_update",
            "arguments": {"uri": uri}})).encode()
        head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: application/json\r\nAccept: %s\r\n"
                "MCP-Protocol-Version: %s\r\nMcp-Method: tools/call\r\n"
                "Mcp-Name: test_trigger_resource_update\r\n"
                "Content-Length: %d\r\n\r\n" % (p, ACCEPT, V, len(one)))
        req = head.encode() + one
        t = socket.create_connection(("127.0.0.1", p), timeout=10)
        overflowed = False
        sent = 0
        for batch in range(40):
            t.sendall(req * 1000)
            sent += 1000
            got = 0
            while got < 1000:
                chunk = t.recv(1 << 20)
                check(chunk, "the trigger connection closed")
                got += chunk.count(b"HTTP/1.1 200")
            hz = json.loads(T.http_get(p).body)
            if hz["overflows"] >= 1:
                overflowed = True
                break
        t.close()
        check(overflowed, "no overflow after %d notifications" % sent)
        info("closed after %d notifications of ~1.1 KB" % sent)
        T.wait_until(lambda: json.loads(T.http_get(p).body)["listeners"] ==
                     0, 10, "the listener forgotten")
        check("client does not read" in d.log(), "the closure is logged")
        st, _, _ = post(p, body("tools/list"))
        check_eq(st, 200, "tools/list afterwards")
        s.close()
    finally:
        d.stop()


def sleepers(pid):
    out = []
    for q in T.descendants(pid):
        cl = T.cmdline(q)
        if cl and cl.rstrip(b"\0").split(b"\0")[-2:] == [b"/bin/sleep",
                                                          b"30"]:
            out.append(q)
    return out


def test_closing_the_stream_cancels():
    d = daemon()
    try:
        p = d.http_port
        s = Stream(p, body("tools/call", {"name": "sleeper"}))
        T.wait_until(lambda: sleepers(d.pid), 10, "the tool's process runs")
        s.close()
        T.wait_until(lambda: not sleepers(d.pid), 10,
                     "the tool's process killed after the client left")
        # the daemon answers on
        st, _, _ = post(p, body("tools/list"))
        check_eq(st, 200, "tools/list after a cancelled call")
    finally:
        d.stop()


def test_tasks_from_any_worker():
    d = daemon()
    try:
        p = d.http_port
        st, _, msgs = post(p, body("tools/call", {
            "name": "slow_compute", "arguments": {"seconds": 60}}))
        r = msgs[0]["result"]
        check_eq(r["resultType"], "task", "slow_compute became a task")
        tid = r["taskId"]
        # new connections land on any worker; the id names the keeper
        for i in range(12):
            st, _, msgs = post(p, body("tasks/get", {"taskId": tid},
                                       rid=10 + i))
            check_eq(st, 200, "tasks/get %d" % i)
            check_eq(msgs[0]["result"]["taskId"], tid, "the same task")
            check_eq(msgs[0]["result"]["status"], "working", "working")
        st, _, msgs = post(p, body("tasks/cancel", {"taskId": tid}))
        check_eq(msgs[0]["result"], {"resultType": "complete",
                                     "_meta": msgs[0]["result"]["_meta"]},
                 "the cancel ack")
        st, _, msgs = post(p, body("tasks/get", {"taskId": tid}))
        check_eq(msgs[0]["result"]["status"], "cancelled", "cancelled")
        # a forged id: not found, without looking
        forged = tid[:-2] + ("AA" if not tid.endswith("AA") else "BB")
        st, _, msgs = post(p, body("tasks/get", {"taskId": forged}))
        check_eq(msgs[0]["error"]["code"], -32602, "a forged task id")
        # without the extension: -32021
        st, _, msgs = post(p, body("tasks/get", {"taskId": tid}, meta={
            "io.modelcontextprotocol/protocolVersion": V,
            "io.modelcontextprotocol/clientCapabilities": {}}))
        check_eq((st, msgs[0]["error"]["code"]), (400, -32021),
                 "tasks/get without the extension")
        # an exec tool with "task optional" runs as a task
        st, _, msgs = post(p, body("tools/call", {"name": "later"}))
        r = msgs[0]["result"]
        check_eq(r["resultType"], "task", "the exec tool became a task")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            st, _, msgs = post(p, body("tasks/get", {"taskId": r["taskId"]}))
            if msgs[0]["result"]["status"] != "working":
                break
            time.sleep(0.1)
        res = msgs[0]["result"]
        check_eq(res["status"], "completed", "the exec task completed")
        check("done-later" in res["result"]["content"][0]["text"],
              "its output: %r" % res)
    finally:
        d.stop()


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_both_eras_one_endpoint, test_listen_every_worker,
            test_listen_ends_at_shutdown, test_listener_that_does_not_read,
            test_closing_the_stream_cancels,
            test_tasks_from_any_worker])
