"""
oauth_as.py -- a small OAuth 2.1 authorization server for mcpd's tests
(Python 3 standard library, and "cryptography" for the keys).

    from oauth_as import TestAS
    a = TestAS("http://127.0.0.1:PORT/mcp")   # the resource its tokens are for
    a.issuer                # "http://127.0.0.1:ASPORT", no trailing slash
    a.mint(sub="bob")       # a JWT access token (RFC 9068) for the resource
    a.close()

It serves, on 127.0.0.1 and a free port, in a daemon thread:

    GET  /.well-known/oauth-authorization-server   RFC 8414 metadata
    GET  /.well-known/openid-configuration         the same, as OIDC discovery
    GET  /jwks                                     self.jwks (assign a new one
                                                   at any time)
    POST /introspect     RFC 7662: form token=...; HTTP Basic with client_id
                         and client_secret (2.1), else 401 invalid_client;
                         the answer is self.opaque[token], else
                         {"active": false}
    POST /register       RFC 7591 dynamic client registration (JSON)
    GET  /authorize      auto-approves for self.user: response_type=code, a
                         registered client_id and redirect_uri, PKCE S256
                         and an RFC 8707 resource it knows are required; a
                         302 to redirect_uri?code=...&state=...&iss=...
    POST /token          authorization_code (the PKCE verifier, the same
                         redirect_uri and resource, the client's registered
                         authentication) and refresh_token (rotated); the
                         access token is a JWT minted for the resource with
                         the granted scope

A client that does it wrong gets the error RFC 6749 says (5.2 at /token,
4.1.2.1 at /authorize: no redirect when the client or its redirect_uri is
unknown, a redirect with error=... otherwise), so a test sees it fail.
What the server was asked is kept: self.authorizations (each /authorize's
query), self.token_requests (each /token's form), self.registrations,
self.errors ((path, error, description) of each refusal) and self.hits
(a Counter of the paths served).  self.delay (seconds) slows every answer;
self.fail (an HTTP status) makes every endpoint answer with it.

Keys, b64u and int_b64u (an issuer's RSA, P-256 and Ed25519 keys, their
JWKS, and signing) live here too; test_auth.py uses them.
"""

import base64
import collections
import hashlib
import hmac
import json
import secrets
import threading
import time
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Keys(object):
    """An issuer's keys, made now: RSA 2048, P-256, Ed25519."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519
        from cryptography.hazmat.primitives.asymmetric import rsa
        self.rsa = rsa.generate_private_key(public_exponent=65537,
                                            key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.ed = ed25519.Ed25519PrivateKey.generate()

    def jwks(self):
        from cryptography.hazmat.primitives import serialization as ser
        rn = self.rsa.public_key().public_numbers()
        en = self.ec.public_key().public_numbers()
        ed = self.ed.public_key().public_bytes(ser.Encoding.Raw,
                                               ser.PublicFormat.Raw)
        return {"keys": [
            {"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256",
             "n": int_b64u(rn.n), "e": int_b64u(rn.e)},
            {"kty": "EC", "kid": "e1", "crv": "P-256",
             "x": b64u(en.x.to_bytes(32, "big")),
             "y": b64u(en.y.to_bytes(32, "big"))},
            {"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": b64u(ed)}]}

    def sign(self, alg, kid, claims, header=None):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import serialization as ser
        from cryptography.hazmat.primitives.asymmetric import ec, padding
        from cryptography.hazmat.primitives.asymmetric.utils import \
            decode_dss_signature
        h = {"alg": alg, "typ": "at+jwt"}
        if kid:
            h["kid"] = kid
        h.update(header or {})
        si = (b64u(json.dumps(h).encode()) + "." +
              b64u(json.dumps(claims).encode())).encode()
        if alg == "RS256":
            sig = self.rsa.sign(si, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256":
            r, s_ = decode_dss_signature(self.ec.sign(
                si, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
        elif alg == "EdDSA":
            sig = self.ed.sign(si)
        elif alg == "HS256":
            # the confusion attack: the RSA public key as an HMAC secret
            pem = self.rsa.public_key().public_bytes(
                ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
            sig = hmac.new(pem, si, hashlib.sha256).digest()
        else:
            sig = b""
        return si.decode() + "." + b64u(sig)


def jwt_claims(token):
    """The payload of a JWT, unverified (for a test to look at)."""
    return json.loads(b64u_decode(token.split(".")[1]))


def pkce_s256(verifier):
    """RFC 7636 4.2: the S256 code_challenge of a code_verifier."""
    return b64u(hashlib.sha256(verifier.encode("ascii")).digest())


PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789-._~")
CODE_TTL = 60           # seconds an authorization code lives
TOKEN_TTL = 300         # seconds an access token lives
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")


class OAuthError(Exception):
    """An RFC 6749 5.2 error: status, error code, description."""

    def __init__(self, error, description, status=400, headers=None):
        Exception.__init__(self, "%s: %s" % (error, description))
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}


def _absolute_uri(u):
    try:
        p = urllib.parse.urlsplit(u)
    except ValueError:
        return False
    return p.scheme in ("http", "https") and bool(p.netloc) and \
        not p.fragment


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mcpd-test-as/1"

    def log_message(self, fmt, *args):  # quiet: the tests print what matters
        pass

    # -- answers

    def _send(self, status, body=b"", ctype="application/json",
              headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, e):
        self.server.oauth.errors.append((self.path.split("?")[0], e.error,
                                         e.description))
        self._send(e.status, {"error": e.error,
                              "error_description": e.description},
                   headers=e.headers)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 1 << 20:
            raise OAuthError("invalid_request", "the body is too large", 413)
        return self.rfile.read(n) if n else b""

    def _form(self):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "the body must be "
                             "application/x-www-form-urlencoded, not %r" %
                             ctype)
        pairs = urllib.parse.parse_qsl(self._body().decode("utf-8"),
                                       keep_blank_values=True)
        form = {}
        for k, v in pairs:
            if k in form:   # RFC 6749 3.1, 3.2: no parameter twice
                raise OAuthError("invalid_request", "%s given twice" % k)
            form[k] = v
        return form

    def _basic(self):
        """(id, secret) of an HTTP Basic Authorization (RFC 6749 2.3.1:
        each form-urlencoded), or None."""
        h = self.headers.get("Authorization") or ""
        if not h[:6].lower() == "basic ":
            return None
        try:
            raw = base64.b64decode(h[6:].strip(), validate=True).decode()
            cid, secret = raw.split(":", 1)
        except (ValueError, UnicodeDecodeError):
            return ("", None)
        return (urllib.parse.unquote_plus(cid),
                urllib.parse.unquote_plus(secret))

    # -- dispatch

    ROUTES = {
        "/.well-known/oauth-authorization-server": ("GET", "metadata"),
        "/.well-known/openid-configuration": ("GET", "openid"),
        "/jwks": ("GET", "jwks"),
        "/introspect": ("POST", "introspect"),
        "/register": ("POST", "register"),
        "/authorize": ("GET", "authorize"),
        "/token": ("POST", "token"),
    }

    def _dispatch(self):
        a = self.server.oauth
        path = self.path.split("?")[0]
        with a.lock:
            a.hits[path] += 1
        if a.delay:
            time.sleep(a.delay)
        if a.fail:
            self._body()
            self._send(a.fail, {"error": "server_error",
                                "error_description": "playing a broken "
                                "authorization server"})
            return
        route = None if path in a.missing else self.ROUTES.get(path)
        if route is None:
            self._body()
            self._send(404, {"error": "not_found"})
            return
        if self.command != route[0] and not (self.command == "HEAD" and
                                             route[0] == "GET"):
            self._body()
            self._send(405, {"error": "invalid_request",
                             "error_description": "use %s" % route[0]},
                       headers={"Allow": route[0]})
            return
        try:
            getattr(self, "ep_" + route[1])()
        except OAuthError as e:
            self._error(e)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _dispatch

    # -- endpoints

    def ep_metadata(self):
        self._send(200, self.server.oauth.metadata())

    def ep_openid(self):
        m = self.server.oauth.metadata()
        m.update({"subject_types_supported": ["public"],
                  "id_token_signing_alg_values_supported": ["ES256"]})
        self._send(200, m)

    def ep_jwks(self):
        self._send(200, self.server.oauth.jwks)

    def ep_introspect(self):
        a = self.server.oauth
        cred = self._basic()
        form = self._form()
        if cred is None or not (
                hmac.compare_digest(cred[0], a.client_id) and
                cred[1] is not None and
                hmac.compare_digest(cred[1], a.client_secret)):
            raise OAuthError("invalid_client", "introspection needs the "
                             "resource server's client_id and secret "
                             "(HTTP Basic)", 401,
                             {"WWW-Authenticate": 'Basic realm="introspect"'})
        if "token" not in form:
            raise OAuthError("invalid_request", "no token")
        with a.lock:
            a.introspections.append(form)
        self._send(200, a.opaque.get(form["token"], {"active": False}))

    def ep_register(self):
        a = self.server.oauth
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/json":
            raise OAuthError("invalid_client_metadata",
                             "the body must be application/json")
        try:
            md = json.loads(self._body())
        except ValueError:
            raise OAuthError("invalid_client_metadata", "not JSON")
        if not isinstance(md, dict):
            raise OAuthError("invalid_client_metadata", "not an object")
        uris = md.get("redirect_uris")
        if not isinstance(uris, list) or not uris or \
                not all(isinstance(u, str) and _absolute_uri(u)
                        for u in uris):
            raise OAuthError("invalid_redirect_uri", "redirect_uris must "
                             "be absolute http(s) URIs without fragment")
        method = md.get("token_endpoint_auth_method",
                        "client_secret_basic")
        if method not in AUTH_METHODS:
            raise OAuthError("invalid_client_metadata",
                             "token_endpoint_auth_method %r" % method)
        grants = md.get("grant_types", ["authorization_code"])
        if not isinstance(grants, list) or \
                any(g not in GRANT_TYPES for g in grants):
            raise OAuthError("invalid_client_metadata",
                             "grant_types %r" % grants)
        rtypes = md.get("response_types", ["code"])
        if rtypes != ["code"]:
            raise OAuthError("invalid_client_metadata",
                             "response_types %r" % rtypes)
        scope = md.get("scope")
        if scope is not None:
            a.check_scope(scope, "invalid_client_metadata")
        client = dict(md)
        client.update({
            "client_id": "client-" + secrets.token_urlsafe(12),
            "client_id_issued_at": int(time.time()),
            "token_endpoint_auth_method": method,
            "grant_types": grants,
            "response_types": rtypes,
        })
        if method != "none":
            client["client_secret"] = secrets.token_urlsafe(24)
            client["client_secret_expires_at"] = 0
        with a.lock:
            a.clients[client["client_id"]] = client
            a.registrations.append(md)
        self._send(201, client)

    def ep_authorize(self):
        a = self.server.oauth
        q = {}
        for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(
                self.path).query, keep_blank_values=True):
            if k in q:
                raise OAuthError("invalid_request", "%s given twice" % k)
            q[k] = v
        with a.lock:
            a.authorizations.append(q)
        # 4.1.2.1: an unknown client or redirect_uri is told here, not
        # redirected to
        client = a.clients.get(q.get("client_id", ""))
        if client is None:
            raise OAuthError("invalid_request", "unknown client_id %r" %
                             q.get("client_id"))
        ruri = q.get("redirect_uri")
        if ruri not in client["redirect_uris"]:
            raise OAuthError("invalid_request", "redirect_uri %r is not "
                             "registered" % ruri)
        state = q.get("state")

        def back(params):
            if state is not None:
                params["state"] = state
            params["iss"] = a.issuer      # RFC 9207
            loc = ruri + ("&" if "?" in ruri else "?") + \
                urllib.parse.urlencode(params)
            self._send(302, headers={"Location": loc})

        def refuse(error, description):
            a.errors.append(("/authorize", error, description))
            back({"error": error, "error_description": description})
        if q.get("response_type") != "code":
            return refuse("unsupported_response_type",
                          "response_type must be code")
        if not q.get("code_challenge"):
            return refuse("invalid_request", "PKCE: no code_challenge")
        if q.get("code_challenge_method") != "S256":
            return refuse("invalid_request", "PKCE: code_challenge_method "
                          "must be S256, not %r" %
                          q.get("code_challenge_method"))
        if len(q["code_challenge"]) != 43 or \
                not set(q["code_challenge"]) <= PKCE_CHARS:
            return refuse("invalid_request", "PKCE: the code_challenge is "
                          "not a SHA-256 in base64url")
        resource = q.get("resource")
        if not resource:
            return refuse("invalid_target", "no resource (RFC 8707)")
        if resource not in a.resources:
            return refuse("invalid_target", "unknown resource %r" %
                          resource)
        scope = q.get("scope")
        if scope is not None:
            try:
                a.check_scope(scope, "invalid_scope")
            except OAuthError as e:
                return refuse(e.error, e.description)
        code = secrets.token_urlsafe(24)
        with a.lock:
            a.codes[code] = {
                "client_id": client["client_id"], "redirect_uri": ruri,
                "challenge": q["code_challenge"], "resource": resource,
                "scope": scope, "expires": time.time() + CODE_TTL,
                "used": False}
        back({"code": code})

    def _client_auth(self, form):
        """The registered client the token request authenticates as, by
        the method it registered (RFC 6749 2.3.1, RFC 7591 2)."""
        a = self.server.oauth
        basic = self._basic()
        cid = basic[0] if basic else form.get("client_id")
        client = a.clients.get(cid or "")
        if client is None:
            raise OAuthError("invalid_client", "unknown client %r" % cid,
                             401, {"WWW-Authenticate": 'Basic realm="token"'}
                             if basic else None)
        method = client["token_endpoint_auth_method"]
        if basic and "client_secret" in form:
            raise OAuthError("invalid_request", "two ways of client "
                             "authentication")
        if method == "none":
            ok = basic is None and "client_secret" not in form
        elif method == "client_secret_basic":
            ok = basic is not None and basic[1] is not None and \
                hmac.compare_digest(basic[1], client["client_secret"])
        else:
            ok = basic is None and hmac.compare_digest(
                form.get("client_secret", ""), client["client_secret"])
        if not ok:
            raise OAuthError("invalid_client", "client %s must "
                             "authenticate with %s" % (cid, method), 401,
                             {"WWW-Authenticate": 'Basic realm="token"'}
                             if basic else None)
        if "client_id" in form and form["client_id"] != cid:
            raise OAuthError("invalid_client", "client_id differs")
        return client

    def ep_token(self):
        a = self.server.oauth
        form = self._form()
        with a.lock:
            a.token_requests.append(form)
        client = self._client_auth(form)
        grant = form.get("grant_type")
        if grant not in GRANT_TYPES:
            raise OAuthError("unsupported_grant_type",
                             "grant_type %r" % grant)
        if grant not in client["grant_types"]:
            raise OAuthError("unauthorized_client", "%s is not registered "
                             "for this client" % grant)
        resource = form.get("resource")
        if grant == "authorization_code":
            for k in ("code", "redirect_uri", "code_verifier"):
                if not form.get(k):
                    raise OAuthError("invalid_request", "no %s" % k)
            with a.lock:
                c = a.codes.get(form["code"])
                was_used = c is not None and c["used"]
                if c is not None:
                    c["used"] = True
            if c is None or was_used or c["expires"] < time.time():
                raise OAuthError("invalid_grant", "the code is unknown, "
                                 "used or expired")
            if c["client_id"] != client["client_id"]:
                raise OAuthError("invalid_grant", "the code is another "
                                 "client's")
            if c["redirect_uri"] != form["redirect_uri"]:
                raise OAuthError("invalid_grant", "redirect_uri differs "
                                 "from the authorization request's")
            v = form["code_verifier"]
            if not 43 <= len(v) <= 128 or not set(v) <= PKCE_CHARS:
                raise OAuthError("invalid_request", "PKCE: the "
                                 "code_verifier is malformed")
            if not hmac.compare_digest(pkce_s256(v), c["challenge"]):
                raise OAuthError("invalid_grant", "PKCE: the code_verifier "
                                 "does not match the code_challenge")
            if not resource:
                raise OAuthError("invalid_target", "no resource (RFC 8707)")
            if resource != c["resource"]:
                raise OAuthError("invalid_target", "resource %r is not the "
                                 "authorization request's %r" %
                                 (resource, c["resource"]))
            scope = c["scope"]
        else:
            rt = form.get("refresh_token")
            with a.lock:
                r = a.refresh.pop(rt or "", None)   # rotated: used once
            if r is None:
                raise OAuthError("invalid_grant", "unknown refresh_token")
            if r["client_id"] != client["client_id"]:
                raise OAuthError("invalid_grant", "the refresh_token is "
                                 "another client's")
            if resource and resource != r["resource"]:
                raise OAuthError("invalid_target", "resource %r is not the "
                                 "grant's %r" % (resource, r["resource"]))
            resource = r["resource"]
            scope = r["scope"]
            if form.get("scope"):
                want = form["scope"].split()
                if not set(want) <= set((scope or "").split()):
                    raise OAuthError("invalid_scope", "more than granted")
                scope = form["scope"]
        access = a.mint(sub=a.user, scope=scope, aud=resource,
                        client_id=client["client_id"])
        answer = {"access_token": access, "token_type": "Bearer",
                  "expires_in": TOKEN_TTL}
        if scope:
            answer["scope"] = scope
        if "refresh_token" in client["grant_types"]:
            rt = secrets.token_urlsafe(24)
            with a.lock:
                a.refresh[rt] = {"client_id": client["client_id"],
                                 "resource": resource, "scope": scope}
            answer["refresh_token"] = rt
        with a.lock:
            a.issued.append(answer)
        self._send(200, answer, headers={"Pragma": "no-cache"})


class _Server(ThreadingHTTPServer):
    """A client that left before its answer (mcpd's fetch-timeout) is no
    error of the server's: no traceback for it."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


class TestAS(object):
    """An authorization server for `resource` on host:port (0: a free
    one), serving in a daemon thread until close()."""

    __test__ = False      # not a test class, whatever a runner thinks

    def __init__(self, resource, host="127.0.0.1", port=0):
        self.resource = resource
        self.resources = {resource}   # those /authorize takes
        self.keys = Keys()
        self.jwks = self.keys.jwks()
        self.kid_alg = ("ES256", "e1")
        self.opaque = {}
        self.client_id = "mcpd-rs"
        self.client_secret = secrets.token_urlsafe(18)
        self.hits = collections.Counter()
        self.delay = 0
        self.fail = None
        self.missing = set()          # paths answered 404, as if absent
        self.user = "alice"           # whom /authorize approves
        self.scopes = ["mcp:tools", "mcp:read", "mcp:write"]
        self.lock = threading.Lock()
        self.clients = {}             # client_id -> its registration
        self.codes = {}               # code -> what it was issued for
        self.refresh = {}             # refresh token -> its grant
        self.registrations = []       # each /register's metadata
        self.authorizations = []      # each /authorize's query
        self.token_requests = []      # each /token's form
        self.introspections = []      # each authenticated /introspect form
        self.issued = []              # each /token answer
        self.errors = []              # (path, error, description)
        self.httpd = _Server((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.oauth = self
        self.port = self.httpd.server_address[1]
        h = "[%s]" % host if ":" in host else host
        self.issuer = "http://%s:%d" % (h, self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name="TestAS", daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def metadata(self):
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": i + "/authorize",
            "token_endpoint": i + "/token",
            "registration_endpoint": i + "/register",
            "introspection_endpoint": i + "/introspect",
            "jwks_uri": i + "/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANT_TYPES),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "introspection_endpoint_auth_methods_supported":
                ["client_secret_basic"],
            "scopes_supported": list(self.scopes),
            "authorization_response_iss_parameter_supported": True,
        }

    def check_scope(self, scope, error):
        unknown = [s for s in scope.split() if s not in self.scopes]
        if unknown:
            raise OAuthError(error, "unknown scope %s" % " ".join(unknown))

    def mint(self, sub="alice", scope="mcp:tools", **claims):
        """A JWT access token (RFC 9068) for self.resource, signed with
        self.kid_alg; claims override, a claim None is left out."""
        now = int(time.time())
        c = {"iss": self.issuer, "sub": sub, "aud": self.resource,
             "iat": now, "exp": now + TOKEN_TTL, "scope": scope,
             "client_id": "test-client", "jti": secrets.token_urlsafe(9)}
        c.update(claims)
        c = {k: v for k, v in c.items() if v is not None}
        alg, kid = self.kid_alg
        return self.keys.sign(alg, kid, c)

    def close(self):
        if self.httpd is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.httpd = None
