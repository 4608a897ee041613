#!/usr/bin/env python3
"""The agent's side of authentication: an issuer's keys fetched (jwks-uri,
or RFC 8414 / OpenID discovery), refreshed when a token names a kid they
lack (rate-limited), and opaque tokens introspected (RFC 7662), against the
test authorization server of oauth_as.py.  Workers never talk to it: the
agent does, and tells them over its channel."""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from oauth_as import Keys, TestAS  # noqa: E402
from test_mcp_http import post, request  # noqa: E402


def daemon(block, workers="2", resource=None):
    """mcpd whose 127.0.0.1 listener uses the auth block given (its lines:
    %(resource)s, %(issuer)s... are filled in by the caller)."""
    d = T.Daemon(keys={"workers": workers})
    d.auth_port = T.free_port()
    d.resource = resource or "http://127.0.0.1:%d/mcp" % d.auth_port
    os.chmod(d.dir, 0o755)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
%s
}
""" % (d.auth_port, d.resource, block)
    d.write_conf()
    return d


def initialize(port, token):
    h = {"Authorization": "Bearer " + token} if token else {}
    return post(port, request("initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test_agent_auth", "version": "1"}}),
        headers=h)


def status(port, token):
    return initialize(port, token)[0]


def wait_status(port, token, want, timeout, what):
    return T.wait_until(lambda: status(port, token) == want, timeout, what,
                        interval=0.1)


def new_as(d):
    a = TestAS(d.resource)
    T.on_cleanup(a.close)
    return a


def test_jwks_uri():
    """jwks-uri: the agent fetches the keys, the workers verify with them;
    before they come a JWT gets 503 (not 401: nothing says it is bad)."""
    d = daemon("")
    a = new_as(d)
    a.delay = 1.5       # the first fetch is slow: a JWT waits for keys
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	jwt-issuer "%s"
	jwks-uri "%s/jwks"
}
""" % (d.auth_port, d.resource, a.issuer, a.issuer)
    d.write_conf()
    d.start()
    tok = a.mint()
    st, h, _ = initialize(d.auth_port, tok)
    check_eq(st, 503, "a JWT before the keys came")
    check_eq(h.get("retry-after"), "1", "503's Retry-After")
    a.delay = 0
    wait_status(d.auth_port, tok, 200, 10, "the keys to come")
    check_eq(a.hits["/jwks"], 1, "the keys fetched once")
    check_eq(a.hits["/.well-known/oauth-authorization-server"], 0,
             "no discovery with a jwks-uri")
    check_eq(status(d.auth_port, a.mint(aud="https://other.example/mcp")),
             401, "another audience")
    check_eq(status(d.auth_port, "opaque-token"), 401,
             "an opaque token, no introspection")
    d.wait_log(r"auth idp: 3 keys from http://127\.0\.0\.1:\d+/jwks")
    d.stop()


def test_discovery():
    """jwt-issuer alone: the issuer's RFC 8414 metadata names the keys; a
    metadata document whose issuer is not the configured one is not
    taken (and the workers get no keys from it)."""
    d = daemon("")
    a = new_as(d)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	jwt-issuer "%s"
}
""" % (d.auth_port, d.resource, a.issuer)
    d.write_conf()
    d.start()
    wait_status(d.auth_port, a.mint(), 200, 10, "the keys by discovery")
    check_eq(a.hits["/.well-known/oauth-authorization-server"], 1,
             "RFC 8414 metadata read once")
    check_eq(a.hits["/jwks"], 1, "its jwks_uri fetched once")
    d.stop()

    # an OpenID provider without RFC 8414 metadata
    d = daemon("")
    o = new_as(d)
    o.missing.add("/.well-known/oauth-authorization-server")
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	jwt-issuer "%s"
}
""" % (d.auth_port, d.resource, o.issuer)
    d.write_conf()
    d.start()
    wait_status(d.auth_port, o.mint(), 200, 10, "the keys by OIDC discovery")
    check_eq(o.hits["/.well-known/openid-configuration"], 1,
             "OpenID metadata read once")
    d.stop()

    # the same server under another name: its metadata says who it is
    d = daemon("")
    b = new_as(d)
    other = b.issuer.replace("127.0.0.1", "localhost")
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	jwt-issuer "%s"
	jwks-refresh 1s
}
""" % (d.auth_port, d.resource, other)
    d.write_conf()
    d.start()
    d.wait_log(r"auth idp: .*its \"issuer\" is not the jwt-issuer", 10)
    check_eq(status(d.auth_port, b.mint(iss=other)), 503,
             "no keys from a metadata document of another issuer")
    check_eq(b.hits["/jwks"], 0, "its jwks_uri never fetched")
    d.stop()


def rotate(a, n):
    """New keys for the AS, kids r<n>, e<n>, d<n>; tokens signed by e<n>."""
    k = Keys()
    doc = k.jwks()
    for key in doc["keys"]:
        key["kid"] = key["kid"][0] + str(n)
    a.keys = k
    a.jwks = doc
    a.kid_alg = ("ES256", "e%d" % n)


def test_rotation_under_load():
    """The issuer rolls its keys while clients keep calling: a token of
    the new key is taken once the agent fetched again (asked by the
    worker that saw the unknown kid), the old key's tokens are refused
    from then on, and a flood of tokens naming made-up kids makes at most
    one fetch per jwks-refresh-min."""
    d = daemon("")
    a = new_as(d)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	jwt-issuer "%s"
	jwks-uri "%s/jwks"
	jwks-refresh 1h
	jwks-refresh-min 3s
}
""" % (d.auth_port, d.resource, a.issuer, a.issuer)
    d.write_conf()
    d.start()
    old = a.mint(sub="old")
    wait_status(d.auth_port, old, 200, 10, "the first keys")

    stop = threading.Event()
    seen = {}
    lock = threading.Lock()

    def load(tok_fn):
        # a ping without a session: 400 once the token is taken, and no
        # session made (initialize-rate would say 503)
        while not stop.is_set():
            try:
                st = post(d.auth_port, request("ping"), None, {
                    "Authorization": "Bearer " + tok_fn()})[0]
            except (OSError, http.client.HTTPException) as e:
                st = repr(e)
            with lock:
                seen[st] = seen.get(st, 0) + 1

    cur = {"tok": old}
    ts = [threading.Thread(target=load, args=(lambda: cur["tok"],))
          for _ in range(4)]
    for t in ts:
        t.start()
    time.sleep(1)
    fetched = a.hits["/jwks"]
    rotate(a, 2)
    new = a.mint(sub="new")
    t0 = time.time()
    # the first token of the new key: unknown kid, 401, and a refresh
    wait_status(d.auth_port, new, 200, 15, "the new key taken")
    info("the new key taken after %.1f s" % (time.time() - t0))
    cur["tok"] = new
    check_eq(status(d.auth_port, old), 401, "the old key's token, after")
    # made-up kids, for 4 s: at most 1 + 4 / 3 fetches
    before = a.hits["/jwks"]
    t1 = time.time()
    n = 0
    while time.time() - t1 < 4:
        h = a.keys.sign("ES256", "kid-%d" % n, {"iss": a.issuer})
        check_eq(post(d.auth_port, request("ping"), None, {
            "Authorization": "Bearer " + h})[0], 401, "a made-up kid")
        n += 1
    stop.set()
    for t in ts:
        t.join()
    extra = a.hits["/jwks"] - before
    info("%d tokens of made-up kids: %d fetches; load saw %r" %
         (n, extra, seen))
    check(extra <= 3, "%d fetches for %d made-up kids in 4 s" % (extra, n))
    check(a.hits["/jwks"] > fetched, "fetched again after the rotation")
    bad = {k: v for k, v in seen.items() if k not in (400, 401)}
    check(not bad, "under load only 400 (taken) and 401: %r" % seen)
    d.stop()


def call_tool(port, token, name):
    """initialize, initialized, tools/call name: the call's status."""
    h = {"Authorization": "Bearer " + token}
    st, hh, _ = initialize(port, token)
    check_eq(st, 200, "initialize")
    sid = hh["mcp-session-id"]
    check_eq(post(port, {"jsonrpc": "2.0", "method":
                         "notifications/initialized"}, sid, h)[0], 202,
             "initialized")
    return post(port, request("tools/call", {"name": name, "arguments": {}},
                              rid=3), sid, h)


def opaque_daemon(a, d, extra="", secret=None):
    sf = os.path.join(d.dir, "secret")
    with open(sf, "w") as f:
        f.write((secret or a.client_secret) + "\n")
    os.chmod(sf, 0o644)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	authorization-server "%s"
	introspection-endpoint "%s/introspect"
	introspection-client-id "%s"
	introspection-secret-file "%s"
%s
}
tool "deploy" {
	description "needs mcp:deploy"
	command "/bin/echo" "deployed"
	scope mcp:deploy
}
""" % (d.auth_port, d.resource, a.issuer, a.issuer, a.client_id, sf, extra)
    d.write_conf()


def test_introspection():
    """Opaque tokens: active ones of this resource are served, asked about
    once (then cached, and one request for many at once), as
    oauth:ISS#SUB; inactive, expired, unknown, for another audience:
    401; the principal owns its session."""
    d = daemon("")
    a = new_as(d)
    now = int(time.time())
    good = {"active": True, "sub": "alice", "scope": "mcp:tools",
            "exp": now + 300, "aud": d.resource, "iss": a.issuer,
            "client_id": "c1"}
    a.opaque = {
        "tok-alice": good,
        "tok-alice2": dict(good),
        "tok-bob": dict(good, sub="bob"),
        "tok-inactive": {"active": False},
        "tok-expired": dict(good, exp=now - 10),
        "tok-other": dict(good, aud=["https://other.example/mcp"]),
        "tok-nosub": {"active": True, "exp": now + 300},
        "tok-ctl": dict(good, sub="eve\nforged"),
        "tok-client": {"active": True, "client_id": "svc", "exp": now + 300},
        "tok-garbage": "not an object",
    }
    opaque_daemon(a, d)
    d.start()
    st, h, _ = initialize(d.auth_port, "tok-alice")
    check_eq(st, 200, "an active token")
    sid = h["mcp-session-id"]
    for _ in range(20):
        check_eq(status(d.auth_port, "tok-alice"), 200, "again")
    check_eq(a.hits["/introspect"], 1, "asked about once, then cached")
    for tok in ("tok-inactive", "tok-expired", "tok-other", "tok-nosub",
                "tok-ctl", "tok-unknown"):
        st, h, _ = initialize(d.auth_port, tok)
        check_eq(st, 401, tok)
        check("invalid_token" in h.get("www-authenticate", ""),
              "%s: %r" % (tok, h))
    check_eq(status(d.auth_port, "tok-client"), 200, "a client's own token")
    # the scopes the AS gave are what a scoped tool looks at
    a.opaque["tok-deployer"] = dict(good, sub="dee",
                                    scope="mcp:tools mcp:deploy")
    st, h, _ = call_tool(d.auth_port, "tok-alice", "deploy")
    check_eq(st, 403, "an introspected token without mcp:deploy")
    check('error="insufficient_scope", scope="mcp:deploy"' in
          h.get("www-authenticate", ""), repr(h))
    st, _, msgs = call_tool(d.auth_port, "tok-deployer", "deploy")
    check_eq(st, 200, "an introspected token with mcp:deploy")
    check("deployed" in json.dumps(msgs), repr(msgs))
    # the session is alice's, whichever of her tokens: bob's is 404
    ping = request("ping", rid=2)
    check_eq(post(d.auth_port, ping, sid,
                  {"Authorization": "Bearer tok-alice2"})[0], 200,
             "alice's session, another of her tokens")
    check_eq(post(d.auth_port, ping, sid,
                  {"Authorization": "Bearer tok-bob"})[0], 404,
             "alice's session, bob's token")
    # many at once, on both workers: one question
    a.delay = 1.0
    before = a.hits["/introspect"]
    a.opaque["tok-many"] = dict(good, sub="many")
    out = []
    ts = [threading.Thread(target=lambda: out.append(
        status(d.auth_port, "tok-many"))) for _ in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check_eq(out, [200] * 12, "12 requests with one new token")
    check_eq(a.hits["/introspect"] - before, 1, "one introspection for 12")
    a.delay = 0
    # what the AS answers is checked: garbage is not "active"
    st, _, _ = initialize(d.auth_port, "tok-garbage")
    check(st in (401, 503), "a garbage answer: %d" % st)
    # stopped while a request waits on the AS: it is answered, the agent
    # exits once it has answered, nobody is killed
    a.delay = 1.5
    a.opaque["tok-last"] = dict(good, sub="last")
    res = []
    t = threading.Thread(target=lambda: res.append(
        status(d.auth_port, "tok-last")))
    t.start()
    time.sleep(0.5)
    mark = d.log_mark()
    t0 = time.time()
    d.stop()
    took = time.time() - t0
    t.join()
    check_eq(res, [200], "the request that waited at the stop")
    check(took < 5, "stopped in %.1f s" % took)
    check(not d.log_lines(r"still running|SIGKILL", mark),
          "nobody killed: %r" % d.log()[mark:])


def test_introspection_failures():
    """A server that refuses our client credentials, is too slow, or is
    gone: 503 with Retry-After, never a token taken; a client that leaves
    while its token is asked about costs nothing; past
    introspection-pending, 503 at once."""
    d = daemon("", workers="1")
    a = new_as(d)
    a.opaque = {"tok-%d" % i: {"active": True, "sub": "u%d" % i,
                               "exp": int(time.time()) + 300}
                for i in range(20)}
    opaque_daemon(a, d, "\tfetch-timeout 1s\n\tintrospection-pending 3",
                  secret="wrong-secret")
    d.start()
    st, h, _ = initialize(d.auth_port, "tok-0")
    check_eq(st, 503, "the AS refuses our credentials")
    check_eq(h.get("retry-after"), "1", "Retry-After")
    d.wait_log(r"auth idp: http://127\.0\.0\.1:\d+/introspect: HTTP status "
               r"401")
    d.stop()

    d = daemon("", workers="1")
    opaque_daemon(a, d, "\tfetch-timeout 1s\n\tintrospection-pending 3")
    d.start()
    check_eq(status(d.auth_port, "tok-0"), 200, "the right credentials")
    a.delay = 3
    t0 = time.time()
    check_eq(status(d.auth_port, "tok-1"), 503, "an AS slower than "
             "fetch-timeout")
    check(time.time() - t0 < 2.9, "answered by fetch-timeout, not the AS")
    # three wait (the AS is slow), the fourth and fifth are refused at once
    out = []
    ts = [threading.Thread(target=lambda i=i: out.append(
        status(d.auth_port, "tok-%d" % (2 + i)))) for i in range(3)]
    for t in ts:
        t.start()
    time.sleep(0.3)
    check_eq(status(d.auth_port, "tok-9"), 503, "past introspection-pending")
    for t in ts:
        t.join()
    check_eq(sorted(out), [503] * 3, "the three that waited: fetch-timeout")
    # clients that go away while they wait
    for i in range(3):
        s = socket.create_connection(("127.0.0.1", d.auth_port))
        body = json.dumps(request("ping")).encode()
        s.sendall(("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Authorization: Bearer tok-1%d\r\nContent-Type: "
                   "application/json\r\nAccept: application/json, "
                   "text/event-stream\r\nContent-Length: %d\r\n\r\n" %
                   (d.auth_port, i, len(body))).encode() + body)
        s.close()
    time.sleep(1.5)
    a.delay = 0
    check_eq(status(d.auth_port, "tok-0"), 200, "served after they left")
    # the AS gone
    a.close()
    check_eq(status(d.auth_port, "tok-19"), 503, "the AS gone")
    check_eq(status(d.auth_port, "tok-0"), 200, "a cached token still")
    d.stop()


def test_agent_restart():
    """The agent killed: a worker's waiting requests get 503, the new
    agent gets a channel to every worker and gives them the keys."""
    d = daemon("")
    a = new_as(d)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	jwt-issuer "%s"
	jwks-uri "%s/jwks"
}
""" % (d.auth_port, d.resource, a.issuer, a.issuer)
    d.write_conf()
    d.start()
    wait_status(d.auth_port, a.mint(), 200, 10, "the keys")
    agent = d.pids()["agent"]
    os.kill(agent, 9)
    T.wait_until(lambda: d.pids().get("agent") not in (None, agent), 10,
                 "a new agent")
    rotate(a, 3)
    wait_status(d.auth_port, a.mint(sub="after"), 200, 10,
                "the new agent's keys")
    d.stop()


def test_config_errors():
    """jwks-uri without jwt-issuer, an introspection endpoint without its
    client, an http URL to another machine: file:line errors."""
    d = T.Daemon()
    d.extra = """
listen http 127.0.0.1 port %d auth a
auth a {
	resource-uri "https://mcp.example.com/mcp"
	jwks-uri "https://login.example.com/jwks"
	static-tokens "/dev/null"
}
auth b {
	resource-uri "https://mcp.example.com/mcp"
	introspection-endpoint "http://login.example.com/introspect"
}
auth c {
	resource-uri "https://mcp.example.com/mcp"
	introspection-endpoint "https://login.example.com/introspect"
	introspection-client-id "mcpd"
	introspection-secret-file "/nonexistent/secret"
	introspection-pending 0
	fetch-timeout 2m
	jwks-refresh 10ms
}
""" % T.free_port()
    d.write_conf()
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=10)
    err = r.stderr.decode()
    info(err)
    check(r.returncode != 0, "mcpd -n refuses it")
    for want in (r"mcpd\.conf:\d+: auth a: jwks-uri: only with jwt-issuer",
                 r"mcpd\.conf:\d+: .*introspection-endpoint: \"http://"
                 r"login\.example\.com/introspect\" is not an https URI",
                 r"mcpd\.conf:\d+: auth b: no way to check a token",
                 r"mcpd\.conf:\d+: .*introspection-pending: 0 is out of "
                 r"range",
                 r"mcpd\.conf:\d+: .*fetch-timeout: at most 1m",
                 r"mcpd\.conf:\d+: .*jwks-refresh: 10ms is out of range"):
        check(re.search(want, err), "want /%s/ in %r" % (want, err))
    # what the file system says is looked at once the text is right
    d.extra = """
listen http 127.0.0.1 port %d auth c
auth c {
	resource-uri "https://mcp.example.com/mcp"
	introspection-endpoint "https://login.example.com/introspect"
	introspection-client-id "mcpd"
	introspection-secret-file "/nonexistent/secret"
}
auth d {
	resource-uri "https://mcp.example.com/mcp"
	introspection-endpoint "https://login.example.com/introspect"
	introspection-client-id "mcpd"
	introspection-secret-file "/dev/null"
}
""" % T.free_port()
    d.write_conf()
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=10)
    err = r.stderr.decode()
    check(r.returncode != 0, "mcpd -n refuses it")
    for want in (r"mcpd\.conf:\d+: auth c: introspection-secret-file: "
                 r"/nonexistent/secret: No such file",
                 r"mcpd\.conf:\d+: auth d: introspection-secret-file: "
                 r"/dev/null: not a regular file"):
        check(re.search(want, err), "want /%s/ in %r" % (want, err))


if __name__ == "__main__":
    T.main([test_jwks_uri, test_discovery, test_rotation_under_load,
            test_introspection, test_introspection_failures,
            test_agent_restart, test_config_errors])
