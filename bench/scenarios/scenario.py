"""
bench/scenarios/scenario.py -- what the scenarios share: an mcpd of its
own on free loopback ports (the bench plugin, its log in a file, a
control socket), mcpbench runs with their JSON reports, the memory and the
workers of the daemon, and one way to print the result.

Everything is bounded: mcpd is started with a configuration written into
a temporary directory and stopped (SIGTERM, then SIGKILL after 30 s) when
the scenario ends, whatever happens; mcpbench has its own time cap.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("MCPD_BUILD", os.path.join(TOP, "build"))
MCPD = os.path.join(BUILD, "mcpd")
MCPCTL = os.path.join(BUILD, "mcpctl")
MCPBENCH = os.path.join(BUILD, "mcpbench")
PLUGIN = os.path.join(BUILD, "plugins", ".libs", "bench.so")
PAGE = os.sysconf("SC_PAGE_SIZE")
PER_PROCESS = 19000         # connections a load process or worker holds


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def need_build():
    for p in (MCPD, MCPCTL, MCPBENCH, PLUGIN):
        if not os.path.exists(p):
            sys.exit("%s missing: build first (./quickstart test), or set "
                     "MCPD_BUILD to the build directory" % p)


def processes_for(conns):
    """load processes (or workers) for that many connections."""
    return max(1, -(-conns // PER_PROCESS))


class Mcpd(object):
    """an mcpd of the scenario's own."""

    def __init__(self, workers=None, conns=10000, extra=""):
        need_build()
        self.dir = tempfile.mkdtemp(prefix="mcpd-scenario-")
        self.port = free_port()
        self.admin = free_port()
        self.log = os.path.join(self.dir, "mcpd.log")
        self.sock = os.path.join(self.dir, "mcpd.sock")
        self.conf = os.path.join(self.dir, "mcpd.conf")
        if workers is None:
            workers = max(os.cpu_count() or 1, processes_for(conns))
        self.workers = workers
        with open(self.conf, "w") as f:
            f.write('workers %d\npidfile "%s/mcpd.pid"\ncontrol-socket "%s"\n'
                    'listen http 127.0.0.1 port %d\n'
                    'listen admin 127.0.0.1 port %d\nplugin "%s"\n'
                    'max-connections %d\nmax-sessions %d\n%s' %
                    (workers, self.dir, self.sock, self.port,
                     self.admin, PLUGIN, max(10000, conns + conns // 10),
                     max(100000, 2 * conns), extra))
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        # in the foreground every process logs to the standard error
        self.started = time.monotonic()
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([MCPD, "-f", "-c", self.conf],
                                         stdout=subprocess.DEVNULL,
                                         stderr=log, start_new_session=True)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            st = self.status()
            if st and sum(1 for w in st["workers"].values()
                          if w["state"] == "ready") == self.workers:
                return
            if self.proc.poll() is not None:
                sys.exit("mcpd exited with %d; see %s" %
                         (self.proc.returncode, self.log))
            time.sleep(0.05)
        sys.exit("mcpd's workers not ready in 30 s; see %s" % self.log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def target(self):
        return "127.0.0.1:%d" % self.port

    def status(self):
        """{"workers": {index: {pid, state, connections}}, "pids": [...]}"""
        try:
            out = subprocess.run([MCPCTL, "-s", self.sock, "status"],
                                 capture_output=True, text=True,
                                 timeout=10).stdout
        except subprocess.TimeoutExpired:
            return None
        st = {"workers": {}, "pids": []}
        for ln in out.splitlines():
            f = ln.split()
            if len(f) < 8 or not f[2].isdigit():
                continue
            st["pids"].append(int(f[2]))
            if f[0] == "worker":
                st["workers"][int(f[1])] = {"pid": int(f[2]),
                                            "state": f[4],
                                            "connections": int(f[7])}
        return st if st["pids"] else None

    def rss(self):
        """bytes of resident memory of all of mcpd's processes."""
        st = self.status()
        total = 0
        for p in (st["pids"] if st else []):
            try:
                with open("/proc/%d/statm" % p) as f:
                    total += int(f.read().split()[1]) * PAGE
            except (OSError, ValueError, IndexError):
                pass
        return total

    def log_lines(self, pattern):
        try:
            with open(self.log, errors="replace") as f:
                return [m for m in (re.search(pattern, ln) for ln in f) if m]
        except OSError:
            return []

    def sanitizer_reports(self):
        return self.log_lines(r"(AddressSanitizer|LeakSanitizer|"
                              r"runtime error:)")


def mcpbench(args, timeout):
    """run mcpbench; its progress goes to our stderr; returns the JSON."""
    fd, out = tempfile.mkstemp(prefix="mcpbench-", suffix=".json")
    os.close(fd)
    cmd = [MCPBENCH] + [str(a) for a in args[:-1]] + ["-j", out, args[-1]]
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, timeout=timeout)
        if r.returncode not in (0, 1):
            sys.exit("mcpbench exited with %d" % r.returncode)
        with open(out) as f:
            j = json.load(f)
    finally:
        os.unlink(out)
    j["command"] = " ".join(["mcpbench"] + [str(a) for a in args])
    return j


class Background(threading.Thread):
    """mcpbench in a thread, so that the scenario can act meanwhile."""

    def __init__(self, args, timeout):
        threading.Thread.__init__(self, daemon=True)
        self.args, self.timeout, self.result = args, timeout, None

    def run(self):
        self.result = mcpbench(self.args, self.timeout)


def summary(j):
    lat = j["latency_us"]
    e = j["errors_by_kind"]
    s = ("%d requests ok, %d errors (%s), %.0f req/s; latency p50 %s, p95 "
         "%s, p99 %s, max %s us" % (
             j["ok"], j["errors"], ", ".join("%s %d" % (k, v)
                                             for k, v in e.items() if v)
             or "none", j["rate"], lat["p50"], lat["p95"], lat["p99"],
             lat["p100"]))
    return s


def report(name, verdicts, facts, as_json):
    """print the facts and the verdicts; exit 1 if one failed."""
    ok = all(v[1] for v in verdicts)
    if as_json:
        json.dump({"scenario": name, "ok": ok, "facts": facts,
                   "verdicts": [{"check": c, "ok": k, "value": v}
                                for c, k, v in verdicts]},
                  sys.stdout, indent=1)
        print()
    else:
        print("%s:" % name)
        for k, v in facts.items():
            print("  %-22s %s" % (k, v))
        for c, k, v in verdicts:
            print("  %-4s %s (%s)" % ("ok" if k else "FAIL", c, v))
    return 0 if ok else 1


def held(m, n, rate, secs, era="stateless", ramp=20000, churn=0,
         action=None, mix="tools/call:echo:256B", keep=False):
    """
    n connections opened at ramp a second, rate requests a second over
    them (open loop) for secs once all are open; action(m, t_end) runs
    meanwhile.  keep (session era): a connection lost goes on with its
    session id (mcpbench -k: a 404 counts as a session lost).  Returns
    mcpbench's report, mcpd's RSS growth a connection (bytes, mid-run)
    and what action returned.
    """
    up = n / float(ramp) + 2
    if era == "session":
        up += 5         # initialize and initialized before the first
    args = ["-c", n, "-P", processes_for(n), "-R", ramp, "-w", "%.1f" % up,
            "-d", secs, "-e", era, "-m", mix]
    if rate > 0:
        args += ["-r", rate]
    if churn > 0:
        args += ["-K", churn]
    if keep:
        args += ["-k"]
    rss0 = m.rss()
    bg = Background(args + [m.target()], up + secs + 300)
    bg.start()
    time.sleep(up)
    t_end = time.monotonic() + secs
    rss1 = m.rss()
    got = action(m, t_end) if action else None
    bg.join()
    return bg.result, (rss1 - rss0) / float(max(1, n)), got


class Redis(object):
    """A redis-server of the scenario's own: a free port on 127.0.0.1, a
    temporary directory, no persistence."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mcpd-scenario-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server",
             "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             self.dir, "--save", "", "--appendonly", "no", "--logfile",
             os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                if self.cmd("PING") == "+PONG":
                    return
            except OSError:
                time.sleep(0.05)
        sys.exit("redis-server did not answer")

    def cmd(self, *args):
        """a command; a status or bulk reply as text"""
        with socket.create_connection(("127.0.0.1", self.port), 3) as s:
            s.sendall(("*%d\r\n" % len(args) + "".join(
                "$%d\r\n%s\r\n" % (len(a), a) for a in args)).encode())
            buf = b""
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            line, rest = buf.split(b"\r\n", 1)
            if not line.startswith(b"$"):
                return line.decode()
            n = int(line[1:])
            while len(rest) < n + 2:
                rest += s.recv(65536)
            return rest[:n].decode()

    def calls(self):
        """{command: calls} of INFO commandstats"""
        text = self.cmd("INFO", "commandstats")
        out = {}
        for line in text.split("\n"):
            if line.startswith("cmdstat_"):
                name, rest = line[8:].split(":", 1)
                out[name] = int(rest.split("calls=")[1].split(",")[0])
        return out

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


HAPROXY_CFG = os.path.join(TOP, "etc", "haproxy", "mcpd.cfg")
TICK = os.sysconf("SC_CLK_TCK")


class HAProxy(object):
    """haproxy -db with the shipped etc/haproxy/mcpd.cfg, its listener,
    stats socket and servers made the scenario's: servers is a list of
    (node, port, admin port).  maxconn: two descriptors a connection,
    within the 20,000 a process (at most 9,900).  source: the address its
    connections to the nodes come from (many balancers: one each, so
    that none runs short of ports to a node).  reuse: its http-reuse
    (the shipped configuration leaves HAProxy's default, safe: idle
    connections to a node are shared; never: each client connection has
    its own to the node, as long as it lives)."""

    def __init__(self, servers, maxconn, source=None, reuse=None,
                 log=False):
        self.dir = tempfile.mkdtemp(prefix="mcpd-scenario-haproxy-")
        self.port = free_port()
        self.servers = [s[0] for s in servers]
        self.sock = os.path.join(self.dir, "stats.sock")
        with open(HAPROXY_CFG) as f:
            text = f.read()
        text = re.sub(r"^\s*log /dev/log.*\n", "\tlog stdout format raw "
                      "local0\n" if log else "", text, flags=re.M)
        text = re.sub(r"maxconn \d+", "maxconn %d" % maxconn, text)
        text = re.sub(r"stats socket \S+", "stats socket %s" % self.sock,
                      text)
        text = text.replace("bind :8080", "bind 127.0.0.1:%d" % self.port)
        if source:
            text = text.replace("defaults\n", "defaults\n\tsource %s\n" %
                                source, 1)
        text = re.sub(r"^\s*server .*\n", "", text, flags=re.M)
        if reuse:
            text += "\thttp-reuse %s\n" % reuse
        text += "".join("\tserver %s 127.0.0.1:%d agent-port %d\n" % s
                        for s in servers)
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(text)
        # log: its request log (HAProxy's httplog) in haproxy.log
        self.log = os.path.join(self.dir, "haproxy.log")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f",
                 cfg], stdout=out if log else subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        end = time.monotonic() + 15
        while time.monotonic() < end:   # its first checks: servers up
            if self.proc.poll() is not None:
                sys.exit("haproxy exited with %d" % self.proc.returncode)
            st = self.states()
            if st and all(v == "UP" for v in st.values()):
                return
            time.sleep(0.1)
        sys.exit("haproxy: its servers not up in 15 s")

    def target(self):
        return "127.0.0.1:%d" % self.port

    def stat(self):
        """the rows of its "show stat" as dicts, or None"""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(3)
                s.connect(self.sock)
                s.sendall(b"show stat\n")
                out = b""
                while True:
                    got = s.recv(65536)
                    if not got:
                        break
                    out += got
        except OSError:
            return None
        lines = out.decode(errors="replace").splitlines()
        if not lines or not lines[0].startswith("# "):
            return None
        cols = lines[0][2:].split(",")
        return [dict(zip(cols, line.split(","))) for line in lines[1:]]

    def states(self):
        """{server: "UP" | "DOWN" | ...}, or None"""
        rows = self.stat()
        if rows is None:
            return None
        return {f["svname"]: (f.get("status") or "?").split()[0]
                for f in rows if f.get("pxname") == "mcpd" and
                f.get("svname") in self.servers}

    def current_clients(self):
        """the client connections it holds now"""
        for f in self.stat() or []:
            if f.get("pxname") == "mcp" and f.get("svname") == "FRONTEND":
                return int(f.get("scur") or 0)
        return 0

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fs = f.read().rsplit(")", 1)[1].split()
        return (int(fs[11]) + int(fs[12])) / float(TICK)

    def rss(self):
        with open("/proc/%d/statm" % self.proc.pid) as f:
            return int(f.read().split()[1]) * PAGE

    def close(self, keep=False):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
