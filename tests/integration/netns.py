"""
netns.py -- a network of the test's own (root; iproute2, nftables): one
namespace per host, each with an interface on a bridge that lives in a
namespace of its own, so nothing of the machine's own network is touched.

    net = Net()                     # 10.R.0.0/24, R from the pid
    a = net.host("a")               # namespace mcpdt-PID-a, 10.R.0.2
    net.run(a, ["redis-server", ...])   # a Popen in it
    net.drop(a, b)                  # nft: a and b stop hearing each other
    net.heal(a, b)
    net.link(a, False)              # its interface down (fails fast)
    net.remove()                    # processes killed, namespaces gone

A partition by nft drops packets (a real one: connections time out);
ip link down makes the kernel answer at once (connections fail fast):
tests use each on purpose.  Every namespace is named after the process
that made it (mcpdt-PID-...): those of a test that died are removed by
the next Net() (cleanup_stale), and remove() runs at exit however the
test ends (mcpdtest's cleanup).
"""

import os
import re
import signal
import subprocess
import time

import mcpdtest as T

PREFIX = "mcpdt-"


def ip(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip"] + list(args)
    r = subprocess.run(cmd, capture_output=True, timeout=20)
    if check and r.returncode != 0:
        raise T.TestFailure("%s: %s" % (" ".join(cmd),
                                        r.stderr.decode().strip()))
    return r.stdout.decode()


def nft(ns, script):
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"],
                       input=script.encode(), capture_output=True,
                       timeout=20)
    if r.returncode != 0:
        raise T.TestFailure("nft in %s: %s" % (ns, r.stderr.decode()))


def cleanup_stale():
    """Namespaces of test processes that are gone."""
    for line in ip("netns", "list", check=False).splitlines():
        name = line.split()[0] if line.strip() else ""
        m = re.match(r"^%s(\d+)-" % PREFIX, name)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            _kill_in(name)
            ip("netns", "del", name, check=False)


def _kill_in(ns):
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                       timeout=20)
    for pid in r.stdout.decode().split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass


class Host(object):
    def __init__(self, net, name, addr):
        self.net = net
        self.name = name
        self.ns = "%s%d-%s" % (PREFIX, os.getpid(), name)
        self.addr = addr


class Net(object):
    def __init__(self):
        cleanup_stale()
        pid = os.getpid()
        self.sub = 100 + pid % 150           # 10.SUB.0.0/24
        self.sw = "%s%d-sw" % (PREFIX, pid)
        self.hosts = []
        self.procs = []
        self.failed = False
        self.proc = None                # (mcpdtest's cleanup looks)
        self.name = "netns"
        self.dir = None
        ip("netns", "add", self.sw)
        ip("link", "add", "br0", "type", "bridge", ns=self.sw)
        ip("link", "set", "br0", "up", ns=self.sw)
        with T._daemons_lock:
            T._daemons.append(self)

    def host(self, name):
        h = Host(self, name, "10.%d.0.%d" % (self.sub, len(self.hosts) + 2))
        ip("netns", "add", h.ns)
        self.hosts.append(h)
        peer = "v%d" % len(self.hosts)
        # made in the switch namespace, one end moved to the host's
        ip("link", "add", peer, "type", "veth", "peer", "name", "eth0",
           ns=self.sw)
        ip("link", "set", "eth0", "netns", h.ns, ns=self.sw)
        ip("link", "set", peer, "master", "br0", ns=self.sw)
        ip("link", "set", peer, "up", ns=self.sw)
        ip("addr", "add", h.addr + "/24", "dev", "eth0", ns=h.ns)
        ip("link", "set", "eth0", "up", ns=h.ns)
        ip("link", "set", "lo", "up", ns=h.ns)
        return h

    def run(self, h, argv, **kw):
        """A process in h's namespace (ip netns exec execs: its pid is
        the program's)."""
        p = subprocess.Popen(["ip", "netns", "exec", h.ns] + list(argv),
                             start_new_session=True, close_fds=True, **kw)
        self.procs.append(p)
        return p

    def call(self, h, argv, timeout=60, **kw):
        return subprocess.run(["ip", "netns", "exec", h.ns] + list(argv),
                              capture_output=True, timeout=timeout, **kw)

    def drop(self, a, b):
        """a and b stop hearing each other (both directions, at a)."""
        nft(a.ns, "table inet mcpdtest {\n"
                  " chain in { type filter hook input priority 0;\n"
                  "  ip saddr %s drop\n }\n"
                  " chain out { type filter hook output priority 0;\n"
                  "  ip daddr %s drop\n }\n}\n" % (b.addr, b.addr))

    def heal(self, a, b):
        subprocess.run(["ip", "netns", "exec", a.ns, "nft", "delete",
                        "table", "inet", "mcpdtest"], capture_output=True,
                       timeout=20)

    def link(self, h, up):
        ip("link", "set", "eth0", "up" if up else "down", ns=h.ns)

    def log(self):
        return ""

    def remove(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        for h in self.hosts:
            _kill_in(h.ns)
        deadline = time.monotonic() + 10
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for h in self.hosts:
            ip("netns", "del", h.ns, check=False)
        ip("netns", "del", self.sw, check=False)
        self.hosts = []
