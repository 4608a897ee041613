#!/usr/bin/env python3
"""File resources beneath their root, as an attacker with write access to
the tree would try them: a file swapped with a symbolic link to a secret
while it is read, a FIFO, dot-files, a link inside the tree; and the list
following the directory, and mcpd -n saying a root is missing."""

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402

ACCEPT = "application/json, text/event-stream"
V = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": {}}
SECRET = "SECRET-outside-the-root"


class Client(object):
    def __init__(self, port):
        self.port = port
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def ask(self, method, params=None, name=None):
        p = dict(params or {})
        p["_meta"] = META
        b = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                        "params": p}).encode()
        h = ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
             "application/json\r\nAccept: %s\r\nMCP-Protocol-Version: %s\r\n"
             "Mcp-Method: %s\r\n" % (ACCEPT, V, method))
        if name is not None:
            h += "Mcp-Name: %s\r\n" % name
        h += "Content-Length: %d\r\n\r\n" % len(b)
        self.s.sendall(h.encode() + b)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        n = 0
        for ln in head.split(b"\r\n"):
            if ln.lower().startswith(b"content-length:"):
                n = int(ln.split(b":")[1])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return json.loads(body)

    def _fill(self):
        b = self.s.recv(65536)
        if not b:
            raise T.TestFailure("closed")
        self.buf += b

    def read(self, uri):
        return self.ask("resources/read", {"uri": uri}, name=uri)

    def uris(self):
        r = self.ask("resources/list")["result"]["resources"]
        return sorted(x["uri"] for x in r)

    def close(self):
        self.s.close()


def text_of(m):
    if "error" in m:
        return None
    c = m["result"]["contents"][0]
    if "blob" in c:
        return base64.b64decode(c["blob"]).decode()
    return c.get("text")


def tree(d):
    root = os.path.join(d.dir, "docs")
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "a.txt"), "w") as f:
        f.write("public a")
    with open(os.path.join(root, "sub", "b.txt"), "w") as f:
        f.write("public b")
    secret = os.path.join(d.dir, "secret.txt")
    with open(secret, "w") as f:
        f.write(SECRET)
    return root, secret


def test_swap_race():
    """a.txt is a file and a link to a secret by turns while it is read:
    the secret never comes back (realpath-then-open gave it 10 times in
    2,550 reads)."""
    d = T.Daemon(keys={"workers": "1"})
    root, secret = tree(d)
    d.extra = ('resource "file:///docs/" {\n'
                             '\tpath "%s"\n}\n' % root)
    d.write_conf()
    d.start()
    stop = threading.Event()
    swaps = [0]

    def swapper():
        a = os.path.join(root, "a.txt")
        while not stop.is_set():
            os.symlink(secret, a + ".l")
            os.rename(a + ".l", a)
            with open(a + ".f", "w") as f:
                f.write("public a")
            os.rename(a + ".f", a)
            swaps[0] += 1

    t = threading.Thread(target=swapper)
    try:
        c = Client(d.http_port)
        t.start()
        seen = {"public": 0, "not found": 0}
        for _ in range(2550):
            m = c.read("file:///docs/a.txt")
            txt = text_of(m)
            check(txt is None or SECRET not in txt,
                  "the secret came back: %r" % m)
            seen["public" if txt is not None else "not found"] += 1
        info("2550 reads while a.txt was swapped %d times: %r" %
             (swaps[0], seen))
        check(seen["public"] > 0, "the file was read at times")
        c.close()
    finally:
        stop.set()
        t.join()
        d.stop()


def test_fifo_dotfiles_links():
    d = T.Daemon(keys={"workers": "1"})
    root, secret = tree(d)
    os.mkfifo(os.path.join(root, "pipe"))
    with open(os.path.join(root, ".env"), "w") as f:
        f.write("TOKEN=hidden")
    os.makedirs(os.path.join(root, ".git"))
    with open(os.path.join(root, ".git", "config"), "w") as f:
        f.write("[core]")
    os.symlink(os.path.join(root, "a.txt"), os.path.join(root, "link.txt"))
    os.symlink(secret, os.path.join(root, "out.txt"))
    dots = os.path.join(d.dir, "dots")
    os.makedirs(dots)
    with open(os.path.join(dots, ".profile"), "w") as f:
        f.write("dot file served")
    d.extra = ('resource "file:///docs/" {\n'
                             '\tpath "%s"\n}\n'
                             'resource "file:///dots/" {\n\tpath "%s"\n'
                             '\tdot-files yes\n}\n' % (root, dots))
    d.write_conf()
    d.start()
    try:
        c = Client(d.http_port)
        t0 = time.monotonic()
        m = c.read("file:///docs/pipe")
        check("error" in m, "a FIFO is no resource: %r" % m)
        check(time.monotonic() - t0 < 5, "answered at once, not blocked")
        check_eq(T.http_get(d.http_port).status, 200, "the worker serves")
        uris = c.uris()
        info("listed: %r" % uris)
        check_eq([u for u in uris if u.startswith("file:///docs/")],
                 ["file:///docs/a.txt", "file:///docs/sub/b.txt"],
                 "no dot-file, FIFO or link listed")
        for u in ("file:///docs/.env", "file:///docs/.git/config",
                  "file:///docs/link.txt", "file:///docs/out.txt",
                  "file:///docs/sub/../a.txt", "file:///docs/./a.txt"):
            m = c.read(u)
            check("error" in m, "%s is not read: %r" % (u, m))
        check_eq(text_of(c.read("file:///docs/sub/b.txt")), "public b",
                 "a file beneath the root")
        check("file:///dots/.profile" in uris, "dot-files yes: listed")
        check_eq(text_of(c.read("file:///dots/.profile")),
                 "dot file served", "dot-files yes: read")
        c.close()
    finally:
        d.stop()


def test_list_follows_the_directory():
    d = T.Daemon(keys={"workers": "1"})
    root, _ = tree(d)
    d.extra = ('resource "file:///docs/" {\n'
                             '\tpath "%s"\n}\n' % root)
    d.write_conf()
    d.start()
    try:
        c = Client(d.http_port)
        new = os.path.join(root, "sub", "new.txt")
        with open(new, "w") as f:
            f.write("new")
        T.wait_until(lambda: "file:///docs/sub/new.txt" in c.uris(), 10,
                     "a new file listed")
        check_eq(text_of(c.read("file:///docs/sub/new.txt")), "new",
                 "and read")
        os.makedirs(os.path.join(root, "later"))
        with open(os.path.join(root, "later", "c.txt"), "w") as f:
            f.write("c")
        T.wait_until(lambda: "file:///docs/later/c.txt" in c.uris(), 10,
                     "a file of a new directory listed")
        os.unlink(new)
        T.wait_until(lambda: "file:///docs/sub/new.txt" not in c.uris(), 10,
                     "a removed file unlisted")
        c.close()
    finally:
        d.stop()


def test_missing_root():
    d = T.Daemon(keys={"workers": "1"})
    d.extra = ('resource "file:///gone/" {\n'
                             '\tpath "/nonexistent/mcpd-test"\n}\n')
    d.write_conf()
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=20)
    err = r.stderr.decode()
    check(r.returncode != 0, "mcpd -n fails: %d" % r.returncode)
    check("resource file:///gone/: path /nonexistent/mcpd-test: No such "
          "file or directory" in err and ":%s" % "" in err,
          "says where and why: %r" % err)
    d.remove()


if __name__ == "__main__":
    T.main([test_swap_race, test_fifo_dotfiles_links,
            test_list_follows_the_directory, test_missing_root])
