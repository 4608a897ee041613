"""test_reload.py -- SIGHUP and mcpctl reload: broken files, worker count
changes, new generations, listener changes."""

import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402


def broken(d):
    """The running config plus a bad line; returns (line, message rx)."""
    text = d.conf_text() + "\ndrain-timeout 10\n"
    d.write_conf(text)
    return len(text.splitlines()), r"drain-timeout: duration needs a unit"


def same_everything(d, before, what):
    st = d.status()
    check_eq(d.pids(st), before, "pids after %s" % what)
    check_eq(st["state"], "running", "state after %s" % what)
    check_eq(st["generation"], 1, "generation after %s" % what)
    for _ in range(4):
        j = d.healthz()
        check(j["pid"] in before.values(), "healthz pid %d after %s" %
              (j["pid"], what))
        check_eq(j["generation"], 1, "healthz generation after %s" % what)


def test_hup_broken_config():
    d = T.Daemon()
    d.start()
    before = d.pids()
    good = d.conf_text()
    line, rx = broken(d)
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"supervisor: reload: %s:%d: %s" % (re.escape(d.conf), line,
                                                    rx), since=mark)
    d.wait_log(r"supervisor: reload: %s has errors; keeping the running "
               r"configuration" % re.escape(d.conf), since=mark)
    same_everything(d, before, "a broken SIGHUP")
    # the file fixed, the same as before: nothing to do
    d.write_conf(good)
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"supervisor: reload: configuration unchanged", since=mark)
    same_everything(d, before, "an unchanged SIGHUP")
    check_eq(d.stop(), 0, "exit status")


def test_ctl_reload_broken_config():
    d = T.Daemon()
    d.start()
    before = d.pids()
    good = d.conf_text()
    line, rx = broken(d)
    rc, out, err = d.ctl("reload")
    check_eq(rc, 1, "mcpctl reload of a broken file: exit status")
    check(re.search(r"^%s:%d: %s" % (re.escape(d.conf), line, rx), err, re.M),
          "mcpctl reload stderr %r lacks %s:%d: ..." % (err, d.conf, line))
    check_eq(out, "", "mcpctl reload stdout")
    same_everything(d, before, "a broken mcpctl reload")
    # several errors: every one of them, each with its line
    text = good + "workers lots\nfrobnicate\nstrategy none\n"
    d.write_conf(text)
    n = len(good.splitlines())
    rc, out, err = d.ctl("reload")
    check_eq(rc, 1, "mcpctl reload of a file with 3 errors: exit status")
    lines = err.strip().splitlines()
    check_eq([re.match(r"^(.*):(\d+): ", l) and
              (re.match(r"^(.*):(\d+): ", l).group(1),
               int(re.match(r"^(.*):(\d+): ", l).group(2))) for l in lines],
             [(d.conf, n + 1), (d.conf, n + 2), (d.conf, n + 3)],
             "file:line of the errors in %r" % err)
    # unchanged
    d.write_conf(good)
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "mcpctl reload of the unchanged file (stderr %r)" % err)
    check_eq(out.strip(), "configuration unchanged", "mcpctl reload stdout")
    # comments, blank lines and the order of keys do not make a change
    # either (the order of listen lines does: it is the listeners' order)
    lines = good.splitlines()
    keys = [l for l in lines if not l.startswith(("listen", "#"))]
    listens = [l for l in lines if l.startswith("listen")]
    d.write_conf("# a comment\n\n" + "\n".join(list(reversed(keys)) +
                                                 ["   # more", ""] + listens) +
                 "\n")
    rc, out, err = d.ctl("reload")
    check_eq((rc, out.strip()), (0, "configuration unchanged"),
             "mcpctl reload of the same keys in another order")
    same_everything(d, before, "unchanged reloads")
    check_eq(d.stop(), 0, "exit status")


def test_workers_resize():
    d = T.Daemon(keys={"workers": "2"})
    st = d.start()
    before = d.pids(st)
    d.set_keys(workers="4")
    mark = d.log_mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"supervisor: reloaded: workers 2 -> 4", since=mark)
    st = d.wait_ready(workers=4)
    now = d.pids(st)
    for n in ("supervisor", "agent", "runner", "worker 0", "worker 1"):
        check_eq(now[n], before[n], "%s pid after 2 -> 4" % n)
    check(len(set(now.values())) == 7, "pids %r" % now)
    check_eq(st["workers"], 4, "status workers")
    for p in st["processes"]:
        check_eq(p["generation"], 1, "%s %d generation" % (p["role"],
                                                            p["index"]))
    # the new ones serve (the kernel spreads the connections: load until
    # each has answered, however long a busy machine takes)
    seen = T.workers_answering(d.http_port, {0, 1, 2, 3}, timeout=10)
    check_eq(seen, {0, 1, 2, 3}, "workers that answered")
    new = [now["worker 2"], now["worker 3"]]

    # 4 -> 2 with mcpctl: workers 2 and 3 stop, 0 and 1 stay
    d.set_keys(workers="2")
    mark = d.log_mark()
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "mcpctl reload 4 -> 2 (stderr %r)" % err)
    check_eq(out.strip(), "reloaded: workers 4 -> 2", "mcpctl reload stdout")
    st = d.wait_ready(workers=2)
    left = T.wait_gone(new, 10)
    check(not left, "workers 2 and 3 still running: %r" % left)
    for i in (3, 2):
        d.wait_log(r"supervisor: worker %d: stopping, 2 workers wanted" % i,
                   since=mark)
        d.wait_log(r"supervisor: worker %d \(pid %d, generation 1\) exited "
                   r"with status 0" % (i, now["worker %d" % i]), since=mark)
    check_eq(d.pids(st), before, "pids after 4 -> 2")
    check_eq([p["index"] for p in d.rows(st, "worker")], [0, 1],
             "worker rows")
    # workers 2 and 3 are gone (above): 0 and 1 answer, nobody else
    seen = T.workers_answering(d.http_port, {0, 1}, timeout=10)
    check_eq(seen, {0, 1}, "workers that answered after 4 -> 2")
    check_eq(d.stop(), 0, "exit status")


def park_half_requests(d, indexes, rounds=20, batch=6):
    """Half-sent requests until each worker in indexes holds one (they keep
    it draining until drain-timeout).  Returns the connections."""
    conns = []
    busy = {}
    for _ in range(rounds):
        for _ in range(batch):
            c = T.HttpConn(d.http_port)
            c.send(b"GET /healthz HTTP/1.1\r\n")
            conns.append(c)
        time.sleep(0.05)
        st = d.status()
        busy = {p["index"]: p["connections"] for p in d.rows(st, "worker")}
        if all(busy.get(i) for i in indexes):
            return conns
    raise T.TestFailure("could not get a request into workers %r: "
                        "connections %r" % (indexes, busy))


def regrow(d, small, big, parked):
    """big -> small while the parked workers drain, then back to big
    before they are gone."""
    mark = d.log_mark()
    d.set_keys(workers=str(small))
    rc, out, err = d.ctl("reload")
    check_eq((rc, out.strip()), (0, "reloaded: workers %d -> %d" %
                                 (big, small)), "mcpctl reload (%r)" % err)
    time.sleep(0.1)
    st = d.status()
    for i in parked:
        check(any(p["index"] == i and p["state"] == "draining"
                  for p in d.rows(st, "worker")),
              "worker %d is not draining: %r" % (i, d.rows(st, "worker")))
    d.set_keys(workers=str(big))
    rc, out, err = d.ctl("reload")
    check_eq((rc, out.strip()), (0, "reloaded: workers %d -> %d" %
                                 (small, big)), "mcpctl reload (%r)" % err)
    for i in parked:
        d.wait_log(r"worker %d: drain deadline passed" % i, since=mark,
                   timeout=10)
    # once the drained workers have exited (under ASan an exit takes a
    # while): one ready row per worker, nothing else
    want = [(i, "ready") for i in range(big)]
    last = []

    def rows_settled():
        st = d.status()
        last[:] = [(p["index"], p["state"]) for p in d.rows(st, "worker")]
        return st if last == want else None
    try:
        return T.wait_until(rows_settled, 10, "worker rows %r" % want,
                            interval=0.1)
    except T.TestFailure:
        check_eq(last, want, "worker rows once the removed workers have "
                 "drained")
        raise


def test_workers_regrow_while_draining():
    """3 -> 2 -> 3 while the removed worker 2 still drains: a new worker 2
    starts (at once or when the old one is gone)."""
    d = T.Daemon(keys={"workers": "3", "drain-timeout": "1s"})
    st = d.start()
    old2 = d.pids(st)["worker 2"]
    conns = park_half_requests(d, [2])
    try:
        st = regrow(d, 2, 3, [2])
        check(d.pids(st)["worker 2"] != old2, "worker 2 is the old process")
        check_eq(st["workers"], 3, "status workers")
    finally:
        for c in conns:
            c.close()
    check_eq(d.stop(), 0, "exit status")


def test_workers_regrow_two_while_draining():
    """4 -> 2 -> 4 while the removed workers 2 and 3 still drain: in the
    end one row per worker 0..3, no stale member left behind."""
    d = T.Daemon(keys={"workers": "4", "drain-timeout": "1s"})
    d.start()
    conns = park_half_requests(d, [2, 3])
    try:
        regrow(d, 2, 4, [2, 3])
    finally:
        for c in conns:
            c.close()
    check_eq(d.stop(), 0, "exit status")


def test_new_generation_under_load():
    d = T.Daemon(keys={"workers": "2", "drain-timeout": "10s"})
    st = d.start()
    before = d.pids(st)
    old_workers = [before["worker 0"], before["worker 1"]]
    loop = T.ClientLoop(d.http_port, threads=4).start()

    def answered(pred, what):
        def some():
            with loop.lock:
                return [o for o in loop.ok if pred(o)]
        return T.wait_until(some, 10, what)
    try:
        answered(lambda o: o[4] == 1, "an answer of generation 1")
        d.set_keys(drain_timeout="3s")
        t0 = time.monotonic()
        rc, out, err = d.ctl("reload")
        check_eq(rc, 0, "mcpctl reload (stderr %r)" % err)
        check_eq(out.strip(), "reloaded: generation 2, 2 workers",
                 "mcpctl reload stdout")
        st = d.wait_ready(generation=2)
        # they drain for at most drain-timeout (3 s), from when their
        # successors were ready
        left = T.wait_gone(old_workers, 3.0 + 5.0)
        t1 = time.monotonic()
        answered(lambda o: o[0] > t1, "an answer begun after generation 1 "
                 "was gone")
        time.sleep(0.1)
    finally:
        loop.stop()
    T.info("client loop: %s; generation 2 in %.3f s" % (loop.summary(),
                                                         t1 - t0))
    check(not left, "old workers still running: %r" % left)
    # a few answers, none refused or failed: how many the client managed
    # says how much CPU it got, not what mcpd does
    check(len(loop.ok) >= 10, "only %d requests" % len(loop.ok))
    check(not loop.refused, "%d connections refused during the reload" %
          len(loop.refused))
    # a draining worker answers what it accepted, even a connection whose
    # first request had not arrived yet: nothing fails during a reload
    check(not loop.errors, "%d requests failed during the reload: %r" %
          (len(loop.errors), loop.errors[:5]))
    gens = sorted(set(o[4] for o in loop.ok))
    check_eq(gens, [1, 2], "generations that answered the loop")
    check(all(o[4] == 2 for o in loop.ok if o[0] > t1),
          "generation 1 answered after it was gone")
    st = d.status()
    now = d.pids(st)
    check_eq(st["generation"], 2, "daemon generation")
    for n in ("supervisor", "agent", "runner"):
        check_eq(now[n], before[n], "%s pid" % n)
    for n in ("worker 0", "worker 1"):
        check(now[n] != before[n], "%s kept pid %d" % (n, before[n]))
    for p in st["processes"]:
        want = 1 if p["role"] in ("agent", "runner") else 2
        check_eq(p["generation"], want, "%s %d generation" %
                 (p["role"], p["index"]))
        check(p["state"] != "retiring", "a retiring process is left")
    for _ in range(6):
        j = d.healthz()
        check_eq(j["generation"], 2, "healthz generation")
        check(j["pid"] in (now["worker 0"], now["worker 1"]),
              "healthz pid %d" % j["pid"])
    d.wait_log(r"supervisor: reloaded: generation 2, 2 workers")
    for i, pid in enumerate(old_workers):
        d.wait_log(r"supervisor: worker %d \(pid %d, generation 1\) exited "
                   r"with status 0 after [\d.]+ s \(retired generation\)" %
                   (i, pid))
    check_eq(d.stop(), 0, "exit status")


def test_listen_port_change():
    d = T.Daemon(keys={"workers": "2", "drain-timeout": "2s"})
    d.start()
    old_port = d.http_port
    before = d.pids()
    # a port that something else holds: the reload fails, nothing changes
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        tport = taken.getsockname()[1]
        d.write_conf(d.conf_text(http_port=tport))
        rc, out, err = d.ctl("reload")
        check_eq(rc, 1, "reload onto a taken port: exit status")
        check(re.search(r"listen http 127\.0\.0\.1 port %d: Address already "
                        r"in use" % tport, err),
              "reload onto a taken port: stderr %r" % err)
    finally:
        taken.close()
    check_eq(d.pids(), before, "pids after the failed reload")
    check_eq(d.healthz(old_port)["generation"], 1, "old port after the "
             "failed reload")
    # a free port
    new_port = T.free_port()
    d.http_port = new_port
    d.write_conf()
    mark = d.log_mark()
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "reload onto port %d (stderr %r)" % (new_port, err))
    d.wait_ready(generation=2)
    T.wait_gone([before["worker 0"], before["worker 1"]], 5)
    j = d.healthz(new_port)
    check_eq(j["generation"], 2, "healthz generation on the new port")

    def refused():
        try:
            T.http_get(old_port, timeout=1)
            return False
        except ConnectionRefusedError:
            return True
    T.wait_until(refused, 10, "port %d refused after the change" % old_port)
    check_eq(d.healthz(d.admin_port)["generation"], 2,
             "healthz on the unchanged admin port")
    check(d.log_lines(r"reloaded: generation 2", since=mark),
          "no 'reloaded' line")
    check_eq(d.stop(), 0, "exit status")


if __name__ == "__main__":
    T.main([test_hup_broken_config, test_ctl_reload_broken_config,
            test_workers_resize, test_workers_regrow_while_draining,
            test_workers_regrow_two_while_draining,
            test_new_generation_under_load,
            test_listen_port_change])
