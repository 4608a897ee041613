#!/usr/bin/env python3
"""The HTTP edge held to RFC 9112 where http-parser is lenient: each form an
attacker (or a confused proxy) sends gets the status the RFC names and the
connection closes; what is valid but unusual (Expect: 100-continue, an
absolute-form target, an Upgrade we do not take, a long pipeline behind a
call in flight, a body sent slowly) is served."""

import json
import os
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
        "io.modelcontextprotocol/clientCapabilities": {}}


def daemon(**keys):
    k = {"workers": "1", "plugin": '"%s"' % PLUGIN}
    k.update(keys)
    d = T.Daemon(keys=k)
    d.start()
    return d


def body(method, rid=1, params=None):
    p = dict(params or {})
    p["_meta"] = META
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                       "params": p}).encode()


def head(method, n, target="/mcp", host="127.0.0.1", extra=(),
         version="HTTP/1.1", mcp_name=None):
    h = ["POST %s %s" % (target, version), "Host: %s" % host,
         "Content-Type: application/json", "Accept: " + ACCEPT,
         "MCP-Protocol-Version: " + V, "Mcp-Method: " + method]
    if mcp_name:
        h.append("Mcp-Name: " + mcp_name)
    h.extend(extra)
    if n is not None:
        h.append("Content-Length: %d" % n)
    return ("\r\n".join(h) + "\r\n\r\n").encode()


def request(method, rid=1, params=None, **kw):
    b = body(method, rid, params)
    return head(method, len(b), mcp_name=(params or {}).get("name"),
                **kw) + b


class Reader(object):
    def __init__(self, s, timeout=10):
        self.s = s
        self.buf = b""
        s.settimeout(timeout)

    def _fill(self):
        b = self.s.recv(1 << 16)
        if not b:
            raise EOFError("closed")
        self.buf += b

    def response(self):
        """(status, headers, body); chunked bodies are joined."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        h, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = h.decode().split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        if status == 100:
            return status, hdrs, b""
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            while len(self.buf) < n:
                self._fill()
            b, self.buf = self.buf[:n], self.buf[n:]
            return status, hdrs, b
        b = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            size, rest = self.buf.split(b"\r\n", 1)
            n = int(size, 16)
            while len(rest) < n + 2:
                self._fill()
                size, rest = self.buf.split(b"\r\n", 1)
            b += rest[:n]
            self.buf = rest[n + 2:]
            if n == 0:
                return status, hdrs, b

    def closed(self):
        try:
            while True:
                self._fill()
        except EOFError:
            return True
        except socket.timeout:
            return False


def last_json(hdrs, b):
    if hdrs.get("content-type", "").startswith("text/event-stream"):
        data = [ln[5:].strip() for ln in b.decode().split("\n")
                if ln.startswith("data:")]
        return json.loads(data[-1])
    return json.loads(b)


def refused(p, raw, want, what, closes=True):
    s = socket.create_connection(("127.0.0.1", p))
    s.sendall(raw)
    r = Reader(s)
    st, h, _ = r.response()
    check_eq(st, want, what)
    if closes:
        check(r.closed(), "%s: the connection closes" % what)
    s.close()


def test_lenient_forms_refused():
    d = daemon()
    try:
        p = d.http_port
        b = body("tools/list")
        refused(p, b"POST /mcp HTTP/1.1\r\nHost : 127.0.0.1\r\n"
                b"Content-Length: 2\r\n\r\n{}", 400,
                "whitespace before a header's colon")
        chunked = head("tools/list", None,
                       extra=("Transfer-Encoding: chunked",))
        refused(p, chunked + b"%x\r\n%s\r\n0\r\n\r\n" % (len(b), b), 411,
                "a chunked body")
        refused(p, chunked + b"%x;ext\nx\r\n%s\r\n0\r\n\r\n" % (len(b), b),
                411, "an LF inside a chunk extension")
        refused(p, chunked + b"%x\r\n%sXY0\r\n\r\n" % (len(b), b), 411,
                "two bytes in place of the CRLF after chunk data")
        refused(p, head("tools/list", len(b), extra=(
            "Transfer-Encoding: chunked",)) + b, 400,
            "Content-Length and Transfer-Encoding")
        refused(p, request("tools/list", version="HTTP/2.0"), 505,
                "an HTTP/2.0 request line")
        refused(p, request("tools/list", version="HTTP/1.9"), 505,
                "HTTP/1.9")
        refused(p, request("tools/list", extra=("Expect: 200-ok",)), 417,
                "an expectation other than 100-continue")
    finally:
        d.stop()


def test_valid_forms_served():
    d = daemon()
    try:
        p = d.http_port
        # Expect: 100-continue: the interim answer, then the body
        b = body("tools/list")
        s = socket.create_connection(("127.0.0.1", p))
        s.sendall(head("tools/list", len(b),
                       extra=("Expect: 100-continue",)))
        r = Reader(s)
        check_eq(r.response()[0], 100, "100 Continue before the body")
        s.sendall(b)
        st, h, rb = r.response()
        check_eq(st, 200, "the answer after the body")
        check("tools" in last_json(h, rb)["result"], "tools/list's result")
        # an absolute-form target names the host: Host is not looked at
        s.sendall(request("tools/list", target="http://127.0.0.1:%d/mcp"
                          % p, host="evil.example"))
        check_eq(r.response()[0], 200, "an absolute-form target")
        s.close()
        refused(p, request("tools/list", target="http://evil.example/mcp",
                           host="127.0.0.1"), 403,
                "an absolute-form target of another host", closes=False)
        # an Upgrade is not taken: the request after it is served
        s = socket.create_connection(("127.0.0.1", p))
        s.sendall(request("tools/list", 1, extra=(
            "Connection: Upgrade", "Upgrade: h2c")) +
            request("tools/list", 2))
        r = Reader(s)
        ids = []
        for _ in range(2):
            st, h, rb = r.response()
            check_eq(st, 200, "behind an Upgrade")
            ids.append(last_json(h, rb)["id"])
        check_eq(ids, [1, 2], "both requests answered, in order")
        s.close()
    finally:
        d.stop()


def test_long_pipeline_behind_a_call():
    """200 KiB of requests pipelined behind a call in flight: every one is
    answered, in order (the bytes past the read buffer were dropped and
    the connection hung)."""
    d = daemon()
    try:
        s = socket.create_connection(("127.0.0.1", d.http_port))
        slow = request("tools/call", 0, {"name": "test_tool_with_progress",
                                         "arguments": {}})
        # small answers, large requests: what is queued is the requests
        n = 120
        rest = b"".join(request("tools/call", i, {
            "name": "test_simple_text", "arguments": {"pad": "x" * 2000}})
            for i in range(1, n))
        check(len(rest) > 200 * 1024, "%d bytes behind" % len(rest))
        s.sendall(slow + rest)
        r = Reader(s, timeout=30)
        ids = []
        for _ in range(n):
            st, h, rb = r.response()
            check_eq(st, 200, "answer %d" % len(ids))
            ids.append(last_json(h, rb)["id"])
        check_eq(ids, list(range(n)), "every request, in order")
        info("%d bytes pipelined behind a call: all answered" % len(rest))
        s.close()
    finally:
        d.stop()


def test_body_timeout_between_reads():
    d = daemon(**{"header-timeout": "1s", "body-timeout": "2s"})
    try:
        p = d.http_port
        b = body("tools/list")
        # a body sent slowly, each gap shorter than body-timeout, the whole
        # longer than both timeouts: served
        s = socket.create_connection(("127.0.0.1", p))
        s.sendall(head("tools/list", len(b)))
        t0 = time.monotonic()
        for i in range(0, len(b), len(b) // 6 + 1):
            time.sleep(0.6)
            s.sendall(b[i:i + len(b) // 6 + 1])
        check(time.monotonic() - t0 > 2.5, "the body took longer than "
              "body-timeout")
        check_eq(Reader(s).response()[0], 200, "a slow but steady body")
        s.close()
        # a body that stops: 408 once body-timeout has passed in silence
        s = socket.create_connection(("127.0.0.1", p))
        s.sendall(head("tools/list", len(b)) + b[:5])
        t0 = time.monotonic()
        r = Reader(s)
        st = r.response()[0]
        dt = time.monotonic() - t0
        info("a stalled body: %d after %.2f s" % (st, dt))
        check_eq(st, 408, "a stalled body")
        check(dt >= 1.9, "not before body-timeout: %.2f s" % dt)
        s.close()
    finally:
        d.stop()


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_lenient_forms_refused, test_valid_forms_served,
            test_long_pipeline_behind_a_call,
            test_body_timeout_between_reads])
