#!/usr/bin/env python3
"""The catalog of mcpd.conf: exec tools (argv, never a shell; timeout,
output cap, exit status, cancellation), file resources (list, read, no way
out of the root, change notifications) and prompts, over HTTP."""

import http.client
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq  # noqa: E402
from test_mcp_http import post, request, init, parse_body  # noqa: E402

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806"
                    "0000001f15c4890000000d49444154789c6360f8cfc0000003"
                    "010100c9fe92ef0000000049454e44ae426082")


def setup_docs():
    root = tempfile.mkdtemp(prefix="mcpdr-")
    docs = os.path.join(root, "docs")
    os.makedirs(os.path.join(docs, "sub"))
    with open(os.path.join(docs, "a.txt"), "w") as f:
        f.write("alpha\n")
    with open(os.path.join(docs, "sub", "b.md"), "w") as f:
        f.write("# beta\n")
    with open(os.path.join(docs, "dot.png"), "wb") as f:
        f.write(PNG)
    with open(os.path.join(root, "secret.txt"), "w") as f:
        f.write("secret\n")
    os.symlink(os.path.join(root, "secret.txt"),
               os.path.join(docs, "escape.txt"))
    return root, docs


def catalog(docs):
    return """
session-responses json
tool "echo" {
	description "print the text"
	command "/bin/echo" "{text}"
}
tool "printf" {
	description "printf an argument as one word (b optional)"
	input-schema "{\\"type\\":\\"object\\",\\"properties\\":{\\"a\\":{\\"type\\":\\"string\\"},\\"b\\":{\\"type\\":\\"string\\"}},\\"required\\":[\\"a\\"]}"
	command "/usr/bin/printf" "[%%s]" "{a}" "{b}"
}
tool "fail" {
	description "exit 3"
	command "/bin/sh" "-c" "echo oops >&2; exit 3"
}
tool "slow" {
	description "sleep"
	command "/bin/sh" "-c" "sleep 30 & sleep 30"
	timeout 700ms
}
tool "sleeper" {
	description "sleep long"
	command "/bin/sleep" "30"
}
tool "seq" {
	description "a lot of output"
	command "/usr/bin/seq" "1" "100000"
	max-output 1K
}
resource "file:///docs/" {
	path "%s"
	description "the docs"
}
prompt "summarize" {
	description "summarize a topic"
	argument "topic" required "what"
	argument "style"
	message user "Summarize {topic} in a {style} style."
	message assistant "Sure."
}
""" % docs


def call(p, sid, name, args, rid=1):
    st, _, msgs = post(p, request("tools/call", {"name": name,
                                                  "arguments": args},
                                  rid=rid), sid)
    check_eq(st, 200, "tools/call %s" % name)
    return msgs[-1]


def text_of(res):
    return "".join(c.get("text", "") for c in res["result"]["content"])


def descendants_named(d, word):
    found = []
    for pid in T.descendants(d.pid):
        try:
            cl = T.cmdline(pid)
            if isinstance(cl, bytes):
                cl = cl.decode("utf-8", "replace")
            elif isinstance(cl, (list, tuple)):
                cl = " ".join(x.decode() if isinstance(x, bytes) else x
                              for x in cl)
            if word in cl:
                found.append(pid)
        except OSError:
            pass
    return found


def test_exec_tools():
    root, docs = setup_docs()
    d = T.Daemon(keys={"workers": "2"}, extra=catalog(docs))
    d.start()
    try:
        p = d.http_port
        sid, _ = init(p)
        evil = "hello; rm -rf / $(id) `id` | cat > /tmp/x"
        r = call(p, sid, "echo", {"text": evil})
        check_eq(text_of(r), evil + "\n", "echo: one argv word")
        check(not r["result"].get("isError"), "echo isError")
        r = call(p, sid, "printf", {"a": "--help", "b": "-v x"})
        check_eq(text_of(r), "[--help][-v x]", "options stay arguments")
        r = call(p, sid, "printf", {"a": "only"})
        check_eq(text_of(r), "[only]", "absent optional argument")
        r = call(p, sid, "fail", {})
        check(r["result"]["isError"], "non-zero exit is isError")
        check("exit status 3" in text_of(r) and "oops" in text_of(r),
              "fail text %r" % text_of(r))
        t0 = time.monotonic()
        r = call(p, sid, "slow", {})
        dt = time.monotonic() - t0
        check(r["result"]["isError"] and "timed out" in text_of(r),
              "timeout text %r" % text_of(r))
        check(dt < 3, "timeout took %.2f s" % dt)
        T.wait_until(lambda: not descendants_named(d, "sleep"), 10,
                     "the timed-out process group is gone")
        r = call(p, sid, "seq", {})
        t = text_of(r)
        check("[output truncated at 1024 bytes]" in t, "cap note")
        check(len(t) < 1200, "capped output is %d bytes" % len(t))
        # no zombies left under the workers
        for pid in T.descendants(d.pid):
            st = T.proc_stat(pid)
            check(st is None or st.get("state") != "Z",
                  "zombie %d" % pid)
        st, _, msgs = post(p, request("tools/list", rid=9), sid)
        tools = {t["name"]: t for t in msgs[-1]["result"]["tools"]}
        check_eq(tools["echo"]["inputSchema"]["required"], ["text"],
                 "derived schema")
    finally:
        d.stop()


def test_cancel_exec():
    root, docs = setup_docs()
    d = T.Daemon(keys={"workers": "1"}, extra=catalog(docs))
    d.start()
    try:
        p = d.http_port
        sid, _ = init(p)
        out = {}

        def run():
            out["r"] = post(p, request("tools/call", {"name": "sleeper",
                                                       "arguments": {}},
                                       rid=77), sid)

        th = threading.Thread(target=run)
        th.start()
        T.wait_until(lambda: descendants_named(d, "sleep"), 10,
                     "the tool started")
        st, _, _ = post(p, {"jsonrpc": "2.0",
                            "method": "notifications/cancelled",
                            "params": {"requestId": 77,
                                       "reason": "test"}}, sid)
        check_eq(st, 202, "notifications/cancelled")
        th.join(10)
        check(not th.is_alive(), "the cancelled call's stream ended")
        T.wait_until(lambda: not descendants_named(d, "sleep"), 10,
                     "the cancelled tool is killed")
        status, _, msgs = out["r"]
        check(all(m.get("id") != 77 or "error" in m for m in msgs),
              "no result after a cancel: %r" % msgs)
    finally:
        d.stop()


def test_file_resources():
    root, docs = setup_docs()
    d = T.Daemon(keys={"workers": "1"}, extra=catalog(docs))
    d.start()
    try:
        p = d.http_port
        sid, _ = init(p)
        st, _, msgs = post(p, request("resources/list"), sid)
        uris = sorted(r["uri"] for r in msgs[-1]["result"]["resources"])
        # a symbolic link is not listed (nor read, below)
        check_eq(uris, ["file:///docs/a.txt", "file:///docs/dot.png",
                        "file:///docs/sub/b.md"], "listed files")
        st, _, msgs = post(p, request("resources/templates/list"), sid)
        check_eq([t["uriTemplate"] for t in
                  msgs[-1]["result"]["resourceTemplates"]],
                 ["file:///docs/{+path}"], "templates")
        st, _, msgs = post(p, request("resources/read",
                                      {"uri": "file:///docs/a.txt"}), sid)
        c = msgs[-1]["result"]["contents"][0]
        check_eq((c["text"], c["mimeType"]), ("alpha\n", "text/plain"),
                 "a.txt")
        st, _, msgs = post(p, request("resources/read",
                                      {"uri": "file:///docs/sub/b.md"}), sid)
        check_eq(msgs[-1]["result"]["contents"][0]["mimeType"],
                 "text/markdown", "b.md type")
        st, _, msgs = post(p, request("resources/read",
                                      {"uri": "file:///docs/dot.png"}), sid)
        import base64
        check_eq(base64.b64decode(msgs[-1]["result"]["contents"][0]["blob"]),
                 PNG, "png blob")
        for bad in ("file:///docs/../secret.txt", "file:///docs/escape.txt",
                    "file:///docs/%2e%2e/secret.txt", "file:///docs/nope",
                    "file:///docs//etc/passwd"):
            st, _, msgs = post(p, request("resources/read", {"uri": bad}),
                               sid)
            check("error" in msgs[-1], "read %s: %r" % (bad, msgs[-1]))
        # subscribe, hold the GET stream, change the file
        st, _, msgs = post(p, request("resources/subscribe",
                                      {"uri": "file:///docs/a.txt"}), sid)
        check_eq(msgs[-1]["result"], {}, "subscribe")
        c = http.client.HTTPConnection("127.0.0.1", p, timeout=5)
        c.request("GET", "/mcp", headers={"Accept": "text/event-stream",
                                           "Mcp-Session-Id": sid})
        r = c.getresponse()
        check_eq(r.status, 200, "GET stream")
        time.sleep(0.2)
        with open(os.path.join(docs, "a.txt"), "w") as f:
            f.write("changed\n")
        buf = b""
        deadline = time.monotonic() + 5
        while b"notifications/resources/updated" not in buf:
            check(time.monotonic() < deadline, "no update within 5 s: %r"
                  % buf)
            buf += r.fp.read1(4096)
        check(b"file:///docs/a.txt" in buf, "update names the file")
        c.close()
    finally:
        d.stop()


def test_prompts():
    root, docs = setup_docs()
    d = T.Daemon(keys={"workers": "1"}, extra=catalog(docs))
    d.start()
    try:
        p = d.http_port
        sid, _ = init(p)
        st, _, msgs = post(p, request("prompts/list"), sid)
        pr = msgs[-1]["result"]["prompts"][0]
        check_eq(pr["name"], "summarize", "prompt name")
        check_eq([(a["name"], a["required"]) for a in pr["arguments"]],
                 [("topic", True), ("style", False)], "prompt arguments")
        st, _, msgs = post(p, request("prompts/get", {
            "name": "summarize", "arguments": {"topic": "C", "style":
                                               "terse"}}), sid)
        m = msgs[-1]["result"]["messages"]
        check_eq(m[0]["content"]["text"], "Summarize C in a terse style.",
                 "substituted")
        check_eq(m[1]["role"], "assistant", "second role")
        st, _, msgs = post(p, request("prompts/get", {
            "name": "summarize", "arguments": {}}), sid)
        check_eq(msgs[-1]["error"]["code"], -32602, "missing argument")
    finally:
        d.stop()


def test_reload_catalog():
    """SIGHUP with a changed catalog: in place, the session lives on, its
    GET stream hears list_changed, a run in flight finishes."""
    root, docs = setup_docs()
    extra = catalog(docs) + """
tool "nap" {
	description "sleep a second, then say so"
	command "/bin/sh" "-c" "sleep 1; echo rested"
}
"""
    d = T.Daemon(keys={"workers": "2"}, extra=extra)
    d.start()
    try:
        p = d.http_port
        sid, _ = init(p)
        before = d.pids(d.status())
        c = http.client.HTTPConnection("127.0.0.1", p, timeout=5)
        c.request("GET", "/mcp", headers={"Accept": "text/event-stream",
                                           "Mcp-Session-Id": sid})
        g = c.getresponse()
        check_eq(g.status, 200, "GET stream")
        out = {}

        def nap():
            out["r"] = call(p, sid, "nap", {}, rid=41)

        th = threading.Thread(target=nap)
        th.start()
        # the run is in flight (its "sleep 1" runs), not a fixed 0.3 s
        T.wait_until(lambda: descendants_named(d, "sleep"), 10,
                     "the nap started")
        d.extra = extra.replace('tool "echo" {', 'tool "echo2" {') + """
tool "added" {
	description "new"
	command "/bin/echo" "added"
}
"""
        d.write_conf()
        rc, o, e = d.ctl("reload")
        check_eq(rc, 0, "mcpctl reload (%r)" % e)
        check("catalog updated" in o, "reload output %r" % o)
        buf = b""
        deadline = time.monotonic() + 5
        while b"notifications/tools/list_changed" not in buf:
            check(time.monotonic() < deadline, "no list_changed: %r" % buf)
            buf += g.fp.read1(4096)
        st, _, msgs = post(p, request("tools/list", rid=2), sid)
        check_eq(st, 200, "tools/list after the reload (same session)")
        names = [t["name"] for t in msgs[-1]["result"]["tools"]]
        check("added" in names and "echo2" in names and "echo" not in names,
              "tools after the reload: %r" % names)
        r = call(p, sid, "added", {})
        check_eq(text_of(r), "added\n", "a new tool runs")
        st, _, msgs = post(p, request("tools/call", {"name": "echo",
                                                      "arguments": {}},
                                      rid=3), sid)
        check_eq(msgs[-1]["error"]["code"], -32602, "a removed tool")
        th.join(10)
        check(not th.is_alive() and "r" in out, "the nap did not end")
        check_eq(text_of(out["r"]), "rested\n",
                 "the run in flight during the reload")
        check_eq(d.pids(d.status()), before, "no process was replaced")
        c.close()
    finally:
        d.stop()


if __name__ == "__main__":
    T.main([test_exec_tools, test_cancel_exec, test_file_resources,
            test_prompts, test_reload_catalog])
