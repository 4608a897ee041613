#!/usr/bin/env python3
"""Step-up authorization: a tool, resource or prompt may need scopes
(scope in its block of mcpd.conf, mcpd_set_scope() in a plugin).  On a
listener with an auth block, a tools/call, resources/read or prompts/get
whose token lacks one of them gets 403 and a WWW-Authenticate challenge
(RFC 6750 3.1: error="insufficient_scope", the scopes needed, the
metadata's URL) before anything runs or is sent; a token with them, or
more, is served.  Scopes are whole words ("mcp:tool" is not
"mcp:tools"), judged by the body in both eras, for a whole batch at
once, and again by the worker a connection is handed over to.  Lists are
not filtered; a listener without auth, and stdio, do not look."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from test_auth import (META, ISSUER, Keys, auth_daemon, claims,  # noqa: E402
                       initialize, new_token)
from test_mcp_http import post, request  # noqa: E402
import test_stateless as S  # noqa: E402

PLUGIN = os.environ.get("MCPD_PLUGIN", "")
DEPLOY = "mcp:tools deploy:write"

CATALOG = """
access-log "%(dir)s/access.log"
tool "deploy" {
	description "needs two scopes; says it ran"
	command "/bin/sh" "-c" "echo ran >> %(dir)s/deploy.ran; echo deployed"
	scope mcp:tools deploy:write
}
tool "open" {
	description "needs none; says it ran"
	command "/bin/sh" "-c" "echo ran >> %(dir)s/open.ran; echo opened"
}
resource "file:///secret.txt" {
	path "%(dir)s/secret.txt"
	scope files:read
}
resource "file:///docs/" {
	path "%(dir)s/docs"
	scope "files:read" "docs:read"
}
resource "file:///public.txt" {
	path "%(dir)s/public.txt"
}
prompt "review" {
	message user "review this"
	scope prompts:get
}
"""


def scoped_daemon(lines, workers="2"):
    d = auth_daemon(lines, keys={"workers": workers,
                                 "plugin": '"%s"' % PLUGIN})
    os.mkdir(os.path.join(d.dir, "docs"))
    for name, text in (("secret.txt", "secret\n"), ("public.txt", "hi\n"),
                       ("docs/a.txt", "doc a\n")):
        with open(os.path.join(d.dir, name), "w") as f:
            f.write(text)
    d.extra += CATALOG % {"dir": d.dir}
    d.write_conf()
    return d


def challenge(value):
    """Bearer k="v", k="v": the parameters, in order (RFC 6750 3)."""
    check(value is not None and value.startswith("Bearer "),
          "a Bearer challenge: %r" % value)
    rest = value[7:]
    params = re.findall(r'\s*([a-z_]+)="([^"\\]*)"\s*(?:,|$)', rest)
    check_eq(", ".join('%s="%s"' % kv for kv in params), rest,
             "the challenge parses whole")
    return params


def check_403(st, h, body, need, what):
    """403 insufficient_scope naming exactly need, as a JSON-RPC error."""
    check_eq(st, 403, what)
    check_eq(challenge(h.get("www-authenticate")), [
        ("error", "insufficient_scope"), ("scope", need),
        ("resource_metadata", META),
        ("error_description",
         "The access token lacks a scope this request needs")],
        "%s: the challenge" % what)
    check(h.get("content-type", "").startswith("application/json"),
          "%s: JSON, not a stream: %r" % (what, h.get("content-type")))
    check_eq(body[0]["error"]["code"], -32000, "%s: the error" % what)
    check(need in body[0]["error"]["message"],
          "%s: the message %r" % (what, body[0]["error"]["message"]))


def ran(d, tool):
    path = os.path.join(d.dir, tool + ".ran")
    return len(open(path).read().splitlines()) if os.path.exists(path) else 0


def session(port, tok, version="2025-11-25"):
    h = {"Authorization": "Bearer " + tok}
    st, hh, _ = post(port, request("initialize", {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "test_scope", "version": "1"}}), headers=h)
    check_eq(st, 200, "initialize")
    sid = hh["mcp-session-id"]
    post(port, {"jsonrpc": "2.0", "method": "notifications/initialized"},
         sid, headers=h)
    return sid, h


def call(port, sid, h, method, params, rid=2):
    return post(port, request(method, params, rid=rid), sid, headers=h)


def test_insufficient_scope():
    """A token without a scope the tool needs: 403 with exactly the
    challenge, and the tool does not run; a prefix of a needed scope, or
    a needed scope's prefix, is not it; all of them, or more, in any
    order: 200.  A tool that needs none serves anyone, tools/list shows
    every tool, and the listener without auth does not look."""
    none, l0 = new_token("nobody")
    prefix, l1 = new_token("prefix", "mcp:tool", "deploy:writer",
                           "deploy:writ")
    half, l2 = new_token("half", "mcp:tools")
    full, l3 = new_token("full", "deploy:write", "mcp:tools")
    more, l4 = new_token("more", "a", "mcp:tools", "x:y", "deploy:write",
                         "z")
    case, l5 = new_token("case", "MCP:TOOLS", "Deploy:Write")
    d = scoped_daemon([l0, l1, l2, l3, l4, l5])
    d.start()
    p = d.auth_port
    deploy = {"name": "deploy", "arguments": {}}
    for who, tok in (("no scopes", none), ("prefixes", prefix),
                     ("one of two", half), ("another case", case)):
        sid, h = session(p, tok)
        st, hh, body = call(p, sid, h, "tools/call", deploy)
        check_403(st, hh, body, DEPLOY, "tools/call deploy, %s" % who)
        st, _, msgs = call(p, sid, h, "tools/call", {"name": "open",
                                                     "arguments": {}}, 3)
        check_eq(st, 200, "tools/call open, %s" % who)
        st, _, msgs = call(p, sid, h, "tools/list", None, 4)
        names = [t["name"] for t in msgs[-1]["result"]["tools"]]
        check("deploy" in names and "test_scoped_tool" in names,
              "tools/list is not filtered: %r" % names)
        # a name that is no tool: no scope to lack, the usual error
        st, _, msgs = call(p, sid, h, "tools/call", {"name": "nosuch"}, 5)
        check_eq((st, msgs[-1]["error"]["code"]), (200, -32602),
                 "an unknown tool, %s" % who)
    check_eq(ran(d, "deploy"), 0, "deploy ran for a token without scope")
    check_eq(ran(d, "open"), 4, "open's runs")
    for who, tok in (("both", full), ("a superset", more)):
        sid, h = session(p, tok)
        st, _, msgs = call(p, sid, h, "tools/call", deploy)
        check_eq(st, 200, "tools/call deploy, %s" % who)
        check_eq(msgs[-1]["result"]["content"][0]["text"].strip(),
                 "deployed", "deploy's answer, %s" % who)
    check_eq(ran(d, "deploy"), 2, "deploy's runs")
    # no auth on the loopback listener: nobody's scopes are looked at
    sid, _ = session(d.http_port, "x")
    st, _, msgs = call(d.http_port, sid, {}, "tools/call", deploy)
    check_eq(st, 200, "deploy on the listener without auth")
    d.stop()


def test_resources_and_prompts():
    """resources/read of a file, of a directory's file (its scope is each
    file's), prompts/get, and resources/subscribe and completion/complete
    of them: 403 without their scopes, 200 with them; a
    resource that needs none is read by anyone."""
    none, l0 = new_token("nobody", "mcp:tools")
    files, l1 = new_token("files", "files:read")
    both, l2 = new_token("both", "files:read", "docs:read", "prompts:get")
    d = scoped_daemon([l0, l1, l2])
    d.start()
    p = d.auth_port
    cases = (("resources/read", {"uri": "file:///secret.txt"}, "files:read"),
             ("resources/read", {"uri": "file:///docs/a.txt"},
              "files:read docs:read"),
             ("prompts/get", {"name": "review"}, "prompts:get"),
             # what names the same items: their scope too
             ("resources/subscribe", {"uri": "file:///secret.txt"},
              "files:read"),
             ("completion/complete", {"ref": {"type": "ref/prompt",
                                              "name": "review"},
                                      "argument": {"name": "a",
                                                   "value": ""}},
              "prompts:get"))
    sid, h = session(p, none)
    for method, params, need in cases:
        st, hh, body = call(p, sid, h, method, params)
        check_403(st, hh, body, need, "%s %r" % (method, params))
    st, _, msgs = call(p, sid, h, "resources/read",
                       {"uri": "file:///public.txt"})
    check_eq((st, msgs[-1]["result"]["contents"][0]["text"]), (200, "hi\n"),
             "a resource without scope")
    sid, h = session(p, files)
    st, _, _ = call(p, sid, h, "resources/read", {"uri": "file:///secret.txt"})
    check_eq(st, 200, "secret.txt with files:read")
    st, hh, body = call(p, sid, h, "resources/read",
                        {"uri": "file:///docs/a.txt"})
    check_403(st, hh, body, "files:read docs:read", "docs/a.txt, one of two")
    sid, h = session(p, both)
    for method, params, need in cases:
        st, _, msgs = call(p, sid, h, method, params)
        check(st == 200 and "result" in msgs[-1],
              "%s %r with its scopes: %r %r" % (method, params, st, msgs))
    d.stop()


def test_stateless_era():
    """2026-07-28: the same 403, judged by the body's params whatever
    Mcp-Name says; a right token is served."""
    half, l0 = new_token("half", "mcp:tools")
    full, l1 = new_token("full", DEPLOY, "prompts:get", "files:read")
    d = scoped_daemon([l0, l1])
    d.start()
    p = d.auth_port
    ha = {"Authorization": "Bearer " + half}
    hf = {"Authorization": "Bearer " + full}
    b = S.body("tools/call", {"name": "deploy", "arguments": {}})
    st, hh, body = S.post(p, b, headers=ha)
    check_403(st, hh, body, DEPLOY, "stateless tools/call deploy")
    # Mcp-Name says a tool that needs nothing: the body is what counts
    st, hh, body = S.post(p, b, headers=dict(ha, **{"Mcp-Name": "open"}))
    check_403(st, hh, body, DEPLOY, "stateless, Mcp-Name open, body deploy")
    for method, params, need in (
            ("prompts/get", {"name": "review"}, "prompts:get"),
            ("resources/read", {"uri": "file:///secret.txt"}, "files:read")):
        st, hh, body = S.post(p, S.body(method, params), headers=ha)
        check_403(st, hh, body, need, "stateless %s" % method)
        st, _, msgs = S.post(p, S.body(method, params), headers=hf)
        check(st == 200 and "result" in msgs[-1],
              "stateless %s with its scope: %r %r" % (method, st, msgs))
    st, _, msgs = S.post(p, b, headers=hf)
    check_eq(st, 200, "stateless deploy with both scopes")
    check_eq(ran(d, "deploy"), 1, "deploy's runs")
    d.stop()


def test_plugin_scope():
    """A plugin's mcpd_set_scope(): its tool needs two scopes, its
    template one, for every URI it matches."""
    tools, l0 = new_token("tools", "mcp:tools")
    admin, l1 = new_token("admin", "mcp:tools", "plugin:admin", "plugin:read")
    d = scoped_daemon([l0, l1])
    d.start()
    p = d.auth_port
    sid, h = session(p, tools)
    st, hh, body = call(p, sid, h, "tools/call", {"name": "test_scoped_tool"})
    check_403(st, hh, body, "mcp:tools plugin:admin", "the plugin's tool")
    st, hh, body = call(p, sid, h, "resources/read",
                        {"uri": "test://scoped/7"})
    check_403(st, hh, body, "plugin:read", "the plugin's template")
    st, _, _ = call(p, sid, h, "tools/call", {"name": "test_simple_text"})
    check_eq(st, 200, "a plugin tool without scope")
    sid, h = session(p, admin)
    st, _, msgs = call(p, sid, h, "tools/call", {"name": "test_scoped_tool"})
    check_eq((st, msgs[-1]["result"]["content"][0]["text"]),
             (200, "scoped tool ran"), "the plugin's tool with its scopes")
    st, _, msgs = call(p, sid, h, "resources/read",
                       {"uri": "test://scoped/7"})
    check_eq((st, msgs[-1]["result"]["contents"][0]["uri"]),
             (200, "test://scoped/7"), "the template with its scope")
    d.stop()


def test_batch():
    """2025-03-26: a batch with one call that lacks a scope is 403 as a
    whole, and none of its calls runs; with the scopes, the batch is
    answered as a stream."""
    half, l0 = new_token("half", "mcp:tools")
    full, l1 = new_token("full", DEPLOY)
    d = scoped_daemon([l0, l1])
    d.start()
    p = d.auth_port
    batch = [request("ping", rid=1),
             request("tools/call", {"name": "open", "arguments": {}}, rid=2),
             {"jsonrpc": "2.0", "method": "notifications/initialized"},
             request("tools/call", {"name": "deploy", "arguments": {}},
                     rid=3)]
    sid, h = session(p, half, "2025-03-26")
    st, hh, body = post(p, batch, sid, headers=h)
    check_403(st, hh, body, DEPLOY, "a batch with deploy")
    time.sleep(0.5)
    check_eq((ran(d, "open"), ran(d, "deploy")), (0, 0),
             "nothing of the refused batch ran")
    st, hh, msgs = post(p, batch[:3], sid, headers=h)
    check_eq(st, 200, "a batch without deploy")
    sid, h = session(p, full, "2025-03-26")
    st, hh, msgs = post(p, batch, sid, headers=h)
    check(st == 200 and hh["content-type"].startswith("text/event-stream"),
          "the batch with the scopes: %r %r" % (st, hh))
    check_eq(sorted(m["id"] for m in msgs if "id" in m), [1, 2, 3],
             "its answers")
    check_eq((ran(d, "open"), ran(d, "deploy")), (2, 1), "the runs")
    d.stop()


def test_jwt_scope():
    """A JSON Web Token's scope claim (or scp): the same rules, from the
    token verified and from the worker's cache."""
    tok, line = new_token("static", "mcp:tools")
    k = Keys()
    d = scoped_daemon([line])
    jwks = os.path.join(d.dir, "jwks.json")
    with open(jwks, "w") as f:
        json.dump(k.jwks(), f)
    os.chmod(jwks, 0o644)
    d.extra = d.extra.replace("	static-tokens", '	jwt-issuer "%s"\n'
                              '	jwks-file "%s"\n	static-tokens' %
                              (ISSUER, jwks))
    d.write_conf()
    d.start()
    p = d.auth_port
    half = k.sign("ES256", "e1", claims(scope="mcp:tools deploy:writ"))
    full = k.sign("EdDSA", "d1", claims(scope="x " + DEPLOY))
    scp = k.sign("RS256", "r1", claims(scope=None,
                                       scp=["deploy:write", "mcp:tools"]))
    for _ in range(2):      # the second time from the cache
        sid, h = session(p, half)
        st, hh, body = call(p, sid, h, "tools/call", {"name": "deploy"})
        check_403(st, hh, body, DEPLOY, "a JWT without deploy:write")
        for what, t in (("scope", full), ("scp", scp)):
            sid, h = session(p, t)
            st, _, _ = call(p, sid, h, "tools/call", {"name": "deploy"})
            check_eq(st, 200, "a JWT whose %s has both" % what)
    d.stop()


def test_handoff():
    """A session of worker 1 called through worker 0: the owner checks
    the token again when the connection comes, so it is the owner's
    judgement on the token's own scopes -- 403 for alice's token without
    deploy:write, 200 for her other token with it."""
    import test_handoff as H
    weak, l0 = new_token("alice", "mcp:tools")
    strong, l1 = new_token("alice", DEPLOY)
    d = scoped_daemon([l0, l1], workers="2")
    d.start()
    p = d.auth_port

    def conn_on(worker):
        for _ in range(200):
            c = H.Conn(p)
            if c.worker == worker:
                return c
            c.close()
        raise T.TestFailure("no connection on worker %d" % worker)

    def send(c, msg, sid, tok):
        h = {"Content-Type": "application/json", "Accept": H.ACCEPT,
             "Authorization": "Bearer " + tok,
             "MCP-Protocol-Version": "2025-11-25"}
        if sid:
            h["Mcp-Session-Id"] = sid
        st, hh, body = c.send("POST", "/mcp", h, json.dumps(msg).encode())
        return st, hh, H.messages(hh, body)
    owner = conn_on(1)
    st, hh, _ = send(owner, request("initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test_scope", "version": "1"}}), None, weak)
    check_eq(st, 200, "initialize on worker 1")
    sid = hh["mcp-session-id"]
    deploy = request("tools/call", {"name": "deploy", "arguments": {}}, 2)
    for i in range(3):
        other = conn_on(0)
        st, hh, body = send(other, deploy, sid, weak)
        check_403(st, hh, body, DEPLOY, "through worker 0, weak token")
        other.close()
        other = conn_on(0)
        st, _, msgs = send(other, deploy, sid, strong)
        check_eq(st, 200, "through worker 0, her token with the scope")
        other.close()
    check_eq(ran(d, "deploy"), 3, "deploy's runs")
    owner.close()
    d.stop()


def test_audit_and_metrics():
    """The audit line of a refused call says insufficient_scope (and
    which call, for a batch), mcpd_rejections_total counts it under
    reason scope, and the token is never written."""
    half, l0 = new_token("half", "mcp:tools")
    d = scoped_daemon([l0])
    d.start()
    p = d.auth_port
    sid, h = session(p, half)
    call(p, sid, h, "tools/call", {"name": "deploy"})
    call(p, sid, h, "prompts/get", {"name": "review"}, 3)
    call(p, sid, h, "tools/call", {"name": "open"}, 4)
    sid, h = session(p, half, "2025-03-26")
    post(p, [request("ping", rid=1),
             request("resources/read", {"uri": "file:///secret.txt"}, 2)],
         sid, headers=h)
    log = os.path.join(d.dir, "access.log")
    lines = T.wait_until(lambda: (os.path.exists(log) and
                                  len(open(log).read().splitlines()) >= 4 and
                                  open(log).read().splitlines()), 10,
                         "four audit lines")
    check(all(half not in ln for ln in lines), "the token is written")
    pat = (r'principal=static:half addr=127\.0\.0\.1 method=%s name="%s" '
           r'outcome=%s status=%d rpc=%s ')
    # (each worker writes its own lines: two requests served one after
    # the other by two workers may be written in either order)
    for m, n, o, st, rpc in (
            ("tools/call", "deploy", "insufficient_scope", 403, "-32000"),
            ("prompts/get", "review", "insufficient_scope", 403, "-32000"),
            ("tools/call", "open", "ok", 200, "0"),
            ("resources/read", "file:///secret.txt", "insufficient_scope",
             403, "-32000")):
        want = pat % (re.escape(m), re.escape(n), o, st, rpc)
        check(len([ln for ln in lines if re.search(want, ln)]) == 1,
              "one audit line of %s %s: %r" % (m, n, lines))

    def scope_rejections():
        import urllib.request
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" %
                                      d.admin_port, timeout=5).read()
        m = re.search(r'^mcpd_rejections_total\{reason="scope"\} (\d+)$',
                      text.decode(), re.M)
        return int(m.group(1)) if m else -1
    T.wait_until(lambda: scope_rejections() == 3, 10,
                 "three scope rejections counted")
    d.stop()


def test_long_challenge():
    """The longest challenges fit a response head: a resource-uri of 511
    bytes, its 401 with 32 scopes-supported, and a 403 for an item that
    needs 16 scopes (a head of 768 bytes cut them, and its blank line)."""
    import test_auth as A
    tok, line = new_token("t", "mcp:tools")
    d = scoped_daemon([line])
    long_uri = "https://mcp.example.com/" + "p" * (511 - 24)
    meta = "https://mcp.example.com" + "/.well-known/oauth-protected-" \
        "resource/" + "p" * (511 - 24)
    many = " ".join("scope-number-%02d" % i for i in range(16))
    d.extra = d.extra.replace(A.RESOURCE, long_uri).replace(
        "scopes-supported mcp:tools mcp:read", "scopes-supported " +
        " ".join("supported-scope-%02d" % i for i in range(32)))
    d.extra += 'tool "many" {\n\tdescription "d"\n\tcommand "/bin/true"' \
        '\n\tscope %s\n}\n' % many
    d.write_conf()
    d.start()
    p = d.auth_port
    st, h, _ = initialize(p)
    check_eq(st, 401, "no token")
    check_eq(challenge(h.get("www-authenticate"))[0],
             ("resource_metadata", meta), "the 401's metadata URL")
    sid, h = session(p, tok)
    st, hh, body = call(p, sid, h, "tools/call", {"name": "many"})
    check_eq(st, 403, "a tool that needs 16 scopes")
    check_eq(challenge(hh.get("www-authenticate"))[1:3],
             [("scope", many), ("resource_metadata", meta)],
             "the 403's scopes and metadata URL")
    st, _, _ = call(p, sid, h, "tools/list", None, 3)
    check_eq(st, 200, "the connection goes on")
    d.stop()


def test_stdio_does_not_look():
    """mcpd --stdio has no token and no scopes: a tool that needs some
    is served (the transport's choice; the catalog is the same)."""
    import test_stdio as O
    s = O.Stdio(extra='prompt "review" {\n\tmessage user "review this"\n'
                '\tscope prompts:get\n}\n')
    s.send(O.req("initialize", {"protocolVersion": "2025-11-25",
                                "capabilities": {},
                                "clientInfo": {"name": "t", "version": "1"}}))
    check("result" in s.recv(), "initialize over stdio")
    s.send(O.req("prompts/get", {"name": "review"}, 2))
    r = s.recv()
    check_eq(r["result"]["messages"][0]["content"]["text"], "review this",
             "a scoped prompt over stdio: %r" % r)
    s.close()


def test_config_errors():
    """A bad scope is file:line; mcpd -n says so."""
    d = T.Daemon()
    d.extra = 'tool "t" {\n\tdescription "d"\n\tcommand "/bin/true"\n' \
              '\tscope "mcp:tools" "a\\\\b"\n}\n'
    d.write_conf()
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=30)
    err = r.stderr.decode()
    check(r.returncode == 1 and re.search(
        r'mcpd\.conf:\d+: tool t: scope: invalid scope "a\\b"', err),
        "mcpd -n: %r" % err)


if __name__ == "__main__":
    T.main([test_insufficient_scope, test_resources_and_prompts,
            test_stateless_era, test_plugin_scope, test_batch,
            test_jwt_scope, test_handoff, test_audit_and_metrics,
            test_long_challenge, test_stdio_does_not_look,
            test_config_errors])
