#!/usr/bin/env python3
"""
run-conformance.py -- the MCP conformance suite against mcpd (make check).

Starts mcpd with the conformance fixtures (./serve, which reads MCPD and
MCPD_PLUGIN from the environment) on free ports, waits until POST /mcp
answers, then runs the two pinned suites against the same mcpd:

  @modelcontextprotocol/conformance 0.1.16 (the session era, 2025-x):
    server --url URL                  "Total: 40 passed, 0 failed"
    server --url URL --suite all      "Total: 47 passed, 0 failed"
      (the reference server's 44 plus the three checks of
      server-sse-polling -- priming event, retry field, close and resume
      with Last-Event-ID -- which give the reference only warnings: mcpd
      resumes SSE streams, SEP-1699)
  @modelcontextprotocol/conformance 0.2.0-alpha.12 (npm alias
  conformance-next; the stateless era 2026-07-28 and the tasks extension):
    server --url URL --requirements 2026-07-28
                                      "Total: 196 passed, 0 failed"
      (the 37 scenarios the revision requires, the 10 tasks-* extension
      scenarios and the 3 pending ones -- the run reports all 50)
    server --url URL --suite active   "Total: 73 passed, 0 failed"

and requires exit status 0 and the Total line of each.  Each suite runs
as "node <package>/dist/index.js" with the pinned node: both packages
install a "conformance" command, so the name alone is ambiguous.  mcpd is
then stopped with SIGTERM (SIGKILL after a grace period, which fails the
test) and must exit with status 0.

The suites come from tests/conformance/package-lock.json: without
tests/conformance/node_modules the test fails (it never skips) and says
to run "npm ci --prefix tests/conformance".  node_modules/.bin goes first
on PATH, so the suite runs on the pinned node 22.

The last line is "conformance: N passed, M failed", counting the scenarios
of both runs; a run that did not finish counts its missing ones as failed.
Exit status: 0 when everything passed, 1 otherwise.  Every wait is bounded.

With "--url URL" it runs the two suites against a server someone else
started (test_cluster.py: HAProxy in front of a cluster's nodes).

Python 3 standard library only.
"""

import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# where package.json and node_modules are: here, or (make distcheck, whose
# unpacked tree has no node_modules) the checkout's, named by the caller
PKG_DIR = os.environ.get("MCPD_CONFORMANCE_DIR", HERE)
NODE_MODULES = os.path.join(PKG_DIR, "node_modules")
NODE_BIN = os.path.join(NODE_MODULES, ".bin")
SERVE = os.path.join(HERE, "serve")

SUITE_OLD = "@modelcontextprotocol/conformance"     # 0.1.16
SUITE_NEW = "conformance-next"                      # 0.2.0-alpha.12
# (package, extra arguments, the line required, scenarios in that run)
RUNS = [
    (SUITE_OLD, [], "Total: 40 passed, 0 failed", 30),
    (SUITE_OLD, ["--suite", "all"], "Total: 47 passed, 0 failed", 32),
    (SUITE_NEW, ["--requirements", "2026-07-28"],
     "Total: 196 passed, 0 failed", 50),
    (SUITE_NEW, ["--suite", "active"], "Total: 73 passed, 0 failed", 31),
]
SUITE_TIMEOUT = 300.0   # seconds, each run
START_TIMEOUT = 10.0    # until POST /mcp answers
STOP_TIMEOUT = 20.0     # SIGTERM to exit (the drain is 10 s by default)
PORT_LO, PORT_HI = 20000, 32000   # below the ephemeral range

SCENARIO_RE = re.compile(r"^(\u2713|\u2717) (\S+): (\d+) passed, (\d+) failed$")

failures = []
passed_scenarios = 0
failed_scenarios = 0


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def fail(msg):
    failures.append(msg)
    say("FAIL: " + msg)


def finish():
    status = 0 if not failures and failed_scenarios == 0 else 1
    say("conformance: %d passed, %d failed" %
        (passed_scenarios, failed_scenarios))
    sys.exit(status)


# ------------------------------------------------------------------ ports

def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports(n):
    rnd = random.Random(os.getpid() * 7919 + time.monotonic_ns())
    got = []
    for _ in range(1000):
        p = rnd.randrange(PORT_LO, PORT_HI)
        if p not in got and port_free(p):
            got.append(p)
            if len(got) == n:
                return got
    raise RuntimeError("no free ports in %d..%d" % (PORT_LO, PORT_HI))


# ------------------------------------------------------------------- mcpd

class Server(object):
    def __init__(self, rundir, env):
        self.rundir = rundir
        self.env = env
        self.logpath = os.path.join(rundir, "serve.log")
        self.proc = None
        self.port = None
        self.exit_reported = False
        self.log_shown = False

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def show_log(self, lines=80):
        if self.log_shown:
            return
        self.log_shown = True
        text = self.log().splitlines()
        say("--- the last %d lines of mcpd's output (%s)" %
            (min(lines, len(text)), self.logpath))
        for line in text[-lines:]:
            say("  " + line)
        say("---")

    def start(self):
        """serve on free ports until POST /mcp answers; True if so."""
        for attempt in range(3):
            self.port, admin = free_ports(2)
            mark = len(self.log())
            with open(self.logpath, "ab") as logf:
                self.proc = subprocess.Popen(
                    ["/bin/sh", SERVE, str(self.port), str(admin)],
                    stdin=subprocess.DEVNULL, stdout=logf,
                    stderr=subprocess.STDOUT, env=self.env, cwd=self.rundir,
                    start_new_session=True, close_fds=True)
            say("started serve %d %d (pid %d)" %
                (self.port, admin, self.proc.pid))
            err = self.wait_up()
            if err is None:
                return True
            if (self.proc.poll() is not None and
                    "Address already in use" in self.log()[mark:] and
                    attempt < 2):
                say("a port was taken meanwhile; trying others")
                continue
            fail(err)
            if self.proc.poll() is not None:
                self.exit_reported = True
            self.show_log()
            return False
        return False

    def wait_up(self):
        """None once POST /mcp answers, else what went wrong."""
        body = b'{"jsonrpc":"2.0","id":0,"method":"ping"}'
        headers = {"Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        for _ in range(int(START_TIMEOUT / 0.1) + 10):
            if self.proc.poll() is not None:
                return ("mcpd exited with status %d while starting" %
                        self.proc.returncode)
            c = http.client.HTTPConnection("127.0.0.1", self.port,
                                           timeout=1.0)
            try:
                c.request("POST", "/mcp", body=body, headers=headers)
                r = c.getresponse()
                r.read()
                say("POST /mcp answered %d after %.1f s" %
                    (r.status, START_TIMEOUT - deadline + time.monotonic()))
                return None
            except (OSError, http.client.HTTPException) as e:
                last = e
            finally:
                c.close()
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        return ("POST /mcp did not answer within %.0f s (last: %r)" %
                (START_TIMEOUT, last))

    def group_alive(self):
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def stop(self):
        """SIGTERM, then SIGKILL; checks mcpd exited with status 0."""
        if self.proc is None:
            return
        ok = True
        if self.proc.poll() is not None:
            if not self.exit_reported:
                fail("mcpd had exited already, status %d" %
                     self.proc.returncode)
            ok = False
        else:
            t0 = time.monotonic()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
                say("mcpd exited with status %d %.1f s after SIGTERM" %
                    (self.proc.returncode, time.monotonic() - t0))
                if self.proc.returncode != 0:
                    fail("mcpd exited with status %d after SIGTERM" %
                         self.proc.returncode)
                    ok = False
            except subprocess.TimeoutExpired:
                fail("mcpd still running %.0f s after SIGTERM; SIGKILL" %
                     STOP_TIMEOUT)
                ok = False
                self.kill_group()
        # the workers are in its process group: none may be left
        for _ in range(50):
            if not self.group_alive():
                break
            time.sleep(0.05)
        else:
            fail("processes of mcpd's group still running after it "
                 "exited; SIGKILL")
            ok = False
            self.kill_group()
        if not ok:
            self.show_log()

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


# ------------------------------------------------------------------ suite

def suite_js(pkg):
    return os.path.join(NODE_MODULES, pkg, "dist", "index.js")


def run_suite(node, pkg, url, extra, want_total, nscenarios, env, cwd):
    """One run of a suite; counts its scenarios, checks the outcome."""
    global passed_scenarios, failed_scenarios
    cmd = [node, suite_js(pkg), "server", "--url", url] + extra
    say("=== " + " ".join(cmd))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, cwd=cwd, start_new_session=True,
                         close_fds=True)
    timed_out = False
    try:
        out, _ = p.communicate(timeout=SUITE_TIMEOUT)
    except subprocess.TimeoutExpired:
        timed_out = True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                out, _ = p.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                out = b""
    dt = time.monotonic() - t0
    sys.stdout.buffer.write(out)
    if out and not out.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    text = out.decode("utf-8", "replace")
    lines = [l.rstrip("\r") for l in text.splitlines()]

    ok_n = bad_n = 0
    in_summary = False
    for line in lines:
        if line.strip() == "=== SUMMARY ===":
            in_summary = True
            continue
        m = SCENARIO_RE.match(line.strip()) if in_summary else None
        if m:
            if m.group(1) == "\u2713":
                ok_n += 1
            else:
                bad_n += 1
    good = True
    what = " ".join([pkg] + extra)
    if timed_out:
        fail("%s: no end after %.0f s" % (what, SUITE_TIMEOUT))
        good = False
    elif p.returncode != 0:
        fail("%s: exit status %d" % (what, p.returncode))
        good = False
    if want_total not in [l.strip() for l in lines]:
        got = [l.strip() for l in lines if l.strip().startswith("Total:")]
        fail("%s: want %r, got %r" % (what, want_total,
                                      got[-1] if got else None))
        good = False
    # scenarios that did not run, or a failure no scenario owns
    missing = max(0, nscenarios - ok_n - bad_n)
    bad_n += missing
    if not good and bad_n == 0:
        bad_n = 1
    passed_scenarios += ok_n
    failed_scenarios += bad_n
    say("[%s] scenarios: %d ok, %d not ok, %.1f s" % (what, ok_n, bad_n, dt))


def main():
    global failed_scenarios
    expected = sum(n for _, _, _, n in RUNS)

    if not (os.path.isdir(NODE_MODULES) and
            os.path.exists(suite_js(SUITE_OLD)) and
            os.path.exists(suite_js(SUITE_NEW)) and
            os.path.exists(os.path.join(NODE_BIN, "node"))):
        fail("%s is missing or incomplete; run: npm ci --prefix "
             "tests/conformance" % NODE_MODULES)
        failed_scenarios += expected
        finish()

    env = dict(os.environ)
    env["PATH"] = NODE_BIN + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env["NO_COLOR"] = "1"
    env.pop("NOTIFY_SOCKET", None)
    env.pop("MCPD_FAULT", None)
    node = os.path.join(NODE_BIN, "node")

    if len(sys.argv) == 3 and sys.argv[1] == "--url":
        # a server someone else runs (test_cluster.py: HAProxy in front of
        # a cluster's nodes): the suites only
        rundir = tempfile.mkdtemp(prefix="mcpdc-", dir="/tmp")
        try:
            for pkg, extra, want_total, n in RUNS:
                run_suite(node, pkg, sys.argv[2], extra, want_total, n, env,
                          rundir)
            ran = passed_scenarios + failed_scenarios
            failed_scenarios += max(0, expected - ran)
        finally:
            shutil.rmtree(rundir, ignore_errors=True)
        finish()
    elif len(sys.argv) != 1:
        fail("usage: run-conformance.py [--url URL]")
        finish()

    # short: the control socket's path must fit in 107 bytes
    rundir = tempfile.mkdtemp(prefix="mcpdc-", dir="/tmp")
    env["MCPD_RUNDIR"] = rundir
    server = Server(rundir, env)

    def on_signal(signo, frame):
        raise SystemExit("killed by signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        if not server.start():
            failed_scenarios += expected
        else:
            url = "http://127.0.0.1:%d/mcp" % server.port
            for pkg, extra, want_total, n in RUNS:
                run_suite(node, pkg, url, extra, want_total, n, env, rundir)
                if server.proc.poll() is not None:
                    fail("mcpd exited with status %d during the suite" %
                         server.proc.returncode)
                    server.exit_reported = True
                    server.show_log()
                    break
            ran = passed_scenarios + failed_scenarios
            failed_scenarios += max(0, expected - ran)
    finally:
        try:
            server.stop()
        finally:
            if server.proc is not None and server.proc.poll() is None:
                server.kill_group()
            if failures and os.environ.get("MCPDTEST_KEEP"):
                say("kept %s" % rundir)
            else:
                shutil.rmtree(rundir, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
