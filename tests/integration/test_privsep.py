#!/usr/bin/env python3
"""Privilege separation (user, group): started as root, the supervisor
stays root and every worker, the agent and the runner run as the user of
mcpd.conf, with no supplementary group and no capability (the runner
CAP_SETUID and CAP_SETGID, held, when a tool names a user), as /proc says;
an exec tool and a file resource then cannot read what only root can;
mcpd -n says an unknown user at file:line; a drop that fails is not
retried; without root, user is ignored with a warning.

Needs root and useradd(8): it makes throwaway system users and removes
them whatever happens (exit 77, skipped, without them)."""

import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402
from test_mcp_http import post, request, init  # noqa: E402

CAP_SETPCAP = 8
CAP_SETID = (1 << 6) | (1 << 7)         # CAP_SETGID, CAP_SETUID
NOLOGIN = next((p for p in ("/usr/sbin/nologin", "/sbin/nologin")
                if os.path.exists(p)), "/bin/false")

_users = []


def _userdel(name):
    if name not in _users:
        return
    _users.remove(name)
    subprocess.run(["userdel", "-f", name], capture_output=True)
    # the group of the same name, when userdel left it
    subprocess.run(["groupdel", name], capture_output=True)


def make_user(tag):
    """A system user (and its group) that exists until the file ends."""
    name = "mcpdt%s%d" % (tag, os.getpid() % 100000)
    _userdel(name)
    _users.append(name)
    r = subprocess.run(["useradd", "--system", "--no-create-home",
                        "--user-group", "--shell", NOLOGIN, name],
                       capture_output=True)
    check(r.returncode == 0, "useradd %s: %s" % (name, r.stderr))
    return pwd.getpwnam(name)


def remove_users():
    for name in list(_users):
        _userdel(name)


def status(pid):
    """The id and capability lines of /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid"):
                out[k] = [int(x) for x in v.split()]
            elif k == "Groups":
                out[k] = [int(x) for x in v.split()]
            elif k.startswith("Cap"):
                out[k] = int(v.strip(), 16)
    return out


def check_dropped(d, pw, runner_caps=0):
    """Supervisor root; every other process pw's ids, no groups, no
    capability (the runner: runner_caps held, not effective)."""
    pids = d.pids()
    sup = status(pids.pop("supervisor"))
    check_eq(sup["Uid"], [0, 0, 0, 0], "supervisor uid")
    # the bounding set empties when the supervisor may (CAP_SETPCAP)
    can_bound = sup["CapEff"] & (1 << CAP_SETPCAP)
    check(len(pids) >= 3, "processes %r" % pids)
    for name, pid in sorted(pids.items()):
        s = status(pid)
        want = runner_caps if name == "runner" else 0
        check_eq(s["Uid"], [pw.pw_uid] * 4, "%s uid" % name)
        check_eq(s["Gid"], [pw.pw_gid] * 4, "%s gid" % name)
        check_eq(s["Groups"], [], "%s supplementary groups" % name)
        check_eq(s["CapEff"], 0, "%s effective capabilities" % name)
        check_eq(s["CapPrm"], want, "%s permitted capabilities" % name)
        check_eq(s["CapInh"], 0, "%s inheritable capabilities" % name)
        check_eq(s.get("CapAmb", 0), 0, "%s ambient capabilities" % name)
        if can_bound:
            check_eq(s["CapBnd"], want, "%s bounding set" % name)
    T.info("supervisor root; %s as uid %d gid %d, no groups, "
           "capabilities 0 (runner %#x)" % (", ".join(sorted(pids)),
                                            pw.pw_uid, pw.pw_gid,
                                            runner_caps))


def call(p, sid, name, args):
    st, _, msgs = post(p, request("tools/call", {"name": name,
                                                  "arguments": args}), sid)
    check_eq(st, 200, "tools/call %s" % name)
    return msgs[-1]["result"]


def read(p, sid, uri):
    st, _, msgs = post(p, request("resources/read", {"uri": uri}), sid)
    check_eq(st, 200, "resources/read %s" % uri)
    return msgs[-1]


def text_of(res):
    return "".join(c.get("text", "") for c in res["content"])


def files(d):
    """In the daemon's directory (searchable, not listable, by others):
    a file anyone reads, one only root reads, a directory only root
    enters."""
    os.chmod(d.dir, 0o711)
    paths = {
        "open": os.path.join(d.dir, "open.txt"),
        "secret": os.path.join(d.dir, "secret.txt"),
        "rootdir": os.path.join(d.dir, "rootonly"),
    }
    with open(paths["open"], "w") as f:
        f.write("anyone may read this\n")
    os.chmod(paths["open"], 0o644)
    with open(paths["secret"], "w") as f:
        f.write("only root reads this\n")
    os.chmod(paths["secret"], 0o600)
    os.mkdir(paths["rootdir"], 0o700)
    paths["inner"] = os.path.join(paths["rootdir"], "inner.txt")
    with open(paths["inner"], "w") as f:
        f.write("behind a root-only directory\n")
    os.chmod(paths["inner"], 0o644)
    return paths


def catalog(paths, tool_user=None):
    return """
session-responses json
tool "cat" {
	description "print a file"
	command "/bin/cat" "--" "{file}"
%s}
resource "file:///open.txt" {
	path "%s"
}
resource "file:///inner.txt" {
	path "%s"
}
resource "file:///rootonly/" {
	path "%s"
}
""" % ("\tuser \"%s\"\n" % tool_user if tool_user else "", paths["open"],
       paths["inner"], paths["rootdir"])


def test_dropped():
    """user set: the children run as it, and what only root may read is
    out of reach of a tool and of a resource."""
    pw = make_user("a")
    d = T.Daemon(keys={"workers": "2", "user": pw.pw_name})
    paths = files(d)
    d.extra = catalog(paths)
    d.write_conf()
    d.start()
    d.wait_log(r"supervisor: workers, agent and runner run as user %s "
               r"\(uid %d\), the user's group \(gid %d\), no supplementary "
               r"groups, no capabilities$" % (pw.pw_name, pw.pw_uid,
                                              pw.pw_gid))
    check_dropped(d, pw)

    p = d.http_port
    sid, _ = init(p)
    res = call(p, sid, "cat", {"file": paths["open"]})
    check(not res.get("isError"), "cat of a readable file: %r" % res)
    check_eq(text_of(res), "anyone may read this\n", "cat of a readable file")
    res = call(p, sid, "cat", {"file": paths["secret"]})
    check(res.get("isError") is True, "cat of a root-only file: %r" % res)
    check("only root" not in text_of(res) and
          "Permission denied" in text_of(res),
          "cat of a root-only file says: %r" % text_of(res))
    res = call(p, sid, "cat", {"file": "/etc/shadow"})
    check(res.get("isError") is True, "cat /etc/shadow: %r" % res)
    T.info("the cat tool reads %s, not %s nor /etc/shadow: %r" %
           (paths["open"], paths["secret"], text_of(res).strip()))

    m = read(p, sid, "file:///open.txt")
    check_eq(m["result"]["contents"][0]["text"], "anyone may read this\n",
             "a readable resource")
    for uri in ("file:///inner.txt", "file:///rootonly/inner.txt"):
        m = read(p, sid, uri)
        check("error" in m and "behind" not in str(m),
              "%s under a root-only directory: %r" % (uri, m))
    st, _, msgs = post(p, request("resources/list"), sid)
    uris = [r["uri"] for r in msgs[-1]["result"]["resources"]]
    check("file:///rootonly/inner.txt" not in uris,
          "resources/list shows what the workers cannot read: %r" % uris)
    d.stop()


def test_runner_caps():
    """A tool names a user: the runner holds CAP_SETUID and CAP_SETGID
    (permitted and bounding, not effective); the others hold nothing."""
    pw = make_user("b")
    d = T.Daemon(keys={"workers": "2", "user": pw.pw_name})
    paths = files(d)
    d.extra = catalog(paths, tool_user=pw.pw_name)
    d.write_conf()
    d.start()
    d.wait_log(r"no capabilities \(the runner holds CAP_SETUID and "
               r"CAP_SETGID: a tool names a user\)$")
    check_dropped(d, pw, runner_caps=CAP_SETID)
    d.stop()


def test_group():
    """group: another group than the user's own."""
    pw = make_user("c")
    gr = make_user("g")     # its group of the same name
    d = T.Daemon(keys={"workers": "1", "user": pw.pw_name,
                       "group": gr.pw_name})
    d.start()
    d.wait_log(r"run as user %s \(uid %d\), group %s \(gid %d\)" %
               (pw.pw_name, pw.pw_uid, gr.pw_name, gr.pw_gid))

    class As(object):
        pw_uid = pw.pw_uid
        pw_gid = gr.pw_gid
    check_dropped(d, As)
    d.stop()


def test_alert_command():
    """alert-command runs as the user too (memory-soft-limit 1 byte:
    yellow at the first judgement)."""
    pw = make_user("d")
    d = T.Daemon(keys={"workers": "1", "user": pw.pw_name,
                       "memory-soft-limit": "1"})
    os.chmod(d.dir, 0o711)
    out = os.path.join(d.dir, "out")
    os.mkdir(out, 0o700)
    os.chown(out, pw.pw_uid, pw.pw_gid)
    script = os.path.join(d.dir, "alert.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nid -u > %s/id.tmp && id -G >> %s/id.tmp && "
                "mv %s/id.tmp %s/id\n" % (out, out, out, out))
    os.chmod(script, 0o755)
    d.set_keys(alert_command='"%s"' % script)
    d.start()
    d.wait_log(r"alert: yellow")
    idf = os.path.join(out, "id")
    got = T.wait_until(lambda: os.path.exists(idf) and open(idf).read(), 5,
                       "the alert command's output")
    check_eq(got.split("\n")[:2], [str(pw.pw_uid), str(pw.pw_gid)],
             "alert-command's uid and groups")
    d.stop()


def mcpd_n(conf_text, name="mcpd.conf"):
    d = T.Daemon()
    path = os.path.join(d.dir, name)
    with open(path, "w") as f:
        f.write(conf_text)
    r = subprocess.run([T.MCPD, "-n", "-c", path], capture_output=True,
                       timeout=30)
    return r.returncode, r.stderr.decode(), path


def test_check():
    """mcpd -n asks the user database: file:line."""
    pw = make_user("e")
    rc, err, path = mcpd_n("workers 1\nuser mcpd-no-such-user\n")
    check_eq(rc, 1, "mcpd -n, unknown user: status")
    check_eq(err, '%s:2: user: unknown user "mcpd-no-such-user"\n' % path,
             "mcpd -n, unknown user")
    rc, err, path = mcpd_n("user %s\ngroup mcpd-no-such-group\n" %
                           pw.pw_name)
    check_eq(err, '%s:2: group: unknown group "mcpd-no-such-group"\n' %
             path, "mcpd -n, unknown group")
    rc, err, path = mcpd_n("user root\n")
    check_eq(err, '%s:1: user: "root" is root (uid 0): name an '
             'unprivileged user\n' % path, "mcpd -n, root")
    rc, err, path = mcpd_n('tool t {\n\tdescription d\n\tcommand /bin/true'
                           '\n\tuser mcpd-no-such-user\n}\n')
    check_eq(err, '%s:4: tool t: user: unknown user "mcpd-no-such-user"\n'
             % path, "mcpd -n, a tool's unknown user")
    rc, err, path = mcpd_n("user %s\n" % pw.pw_name)
    check_eq((rc, err), (0, "configuration OK\n"), "mcpd -n, a user")


def test_no_user():
    """Without user, nothing changes, and the log says so once."""
    d = T.Daemon(keys={"workers": "1"})
    d.start()
    d.wait_log(r'supervisor: no "user" in %s: workers, agent and runner '
               r'run as root' % d.conf)
    check_eq(len(d.log_lines(r'no "user" in')), 1, "the warning, once")
    for name, pid in d.pids().items():
        check_eq(status(pid)["Uid"], [0, 0, 0, 0], "%s uid" % name)
    d.stop()


def test_failed_drop():
    """A child that cannot drop (its user gone since the start) says why
    and exits EXIT_NORESTART: it is not restarted into the same failure,
    and nothing serves in its place as root."""
    pw = make_user("f")
    d = T.Daemon(keys={"workers": "2", "user": pw.pw_name,
                       "throttle-min": "100ms"})
    d.start()
    pids = d.pids()
    _userdel(pw.pw_name)
    mark = d.log_mark()
    os.kill(pids["worker 0"], signal.SIGKILL)
    d.wait_log(r'worker 0: cannot drop privileges: unknown user "%s"; '
               r'exiting with status 78 \(not restarted\)' % pw.pw_name,
               timeout=10, since=mark)
    d.wait_log(r"supervisor: worker 0 .*exit status 78: not restarted",
               timeout=10, since=mark)
    st = d.status()
    w0 = d.row(st, "worker", 0)
    check(w0 is None or w0["pid"] == 0 or w0["state"] != "ready",
          "worker 0 runs again: %r" % w0)
    for pid in T.descendants(d.pid):
        s = status(pid)
        check(s["Uid"][0] != 0, "a child of the supervisor runs as root: "
              "pid %d %r" % (pid, T.proc_title(pid)))
    d.stop()


def test_reload_keeps_user():
    """A reload that changes user keeps the running one: a new generation
    of workers runs as the user of the start."""
    pw = make_user("j")
    other = make_user("k")
    d = T.Daemon(keys={"workers": "2", "user": pw.pw_name})
    d.start()
    mark = d.log_mark()
    d.set_keys(user=other.pw_name, idle_timeout="42s")
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "mcpctl reload: %s %s" % (out, err))
    d.wait_log(r"reload: user and group changes take effect at the next "
               r"start", since=mark)
    d.wait_ready(generation=2)
    check_dropped(d, pw)
    d.stop()


def test_stdio():
    """mcpd --stdio started as root drops too, before it serves."""
    pw = make_user("l")
    d = T.Daemon()
    paths = files(d)
    conf = os.path.join(d.dir, "stdio.conf")
    with open(conf, "w") as f:
        f.write("user %s\n" % pw.pw_name + catalog(paths))
    p = subprocess.Popen([T.MCPD, "--stdio", "-c", conf],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    buf = b""

    def ask(rid, method, params):
        nonlocal buf
        p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid,
                                  "method": method, "params": params})
                      .encode() + b"\n")
        p.stdin.flush()
        deadline = time.monotonic() + 10
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            check(left > 0, "no answer to %s" % method)
            r, _, _ = select.select([p.stdout], [], [], left)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                check(chunk, "stdout closed")
                buf += chunk
        line, buf = buf.split(b"\n", 1)
        return json.loads(line)
    try:
        ask(1, "initialize", {"protocolVersion": "2025-11-25",
                              "capabilities": {},
                              "clientInfo": {"name": "t", "version": "1"}})
        s = status(p.pid)
        check_eq(s["Uid"], [pw.pw_uid] * 4, "mcpd --stdio uid")
        check_eq((s["CapEff"], s["CapPrm"]), (0, 0),
                 "mcpd --stdio capabilities")
        res = ask(2, "tools/call", {"name": "cat",
                                    "arguments": {"file": paths["secret"]}})
        check(res["result"].get("isError") is True,
              "cat of a root-only file over stdio: %r" % res)
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def uid_procs(uid):
    """The pids of the processes whose real uid is uid."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            if status(int(e))["Uid"][0] == uid:
                out.append(int(e))
        except (OSError, KeyError, ValueError):
            pass
    return out


def test_tool_user():
    """A tool that names a user runs as it: its ids, its group only, no
    capability, no new privileges; a file only mcpd's user reads is out
    of its reach; it cannot kill its shepherd, and what it detaches is
    killed at the timeout, and when its shepherd is SIGKILLed (by the
    runner, through a child that takes the tool's uid)."""
    pw = make_user("m")
    tw = make_user("n")
    d = T.Daemon(keys={"workers": "1", "user": pw.pw_name})
    os.chmod(d.dir, 0o711)
    mine = os.path.join(d.dir, "mine.txt")
    with open(mine, "w") as f:
        f.write("only mcpd's user reads this\n")
    os.chmod(mine, 0o600)
    os.chown(mine, pw.pw_uid, pw.pw_gid)
    who = os.path.join(d.dir, "who.sh")
    with open(who, "w") as f:
        f.write("#!/bin/sh\nid -u; id -G\n"
                "grep -E '^(CapPrm|CapEff|NoNewPrivs)' /proc/self/status\n"
                "cat %s >/dev/null 2>&1 && echo mine:read || echo mine:denied\n"
                "kill -KILL $PPID 2>/dev/null && echo kill:done || "
                "echo kill:refused\n"
                "grep -E '^Uid' /proc/$PPID/status\n" % mine)
    os.chmod(who, 0o755)
    # mcpd's user: it could kill its shepherd (the same uid), so it does not
    whome = os.path.join(d.dir, "whome.sh")
    with open(who) as f:
        text = f.read()
    with open(whome, "w") as f:
        f.write(text[:text.index("kill -KILL")])
    os.chmod(whome, 0o755)
    tag = "mcpdtn%d" % os.getpid()
    hold = os.path.join(d.dir, "hold.sh")
    with open(hold, "w") as f:
        f.write("#!/bin/sh\nsetsid sh -c 'exec -a %s sleep 300' &\n"
                "echo started\nexec sleep 300\n" % tag)
    os.chmod(hold, 0o755)
    forks = os.path.join(d.dir, "forks.py")
    with open(forks, "w") as f:
        f.write("import os, time\nn = 0\nwhile n < 20:\n"
                "    try:\n        pid = os.fork()\n"
                "    except OSError:\n        break\n"
                "    if pid == 0:\n        time.sleep(2)\n        os._exit(0)\n"
                "    n += 1\nprint(n)\n")
    os.chmod(forks, 0o644)
    d.extra = """
tool "who" {
	description "who runs it"
	command "%s"
	user "%s"
}
tool "mine" {
	description "the same as mcpd's user"
	command "%s"
}
tool "hold" {
	description "detaches a child and holds"
	command "%s"
	user "%s"
	timeout 2s
}
tool "forks" {
	description "forks until it cannot"
	command "%s" "%s"
	user "%s"
	max-processes 4
}
tool "hold_long" {
	description "detaches a child and holds"
	command "%s"
	user "%s"
	timeout 60s
}
""" % (who, tw.pw_name, whome, hold, tw.pw_name, "/usr/bin/python3", forks,
       tw.pw_name, hold, tw.pw_name)
    d.write_conf()
    d.start()
    check_dropped(d, pw, runner_caps=CAP_SETID)
    p = d.http_port
    sid, _ = init(p)

    out = text_of(call(p, sid, "who", {})).split("\n")
    T.info("tool who as %s: %r" % (tw.pw_name, out))
    check_eq(out[0:2], [str(tw.pw_uid), str(tw.pw_gid)],
             "the tool's uid and groups")
    check_eq([" ".join(x.split()) for x in out[2:5]],
             ["CapPrm: 0000000000000000", "CapEff: 0000000000000000",
              "NoNewPrivs: 1"], "the tool's capabilities")
    check_eq(out[5], "mine:denied", "the tool reads mcpd's user's file")
    check_eq(out[6], "kill:refused", "the tool kills its shepherd")
    check_eq(out[7].split()[1:], [str(pw.pw_uid), str(tw.pw_uid),
                                  str(pw.pw_uid), str(tw.pw_uid)],
             "the shepherd's uids (real, effective, saved, fs)")
    out = text_of(call(p, sid, "mine", {})).split("\n")
    check_eq(out[0:2], [str(pw.pw_uid), str(pw.pw_gid)],
             "a tool without user: mcpd's user")
    check_eq([" ".join(x.split()) for x in out[2:5]],
             ["CapPrm: 0000000000000000", "CapEff: 0000000000000000",
              "NoNewPrivs: 1"], "a tool without user: capabilities")
    check_eq(out[5], "mine:read", "a tool without user reads mcpd's file")

    # max-processes counts the processes of the tool's user: itself and 3
    check_eq(text_of(call(p, sid, "forks", {})).strip(), "3",
             "forks under max-processes 4")
    T.wait_until(lambda: not uid_procs(tw.pw_uid), 10,
                 "the forks' children gone")

    # the timeout kills what it detached, though it is another user's
    res = call(p, sid, "hold", {})
    check(res.get("isError") is True, "hold past its timeout: %r" % res)
    T.wait_until(lambda: not uid_procs(tw.pw_uid), 10,
                 "no process of %s left after the timeout" % tw.pw_name)

    # the shepherd SIGKILLed: the runner kills the orphans
    results = {}

    def bg():
        try:
            results["r"] = call(p, sid, "hold_long", {})
        except Exception as e:  # noqa: looked at below
            results["e"] = e
    th = threading.Thread(target=bg, daemon=True)
    mark = d.log_mark()
    th.start()
    procs = T.wait_until(lambda: len(uid_procs(tw.pw_uid)) >= 2 and
                         uid_procs(tw.pw_uid), 10, "the hold tool's processes")
    shep = [pid for pid in T.descendants(d.pid)
            if "runner: tool hold_long" in T.proc_title(pid)]
    check_eq(len(shep), 1, "the shepherd of hold")
    os.kill(shep[0], signal.SIGKILL)
    T.wait_until(lambda: not uid_procs(tw.pw_uid), 10,
                 "no process of %s left after its shepherd died (%r)" %
                 (tw.pw_name, procs))
    th.join(15)
    check("r" in results and results["r"].get("isError"),
          "the call of a run whose shepherd died: %r" % results)
    d.wait_log(r"killed \d+ process(es)? of runs whose shepherd is gone",
               since=mark)
    d.stop()


class DaemonAs(T.Daemon):
    """mcpd started as pw, not root."""

    def __init__(self, pw, **kw):
        self.as_pw = pw
        T.Daemon.__init__(self, **kw)
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        # the build may be where pw cannot go (a clone in a 0700 dir)
        self.binary = os.path.join(self.dir, "mcpd")
        shutil.copy(T.MCPD, self.binary)
        os.chmod(self.binary, 0o755)

    def _popen(self, args):
        pw = self.as_pw

        def become():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        if self.logf is not None:
            self.logf.close()
        self.logf = open(self.logpath, "ab")
        return subprocess.Popen(
            [self.binary] + args + ["-c", self.conf],
            stdin=subprocess.DEVNULL,
            stdout=self.logf, stderr=self.logf, env=self.env, cwd=self.dir,
            start_new_session=True, close_fds=True, preexec_fn=become)


def test_not_root():
    """Not started as root, user is ignored with a warning and mcpd runs
    as it is (as nginx does)."""
    pw = make_user("h")
    other = make_user("i")
    d = DaemonAs(pw, keys={"workers": "1", "user": other.pw_name})
    d.extra = """
session-responses json
tool "id" {
	description "id"
	command "/usr/bin/id" "-u"
	user "%s"
}
""" % other.pw_name
    d.write_conf()
    d.start()
    d.wait_log(r"supervisor: user %s: ignored: mcpd does not run as root, "
               r"so workers, agent and runner stay uid %d gid %d" %
               (other.pw_name, pw.pw_uid, pw.pw_gid))
    for name, pid in d.pids().items():
        s = status(pid)
        check_eq(s["Uid"], [pw.pw_uid] * 4, "%s uid" % name)
        check_eq(s["CapEff"], 0, "%s capabilities" % name)
    # a tool of another user cannot start, and says why
    sid, _ = init(d.http_port)
    res = call(d.http_port, sid, "id", {})
    check(res.get("isError") is True and
          "cannot run /usr/bin/id as user %s (uid %d, gid %d): Operation "
          "not permitted" % (other.pw_name, other.pw_uid, other.pw_gid)
          in text_of(res), "a tool of another user, not root: %r" % res)
    d.stop()


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("useradd") is None or \
            shutil.which("userdel") is None:
        print("SKIP: test_privsep.py needs root and useradd(8)")
        sys.exit(77)
    T.on_cleanup(remove_users)
    try:
        T.main([test_dropped, test_runner_caps, test_group,
                test_tool_user, test_alert_command, test_check, test_no_user,
                test_failed_drop, test_reload_keeps_user, test_stdio,
                test_not_root])
    finally:
        remove_users()
