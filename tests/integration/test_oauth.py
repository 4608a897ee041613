#!/usr/bin/env python3
"""OAuth end to end: the test authorization server (oauth_as.TestAS) on
its own, then the official TypeScript SDK client (tests/clients/
sdk-oauth.mjs) against an mcpd whose listener's auth block names that
server (resource-uri, authorization-server, jwt-issuer; the agent finds its
keys by the issuer's RFC 8414 metadata, scopes-supported):

  a. with a bearer token the server minted, given to the SDK: served;
  b. with no token and an OAuthClientProvider: the SDK follows mcpd's 401
     and RFC 9728 metadata to the server, registers, is sent to authorize
     with PKCE S256 and resource=mcpd's resource URI, gets a token whose
     aud is that URI, is served with it, and refreshes a spoiled one;
  c. with no token and no provider: 401.

The SDK comes from MCPD_CONFORMANCE_DIR (else tests/conformance), node 22
from the same node_modules; without them the SDK tests fail (they never
skip) and say to run "npm ci --prefix tests/conformance"."""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcpdtest as T  # noqa: E402
from mcpdtest import check, check_eq, info  # noqa: E402
from oauth_as import Keys, TestAS, jwt_claims, pkce_s256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.abspath(os.environ.get("MCPD_CONFORMANCE_DIR") or
                          os.path.join(HERE, "..", "conformance"))
NODE_MODULES = os.path.join(PKG_DIR, "node_modules")
NODE = os.path.join(NODE_MODULES, ".bin", "node")
SDK_PKG = os.path.join(NODE_MODULES, "@modelcontextprotocol", "sdk",
                       "package.json")
SCRIPT = os.path.join(HERE, "..", "clients", "sdk-oauth.mjs")
RUN_TIMEOUT = 75.0      # seconds, a run of the script (it stops at 60)
REDIRECT = "http://127.0.0.1:9/cb"


# ---------------------------------------------------------------- HTTP

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method, url, body=None, headers=None, form=None):
    """(status, headers (lower-case names), body: JSON if it is)."""
    h = dict(headers or {})
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        h.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=body, headers=h, method=method)
    try:
        r = _opener.open(req, timeout=10)
        st, hh, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        st, hh, raw = e.code, e.headers, e.read()
    hh = {k.lower(): v for k, v in hh.items()}
    try:
        raw = json.loads(raw) if raw else None
    except ValueError:
        raw = raw.decode("utf-8", "replace")
    return st, hh, raw


def basic(cid, secret):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (cid, secret)).encode()).decode()}


# ------------------------------------------------------- the AS alone

def register(a, **md):
    m = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
         "grant_types": ["authorization_code", "refresh_token"]}
    m.update(md)
    st, _, c = http("POST", a.issuer + "/register", m)
    check_eq(st, 201, "registration: %r" % (c,))
    return c


def authorize(a, client, verifier, **over):
    q = {"response_type": "code", "client_id": client["client_id"],
         "redirect_uri": REDIRECT, "code_challenge": pkce_s256(verifier),
         "code_challenge_method": "S256", "resource": a.resource,
         "state": "s-1", "scope": "mcp:tools"}
    q.update(over)
    q = {k: v for k, v in q.items() if v is not None}
    st, h, body = http("GET", a.issuer + "/authorize?" +
                       urllib.parse.urlencode(q))
    loc = h.get("location")
    return st, (dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
        loc).query)) if loc else body)


def code_for(a, client, verifier, **over):
    st, back = authorize(a, client, verifier, **over)
    check(st == 302 and "code" in back, "authorize: %d %r" % (st, back))
    check_eq((back["state"], back["iss"]), ("s-1", a.issuer),
             "state and iss on the redirect")
    return back["code"]


def token(a, **form):
    f = {k: v for k, v in form.items() if v is not None}
    return http("POST", a.issuer + "/token", form=f)


def test_as_fixture():
    """The test authorization server itself: both discovery documents,
    its JWKS (and a new one assigned), introspection only with its
    client's HTTP Basic, registration, authorize refusing what OAuth 2.1
    and RFC 8707 refuse, the token endpoint checking PKCE, redirect_uri,
    resource and one use of a code, refresh with rotation; delay, fail,
    hits."""
    res = "http://127.0.0.1:1/mcp"
    a = TestAS(res)
    try:
        check(a.issuer.startswith("http://127.0.0.1:") and
              not a.issuer.endswith("/"), "issuer %r" % a.issuer)
        for path in ("/.well-known/oauth-authorization-server",
                     "/.well-known/openid-configuration"):
            st, h, m = http("GET", a.issuer + path)
            check_eq(st, 200, "GET " + path)
            check_eq(h.get("content-type"), "application/json", "its type")
            check_eq(m["issuer"], a.issuer, "issuer")
            for k, v in (("authorization_endpoint", "/authorize"),
                         ("token_endpoint", "/token"),
                         ("registration_endpoint", "/register"),
                         ("introspection_endpoint", "/introspect"),
                         ("jwks_uri", "/jwks")):
                check_eq(m[k], a.issuer + v, k)
            check_eq(m["response_types_supported"], ["code"], "response "
                     "types")
            check_eq(m["code_challenge_methods_supported"], ["S256"],
                     "PKCE methods")
            check("authorization_code" in m["grant_types_supported"] and
                  "none" in m["token_endpoint_auth_methods_supported"] and
                  "mcp:tools" in m["scopes_supported"], "%r" % m)
        check("subject_types_supported" in m, "OIDC's required fields")
        st, _, j = http("GET", a.issuer + "/jwks")
        check_eq((st, j), (200, a.keys.jwks()), "the JWKS")
        a.jwks = {"keys": []}
        check_eq(http("GET", a.issuer + "/jwks")[2], {"keys": []},
                 "a JWKS assigned")
        a.jwks = a.keys.jwks()
        c = jwt_claims(a.mint(sub="bob", scope=None, extra=1))
        check(c["aud"] == res and c["iss"] == a.issuer and
              c["sub"] == "bob" and "scope" not in c and c["extra"] == 1 and
              c["exp"] - c["iat"] == 300, "mint: %r" % c)

        # introspection: RFC 7662 2.1, the caller authenticates
        a.opaque["tok-1"] = {"active": True, "sub": "carol",
                             "aud": res, "scope": "mcp:tools"}
        url = a.issuer + "/introspect"
        st, h, e = http("POST", url, form={"token": "tok-1"})
        check_eq((st, e["error"]), (401, "invalid_client"), "no client auth")
        check("basic" in h.get("www-authenticate", "").lower(),
              "its challenge: %r" % h)
        st, _, e = http("POST", url, form={"token": "tok-1"},
                        headers=basic(a.client_id, a.client_secret + "x"))
        check_eq(st, 401, "a wrong secret")
        ok = basic(a.client_id, a.client_secret)
        check_eq(http("POST", url, form={"token": "tok-1"}, headers=ok)[2],
                 a.opaque["tok-1"], "a known token")
        check_eq(http("POST", url, form={"token": "tok-2"}, headers=ok)[2],
                 {"active": False}, "an unknown token")
        check_eq(http("POST", url, body=b'{"token":"tok-1"}', headers=dict(
            ok, **{"Content-Type": "application/json"}))[0], 400,
            "JSON, not a form")
        check_eq(http("GET", url)[0], 405, "GET /introspect")

        # registration
        st, _, e = http("POST", a.issuer + "/register", {"client_name": "x"})
        check_eq((st, e["error"]), (400, "invalid_redirect_uri"),
                 "no redirect_uris")
        pub = register(a)
        check("client_secret" not in pub, "a public client got a secret")
        conf = register(a, token_endpoint_auth_method="client_secret_basic")
        check(conf.get("client_secret"), "a confidential client's secret")

        # authorize: no redirect for an unknown client or redirect_uri
        v = "v" * 43
        st, e = authorize(a, {"client_id": "nobody"}, v)
        check_eq((st, e["error"]), (400, "invalid_request"), "unknown client")
        st, e = authorize(a, pub, v, redirect_uri="http://evil.example/cb")
        check_eq(st, 400, "an unregistered redirect_uri")
        for over, err in (({"response_type": "token"},
                           "unsupported_response_type"),
                          ({"code_challenge": None}, "invalid_request"),
                          ({"code_challenge_method": "plain"},
                           "invalid_request"),
                          ({"code_challenge_method": None},
                           "invalid_request"),
                          ({"resource": None}, "invalid_target"),
                          ({"resource": "http://127.0.0.1:2/mcp"},
                           "invalid_target"),
                          ({"scope": "admin"}, "invalid_scope")):
            st, back = authorize(a, pub, v, **over)
            check_eq((st, back.get("error"), back.get("state")),
                     (302, err, "s-1"), "authorize with %r" % over)

        # token: PKCE, redirect_uri, resource, one use
        base = {"grant_type": "authorization_code", "redirect_uri": REDIRECT,
                "code_verifier": v, "resource": res,
                "client_id": pub["client_id"]}
        for over, st_err in (({"code_verifier": "w" * 43}, "invalid_grant"),
                             ({"code_verifier": None}, "invalid_request"),
                             ({"redirect_uri": REDIRECT + "x"},
                              "invalid_grant"),
                             ({"resource": None}, "invalid_target"),
                             ({"resource": res + "x"}, "invalid_target"),
                             ({"client_id": conf["client_id"]},
                              "invalid_client")):
            f = dict(base, code=code_for(a, pub, v))
            f.update(over)
            st, h, e = token(a, **f)
            check(st in (400, 401) and e["error"] == st_err,
                  "token with %r: %d %r" % (over, st, e))
            check_eq(h.get("cache-control"), "no-store", "no-store")
        code = code_for(a, pub, v)
        st, _, t = token(a, code=code, **base)
        check_eq(st, 200, "the token request: %r" % (t,))
        check_eq(t["token_type"], "Bearer", "token_type")
        c = jwt_claims(t["access_token"])
        check_eq((c["aud"], c["iss"], c["sub"], c["scope"],
                  c["client_id"]),
                 (res, a.issuer, "alice", "mcp:tools", pub["client_id"]),
                 "the access token's claims")
        st, _, e = token(a, code=code, **base)
        check_eq((st, e["error"]), (400, "invalid_grant"), "a code again")
        # a confidential client: its secret by HTTP Basic, as registered
        cc = code_for(a, conf, v)
        f = dict(base, code=cc)
        del f["client_id"]
        st, _, e = token(a, **f)
        check_eq((st, e["error"]), (401, "invalid_client"),
                 "the confidential client without its secret")
        cc = code_for(a, conf, v)
        st, _, e = http("POST", a.issuer + "/token", form=dict(base, code=cc,
                        client_id=conf["client_id"]),
                        headers=basic(conf["client_id"],
                                      conf["client_secret"]))
        check_eq(st, 200, "the confidential client with HTTP Basic: %r" %
                 (e,))
        # refresh: rotated, the resource kept
        rt = t["refresh_token"]
        st, _, t2 = token(a, grant_type="refresh_token", refresh_token=rt,
                          client_id=pub["client_id"], resource=res)
        check_eq(st, 200, "refresh: %r" % (t2,))
        check(t2["refresh_token"] != rt and
              jwt_claims(t2["access_token"])["aud"] == res, "%r" % t2)
        st, _, e = token(a, grant_type="refresh_token", refresh_token=rt,
                         client_id=pub["client_id"])
        check_eq((st, e["error"]), (400, "invalid_grant"),
                 "an old refresh token")
        st, _, e = token(a, grant_type="password", client_id=pub["client_id"])
        check_eq((st, e["error"]), (400, "unsupported_grant_type"),
                 "grant_type password")

        # a slow one, a broken one
        a.delay = 0.3
        t0 = time.monotonic()
        check_eq(http("GET", a.issuer + "/jwks")[0], 200, "slow")
        check(time.monotonic() - t0 >= 0.3, "delay")
        a.delay = 0
        a.fail = 503
        for path in ("/.well-known/oauth-authorization-server", "/jwks"):
            check_eq(http("GET", a.issuer + path)[0], 503, "fail " + path)
        check_eq(http("POST", url, form={"token": "tok-1"}, headers=ok)[0],
                 503, "fail /introspect")
        a.fail = None
        check_eq(a.hits["/jwks"], 4, "hits of /jwks: %r" % a.hits)
        info("the test AS: %d requests, %d refusals" %
             (sum(a.hits.values()), len(a.errors)))
    finally:
        a.close()


# ------------------------------------------------------- the SDK client

def need_node():
    for f in (NODE, SDK_PKG, SCRIPT):
        check(os.path.exists(f), "%s is missing; run: npm ci --prefix "
              "tests/conformance (or set MCPD_CONFORMANCE_DIR)" % f)


def oauth_daemon():
    """mcpd with a listener whose auth block names a TestAS; returns
    (daemon, the AS, the resource URI); the AS is closed at the end."""
    need_node()
    d = T.Daemon(keys={"workers": "2"})
    d.auth_port = T.free_port()
    resource = "http://127.0.0.1:%d/mcp" % d.auth_port
    a = TestAS(resource)
    T.on_cleanup(a.close)
    d.extra = """
listen http 127.0.0.1 port %d auth oauth
auth oauth {
	resource-uri "%s"
	authorization-server "%s"
	jwt-issuer "%s"
	scopes-supported mcp:tools mcp:read
}
tool "echo" {
	description "print the text"
	command "/bin/echo" "{text}"
}
""" % (d.auth_port, resource, a.issuer, a.issuer)
    d.write_conf()
    d.start()
    # the agent finds the keys by the issuer's metadata (RFC 8414)
    d.wait_log(r"auth oauth: 3 keys from http://127\.0\.0\.1:\d+/jwks", 10)
    return d, a, resource


def run_script(*args):
    """Run sdk-oauth.mjs; its output is shown; fails the test unless it
    ended with its summary, every check ok."""
    need_node()
    cmd = [NODE, SCRIPT] + list(args)
    env = dict(os.environ, MCPD_CONFORMANCE_DIR=PKG_DIR)
    info("$ " + " ".join(a if len(a) < 100 else a[:40] + "..." for a in cmd))
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode("utf-8", "replace")
        for line in out.splitlines():
            info("| " + line)
        raise T.TestFailure("sdk-oauth.mjs %s: no end after %.0f s" %
                            (args[0], RUN_TIMEOUT))
    out = r.stdout.decode("utf-8", "replace").splitlines()
    for line in out:
        info("| " + line)
    oks = [ln for ln in out if ln.startswith("ok - ")]
    bad = [ln for ln in out if ln.startswith("not ok - ")]
    want = "sdk-oauth: %d passed, %d failed" % (len(oks), len(bad))
    check(not bad, "sdk-oauth.mjs %s: %s" % (args[0], "; ".join(bad)))
    check(oks and want in out and r.returncode == 0,
          "sdk-oauth.mjs %s: exit status %d, %d checks, summary %r" %
          (args[0], r.returncode, len(oks), [ln for ln in out
                                             if ln.startswith("sdk-")]))
    return out


def test_sdk_bearer_token():
    """a. A token the AS minted for mcpd, given to the SDK (in
    requestInit.headers, and by an authProvider's tokens()): served; the
    same token with a byte more: 401."""
    d, a, resource = oauth_daemon()
    run_script("token", resource, a.mint(scope="mcp:tools"))
    check_eq(a.hits["/authorize"] + a.hits["/token"], 0,
             "the AS was asked: %r" % a.hits)
    d.stop()


def test_sdk_oauth_flow():
    """b. No token: the SDK discovers mcpd's metadata and the AS,
    registers, authorizes with PKCE S256 and resource=mcpd's resource
    URI, exchanges the code for a token for it, is served with it, and
    refreshes a spoiled one."""
    d, a, resource = oauth_daemon()
    run_script("flow", resource, resource, a.issuer)
    check_eq(a.errors, [], "the AS refused something")
    check_eq(len(a.registrations), 1, "registrations")
    check_eq(len(a.authorizations), 1, "authorizations")
    q = a.authorizations[0]
    check_eq((q.get("resource"), q.get("code_challenge_method")),
             (resource, "S256"), "the authorization request")
    info("the SDK asked for scope %r" % q.get("scope"))
    grants = [(f.get("grant_type"), f.get("resource")) for f in
              a.token_requests]
    check_eq(grants, [("authorization_code", resource),
                      ("refresh_token", resource)], "token requests")
    check(all(jwt_claims(t["access_token"])["aud"] == resource
              for t in a.issued), "the tokens' aud")
    d.stop()


def test_sdk_no_token():
    """c. No token and no authProvider: the SDK's connect fails with 401,
    and nothing asked the AS (but mcpd's agent, for the keys, before)."""
    d, a, resource = oauth_daemon()
    before = sum(a.hits.values())
    run_script("none", resource)
    check_eq(sum(a.hits.values()) - before, 0, "the AS was asked: %r" %
             a.hits)
    d.stop()


def test_401_status_line():
    """mcpd's 401 says so in its status line: "401 Unauthorized" (it
    said "401 Error"); the SDK reads only the code, others show the
    phrase."""
    import http.client
    d = T.Daemon(keys={"workers": "1"})
    d.auth_port = T.free_port()
    resource = "http://127.0.0.1:%d/mcp" % d.auth_port
    d.extra = """
listen http 127.0.0.1 port %d auth oauth
auth oauth {
	resource-uri "%s"
	authorization-server "http://127.0.0.1:9"
	jwt-issuer "http://127.0.0.1:9"
	jwks-file "%s"
}
""" % (d.auth_port, resource, os.path.join(d.dir, "jwks.json"))
    with open(os.path.join(d.dir, "jwks.json"), "w") as f:
        json.dump(Keys().jwks(), f)
    os.chmod(d.dir, 0o755)
    os.chmod(os.path.join(d.dir, "jwks.json"), 0o644)
    d.write_conf()
    d.start()
    for tok in (None, "not-a-token"):
        c = http.client.HTTPConnection("127.0.0.1", d.auth_port, timeout=5)
        h = {"Content-Type": "application/json",
             "Accept": "application/json, text/event-stream"}
        if tok:
            h["Authorization"] = "Bearer " + tok
        c.request("POST", "/mcp", body=b'{"jsonrpc":"2.0","id":1,'
                  b'"method":"ping"}', headers=h)
        r = c.getresponse()
        r.read()
        c.close()
        check_eq((r.status, r.reason), (401, "Unauthorized"),
                 "the status line with token %r" % tok)
    d.stop()


if __name__ == "__main__":
    T.main([test_as_fixture, test_sdk_bearer_token, test_sdk_oauth_flow,
            test_sdk_no_token, test_401_status_line])
