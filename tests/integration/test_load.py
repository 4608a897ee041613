#!/usr/bin/env python3
"""Load: a connection flood past the hard limit, spread over processes
(REFERENCE A: 20,000 open files a process), and a message bomb -- a few
connections sending as fast as they can for BOMB_SECONDS, then stopping.
Accepted connections keep getting answers, the rest get 503 and close,
none hang; requests in flight stay under max-pending; nothing crashes;
memory stays flat; the time until p95 is back under alert-yellow-p95 (the
alert tier back to green) is printed."""

import http.client
import json
import os
import re
import select
import signal
import socket
import sys
import time
from multiprocessing import Pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
ACCEPT = "application/json, text/event-stream"
V = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {}}
FLOOD_PROCS = 3
FLOOD_EACH = 2000           # connections a process opens
FLOOD_LIMIT = 4000          # max-connections
BOMB_SECONDS = float(os.environ.get("MCPD_BOMB_SECONDS", "30"))
BOMB_CONNS = 4             # processes
BOMB_SOCKS = 40            # connections of each
MAX_PENDING = 64


def plain_signals():
    """In a load process: the harness's handlers (which stop the daemon)
    are not ours."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def request(name, rid, args=None):
    p = {"name": name, "_meta": META}
    if args is not None:
        p["arguments"] = args
    b = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                    "params": p}).encode()
    return (("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
             "application/json\r\nAccept: %s\r\nMCP-Protocol-Version: %s\r\n"
             "Mcp-Method: tools/call\r\nMcp-Name: %s\r\nContent-Length: "
             "%d\r\n\r\n" % (ACCEPT, V, name, len(b))).encode() + b)


def flood_one(arg):
    """Open n connections at once, send a request on each, and wait for
    every one to be answered or refused; (ok, refused, hung, other)."""
    port, n = arg
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    req = request("test_simple_text", 1)
    pending = {}
    for s in socks:
        pending[s.fileno()] = [s, b"", False]
    ok = refused = other = 0
    deadline = time.monotonic() + 30
    ep = select.epoll()
    for fd in pending:
        ep.register(fd, select.EPOLLOUT | select.EPOLLIN)
    while pending and time.monotonic() < deadline:
        for fd, ev in ep.poll(1.0):
            st = pending.get(fd)
            if st is None:
                continue
            s = st[0]
            if ev & select.EPOLLOUT and not st[2]:
                try:
                    s.send(req)
                except OSError:
                    pass
                st[2] = True
                ep.modify(fd, select.EPOLLIN)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            st[1] += data
            if b"\r\n\r\n" in st[1] or not data:
                head = st[1][:12]
                if head.startswith(b"HTTP/1.1 200"):
                    ok += 1
                elif head.startswith(b"HTTP/1.1 503"):
                    refused += 1
                else:
                    other += 1
                ep.unregister(fd)
                del pending[fd]
    hung = len(pending)
    # the accepted ones answer again
    again = 0
    for s in socks:
        try:
            s.setblocking(True)
            s.settimeout(5)
        except OSError:
            continue
    for s in socks:
        try:
            s.sendall(req)
            if s.recv(65536).startswith(b"HTTP/1.1 200"):
                again += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    return ok, refused, hung, other, again


def metrics(d):
    c = http.client.HTTPConnection("127.0.0.1", d.admin_port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return text


def series(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else -1


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def test_flood():
    # every connection comes from 127.0.0.1: no per-address cap
    d = T.Daemon(keys={"workers": "2", "plugin": '"%s"' % PLUGIN,
                       "max-connections": str(FLOOD_LIMIT),
                       "max-connections-per-address": "0"})
    d.start()
    try:
        t0 = time.monotonic()
        with Pool(FLOOD_PROCS, initializer=plain_signals) as pool:
            res = pool.map(flood_one, [(d.http_port, FLOOD_EACH)] *
                           FLOOD_PROCS)
        ok = sum(r[0] for r in res)
        refused = sum(r[1] for r in res)
        hung = sum(r[2] for r in res)
        other = sum(r[3] for r in res)
        again = sum(r[4] for r in res)
        info("flood of %d connections against max-connections %d in "
             "%.1f s: %d answered, %d refused (503), %d hung, %d other; "
             "%d answered again" % (FLOOD_PROCS * FLOOD_EACH, FLOOD_LIMIT,
                                    time.monotonic() - t0, ok, refused,
                                    hung, other, again))
        check_eq(hung, 0, "no connection hangs")
        check_eq(other, 0, "every answer is 200 or 503")
        check_eq(ok + refused, FLOOD_PROCS * FLOOD_EACH, "all answered")
        # (two workers may each take the last free place at once)
        check(ok <= FLOOD_LIMIT + 2, "at most max-connections accepted "
              "(+1 a worker): %d" % ok)
        check(ok >= FLOOD_LIMIT * 9 // 10, "about max-connections "
              "accepted: %d" % ok)
        check_eq(again, ok, "the accepted connections answer again")
        text = metrics(d)
        m = re.search(r'^mcpd_rejections_total\{reason="connections"\} '
                      r'(\d+)$', text, re.M)
        check_eq(int(m.group(1)), refused, "refusals counted")
    finally:
        d.stop()


def bomb_one(arg):
    """BOMB_SOCKS connections, each sent a pipelined batch (one request in
    ten slow: 1 s) again as soon as it is answered, for secs; returns
    (requests, by status, trouble)."""
    port, secs, k = arg
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30)
             for _ in range(BOMB_SOCKS)]
    fast = request("test_simple_text", 1)
    slow = request("slow_compute", 2, {"seconds": 1})
    batch = fast * 9 + slow
    n = 0
    counts = {}
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for s in socks:
            s.sendall(batch)
            n += 10
        for s in socks:
            got = 0
            buf = b""
            while got < 10:
                chunk = s.recv(1 << 20)
                if not chunk:
                    return n, counts, "closed"
                buf += chunk
                got = buf.count(b"HTTP/1.1 ")
            for st in re.findall(rb"HTTP/1.1 (\d+)", buf):
                counts[st.decode()] = counts.get(st.decode(), 0) + 1
    for s in socks:
        s.close()
    return n, counts, None


def test_bomb():
    d = T.Daemon(keys={"workers": "2", "plugin": '"%s"' % PLUGIN,
                       "max-pending": str(MAX_PENDING),
                       "alert-window": "5s", "alert-min-requests": "50",
                       "alert-hold": "2s"})
    d.start()
    try:
        workers = [r["pid"] for r in T.Daemon.rows(d.status(),
                                                   role="worker")]
        before = sum(rss_kb(p) for p in workers)
        mid = None
        peak_pending = 0
        t_start = time.monotonic()
        with Pool(BOMB_CONNS, initializer=plain_signals) as pool:
            job = pool.map_async(bomb_one, [(d.http_port, BOMB_SECONDS, k)
                                            for k in range(BOMB_CONNS)])
            while not job.ready():
                text = metrics(d)
                peak_pending = max(peak_pending,
                                   series(text, "mcpd_pending_requests"))
                if mid is None and time.monotonic() - t_start > \
                        BOMB_SECONDS / 3:
                    mid = sum(rss_kb(p) for p in workers)
                job.wait(0.5)
            res = job.get()
        t_stop = time.monotonic()
        total = sum(r[0] for r in res)
        counts = {}
        for r in res:
            check(r[2] is None, "a bomb connection was %s" % r[2])
            for k, v in r[1].items():
                counts[k] = counts.get(k, 0) + v
        info("bomb: %d connections, %.0f s, %d requests (%.0f/s), "
             "statuses %r, peak in flight %d (max-pending %d)" %
             (BOMB_CONNS * BOMB_SOCKS, BOMB_SECONDS, total,
              total / BOMB_SECONDS, counts, peak_pending, MAX_PENDING))
        check(counts.get("503", 0) > 0, "the bound was reached: %r" %
              counts)
        check(peak_pending <= MAX_PENDING, "in flight under max-pending")
        check(set(counts) <= {"200", "503"}, "only 200 and 503: %r" %
              counts)
        # recovery: the tier back to green (p95 and failures of the window)
        T.wait_until(lambda: series(metrics(d), "mcpd_alert_tier") == 0,
                     60, "the alert tier back to green")
        info("p95 back under alert-yellow-p95 (tier green) %.1f s after "
             "the bomb stopped (alert-window 5 s)" %
             (time.monotonic() - t_stop))
        st = d.status()
        check_eq([r["pid"] for r in T.Daemon.rows(st, role="worker")],
                 workers, "no worker restarted")
        after = sum(rss_kb(p) for p in workers)
        info("workers' RSS %d KiB before, %d KiB a third in, %d KiB after" %
             (before, mid or 0, after))
        # warmed up after a third: the rest of the bomb adds (almost)
        # nothing; the sanitizers' allocator keeps freed memory longer
        slack = 64 if os.environ.get("ASAN_OPTIONS") else 4
        check(mid is not None and after - mid < slack * 1024,
              "memory flat after warm-up: %+d KiB" % (after - (mid or 0)))
        # the calls in flight end (the clients left: cancelled), then
        # new work is taken again
        def serving():
            s = socket.create_connection(("127.0.0.1", d.http_port),
                                         timeout=5)
            s.sendall(request("test_simple_text", 1))
            ok = s.recv(65536).startswith(b"HTTP/1.1 200")
            s.close()
            return ok
        T.wait_until(serving, 10, "serving after the bomb")
        info("new work taken again %.1f s after the bomb stopped "
             "(alert-hold 2 s)" % (time.monotonic() - t_stop))
        check("alert: emergency" in d.log() and
              "requests in flight" in d.log(),
              "the emergency (requests in flight) is in the log")
        check_eq(series(metrics(d), "mcpd_pending_requests"), 0,
                 "nothing left in flight")
    finally:
        d.stop()


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    # the bomb alone lasts BOMB_SECONDS, then the window drains
    T.main([test_flood, test_bomb], budget=BOMB_SECONDS + 90)
