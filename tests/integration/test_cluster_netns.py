#!/usr/bin/env python3
"""The cluster in a network of its own (netns.py; root): three mcpd nodes,
a Redis primary and its replica, three Sentinels and HAProxy, each in its
own network namespace on one bridge, and a client in another.  Through
HAProxy, sessions open on every node and go on; a node whose interface
goes down (the kernel answers at once) is taken out by HAProxy and its
sessions go on on the others, taken over from Redis with their ids; when
it comes back it learns from Redis what was taken (no channel told it),
drops those, and takes them back as HAProxy sends them to it: one owner
and one copy each; a node cut from Redis by nft (packets dropped) weighs
1 % in HAProxy until the partition heals.

The long version (make bench, or MCPD_CLUSTER_LONG=1) keeps node a cut
off for 60 s instead of the moment its sessions move, with mcpbench in
the client's namespace holding 2,000 connections in the session era (each
keeping its session id across reconnects) at 500 requests a second
through HAProxy from before the cut to after the heal: no session of it
may be lost, and its failures are counted."""

import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
import netns  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
HAPROXY_CFG = os.path.join(T.SRCDIR, "etc", "haproxy", "mcpd.cfg")
KEY = "1 " + "3c" * 32 + "\n"
LONG = os.environ.get("MCPD_CLUSTER_LONG") == "1"
PARTITION_S = 60            # long: node a cut off this long
LOAD_CONNS, LOAD_RATE = 2000, 500

# a client's requests, run in the client's namespace: JSON in, JSON out
CLIENT = r"""
import http.client, json, sys
host, port, plan = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
out = []
for verb, sid in plan:
    h = {"Content-Type": "application/json",
         "Accept": "application/json, text/event-stream",
         "MCP-Protocol-Version": "2025-06-18", "Host": "mcp.example"}
    if verb == "init":
        b = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "netns", "version": "1"}}}
    else:
        b = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        h["Mcp-Session-Id"] = sid
    try:
        c = http.client.HTTPConnection(host, port, timeout=15)
        c.request("POST", "/mcp", json.dumps(b), h)
        r = c.getresponse()
        r.read()
        out.append([r.status, r.getheader("Mcp-Session-Id") or sid,
                    r.getheader("Retry-After")])
        c.close()
    except OSError as e:
        out.append([0, str(e), None])
print(json.dumps(out))
"""


def client(net, cli, hap, plan):
    r = net.call(cli, [sys.executable, "-c", CLIENT, hap.addr, "8080",
                       json.dumps(plan)])
    check_eq(r.returncode, 0, "the client: %r" % r.stderr[-500:])
    return json.loads(r.stdout)


def redis_ok(net, cli, h, port=6379):
    r = net.call(cli, ["redis-cli", "-h", h.addr, "-p", str(port), "PING"],
                 timeout=10)
    return r.returncode == 0 and b"PONG" in r.stdout


def redis_cmd(net, cli, h, *args):
    r = net.call(cli, ["redis-cli", "-h", h.addr] + list(args), timeout=10)
    return r.stdout.decode().strip()


def weight(tmp, server, col="weight"):
    """server's weight (or another column) in HAProxy's stats (its
    runtime socket)"""
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    try:
        s.connect(os.path.join(tmp, "hap.sock"))
        s.sendall(b"show stat\n")
        text = b""
        while True:
            got = s.recv(65536)
            if not got:
                break
            text += got
    except OSError:
        return None
    finally:
        s.close()
    lines = text.decode().splitlines()
    cols = lines[0][2:].split(",") if lines else []
    for line in lines[1:]:
        f = dict(zip(cols, line.split(",")))
        if f.get("pxname") == "mcpd" and f.get("svname") == server:
            return int(f[col] or 0) if col == "weight" else f[col]
    return None


def start_redis(net, hosts, tmp, servers):
    """redis-server in each namespace of servers {name: extra args}"""
    for n, extra in servers.items():
        d = os.path.join(tmp, n)
        os.mkdir(d)
        net.run(hosts[n], ["redis-server", "--bind", hosts[n].addr,
                           "--port", "6379", "--protected-mode", "no",
                           "--dir", d, "--save", "", "--appendonly", "no",
                           "--logfile", os.path.join(d, "log")] + extra)
    for n in servers:
        T.wait_until(lambda: redis_ok(net, hosts["cli"], hosts[n]), 10,
                     "redis %s" % n)


def start_sentinels(net, hosts, tmp, primary):
    """three Sentinels, quorum 2, watching primary"""
    for n in ("s1", "s2", "s3"):
        conf = os.path.join(tmp, n + ".conf")
        with open(conf, "w") as f:
            f.write("port 26379\nbind %s\nprotected-mode no\ndir %s\n"
                    "sentinel monitor mcpd %s 6379 2\n"
                    "sentinel down-after-milliseconds mcpd 2000\n"
                    "sentinel failover-timeout mcpd 10000\n" %
                    (hosts[n].addr, tmp, hosts[primary].addr))
        net.run(hosts[n], ["redis-sentinel", conf],
                stdout=T.subprocess.DEVNULL, stderr=T.subprocess.DEVNULL)
    for n in ("s1", "s2", "s3"):
        T.wait_until(lambda: redis_ok(net, hosts["cli"], hosts[n], 26379),
                     10, "sentinel %s" % n)


def start_nodes(net, hosts, tmp, names):
    """mcpd nodes, each in its namespace, through the Sentinels"""
    key = os.path.join(tmp, "cluster.key")
    with open(key, "w") as f:
        f.write(KEY)
    os.chmod(key, 0o600)
    nodes = {}
    for n in names:
        h = hosts[n]
        d = T.Daemon(name="node-" + n)
        d.prefix = ["ip", "netns", "exec", h.ns]
        d.write_conf(
            'pidfile "%s"\ncontrol-socket "%s"\nworkers 2\n'
            'listen http %s port 8080 auth none\n'
            'listen admin %s port 8081\nallow-host "*"\nplugin "%s"\n'
            # behind HAProxy, whose address every connection has
            'initialize-rate 0\nmax-connections-per-address 0\n'
            'cluster {\n\tnode %s\n\tsentinel %s\n\tkey-file %s\n'
            '\tredis-timeout 500ms\n\tnode-ttl 3s\n}\n' %
            (d.pidfile, d.sock, h.addr, h.addr, PLUGIN, n,
             " ".join(hosts[s].addr for s in ("s1", "s2", "s3")), key))
        d.start()
        nodes[n] = d
    for n, d in nodes.items():
        T.wait_until(lambda: cluster(d)["epoch"] == 1, 10,
                     "node %s joined" % n)
    return nodes


def cluster(d):
    return json.loads(d.ctl("cluster", "--json")[1])


def load_start(net, hosts, tmp):
    """mcpbench in the client's namespace through HAProxy, session era,
    each connection keeping its session id: from now to past the heal"""
    from test_mcpbench import MCPBENCH
    secs = PARTITION_S + 40
    return net.run(hosts["cli"], [
        MCPBENCH, "-A", "-e", "session", "-k", "-c", str(LOAD_CONNS),
        "-r", str(LOAD_RATE), "-w", "3", "-d", str(secs), "-T", "10", "-j",
        os.path.join(tmp, "load.json"), "%s:8080" % hosts["hap"].addr],
        stdout=T.subprocess.DEVNULL, stderr=T.subprocess.DEVNULL)


def load_check(p, tmp):
    check_eq(p.wait(PARTITION_S + 120), 0, "mcpbench (1: a load process "
             "did not report)")
    with open(os.path.join(tmp, "load.json")) as f:
        j = json.load(f)
    info("mcpbench through the partition and the heal: ok %d, errors %d "
         "%r, http %r, sessions lost %d, reconnects %d, late %d, dropped "
         "%d, p50 %s us, p99 %s us" % (
             j["ok"], j["errors"], j["errors_by_kind"], j["http"],
             j["sessions_lost"], j["reconnects"], j["late"], j["dropped"],
             j["latency_us"]["p50"], j["latency_us"]["p99"]))
    check_eq(j["sessions_lost"], 0, "no session of the load lost (404)")
    check(j["ok"] > LOAD_RATE * PARTITION_S * 0.9, "the load ran: %d ok" %
          j["ok"])


def test_three_nodes_in_namespaces():
    net = netns.Net()
    hosts = {n: net.host(n) for n in ("r1", "r2", "s1", "s2", "s3", "a",
                                      "b", "c", "hap", "cli")}
    tmp = tempfile.mkdtemp(prefix="mcpdt-netns-")
    # Redis: a primary, a replica; three Sentinels; the nodes
    start_redis(net, hosts, tmp, {
        "r1": [], "r2": ["--replicaof", hosts["r1"].addr, "6379"]})
    start_sentinels(net, hosts, tmp, "r1")
    nodes = start_nodes(net, hosts, tmp, ("a", "b", "c"))
    # HAProxy, the shipped configuration
    with open(HAPROXY_CFG) as f:
        cfg = f.read()
    cfg = re.sub(r"^\s*log /dev/log.*\n", "", cfg, flags=re.M)
    cfg = re.sub(r"maxconn \d+", "maxconn 4000", cfg)
    cfg = re.sub(r"stats socket \S+", "stats socket %s/hap.sock" % tmp, cfg)
    cfg = cfg.replace("bind :8080", "bind %s:8080" % hosts["hap"].addr)
    cfg = re.sub(r"^\s*server .*\n", "", cfg, flags=re.M)
    cfg += "".join("\tserver %s %s:8080 agent-port 8081\n" %
                   (n, hosts[n].addr) for n in nodes)
    with open(os.path.join(tmp, "haproxy.cfg"), "w") as f:
        f.write(cfg)
    net.run(hosts["hap"], ["haproxy", "-db", "-f",
                           os.path.join(tmp, "haproxy.cfg")],
            stdout=T.subprocess.DEVNULL, stderr=T.subprocess.DEVNULL)

    def all_up():
        out = client(net, hosts["cli"], hosts["hap"], [["init", None]] * 6)
        return all(st == 200 for st, _, _ in out) and len(
            set(sid.split(".")[0] for _, sid, _ in out)) == 3
    T.wait_until(all_up, 20, "sessions on the three nodes through haproxy",
                 interval=0.5)
    out = client(net, hosts["cli"], hosts["hap"], [["init", None]] * 9)
    sids = [sid for st, sid, _ in out]
    check_eq([st for st, _, _ in out], [200] * 9, "nine sessions")
    out = client(net, hosts["cli"], hosts["hap"],
                 [["ping", s] for s in sids] * 2)
    check_eq([st for st, _, _ in out], [200] * 18, "every session goes on")
    if LONG:
        load = load_start(net, hosts, tmp)
    # node a's interface goes down: haproxy takes it out; its sessions
    # are taken over by b and c from Redis, with their ids
    net.link(hosts["a"], False)
    mine = [s for s in sids if s.startswith("a.")]
    check(mine, "sessions on a: %s" % sids)
    t0 = time.monotonic()

    def served():
        o = client(net, hosts["cli"], hosts["hap"],
                   [["ping", s] for s in mine])
        return all(st == 200 for st, _, _ in o)
    T.wait_until(served, 20, "a's sessions served by the others",
                 interval=0.2)
    info("a's %d sessions served again %.1f s after its link went down" %
         (len(mine), time.monotonic() - t0))
    if LONG:
        time.sleep(max(0, t0 + PARTITION_S - time.monotonic()))
    for s in mine:
        owner = redis_cmd(net, hosts["cli"], hosts["r1"], "HGET",
                          "mcpd:rec:" + s, "owner")
        check(owner in ("b", "c"), "%s now b's or c's: %r" % (s, owner))
    out = client(net, hosts["cli"], hosts["hap"], [["ping", s] for s in sids])
    check_eq([st for st, _, _ in out], [200] * 9, "all nine go on")
    # a comes back.  What b and c took while it was away reached it on no
    # channel: it learns it from Redis (its records' owners), drops them,
    # and takes them back when HAProxy sends them to it again: one owner
    # each, one copy each
    mark_a = nodes["a"].log_mark()
    mark_bc = {n: nodes[n].log_mark() for n in ("b", "c")}
    net.link(hosts["a"], True)
    t0 = time.monotonic()
    nodes["a"].wait_log(r"cluster: \S+ was taken over while the link was "
                        r"down", 20, count=len(mine), since=mark_a)
    info("a back: dropped its %d lost sessions %.1f s after its link came "
         "up" % (len(mine), time.monotonic() - t0))
    T.wait_until(lambda: weight(tmp, "a", "status") == "UP", 15,
                 "a up again in haproxy")
    out = client(net, hosts["cli"], hosts["hap"], [["ping", s] for s in sids])
    check_eq([st for st, _, _ in out], [200] * 9, "all nine after a is back")
    for s in mine:
        owner = redis_cmd(net, hosts["cli"], hosts["r1"], "HGET",
                          "mcpd:rec:" + s, "owner")
        check_eq(owner, "a", "%s a's again" % s)
    dropped = sum(len(nodes[n].log_lines(
        r"session (%s): taken over by another node" %
        "|".join(re.escape(s) for s in mine), since=mark_bc[n]))
        for n in ("b", "c"))
    check_eq(dropped, len(mine), "b and c dropped their copies")
    info("converged %.1f s after a's link came up" %
         (time.monotonic() - t0))
    if LONG:
        load_check(load, tmp)
    # b cut from Redis by nft (packets dropped: its commands time out):
    # it says so to HAProxy, which gives it 1 %; healed, 100 % again
    net.drop(hosts["b"], hosts["r1"])
    t_cut = time.monotonic()
    T.wait_until(lambda: not cluster(nodes["b"])["redis"]["up"], 10,
                 "b cut from redis")
    T.wait_until(lambda: weight(tmp, "b") == 1, 15, "b at 1 % in haproxy")
    info("b at 1 %% in haproxy %.1f s after it was cut from redis" %
         (time.monotonic() - t_cut))
    out = client(net, hosts["cli"], hosts["hap"], [["init", None]] * 3)
    check_eq([st for st, _, _ in out], [200] * 3, "new sessions meanwhile")
    # b serves what needs no shared state (its own sessions), and refuses
    # what does (a session of c's, asked of b directly: a takeover)
    own_b = [x for x in sids if x.startswith("b.")]
    of_c = [x for x in sids if x.startswith("c.")]
    # (HAProxy's balancing may have given either none of the nine)
    own_b += [x[1] for x in client(net, hosts["cli"], hosts["b"],
                                   [["init", None]])]
    of_c += [x[1] for x in client(net, hosts["cli"], hosts["c"],
                                  [["init", None]])]
    out = client(net, hosts["cli"], hosts["b"],
                 [["ping", x] for x in own_b + of_c[:1]])
    check_eq([st for st, _, _ in out[:len(own_b)]], [200] * len(own_b),
             "b's own sessions served while it is cut from redis")
    check_eq((out[-1][0], out[-1][2]), (503, "1"),
             "a takeover on b while it is cut from redis")
    net.heal(hosts["b"], hosts["r1"])
    T.wait_until(lambda: cluster(nodes["b"])["redis"]["up"], 15,
                 "b linked again")
    T.wait_until(lambda: weight(tmp, "b") == 100, 15, "b at 100 % again")
    for d in nodes.values():
        d.stop()
    net.remove()
    T.shutil.rmtree(tmp, ignore_errors=True)


def test_redis_minority():
    """The Redis primary cut off from its replicas and the Sentinels but
    not from the nodes (it is the minority side of a partition): the
    Sentinels promote a replica; the old primary refuses writes (every
    server has min-replicas-to-write 1, docs/CLUSTER.md); the nodes ask
    the Sentinels again and follow the new primary, and write there again
    what the old one refused; after the heal the old primary is a replica
    of the new one and the nodes stay: one truth, no session lost."""
    net = netns.Net()
    hosts = {n: net.host(n) for n in ("r1", "r2", "r3", "s1", "s2", "s3",
                                      "a", "b", "cli")}
    tmp = tempfile.mkdtemp(prefix="mcpdt-netns-")
    mr = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "3"]
    of_r1 = ["--replicaof", hosts["r1"].addr, "6379"]
    start_redis(net, hosts, tmp, {"r1": mr, "r2": mr + of_r1,
                                  "r3": mr + of_r1})
    T.wait_until(lambda: "min_slaves_good_slaves:2" in redis_cmd(
        net, hosts["cli"], hosts["r1"], "INFO", "replication"), 15,
        "two replicas in sync")
    start_sentinels(net, hosts, tmp, "r1")
    nodes = start_nodes(net, hosts, tmp, ("a", "b"))
    out = client(net, hosts["cli"], hosts["a"], [["init", None]])
    before = out[0][1]
    T.wait_until(lambda: redis_cmd(net, hosts["cli"], hosts["r2"], "HGET",
                                   "mcpd:rec:" + before, "owner") == "a",
                 5, "a session of a, replicated")
    # the partition: r1 alone with the nodes
    for o in ("r2", "r3", "s1", "s2", "s3"):
        net.drop(hosts["r1"], hosts[o])
    t0 = time.monotonic()
    old = hosts["r1"].addr

    def named():
        got = redis_cmd(net, hosts["cli"], hosts["s1"], "-p", "26379",
                        "SENTINEL", "get-master-addr-by-name", "mcpd")
        addr = got.split()[0] if got else old
        return addr if addr != old else None
    new = T.wait_until(named, 30, "the sentinels promote a replica",
                       interval=0.5)
    t_switch = time.monotonic() - t0
    # a session made on a meanwhile: on the old primary (refused) or the
    # new one, it must end up on the new
    during = client(net, hosts["cli"], hosts["a"], [["init", None]])[0]
    check_eq(during[0], 200, "a new session on a during the partition")
    T.wait_until(lambda: all(cluster(d)["redis"]["up"] and cluster(d)
                             ["redis"]["primary"] == "%s:6379" % new
                             for d in nodes.values()), 30,
                 "both nodes on the new primary", interval=0.5)
    t_follow = time.monotonic() - t0
    newh = [h for h in hosts.values() if h.addr == new][0]
    T.wait_until(lambda: redis_cmd(net, hosts["cli"], newh, "HGET",
                                   "mcpd:rec:" + during[1], "owner") == "a",
                 15, "the session made during the partition recorded on "
                 "the new primary")
    info("partition: replica promoted %.1f s after the cut; both nodes on "
         "it %.1f s after the cut" % (t_switch, t_follow))
    # b serves both of a's sessions from the new primary's records
    out = client(net, hosts["cli"], hosts["b"],
                 [["ping", before], ["ping", during[1]]])
    check_eq([x[0] for x in out], [200, 200],
             "b takes over a's sessions from the new primary")
    # healed: the old primary becomes the new one's replica; nobody
    # writes to it
    for o in ("r2", "r3", "s1", "s2", "s3"):
        net.heal(hosts["r1"], hosts[o])
    T.wait_until(lambda: redis_cmd(net, hosts["cli"], hosts["r1"], "ROLE")
                 .split("\n")[0] == "slave", 30,
                 "the old primary a replica after the heal", interval=0.5)
    for d in nodes.values():
        check_eq(cluster(d)["redis"]["primary"], "%s:6379" % new,
                 "still on the new primary")
    out = client(net, hosts["cli"], hosts["a"],
                 [["ping", before], ["ping", during[1]]])
    check_eq([x[0] for x in out], [200, 200], "a takes them back")
    for d in nodes.values():
        d.stop()
    net.remove()
    T.shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if not PLUGIN or not os.path.exists(PLUGIN):
        print("MCPD_PLUGIN (the conformance fixture plugin) not found: %r"
              % PLUGIN)
        sys.exit(99)
    if os.geteuid() != 0:
        print("FAIL: the namespace rig needs root (ip netns, nft)")
        sys.exit(1)
    T.main([test_three_nodes_in_namespaces, test_redis_minority],
           budget=300)
