#!/usr/bin/env python3
"""Metrics: /metrics on the admin listener parses as Prometheus text
exposition and counts what the test sent, by method and outcome, in both
eras; mcpctl stats (table and JSON) says the same; the counts of a worker
killed with SIGKILL are kept; /readyz answers."""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
ACCEPT = "application/json, text/event-stream"
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """{(name, frozenset(labels)): value}; checks the exposition format."""
    types = {}
    samples = {}
    check(text.endswith("\n"), "the text ends with a newline")
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            check(kind in ("counter", "gauge", "histogram", "summary",
                           "untyped"), "a TYPE: %r" % line)
            check(name not in types, "TYPE of %s twice" % name)
            types[name] = kind
            continue
        check(not line.startswith("#"), "a comment: %r" % line)
        m = SAMPLE_RE.match(line)
        check(m is not None, "not a sample line: %r" % line)
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        lab = frozenset(LABEL_RE.findall(labels))
        check(len(lab) == len(re.findall(r'="', labels)),
              "labels of %r" % line)
        v = float(value)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in types or base in types,
              "%s has no TYPE line" % name)
        check((name, lab) not in samples, "a sample twice: %r" % line)
        samples[(name, lab)] = v
    # histograms: buckets never go down, +Inf is the count
    for (name, lab), v in samples.items():
        if not name.endswith("_count"):
            continue
        base = name[:-6]
        if types.get(base) != "histogram":
            continue
        rest = frozenset(x for x in lab)
        buckets = sorted(
            (float("inf") if dict(l)["le"] == "+Inf" else float(dict(l)["le"]),
             bv) for (n, l), bv in samples.items()
            if n == base + "_bucket" and
            frozenset(x for x in l if x[0] != "le") == rest)
        check(buckets, "buckets of %s %r" % (base, lab))
        prev = 0
        for le, bv in buckets:
            check(bv >= prev, "%s buckets go down at le=%s" % (base, le))
            prev = bv
        check_eq(buckets[-1][1], v, "%s +Inf bucket and count" % base)
    return samples


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0)


def scrape(d):
    c = http.client.HTTPConnection("127.0.0.1", d.admin_port, timeout=5)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    ctype = r.getheader("Content-Type")
    c.close()
    check_eq(r.status, 200, "GET /metrics")
    check(ctype.startswith("text/plain; version=0.0.4"),
          "content type %r" % ctype)
    return parse_prometheus(text)


def post(port, body, headers):
    h = {"Content-Type": "application/json", "Accept": ACCEPT}
    h.update(headers)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("POST", "/mcp", body=json.dumps(body), headers=h)
    r = c.getresponse()
    sid = r.getheader("Mcp-Session-Id")
    r.read()
    c.close()
    return r.status, sid


def call(port, name, rid=1):
    b = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
         "params": {"name": name, "_meta": META}}
    return post(port, b, {"MCP-Protocol-Version": "2026-07-28",
                          "Mcp-Method": "tools/call", "Mcp-Name": name})


def test_metrics():
    d = T.Daemon(keys={"workers": "2", "plugin": '"%s"' % PLUGIN})
    d.start()
    try:
        p = d.http_port
        for i in range(5):
            check_eq(call(p, "test_simple_text", i)[0], 200, "a call")
        for i in range(2):
            check_eq(call(p, "no_such_tool", 10 + i)[0], 200,
                     "an unknown tool")
        b = {"jsonrpc": "2.0", "id": 20, "method": "tools/list",
             "params": {"_meta": META}}
        st, _ = post(p, b, {"MCP-Protocol-Version": "2099-01-01",
                            "Mcp-Method": "tools/list"})
        check_eq(st, 400, "an unknown version")
        # the session era too
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25",
                           "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}}}
        st, sid = post(p, init, {})
        check_eq(st, 200, "initialize")
        for i in range(3):
            st, _ = post(p, {"jsonrpc": "2.0", "id": 30 + i,
                             "method": "ping"},
                         {"Mcp-Session-Id": sid,
                          "MCP-Protocol-Version": "2025-11-25"})
            check_eq(st, 200, "ping")

        s = scrape(d)
        R = "mcpd_requests_total"
        check_eq(get(s, R, mcp_method_name="tools/call", outcome="ok"), 5,
                 "tools/call ok")
        check_eq(get(s, R, mcp_method_name="tools/call", outcome="error"),
                 2, "tools/call errors")
        check_eq(get(s, R, mcp_method_name="tools/list", outcome="error"),
                 1, "tools/list with an unknown version")
        check_eq(get(s, R, mcp_method_name="initialize", outcome="ok"), 1,
                 "initialize")
        check_eq(get(s, R, mcp_method_name="ping", outcome="ok"), 3, "ping")
        H = "mcp_server_operation_duration_seconds_count"
        check_eq(get(s, H, mcp_method_name="tools/call"), 7,
                 "tools/call latencies")
        check(get(s, "mcp_server_operation_duration_seconds_sum",
                  mcp_method_name="tools/call") > 0, "a latency sum")
        # gauges: every worker sets its own each second
        T.wait_until(lambda: get(scrape(d), "mcpd_sessions") == 1, 10,
                     "the session in mcpd_sessions")
        check(get(s, "mcpd_connections_accepted_total") >= 12,
              "connections accepted")
        check_eq(get(s, "mcpd_rejections_total", reason="output"), 0,
                 "no output rejection")

        # mcpctl stats says the same
        rc, out, err = d.ctl("stats", "--json")
        check_eq(rc, 0, "mcpctl stats --json (%s)" % err)
        j = json.loads(out)
        check_eq(j["methods"]["tools/call"]["ok"], 5, "stats: tools/call ok")
        check_eq(j["methods"]["tools/call"]["error"], 2,
                 "stats: tools/call errors")
        check(j["methods"]["tools/call"]["p99_us"] >= 1, "stats: a p99")
        rc, out, err = d.ctl("stats")
        check_eq(rc, 0, "mcpctl stats (%s)" % err)
        check(re.search(r"^tools/call +5 +2 +0 +0 ", out, re.M),
              "the table row: %r" % out)

        # a worker killed: its counts stay in the totals, its sessions
        # live on in its successor (the registry)
        nsess = get(scrape(d), "mcpd_sessions")
        check(nsess > 0, "some sessions before the kill")
        check_eq(get(scrape(d), "mcpd_registry_records"), nsess,
                 "the registry keeps every session")
        accepted = get(scrape(d), "mcpd_connections_accepted_total")
        st = d.status()
        for row in T.Daemon.rows(st, role="worker"):
            os.kill(row["pid"], signal.SIGKILL)
        T.wait_until(lambda: len([x for x in T.Daemon.rows(
            d.status(quiet=True), role="worker", state="ready")]) == 2,
            10, "the workers replaced")
        s = scrape(d)
        check_eq(get(s, R, mcp_method_name="tools/call", outcome="ok"), 5,
                 "tools/call ok after the workers died")
        check_eq(get(s, H, mcp_method_name="tools/call"), 7,
                 "latencies after the workers died")
        T.wait_until(lambda: get(scrape(d), "mcpd_sessions") == nsess, 10,
                     "the sessions adopted by the new workers")
        check(get(s, "mcpd_restarts_total") >= 2, "restarts counted")
        # a counter never goes down (it went from 18 to 12 once)
        check(get(s, "mcpd_connections_accepted_total") > accepted,
              "connections accepted, %d before the kill and %d after: the "
              "dead workers' counts are kept" % (accepted, get(
                  s, "mcpd_connections_accepted_total")))

        # the version, the start, each role's memory and descriptors
        s = scrape(d)
        ver = subprocess.run([T.MCPD, "-V"], capture_output=True,
                             text=True).stdout.split()[1]
        check_eq(get(s, "mcpd_build_info", version=ver), 1,
                 "mcpd_build_info{version=%s}" % ver)
        started = get(s, "mcpd_start_time_seconds")
        check(time.time() - 120 < started <= time.time(),
              "mcpd_start_time_seconds %r" % started)
        for role in ("supervisor", "agent", "runner", "worker"):
            rss = get(s, "mcpd_resident_memory_bytes", role=role)
            fds = get(s, "mcpd_open_fds", role=role)
            check(1 << 20 < rss < 1 << 32 and 3 <= fds < 10000,
                  "%s: %r bytes resident, %r descriptors" % (role, rss,
                                                             fds))

        c = http.client.HTTPConnection("127.0.0.1", d.admin_port, timeout=5)
        c.request("GET", "/readyz")
        r = c.getresponse()
        check_eq((r.status, r.read()), (200, b"ready\n"), "/readyz")
        c.close()
    finally:
        d.stop()


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_metrics])
