"""test_config.py -- mcpd -n / -nv / -V and configuration errors."""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402

EXAMPLE = os.path.join(T.SRCDIR, "etc", "mcpd.conf")
GOLDEN = os.path.join(T.SRCDIR, "tests", "config")


def run(*args, timeout=10, cwd=None):
    try:
        r = subprocess.run([T.MCPD] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise T.TestFailure("mcpd %s did not finish in %d s" %
                            (" ".join(args), timeout))
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


class Scratch(object):
    """A temp dir for config files (removed by the harness)."""

    def __init__(self):
        self.d = T.Daemon(name="scratch")

    def write(self, name, text):
        p = os.path.join(self.d.dir, name)
        with open(p, "w") as f:
            f.write(text)
        return p


def test_example_config():
    check(os.path.exists(EXAMPLE), "%s is missing" % EXAMPLE)
    rc, out, err = run("-n", "-c", EXAMPLE)
    check_eq(rc, 0, "mcpd -n -c %s exit status (stderr %r)" % (EXAMPLE, err))
    check("configuration OK" in err, "mcpd -n says %r, want "
          "'configuration OK'" % err)


def _roundtrip(s, path):
    rc, out1, err = run("-nv", "-c", path)
    check_eq(rc, 0, "mcpd -nv -c %s exit status (stderr %r)" % (path, err))
    p2 = s.write(os.path.basename(path) + ".nv", out1)
    rc, out2, err = run("-nv", "-c", p2)
    check_eq(rc, 0, "mcpd -nv of its own output: exit status (stderr %r)"
             % err)
    if out1 != out2:
        raise T.TestFailure("mcpd -nv output does not re-parse to itself:"
                            "\n--- first\n%s--- second\n%s" % (out1, out2))
    return out1


def test_print_roundtrip():
    s = Scratch()
    out = _roundtrip(s, EXAMPLE)
    for key in ("workers", "max-connections", "worker-connections",
                "pidfile", "control-socket", "log-file", "strategy",
                "restart-intensity", "restart-period", "throttle-min",
                "throttle-max", "throttle-reset", "ready-timeout",
                "drain-timeout", "auto-shutdown", "listen http",
                "listen admin", "worker {", "agent {", "runner {"):
        check(re.search(r"^%s(?=\s)" % re.escape(key), out, re.M),
              "mcpd -nv does not print %r:\n%s" % (key, out))
    # every key set to something else than its default, durations in all
    # units, quoted paths with odd bytes
    p = s.write("all.conf", """\
workers 3
max-connections 500
worker-connections 77
pidfile "/tmp/some dir/mcpd \\"x\\".pid"
control-socket "/tmp/mcpd-test.sock"
log-file "/tmp/mcpd.log"
strategy rest_for_one
restart-intensity 7
restart-period 90s
throttle-min 250ms
throttle-max 2m
throttle-reset 1h
ready-timeout 1500ms
drain-timeout 3s
auto-shutdown any_significant
listen http ::1 port 9000
listen http * port 9001 auth none
listen admin 127.0.0.1 port 9002
worker {
	restart transient
	shutdown-timeout 500ms
	significant yes
}
agent {
	restart temporary
}
runner {
	shutdown-timeout 1m
}
""")
    out = _roundtrip(s, p)
    for line in ("workers 3", "max-connections 500", "worker-connections 77",
                 'pidfile "/tmp/some dir/mcpd \\"x\\".pid"',
                 "strategy rest_for_one", "restart-period 90s",
                 "throttle-min 250ms", "throttle-max 2m",
                 "throttle-reset 1h", "ready-timeout 1500ms",
                 "drain-timeout 3s", "auto-shutdown any_significant",
                 "listen http ::1 port 9000", "listen http * port 9001 auth none",
                 "listen admin 127.0.0.1 port 9002",
                 "\trestart transient", "\tshutdown-timeout 500ms",
                 "\tsignificant yes", "\trestart temporary",
                 "\tshutdown-timeout 1m"):
        check(line in out.splitlines(), "mcpd -nv lost %r:\n%s" % (line, out))


# (file text, [(line, message regex), ...]) -- each must be reported as
# "FILE:LINE: message", in this order, and nothing else.
BROKEN = {
    "unknown-key": ("workers 2\n\nfrobnicate 3\n",
                    [(3, r'unknown keyword "frobnicate"')]),
    "no-unit": ("workers 2\ndrain-timeout 10\n",
                [(2, r"drain-timeout: duration needs a unit")]),
    "range": ("# a comment\nworkers 0\n",
              [(2, r"workers: 0 is out of range 1\.\.256")]),
    "dup": ("workers 2\nstrategy one_for_one\n\nworkers 3\n",
            [(4, r"workers: already set on line 1")]),
    "enum": ("strategy one-for-all\n",
             [(1, r'strategy: "one-for-all" is not one of')]),
    "string": ('workers 1\npidfile "/tmp/x.pid\n',
               [(2, r"unterminated string")]),
    "address": ("listen http 127.0.0.300 port 80\n",
                [(1, r'listen: invalid address "127\.0\.0\.300"')]),
    "brace": ("workers 1\nworker {\n\trestart transient\n",
              [(2, r'worker: missing "}" at the end of the block')]),
    "relative": ("log-file relative.log\n",
                 [(1, r'log-file: "relative\.log" is not an absolute path')]),
    "several": ("workers x\nthrottle-min 5s\nthrottle-max 1s\n"
                "ready-timeout 0s\n",
                [(1, r'workers: invalid number "x"'),
                 (4, r"ready-timeout: 0s is out of range 1ms\.\.24h"),
                 (3, r"throttle-min 5s is greater than throttle-max 1s")]),
}


def _expect_errors(path, err, want):
    lines = [l for l in err.splitlines() if l.strip()]
    check_eq(len(lines), len(want), "number of error lines in %r" % err)
    for got, (line, rx) in zip(lines, want):
        prefix = "%s:%d: " % (path, line)
        check(got.startswith(prefix),
              "error %r should start with %r" % (got, prefix))
        check(re.search(rx, got[len(prefix):]),
              "error %r does not match /%s/" % (got, rx))


def test_broken_configs():
    s = Scratch()
    for name, (text, want) in sorted(BROKEN.items()):
        p = s.write(name + ".conf", text)
        rc, out, err = run("-n", "-c", p)
        check_eq(rc, 1, "%s: mcpd -n exit status (stderr %r)" % (name, err))
        _expect_errors(p, err, want)
    # an error in an included file names that file and its line
    s.write("inc.conf", "workers 2\n\nmax-connections lots\n")
    p = s.write("top.conf", "# top\ninclude \"inc.conf\"\nworkers 3\n")
    rc, out, err = run("-n", "-c", p)
    check_eq(rc, 1, "include: exit status (stderr %r)" % err)
    inc = os.path.join(s.d.dir, "inc.conf")
    lines = err.splitlines()
    check_eq(len(lines), 2, "include: error lines %r" % err)
    check(lines[0].startswith("%s:3: max-connections: invalid number "
                              '"lots"' % inc), "include: %r" % lines[0])
    check(lines[1].startswith("%s:3: workers: already set at %s:1" %
                              (p, inc)), "include: %r" % lines[1])
    # a file that is not there
    missing = os.path.join(s.d.dir, "no-such.conf")
    rc, out, err = run("-n", "-c", missing)
    check_eq(rc, 1, "missing file: exit status")
    check(missing in err, "missing file: stderr %r does not name it" % err)


def test_broken_config_refuses_start():
    """The daemon itself (not -n) refuses a broken file before it takes
    the pidfile or binds anything."""
    d = T.Daemon(name="broken")
    text = d.conf_text() + "workers 2\n"   # workers twice
    d.write_conf(text)
    line = len(text.splitlines())
    rc, out, err = run("-f", "-c", d.conf, cwd=d.dir)
    check_eq(rc, 1, "mcpd -f with a broken config: exit status")
    check(re.search(r"^%s:%d: workers: already set on line \d+$" %
                    (re.escape(d.conf), line), err, re.M),
          "stderr %r lacks %s:%d: workers: already set" % (err, d.conf, line))
    check(not os.path.exists(d.pidfile), "a pidfile was left behind")
    check(not os.path.exists(d.sock), "a control socket was left behind")


def _rundir():
    s = Scratch()
    p = s.write("empty.conf", "")
    rc, out, err = run("-nv", "-c", p)
    check_eq(rc, 0, "empty config: exit status")
    m = re.search(r'^pidfile "(.*)/mcpd\.pid"$', out, re.M)
    check(m, "no default pidfile in %r" % out)
    return m.group(1)


def test_golden_files():
    """The parser's golden files, through the binary this time."""
    check(os.path.isdir(GOLDEN), "%s is missing" % GOLDEN)
    rundir = _rundir()
    prefix = GOLDEN + "/"
    names = sorted(os.listdir(GOLDEN))
    n = 0
    s = Scratch()
    for name in names:
        base, ext = os.path.splitext(name)
        if ext != ".conf":
            continue
        path = prefix + name
        if base.startswith("err-") and base + ".err" in names:
            with open(prefix + base + ".err") as f:
                want = f.read()
            rc, out, err = run("-n", "-c", path)
            check_eq(rc, 1, "%s: exit status" % name)
            got = err.replace(prefix, "")
            if got != want:
                raise T.TestFailure("%s: stderr differs:\n--- got\n%s--- want"
                                    "\n%s" % (name, got, want))
            n += 1
        elif base.startswith("ok-") and base + ".out" in names:
            with open(prefix + base + ".out") as f:
                want = f.read().replace("@rundir@", rundir)
            with open(path) as f:
                deployed = "files of a deployed node" in f.readline()
            rc, out, err = run("-nv", "-c", path)
            if deployed:
                # check_conf parses it; here the files it names are not
                # there, and that is all mcpd may say
                lines = err.splitlines()
                check(rc == 1 and lines and all(
                    "No such file or directory" in x for x in lines),
                    "%s: only its missing files: %r" % (name, err))
                n += 1
                continue
            check_eq(rc, 0, "%s: exit status (stderr %r)" % (name, err))
            got = out.replace(prefix, "")
            if got != want:
                raise T.TestFailure("%s: -nv differs:\n--- got\n%s--- want"
                                    "\n%s" % (name, got, want))
            _roundtrip(s, path)
            n += 1
    check(n >= 10, "only %d golden files found in %s" % (n, GOLDEN))
    T.info("%d golden files" % n)


def test_version():
    rc, out, err = run("-V")
    check_eq(rc, 0, "mcpd -V exit status")
    want = None
    ac = os.path.join(T.SRCDIR, "configure.ac")
    if os.path.exists(ac):
        with open(ac) as f:
            m = re.search(r"AC_INIT\(\[mcpd\],\s*\[([^\]]+)\]", f.read())
        if m:
            want = m.group(1)
    check(re.match(r"^mcpd \d+\.\d+\S*\n$", out), "mcpd -V printed %r" % out)
    if want:
        check_eq(out.strip(), "mcpd " + want, "mcpd -V")


def test_usage():
    for args in (["-x"], ["-c"], ["-n", "-c", EXAMPLE, "extra"]):
        rc, out, err = run(*args)
        check_eq(rc, 1, "mcpd %s: exit status" % " ".join(args))
        check("usage: mcpd" in err, "mcpd %s: no usage on stderr: %r" %
              (" ".join(args), err))


if __name__ == "__main__":
    T.main([test_example_config, test_print_roundtrip, test_broken_configs,
            test_broken_config_refuses_start, test_golden_files,
            test_version, test_usage])
