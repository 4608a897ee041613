#!/usr/bin/env python3
"""
run-clients.py -- real MCP clients against mcpd (make check).

    run-clients.py
    run-clients.py --url URL --docs DIR --node PID CONF LOG [--node ...]

Without arguments it starts mcpd -f with 4 workers, the conformance
fixture plugin and a catalog (CATALOG below: a directory of files as
resource "file:///docs/", the exec tools "echo" and "slow", the prompt
"greet") on free 127.0.0.1 ports (mcpdtest.Daemon from ../integration),
then runs, each under a timeout, with the pinned node 22:

    node sdk-client.mjs --http http://127.0.0.1:PORT/mcp
        the @modelcontextprotocol/sdk (v1) Client over Streamable HTTP,
        in the session era (initialize, Mcp-Session-Id)
    node sdk2-client.mjs --http http://127.0.0.1:PORT/mcp
        the @modelcontextprotocol/client (v2) Client in the stateless era
        (2026-07-28), with a v1 Client beside it, against the same mcpd
    node sdk-client.mjs --stdio MCPD CONF
    node sdk2-client.mjs --stdio MCPD CONF
        the same Clients over stdio; each spawns "MCPD --stdio -c CONF"
        itself (CONF: the plugin and the same catalog)
    node mcp-remote.mjs http://127.0.0.1:PORT/mcp
        mcp-remote bridging stdio to the HTTP endpoint, driven by the Client
    node inspector2.mjs http://127.0.0.1:PORT/mcp MCPD CONF
        the Inspector 2 CLI in its modern era (2026-07-28), as a user
        drives mcpd from the command line, over HTTP and stdio

prints their output as it comes, and stops mcpd with SIGTERM, which must
make it exit with status 0.  The scripts get the directory of
"file:///docs/" in MCPD_CLIENTS_DOCS (they write to files there and await
notifications/resources/updated), and, for the HTTP runs of the SDK
Clients, the pid of mcpd in MCPD_CLIENTS_PID (they look in /proc for the
"slow" tool they cancel).  After each of those no "sleep 30" of the
cancelled "slow" tool may be left among mcpd's descendants, and no process
of mcpd may have restarted: the v1 and the v2 Client were served by one
running mcpd.

When sdk2-client.mjs --http prints the line "# mcpd-clients: reload", this
script adds the tool "reloaded" and the prompt "reloaded" (RELOADED below)
to mcpd's configuration, sends SIGHUP, waits until every worker has
reloaded its catalog and writes "reloaded" (or "failed: WHY") to the
script's stdin; its listen streams must then get the list changes.

With --url it starts no mcpd: it runs the clients of the network against
URL, the address of a load balancer in front of nodes that someone else
started (tests/integration/test_cluster.py: three nodes behind HAProxy),
each with the fixture plugin and CATALOG, whose "file:///docs/" is the
directory DIR on every node (each node watches the files itself; DIR must
hold DOCS as write_docs() makes it).  Each --node names a node's
supervisor pid, its configuration file and its log.  The runs are
sdk-client.mjs --http, sdk2-client.mjs --http and mcp-remote.mjs (the
stdio runs and the Inspector, which also spawns mcpd --stdio, are the
single mode's); MCPD_CLIENTS_PID is every node's pid, separated by
commas; the reload adds RELOADED to every node's configuration file, sends
SIGHUP to each and waits until every worker of every node has reloaded;
the checks that no "sleep 30" is left and that no process restarted look
at every node.  The nodes are left running, with RELOADED in their
configuration: a second run needs nodes started anew.

Environment: MCPD, MCPCTL (the binaries), MCPD_PLUGIN (the fixture plugin;
else plugins/.libs/conformance.so next to MCPD), srcdir, and
MCPD_CONFORMANCE_DIR: the directory with package.json and node_modules
(else ../conformance next to this directory).  Without node_modules the
test fails (it never skips) and says to run "npm ci --prefix
tests/conformance".  MCPDTEST_KEEP=1 keeps the temporary directory.

The last line is "clients: N passed, M failed", counting the checks of
every run plus the harness's own (mcpd started, each run ended cleanly,
the reload, no "sleep 30" left and no restart after the HTTP runs of the
SDK Clients, mcpd exited 0; with --url: the nodes and DIR as said, each
run ended cleanly, the reload, no "sleep 30" left and no restart, every
node still running).  Exit status 0 when everything passed, 1
otherwise.  Every wait is bounded.  Python 3 standard library only.
"""

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import mcpdtest as T  # noqa: E402

PKG_DIR = os.path.abspath(os.environ.get("MCPD_CONFORMANCE_DIR") or
                          os.path.join(HERE, "..", "conformance"))
NODE_MODULES = os.path.join(PKG_DIR, "node_modules")
NODE = os.path.join(NODE_MODULES, ".bin", "node")
NEEDED = [
    NODE,
    os.path.join(NODE_MODULES, "@modelcontextprotocol", "sdk", "package.json"),
    os.path.join(NODE_MODULES, "@modelcontextprotocol", "client",
                 "package.json"),
    os.path.join(NODE_MODULES, "@modelcontextprotocol", "inspector", "clients",
                 "launcher", "build", "index.js"),
    os.path.join(NODE_MODULES, "mcp-remote", "dist", "proxy.js"),
]
SDK_CLIENT = os.path.join(HERE, "sdk-client.mjs")
SDK2_CLIENT = os.path.join(HERE, "sdk2-client.mjs")
MCP_REMOTE = os.path.join(HERE, "mcp-remote.mjs")
INSPECTOR2 = os.path.join(HERE, "inspector2.mjs")

RUN_TIMEOUT = 75.0     # seconds, each run (the scripts stop themselves at 60)
START_TIMEOUT = 10.0   # until every process of mcpd is ready
STOP_TIMEOUT = 15.0    # SIGTERM to exit (the drain is 10 s by default)
NRUNS = 6              # without --url
SLOW_GONE_TIMEOUT = 10.0   # until the cancelled "slow" tool is gone
RELOAD_TIMEOUT = 10.0      # SIGHUP until every worker reloaded the catalog
RELOAD_LINE = "# mcpd-clients: reload"

# The files of the resource "file:///docs/": sdk-client.mjs reads hello.txt
# and rewrites notes.md; sdk2-client.mjs rewrites both, hello.txt with the
# same text.
DOCS = {
    "hello.txt": "Hello from mcpd.\n",
    "notes.md": "# Notes\n",
}

CATALOG = """
resource "file:///docs/" {
	path "%(docs)s"
	description "files for the clients"
}
tool "echo" {
	description "print the text"
	command "/bin/echo" "{text}"
}
tool "slow" {
	description "sleep 30 seconds (to be cancelled)"
	command "/bin/sleep" "30"
	timeout 60s
}
prompt "greet" {
	description "greet someone"
	argument "who" required "whom to greet"
	message user "Say hello to {who}, please."
}
"""

# What the reload that sdk2-client.mjs --http asks for adds to the catalog.
RELOADED = """
tool "reloaded" {
	description "added by a reload"
	command "/bin/echo" "reloaded:" "{text}"
}
prompt "reloaded" {
	description "added by a reload"
	message user "The catalog was reloaded."
}
"""


def write_docs(docs):
    """Make the directory docs (it must not exist) with the files DOCS;
    returns CATALOG with its path, or None when the path cannot go in a
    configuration."""
    os.mkdir(docs)
    for fname, text in DOCS.items():
        with open(os.path.join(docs, fname), "w") as f:
            f.write(text)
    if '"' in docs or "\n" in docs or "\\" in docs:
        return None
    return CATALOG % {"docs": docs}


OK_RE = re.compile(r"^ok - ")
NOT_OK_RE = re.compile(r"^not ok - ")
SUMMARY_RE = re.compile(r"^([\w-]+): (\d+) passed, (\d+) failed$")

passed = 0
failed = 0


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def ok(name):
    global passed
    passed += 1
    say("ok - " + name)


def not_ok(name, why):
    global failed
    failed += 1
    say("not ok - %s: %s" % (name, why))


def finish():
    say("clients: %d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


def plugin_path():
    p = os.environ.get("MCPD_PLUGIN") or os.path.join(
        os.path.dirname(T.MCPD), "plugins", ".libs", "conformance.so")
    return os.path.abspath(p)


def sleepers(pids):
    """The "sleep 30" processes among the descendants of pids."""
    found = []
    for pid in pids:
        for p in T.descendants(pid):
            cl = T.cmdline(p)
            if cl and cl.rstrip(b"\0").split(b"\0")[-2:] == [b"/bin/sleep",
                                                              b"30"]:
                found.append(p)
    return found


def check_no_sleeper(ds):
    """After the HTTP run: the cancelled "slow" tool was killed (on
    whichever of the daemons ds ran it)."""
    pids = [d.pid for d in ds]
    where = "mcpd" if len(ds) == 1 else "any of the %d nodes" % len(ds)
    deadline = time.monotonic() + SLOW_GONE_TIMEOUT
    left = sleepers(pids)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = sleepers(pids)
    if left:
        not_ok("no slow tool left", "sleep 30 still running under %s "
               "(pids %s) %.0f s after the HTTP run" %
               (where, " ".join(map(str, left)), SLOW_GONE_TIMEOUT))
    else:
        ok("no sleep 30 of the cancelled slow tool left under %s" % where)


def run(name, args, env, cwd, on_line=None):
    """One node script, its output shown as it comes; adds its checks to
    the counts, and one failure of its own when it did not end as its
    output says it should.  on_line(line) is called with each line of
    output; what it returns, unless None, goes to the script's stdin as a
    line."""
    global passed, failed
    cmd = [NODE] + args
    say("=== %s: %s" % (name, " ".join(cmd)))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if on_line else
                         subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, cwd=cwd, start_new_session=True,
                         close_fds=True)
    lines = queue.Queue()

    def reader():
        for raw in iter(p.stdout.readline, b""):
            lines.put(raw)
        lines.put(None)
    th = threading.Thread(target=reader, daemon=True)
    th.start()

    text = []
    timed_out = False
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            try:
                raw = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                timed_out = True
                break
            if raw is None:
                break
            line = raw.decode("utf-8", "replace")
            if not line.endswith("\n"):
                line += "\n"
            sys.stdout.write(line)
            sys.stdout.flush()
            text.append(line)
            if on_line is not None:
                reply = on_line(line.rstrip("\r\n"))
                if reply is not None:
                    try:
                        p.stdin.write(reply.encode() + b"\n")
                        p.stdin.flush()
                    except (BrokenPipeError, OSError):
                        pass
    except BaseException:
        # interrupted (run-clients.py itself killed by a signal, or an
        # error of its own): the script and its children go with it
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        raise
    if timed_out:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                pass
    else:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    th.join(timeout=1)
    if p.stdin is not None:
        try:
            p.stdin.close()
        except OSError:
            pass
    p.stdout.close()
    dt = time.monotonic() - t0

    n_ok = n_bad = 0
    summary = None
    for line in text:
        line = line.rstrip("\r\n")
        if OK_RE.match(line):
            n_ok += 1
        elif NOT_OK_RE.match(line):
            n_bad += 1
        m = SUMMARY_RE.match(line)
        if m:
            summary = (int(m.group(2)), int(m.group(3)))
    passed += n_ok
    failed += n_bad
    why = None
    if timed_out:
        why = "no end after %.0f s" % RUN_TIMEOUT
    elif summary is None:
        why = "exit status %d without a summary line" % p.returncode
    elif summary != (n_ok, n_bad):
        why = "summary %r does not match %d ok, %d not ok" % (
            summary, n_ok, n_bad)
    elif (p.returncode != 0) != (n_bad > 0):
        why = "exit status %d with %d failed checks" % (p.returncode, n_bad)
    elif n_ok == 0:
        why = "no checks ran"
    if why:
        not_ok(name + " run", why)
    else:
        ok("%s run (%d checks, %.1f s)" % (name, n_ok + n_bad, dt))


class Node(object):
    """A node that this script did not start (--node PID CONF LOG): what
    the checks and the reload need of it, as of a mcpdtest.Daemon."""

    def __init__(self, pid, conf, logpath):
        self.pid = pid
        self.conf = conf
        self.logpath = logpath

    def running(self):
        return T.alive(self.pid)

    def status(self):
        """mcpctl -c CONF status --json, parsed."""
        what = "mcpctl -c %s status" % self.conf
        try:
            r = subprocess.run([T.MCPCTL, "-c", self.conf, "status",
                                "--json"], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            raise T.TestFailure("%s: no answer within 10 s" % what)
        if r.returncode != 0:
            raise T.TestFailure("%s: exit %d: %s" % (
                what, r.returncode,
                r.stderr.decode("utf-8", "replace").strip()))
        try:
            return json.loads(r.stdout.decode("utf-8", "replace"))
        except ValueError as e:
            raise T.TestFailure("%s --json: %s" % (what, e))

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_mark(self):
        return len(self.log())

    def signal(self, sig):
        os.kill(self.pid, sig)

    def add_reloaded(self):
        """RELOADED at the end of its configuration file."""
        with open(self.conf) as f:
            text = f.read()
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text.rstrip("\n") + "\n" + RELOADED)
        os.rename(tmp, self.conf)


def nworkers(st):
    """The workers (members, not retiring ones) in a status."""
    return len([p for p in st["processes"] if p["role"] == "worker" and
                p["state"] != "retiring"])


class Reloader(object):
    """Answers the "# mcpd-clients: reload" of sdk2-client.mjs --http:
    adds RELOADED to the configuration of each daemon of ds (add(d)),
    sends each SIGHUP, waits until every worker of each has reloaded its
    catalog.  Once."""

    def __init__(self, ds, add):
        self.ds = ds
        self.add = add
        self.asked = 0

    def __call__(self, line):
        if line != RELOAD_LINE:
            return None
        self.asked += 1
        if self.asked > 1:
            not_ok("reload", "asked for a second time")
            return "failed: asked for a second time"
        try:
            wants = [nworkers(d.status()) for d in self.ds]
        except T.TestFailure as e:
            not_ok("reload", str(e))
            return "failed: " + str(e)
        marks = [d.log_mark() for d in self.ds]
        for d in self.ds:
            self.add(d)
        for d in self.ds:
            d.signal(signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while True:
            done = []
            for d, mark in zip(self.ds, marks):
                log = d.log()[mark:]
                bad = re.search(r"supervisor: reload: .*", log)
                if bad:
                    not_ok("reload", bad.group(0))
                    return "failed: " + bad.group(0)
                done.append(len(set(re.findall(
                    r"worker (\d+): catalog reloaded", log))))
            if all(n >= w for n, w in zip(done, wants)):
                break
            if time.monotonic() > deadline:
                why = ("%d of %d workers reloaded the catalog %.0f s after "
                       "SIGHUP" % (sum(done), sum(wants), RELOAD_TIMEOUT))
                not_ok("reload", why)
                for d, mark, n, w in zip(self.ds, marks, done, wants):
                    if n < w:
                        say(d.log()[mark:][-2000:])
                return "failed: " + why
            time.sleep(0.02)
        if len(self.ds) == 1:
            ok("SIGHUP with the tool and the prompt \"reloaded\" added: the "
               "%d workers reloaded the catalog" % wants[0])
        else:
            ok("SIGHUP to each of the %d nodes with the tool and the prompt "
               "\"reloaded\" added: their %d workers reloaded the catalog" %
               (len(self.ds), sum(wants)))
        return "reloaded"


def check_no_restart(ds, pids, what):
    """Each daemon of ds is the one started (pids) and none of its
    processes restarted."""
    bad = []
    for d, pid in zip(ds, pids):
        if not d.running() or d.pid != pid:
            bad.append("mcpd (pid %d) is gone" % pid)
            continue
        try:
            st = d.status()
        except T.TestFailure as e:
            bad.append(str(e))
            continue
        restarted = ["%s %s" % (r["role"], r["index"])
                     for r in st["processes"] if r.get("restarts", 0) != 0]
        if st["pid"] != pid or restarted:
            bad.append("supervisor pid %r (want %d), restarted: %s" % (
                st["pid"], pid, ", ".join(restarted) or "none"))
    if len(ds) == 1:
        if bad:
            not_ok("one mcpd", "after %s: %s" % (what, bad[0]))
        else:
            ok("%s: one mcpd served them (pid %d), no process restarted" %
               (what, pids[0]))
    elif bad:
        not_ok("the nodes", "after %s: %s" % (what, "; ".join(bad)))
    else:
        ok("%s: the %d nodes served them (pids %s), no process restarted" %
           (what, len(ds), " ".join(map(str, pids))))


def client_env():
    env = dict(os.environ)
    env["PATH"] = (os.path.dirname(NODE) + os.pathsep +
                   env.get("PATH", "/usr/bin:/bin"))
    env["NO_COLOR"] = "1"
    env["MCPD_CONFORMANCE_DIR"] = PKG_DIR
    env.pop("NOTIFY_SOCKET", None)
    env.pop("MCPD_FAULT", None)
    return env


def node_modules_ok(nruns):
    """False (and every run counted failed) without node_modules."""
    global failed
    missing = [f for f in NEEDED if not os.path.exists(f)]
    if missing:
        not_ok("node_modules", "%s is missing or incomplete (no %s); run: "
               "npm ci --prefix tests/conformance" %
               (NODE_MODULES, ", ".join(missing)))
        failed += nruns - 1   # one for each run in all
        return False
    return True


def sdk_runs(runs, ds, env, cwd, add):
    """The runs, in order, with the harness's checks after each: the HTTP
    runs of the SDK Clients get the pids of ds; after them no "sleep 30"
    may be left and no process of ds may have restarted; sdk2-client
    --http asks for the reload.  Stops when a daemon of ds is gone."""
    pids = [d.pid for d in ds]
    for name, args in runs:
        renv = dict(env)
        http_sdk = name in ("sdk-client http", "sdk2-client http")
        if http_sdk:
            renv["MCPD_CLIENTS_PID"] = ",".join(map(str, pids))
        on_line = None
        if name == "sdk2-client http":
            on_line = Reloader(ds, add)
        run(name, args, renv, cwd, on_line)
        if on_line is not None and on_line.asked == 0:
            not_ok("reload", "%s did not ask for it" % name)
        if http_sdk:
            check_no_sleeper(ds)
        if name == "sdk2-client http":
            check_no_restart(ds, pids, "sdk-client http (SDK v1) and "
                             "sdk2-client http (SDK v2)")
        gone = [d for d in ds if not d.running()]
        if gone:
            for d in gone:
                proc = getattr(d, "proc", None)     # a Daemon's
                not_ok("mcpd", "pid %d exited (status %r) during %s" % (
                    d.pid, proc.poll() if proc is not None else None, name))
                say(d.log()[-3000:])
            return False
    return True


def read_text(path):
    with open(path) as f:
        return f.read()


def main_url(argv):
    """--url: the clients of the network against nodes someone else
    started."""
    global failed
    ap = argparse.ArgumentParser(
        prog="run-clients.py", description="the HTTP runs of the clients "
        "against URL, in front of nodes started with CATALOG")
    ap.add_argument("--url", required=True,
                    help="http://HOST:PORT/mcp of the load balancer")
    ap.add_argument("--docs", required=True,
                    help="the directory of file:///docs/ on every node")
    ap.add_argument("--node", nargs=3, action="append", required=True,
                    metavar=("PID", "CONF", "LOG"),
                    help="a node: its supervisor's pid, configuration "
                    "file and log")
    a = ap.parse_args(argv)
    url = a.url
    runs = [
        ("sdk-client http", [SDK_CLIENT, "--http", url]),
        ("sdk2-client http", [SDK2_CLIENT, "--http", url]),
        ("mcp-remote", [MCP_REMOTE, url]),
    ]
    if not node_modules_ok(len(runs)):
        return
    ds = []
    bad = []
    for pid, conf, log in a.node:
        if not pid.isdigit() or not T.alive(int(pid)):
            bad.append("no mcpd of pid %s" % pid)
        elif not os.path.isfile(conf) or not os.path.isfile(log):
            bad.append("%s or %s is not a file" % (conf, log))
        elif RELOADED.strip() in read_text(conf):
            # the reload must change the catalog: once a set of nodes
            bad.append("%s has RELOADED already (a run before this one "
                       "reloaded it): start the nodes anew" % conf)
        else:
            ds.append(Node(int(pid), conf, log))
    docs = os.path.abspath(a.docs)
    try:
        names = sorted(os.listdir(docs))
        with open(os.path.join(docs, "hello.txt")) as f:
            hello = f.read()
    except OSError as e:
        bad.append("--docs %s: %s" % (docs, e))
    else:
        if names != sorted(DOCS) or hello != DOCS["hello.txt"]:
            bad.append("--docs %s holds %s, and hello.txt %r: not what "
                       "write_docs() makes" % (docs, names, hello))
    if bad:
        not_ok("setup", "; ".join(bad))
        failed += len(runs) - 1   # one for each run in all
        return
    ok("%d nodes behind %s, file:///docs/ in %s" % (len(ds), url, docs))
    env = client_env()
    env["MCPD_CLIENTS_DOCS"] = docs
    cwd = tempfile.mkdtemp(prefix="mcpd-clients-")
    try:
        sdk_runs(runs, ds, env, cwd, lambda d: d.add_reloaded())
    finally:
        shutil.rmtree(cwd, ignore_errors=True)


def main():
    global failed

    def on_signal(signo, frame):
        raise SystemExit("killed by signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    if len(sys.argv) > 1:
        main_url(sys.argv[1:])
        return
    if not node_modules_ok(NRUNS):
        finish()
    plugin = plugin_path()
    for what, path in (("mcpd", T.MCPD), ("mcpctl", T.MCPCTL),
                       ("the plugin", plugin)):
        if not os.path.isfile(path):
            not_ok("setup", "%s: %s not found (build it, or set MCPD, "
                   "MCPCTL, MCPD_PLUGIN)" % (path, what))
            failed += NRUNS - 1   # one for each run in all
            finish()
    if '"' in plugin or "\n" in plugin or "\\" in plugin:
        not_ok("setup", "%r cannot go in a config" % plugin)
        failed += NRUNS - 1   # one for each run in all
        finish()

    env = client_env()
    d = T.Daemon(keys={"workers": "4"}, extra='plugin "%s"\n' % plugin,
                 name="mcpd-clients")
    try:
        # the files of "file:///docs/", in mcpd's temporary directory
        docs = os.path.join(d.dir, "docs")
        catalog = write_docs(docs)
        if catalog is None:
            not_ok("setup", "%r cannot go in a config" % docs)
            failed += NRUNS - 1   # one for each run in all
            return
        d.extra = 'plugin "%s"\n' % plugin + catalog
        d.write_conf()
        env["MCPD_CLIENTS_DOCS"] = docs

        try:
            d.start(timeout=START_TIMEOUT)
        except T.TestFailure as e:
            not_ok("mcpd start", str(e).splitlines()[0])
            say(d.log()[-3000:])
            failed += NRUNS - 1   # one for each run in all
            return
        ok("mcpd -f with 4 workers, the plugin and the catalog "
           "(http port %d)" % d.http_port)
        url = "http://127.0.0.1:%d/mcp" % d.http_port

        stdio_conf = os.path.join(d.dir, "stdio.conf")
        with open(stdio_conf, "w") as f:
            f.write('plugin "%s"\n' % plugin + catalog)

        runs = [
            ("sdk-client http", [SDK_CLIENT, "--http", url]),
            ("sdk2-client http", [SDK2_CLIENT, "--http", url]),
            ("sdk-client stdio", [SDK_CLIENT, "--stdio", T.MCPD, stdio_conf]),
            ("sdk2-client stdio", [SDK2_CLIENT, "--stdio", T.MCPD,
                                   stdio_conf]),
            ("mcp-remote", [MCP_REMOTE, url]),
            ("inspector2", [INSPECTOR2, url, T.MCPD, stdio_conf]),
        ]
        assert len(runs) == NRUNS

        def add(d):
            d.extra = 'plugin "%s"\n' % plugin + catalog + RELOADED
            d.write_conf()
        sdk_runs(runs, [d], env, d.dir, add)

        if d.running():
            try:
                st = d.stop(timeout=STOP_TIMEOUT)
            except T.TestFailure as e:
                not_ok("mcpd stop", str(e))
            else:
                if st == 0:
                    ok("mcpd exited 0 after SIGTERM")
                else:
                    not_ok("mcpd stop", "exit status %r after SIGTERM" % st)
                    say(d.log()[-3000:])
    finally:
        d.remove()      # kills what is left; MCPDTEST_KEEP keeps the dir


if __name__ == "__main__":
    main()
    finish()
