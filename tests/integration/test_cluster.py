#!/usr/bin/env python3
"""The cluster block (DESIGN 9), against real redis-server and
redis-sentinel processes of each test's own (127.0.0.1, free ports, temp
dirs, no persistence; removed however the test ends): a node joins with an
epoch and keeps a liveness key; ids carry the node's name and the key id;
nodes sharing the cluster key open each other's requestState; a Redis that
stalls, dies or loses its data is noticed, alerted on and followed when it
comes back; a second process with a node's id fences the first; a replica
is never written to; Sentinel names the primary; the key file rotates on a
reload, and an old key stops opening at its date."""

import base64
import http.client
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
ACCEPT = "application/json, text/event-stream"
V = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {
            "elicitation": {}}}
TASKS_META = {"io.modelcontextprotocol/protocolVersion": V,
              "io.modelcontextprotocol/clientCapabilities": {
                  "extensions": {"io.modelcontextprotocol/tasks": {}}}}
K1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
K2 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
K3 = "0b5cf27c0cb3cbcf4b9e8b1a4b16b7a3f1b4e3c9a5d2e7f8091a2b3c4d5e6f70"


def key_file(d, text, mode=0o600):
    path = os.path.join(d.dir, "cluster.key")
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", mode)
    os.rename(path + ".tmp", path)
    return path


def node(name, redis=None, sentinels=None, key=None, extra_keys=None,
         timeout="500ms", ttl="3s", start=True, auth=None, extra=""):
    """A cluster node with the conformance plugin; key: the key file's
    text (K1 as key 1 when None); extra: more configuration (a
    catalog)."""
    k = {"workers": "2", "plugin": '"%s"' % PLUGIN}
    k.update(extra_keys or {})
    d = T.Daemon(keys=k, name="node-" + name)
    path = key_file(d, key if key is not None else "1 %s\n" % K1)
    where = ("redis 127.0.0.1:%d" % redis.port if redis is not None else
             "sentinel " + " ".join("127.0.0.1:%d" % s.port
                                   for s in sentinels))
    if auth is not None:
        pw = os.path.join(d.dir, "redis.password")
        with open(pw, "w") as f:
            f.write(auth[1] + "\n")
        where += ("\n\tredis-user %s\n\tredis-password-file %s" %
                  (auth[0], pw))
    d.extra = ("cluster {\n\tnode %s\n\t%s\n\tkey-file %s\n"
               "\tredis-timeout %s\n\tnode-ttl %s\n}\n" %
               (name, where, path, timeout, ttl)) + extra
    d.write_conf()
    if start:
        d.start()
    return d


def cluster(d):
    rc, out, err = d.ctl("cluster", "--json")
    check_eq(rc, 0, "mcpctl cluster: %s" % err)
    return json.loads(out)


def wait_cluster(d, pred, timeout, what):
    last = [None]

    def ok():
        last[0] = cluster(d)
        return pred(last[0])
    try:
        T.wait_until(ok, timeout, what, interval=0.1)
    except T.TestFailure:
        raise T.TestFailure("%s; last: %s" % (what, last[0]))
    return last[0]


def post(port, b, sid=None, version=None, extra=None):
    h = {"Content-Type": "application/json", "Accept": ACCEPT,
         "Host": "127.0.0.1:%d" % port}
    if version:
        h["MCP-Protocol-Version"] = version
    if sid:
        h["Mcp-Session-Id"] = sid
    if version == V:
        h["Mcp-Method"] = b["method"]
        if b["method"] == "tools/call":
            h["Mcp-Name"] = b["params"]["name"]
    h.update(extra or {})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/mcp", json.dumps(b).encode(), h)
    r = c.getresponse()
    text = r.read().decode()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    if hdrs.get("content-type", "").startswith("text/event-stream"):
        msgs = [json.loads(m) for m in re.findall(r"^data: (.+)$", text,
                                                  re.M) if m.strip()]
    elif hdrs.get("content-type", "").startswith("application/json"):
        msgs = [json.loads(text)]
    else:
        msgs = text
    return r.status, hdrs, msgs


def call(port, name, args=None, extra=None, rid=1, meta=None):
    p = {"name": name, "arguments": args or {}, "_meta": meta or META}
    p.update(extra or {})
    return post(port, {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                       "params": p}, version=V)


def initialize(port):
    """A session, begun as a client begins one: initialize, then
    notifications/initialized (a session nothing comes for after its
    initialize ends after session-start-timeout, 10 s)."""
    st, h, msgs = post(port, {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test_cluster", "version": "1"}}})
    check_eq(st, 200, "initialize")
    sid = h["mcp-session-id"]
    st, _, _ = post(port, {"jsonrpc": "2.0",
                           "method": "notifications/initialized"},
                    sid=sid, version="2025-06-18")
    check_eq(st, 202, "notifications/initialized")
    return sid


def ping(port, sid):
    st, _, _ = post(port, {"jsonrpc": "2.0", "id": 2, "method": "ping"},
                    sid=sid, version="2025-06-18")
    return st


def key_id(sid):
    """The key id of a sealed id: byte 3 of what follows the node."""
    b64 = sid.split(".", 1)[-1]
    return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))[3]


def metric(d, name):
    text = T.http_get(d.admin_port, "/metrics").body.decode()
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def test_node_joins():
    r = T.Redis().start()
    d = node("a", redis=r)
    c = wait_cluster(d, lambda c: c["epoch"] == 1 and c["members"],
                     5, "node a has joined")
    check(c["cluster"] and c["node"] == "a" and c["redis"]["up"],
          "mcpctl cluster: %s" % c)
    check_eq(c["redis"]["primary"], "127.0.0.1:%d" % r.port, "the primary")
    check_eq(c["members"], [{"node": "a", "epoch": 1, "records": 0}],
             "the members")
    check_eq(r.cmd("GET", "mcpd:epoch:a"), "1", "the epoch counter")
    check_eq(r.cmd("GET", "mcpd:node:a"), "1", "the liveness key")
    pttl = r.cmd("PTTL", "mcpd:node:a")
    check(0 < pttl <= 3000, "the liveness key expires: %d ms" % pttl)
    check("name=mcpd-a " in r.cmd("CLIENT", "LIST"),
          "the link is named: %s" % r.cmd("CLIENT", "LIST"))
    # the key is set again before it expires
    time.sleep(1.5)
    check(r.cmd("PTTL", "mcpd:node:a") > 1500, "the liveness key renewed")
    sid = initialize(d.http_port)
    check(sid.startswith("a.") and len(sid) == 2 + 48,
          "a session id names its node: %r" % sid)
    check_eq(key_id(sid), 1, "and the key it was sealed with")
    wait_cluster(d, lambda c: c["members"][0]["records"] == 1, 5,
                 "the session it owns, counted")
    check_eq(ping(d.http_port, sid), 200, "the session works")
    check_eq(metric(d, "mcpd_cluster_redis_up"), 1, "mcpd_cluster_redis_up")
    check_eq(metric(d, "mcpd_cluster_epoch"), 1, "mcpd_cluster_epoch")
    check(metric(d, "mcpd_cluster_redis_commands_total") >= 3,
          "commands counted")
    rc, out, _ = d.ctl("cluster")
    check(rc == 0 and "node a, epoch 1" in out and "up" in out,
          "mcpctl cluster as a table: %r" % out)
    d.stop()
    # a node without a cluster block says so
    s = T.Daemon()
    s.start()
    rc, out, _ = s.ctl("cluster", "--json")
    check_eq((rc, json.loads(out)), (0, {"cluster": False}),
             "a single node")
    check_eq(metric(s, "mcpd_cluster_redis_up"), None,
             "no cluster series on a single node")
    s.stop()


def test_nodes_share_the_key():
    """A requestState made on node a opens on node b; a node with another
    key refuses it; both see each other as members."""
    r = T.Redis().start()
    a = node("a", redis=r)
    b = node("b", redis=r)
    st, _, msgs = call(a.http_port,
                       "test_input_required_result_request_state")
    res = msgs[0]["result"]
    check_eq(res["resultType"], "input_required", "round one on a")
    state = res["requestState"]
    want = list(res["inputRequests"].keys())[0]
    extra = {"requestState": state, "inputResponses": {
        want: {"action": "accept", "content": {"ok": True}}}}
    st, _, msgs = call(b.http_port,
                       "test_input_required_result_request_state",
                       extra=extra, rid=2)
    check_eq(st, 200, "round two on b")
    check_eq(msgs[0]["result"]["content"][0]["text"], "state-ok",
             "round two on b answers: %s" % msgs)
    o = node("c", redis=r, key="1 %s\n" % K3)
    st, _, msgs = call(o.http_port,
                       "test_input_required_result_request_state",
                       extra=extra, rid=3)
    check("error" in msgs[0] or msgs[0]["result"].get("isError"),
          "another cluster key refuses the state: %s" % msgs)
    wait_cluster(a, lambda x: sorted(m["node"] for m in x["members"]) ==
                 ["a", "b", "c"], 5, "a sees every member")
    for d in (a, b, o):
        d.stop()


def test_redis_stalls():
    """SIGSTOP: commands time out, the link is down, red after 5 s;
    stateless calls go on; SIGCONT: up again."""
    r = T.Redis().start()
    d = node("a", redis=r)
    wait_cluster(d, lambda c: c["epoch"] == 1, 5, "joined")
    r.pause()
    try:
        c = wait_cluster(d, lambda c: not c["redis"]["up"], 5,
                         "the stall noticed")
        check(c["redis"]["timeouts"] >= 1, "a timeout counted: %s" % c)
        d.wait_log(r"a command had no answer in 500 ms|no answer in 500 ms",
                   timeout=5)
        st, _, msgs = call(d.http_port, "test_simple_text")
        check_eq(st, 200, "a stateless call while redis stalls")

        def red():
            s = d.status()
            return "redis unreachable" in json.dumps(s)
        T.wait_until(red, 10, "the alert tier names redis")
    finally:
        r.resume()
    wait_cluster(d, lambda c: c["redis"]["up"] and
                 c["redis"]["connects"] >= 2, 10, "the link is back")
    T.wait_until(lambda: "redis unreachable" not in json.dumps(d.status()),
                 5, "the alert is over")
    d.stop()


def test_redis_loses_its_data():
    """kill -9 and a new redis-server on the port: the node's keys are
    written again, its epoch kept, not fenced; the lapse is counted."""
    r = T.Redis().start()
    d = node("a", redis=r)
    wait_cluster(d, lambda c: c["epoch"] == 1 and c["members"], 5,
                 "joined")
    port = r.port
    r.stop()
    # the subscriber's or the command connection's end, whichever first
    wait_cluster(d, lambda c: c["redis"]["lost"] >= 1, 5, "the loss seen")
    r2 = T.Redis()
    r2.port = port
    r2.start()
    c = wait_cluster(d, lambda c: c["redis"]["up"] and c["members"], 10,
                     "back with the new redis")
    check_eq((c["epoch"], c["fenced"]), (1, False), "the same epoch")
    check_eq(r2.cmd("GET", "mcpd:node:a"), "1", "the liveness key again")
    check_eq(r2.cmd("GET", "mcpd:epoch:a"), "1", "the epoch again")
    check(c["lapses"] >= 1, "the lapse counted: %s" % c)
    d.stop()


def test_fenced():
    """A second process with node a's id takes a newer epoch: the first
    finds itself fenced and stops claiming liveness."""
    r = T.Redis().start()
    a1 = node("a", redis=r)
    wait_cluster(a1, lambda c: c["epoch"] == 1, 5, "the first joined")
    a2 = node("a", redis=r)
    wait_cluster(a2, lambda c: c["epoch"] == 2, 5, "the second joined")
    c = wait_cluster(a1, lambda c: c["fenced"], 5, "the first fenced")
    check(c["fenced_writes"] >= 1, "a fenced write counted: %s" % c)
    a1.wait_log(r"node a is fenced", timeout=5)
    check_eq(metric(a1, "mcpd_cluster_fenced"), 1, "mcpd_cluster_fenced")
    time.sleep(1.5)
    check_eq(r.cmd("GET", "mcpd:node:a"), "2", "only the second's epoch")
    check_eq(cluster(a2)["fenced"], False, "the second is not fenced")
    a1.stop()
    a2.stop()


def test_never_a_replica():
    """redis pointing at a replica: ROLE says so, nothing is written."""
    r = T.Redis().start()
    rep = T.Redis(name="replica",
                  args=["--replicaof", "127.0.0.1", str(r.port)]).start()
    d = node("a", redis=rep)
    d.wait_log(r"is not a master", timeout=5)
    c = cluster(d)
    check(not c["redis"]["up"] and c["epoch"] == 0, "not joined: %s" % c)
    check_eq(r.cmd("EXISTS", "mcpd:epoch:a"), 0, "nothing written")
    d.stop()


def test_sentinel_failover():
    """SENTINEL FAILOVER: the replica is promoted, the old primary turned
    into a replica with its connections open; the node's next write meets
    READONLY, it asks the Sentinel again and follows the new primary."""
    r1 = T.Redis().start()
    r2 = T.Redis(name="replica",
                 args=["--replicaof", "127.0.0.1", str(r1.port)]).start()
    T.wait_until(lambda: "master_link_status:up" in r2.cmd(
        "INFO", "replication"), 10, "the replica in sync")
    s = Sentinel(r1).start()
    T.wait_until(lambda: s.cmd("SENTINEL", "replicas", "mcpd"), 15,
                 "the sentinel sees the replica")
    d = node("a", sentinels=[s])
    wait_cluster(d, lambda c: c["redis"]["primary"] == "127.0.0.1:%d" %
                 r1.port and c["epoch"] == 1, 10, "on the first primary")
    sid = initialize(d.http_port)
    T.wait_until(lambda: rec_owner(r1, sid) == "a", 5, "recorded")
    # replication is asynchronous: what the primary had not passed on
    # when it was demoted is lost (issue 15: WAIT, min-replicas-to-write)
    T.wait_until(lambda: rec_owner(r2, sid) == "a", 5, "replicated")
    s.cmd("SENTINEL", "FAILOVER", "mcpd")
    c = wait_cluster(d, lambda c: c["redis"]["up"] and c["redis"]
                     ["primary"] == "127.0.0.1:%d" % r2.port, 30,
                     "following the new primary")
    check_eq(c["epoch"], 1, "the same epoch")
    check_eq(rec_owner(r2, sid), "a", "the record made it to the replica")
    check_eq(ping(d.http_port, sid), 200, "the session goes on")
    d.stop()


def test_acl_user():
    """An ACL user with only what docs/CLUSTER.md grants: the node joins
    and beats; a wrong password is said, and nothing is written."""
    r = T.Redis().start()
    r.cmd("ACL", "SETUSER", "mcpd", "on", ">s3cret pw", "~mcpd:*",
          "resetchannels", "&mcpd:*", "+@connection", "+role",
          "+client|setname", "+get", "+set", "+incr", "+hset", "+hmget",
          "+hgetall", "+del", "+pexpire", "+eval", "+publish",
          "+subscribe")
    d = node("a", redis=r, auth=("mcpd", "s3cret pw"))
    c = wait_cluster(d, lambda c: c["epoch"] == 1 and c["members"], 5,
                     "joined as the ACL user")
    check_eq(c["fenced_writes"], 0, "no write refused")
    time.sleep(1.2)
    check(r.cmd("PTTL", "mcpd:node:a") > 1500, "beats as the ACL user")
    check("user=mcpd" in r.cmd("CLIENT", "LIST"), "connected as mcpd")
    d.stop()
    e = node("b", redis=r, auth=("mcpd", "wrong"))
    e.wait_log(r"redis 127\.0\.0\.1:\d+: AUTH: WRONGPASS", timeout=5)
    check_eq(r.cmd("EXISTS", "mcpd:epoch:b"), 0, "nothing written")
    e.stop()


class Sentinel(T.Redis):
    """A redis-sentinel watching primary under master-name mcpd (down
    after 1 s); quorum, and lines of its own (extra)."""

    def __init__(self, primary, quorum=1, extra=""):
        T.Redis.__init__(self, name="sentinel")
        self.primary = primary
        self.quorum = quorum
        self.extra = extra

    def start(self, timeout=10.0):
        conf = os.path.join(self.dir, "sentinel.conf")
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"
                    "sentinel monitor mcpd 127.0.0.1 %d %d\n"
                    "sentinel down-after-milliseconds mcpd 1000\n%s" %
                    (self.port, self.dir, self.logpath, self.primary.port,
                     self.quorum, self.extra))
        exe = (T.shutil.which("redis-sentinel") or
               "/usr/bin/redis-sentinel")
        self.proc = T.subprocess.Popen(
            [exe, conf], stdin=T.subprocess.DEVNULL,
            stdout=T.subprocess.DEVNULL, stderr=T.subprocess.DEVNULL,
            start_new_session=True, close_fds=True)
        T.wait_until(lambda: self._ping(), timeout,
                     "redis-sentinel on port %d answering" % self.port,
                     interval=0.05)
        return self


def test_sentinel_names_the_primary():
    """Sentinels only: the first is not there (its port answers nothing);
    the second names the primary, which the node then uses."""
    r = T.Redis().start()
    s = Sentinel(r).start()
    T.wait_until(lambda: s.cmd("SENTINEL", "get-master-addr-by-name",
                               "mcpd") is not None, 5, "sentinel knows")
    dead = T.Redis(name="nothing")     # a port nobody listens on
    d = node("a", sentinels=[dead, s])
    c = wait_cluster(d, lambda c: c["redis"]["up"] and c["epoch"] == 1,
                     10, "joined through the sentinel")
    check_eq(c["redis"]["primary"], "127.0.0.1:%d" % r.port, "the primary")
    check_eq(r.cmd("GET", "mcpd:epoch:a"), "1", "written to the primary")
    d.stop()


def test_key_rotation():
    """A reload re-reads the key file: the new key seals, the old opens
    until its date, then not; a key file others may read is refused."""
    r = T.Redis().start()
    d = node("a", redis=r)
    s1 = initialize(d.http_port)
    check_eq(key_id(s1), 1, "sealed with key 1")
    key_file(d, "2 %s\n1 %s until %d\n" % (K2, K1, int(time.time()) + 3600))
    mark = d.log_mark()
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "reload: %s %s" % (out, err))
    d.wait_log(r"keys: sealing with key 2 of 2", timeout=5, count=2,
               since=mark)
    s2 = initialize(d.http_port)
    check_eq(key_id(s2), 2, "sealed with key 2 now")
    check_eq(ping(d.http_port, s1), 200, "a session of key 1 goes on")
    check_eq(ping(d.http_port, s2), 200, "a session of key 2")
    # key 1's date has passed: its ids open no more
    key_file(d, "2 %s\n1 %s until %d\n" % (K2, K1, int(time.time()) - 1))
    mark = d.log_mark()
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "reload: %s %s" % (out, err))
    d.wait_log(r"keys: sealing with key 2 of 2", timeout=5, count=2,
               since=mark)
    check_eq(ping(d.http_port, s1), 404, "key 1's session, after its date")
    check_eq(ping(d.http_port, s2), 200, "key 2's session")
    # a key file others may read: the reload is refused, keys kept
    key_file(d, "3 %s\n" % K3, mode=0o644)
    rc, out, err = d.ctl("reload")
    check(rc != 0 and "mode 0644" in out + err and
          re.search(r"mcpd\.conf:\d+: cluster: key-file", out + err),
          "a readable key file refused: %r %r" % (out, err))
    check_eq(ping(d.http_port, s2), 200, "the keys kept")
    # the node id changes only with a restart
    key_file(d, "2 %s\n" % K2)
    d.extra = d.extra.replace("node a", "node z")
    d.write_conf()
    rc, out, err = d.ctl("reload")
    check(rc != 0 and "needs a restart" in out + err,
          "a new node id refused: %r %r" % (out, err))
    check_eq(ping(d.http_port, s2), 200, "still node a")
    d.stop()


def test_reload_moves_redis():
    """A reload naming another Redis: the agent links to it, the node
    keeps its epoch and writes its keys there."""
    r1 = T.Redis().start()
    r2 = T.Redis(name="redis2").start()
    d = node("a", redis=r1)
    wait_cluster(d, lambda c: c["epoch"] == 1 and c["members"], 5,
                 "joined on the first")
    d.extra = d.extra.replace("127.0.0.1:%d" % r1.port,
                              "127.0.0.1:%d" % r2.port)
    d.write_conf()
    rc, out, err = d.ctl("reload")
    check_eq(rc, 0, "reload: %s %s" % (out, err))
    c = wait_cluster(d, lambda c: c["redis"]["primary"] ==
                     "127.0.0.1:%d" % r2.port and c["redis"]["up"] and
                     c["members"], 5, "linked to the second")
    check_eq(c["epoch"], 1, "the same epoch")
    check_eq(r2.cmd("GET", "mcpd:node:a"), "1", "alive on the second")
    d.stop()


def delete(port, sid):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("DELETE", "/mcp", headers={
        "Host": "127.0.0.1:%d" % port, "Mcp-Session-Id": sid,
        "MCP-Protocol-Version": "2025-06-18"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def rec_owner(r, sid):
    return r.cmd("HGET", "mcpd:rec:" + sid, "owner")


def test_takeover():
    """A session made on a is served on b when asked there (a compare-
    and-set of its owner in Redis); a hears it and drops its copy; asked
    again, a takes it back; a DELETE on one ends it for all; Redis out of
    reach: 503 with Retry-After, never a wrong answer."""
    r = T.Redis().start()
    a = node("a", redis=r)
    b = node("b", redis=r)
    for d in (a, b):
        wait_cluster(d, lambda c: c["epoch"] >= 1 and c["members"], 5,
                     "joined")
    sid = initialize(a.http_port)
    check_eq(ping(a.http_port, sid), 200, "served on a")
    T.wait_until(lambda: rec_owner(r, sid) == "a", 5, "its record in redis")
    pttl = r.cmd("PTTL", "mcpd:rec:" + sid)
    check(pttl > 0, "the record expires: %d" % pttl)
    for i in range(3):
        check_eq(ping(b.http_port, sid), 200, "served on b (%d)" % i)
    check_eq(rec_owner(r, sid), "b", "b owns it now")
    check(cluster(b)["takeovers"] >= 1, "a takeover counted")
    a.wait_log(r"session %s: taken over by another node" % re.escape(sid),
               timeout=5)
    # asked again, a takes it back (the client's id names a)
    check_eq(ping(a.http_port, sid), 200, "served on a again")
    check_eq(rec_owner(r, sid), "a", "a owns it again")
    b.wait_log(r"session %s: taken over by another node" % re.escape(sid),
               timeout=5)
    # a DELETE on b ends it everywhere
    check_eq(delete(b.http_port, sid), 200, "deleted on b")
    T.wait_until(lambda: r.cmd("EXISTS", "mcpd:rec:" + sid) == 0, 5,
                 "its record gone")
    check_eq(ping(a.http_port, sid), 404, "gone on a")
    check_eq(ping(b.http_port, sid), 404, "gone on b")
    # a record no node would write (too large for a worker's channel):
    # not taken, 404, and the request is answered
    sid3 = initialize(a.http_port)
    T.wait_until(lambda: rec_owner(r, sid3) == "a", 5, "recorded")
    r.cmd("HSET", "mcpd:rec:" + sid3, "rec", "x" * 200000)
    check_eq(ping(b.http_port, sid3), 404, "an oversized record")
    # an id no node made (forged): 404 without asking
    forged = sid[:-2] + ("AA" if not sid.endswith("AA") else "BB")
    check_eq(ping(b.http_port, forged), 404, "a forged id")
    # Redis out of reach: 503 and Retry-After, not 404
    sid2 = initialize(a.http_port)
    T.wait_until(lambda: rec_owner(r, sid2) == "a", 5, "recorded")
    r.pause()
    try:
        st, h, _ = post(b.http_port, {"jsonrpc": "2.0", "id": 5,
                                      "method": "ping"}, sid=sid2,
                        version="2025-06-18")
        check_eq((st, h.get("retry-after")), (503, "1"),
                 "a takeover while redis is out of reach")
        check_eq(ping(a.http_port, sid2), 200, "a serves its own meanwhile")
    finally:
        r.resume()
    wait_cluster(b, lambda c: c["redis"]["up"], 10, "b's link back")
    check_eq(ping(b.http_port, sid2), 200, "taken once redis is back")
    for d in (a, b):
        d.stop()


def test_reconcile():
    """After its link to Redis comes back, a node compares the records it
    keeps with Redis: one another node took meanwhile (no channel told
    it) is dropped here; one Redis no longer has is written again."""
    r = T.Redis().start()
    a = node("a", redis=r)
    taken, gone, kept = (initialize(a.http_port) for _ in range(3))
    T.wait_until(lambda: all(rec_owner(r, x) == "a"
                             for x in (taken, gone, kept)), 5, "recorded")
    mark = a.log_mark()
    # what another node's takeover would leave, written while a's link
    # is down (no PUBLISH), and a record lost
    r.cmd("HSET", "mcpd:rec:" + taken, "owner", "b")
    r.cmd("DEL", "mcpd:rec:" + gone)
    r.cmd("CLIENT", "KILL", "TYPE", "normal")
    r.cmd("CLIENT", "KILL", "TYPE", "pubsub")
    a.wait_log(r"cluster: %s was taken over while the link was down" %
               re.escape(taken), 10, since=mark)
    a.wait_log(r"cluster: %s was not in Redis: written again" %
               re.escape(gone), 10, since=mark)
    T.wait_until(lambda: rec_owner(r, gone) == "a", 5, "written again")
    check_eq(ping(a.http_port, kept), 200, "the third goes on")
    check_eq(rec_owner(r, taken), "b", "the taken one left alone")
    a.stop()


def test_stale_node_fenced():
    """A node that missed the word of a takeover (here: Redis says node b
    owns the session, and a was not told) cannot overwrite the record: its
    write is refused, it drops its stale copy, and its next request for
    the session takes the record as Redis has it."""
    r = T.Redis().start()
    a = node("a", redis=r)
    sid = initialize(a.http_port)
    T.wait_until(lambda: rec_owner(r, sid) == "a", 5, "recorded")
    before = r.cmd("HGET", "mcpd:rec:" + sid, "rec")
    r.cmd("HSET", "mcpd:rec:" + sid, "owner", "b", "epoch", "7")
    st, _, _ = post(a.http_port, {"jsonrpc": "2.0", "id": 3,
                                  "method": "logging/setLevel",
                                  "params": {"level": "debug"}}, sid=sid,
                    version="2025-06-18")
    check_eq(st, 200, "served from the copy a still had")
    a.wait_log(r"session %s: taken over by another node" % re.escape(sid),
               timeout=5)
    check_eq((rec_owner(r, sid), r.cmd("HGET", "mcpd:rec:" + sid, "rec")),
             ("b", before), "the record is b's, unchanged")
    check(cluster(a)["fenced_writes"] >= 1, "a fenced write counted")
    check_eq(ping(a.http_port, sid), 200, "taken back from redis")
    check_eq(rec_owner(r, sid), "a", "a's again, by the compare-and-set")
    a.stop()


def tasks_get(port, tid, rid=20):
    return post(port, {"jsonrpc": "2.0", "id": rid, "method": "tasks/get",
                       "params": {"taskId": tid, "_meta": TASKS_META}},
                version=V, extra={"Mcp-Name": tid})


def tasks_req(port, method, tid, rid, params=None):
    p = {"taskId": tid, "_meta": TASKS_META}
    p.update(params or {})
    return post(port, {"jsonrpc": "2.0", "id": rid, "method": method,
                       "params": p}, version=V, extra={"Mcp-Name": tid})


def task_status(port, tid, rid=90):
    st, _, m = tasks_get(port, tid, rid=rid)
    return m[0]["result"]["status"] if st == 200 else None


def test_task_across_nodes():
    """A task made on a, running there: tasks/get, tasks/update and
    tasks/cancel sent to b are delivered to a (through Redis) and answered
    as a answers them, and the task stays a's; once finished, b takes its
    record and answers; a task of a node that died is taken failed."""
    r = T.Redis().start()
    a = node("a", redis=r)
    b = node("b", redis=r)
    st, _, msgs = call(a.http_port, "slow_compute", {"seconds": 60},
                       meta=TASKS_META)
    tid = msgs[0]["result"]["taskId"]
    check(tid.startswith("a."), "a task id of a: %s" % tid)
    T.wait_until(lambda: rec_owner(r, tid) == "a", 5, "its record")
    st, h, msgs = tasks_get(b.http_port, tid)
    check_eq((st, msgs[0]["result"]["status"], msgs[0]["id"]),
             (200, "working", 20), "tasks/get on b, from a: %s" % msgs)
    check_eq(rec_owner(r, tid), "a", "the running task stays a's")
    # the headers that mirror the body are checked as a checks them
    st, h, msgs = post(b.http_port, {
        "jsonrpc": "2.0", "id": 28, "method": "tasks/get",
        "params": {"taskId": tid, "_meta": TASKS_META}}, version=V,
        extra={"Mcp-Name": "not-" + tid})
    check_eq((st, msgs[0].get("error", {}).get("code"), msgs[0]["id"]),
             (400, -32020, 28), "a wrong Mcp-Name, from b: %s" % msgs)
    st, _, msgs = tasks_req(b.http_port, "tasks/cancel", tid, 23)
    check_eq((st, msgs[0].get("result", {}).get("resultType"),
              msgs[0]["id"]), (200, "complete", 23),
             "tasks/cancel on b: %s" % msgs)
    check_eq(task_status(a.http_port, tid), "cancelled",
             "the cancel reached a before b answered")
    # a question inside a task: seen and answered from b
    ask_meta = {"io.modelcontextprotocol/protocolVersion": V,
                "io.modelcontextprotocol/clientCapabilities": {
                    "elicitation": {},
                    "extensions": {"io.modelcontextprotocol/tasks": {}}}}
    st, _, msgs = call(a.http_port, "confirm_delete", {"filename": "x"},
                       meta=ask_meta, rid=3)
    t3 = msgs[0]["result"]["taskId"]
    T.wait_until(lambda: task_status(a.http_port, t3) == "input_required",
                 5, "the task asks on a")
    st, _, msgs = tasks_get(b.http_port, t3, rid=24)
    res = msgs[0]["result"]
    check_eq((st, res["status"]), (200, "input_required"),
             "its question seen from b: %s" % msgs)
    want = list(res["inputRequests"].keys())[0]
    st, _, msgs = tasks_req(b.http_port, "tasks/update", t3, 25, {
        "inputResponses": {want: {"action": "accept",
                                  "content": {"confirm": True}}}})
    check_eq((st, msgs[0].get("result", {}).get("resultType")),
             (200, "complete"), "tasks/update on b: %s" % msgs)
    T.wait_until(lambda: task_status(a.http_port, t3) == "completed", 5,
                 "the answer from b completed the task on a")
    # finished: b takes its record over
    T.wait_until(lambda: '"completed"' in (r.cmd(
        "HGET", "mcpd:rec:" + t3, "rec") or ""), 5, "recorded completed")
    st, _, msgs = tasks_get(b.http_port, t3, rid=21)
    check_eq((st, msgs[0]["result"]["status"]), (200, "completed"),
             "b answers a finished task of a")
    check_eq(rec_owner(r, t3), "b", "b took its record")
    # a node whose workers do not answer (stopped): 503 naming it, soon
    st, _, msgs = call(a.http_port, "slow_compute", {"seconds": 60},
                       meta=TASKS_META, rid=4)
    t2 = msgs[0]["result"]["taskId"]
    T.wait_until(lambda: rec_owner(r, t2) == "a", 5, "its record")
    st, h, msgs = tasks_req(b.http_port, "tasks/update", t2, 27, {
        "inputResponses": {"x": {"pad": "p" * 50000}}})
    check_eq((st, h.get("retry-after")), (503, "1"),
             "a request over 48 KiB does not go through Redis")
    check("node a" in json.dumps(msgs), "names the node: %s" % msgs)
    frozen = list(a.worker_pids().values())  # its agent lives on
    for p in frozen:
        os.kill(p, T.signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        st, h, msgs = tasks_get(b.http_port, t2, rid=26)
        took = time.monotonic() - t0
    finally:
        for p in frozen:
            os.kill(p, T.signal.SIGCONT)
    check_eq((st, h.get("retry-after"), msgs[0]["id"]), (503, "1", 26),
             "a frozen node's task: %s" % msgs)
    check("node a" in json.dumps(msgs), "names the node: %s" % msgs)
    check(took < 5, "answered in %.1f s (two redis-timeouts)" % took)
    # a running task of a node that dies
    a.cleanup()                 # kill -9, every process of a
    T.wait_until(lambda: r.cmd("EXISTS", "mcpd:node:a") == 0, 10,
                 "a's liveness lapsed")
    st, _, msgs = tasks_get(b.http_port, t2, rid=22)
    check_eq((st, msgs[0]["result"]["status"]), (200, "failed"),
             "a dead node's running task, failed on b: %s" % msgs)
    b.stop()


def mp_str(t, b):
    """msgpack: a str (t 0xa0/0xd9/0xda) or bin (0xc4/0xc5) of bytes b."""
    n = len(b)
    if t == "s":
        head = (bytes([0xa0 | n]) if n < 32 else bytes([0xd9, n]) if n < 256
                else b"\xda" + n.to_bytes(2, "big"))
    else:
        head = (bytes([0xc4, n]) if n < 256 else
                b"\xc5" + n.to_bytes(2, "big"))
    return head + b


def mp_frame(*fields):
    """One message of msg_node.def: [type, 0, 0, fields...]; fields are
    ints (uint64) or ("s"|"b", bytes)."""
    out = bytes([0x90 | len(fields)])
    for f in fields:
        out += (b"\xcf" + f.to_bytes(8, "big") if isinstance(f, int)
                else mp_str(*f))
    return out


def ask(node, rid, index, body, version=V.encode(), mname=None):
    """A NODE_ASK frame: node, request id, worker index, principal "",
    version, Mcp-Method, Mcp-Name (the task id in body), body."""
    b = json.loads(body)
    if mname is None:
        mname = b["params"].get("taskId", b["params"].get("name", ""))
        mname = mname.encode()
    return mp_frame(0, 0, 0, ("s", node), rid, index, ("s", b""),
                    ("s", version), ("s", b["method"].encode()),
                    ("s", mname), ("b", body))


def mp_answer(data):
    """A NODE_ANSWER frame: (id, status, body), or None."""
    def uint(i):
        c = data[i]
        if c < 0x80:
            return c, i + 1
        n = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}[c]
        return int.from_bytes(data[i + 1:i + 1 + n], "big"), i + 1 + n
    if not data or data[0] != 0x96:
        return None
    i, vals = 1, []
    for _ in range(5):
        v, i = uint(i)
        vals.append(v)
    c = data[i]
    n, i = ((data[i + 1], i + 2) if c == 0xc4 else
            (int.from_bytes(data[i + 1:i + 3], "big"), i + 3))
    return vals[3], vals[4], data[i:i + n].decode()


def test_task_requests_hostile():
    """What a node takes from its channel mcpd:fwd:NODE is checked: junk,
    a frame of another shape, a worker index out of range and a request
    that is not a tasks/ one change nothing and crash nothing; a well-
    formed request from a node that listens is answered on its channel."""
    import socket
    r = T.Redis().start()
    a = node("a", redis=r)
    st, _, msgs = call(a.http_port, "slow_compute", {"seconds": 60},
                       meta=TASKS_META)
    tid = msgs[0]["result"]["taskId"]
    T.wait_until(lambda: rec_owner(r, tid) == "a", 5, "its record")
    ch = "mcpd:fwd:a"
    before = a.child_pids()
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tasks/get",
                       "params": {"taskId": tid,
                                  "_meta": TASKS_META}}).encode()
    for junk in (b"", b"\x00" * 64, b"\xff" * 70000, b"\x91\x00",
                 mp_frame(1, 0, 0, 5, 200),          # an answer: wrong shape
                 ask(b"evil", 1, 9999, body),        # no such worker
                 ask(b"../x", 1, 0, body),           # not a node's name
                 ask(b"evil", 1, 0, body, version=b"x" * 40),
                 ask(b"evil", 1, 0, body, mname=b"n" * 2000),
                 mp_frame(0, 0, 0, ("s", b"evil"), 1, 0, ("s", b""),
                          ("s", V.encode()), ("b", body))):  # old shape
        r.cmd("PUBLISH", ch, junk)
    s = socket.create_connection(("127.0.0.1", r.port), timeout=5)
    rd = T._RespReader(s)
    s.sendall(T.resp_encode("SUBSCRIBE", "mcpd:fwd:evil"))
    raw = b""
    try:
        rd.reply()
        call_body = json.dumps({"jsonrpc": "2.0", "id": 8,
                                "method": "tools/call", "params": {
                                    "name": "slow_compute",
                                    "arguments": {"seconds": 60}}}).encode()
        got = {}
        for rid, b_ in ((41, body), (42, call_body)):
            for index in (0, 1):
                r.cmd("PUBLISH", ch, ask(b"evil", rid * 10 + index, index,
                                         b_))
        deadline = time.monotonic() + 10
        s.settimeout(1)
        while len(got) < 3 and time.monotonic() < deadline:
            try:
                raw += s.recv(65536)
            except socket.timeout:
                continue
            # each message: *3 $7 message $N channel $N payload
            while True:
                m = re.match(rb"\*3\r\n\$7\r\nmessage\r\n\$\d+\r\n"
                             rb"[^\r]*\r\n\$(\d+)\r\n", raw)
                if not m:
                    break
                n = int(m.group(1))
                if len(raw) < m.end() + n + 2:
                    break
                ans = mp_answer(raw[m.end():m.end() + n])
                raw = raw[m.end() + n + 2:]
                if ans:
                    got[ans[0]] = (ans[1], json.loads(ans[2]))
    finally:
        s.close()
    info("answers: %s" % got)
    # the task lives on one of a's two workers; the other has no such task
    mine = [v for k, v in got.items() if k in (410, 411) and v[0] == 200]
    check(len(mine) == 1 and mine[0][1]["result"]["status"] == "working",
          "tasks/get from a node answered: %s" % got)
    other = [v for k, v in got.items() if k in (410, 411) and v[0] != 200]
    check(len(other) == 1 and other[0][0] == 503,
          "asked of the worker that does not keep it: 503: %s" % got)
    refused = [v for k, v in got.items() if k in (420, 421)]
    check(refused and all(v[0] == 400 and "tasks/" in json.dumps(v[1])
                          for v in refused),
          "a tools/call is not taken from another node: %s" % got)
    check_eq(a.child_pids(), before, "no process of a restarted")
    check_eq(task_status(a.http_port, tid), "working", "a serves on")
    a.stop()


def test_replay_across_nodes():
    """A stream whose client hung up goes on into Redis (a Stream of the
    session's last events): GET with Last-Event-ID on another node takes
    the session over with its events and replays what came after that
    event, in order, once."""
    import test_registry as TR
    r = T.Redis().start()
    keys = {"session-responses": "sse", "initialize-rate": "0"}
    a = node("a", redis=r, extra_keys=keys)
    b = node("b", redis=r, extra_keys=keys)
    sid, _ = TR.init(a.http_port)
    prime = TR.post_cut(a.http_port, sid, TR.request("tools/call", {
        "name": "test_tool_with_progress",
        "_meta": {"progressToken": "tok"}}, rid=11))
    w, stream, _ = prime.split("-")
    T.wait_until(lambda: r.cmd("XLEN", "mcpd:ev:" + sid) >= 5, 10,
                 "the call's events in redis")
    evs = TR.resume(b.http_port, sid, prime)
    ids = ["%s-%s-%d" % (w, stream, i) for i in (1, 2, 3, 4)]
    check_eq([e[0] for e in evs], ids, "replayed on b after %s" % prime)
    check_eq([e[1].get("method", "result") for e in evs],
             ["notifications/progress"] * 3 + ["result"], "what came")
    check_eq(evs[-1][1]["id"], 11, "the answer's id")
    check_eq(rec_owner(r, sid), "b", "b took the session")
    check_eq([e[0] for e in TR.resume(b.http_port, sid, ids[1])], ids[2:],
             "replayed after the second event")
    # and back on a, which takes it again, events and all
    check_eq([e[0] for e in TR.resume(a.http_port, sid, ids[0])], ids[1:],
             "replayed on a again")
    for d in (a, b):
        d.stop()


class Listener(object):
    """A subscriptions/listen stream (stateless era), or with sid a
    session's GET stream, whose messages are timestamped as they arrive,
    by a thread of its own."""

    def __init__(self, port, rid, what, sid=None):
        import socket
        import threading
        if sid is None:
            b = {"jsonrpc": "2.0", "id": rid,
                 "method": "subscriptions/listen",
                 "params": {"notifications": what, "_meta": META}}
            data = json.dumps(b).encode()
            head = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "Content-Type: application/json\r\nAccept: %s\r\n"
                    "MCP-Protocol-Version: %s\r\nMcp-Method: "
                    "subscriptions/listen\r\nContent-Length: %d\r\n\r\n"
                    % (port, ACCEPT, V, len(data)))
        else:
            data = b""
            head = ("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "Accept: text/event-stream\r\nMcp-Session-Id: %s\r\n"
                    "MCP-Protocol-Version: 2025-06-18\r\n\r\n" % (port, sid))
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.sendall(head.encode() + data)
        self.msgs = []           # (monotonic time, message)
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _recv(self):
        return self.s.recv(65536)

    def _run(self):
        buf = b""
        while True:
            try:
                chunk = self._recv()
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            buf += chunk
            while b"\n\n" in buf:
                ev, buf = buf.split(b"\n\n", 1)
                for line in ev.split(b"\n"):
                    if line.startswith(b"data: ") and line[6:].strip():
                        with self.lock:
                            self.msgs.append((now, json.loads(line[6:])))

    def methods(self):
        with self.lock:
            return [m.get("method") for _, m in self.msgs]

    def wait(self, n, timeout, what):
        T.wait_until(lambda: len(self.methods()) >= n, timeout, what)

    def close(self):
        self.s.close()


def test_notify_across_nodes():
    """A change announced on one node reaches the listeners and GET
    streams of every node (Redis Pub/Sub): 1,000 of them, in order, each
    one's delay measured; after the link to Redis comes back, a node's
    listeners hear one list_changed for what they may have missed."""
    r = T.Redis().start()
    a = node("a", redis=r)
    b = node("b", redis=r)
    T.wait_until(lambda: r.cmd("PUBSUB", "NUMSUB", "mcpd:notify")[1] == 2,
                 10, "both agents subscribed")
    what = {"toolsListChanged": True}
    on_b = [Listener(b.http_port, 100 + i, what) for i in range(4)]
    on_a = Listener(a.http_port, 200, what)
    for ls in on_b + [on_a]:
        ls.wait(1, 10, "the listener's ack")
    # and a session-era GET stream on b
    get_b = Listener(b.http_port, 0, None, sid=initialize(b.http_port))
    time.sleep(0.5)             # (a GET stream sends nothing first)
    # what no node announces, put on the channel by whoever can write
    # to Redis: no client hears of it, no worker falls over
    for bogus in ("x\nnotifications/evil\n",
                  "x\nnotifications/resources/updated\n",
                  "x\nnotifications/tools/list_changed\nfile:///x",
                  "x\nnotifications/tools/list_changed", "x", "",
                  "x\n\n", "x\n" + "n" * 5000 + "\n"):
        r.cmd("PUBLISH", "mcpd:notify", bogus)
    st, _, _ = call(a.http_port, "test_trigger_tool_change")
    check_eq(st, 200, "the trigger on a")
    for ls in on_b + [on_a]:
        ls.wait(2, 10, "the change heard")
        check_eq(ls.methods()[1], "notifications/tools/list_changed",
                 "a tools/list_changed")
    get_b.wait(1, 10, "the change heard on b's GET stream")
    check_eq(get_b.methods()[0], "notifications/tools/list_changed",
             "a tools/list_changed on the GET stream")
    get_b.close()
    # 1,000 changes on a, heard on b: each one's delay
    ls = on_b[0]
    base = len(ls.methods())
    c = http.client.HTTPConnection("127.0.0.1", a.http_port, timeout=10)
    sent = []
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                       "params": {"name": "test_trigger_tool_change",
                                  "arguments": {}, "_meta": META}})
    hdrs = {"Content-Type": "application/json", "Accept": ACCEPT,
            "MCP-Protocol-Version": V, "Mcp-Method": "tools/call",
            "Mcp-Name": "test_trigger_tool_change",
            "Host": "127.0.0.1:%d" % a.http_port}
    for i in range(1000):
        sent.append(time.monotonic())
        c.request("POST", "/mcp", body, hdrs)
        resp = c.getresponse()
        resp.read()
        check_eq(resp.status, 200, "trigger %d" % i)
    c.close()
    ls.wait(base + 1000, 30, "1,000 changes heard on b")
    with ls.lock:
        got = [t for t, m in ls.msgs[base:base + 1000]]
    lat = sorted(g - s for g, s in zip(got, sent))
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
    info("1,000 notifications a -> b: p50 %.1f ms, p99 %.1f ms, max %.1f "
         "ms" % (p50 * 1e3, p99 * 1e3, lat[-1] * 1e3))
    # the target, p99 <= 100 ms, is met on an idle machine (2.8 ms,
    # docs/CLUSTER.md); beside other work (make -j2, a CI run) the figure
    # is the machine's: the test holds what must never fail -- every
    # change arrives, in order, pushed rather than polled
    check(p99 <= 1.0, "p99 %.1f ms <= 1 s" % (p99 * 1e3))
    # the link goes and comes: one list_changed covers the gap
    n = len(on_b[1].methods())
    r.pause()
    try:
        wait_cluster(b, lambda x: not x["redis"]["up"], 10, "b cut off")
    finally:
        r.resume()
    wait_cluster(b, lambda x: x["redis"]["up"], 10, "b linked again")
    on_b[1].wait(n + 1, 10, "the gap covered")
    check_eq(on_b[1].methods()[n], "notifications/tools/list_changed",
             "one tools/list_changed after the gap")
    for ls in on_b + [on_a]:
        ls.close()
    for d in (a, b):
        d.stop()


HAPROXY_CFG = os.path.join(T.SRCDIR, "etc", "haproxy", "mcpd.cfg")


def test_haproxy_config_valid():
    """The shipped etc/haproxy/mcpd.cfg, as haproxy -c sees it."""
    r = T.subprocess.run([T.shutil.which("haproxy") or "/usr/sbin/haproxy",
                          "-c", "-f", HAPROXY_CFG], capture_output=True,
                         timeout=20)
    check_eq(r.returncode, 0, "haproxy -c: %r" % (r.stdout + r.stderr))


class HAProxy(T.Redis):
    """haproxy -db with the shipped configuration, its listener, stats
    socket and servers made this test's."""

    def __init__(self, nodes):
        T.Redis.__init__(self, name="haproxy")
        self.nodes = nodes
        self.sock = os.path.join(self.dir, "stats.sock")

    def config(self):
        with open(HAPROXY_CFG) as f:
            text = f.read()
        text = re.sub(r"^\s*log /dev/log.*\n", "", text, flags=re.M)
        # 2 descriptors a connection: within this machine's 20,000
        text = re.sub(r"maxconn \d+", "maxconn 4000", text)
        text = re.sub(r"stats socket \S+", "stats socket %s" % self.sock,
                      text)
        text = text.replace("bind :8080", "bind 127.0.0.1:%d" % self.port)
        text = re.sub(r"^\s*server .*\n", "", text, flags=re.M)
        text += "".join("\tserver %s 127.0.0.1:%d agent-port %d\n" %
                        (n, d.http_port, d.admin_port)
                        for n, d in self.nodes.items())
        return text

    def start(self, timeout=10.0):
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(self.config())
        self.logf = open(self.logpath, "wb")
        self.proc = T.subprocess.Popen(
            [T.shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f",
             cfg], stdin=T.subprocess.DEVNULL, stdout=self.logf,
            stderr=self.logf, start_new_session=True, close_fds=True)
        T.wait_until(lambda: self.servers() is not None, timeout,
                     "haproxy's stats socket")
        return self

    def cli(self, line):
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(3)
        s.connect(self.sock)
        s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            got = s.recv(65536)
            if not got:
                break
            out += got
        s.close()
        return out.decode()

    def stat(self):
        """The rows of "show stat" of the backend's servers, by name, or
        None."""
        try:
            text = self.cli("show stat")
        except OSError:
            return None
        lines = text.splitlines()
        if not lines or not lines[0].startswith("# "):
            return None
        cols = lines[0][2:].split(",")
        out = {}
        for line in lines[1:]:
            f = dict(zip(cols, line.split(",")))
            if f.get("pxname") == "mcpd" and f.get("svname") in self.nodes:
                out[f["svname"]] = f
        return out

    def connections(self):
        """{name: the connections it was given (stot)}."""
        return {n: int(f["stot"] or 0)
                for n, f in (self.stat() or {}).items()}

    def current(self, name):
        """The connections HAProxy has open to server name now (scur)."""
        text = self.cli("show stat")
        lines = text.splitlines()
        cols = lines[0][2:].split(",")
        for line in lines[1:]:
            f = dict(zip(cols, line.split(",")))
            if f.get("pxname") == "mcpd" and f.get("svname") == name:
                return int(f["scur"] or 0)
        return None

    def servers(self):
        """{name: (status, weight)} of the backend's servers, or None."""
        st = self.stat()
        if st is None:
            return None
        return {n: (f["status"], int(f["weight"] or 0))
                for n, f in st.items()}


def test_haproxy_routes():
    """Two nodes behind HAProxy with the shipped configuration: a session
    or task id goes to its node; stateless requests anywhere; a node cut
    from Redis weighs 1 % in HAProxy's balance, and 100 % again after."""
    r = T.Redis().start()
    a = node("a", redis=r)
    b = node("b", redis=r)
    h = HAProxy({"a": a, "b": b}).start()
    try:
        T.wait_until(lambda: h.servers() == {"a": ("UP", 100),
                                             "b": ("UP", 100)}, 15,
                     "both nodes up in haproxy")
    except T.TestFailure:
        raise T.TestFailure("servers: %s; log: %s" % (h.servers(),
                                                       h.log()[-2000:]))
    sids = [initialize(h.port) for _ in range(8)]
    check_eq(sorted(set(s.split(".")[0] for s in sids)), ["a", "b"],
             "sessions on both nodes: %s" % sids)
    for sid in sids:
        for _ in range(4):
            check_eq(ping(h.port, sid), 200, "a session through haproxy")
        T.wait_until(lambda: rec_owner(r, sid) is not None, 5, "recorded")
        check_eq(rec_owner(r, sid), sid.split(".")[0],
                 "served by the node its id names")
    check_eq((cluster(a)["takeovers"], cluster(b)["takeovers"]), (0, 0),
             "no session had to be taken over: haproxy routed each")
    st, _, msgs = call(h.port, "slow_compute", {"seconds": 30},
                       meta=TASKS_META)
    tid = msgs[0]["result"]["taskId"]
    check(tid[:2] in ("a.", "b."), "a task id names its node: %s" % tid)
    for i in range(6):
        st, _, msgs = post(h.port, {
            "jsonrpc": "2.0", "id": 10 + i, "method": "tasks/get",
            "params": {"taskId": tid, "_meta": TASKS_META}}, version=V,
            extra={"Mcp-Name": tid})
        check_eq((st, msgs[0]["result"]["status"]), (200, "working"),
                 "tasks/get through haproxy")
    post(h.port, {"jsonrpc": "2.0", "id": 30, "method": "tasks/cancel",
                  "params": {"taskId": tid, "_meta": TASKS_META}},
         version=V, extra={"Mcp-Name": tid})
    for i in range(6):
        st, _, _ = call(h.port, "test_simple_text", rid=40 + i)
        check_eq(st, 200, "a stateless call through haproxy")
    r.pause()
    try:
        T.wait_until(lambda: h.servers() == {"a": ("UP", 1),
                                             "b": ("UP", 1)}, 15,
                     "both nodes at 1 % while cut from redis")
        for i in range(4):
            st, _, _ = call(h.port, "test_simple_text", rid=50 + i)
            check_eq(st, 200, "stateless calls go on through haproxy")
    finally:
        r.resume()
    T.wait_until(lambda: h.servers() == {"a": ("UP", 100),
                                         "b": ("UP", 100)}, 15,
                 "back to 100 %")
    for d in (a, b):
        d.stop()


def test_conformance_through_haproxy():
    """Three nodes behind HAProxy, the shipped configuration: both MCP
    conformance suites (the session era and the stateless era with
    tasks) pass against HAProxy's address, as against one mcpd."""
    r = T.Redis().start()
    nodes = {n: node(n, redis=r) for n in ("a", "b", "c")}
    h = HAProxy(nodes).start()
    T.wait_until(lambda: h.servers() == {n: ("UP", 100) for n in nodes},
                 15, "three nodes up in haproxy")
    runner = os.path.join(T.SRCDIR, "tests", "conformance",
                          "run-conformance.py")
    try:
        res = T.subprocess.run(
            [sys.executable, runner, "--url",
             "http://127.0.0.1:%d/mcp" % h.port],
            stdin=T.subprocess.DEVNULL, capture_output=True, timeout=600)
    except T.subprocess.TimeoutExpired:
        raise T.TestFailure("the conformance suites took over 600 s")
    out = res.stdout.decode("utf-8", "replace")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if res.returncode != 0:
        # which scenarios failed (their summary is far from the end)
        info("\n".join(line for line in out.splitlines()
                       if line.lstrip().startswith(("\u2717", "FAIL:"))))
        info(out[-6000:] + res.stderr.decode("utf-8", "replace")[-2000:])
    check(res.returncode == 0 and re.match(
        r"conformance: \d+ passed, 0 failed$", last),
        "the suites through haproxy: %r" % last)
    info(last)
    for d in nodes.values():
        d.stop()


def run_clients_module():
    """tests/clients/run-clients.py as a module: its catalog and docs."""
    import importlib.util
    path = os.path.join(T.SRCDIR, "tests", "clients", "run-clients.py")
    spec = importlib.util.spec_from_file_location("run_clients", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, path


def test_sdk_clients_through_haproxy():
    """Three nodes behind HAProxy, the shipped configuration, each with
    the catalog of tests/clients/run-clients.py (its directory of files
    the same on every node): the official SDK clients run unchanged
    against HAProxy's address (run-clients.py --url): the v1 Client in the
    session era, the v2 Client in the stateless era with a v1 session
    beside it, and mcp-remote.  Every check passes as against one mcpd:
    a file's change reaches its subscribers on whichever node holds them,
    a fixture tool's list change reaches listen streams and GET streams
    on the other nodes (Redis), the cancelled exec tool's process goes
    on whichever node ran it, a reload of every node reaches every
    stream, and no process of any node restarted; HAProxy routed each
    session to its node (no takeover), and gave every node connections."""
    RC, runner = run_clients_module()
    top = T._short_tmpdir()
    if not os.environ.get("MCPDTEST_KEEP"):
        T.on_cleanup(lambda: T.shutil.rmtree(top, ignore_errors=True))
    docs = os.path.join(top, "docs")
    catalog = RC.write_docs(docs)
    check(catalog is not None, "%r cannot go in a config" % docs)
    r = T.Redis().start()
    nodes = {n: node(n, redis=r, extra=catalog) for n in ("a", "b", "c")}
    h = HAProxy(nodes).start()
    T.wait_until(lambda: h.servers() == {n: ("UP", 100) for n in nodes},
                 15, "three nodes up in haproxy")
    cmd = [sys.executable, runner, "--url",
           "http://127.0.0.1:%d/mcp" % h.port, "--docs", docs]
    for d in nodes.values():
        cmd += ["--node", str(d.pid), d.conf, d.logpath]
    t0 = time.monotonic()
    p = T.subprocess.Popen(cmd, stdin=T.subprocess.DEVNULL,
                           stdout=T.subprocess.PIPE,
                           stderr=T.subprocess.STDOUT,
                           start_new_session=True, close_fds=True)

    def stop_clients():
        # SIGTERM: run-clients.py kills the script it runs, then itself
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except T.subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
    T.on_cleanup(stop_clients)      # the file's watchdog, a signal
    try:
        # 3 runs of at most 75 s each (RUN_TIMEOUT) and the checks
        out, _ = p.communicate(timeout=300)
    except T.subprocess.TimeoutExpired:
        stop_clients()
        out, _ = p.communicate(timeout=10)
        info(out.decode("utf-8", "replace")[-6000:])
        raise T.TestFailure("run-clients.py --url took over 300 s")
    dt = time.monotonic() - t0
    out = out.decode("utf-8", "replace")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if p.returncode != 0:
        info(out[-8000:])
    else:
        for line in out.splitlines():
            if re.match(r"ok - .* run \(\d+ checks", line):
                info(line)
    check(p.returncode == 0 and re.match(
        r"clients: \d+ passed, 0 failed$", last),
        "the clients through haproxy: %r" % last)
    info("%s (%.1f s)" % (last, dt))
    takeovers = {n: cluster(d)["takeovers"] for n, d in nodes.items()}
    check_eq(takeovers, {n: 0 for n in nodes},
             "takeovers: haproxy routed each session to its node")
    conns = h.connections()
    info("connections haproxy gave each node: %s" % conns)
    check(all(conns.get(n, 0) > 0 for n in nodes),
          "haproxy gave every node connections: %s" % conns)
    for n, d in nodes.items():
        check_eq(d.stop(), 0, "node %s's exit status" % n)


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    T.main([test_node_joins, test_nodes_share_the_key, test_redis_stalls,
            test_redis_loses_its_data, test_fenced, test_never_a_replica,
            test_sentinel_names_the_primary, test_sentinel_failover,
            test_acl_user, test_key_rotation,
            test_reload_moves_redis, test_haproxy_config_valid,
            test_haproxy_routes, test_takeover, test_reconcile,
            test_stale_node_fenced,
            test_task_across_nodes, test_task_requests_hostile,
            test_replay_across_nodes, test_notify_across_nodes,
            test_sdk_clients_through_haproxy,
            test_conformance_through_haproxy], budget=400)
