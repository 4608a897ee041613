"""test_start.py -- start-up, readiness, HTTP, pidfile, control socket,
detaching, log file, sd_notify."""

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

WORKERS = 3


def test_every_child_ready():
    d = T.Daemon(keys={"workers": str(WORKERS)})
    st = d.start()
    procs = st["processes"]
    roles = [(p["role"], p["index"]) for p in procs]
    want = ([("supervisor", 0), ("agent", 0), ("runner", 0)] +
            [("worker", i) for i in range(WORKERS)])
    check_eq(roles, want, "status rows (role, index)")
    check_eq(st["pid"], d.pid, "status pid")
    check_eq(st["generation"], 1, "daemon generation")
    check_eq(st["workers"], WORKERS, "status workers")
    check_eq(st["state"], "running", "daemon state")
    check_eq(st["config"], d.conf, "status config path")
    pids = [p["pid"] for p in procs]
    check(len(set(pids)) == len(pids) and 0 not in pids,
          "pids are not distinct and non-zero: %r" % pids)
    for p in procs:
        name = "%s %d" % (p["role"], p["index"])
        check_eq(p["generation"], 1, name + " generation")
        check_eq(p["state"], "running" if p["role"] == "supervisor"
                 else "ready", name + " state")
        check_eq(p["restarts"], 0, name + " restarts")
        check_eq(p["restart_delay_ms"], 0, name + " restart_delay_ms")
        if p["role"] != "supervisor":
            st_ = T.proc_stat(p["pid"])
            check(st_ is not None and st_["ppid"] == d.pid,
                  "%s (pid %d) is not a child of the supervisor: %r" %
                  (name, p["pid"], st_))
    # one "ready" line per child in the log, with its pid
    log = d.log()
    for p in procs[1:]:
        name = p["role"] if p["role"] != "worker" else \
            "worker %d" % p["index"]
        rx = (r"supervisor: %s \(pid %d, generation 1\) ready in \d+ ms" %
              (name, p["pid"]))
        check(re.search(rx, log), "no ready line /%s/ in the log" % rx)
    check(re.search(r"supervisor: started: %d workers, agent and runner "
                    r"ready in \d+ ms \(generation 1\)" % WORKERS, log),
          "no 'started:' line in the log")
    # the process titles
    check_eq(T.proc_title(d.pid), "mcpd: supervisor", "supervisor title")
    for p in procs[1:]:
        want_t = "mcpd: " + (p["role"] if p["role"] != "worker" else
                             "worker %d" % p["index"])
        check_eq(T.proc_title(p["pid"]), want_t,
                 "/proc/%d/cmdline" % p["pid"])
    # the human-readable status lists the same
    rc, out, err = d.ctl("status")
    check_eq(rc, 0, "mcpctl status exit status")
    check(re.search(r"^mcpd pid %d, generation 1, running, %d workers" %
                    (d.pid, WORKERS), out, re.M), "mcpctl status: %r" % out)
    for p in procs:
        check(re.search(r"^%s\s.*\b%d\b" % (p["role"], p["pid"]), out, re.M),
              "mcpctl status lacks %s %d: %r" % (p["role"], p["pid"], out))


def test_http():
    d = T.Daemon(keys={"workers": "2"})
    st = d.start()
    wp = d.worker_pids(st)
    by_pid = {pid: i for i, pid in wp.items()}
    for port in (d.http_port, d.admin_port):
        for _ in range(4):
            r = T.http_get(port, "/healthz")
            check_eq(r.status, 200, "GET /healthz on port %d" % port)
            check(r.headers.get("content-type") == "application/json",
                  "content-type %r" % r.headers.get("content-type"))
            j = r.json()
            check_eq(j.get("status"), "ok", "healthz status")
            check(j.get("pid") in by_pid, "healthz pid %r is not a worker's "
                  "%r" % (j.get("pid"), wp))
            check_eq(j.get("worker"), by_pid[j["pid"]], "healthz worker index "
                     "of pid %d" % j["pid"])
            check_eq(j.get("generation"), 1, "healthz generation")
        # query strings do not matter, other paths are not found
        r = T.http_get(port, "/healthz?verbose=1")
        check_eq(r.status, 200, "GET /healthz?verbose=1")
        for path in ("/", "/healthzz", "/health", "/healthz/x", "/mcpx",
                     "/HEALTHZ"):
            r = T.http_get(port, path)
            check_eq(r.status, 404, "GET %s on port %d" % (path, port))
            check(r.json().get("error") == "not found", "404 body %r" % r)
    # HEAD has the headers and no body
    c = T.HttpConn(d.http_port)
    try:
        r = c.request("/healthz", method="HEAD")
        check_eq(r.status, 200, "HEAD /healthz")
        check(int(r.headers.get("content-length", "0")) > 0,
              "HEAD: content-length %r" % r.headers)
        check_eq(r.body, b"", "HEAD body")
        r = c.request("/healthz")   # and the connection goes on
        check_eq(r.status, 200, "GET after HEAD on the same connection")
    finally:
        c.close()
    # a POST to /healthz is not it
    c = T.HttpConn(d.http_port)
    try:
        c.send(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
               b"\r\n{}")
        r = c.read_response()
        check_eq(r.status, 404, "POST /healthz")
    finally:
        c.close()
    # garbage gets 400 and a close
    c = T.HttpConn(d.http_port)
    try:
        c.send(b"THIS IS NOT HTTP\r\n\r\n")
        r = c.read_response()
        check_eq(r.status, 400, "garbage request")
        check(c.at_eof(), "the connection stays open after a 400")
    finally:
        c.close()


def test_keepalive_and_pipelining():
    d = T.Daemon(keys={"workers": "2"})
    d.start()
    c = T.HttpConn(d.http_port)
    try:
        seen = []
        for i in range(3):
            r = c.request("/healthz")
            check_eq(r.status, 200, "keep-alive request %d" % (i + 1))
            check("close" not in r.headers.get("connection", "").lower(),
                  "keep-alive request %d: Connection: %r" %
                  (i + 1, r.headers.get("connection")))
            seen.append(r.json()["pid"])
        check(len(set(seen)) == 1, "one connection, several pids: %r" % seen)
        # three requests in one send: three answers, in order
        c.send(T.HttpConn.request_bytes("/healthz") +
               T.HttpConn.request_bytes("/nope") +
               T.HttpConn.request_bytes("/healthz", close=True))
        r1 = c.read_response()
        r2 = c.read_response()
        r3 = c.read_response()
        check_eq([r1.status, r2.status, r3.status], [200, 404, 200],
                 "pipelined answers")
        check_eq(r1.json()["pid"], seen[0], "pipelined answer 1 pid")
        check_eq(r3.json()["pid"], seen[0], "pipelined answer 3 pid")
        check_eq(r3.headers.get("connection", "").lower(), "close",
                 "the last pipelined answer's Connection header")
        check(c.at_eof(), "the server did not close after Connection: close")
        check_eq(c.buf, b"", "bytes after the last answer")
    finally:
        c.close()
    # HTTP/1.0 without keep-alive: the answer, then close
    c = T.HttpConn(d.http_port)
    try:
        c.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        r = c.read_response()
        check_eq(r.status, 200, "HTTP/1.0 request")
        check(c.at_eof(), "HTTP/1.0: no close")
    finally:
        c.close()


def test_pidfile_and_socket():
    d = T.Daemon()
    d.start()
    with open(d.pidfile) as f:
        text = f.read()
    check_eq(text, "%d\n" % d.pid, "pidfile contents")
    sst = os.stat(d.sock)
    check(stat.S_ISSOCK(sst.st_mode), "%s is not a socket" % d.sock)
    check_eq(oct(stat.S_IMODE(sst.st_mode)), oct(0o600),
             "control socket mode")
    before = d.pids()

    # a second mcpd with the same pidfile refuses to start
    r = subprocess.run([T.MCPD, "-f", "-c", d.conf], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=10, cwd=d.dir)
    err = r.stderr.decode()
    check_eq(r.returncode, 1, "second mcpd exit status (stderr %r)" % err)
    check(d.pidfile in err and str(d.pid) in err,
          "second mcpd's stderr %r does not name %s and pid %d" %
          (err, d.pidfile, d.pid))
    # the first one goes on, untouched
    check(d.running(), "the first mcpd died")
    with open(d.pidfile) as f:
        check_eq(f.read(), "%d\n" % d.pid, "pidfile after the second mcpd")
    check(os.path.exists(d.sock), "the control socket is gone")
    check_eq(d.pids(), before, "pids after the second mcpd")
    check_eq(d.healthz()["status"], "ok", "healthz after the second mcpd")

    # a second mcpd with its own pidfile but the same port cannot bind
    d2 = T.Daemon(name="second")
    d2.http_port = d.http_port
    d2.write_conf()
    r = subprocess.run([T.MCPD, "-f", "-c", d2.conf], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=10, cwd=d2.dir)
    err = r.stderr.decode()
    check_eq(r.returncode, 1, "mcpd on a taken port: exit status")
    check("port %d" % d.http_port in err and "in use" in err,
          "mcpd on a taken port: stderr %r" % err)
    check(not os.path.exists(d2.pidfile), "mcpd on a taken port left its "
          "pidfile")
    check_eq(d.healthz()["status"], "ok", "healthz after the port clash")

    # stop: both files go away
    rc = d.stop()
    check_eq(rc, 0, "exit status")
    check(not os.path.exists(d.pidfile), "pidfile left after stop")
    check(not os.path.exists(d.sock), "control socket left after stop")


def test_detach_and_log_file():
    d = T.Daemon(keys={"throttle-reset": "1ms"})   # restarts at once
    logfile = os.path.join(d.dir, "daemon.log")
    d.keys["log-file"] = '"%s"' % logfile
    d.write_conf()
    dt = d.start_detached()
    check(dt < 3.0, "mcpd without -f took %.2f s to return" % dt)
    check(d.pid != d.command_pid, "the pidfile holds the command's own pid")
    check(T.alive(d.pid), "the daemon (pid %d) is not running" % d.pid)
    st = T.proc_stat(d.pid)
    check(st["session"] != os.getsid(0),
          "the daemon did not leave our session")
    check(st["ppid"] != d.command_pid, "the daemon's parent is the command")
    st = d.wait_ready()
    check_eq(st["pid"], d.pid, "status pid vs pidfile")
    check_eq(d.healthz()["status"], "ok", "healthz of the detached daemon")
    check(T.proc_cwd(d.pid) == "/", "the daemon's cwd is %r, not /" %
          T.proc_cwd(d.pid))

    # the log lines land in log-file, nothing in the stderr capture
    def has(path, rx):
        try:
            with open(path) as f:
                return re.search(rx, f.read())
        except OSError:
            return None
    T.wait_until(lambda: has(logfile, r"supervisor: started: 2 workers"), 5,
                 "the 'started' line in %s" % logfile)
    with open(logfile) as f:
        text = f.read()
    for p in st["processes"][1:]:
        check("(pid %d, generation 1) ready" % p["pid"] in text,
              "no ready line of pid %d in the log file" % p["pid"])
    check_eq(d.log(), "", "output of the detached daemon on its stderr")

    # logrotate: move the file, USR1, a new file appears and gets lines
    rotated = logfile + ".1"
    os.rename(logfile, rotated)
    d.signal(signal.SIGUSR1)
    T.wait_until(lambda: os.path.exists(logfile), 5,
                 "a new %s after SIGUSR1" % logfile)
    T.wait_until(lambda: has(rotated, r"SIGUSR1: reopening the log file"), 5,
                 "the SIGUSR1 line in the rotated file")
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "mcpctl reload (stderr %r)" % err)
    T.wait_until(lambda: has(logfile, r"reload requested over the control "
                             r"socket"), 5, "a supervisor line in the new file")
    # the children reopened too: a worker's line goes to the new file
    wp = d.worker_pids()
    os.kill(wp[1], signal.SIGKILL)
    T.wait_until(lambda: has(logfile, r"worker 1 \(pid %d\) exited on "
                             r"signal 9" % wp[1]), 5,
                 "the crash line in the new file")
    st = d.wait_ready()
    before = os.path.getsize(rotated)
    d.signal(signal.SIGTERM)
    d.wait_exit(10)
    T.wait_until(lambda: has(logfile, r"worker 0: asked to stop"), 5,
                 "a worker's own line in the new file")
    check(not has(rotated, r"asked to stop"),
          "a child still writes to the rotated file")
    check(os.path.getsize(rotated) == before, "the rotated file grew")
    check(not os.path.exists(d.pidfile), "the pidfile is left after stop")
    left = T.wait_gone([p["pid"] for p in st["processes"]], 10)
    check(not left, "processes left after stop: %r" % left)


def test_notify_socket():
    d = T.Daemon()
    path = os.path.join(d.dir, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        ns.bind(path)
        ns.settimeout(10)
        d.env["NOTIFY_SOCKET"] = path
        d.start(wait=False)
        t0 = time.monotonic()
        msg = ns.recv(4096).decode()
        check(time.monotonic() - t0 < 10, "no READY=1 within 10 s")
        fields = dict(l.split("=", 1) for l in msg.split("\n") if "=" in l)
        check_eq(fields.get("READY"), "1", "notify message %r: READY" % msg)
        check_eq(fields.get("MAINPID"), str(d.pid), "notify MAINPID")
        # READY=1 means ready: every child is
        st = d.status()
        check_eq(st["state"], "running", "state at READY=1")
        for p in st["processes"][1:]:
            check_eq(p["state"], "ready", "%s at READY=1" % p["role"])
        # a reload says RELOADING=1, then READY=1; a stop STOPPING=1
        d.set_keys(drain_timeout="3s")
        d.signal(signal.SIGHUP)
        msgs = []
        for _ in range(2):
            msgs.append(ns.recv(4096).decode())
        check_eq([m.split("\n")[0] for m in msgs], ["RELOADING=1", "READY=1"],
                 "notify messages of a reload")
        d.signal(signal.SIGTERM)
        check_eq(ns.recv(4096).decode().split("\n")[0], "STOPPING=1",
                 "notify message of a stop")
        check_eq(d.wait_exit(10), 0, "exit status")
    finally:
        ns.close()


def test_journal_stream():
    """Under systemd (JOURNAL_STREAM names the standard error's device
    and inode) each line of every process starts with its priority and
    carries no time or pid of ours; a JOURNAL_STREAM naming another file
    changes nothing."""
    d = T.Daemon()
    open(d.logpath, "ab").close()
    st = os.stat(d.logpath)
    d.env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    d.start()
    try:
        # a warning (the supervisor's) and infos of every role
        d.ctl("reload")
        d.signal(signal.SIGHUP)
        time.sleep(0.5)
    finally:
        d.stop()
    lines = [ln for ln in d.log().splitlines() if ln]
    bad = [ln for ln in lines if not re.match(
        r"^<[0-7]>(supervisor|agent|runner|worker \d+): ", ln)]
    check_eq(bad, [], "every line '<N>role: message'")
    check(any(ln.startswith("<6>supervisor: mcpd ") for ln in lines),
          "the start as info (6): %r" % lines[:3])
    check(any(ln.startswith("<6>worker 0: ") or ln.startswith(
        "<6>supervisor: worker 0") for ln in lines), "the workers' lines")
    # another file's device and inode: the usual lines
    d2 = T.Daemon(env={"JOURNAL_STREAM": "%d:%d" % (st.st_dev,
                                                     st.st_ino + 1)})
    d2.start()
    d2.stop()
    first = d2.log().splitlines()[0]
    check(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} mcpd\[\d+\]: "
                   r"supervisor: ", first), "a plain line: %r" % first)


if __name__ == "__main__":
    T.main([test_every_child_ready, test_http, test_keepalive_and_pipelining,
            test_pidfile_and_socket, test_detach_and_log_file,
            test_notify_socket, test_journal_stream])
