#!/usr/bin/env python3
"""Exec tools run in the runner: every process of a run is killed with
its call (timeout, cancel, the end of its main process, a worker or the
supervisor killed, the daemon stopped), however it detached (setsid,
SIGTERM ignored); required arguments are enforced before anything runs;
failures are logged and counted in /metrics by tool and outcome; the
workers have no tool children; mcpd --stdio runs tools too.

A run's processes are found by their marker: a sleep whose duration is
unique to this test file's process (its command line in /proc)."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from test_mcp_http import post, request, init  # noqa: E402
from test_metrics import scrape, get  # noqa: E402

_seq = [0]


def marker():
    """A sleep duration no other process uses: 3000.PID0N seconds."""
    _seq[0] += 1
    return "3%03d.%d%02d" % (_seq[0], os.getpid(), _seq[0])


def marked(m):
    """Live processes whose command line holds the marker as a word."""
    want = m.encode()
    out = []
    for pid in T.all_pids():
        cl = T.cmdline(pid)
        if cl and want in cl.split(b"\0") and T.alive(pid):
            out.append(pid)
    return out


def kill_marked(*ms):
    """Hygiene: what a failing run left behind goes (it is not ours)."""
    for m in ms:
        for pid in marked(m):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def ancestors(pid):
    out = []
    for _ in range(64):
        st = T.proc_stat(pid)
        if st is None or st["ppid"] <= 1:
            break
        pid = st["ppid"]
        out.append(pid)
    return out


def script(d, name, text):
    path = os.path.join(d.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def call(port, sid, name, args=None, rid=1, timeout=None):
    st, _, msgs = post(port, request("tools/call", {
        "name": name, "arguments": args or {}}, rid=rid), sid)
    check_eq(st, 200, "tools/call %s" % name)
    return msgs[-1]


def text_of(res):
    return "".join(c.get("text", "") for c in res["result"]["content"])


def runs(samples, tool, outcome):
    return get(samples, "mcpd_tool_runs_total", tool=tool, outcome=outcome)


def in_thread(fn):
    out = {}

    def run():
        try:
            out["r"] = fn()
        except Exception as e:  # noqa: the caller looks
            out["e"] = e
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, out


def test_detached_children():
    """A run whose main process leaves a setsid'd child holding stdout
    ends when the main process does (the child is killed), and one whose
    main process outlives the timeout ends at the timeout: five of each,
    none stuck, nothing left."""
    m1, m2, m3 = marker(), marker(), marker()
    d = T.Daemon(keys={"workers": "1"})
    try:
        s1 = script(d, "detach.sh",
                    "setsid sleep %s &\necho started\n" % m1)
        s2 = script(d, "block.sh",
                    "setsid sleep %s &\nsleep %s\necho never\n" % (m2, m3))
        d.extra = """
tool "detach" {
	description "leaves a detached child holding stdout"
	command "/bin/sh" "%s"
	timeout 3s
	concurrency 4
}
tool "block" {
	description "detaches a child, then sleeps past its timeout"
	command "/bin/sh" "%s"
	timeout 1s
	concurrency 4
}
""" % (s1, s2)
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        for i in range(5):
            r = call(p, sid, "detach", rid=10 + i)
            check(not r["result"].get("isError"),
                  "detach run %d: %r" % (i, r))
            check_eq(text_of(r), "started\n", "detach run %d output" % i)
            left = T.wait_gone(marked(m1), 5)
            check(not left, "detach run %d left %r" % (i, left))
        for i in range(5):
            r = call(p, sid, "block", rid=20 + i)
            check(r["result"].get("isError") and
                  "timed out" in text_of(r), "block run %d: %r" % (i, r))
            left = T.wait_gone(marked(m2) + marked(m3), 5)
            check(not left, "block run %d left %r" % (i, left))
        # the daemon's clock: each timed-out run ended within its timeout
        # and the kill (the runner logs how long it took)
        ms = d.wait_log(r'tool block: timed out after 1\.000 s, '
                        r'run ended in (\d+\.\d+) s', count=5)
        for mt in ms:
            check(float(mt.group(1)) < 2.0,
                  "a timed-out run took %s s" % mt.group(1))
    finally:
        d.stop()
        kill_marked(m1, m2, m3)


def test_sigterm_ignored():
    """A tool that ignores SIGTERM (and detaches) is killed at its timeout
    and when it is cancelled."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "1"})
    try:
        s = script(d, "stubborn.sh",
                   "trap '' TERM\n"
                   "setsid sh -c \"trap '' TERM; sleep %s; :\" &\n"
                   "sleep %s\n:\n" % (m1, m2))
        d.extra = """
tool "stubborn" {
	description "ignores SIGTERM"
	command "/bin/sh" "%s"
	timeout 1s
}
tool "stubborn_long" {
	description "ignores SIGTERM, for a cancel"
	command "/bin/sh" "%s"
	timeout 60s
}
""" % (s, s)
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        r = call(p, sid, "stubborn")
        check("timed out" in text_of(r), "stubborn: %r" % r)
        left = T.wait_gone(marked(m1) + marked(m2), 5)
        check(not left, "the stubborn run left %r" % left)
        th, out = in_thread(lambda: call(p, sid, "stubborn_long", rid=77))
        T.wait_until(lambda: marked(m1) and marked(m2), 10,
                     "the stubborn tool runs")
        st, _, _ = post(p, {"jsonrpc": "2.0",
                            "method": "notifications/cancelled",
                            "params": {"requestId": 77}}, sid)
        check_eq(st, 202, "notifications/cancelled")
        left = T.wait_gone(marked(m1) + marked(m2), 5)
        check(not left, "the cancelled run left %r" % left)
        th.join(10)
        check(not th.is_alive(), "the cancelled call's stream ended")
    finally:
        d.stop()
        kill_marked(m1, m2)


def hold_conf(d, m1, m2, timeout="60s"):
    s = script(d, "hold.sh", "setsid sleep %s &\nsleep %s\n:\n" % (m1, m2))
    d.extra = """
tool "hold" {
	description "a detached child and a long sleep"
	command "/bin/sh" "%s"
	timeout %s
}
tool "sleeper" {
	description "a long sleep, as the tool's own process"
	command "/bin/sleep" "%s"
	timeout %s
}
""" % (s, timeout, m2, timeout)
    d.write_conf()


def start_hold(d, m1, m2, name="hold"):
    p = d.http_port
    sid, _ = init(p)
    th, out = in_thread(lambda: call(p, sid, name, rid=5))
    T.wait_until(lambda: (marked(m1) or name != "hold") and marked(m2), 10,
                 "the tool runs")
    return th, out


def test_worker_killed():
    """kill -9 of the worker whose call runs a tool: every process of the
    run is gone within a few seconds."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "1"})
    try:
        hold_conf(d, m1, m2)
        d.start()
        th, out = start_hold(d, m1, m2)
        wpid = d.worker_pids()[0]
        os.kill(wpid, signal.SIGKILL)
        left = T.wait_gone(marked(m1) + marked(m2), 5)
        check(not left, "the run of a killed worker left %r" % left)
        d.wait_ready()
        d.wait_log(r"runner: worker 0 \(channel \d+\) went away: "
                   r"killing its 1 run")
    finally:
        d.stop()
        kill_marked(m1, m2)


def test_supervisor_killed():
    """kill -9 of the supervisor while a tool runs: the runner kills every
    run and exits; nothing of the run is left."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "1"})
    try:
        hold_conf(d, m1, m2)
        d.start()
        th, out = start_hold(d, m1, m2)
        rpid = d.pids()["runner"]
        os.kill(d.pid, signal.SIGKILL)
        left = T.wait_gone(marked(m1) + marked(m2), 5)
        check(not left, "the run left %r after the supervisor died" % left)
        left = T.wait_gone([rpid], 5)
        check(not left, "the runner outlived its supervisor")
    finally:
        d.cleanup()
        kill_marked(m1, m2)


def test_daemon_stopped():
    """mcpd stopped (SIGTERM) while a stubborn tool runs: when it has
    exited nothing of the run is left."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "1", "drain-timeout": "1s"})
    try:
        hold_conf(d, m1, m2)
        d.start()
        th, out = start_hold(d, m1, m2)
        d.signal(signal.SIGTERM)
        d.wait_exit(15)
        left = T.wait_gone(marked(m1) + marked(m2), 5)
        check(not left, "the run outlived the daemon: %r" % left)
    finally:
        d.stop()
        kill_marked(m1, m2)


def test_runner_runs_tools():
    """ps: the tool's process descends from the runner, and no worker has
    a child."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "2", "drain-timeout": "1s"})
    try:
        hold_conf(d, m1, m2)
        d.start()
        th, out = start_hold(d, m1, m2, name="sleeper")
        pids = d.pids()
        tool = marked(m2)
        check_eq(len(tool), 1, "one sleeper process")
        up = ancestors(tool[0])
        check(pids["runner"] in up, "the tool (pid %d) descends from the "
              "runner (%d): its ancestors are %r" % (tool[0],
                                                     pids["runner"], up))
        for name, pid in pids.items():
            if name.startswith("worker"):
                check(pid not in up, "%s is an ancestor of the tool" % name)
                check_eq(T.children(pid), [], "children of %s" % name)
    finally:
        d.stop()
        kill_marked(m1, m2)


def test_runner_killed():
    """kill -9 of the runner while a tool runs: the run is gone, its call
    fails at once, a new runner takes the calls after it, and the counts
    of the old one are kept."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "1", "throttle-min": "100ms"})
    try:
        hold_conf(d, m1, m2)
        d.extra += """
tool "echo" {
	description "echo"
	command "/bin/echo" "{text}"
}
"""
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        check_eq(text_of(call(p, sid, "echo", {"text": "a"})), "a\n", "echo")
        th, out = start_hold(d, m1, m2)
        rpid = d.pids()["runner"]
        os.kill(rpid, signal.SIGKILL)
        left = T.wait_gone(marked(m1) + marked(m2), 5)
        check(not left, "the run outlived its runner: %r" % left)
        th.join(10)
        check(not th.is_alive(), "the call ended")
        r = out.get("r")
        check(r is not None and r["result"]["isError"] and
              "runner stopped" in text_of(r), "the call: %r" % out)
        d.wait_ready()
        check(d.pids()["runner"] != rpid, "a new runner")
        r = T.wait_until(lambda: text_of(call(p, sid, "echo",
                                              {"text": "b"})) == "b\n",
                         10, "a call through the new runner")
        samples = scrape(d)
        check_eq(runs(samples, "echo", "ok"), 2, "echo's runs, both runners")
        check_eq(get(samples, "mcpd_tool_runs_in_progress", tool="hold"), 0,
                 "hold in progress")
    finally:
        d.stop()
        kill_marked(m1, m2)


def test_reload():
    """The runner follows the configuration: a catalog reload changes a
    tool's command, and a new generation of workers runs the tools of the
    new configuration."""
    d = T.Daemon(keys={"workers": "2"})
    try:
        tool = """
tool "v" {
	description "a version"
	command "/bin/echo" "%s"
}
"""
        d.extra = tool % "one"
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        check_eq(text_of(call(p, sid, "v")), "one\n", "before")
        d.extra = tool % "two"
        d.write_conf()
        mark = d.log_mark()
        rc, o, e = d.ctl("reload")
        check(rc == 0 and "catalog updated" in o, "reload: %r %r" % (o, e))
        # mcpctl returns once the workers are told, not when they took it
        d.wait_log(r"worker \d+: catalog reloaded", count=2, since=mark)
        check_eq(text_of(call(p, sid, "v")), "two\n", "a catalog reload")
        d.extra = tool % "three"
        d.set_keys(idle_timeout="59s")
        rc, o, e = d.ctl("reload")
        check(rc == 0 and "generation" in o, "reload: %r %r" % (o, e))
        d.wait_ready(generation=2)
        sid, _ = init(p)
        check_eq(text_of(call(p, sid, "v")), "three\n", "a new generation")
        check_eq(runs(scrape(d), "v", "ok"), 3, "v's runs")
    finally:
        d.stop()


def test_required_arguments():
    """A required argument that is missing is -32602 naming it, and the
    program never runs; given ones are passed as before."""
    d = T.Daemon(keys={"workers": "1"})
    try:
        ran = os.path.join(d.dir, "ran")
        os.mkdir(ran)
        d.extra = """
tool "touch" {
	description "touches ran/x-{x} (derived schema: x is required)"
	command "/usr/bin/touch" "%s/x-{x}"
}
tool "touch2" {
	description "touches its argument; y required by its schema"
	input-schema "{\\"type\\":\\"object\\",\\"properties\\":{\\"y\\":{\\"type\\":\\"string\\"},\\"z\\":{\\"type\\":\\"string\\"}},\\"required\\":[\\"y\\"]}"
	command "/usr/bin/touch" "{y}" "{z}"
}
""" % ran
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        r = call(p, sid, "touch", {})
        check("error" in r and r["error"]["code"] == -32602,
              "touch without x: %r" % r)
        check("x" in r["error"]["message"] and
              "required" in r["error"]["message"].lower(),
              "the error names x: %r" % r["error"]["message"])
        r = call(p, sid, "touch", {"x": None})
        check("error" in r and r["error"]["code"] == -32602,
              "touch with x null: %r" % r)
        r = call(p, sid, "touch2", {"z": os.path.join(ran, "z")})
        check("error" in r and r["error"]["code"] == -32602 and
              "y" in r["error"]["message"], "touch2 without y: %r" % r)
        check_eq(os.listdir(ran), [], "nothing ran")
        r = call(p, sid, "touch", {"x": "1"})
        check(not r["result"].get("isError"), "touch x=1: %r" % r)
        r = call(p, sid, "touch2", {"y": os.path.join(ran, "y")})
        check(not r["result"].get("isError"), "touch2 y: %r" % r)
        check_eq(sorted(os.listdir(ran)), ["x-1", "y"], "what ran")
    finally:
        d.stop()


def test_failures_counted():
    """Each way a run fails is logged (tool and why) and counted in
    /metrics by tool and outcome; a success is counted too."""
    d = T.Daemon(keys={"workers": "2"})
    m = marker()
    try:
        kill = script(d, "killself.sh", "kill -9 $$\n")
        d.extra = """
tool "ok" {
	description "succeeds"
	command "/bin/echo" "fine"
}
tool "fail" {
	description "exit 3"
	command "/bin/sh" "-c" "echo oops >&2; exit 3"
}
tool "killed" {
	description "killed by a signal"
	command "/bin/sh" "%s"
}
tool "slow" {
	description "past its timeout"
	command "/bin/sleep" "%s"
	timeout 500ms
}
tool "loud" {
	description "past its output cap"
	command "/usr/bin/seq" "1" "100000"
	max-output 1K
}
tool "missing" {
	description "no such program"
	command "/nonexistent/mcpd-test-program"
}
tool "nodir" {
	description "no such directory"
	command "/bin/echo" "x"
	directory "/nonexistent/mcpd-test-dir"
}
""" % (kill, m)
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        for name in ("ok", "ok", "fail", "killed", "slow", "loud",
                     "missing", "nodir"):
            r = call(p, sid, name)
            check("result" in r, "%s: %r" % (name, r))
        r = call(p, sid, "loud")
        check("[output truncated at 1024 bytes]" in text_of(r),
              "the cap note: %r" % text_of(r)[-100:])
        r = call(p, sid, "missing")
        check(r["result"]["isError"] and "cannot run" in text_of(r),
              "missing: %r" % text_of(r))
        samples = scrape(d)
        want = {("ok", "ok"): 2, ("fail", "error"): 1,
                ("killed", "killed"): 1, ("slow", "timeout"): 1,
                ("loud", "overflow"): 2, ("missing", "failed_to_start"): 2,
                ("nodir", "failed_to_start"): 1}
        for (tool, outcome), n in want.items():
            check_eq(runs(samples, tool, outcome), n,
                     "mcpd_tool_runs_total{tool=%s,outcome=%s}" %
                     (tool, outcome))
        check_eq(runs(samples, "ok", "error"), 0, "ok's errors")
        d.wait_log(r"runner: tool fail: exit status 3")
        d.wait_log(r"runner: tool killed: killed by signal 9")
        d.wait_log(r"runner: tool slow: timed out after 0\.500 s")
        d.wait_log(r"runner: tool loud: output past max-output 1024 bytes")
        d.wait_log(r"runner: tool missing: cannot run "
                   r"/nonexistent/mcpd-test-program: No such file")
        d.wait_log(r"runner: tool nodir: cannot run /bin/echo: directory "
                   r"/nonexistent/mcpd-test-dir: No such file")
        # a worker's restart does not lose the runner's counts
        os.kill(d.worker_pids()[0], signal.SIGKILL)
        d.wait_ready()
        check_eq(runs(scrape(d), "fail", "error"), 1, "after a restart")
    finally:
        d.stop()
        kill_marked(m)


def test_concurrency_node():
    """concurrency is per tool across the node: with one run going, a call
    that lands on any worker is refused at once, and counted busy."""
    m1, m2 = marker(), marker()
    d = T.Daemon(keys={"workers": "2", "drain-timeout": "1s"})
    try:
        d.extra = """
tool "one" {
	description "one at a time"
	command "/bin/sleep" "%s"
	timeout 60s
	concurrency 1
}
""" % m2
        d.write_conf()
        d.start()
        th, out = start_hold(d, m1, m2, name="one")
        p = d.http_port
        for i in range(6):
            sid, _ = init(p)    # a new connection: either worker
            r = call(p, sid, "one", rid=30 + i)
            check(r["result"]["isError"] and
                  "in progress" in text_of(r), "call %d: %r" % (i, r))
        check_eq(len(marked(m2)), 1, "one run")
        check_eq(runs(scrape(d), "one", "busy"), 6, "busy refusals")
    finally:
        d.stop()
        kill_marked(m1, m2)


def test_large_output_and_env():
    """An output larger than a channel frame arrives whole (memfd); the
    environment is the allowlist and a fixed PATH; the directory is set;
    the limits are set, and max-memory holds."""
    d = T.Daemon(keys={"workers": "1"}, env={"MCPD_TEST_PASS": "passed",
                                             "MCPD_TEST_HIDE": "hidden"})
    try:
        d.extra = """
tool "big" {
	description "220 KiB of output"
	command "/usr/bin/seq" "1" "40000"
	max-output 1M
}
tool "env" {
	description "its environment"
	command "/usr/bin/env"
	env MCPD_TEST_PASS
}
tool "pwd" {
	description "its directory"
	command "/bin/pwd"
	directory "%s"
}
tool "limits" {
	description "its limits"
	command "/bin/sh" "-c" "ulimit -c; ulimit -n; ulimit -v; ulimit -p"
	max-memory 256M
	max-processes 50
}
tool "hog" {
	description "asks for 512 MiB"
	command "%s" "-c" "bytearray(512 << 20); print('allocated')"
	max-memory 256M
}
tool "hog_free" {
	description "asks for 512 MiB, with no limit"
	command "%s" "-c" "bytearray(512 << 20); print('allocated')"
}
""" % (d.dir, sys.executable, sys.executable)
        d.write_conf()
        d.start()
        p = d.http_port
        sid, _ = init(p)
        r = call(p, sid, "big")
        want = subprocess.run(["/usr/bin/seq", "1", "40000"],
                              capture_output=True).stdout.decode()
        check_eq(len(text_of(r)), len(want), "the big output's length")
        check(text_of(r) == want, "the big output")
        env = text_of(call(p, sid, "env")).split("\n")
        check("MCPD_TEST_PASS=passed" in env, "env: %r" % env)
        check(not any(e.startswith("MCPD_TEST_HIDE") for e in env),
              "hidden variable passed: %r" % env)
        check(any(e.startswith("PATH=") for e in env), "no PATH: %r" % env)
        check_eq(len([e for e in env if e]), 2, "variables: %r" % env)
        check_eq(text_of(call(p, sid, "pwd")).strip(), d.dir, "directory")
        lim = text_of(call(p, sid, "limits")).split()
        check_eq(lim[0], "0", "RLIMIT_CORE")
        check(int(lim[1]) <= 1024, "RLIMIT_NOFILE %s" % lim[1])
        check_eq(lim[2:4], [str(256 * 1024), "50"],
                 "RLIMIT_AS (KiB) and RLIMIT_NPROC")
        r = call(p, sid, "hog")
        check(r["result"].get("isError") is True and
              "MemoryError" in text_of(r),
              "512 MiB under max-memory 256M: %r" % r)
        r = call(p, sid, "hog_free")
        check(not r["result"].get("isError") and "allocated" in text_of(r),
              "512 MiB with no max-memory: %r" % r)
    finally:
        d.stop()


def test_stdio_exec():
    """mcpd --stdio runs exec tools (its own runner, in-process); a run
    is killed when stdin closes and the drain ends."""
    m = marker()
    tmp = tempfile.mkdtemp(prefix="mcpds-")
    conf = os.path.join(tmp, "mcpd.conf")
    with open(conf, "w") as f:
        f.write('tool "echo" {\n\tdescription "echo"\n'
                '\tcommand "/bin/echo" "{text}"\n}\n'
                'tool "sleeper" {\n\tdescription "sleep"\n'
                '\tcommand "/bin/sleep" "%s"\n}\n' % m)
    p = subprocess.Popen([T.MCPD, "--stdio", "-c", conf],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        def send(msg):
            p.stdin.write(json.dumps(msg).encode() + b"\n")
            p.stdin.flush()
        send(request("initialize", {"protocolVersion": "2025-11-25",
                                    "capabilities": {},
                                    "clientInfo": {"name": "t",
                                                   "version": "1"}}))
        json.loads(p.stdout.readline())
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send(request("tools/call", {"name": "echo",
                                    "arguments": {"text": "hi there"}},
                     rid=2))
        r = json.loads(p.stdout.readline())
        check_eq(r["result"]["content"][0]["text"], "hi there\n",
                 "stdio echo")
        send(request("tools/call", {"name": "sleeper"}, rid=3))
        T.wait_until(lambda: marked(m), 10, "the stdio tool runs")
        p.stdin.close()
        check_eq(p.wait(timeout=15), 0, "exit status")
        left = T.wait_gone(marked(m), 5)
        check(not left, "the stdio run outlived mcpd: %r" % left)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        kill_marked(m)


if __name__ == "__main__":
    T.main([test_detached_children, test_sigterm_ignored, test_worker_killed,
            test_supervisor_killed, test_runner_killed,
            test_daemon_stopped, test_reload,
            test_runner_runs_tools, test_required_arguments,
            test_failures_counted, test_concurrency_node,
            test_large_output_and_env, test_stdio_exec])
