#!/usr/bin/env python3
"""
run-clients.py -- real MCP clients against mcpd (make check).

Starts mcpd -f with 4 workers, the conformance fixture plugin and a
catalog (CATALOG below: a directory of files as resource "file:///docs/",
the exec tools "echo" and "slow", the prompt "greet") on free 127.0.0.1
ports (mcpdtest.Daemon from ../integration), then runs, each under a
timeout, with the pinned node 22:

    node sdk-client.mjs --http http://127.0.0.1:PORT/mcp
        the @modelcontextprotocol/sdk Client over Streamable HTTP
    node sdk-client.mjs --stdio MCPD CONF
        the same Client over stdio; it spawns "MCPD --stdio -c CONF" itself
        (CONF: the plugin and the same catalog)
    node mcp-remote.mjs http://127.0.0.1:PORT/mcp
        mcp-remote bridging stdio to the HTTP endpoint, driven by the Client

prints their output, and stops mcpd with SIGTERM, which must make it exit
with status 0.  sdk-client.mjs gets the directory of "file:///docs/" in
MCPD_CLIENTS_DOCS (it writes to a file there and awaits the
notifications/resources/updated), and, for the HTTP run, the pid of mcpd
in MCPD_CLIENTS_PID (it looks in /proc for the "slow" tool it cancels).
After the HTTP run no "sleep 30" of the cancelled "slow" tool may be left
among mcpd's descendants.

Environment: MCPD, MCPCTL (the binaries), MCPD_PLUGIN (the fixture plugin;
else plugins/.libs/conformance.so next to MCPD), srcdir, and
MCPD_CONFORMANCE_DIR: the directory with package.json and node_modules
(else ../conformance next to this directory).  Without node_modules the
test fails (it never skips) and says to run "npm ci --prefix
tests/conformance".  MCPDTEST_KEEP=1 keeps the temporary directory.

The last line is "clients: N passed, M failed", counting the checks of
every run plus the harness's own (mcpd started, each run ended cleanly,
no "sleep 30" left after the HTTP run, mcpd exited 0).  Exit status 0 when everything passed, 1 otherwise.
Every wait is bounded.  Python 3 standard library only.
"""

import os
import re
import signal
import subprocess
import sys
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
    os.path.join(NODE_MODULES, "mcp-remote", "dist", "proxy.js"),
]
SDK_CLIENT = os.path.join(HERE, "sdk-client.mjs")
MCP_REMOTE = os.path.join(HERE, "mcp-remote.mjs")

RUN_TIMEOUT = 75.0     # seconds, each run (the scripts stop themselves at 60)
START_TIMEOUT = 10.0   # until every process of mcpd is ready
STOP_TIMEOUT = 15.0    # SIGTERM to exit (the drain is 10 s by default)
NRUNS = 3
SLOW_GONE_TIMEOUT = 3.0    # until the cancelled "slow" tool is gone

# The files of the resource "file:///docs/": sdk-client.mjs reads hello.txt
# and rewrites notes.md.
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


def sleepers(pid):
    """The "sleep 30" processes among the descendants of pid."""
    found = []
    for p in T.descendants(pid):
        cl = T.cmdline(p)
        if cl and cl.rstrip(b"\0").split(b"\0")[-2:] == [b"/bin/sleep",
                                                          b"30"]:
            found.append(p)
    return found


def check_no_sleeper(d):
    """After the HTTP run: the cancelled "slow" tool was killed."""
    deadline = time.monotonic() + SLOW_GONE_TIMEOUT
    left = sleepers(d.pid)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = sleepers(d.pid)
    if left:
        not_ok("no slow tool left", "sleep 30 still running under mcpd "
               "(pids %s) %.0f s after the HTTP run" %
               (" ".join(map(str, left)), SLOW_GONE_TIMEOUT))
    else:
        ok("no sleep 30 of the cancelled slow tool left under mcpd")


def run(name, args, env, cwd):
    """One node script; adds its checks to the counts, and one failure of
    its own when it did not end as its output says it should."""
    global passed, failed
    cmd = [NODE] + args
    say("=== %s: %s" % (name, " ".join(cmd)))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, cwd=cwd, start_new_session=True,
                         close_fds=True)
    timed_out = False
    try:
        out, _ = p.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        timed_out = True
        out = b""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                out, _ = p.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                pass
    dt = time.monotonic() - t0
    text = (out or b"").decode("utf-8", "replace")
    sys.stdout.write(text)
    if text and not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()

    n_ok = n_bad = 0
    summary = None
    for line in text.splitlines():
        line = line.rstrip("\r")
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


def main():
    global failed

    def on_signal(signo, frame):
        raise SystemExit("killed by signal %d" % signo)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    missing = [f for f in NEEDED if not os.path.exists(f)]
    if missing:
        not_ok("node_modules", "%s is missing or incomplete (no %s); run: "
               "npm ci --prefix tests/conformance" %
               (NODE_MODULES, ", ".join(missing)))
        failed += NRUNS - 1   # one for each run in all
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

    env = dict(os.environ)
    env["PATH"] = (os.path.dirname(NODE) + os.pathsep +
                   env.get("PATH", "/usr/bin:/bin"))
    env["NO_COLOR"] = "1"
    env["MCPD_CONFORMANCE_DIR"] = PKG_DIR
    env.pop("NOTIFY_SOCKET", None)
    env.pop("MCPD_FAULT", None)

    d = T.Daemon(keys={"workers": "4"}, extra='plugin "%s"\n' % plugin,
                 name="mcpd-clients")
    try:
        # the files of "file:///docs/", in mcpd's temporary directory
        docs = os.path.join(d.dir, "docs")
        os.mkdir(docs)
        for fname, text in DOCS.items():
            with open(os.path.join(docs, fname), "w") as f:
                f.write(text)
        if '"' in docs or "\n" in docs or "\\" in docs:
            not_ok("setup", "%r cannot go in a config" % docs)
            failed += NRUNS - 1   # one for each run in all
            return
        catalog = CATALOG % {"docs": docs}
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
            ("sdk-client stdio", [SDK_CLIENT, "--stdio", T.MCPD, stdio_conf]),
            ("mcp-remote", [MCP_REMOTE, url]),
        ]
        for name, args in runs:
            renv = dict(env)
            if name == "sdk-client http":
                renv["MCPD_CLIENTS_PID"] = str(d.pid)
            run(name, args, renv, d.dir)
            if name == "sdk-client http":
                check_no_sleeper(d)
            if not d.running():
                not_ok("mcpd", "exited (status %r) during %s" %
                       (d.proc.poll(), name))
                say(d.log()[-3000:])
                break

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
