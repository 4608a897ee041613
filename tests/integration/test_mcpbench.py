#!/usr/bin/env python3
"""mcpbench against mcpd, briefly: a few thousand connections over two
load processes for a few seconds in each mode (stateless closed loop,
session era, open loop at a fixed rate, idle listen streams), and its
report must be consistent: counts add up, no errors, every answer in the
histogram, the rate of an open loop met; a target outside 127.0.0.0/8 is
refused.  How fast it went is this machine's business: the test judges
the report, not the rates (but that an open loop never exceeds its own)."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

BUILD = os.path.dirname(os.path.abspath(T.MCPD))
MCPBENCH = os.environ.get("MCPBENCH", os.path.join(BUILD, "mcpbench"))
PLUGIN = os.environ.get("MCPD_BENCH_PLUGIN",
                        os.path.join(BUILD, "plugins", ".libs", "bench.so"))


def bench(d, *args):
    out = os.path.join(d.dir, "bench.json")
    cmd = [MCPBENCH, "-j", out] + list(args) + ["127.0.0.1:%d" % d.http_port]
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    check_eq(r.returncode, 0, "%s: %s" % (" ".join(cmd),
                                           r.stderr.decode()[-500:]))
    with open(out) as f:
        j = json.load(f)
    info("%s: %d ok, %.0f/s, p50 %d us, p99 %d us, %d connections" %
         (" ".join(args), j["ok"], j["rate"], j["latency_us"]["p50"],
          j["latency_us"]["p99"], j["connections_open"]))
    return j


def consistent(j, conns, what):
    check_eq(j["errors"], 0, "%s: no errors %r" % (what, j["errors_by_kind"]))
    check_eq(j["requests"], j["ok"] + j["errors"], "%s: counts" % what)
    check_eq(j["latency_us"]["count"], j["ok"], "%s: histogram" % what)
    check_eq(j["connections_open"], conns, "%s: connections" % what)
    check_eq(j["connections_failed"], 0, "%s: no failed connects" % what)
    check_eq(j["processes_reported"], j["processes"], "%s: reports" % what)
    lat = j["latency_us"]
    check(lat["p50"] <= lat["p99"] <= lat["p100"], "%s: percentiles "
          "in order %r" % (what, lat))


def test_mcpbench():
    d = T.Daemon(keys={"workers": "2", "plugin": '"%s"' % PLUGIN})
    d.start()
    try:
        j = bench(d, "-c", "2000", "-P", "2", "-d", "3", "-w", "1", "-m",
                  "tools/call:echo:256B=80,resources/read:bench://static=15,"
                  "tools/list=5")
        consistent(j, 2000, "stateless")
        # how many is how fast this machine is; that it worked is that
        # there were answers and none failed (consistent(), above)
        check(j["ok"] >= 100, "it did some work: %d" % j["ok"])
        check(j["http"]["2xx"] >= j["ok"], "answers were 2xx")
        j = bench(d, "-c", "200", "-P", "2", "-d", "2", "-e", "session",
                  "-m", "tools/call:echo:64B")
        consistent(j, 200, "session era")
        j = bench(d, "-c", "100", "-P", "2", "-d", "3", "-r", "2000",
                  "-m", "tools/call:echo:1024B")
        consistent(j, 100, "open loop")
        # an open loop sends at its rate, never more (6000 in 3 s, +10 %
        # for the pacing's rounding); fewer are answered in the 3 s when a
        # busy machine keeps mcpd or mcpbench from keeping up (their
        # latency shows it), so below only a loose floor: it was the open
        # loop at 2000/s that ran, not a closed one or nothing
        check(3000 <= j["ok"] <= 6600, "an open loop of 2000/s for 3 s: "
              "%d answered (late sends %d)" % (j["ok"], j["late"]))
        j = bench(d, "-c", "2000", "-P", "2", "-d", "1", "-i")
        check_eq(j["connections_open"], 2000, "idle listen streams held")
        check_eq(j["errors"], 0, "idle: no errors")
        r = subprocess.run([MCPBENCH, "-d", "1", "10.0.0.1:80"],
                           capture_output=True, timeout=10)
        check_eq(r.returncode, 2, "a target outside 127.0.0.0/8")
        check(b"not in 127.0.0.0/8" in r.stderr, "says why: %r" % r.stderr)
    finally:
        d.stop()


if __name__ == "__main__":
    if not os.access(MCPBENCH, os.X_OK) or not os.path.exists(PLUGIN):
        print("mcpbench or the bench plugin not built: %s %s" %
              (MCPBENCH, PLUGIN))
        sys.exit(99)
    T.main([test_mcpbench])
