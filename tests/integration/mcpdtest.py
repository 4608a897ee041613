"""
mcpdtest.py -- the harness of mcpd's integration tests (Python 3 stdlib only).

Every test file does:

    import mcpdtest as T
    def test_something():
        d = T.Daemon()          # fresh temp dir, config, free ports
        d.start()               # mcpd -f, waits until every child is ready
        T.check(..., "message")
    T.main([test_something, ...])

main() runs each function, prints "PASS: name" or "FAIL: name: reason",
kills every process a test started (whatever happened), and exits 0 when
everything passed, 1 otherwise (99 when the binaries cannot be found).

Environment: MCPD and MCPCTL are the binaries (automake sets them; else
./mcpd and ./mcpctl), srcdir is the source tree (else two levels above this
file).  MCPDTEST_KEEP=1 keeps the temporary directories for a post-mortem.

Nothing here is unbounded: every wait has a deadline and a count.
"""

import atexit
import datetime
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
_daemons = []                    # every Daemon of the running test
_daemons_lock = threading.Lock()
SRCDIR = os.path.abspath(os.environ.get("srcdir") or
                         os.path.join(HERE, "..", ".."))


def _binary(var, name):
    p = os.environ.get(var) or os.path.join(os.getcwd(), name)
    return os.path.abspath(p)


MCPD = _binary("MCPD", "mcpd")
MCPCTL = _binary("MCPCTL", "mcpctl")

# crash-start aborts: no core files in the build tree (children inherit it)
try:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except (ValueError, OSError):
    pass


def _become_subreaper():
    """Orphans of our daemons (their supervisor killed, or a detached one)
    are reparented to us, not to an init that may never reap them."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:  # noqa: only hygiene
        pass


_become_subreaper()

# Test ports come from below the ephemeral range, so the many client
# connections of the load loops never hold one of them.
PORT_LO, PORT_HI = 20000, 32000
# A file's watchdog: it catches a hang, it does not time the file.  Under
# ASan beside two CPU burners test_config.py took 39 s (a hundred runs of
# the binary, each with its leak check at exit), so the default leaves room.
FILE_BUDGET_S = float(os.environ.get("MCPDTEST_BUDGET", "150"))


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


def info(msg):
    print("  " + msg, flush=True)


def wait_until(fn, timeout, what, interval=0.02):
    """Call fn until it returns something true; return that.  Bounded by
    time and by count; raises TestFailure naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    n = int(timeout / interval) + 10
    last = None
    for _ in range(n):
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise TestFailure("timed out after %.1f s waiting for %s (last: %r)" %
                      (timeout, what, last))


# ---------------------------------------------------------------- /proc

def proc_stat(pid):
    """/proc/PID/stat as a dict, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    r = data.rfind(")")
    if r == -1:
        return None
    comm = data[data.find("(") + 1:r]
    fields = data[r + 2:].split()
    try:
        return {
            "pid": pid, "comm": comm, "state": fields[0],
            "ppid": int(fields[1]), "pgrp": int(fields[2]),
            "session": int(fields[3]), "starttime": int(fields[19]),
        }
    except (IndexError, ValueError):
        return None


def alive(pid):
    """True while pid exists and is not a zombie (a dead child that the
    parent, maybe a non-reaping init, has not waited for yet)."""
    st = proc_stat(pid)
    return st is not None and st["state"] not in ("Z", "X", "x")


def all_pids():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            out.append(int(name))
    return out


def all_stats():
    out = []
    for pid in all_pids():
        st = proc_stat(pid)
        if st is not None:
            out.append(st)
    return out


def children(pid):
    return [st["pid"] for st in all_stats() if st["ppid"] == pid]


def descendants(pid):
    stats = all_stats()
    kids = {}
    for st in stats:
        kids.setdefault(st["ppid"], []).append(st["pid"])
    out, todo, seen = [], [pid], set()
    for _ in range(10000):
        if not todo:
            break
        p = todo.pop()
        for c in kids.get(p, []):
            if c not in seen:
                seen.add(c)
                out.append(c)
                todo.append(c)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read()
    except OSError:
        return None


def proc_cwd(pid):
    try:
        return os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        return None


def proc_title(pid):
    """argv as the process shows it; mcpd writes its title over argv."""
    raw = cmdline(pid)
    if raw is None:
        return None
    return raw.split(b"\0")[0].decode("utf-8", "replace")


def reap_orphans():
    """Wait for zombie mcpd processes reparented to us (we are a subreaper)
    -- never for a Popen child of ours, whose status Popen must get."""
    me = os.getpid()
    with _daemons_lock:
        mine = set(d.proc.pid for d in _daemons
                   if d.proc is not None and d.proc.returncode is None)
    for st in all_stats():
        if (st["ppid"] == me and st["state"] == "Z" and
                st["comm"].startswith("mcpd") and st["pid"] not in mine):
            try:
                os.waitpid(st["pid"], os.WNOHANG)
            except ChildProcessError:
                pass


def wait_gone(pids, timeout):
    """Wait until none of pids is alive; return those still alive."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.01) + 10):
        reap_orphans()
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.01)
    return [p for p in pids if alive(p)]


# ---------------------------------------------------------------- ports

_ports_given = set()


def _port_free(port):
    for kind in (socket.SOCK_STREAM,):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port():
    """A port nobody uses now, never the same twice in this process."""
    rnd = random.Random(os.getpid() * 7919 + time.monotonic_ns())
    for _ in range(500):
        p = rnd.randrange(PORT_LO, PORT_HI)
        if p in _ports_given:
            continue
        if _port_free(p):
            _ports_given.add(p)
            return p
    raise TestFailure("no free port found in %d..%d" % (PORT_LO, PORT_HI))


# ---------------------------------------------------------------- HTTP

class Response(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            raise TestFailure("not JSON (%s): %r" % (e, self.body))

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:200])


class HttpConn(object):
    """One HTTP/1.1 connection: keep-alive and pipelining by hand."""

    def __init__(self, port, host="127.0.0.1", timeout=3.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    @staticmethod
    def request_bytes(path="/healthz", close=False, method="GET"):
        return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" %
                (method, path, "Connection: close\r\n" if close else "")
                ).encode("ascii")

    def request(self, path="/healthz", close=False, method="GET"):
        self.send(self.request_bytes(path, close, method))
        return self.read_response(head=(method == "HEAD"))

    def _fill(self, deadline):
        if time.monotonic() >= deadline:
            raise socket.timeout("response not complete in %.1f s" %
                                 self.timeout)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("EOF after %d bytes of a response" %
                                  len(self.buf))
        self.buf += data

    def read_response(self, head=False):
        deadline = time.monotonic() + self.timeout
        for _ in range(100000):
            if b"\r\n\r\n" in self.buf:
                break
            self._fill(deadline)
        hdr, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = hdr.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            raise ConnectionError("bad status line %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = 0 if head else int(headers.get("content-length", "0"))
        self.buf = rest
        for _ in range(100000):
            if len(self.buf) >= n:
                break
            self._fill(deadline)
        body, self.buf = self.buf[:n], self.buf[n:]
        return Response(int(m.group(1)), headers, body)

    def at_eof(self, timeout=2.0):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            return True
        finally:
            self.sock.settimeout(self.timeout)
        if data:
            self.buf += data
            return False
        return True


def http_get(port, path="/healthz", timeout=3.0):
    """One request on its own connection (Connection: close)."""
    c = HttpConn(port, timeout=timeout)
    try:
        return c.request(path, close=True)
    finally:
        c.close()


class ClientLoop(object):
    """Threads that connect, GET with Connection: close and read the
    answer, as fast as they can, recording every outcome with its times."""

    def __init__(self, port, threads=4, path="/healthz", max_requests=200000):
        self.port = port
        self.path = path
        self.nthreads = threads
        self.max_requests = max_requests
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.ok = []          # (t_start, t_end, pid, worker, generation)
        self.refused = []     # (t_start, t_end)
        self.errors = []      # (t_start, t_end, repr(exception))
        self.threads = []
        self.count = 0

    def _one(self):
        req = HttpConn.request_bytes(self.path, close=True)
        t0 = time.monotonic()
        s = None
        try:
            s = socket.create_connection(("127.0.0.1", self.port),
                                         timeout=3.0)
            s.sendall(req)
            data = b""
            for _ in range(1000):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            t1 = time.monotonic()
            head, _, body = data.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200 "):
                raise ConnectionError("bad answer %r" % data[:200])
            j = json.loads(body.decode())
            with self.lock:
                self.ok.append((t0, t1, j["pid"], j["worker"],
                                j["generation"]))
        except ConnectionRefusedError:
            with self.lock:
                self.refused.append((t0, time.monotonic()))
        except Exception as e:  # noqa: anything else is an error to report
            with self.lock:
                self.errors.append((t0, time.monotonic(), repr(e)))
        finally:
            if s is not None:
                s.close()

    def _run(self):
        for _ in range(self.max_requests):
            if self.stop_ev.is_set():
                return
            with self.lock:
                if self.count >= self.max_requests:
                    return
                self.count += 1
            self._one()

    def start(self):
        for i in range(self.nthreads):
            t = threading.Thread(target=self._run, daemon=True,
                                 name="client-%d" % i)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(10)
        stuck = [t.name for t in self.threads if t.is_alive()]
        if stuck:
            raise TestFailure("client threads did not stop: %s" % stuck)

    def summary(self):
        return ("%d ok, %d refused, %d errors" %
                (len(self.ok), len(self.refused), len(self.errors)))


def workers_answering(port, want, timeout=3.0, threads=4):
    """Load the port until every worker index in want has answered (the
    kernel picks the worker, so one at a time may never reach some);
    returns the set of indexes that answered."""
    loop = ClientLoop(port, threads=threads).start()
    seen = set()
    try:
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.02) + 10):
            with loop.lock:
                seen = set(o[3] for o in loop.ok)
            if seen >= set(want) or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
    finally:
        loop.stop()
    check(not loop.refused and not loop.errors, "while looking for workers "
          "%r: %s %r" % (sorted(want), loop.summary(), loop.errors[:3]))
    return set(o[3] for o in loop.ok)


# ---------------------------------------------------------------- logs

LOG_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) mcpd\[(\d+)\]: "
                    r"([^:]+): (.*)$", re.M)


def log_time(line_or_match):
    """Seconds (epoch, local time) of a log line or a LOG_RE match."""
    if isinstance(line_or_match, str):
        m = LOG_RE.match(line_or_match)
        if not m:
            raise TestFailure("not a log line: %r" % line_or_match)
    else:
        m = line_or_match
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
    return dt.timestamp()


# ---------------------------------------------------------------- daemon


def _short_tmpdir():
    d = tempfile.mkdtemp(prefix="mcpdt-")
    if len(d) > 70:  # unix socket paths: 107 bytes
        shutil.rmtree(d, ignore_errors=True)
        d = tempfile.mkdtemp(prefix="mcpdt-", dir="/tmp")
    return os.path.realpath(d)


class Daemon(object):
    """One mcpd with its own temp dir, config, ports, log and processes."""

    def __init__(self, keys=None, extra="", env=None, name="mcpd"):
        self.name = name
        self.dir = _short_tmpdir()
        self.conf = os.path.join(self.dir, "mcpd.conf")
        self.pidfile = os.path.join(self.dir, "mcpd.pid")
        self.sock = os.path.join(self.dir, "mcpd.sock")
        self.logpath = os.path.join(self.dir, "mcpd.log")
        self.http_port = free_port()
        self.admin_port = free_port()
        # healthz all: the tests tell the workers apart by /healthz on
        # the http port (test_cli.py checks the default, admin)
        self.keys = {"workers": "2", "throttle-reset": "1s",
                     "healthz": "all"}
        self.keys.update(keys or {})
        self.extra = extra
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.pop("MCPD_FAULT", None)
        self.env.update(env or {})
        self.proc = None          # the Popen of mcpd -f
        self.pid = None           # the supervisor
        self.exit_status = None
        self.seen = {}            # pid -> starttime of every process seen
        self.groups = set()       # process groups of ours
        self.logf = None
        self.failed = False
        self.prefix = []          # e.g. ["ip", "netns", "exec", NS]
        with _daemons_lock:
            _daemons.append(self)
        self.write_conf()

    # -- configuration

    def conf_text(self, keys=None, extra=None, http_port=None):
        k = dict(self.keys)
        k.update(keys or {})
        lines = [
            "# written by %s" % os.path.basename(sys.argv[0]),
            'pidfile "%s"' % self.pidfile,
            'control-socket "%s"' % self.sock,
            "listen http 127.0.0.1 port %d" % (http_port or self.http_port),
            "listen admin 127.0.0.1 port %d" % self.admin_port,
        ]
        for key, val in k.items():
            if val is not None:
                lines.append("%s %s" % (key, val))
        text = "\n".join(lines) + "\n"
        ex = self.extra if extra is None else extra
        if ex:
            text += ex.rstrip("\n") + "\n"
        return text

    def write_conf(self, text=None):
        """Write the config from self.keys/self.extra, or the text given."""
        if text is None:
            text = self.conf_text()
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)
        return text

    def set_keys(self, **changes):
        """Change keys (underscores stand for dashes) and rewrite."""
        for k, v in changes.items():
            self.keys[k.replace("_", "-")] = v
        return self.write_conf()

    # -- processes

    def _remember(self, pid):
        if pid and pid not in self.seen:
            st = proc_stat(pid)
            if st is not None:
                self.seen[pid] = st["starttime"]

    def _popen(self, args):
        if self.logf is not None:
            self.logf.close()
        self.logf = open(self.logpath, "ab")
        return subprocess.Popen(
            self.prefix + [getattr(self, "binary", MCPD)] + args +
            ["-c", self.conf],
            stdin=subprocess.DEVNULL,
            stdout=self.logf, stderr=self.logf, env=self.env, cwd=self.dir,
            start_new_session=True, close_fds=True)

    def start(self, wait=True, timeout=10.0, workers=None, args=("-f",)):
        """Start mcpd -f; with wait, until every child is ready.  When a
        port was taken meanwhile (parallel tests), pick others and retry."""
        for attempt in range(3):
            mark = self.log_mark()
            self.proc = self._popen(list(args))
            self.pid = self.proc.pid
            self.groups.add(self.pid)
            self._remember(self.pid)
            if not wait:
                return None
            try:
                return self.wait_ready(timeout=timeout, workers=workers)
            except TestFailure:
                if (self.proc.poll() is not None and
                        "Address already in use" in self.log()[mark:] and
                        attempt < 2):
                    info("a port was taken; retrying with others")
                    self.http_port = free_port()
                    self.admin_port = free_port()
                    self.write_conf()
                    continue
                raise
        return None

    def start_detached(self, timeout=5.0):
        """mcpd without -f: the command must return 0 quickly; the daemon
        is then found through the pidfile.  Returns the elapsed time."""
        t0 = time.monotonic()
        p = self._popen([])
        self._remember(p.pid)
        self.groups.add(p.pid)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
            raise TestFailure("mcpd without -f did not return within %.1f s"
                              % timeout)
        dt = time.monotonic() - t0
        check(rc == 0, "mcpd without -f exited %r; log:\n%s" %
              (rc, self.log()[-2000:]))

        def pid_from_file():
            try:
                with open(self.pidfile) as f:
                    s = f.read().strip()
                return int(s) if s else None
            except (OSError, ValueError):
                return None
        self.pid = wait_until(pid_from_file, 5, "the pidfile")
        self.command_pid = p.pid
        st = proc_stat(self.pid)
        if st is not None:
            self.groups.add(st["pgrp"])
        self._remember(self.pid)
        return dt

    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and alive(self.pid)

    # -- control socket

    def ctl(self, *args, timeout=10.0, conf=None):
        """Run mcpctl -c CONF ARGS; returns (exit status, stdout, stderr)."""
        try:
            r = subprocess.run([MCPCTL, "-c", conf or self.conf] + list(args),
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            raise TestFailure("mcpctl %s: no answer within %.0f s" %
                              (" ".join(args), timeout))
        return (r.returncode, r.stdout.decode("utf-8", "replace"),
                r.stderr.decode("utf-8", "replace"))

    def status(self, quiet=False):
        """mcpctl status --json, parsed; None (quiet) when unreachable."""
        rc, out, err = self.ctl("status", "--json")
        if rc != 0:
            if quiet:
                return None
            raise TestFailure("mcpctl status: exit %d: %s" % (rc, err.strip()))
        try:
            st = json.loads(out)
        except ValueError as e:
            raise TestFailure("mcpctl status --json: %s: %r" % (e, out))
        for p in st.get("processes", []):
            self._remember(p.get("pid"))
        return st

    @staticmethod
    def rows(st, role=None, state=None):
        out = []
        for p in st["processes"]:
            if role is not None and p["role"] != role:
                continue
            if state is not None and p["state"] != state:
                continue
            out.append(p)
        return out

    @staticmethod
    def row(st, role, index=0):
        """The member row (not a retiring process) of role/index."""
        for p in st["processes"]:
            if (p["role"] == role and p["index"] == index and
                    p["state"] != "retiring"):
                return p
        return None

    def wait_ready(self, timeout=10.0, workers=None, generation=None):
        """Until the supervisor is running, the agent, the runner and
        exactly `workers` workers are ready and nothing retires."""
        want = int(self.keys.get("workers", "2")) if workers is None \
            else workers

        def ready():
            if not self.running():
                raise TestFailure("mcpd exited (status %r) before it was "
                                  "ready; log:\n%s" %
                                  (self.proc.poll() if self.proc else None,
                                   self.log()[-3000:]))
            st = self.status(quiet=True)
            if st is None or st["state"] != "running":
                return None
            roles = [p["role"] for p in st["processes"]]
            if roles.count("worker") != want or \
                    roles.count("agent") != 1 or roles.count("runner") != 1:
                return None
            for p in st["processes"]:
                if p["role"] == "supervisor":
                    continue
                if p["state"] != "ready" or p["pid"] == 0:
                    return None
                if generation is not None and p["role"] == "worker" and \
                        p["generation"] != generation:
                    return None
            return st
        return wait_until(ready, timeout, "every process ready")

    def pids(self, st=None):
        """{'supervisor': pid, 'agent': pid, 'runner': pid, 'worker 0': ..}
        of the members (retiring processes left out)."""
        st = st or self.status()
        out = {}
        for p in st["processes"]:
            if p["state"] == "retiring":
                continue
            name = p["role"]
            if name == "worker":
                name = "worker %d" % p["index"]
            out[name] = p["pid"]
        return out

    def worker_pids(self, st=None):
        st = st or self.status()
        return {p["index"]: p["pid"] for p in st["processes"]
                if p["role"] == "worker" and p["state"] != "retiring"}

    def child_pids(self, st=None):
        return [pid for name, pid in self.pids(st).items()
                if name != "supervisor" and pid]

    # -- HTTP

    def http_get(self, path="/healthz", port=None, timeout=3.0):
        """(status, body) of one request on its own connection."""
        r = http_get(port or self.http_port, path, timeout)
        return r.status, r.body

    def healthz(self, port=None):
        r = http_get(port or self.http_port, "/healthz")
        check(r.status == 200, "GET /healthz: %r" % r)
        return r.json()

    # -- log

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_mark(self):
        return len(self.log())

    def log_lines(self, regex, since=0):
        """Match objects of regex (searched in each line) from offset."""
        r = re.compile(regex)
        out = []
        for line in self.log()[since:].splitlines():
            m = r.search(line)
            if m:
                out.append(m)
        return out

    def wait_log(self, regex, timeout=5.0, count=1, since=0):
        """Wait until regex matches `count` lines; returns the matches."""
        def found():
            ms = self.log_lines(regex, since)
            return ms if len(ms) >= count else None
        try:
            return wait_until(found, timeout, "log /%s/ x%d" % (regex, count),
                              interval=0.02)
        except TestFailure as e:
            raise TestFailure("%s; log tail:\n%s" % (e, self.log()[-2500:]))

    # -- signals, stop, cleanup

    def signal(self, sig):
        os.kill(self.pid, sig)

    def wait_exit(self, timeout=15.0):
        """Wait for the supervisor to exit; returns its exit status (None
        when it is not our child, e.g. detached)."""
        if self.proc is not None:
            try:
                self.exit_status = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise TestFailure("mcpd (pid %d) still running after %.1f s"
                                  % (self.pid, timeout))
            return self.exit_status
        left = wait_gone([self.pid], timeout)
        if left:
            raise TestFailure("mcpd (pid %d) still running after %.1f s" %
                              (self.pid, timeout))
        return None

    def stop(self, timeout=15.0):
        """SIGTERM and wait; whatever is left is SIGKILLed by cleanup()."""
        if self.running():
            try:
                self.signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                status = self.wait_exit(timeout)
            finally:
                self.cleanup()
            self.check_sanitizers()
            return status
        self.cleanup()
        self.check_sanitizers()
        return self.exit_status

    def check_sanitizers(self):
        """Under --enable-sanitizers every process of the daemon writes its
        reports to the log: any of them fails the test."""
        try:
            with open(self.logpath, errors="replace") as f:
                text = f.read()
        except OSError:
            return
        for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:"):
            i = text.find(mark)
            if i != -1:
                raise TestFailure("sanitizer report in the daemon's log:\n"
                                  + text[max(0, i - 200):i + 1500])

    def _ours(self):
        """Every live process of this daemon: the pids seen (same start
        time), their descendants, and the members of our process groups."""
        pids = set()
        for pid, start in list(self.seen.items()):
            st = proc_stat(pid)
            if st is not None and st["starttime"] == start:
                pids.add(pid)
        for st in all_stats():
            # a group of ours, and its cwd is our directory: pids get
            # reused (pid_max may be 32768), a directory does not
            if st["pgrp"] in self.groups and \
                    proc_cwd(st["pid"]) == self.dir:
                pids.add(st["pid"])
        for pid in list(pids):
            pids.update(descendants(pid))
        return [p for p in pids if alive(p)]

    def cleanup(self):
        """Kill (SIGKILL) every process of this daemon still there."""
        for _ in range(5):
            left = self._ours()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            wait_gone(left, 2.0)
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        reap_orphans()
        if self.logf is not None:
            self.logf.close()
            self.logf = None

    def remove(self):
        self.cleanup()
        if os.environ.get("MCPDTEST_KEEP"):
            info("kept %s (MCPDTEST_KEEP)" % self.dir)
            return
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisError(Exception):
    pass


def resp_encode(*args):
    """A Redis command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class _RespReader(object):
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            got = self.sock.recv(65536)
            if not got:
                raise RedisError("connection closed")
            self.buf += got
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            got = self.sock.recv(65536)
            if not got:
                raise RedisError("connection closed")
            self.buf += got
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RedisError("bad reply %r" % line)


class Redis(object):
    """A redis-server of a test's own (the Debian package's binary): its
    temp dir, a free port on 127.0.0.1, no persistence; removed with the
    test's daemons whatever happened.  cmd() speaks RESP itself."""

    def __init__(self, name="redis", args=()):
        self.name = name
        self.dir = _short_tmpdir()
        self.port = free_port()
        self.logpath = os.path.join(self.dir, "redis.log")
        self.args = list(args)
        self.proc = None
        self.failed = False
        with _daemons_lock:
            _daemons.append(self)

    def start(self, timeout=10.0):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--save", "", "--appendonly", "no",
             "--logfile", self.logpath, "--daemonize", "no"] + self.args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
            close_fds=True)
        wait_until(lambda: self._ping(), timeout,
                   "redis-server on port %d answering" % self.port,
                   interval=0.05)
        return self

    def _ping(self):
        try:
            return self.cmd("PING", timeout=0.5) == "PONG"
        except (OSError, RedisError):
            return False

    def cmd(self, *args, timeout=3.0):
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=timeout) as s:
            s.sendall(resp_encode(*args))
            return _RespReader(s).reply()

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        """kill -9 and reap: the data is gone with it."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except OSError:
                pass
            self.proc.wait(timeout=10)

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def remove(self):
        self.stop()
        if os.environ.get("MCPDTEST_KEEP"):
            info("kept %s (MCPDTEST_KEEP)" % self.dir)
            return
        shutil.rmtree(self.dir, ignore_errors=True)


_cleanups = []                   # on_cleanup() functions not run yet


def on_cleanup(fn):
    """fn() runs once when the file ends, however it ends (all passed, a
    failure, a signal, the watchdog), after every daemon is gone: for what
    a test made outside its directory, such as a user."""
    _cleanups.append(fn)


def cleanup_all():
    with _daemons_lock:
        ds = list(_daemons)
        del _daemons[:]
    for d in ds:
        try:
            d.remove()
        except Exception:  # noqa: cleanup must go on
            traceback.print_exc()
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception:  # noqa: cleanup must go on
            traceback.print_exc()


atexit.register(cleanup_all)


def _fatal_signal(sig, frame):
    print("FAIL: interrupted by signal %d" % sig, flush=True)
    cleanup_all()
    os._exit(1)


# ---------------------------------------------------------------- main

def _watchdog(budget=None):
    print("FAIL: the file took more than %.0f s; killing everything" %
          (budget or FILE_BUDGET_S), flush=True)
    for d in list(_daemons):
        try:
            print("---- log of %s (%s):\n%s" % (d.name, d.dir,
                                                  d.log()[-3000:]))
        except Exception:  # noqa
            pass
    cleanup_all()
    os._exit(1)


def main(tests, budget=None):
    """Run the tests; budget: seconds for the whole file (a load test's
    own), else MCPDTEST_BUDGET or 150."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _fatal_signal)
    for path in (MCPD, MCPCTL):
        if not os.access(path, os.X_OK):
            print("ERROR: %s is not an executable (set MCPD and MCPCTL)" %
                  path)
            sys.exit(99)
    wd = threading.Timer(budget or FILE_BUDGET_S, _watchdog,
                         args=(budget,))
    wd.daemon = True
    wd.start()
    only = sys.argv[1:]
    failed = []
    t_file = time.monotonic()
    for t in tests:
        name = t.__name__
        if only and name not in only:
            continue
        with _daemons_lock:
            before = len(_daemons)
        t0 = time.monotonic()
        ok = False
        reason = ""
        try:
            t()
            ok = True
        except TestFailure as e:
            reason = str(e)
        except Exception as e:  # noqa: a bug in the test is a failure too
            reason = "%s\n%s" % (repr(e), traceback.format_exc())
        with _daemons_lock:
            mine = _daemons[before:]
            del _daemons[before:]
        for d in mine:
            if not ok:
                d.failed = True
                print("---- log of %s (%s), last lines:\n%s----" %
                      (d.name, d.dir, d.log()[-4000:]), flush=True)
            try:
                d.remove()
            except Exception:  # noqa
                traceback.print_exc()
        dt = time.monotonic() - t0
        if ok:
            print("PASS: %s (%.1f s)" % (name, dt), flush=True)
        else:
            failed.append(name)
            print("FAIL: %s: %s (%.1f s)" % (name, reason, dt), flush=True)
    wd.cancel()
    cleanup_all()
    print("%s: %d failed, %.1f s" % (os.path.basename(sys.argv[0]),
                                     len(failed), time.monotonic() - t_file))
    sys.exit(1 if failed else 0)
