"""test_cli.py -- the command lines of mcpd, mcpctl and mcpbench:
--help and --version (on the standard output, exit 0), usage errors that
name what was wrong (exit 2), mcpctl -c with a file that is not there,
and one spelling of the alert tier in every --json output."""

import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402
from test_mcpbench import MCPBENCH  # noqa: E402

PROGRAMS = (("mcpd", T.MCPD), ("mcpctl", T.MCPCTL), ("mcpbench", MCPBENCH))


def run(*argv):
    r = subprocess.run(list(argv), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


def test_help_and_version():
    for name, path in PROGRAMS:
        for flag in ("--help", "-h"):
            rc, out, err = run(path, flag)
            check_eq(rc, 0, "%s %s: exit status" % (name, flag))
            check(out.startswith("usage: %s" % name) and len(
                out.splitlines()) > 5, "%s %s: the usage and the options "
                "on the standard output: %r" % (name, flag, out[:200]))
            check_eq(err, "", "%s %s: nothing on the standard error" %
                     (name, flag))
        for flag in ("--version", "-V"):
            rc, out, err = run(path, flag)
            check_eq(rc, 0, "%s %s: exit status" % (name, flag))
            check(out.startswith(name + " ") and out.count("\n") == 1 and
                  out.split()[1][0].isdigit(),
                  "%s %s: %r" % (name, flag, out))


def test_usage_errors_name_the_mistake():
    # mcpctl's usage errors exit 2; mcpd's 1, its start-up failure
    for argv, want, status in (
            ([T.MCPCTL, "frobnicate"], 'unknown command "frobnicate"', 2),
            ([T.MCPCTL, "status", "--jsn"], 'status: unexpected argument '
             '"--jsn"', 2),
            ([T.MCPCTL, "status", "--json", "x"], 'status: unexpected '
             'argument "x"', 2),
            ([T.MCPCTL, "reload", "now"], 'reload: unexpected argument '
             '"now"', 2),
            ([T.MCPCTL, "token", "old"], 'token: unknown subcommand "old"',
             2),
            ([T.MCPCTL], "no command", 2),
            ([T.MCPD, "extra"], 'unexpected argument "extra"', 1)):
        rc, out, err = run(*argv)
        name = " ".join(os.path.basename(a) for a in argv)
        check_eq(rc, status, "%s: exit status" % name)
        check(want in err and "usage:" in err,
              "%s: names the mistake (%r) before the usage: %r" %
              (name, want, err[:300]))


def test_ctl_missing_config_file():
    """mcpctl -c FILE with FILE not there is an error -- even with a
    daemon listening where the default would have led it."""
    d = T.Daemon()
    d.start()
    try:
        missing = os.path.join(d.dir, "nonexistent.conf")
        rc, out, err = run(T.MCPCTL, "-c", missing, "status")
        check_eq(rc, 2, "exit status")
        check(missing in err and "No such file" in err,
              "the file named: %r" % err)
        check_eq(out, "", "nothing printed on the standard output")
        # the file there: fine
        rc, out, err = run(T.MCPCTL, "-c", d.conf, "status")
        check_eq(rc, 0, "mcpctl -c with the daemon's file: %s" % err)
    finally:
        d.stop()


def test_alert_tier_spelled_once():
    """status --json and stats --json give the tier the same way: its
    name and its number (that of mcpd_alert_tier)."""
    d = T.Daemon()
    d.start()
    try:
        st = d.status()
        rc, out, err = d.ctl("stats", "--json")
        check_eq(rc, 0, "stats --json: %s" % err)
        stats = json.loads(out)
        for what, a in (("status", st["alert"]), ("stats", stats["alert"])):
            check_eq((a["tier"], a["level"], a["shedding"]),
                     ("green", 0, False), "%s --json alert" % what)
        check("alert_tier" not in stats, "no second spelling in stats")
    finally:
        d.stop()


def test_public_healthz():
    """The default (healthz admin): /healthz on the MCP port says it is
    ok and nothing else -- no pid, no figures; on the admin port the
    worker's figures."""
    d = T.Daemon(keys={"healthz": None})
    d.start()
    try:
        r = T.http_get(d.http_port, "/healthz")
        check_eq((r.status, r.json()), (200, {"status": "ok"}),
                 "/healthz on the http listener")
        j = T.http_get(d.admin_port, "/healthz").json()
        check(j["status"] == "ok" and j["pid"] in d.worker_pids().values(),
              "/healthz on the admin listener: %r" % j)
    finally:
        d.stop()


def test_ctl_completion():
    """etc/bash-completion/mcpctl, as bash runs it"""
    path = os.path.join(T.SRCDIR, "etc", "bash-completion", "mcpctl")

    def complete(*words):
        script = ('source "%s"; COMP_WORDS=(%s); COMP_CWORD=%d; _mcpctl; '
                  'echo "${COMPREPLY[*]}"' % (
                      path, " ".join("'%s'" % w for w in words),
                      len(words) - 1))
        r = subprocess.run(["bash", "--norc", "-c", script],
                           capture_output=True, timeout=10)
        check_eq(r.stderr, b"", "bash: %r" % (words,))
        return sorted(r.stdout.decode().split())
    for words, want in ((("mcpctl", "st"), ["stats", "status", "stop"]),
                        (("mcpctl", ""), ["cluster", "reload", "stats",
                                          "status", "stop", "token"]),
                        (("mcpctl", "-s", "/x", "sta"), ["stats", "status"]),
                        (("mcpctl", "status", "--"), ["--json"]),
                        (("mcpctl", "token", ""), ["new"]),
                        (("mcpctl", "token", "new", "n", "--s"),
                         ["--scope"]),
                        (("mcpctl", "--v"), ["--version"])):
        check_eq(complete(*words), want, "completion of %r" % (words,))


if __name__ == "__main__":
    T.main([test_help_and_version, test_usage_errors_name_the_mistake,
            test_ctl_missing_config_file, test_alert_tier_spelled_once,
            test_public_healthz, test_ctl_completion])
