#!/usr/bin/env python3
"""Authentication (issue 12, first part): an HTTP listener that names an
auth block is an OAuth 2.1 resource server with static tokens.  Without a
token: 401 and a WWW-Authenticate challenge that points to the RFC 9728
metadata, which is served; a token that is not in the file: 401
invalid_token; a listed one: served, and its name is the principal that
request-rate counts.  A listener on a non-loopback address without an
auth line does not start.  mcpctl token new prints a token and the line
of its hash."""

import base64
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from test_mcp_http import post, request  # noqa: E402
from oauth_as import Keys, b64u  # noqa: E402

RESOURCE = "https://mcp.example.com/mcp"
META = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


def new_token(name, *scopes):
    r = subprocess.run([T.MCPCTL, "token", "new", name] + list(scopes),
                       capture_output=True, timeout=10)
    check_eq(r.returncode, 0, "mcpctl token new: %r" % r.stderr)
    out = r.stdout.decode().splitlines()
    check(out[0].startswith("token: mcpd_") and out[1].startswith("line:  "),
          "mcpctl token new printed %r" % out)
    return out[0][7:], out[1][7:]


def auth_daemon(lines, keys=None, scopes="mcp:tools mcp:read"):
    d = T.Daemon(keys=keys or {"workers": "2"})
    d.auth_port = T.free_port()
    tokens = os.path.join(d.dir, "tokens")
    with open(tokens, "w") as f:
        f.write("# written by test_auth.py\n\n" + "\n".join(lines) + "\n")
    os.chmod(d.dir, 0o755)
    os.chmod(tokens, 0o644)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth corp
auth corp {
	resource-uri "%s"
	authorization-server "https://login.example.com"
	scopes-supported %s
	static-tokens "%s"
}
""" % (d.auth_port, RESOURCE, scopes, tokens)
    d.write_conf()
    return d


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path, headers=dict({"Host": "127.0.0.1:%d" % port},
                                        **(headers or {})))
    r = c.getresponse()
    body = r.read().decode()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, h, body


def initialize(port, token=None):
    h = {"Authorization": "Bearer " + token} if token else {}
    return post(port, request("initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test_auth", "version": "1"}}), headers=h)


def test_challenge_and_metadata():
    """No token: 401, a challenge with the metadata's URL and the scopes,
    and the metadata at both well-known paths; a wrong token:
    invalid_token; the listener without auth serves as before."""
    tok, line = new_token("alice", "mcp:tools")
    d = auth_daemon([line])
    d.start()
    p = d.auth_port
    st, h, body = initialize(p)
    check_eq(st, 401, "no token")
    check_eq(h.get("www-authenticate"),
             'Bearer resource_metadata="%s", scope="mcp:tools mcp:read"' %
             META, "the challenge without a token")
    check_eq(body[0]["error"]["code"], -32000, "401's JSON-RPC error")
    for path in ("/.well-known/oauth-protected-resource/mcp",
                 "/.well-known/oauth-protected-resource"):
        st, h, text = get(p, path)
        check_eq(st, 200, "GET %s" % path)
        check_eq(h.get("content-type"), "application/json", "its type")
        check_eq(json.loads(text), {
            "resource": RESOURCE,
            "authorization_servers": ["https://login.example.com"],
            "scopes_supported": ["mcp:tools", "mcp:read"],
            "bearer_methods_supported": ["header"],
            "resource_name": "mcpd"}, "the RFC 9728 metadata")
    for bad in ("mcpd_not-a-token", tok + "x", tok[:-1], "", " " + tok[1:]):
        st, h, _ = initialize(p, bad)
        check_eq(st, 401, "token %r" % bad)
        want = 'Bearer resource_metadata="%s"' % META + \
            (', error="invalid_token", error_description="The access '
             'token is not valid"' if bad.strip() else
             ', scope="mcp:tools mcp:read"')
        check_eq(h.get("www-authenticate"), want, "challenge for %r" % bad)
    # another scheme, a token in the query: not a bearer token
    st, _, _ = post(p, request("tools/list"),
                    headers={"Authorization": "Basic " + tok})
    check_eq(st, 401, "Basic")
    st, h, _ = initialize(p, tok)
    check_eq(st, 200, "alice's token")
    sid = h.get("mcp-session-id")
    st, _, msgs = post(p, request("tools/list", rid=2), sid,
                       headers={"Authorization": "Bearer " + tok})
    check_eq(st, 200, "tools/list with the token")
    st, _, _ = post(p, request("tools/list", rid=3), sid)
    check_eq(st, 401, "the session without the token")
    # the listener without auth: as before, and no metadata there
    st, _, _ = initialize(d.http_port)
    check_eq(st, 200, "the loopback listener without auth")
    st, _, _ = get(d.http_port, "/.well-known/oauth-protected-resource")
    check_eq(st, 404, "metadata on a listener without auth")
    d.stop()


def test_rate_per_principal():
    """request-rate counts the principal of a verified token: alice past
    her rate gets 429, bob is served; made-up tokens get 401 and take
    nobody's budget."""
    a, la = new_token("alice")
    b, lb = new_token("bob")
    d = auth_daemon([la, lb], keys={"workers": "1", "request-rate": "3"})
    d.start()
    p = d.auth_port
    got = [initialize(p, a)[0] for _ in range(8)]
    info("alice, request-rate 3: %r" % got)
    check(got.count(429) >= 1 and got[0] == 200,
          "alice past her rate: %r" % got)
    check_eq(initialize(p, b)[0], 200, "bob, at once")
    made_up = [initialize(p, "mcpd_%d" % i)[0] for i in range(5)]
    check_eq(made_up, [401] * 5, "made-up tokens")
    d.stop()


def test_session_owner():
    """A session is its initialize's principal's: bob naming alice's
    session gets 404, as for an id that does not exist, on every worker
    (a hand-over carries the token); alice keeps using it."""
    a, la = new_token("alice")
    b, lb = new_token("bob")
    d = auth_daemon([la, lb], keys={"workers": "3"})
    d.start()
    p = d.auth_port
    ha = {"Authorization": "Bearer " + a}
    hb = {"Authorization": "Bearer " + b}
    for i in range(6):
        st, h, _ = initialize(p, a)
        check_eq(st, 200, "alice's initialize")
        sid = h["mcp-session-id"]
        st, _, _ = post(p, request("tools/list", rid=2), sid, headers=hb)
        check_eq(st, 404, "bob with alice's session")
        st, _, _ = post(p, request("tools/list", rid=3), sid, headers=ha)
        check_eq(st, 200, "alice with her session")
    # unknown to bob as an unknown id is: the same answer
    st, _, body = post(p, request("tools/list", rid=4), "x" + sid[1:],
                       headers=hb)
    check_eq(st, 404, "an id that does not exist")
    d.stop()


def test_task_owner():
    """A task (2026-07-28) is its call's principal's: bob's tasks/get and
    tasks/cancel of alice's task are "not found", as for a forged id, on
    every worker; alice's work."""
    import test_stateless as S
    a, la = new_token("alice")
    b, lb = new_token("bob")
    d = auth_daemon([la, lb], keys={"workers": "3"})
    d.extra += """
tool "later" {
	description "answers after a while, as a task if the client takes one"
	command "/bin/sh" "-c" "sleep 3; echo done-later"
	task optional
}
"""
    d.write_conf()
    d.start()
    p = d.auth_port
    ha = {"Authorization": "Bearer " + a}
    hb = {"Authorization": "Bearer " + b}
    st, _, msgs = S.post(p, S.body("tools/call", {"name": "later"}),
                         headers=ha)
    check_eq(st, 200, "alice's call")
    r = msgs[0]["result"]
    check_eq(r["resultType"], "task", "a task")
    tid = r["taskId"]
    for i in range(6):
        st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}),
                             headers=hb)
        check_eq(msgs[0].get("error", {}).get("message"),
                 "Failed to retrieve task: Task not found",
                 "bob's tasks/get of alice's task")
        st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}),
                             headers=ha)
        check_eq(msgs[0]["result"]["taskId"], tid, "alice's tasks/get")
    st, _, msgs = S.post(p, S.body("tasks/cancel", {"taskId": tid}),
                         headers=hb)
    check("error" in msgs[0], "bob's tasks/cancel: %r" % msgs)
    st, _, msgs = S.post(p, S.body("tasks/get", {"taskId": tid}),
                         headers=ha)
    check_eq(msgs[0]["result"]["status"], "working",
             "alice's task after bob's cancel")
    d.stop()


ISSUER = "https://login.example.com"


def jwt_daemon(keys, extra_keys=None):
    d = T.Daemon(keys=extra_keys or {"workers": "2"})
    d.auth_port = T.free_port()
    jwks = os.path.join(d.dir, "jwks.json")
    with open(jwks, "w") as f:
        json.dump(keys.jwks(), f)
    os.chmod(d.dir, 0o755)
    os.chmod(jwks, 0o644)
    d.extra = """
session-responses json
listen http 127.0.0.1 port %d auth idp
auth idp {
	resource-uri "%s"
	authorization-server "%s"
	jwt-issuer "%s"
	jwks-file "%s"
	clock-skew 30s
}
""" % (d.auth_port, RESOURCE, ISSUER, ISSUER, jwks)
    d.write_conf()
    return d


def claims(sub="alice", **kw):
    now = int(time.time())
    c = {"iss": ISSUER, "sub": sub, "aud": RESOURCE, "iat": now,
         "exp": now + 300, "scope": "mcp:tools", "client_id": "c1"}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def test_jwt():
    """JSON Web Tokens of the issuer, signed with RS256, ES256 and EdDSA,
    are taken; expired, not yet valid, another audience or issuer, alg
    none, HS256 with the public key as its secret, an unknown kid, a
    flipped signature are 401; the principal is issuer and subject: a
    session opened with one of alice's tokens serves another of hers,
    and is 404 to bob's."""
    k = Keys()
    d = jwt_daemon(k)
    d.start()
    p = d.auth_port
    good = {alg: k.sign(alg, kid, claims())
            for alg, kid in (("RS256", "r1"), ("ES256", "e1"),
                             ("EdDSA", "d1"))}
    sids = {}
    for alg, tok in good.items():
        st, h, _ = initialize(p, tok)
        check_eq(st, 200, "a %s token" % alg)
        sids[alg] = h["mcp-session-id"]
    # again: from the cache, the same answer
    for alg, tok in good.items():
        check_eq(initialize(p, tok)[0], 200, "a %s token, again" % alg)
    now = int(time.time())
    sig = good["ES256"].rsplit(".", 1)
    flipped = sig[0] + "." + b64u(bytes(
        [base64.urlsafe_b64decode(sig[1] + "==")[0] ^ 1]) +
        base64.urlsafe_b64decode(sig[1] + "==")[1:])
    bad = [
        ("expired", k.sign("ES256", "e1", claims(exp=now - 120)),
         "expired"),
        ("not yet valid", k.sign("ES256", "e1", claims(nbf=now + 600)),
         "not valid"),
        ("another audience", k.sign("ES256", "e1", claims(
            aud="https://other.example.com/mcp")), "not valid"),
        ("another issuer", k.sign("ES256", "e1", claims(
            iss="https://evil.example.com")), "not valid"),
        ("no exp", k.sign("ES256", "e1", claims(exp=None)), "expired"),
        ("alg none", k.sign("none", "e1", claims()), "not valid"),
        ("HS256 with the public key", k.sign("HS256", "r1", claims()),
         "not valid"),
        ("RS256 naming the EC key", k.sign("RS256", "e1", claims()),
         "not valid"),
        ("an unknown kid", k.sign("ES256", "zz", claims()), "not valid"),
        ("a flipped signature", flipped, "not valid"),
    ]
    for what, tok, desc in bad:
        st, h, _ = initialize(p, tok)
        check_eq(st, 401, what)
        check('error="invalid_token"' in h.get("www-authenticate", "") and
              desc in h.get("www-authenticate", ""),
              "%s: the challenge %r" % (what, h.get("www-authenticate")))
    # the principal: alice's other token opens her session, bob's not
    other = k.sign("EdDSA", "d1", claims(jti="another"))
    bob = k.sign("EdDSA", "d1", claims(sub="bob"))
    st, _, _ = post(p, request("tools/list", rid=2), sids["ES256"],
                    headers={"Authorization": "Bearer " + other})
    check_eq(st, 200, "alice's session with another of her tokens")
    st, _, _ = post(p, request("tools/list", rid=3), sids["ES256"],
                    headers={"Authorization": "Bearer " + bob})
    check_eq(st, 404, "alice's session with bob's token")
    info("RS256, ES256, EdDSA taken; %d forms refused" % len(bad))
    d.stop()


def test_jwks_checked():
    """mcpd -n reads jwks-file: one that is not a JWKS, one with a
    private key, one missing are file:line."""
    k = Keys()
    d = jwt_daemon(k)
    jwks = os.path.join(d.dir, "jwks.json")
    priv = k.jwks()
    priv["keys"][1]["d"] = b64u(b"x" * 32)
    for text, want in (("{}", "jwks-file"), (json.dumps(priv), "jwks-file"),
                       ("[1,", "jwks-file")):
        with open(jwks, "w") as f:
            f.write(text)
        r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                           timeout=30)
        err = r.stderr.decode()
        check(r.returncode == 1 and "auth idp: jwks-file: " in err,
              "mcpd -n with %r: %r" % (text[:40], err))
    os.unlink(jwks)
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=30)
    check("No such file" in r.stderr.decode(), "a missing jwks-file: %r" %
          r.stderr)


def test_principal_in_tools():
    """An exec tool sees who called in MCPD_PRINCIPAL, never the token:
    static:NAME, or jwt:ISSUER#SUBJECT; a call on the listener without
    auth has none, and one in mcpd's own environment is not passed."""
    tok, line = new_token("alice")
    k = Keys()
    d = auth_daemon([line])
    jwks = os.path.join(d.dir, "jwks.json")
    with open(jwks, "w") as f:
        json.dump(k.jwks(), f)
    os.chmod(jwks, 0o644)
    d.extra = d.extra.replace("	static-tokens", '	jwt-issuer "%s"\n'
                              '	jwks-file "%s"\n	static-tokens' %
                              (ISSUER, jwks))
    d.extra += """
tool "env" {
	description "its environment"
	command "/usr/bin/env"
	env MCPD_PRINCIPAL
}
"""
    d.env["MCPD_PRINCIPAL"] = "forged"
    d.write_conf()
    d.start()

    def env_of(port, token):
        h = {"Authorization": "Bearer " + token} if token else {}
        st, hh, _ = initialize(port, token)
        check_eq(st, 200, "initialize")
        st, _, msgs = post(port, request("tools/call", {
            "name": "env", "arguments": {}}, rid=2),
            hh["mcp-session-id"], headers=h)
        check_eq(st, 200, "tools/call env")
        text = "".join(c.get("text", "") for c in
                       msgs[-1]["result"]["content"])
        return [ln for ln in text.splitlines() if "MCPD_PRINCIPAL" in ln or
                (token and token in ln)]
    check_eq(env_of(d.auth_port, tok), ["MCPD_PRINCIPAL=static:alice"],
             "a static token's call")
    jwt = k.sign("ES256", "e1", claims(sub="bob"))
    check_eq(env_of(d.auth_port, jwt),
             ["MCPD_PRINCIPAL=jwt:%s#bob" % ISSUER], "a JWT's call")
    check_eq(env_of(d.http_port, None), [], "no auth: no principal")
    d.stop()


def test_audit_log():
    """access-log: a line for each tools/call, resources/read and
    prompts/get (who, from where, what, how it ended, how long, how many
    bytes) and each 401, never the token; a name that could forge a
    field or a line is escaped; SIGUSR1 opens a rotated file again."""
    import signal
    import re
    tok, line = new_token("alice")
    d = auth_daemon([line])
    log = os.path.join(d.dir, "access.log")
    res = os.path.join(d.dir, "r.txt")
    with open(res, "w") as f:
        f.write("resource text\n")
    d.extra += """
access-log "%s"
tool "echo" {
	description "echo"
	command "/bin/echo" "hello"
}
resource "file:///r.txt" {
	path "%s"
}
prompt "p" {
	message user "hi"
}
""" % (log, res)
    d.write_conf()
    d.start()
    p = d.auth_port
    h = {"Authorization": "Bearer " + tok}
    st, hh, _ = initialize(p, tok)
    sid = hh["mcp-session-id"]
    for i, (m, params) in enumerate((
            ("tools/call", {"name": "echo", "arguments": {}}),
            ("resources/read", {"uri": "file:///r.txt"}),
            ("prompts/get", {"name": "p"}),
            ("tools/call", {"name": 'x" outcome=ok\nforged', "arguments": {}}),
            ("tools/list", None))):
        st, _, _ = post(p, request(m, params, rid=10 + i), sid, headers=h)
        check_eq(st, 200, m)
    initialize(p, "mcpd_wrong")
    initialize(p)
    lines = T.wait_until(lambda: (os.path.exists(log) and
                                  len(open(log).read().splitlines()) >= 6 and
                                  open(log).read().splitlines()), 10,
                         "six audit lines")
    info("audit: %s" % lines[0])
    check_eq(len(lines), 6, "lines: %r" % lines)
    check(all(tok not in ln for ln in lines), "the token is written")
    pat = (r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z '
           r'principal=static:alice addr=127\.0\.0\.1 method=%s '
           r'name="%s" outcome=%s status=200 rpc=%s ms=[\d.]+ bytes=\d+$')
    for ln, (m, n, o, rpc) in zip(lines, (
            ("tools/call", "echo", "ok", "0"),
            ("resources/read", "file:///r.txt", "ok", "0"),
            ("prompts/get", "p", "ok", "0"),
            ("tools/call", r"x\\x22\\x20outcome=ok\\x0aforged", "error",
             "-32602"))):
        check(re.match(pat % (re.escape(m), n, o, rpc), ln),
              "audit line %r" % ln)
    check(re.search(r"principal=- addr=127\.0\.0\.1 method=auth name=\"-\" "
                    r"outcome=denied status=401 reason=invalid_token$",
                    lines[4]), "a wrong token: %r" % lines[4])
    check(lines[5].endswith("reason=no_token"), "no token: %r" % lines[5])
    # rotation: move it away, SIGUSR1, a new file takes the next line
    os.rename(log, log + ".1")
    os.kill(d.pid, signal.SIGUSR1)
    T.wait_until(lambda: os.path.exists(log), 10, "a new access.log")
    st, _, _ = post(p, request("tools/call", {"name": "echo",
                                              "arguments": {}}, rid=20),
                    sid, headers=h)
    T.wait_until(lambda: "method=tools/call" in open(log).read(), 10,
                 "the call in the new file")
    check_eq(len(open(log + ".1").read().splitlines()), 6,
             "the rotated file")
    d.stop()


def test_tokens_file_checked():
    """mcpd -n reads static-tokens: a line that is wrong is file:line;
    one token listed twice is said."""
    tok, line = new_token("carol")
    for lines, want in (
            (["carol sha256:abc"], "tokens:3: carol: a hash"),
            (["car/ol " + line.split()[1]], "invalid name"),
            ([line, line.replace("carol", "dave")], "is the token of")):
        d = auth_daemon(lines)
        r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                           timeout=30)
        err = r.stderr.decode()
        check(r.returncode == 1 and "static-tokens" in err and want in err,
              "mcpd -n on %r: %r" % (lines, err))


def test_non_loopback_needs_auth():
    """A listener on a non-loopback address without an auth line: mcpd
    -n and a start refuse it, file:line, saying what to write."""
    d = T.Daemon()
    d.extra = "listen http 0.0.0.0 port %d\n" % T.free_port()
    d.write_conf()
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=30)
    err = r.stderr.decode()
    check(r.returncode == 1 and "not a loopback address, so say how "
          "requests are authenticated" in err and "auth none" in err,
          "mcpd -n: %r" % err)
    d.extra = "listen http 0.0.0.0 port %d auth none\n" % T.free_port()
    d.write_conf()
    r = subprocess.run([T.MCPD, "-n", "-c", d.conf], capture_output=True,
                       timeout=30)
    check_eq((r.returncode, r.stderr.decode()), (0, "configuration OK\n"),
             "auth none said")


def test_mcpctl_token():
    """mcpctl token new: a new token each time, its hash's line, names
    checked; scopes as words or with --scope."""
    t1, l1 = new_token("x", "a", "b")
    t2, l2 = new_token("x")
    check(t1 != t2 and len(t1) == len("mcpd_") + 43, "tokens %r %r" % (t1, t2))
    import hashlib
    check_eq(l1, "x sha256:%s a b" % hashlib.sha256(t1.encode()).hexdigest(),
             "the line")
    r = subprocess.run([T.MCPCTL, "token", "new", "a b"], capture_output=True)
    check(r.returncode == 2 and b"invalid name" in r.stderr,
          "a name with a space: %r" % r.stderr)
    # --scope S, repeated, a list in one, S=..., and the old words after
    t3, l3 = new_token("y", "--scope", "a", "--scope", "b  c", "--scope=d",
                       "e")
    check_eq(l3, "y sha256:%s a b c d e" %
             hashlib.sha256(t3.encode()).hexdigest(), "the line of --scope")
    for bad, why in ((["y", "--scope"], b"usage"),
                     (["--scope", "a"], b"usage"),
                     (["y", "--scope", 'a"b'], b"invalid scope"),
                     (["y", "--scope", "x" * 600], b"too long")):
        r = subprocess.run([T.MCPCTL, "token", "new"] + bad,
                           capture_output=True)
        check(r.returncode == 2 and why in r.stderr,
              "token new %r: %r" % (bad, r.stderr))


if __name__ == "__main__":
    T.main([test_challenge_and_metadata, test_rate_per_principal,
            test_session_owner, test_task_owner, test_jwt,
            test_jwks_checked, test_principal_in_tools, test_audit_log,
            test_tokens_file_checked, test_non_loopback_needs_auth,
            test_mcpctl_token])
