#!/usr/bin/env python3
"""mcpd --stdio: one client on stdin/stdout, logs on stderr, exit on EOF."""

import json
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")


class Stdio(object):
    def __init__(self, extra=""):
        self.dir = tempfile.mkdtemp(prefix="mcpds-")
        self.conf = os.path.join(self.dir, "mcpd.conf")
        with open(self.conf, "w") as f:
            f.write('plugin "%s"\n%s' % (PLUGIN, extra))
        self.p = subprocess.Popen([T.MCPD, "--stdio", "-c", self.conf],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""

    def send(self, msg):
        data = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
        self.p.stdin.write(data + b"\n")
        self.p.stdin.flush()

    def recv(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            check(left > 0, "no line on stdout within %.1f s" % timeout)
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                check(chunk, "stdout closed")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            return self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None


def req(method, params=None, rid=1):
    m = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        m["params"] = params
    return m


def test_session_over_stdio():
    s = Stdio()
    try:
        s.send(req("initialize", {"protocolVersion": "2025-11-25",
                                  "capabilities": {},
                                  "clientInfo": {"name": "t", "version": "1"}}))
        r = s.recv()
        check_eq(r["result"]["protocolVersion"], "2025-11-25", "version")
        s.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        s.send(req("tools/list", rid=2))
        r = s.recv()
        check_eq(r["id"], 2, "tools/list id")
        check(len(r["result"]["tools"]) >= 10, "tools listed")
        s.send(b"this is not json")
        r = s.recv()
        check_eq(r["error"]["code"], -32700, "parse error")
        check_eq(r["id"], None, "parse error id")
        s.send(req("nope", rid="x"))
        r = s.recv()
        check_eq((r["id"], r["error"]["code"]), ("x", -32601), "unknown")
        s.send(req("tools/call", {"name": "test_tool_with_progress",
                                  "_meta": {"progressToken": 1}}, rid=3))
        got = [s.recv() for _ in range(4)]
        check_eq([g.get("method", "result") for g in got],
                 ["notifications/progress"] * 3 + ["result"],
                 "progress then result")
        # EOF with nothing in flight: exit 0 at once
        t0 = time.monotonic()
        rc = s.close()
        check_eq(rc, 0, "exit status on EOF")
        # at once, not held to any deadline; timed by the test, with the
        # slack of a busy machine and of a sanitized exit (the leak check)
        check(time.monotonic() - t0 < 5, "exit took %.2f s" %
              (time.monotonic() - t0))
        err = s.p.stderr.read().decode()
        check("{" not in err or "jsonrpc" not in err,
              "JSON-RPC on stderr: %r" % err[:200])
    finally:
        s.close()


def test_eof_waits_for_inflight():
    s = Stdio()
    try:
        s.send(req("initialize", {"protocolVersion": "2025-11-25",
                                  "capabilities": {},
                                  "clientInfo": {"name": "t", "version": "1"}}))
        s.recv()
        s.send(req("tools/call", {"name": "test_tool_with_logging"}, rid=7))
        s.p.stdin.close()
        msgs = []
        for _ in range(10):
            m = s.recv()
            msgs.append(m)
            if m.get("id") == 7:
                break
        check_eq(msgs[-1]["id"], 7, "the call answered after EOF")
        check_eq(s.p.wait(timeout=10), 0, "exit status")
    finally:
        s.close()


def test_bad_config():
    d = tempfile.mkdtemp(prefix="mcpds-")
    conf = os.path.join(d, "mcpd.conf")
    with open(conf, "w") as f:
        f.write("workers 1\nbogus-key 3\n")
    p = subprocess.run([T.MCPD, "--stdio", "-c", conf], input=b"",
                       capture_output=True, timeout=10)
    check_eq(p.returncode, 1, "exit status")
    check(b"mcpd.conf:2:" in p.stderr, "file:line in %r" % p.stderr)
    check_eq(p.stdout, b"", "stdout")


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_session_over_stdio, test_eof_waits_for_inflight,
            test_bad_config])
