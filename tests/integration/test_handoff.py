#!/usr/bin/env python3
"""The hand-over of a connection to the worker that keeps what its request
names: one record carries the request as read, so the owner judges exactly
the request the receiver read.

- Bodies: three workers hand requests with 64 KiB bodies (each in a memfd)
  to one owner at the same time, round after round; every answer must echo
  its own body (a body slot shared by all peer channels paired one
  worker's connection with another's body).
- Judgement: the same stateless tasks/get, with headers the engine checks
  (Mcp-Param-* past its bounds, a wrong Mcp-Name, an Authorization header),
  sent straight to the task's worker and through another one must get the
  same answer (the old record dropped Authorization and every Mcp-Param-*).
- A head the rules refuse (a second Host, a second Mcp-Session-Id) is
  refused by the worker that read it, never handed over."""

import base64
import json
import os
import random
import socket
import string
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
BUILD = os.path.dirname(os.path.abspath(T.MCPD))
BENCH = os.environ.get("MCPD_BENCH_PLUGIN",
                       os.path.join(BUILD, "plugins", ".libs", "bench.so"))
ACCEPT = "application/json, text/event-stream"
V = "2026-07-28"
BODY_BYTES = 64 * 1024
ROUNDS = 25                 # of CONNS_PER_WORKER x 3 workers at once
CONNS_PER_WORKER = 4


def daemon():
    d = T.Daemon(keys={"workers": "4"},
                 extra='plugin "%s"\nplugin "%s"\n' % (PLUGIN, BENCH))
    d.start()
    return d


class Conn(object):
    """A keep-alive connection that knows which worker accepted it."""

    def __init__(self, port):
        self.port = port
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""
        st, _, body = self.send("GET", "/healthz", {})
        check_eq(st, 200, "healthz")
        self.worker = json.loads(body)["worker"]

    def send(self, method, path, headers, data=b"", raw_headers=()):
        h = ["%s %s HTTP/1.1" % (method, path),
             "Host: 127.0.0.1:%d" % self.port]
        for k, v in headers.items():
            h.append("%s: %s" % (k, v))
        h.extend(raw_headers)
        if data:
            h.append("Content-Length: %d" % len(data))
        self.s.sendall(("\r\n".join(h) + "\r\n\r\n").encode() + data)
        return self.read()

    def _fill(self):
        b = self.s.recv(1 << 16)
        if not b:
            raise T.TestFailure("connection closed by the server")
        self.buf += b

    def read(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        else:
            body = b""
            while True:     # chunked
                while b"\r\n" not in self.buf:
                    self._fill()
                size, self.buf = self.buf.split(b"\r\n", 1)
                n = int(size, 16)
                while len(self.buf) < n + 2:
                    self._fill()
                body += self.buf[:n]
                self.buf = self.buf[n + 2:]
                if n == 0:
                    break
        return status, hdrs, body.decode()

    def close(self):
        self.s.close()


def messages(hdrs, body):
    if hdrs.get("content-type", "").startswith("text/event-stream"):
        out = []
        for ev in body.split("\n\n"):
            data = "".join(ln[5:].lstrip() for ln in ev.split("\n")
                           if ln.startswith("data:"))
            if data:
                out.append(json.loads(data))
        return out
    return [json.loads(body)] if body else []


def conns_on(port, want, per_worker, exclude):
    """per_worker connections on each of `want` workers other than
    exclude; the others are closed."""
    got = {}
    extra = []
    for _ in range(2000):
        c = Conn(port)
        if c.worker == exclude or len(got.get(c.worker, [])) >= per_worker:
            extra.append(c)
        else:
            got.setdefault(c.worker, []).append(c)
        full = [w for w, cs in got.items() if len(cs) >= per_worker]
        if len(full) >= want:
            break
    for c in extra:
        c.close()
    ws = sorted(w for w, cs in got.items() if len(cs) >= per_worker)[:want]
    check(len(ws) == want, "connections on %d workers besides %d: %r" %
          (want, exclude, {w: len(cs) for w, cs in got.items()}))
    for w in list(got):
        if w not in ws:
            for c in got.pop(w):
                c.close()
    return [c for w in ws for c in got[w]]


def session_headers(sid):
    return {"Content-Type": "application/json", "Accept": ACCEPT,
            "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}


def test_bodies_handed_over_at_once():
    d = daemon()
    try:
        p = d.http_port
        c = Conn(p)
        owner = c.worker
        st, h, body = c.send("POST", "/mcp", {
            "Content-Type": "application/json", "Accept": ACCEPT},
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                        "params": {"protocolVersion": "2025-11-25",
                                   "capabilities": {},
                                   "clientInfo": {"name": "t",
                                                  "version": "1"}}}
                       ).encode())
        check_eq(st, 200, "initialize")
        sid = h["mcp-session-id"]
        st, _, _ = c.send("POST", "/mcp", session_headers(sid), json.dumps(
            {"jsonrpc": "2.0", "method": "notifications/initialized"}
        ).encode())
        check_eq(st, 202, "initialized")
        c.close()
        info("session of worker %d; %d rounds of %d hand-overs of %d KiB"
             % (owner, ROUNDS, 3 * CONNS_PER_WORKER, BODY_BYTES // 1024))
        wrong = []
        handed = 0
        for rnd in range(ROUNDS):
            conns = conns_on(p, 3, CONNS_PER_WORKER, owner)
            go = threading.Barrier(len(conns))
            results = [None] * len(conns)

            def one(i, cn):
                tag = "r%d-c%d-" % (rnd, i)
                text = tag + "".join(random.choice(string.ascii_letters)
                                     for _ in range(BODY_BYTES - len(tag)))
                data = json.dumps({"jsonrpc": "2.0", "id": i,
                                   "method": "tools/call", "params": {
                                       "name": "echo",
                                       "arguments": {"text": text}}}
                                  ).encode()
                go.wait()
                try:
                    st, h, b = cn.send("POST", "/mcp",
                                       session_headers(sid), data)
                    m = messages(h, b)[-1]
                    got = m["result"]["content"][0]["text"]
                    results[i] = (st, got == text, got[:16])
                except Exception as e:  # noqa: BLE001
                    results[i] = (0, False, repr(e))
                cn.close()

            ts = [threading.Thread(target=one, args=(i, cn))
                  for i, cn in enumerate(conns)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            for i, r in enumerate(results):
                if r is None or r[0] != 200 or not r[1]:
                    wrong.append((rnd, i, r))
            handed += len(conns)
        check(not wrong, "%d of %d answers not their own body: %r" %
              (len(wrong), handed, wrong[:5]))
        check(not d.log_lines(r"PEER_CONN|exited with status|signal"),
              "no worker died: %r" % d.log_lines(r"exited|signal")[:3])
        info("%d hand-overs of 64 KiB bodies, every answer its own" %
             handed)
    finally:
        d.stop()


def meta():
    return {"io.modelcontextprotocol/protocolVersion": V,
            "io.modelcontextprotocol/clientCapabilities": {
                "extensions": {"io.modelcontextprotocol/tasks": {}}},
            "io.modelcontextprotocol/clientInfo": {"name": "t",
                                                   "version": "1"}}


def stateless(method, params, rid=1):
    b = {"jsonrpc": "2.0", "id": rid, "method": method,
         "params": dict(params, _meta=meta())}
    return b


def stateless_headers(method, name):
    return {"Content-Type": "application/json", "Accept": ACCEPT,
            "MCP-Protocol-Version": V, "Mcp-Method": method,
            "Mcp-Name": name}


def task_worker(tid):
    raw = base64.urlsafe_b64decode(tid + "=" * (-len(tid) % 4))
    return raw[1] << 8 | raw[2]


def answer(st, h, body):
    m = messages(h, body)
    if not m:
        return (st, None)
    m = m[-1]
    if "error" in m:
        return (st, m["error"]["code"])
    return (st, m["result"].get("status"))


def test_same_judgement_after_handoff():
    d = daemon()
    try:
        p = d.http_port
        c = Conn(p)
        st, h, b = c.send("POST", "/mcp", stateless_headers(
            "tools/call", "slow_compute"), json.dumps(stateless(
                "tools/call", {"name": "slow_compute",
                               "arguments": {"seconds": 60}})).encode())
        r = messages(h, b)[-1]["result"]
        check_eq(r["resultType"], "task", "slow_compute became a task")
        tid = r["taskId"]
        keeper = task_worker(tid)
        c.close()
        body = json.dumps(stateless("tasks/get", {"taskId": tid})).encode()
        ok = stateless_headers("tasks/get", tid)
        many = ["Mcp-Param-P%d: v" % i for i in range(17)]
        wide = ["Mcp-Param-Wide: " + "x" * 5000]
        cases = [
            ("as sent", ok, (), (200, "working")),
            ("17 Mcp-Param-* headers", ok, many, (400, -32020)),
            ("5000 bytes of Mcp-Param-*", ok, wide, (400, -32020)),
            ("a wrong Mcp-Name", dict(ok, **{"Mcp-Name": "nope"}), (),
             (400, -32020)),
            ("no Mcp-Method", {k: v for k, v in ok.items()
                               if k != "Mcp-Method"}, (), (400, -32020)),
            ("an Authorization header", ok, ("Authorization: Bearer x",),
             (200, "working")),
        ]
        # connections on the keeper, and on another worker
        got = {}
        for _ in range(2000):
            cn = Conn(p)
            side = "direct" if cn.worker == keeper else "handed"
            if len(got.setdefault(side, [])) < len(cases):
                got[side].append(cn)
            else:
                cn.close()
            if all(len(got.get(s, [])) >= len(cases)
                   for s in ("direct", "handed")):
                break
        check(all(len(got.get(s, [])) >= len(cases)
                  for s in ("direct", "handed")),
              "connections on the task's worker and on others")
        for i, (what, hdrs, raw, want) in enumerate(cases):
            seen = {}
            for side in ("direct", "handed"):
                cn = got[side][i]
                st, h, b = cn.send("POST", "/mcp", hdrs, body,
                                   raw_headers=raw)
                seen[side] = answer(st, h, b)
                cn.close()
            check_eq(seen["handed"], seen["direct"],
                     "%s: handed over as answered directly" % what)
            check_eq(seen["direct"], want, "%s: the answer" % what)
            info("%s: %r both ways" % (what, seen["direct"]))
    finally:
        d.stop()


def test_refused_heads_stay():
    d = daemon()
    try:
        p = d.http_port
        cases = [
            ("a second Host", ("Host: evil.example",), 400),
            ("a second Mcp-Session-Id",
             ("Mcp-Session-Id: a", "Mcp-Session-Id: b"), 400),
            ("a second Mcp-Method",
             ("Mcp-Method: tools/list", "Mcp-Method: tools/call"), 400),
            ("a second Mcp-Param-Region",
             ("Mcp-Param-Region: a", "Mcp-Param-Region: b"), 400),
            ("an Mcp-Session-Id of 200 bytes", ("Mcp-Session-Id: " +
                                                "a" * 200,), 431),
        ]
        data = json.dumps({"jsonrpc": "2.0", "id": 1,
                           "method": "tools/list"}).encode()
        for what, raw, want in cases:
            c = Conn(p)
            st, h, b = c.send("POST", "/mcp", {
                "Content-Type": "application/json", "Accept": ACCEPT},
                data, raw_headers=raw)
            check_eq(st, want, what)
            check("connection: close" in
                  "".join("%s: %s" % kv for kv in h.items()).lower(),
                  "%s: the connection is closed" % what)
            c.close()
        # Accept, a list, may come in two lines
        c = Conn(p)
        st, h, b = c.send("POST", "/mcp", {"Content-Type":
                                           "application/json"}, json.dumps(
            stateless("server/discover", {})).encode(),
            raw_headers=("Accept: application/json",
                         "Accept: text/event-stream",
                         "MCP-Protocol-Version: " + V,
                         "Mcp-Method: server/discover"))
        check_eq(st, 200, "Accept in two lines")
        c.close()
    finally:
        d.stop()


if __name__ == "__main__":
    for f in (PLUGIN, BENCH):
        if not f or not os.path.exists(f):
            print("plugin not found: %r" % f)
            sys.exit(99)
    T.main([test_bodies_handed_over_at_once,
            test_same_judgement_after_handoff, test_refused_heads_stay])
