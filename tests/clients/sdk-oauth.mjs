// sdk-oauth.mjs -- the official TypeScript SDK client's OAuth against mcpd.
//
//   node sdk-oauth.mjs token URL TOKEN
//   node sdk-oauth.mjs flow URL RESOURCE ISSUER
//   node sdk-oauth.mjs none URL
//
// Uses @modelcontextprotocol/sdk (pinned 1.32.2) from MCPD_CONFORMANCE_DIR
// (default: ../conformance next to this file) and its
// StreamableHTTPClientTransport against an mcpd listener with an auth
// block, whose catalog has the exec tool "echo" (command /bin/echo {text};
// test_oauth.py writes it):
//
//   token  a bearer token given here: sent in requestInit.headers, then by
//          an authProvider whose tokens() returns it; each connects, lists
//          the tools and calls "echo".  A wrong token: the connect fails
//          with HTTP 401.
//   flow   no token: an authProvider (OAuthClientProvider) that keeps
//          everything in memory.  The SDK gets 401, follows the
//          challenge's resource_metadata to mcpd's RFC 9728 document, takes
//          its authorization server (which must be ISSUER), reads that
//          one's metadata, registers (RFC 7591) and calls
//          redirectToAuthorization(url): the URL must carry response_type
//          code, PKCE S256, the redirect_uri, the state and
//          resource=RESOURCE (RFC 8707).  This script then fetches the URL
//          itself (the test authorization server approves at once and
//          redirects), takes the code, calls transport.finishAuth(code):
//          the access token must be a JWT with aud RESOURCE and iss ISSUER.
//          A new transport with the same provider connects, lists the tools
//          and calls "echo", each request with the token.  Then the access
//          token is spoiled (the refresh token kept): the next connect gets
//          401 invalid_token, the SDK refreshes, and is served.
//   none   no token and no authProvider: the connect fails with HTTP 401.
//
// Every HTTP request the SDK makes goes through a fetch that prints it as
// "# METHOD URL -> STATUS" (what the SDK did, step by step).
//
// Prints "ok - NAME" or "not ok - NAME: reason" per check, then
// "sdk-oauth: N passed, M failed"; exit status 1 on any failure.
// Every request has a 10 s timeout and the whole run 60 s.

import { harness, errText } from './harness.mjs';

const REQUEST_TIMEOUT = 10000;   // ms, every request
const TOTAL_TIMEOUT = 60000;     // ms, the whole script
const PROG = 'sdk-oauth';
// where the authorization server sends the browser back: never contacted,
// this script reads the redirect's Location itself
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';
const ECHO_TEXT = 'hello from sdk-oauth';

// ------------------------------------------------------------------ args

function usage() {
    process.stderr.write(`usage: ${PROG} token URL TOKEN | flow URL RESOURCE ISSUER | none URL\n`);
    process.exit(2);
}

const hs = harness(PROG, TOTAL_TIMEOUT);
const { say, assert, eq, check } = hs;
const imp = hs.sdk;

const argv = process.argv.slice(2);
const mode = argv[0];
if (!((mode === 'token' && argv.length === 3) ||
      (mode === 'flow' && argv.length === 4) ||
      (mode === 'none' && argv.length === 2)))
    usage();
const url = new URL(argv[1]);

const { Client } = await imp('client/index.js');
const { StreamableHTTPClientTransport, StreamableHTTPError } =
    await imp('client/streamableHttp.js');
const { UnauthorizedError } = await imp('client/auth.js');

// ------------------------------------------------------- what goes out

const wire = [];    // {method, url, status, auth, challenge, location}

// The fetch the SDK is given: every request and its answer, printed.
async function logFetch(input, init) {
    const u = String(input instanceof Request ? input.url : input);
    const method = init?.method || (input instanceof Request ? input.method : 'GET');
    const h = new Headers(init?.headers || (input instanceof Request ? input.headers : undefined));
    // the transport's own requests carry its signal (and the Client's
    // timeouts); the SDK's OAuth requests and this script's carry none
    const signal = init?.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT);
    const rec = { method, url: u, auth: h.get('authorization') };
    wire.push(rec);
    let r;
    try {
        r = await fetch(input, { ...init, signal });
    } catch (e) {
        rec.status = 'error';
        say(`# ${method} ${u} -> ${errText(e)}`);
        throw e;
    }
    rec.status = r.status;
    rec.challenge = r.headers.get('www-authenticate');
    rec.location = r.headers.get('location');
    const auth = rec.auth ? ` [Authorization: ${rec.auth.split(' ')[0]} ...]` : '';
    say(`# ${method} ${u}${auth} -> ${r.status}` +
        (rec.challenge ? ` WWW-Authenticate: ${rec.challenge}` : '') +
        (rec.location ? ` Location: ${rec.location.slice(0, 120)}...` : ''));
    return r;
}

function jwtPayload(tok) {
    const parts = String(tok).split('.');
    assert(parts.length === 3, `not a JWT: ${String(tok).slice(0, 40)}`);
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString());
}

// Connect a new Client over a new transport, list the tools, call "echo".
// Returns the client (connected) or throws.
async function useServer(label, opts) {
    const transport = new StreamableHTTPClientTransport(url, { fetch: logFetch, ...opts });
    const client = new Client({ name: 'mcpd-sdk-oauth', version: '1.0.0' });
    await check(`${label}: connect (initialize)`, () =>
        client.connect(transport, { timeout: REQUEST_TIMEOUT }));
    await check(`${label}: tools/list has "echo"`, async () => {
        const r = await client.listTools({}, { timeout: REQUEST_TIMEOUT });
        const names = r.tools.map((t) => t.name);
        assert(names.includes('echo'), `tools: ${JSON.stringify(names)}`);
    });
    await check(`${label}: tools/call "echo"`, async () => {
        const r = await client.callTool({ name: 'echo', arguments: { text: ECHO_TEXT } },
            undefined, { timeout: REQUEST_TIMEOUT });
        assert(!r.isError, `isError: ${JSON.stringify(r)}`);
        const text = r.content.map((c) => c.text || '').join('');
        eq(text.trim(), ECHO_TEXT, 'the text');
    });
    await client.close().catch(() => {});
    return transport;
}

// A connect that must fail with HTTP 401.  Returns the error.
async function refused(label, opts, wantClass) {
    return check(label, async () => {
        const transport = new StreamableHTTPClientTransport(url, { fetch: logFetch, ...opts });
        const client = new Client({ name: 'mcpd-sdk-oauth', version: '1.0.0' });
        let err = null;
        try {
            await client.connect(transport, { timeout: REQUEST_TIMEOUT });
        } catch (e) {
            err = e;
        }
        await client.close().catch(() => {});
        assert(err, 'the connect succeeded');
        say(`# the SDK threw ${errText(err)}`);
        assert(err instanceof wantClass, `want ${wantClass.name}, got ${errText(err)}`);
        if (wantClass === StreamableHTTPError)
            eq(err.code, 401, 'the error code');
        return err;
    });
}

// ---------------------------------------------------- the OAuth client

// An OAuthClientProvider that keeps everything in memory, a public client
// (token_endpoint_auth_method none) that may refresh; redirectToAuthorization
// only keeps the URL.
class MemoryProvider {
    constructor() {
        this._client = undefined;
        this._tokens = undefined;
        this._verifier = undefined;
        this._state = undefined;
        this.authUrl = null;
        this.redirects = 0;
    }
    get redirectUrl() { return REDIRECT; }
    get clientMetadata() {
        return {
            client_name: 'mcpd sdk-oauth.mjs',
            redirect_uris: [REDIRECT],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
        };
    }
    state() {
        this._state = `st-${Math.random().toString(36).slice(2)}`;
        return this._state;
    }
    clientInformation() { return this._client; }
    saveClientInformation(info) { this._client = info; }
    tokens() { return this._tokens; }
    saveTokens(t) { this._tokens = t; }
    redirectToAuthorization(u) {
        this.redirects++;
        this.authUrl = new URL(u);
        say(`# redirectToAuthorization(${this.authUrl.href.slice(0, 160)}...)`);
    }
    saveCodeVerifier(v) { this._verifier = v; }
    codeVerifier() {
        if (!this._verifier)
            throw new Error('no code verifier saved');
        return this._verifier;
    }
}

// A provider that only hands out a token it was given (no redirectUrl, no
// flow of its own).
class TokenProvider {
    constructor(token) { this.token = token; }
    get redirectUrl() { return undefined; }
    get clientMetadata() { return { redirect_uris: [] }; }
    clientInformation() { return undefined; }
    tokens() { return { access_token: this.token, token_type: 'Bearer' }; }
    saveTokens() { throw new Error('TokenProvider: saveTokens called'); }
    redirectToAuthorization() { throw new Error('TokenProvider: redirectToAuthorization called'); }
    saveCodeVerifier() {}
    codeVerifier() { return ''; }
}

// ------------------------------------------------------------------ runs

async function runToken(token) {
    let n = wire.length;
    await useServer('requestInit.headers', {
        requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    await check('requestInit.headers: every request carried the token', () => {
        const bad = wire.slice(n).filter((w) => w.auth !== `Bearer ${token}`);
        eq(bad.map((w) => `${w.method} ${w.url}`), [], 'requests without it');
        assert(wire.length > n, 'no request');
    });
    n = wire.length;
    await useServer('authProvider.tokens()', { authProvider: new TokenProvider(token) });
    await check('authProvider.tokens(): every request carried the token, no 401', () => {
        const bad = wire.slice(n).filter((w) => w.auth !== `Bearer ${token}` || w.status === 401);
        eq(bad.map((w) => `${w.method} ${w.url} ${w.status}`), [], 'requests');
    });
    await refused('a wrong token: the connect fails with 401', {
        requestInit: { headers: { Authorization: `Bearer ${token}x` } } }, StreamableHTTPError);
}

async function runFlow(resource, issuer) {
    const provider = new MemoryProvider();
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: logFetch });
    const c1 = new Client({ name: 'mcpd-sdk-oauth', version: '1.0.0' });
    await check('no token: connect stops at the authorization (UnauthorizedError)', async () => {
        let err = null;
        try {
            await c1.connect(first, { timeout: REQUEST_TIMEOUT });
        } catch (e) {
            err = e;
        }
        assert(err, 'the connect succeeded without a token');
        say(`# the SDK threw ${errText(err)}`);
        assert(err instanceof UnauthorizedError, `want UnauthorizedError, got ${errText(err)}`);
        eq(provider.redirects, 1, 'redirectToAuthorization calls');
    });
    await check('the SDK followed the challenge: 401, RFC 9728 metadata, AS metadata, registration', () => {
        const seq = wire.map((w) => `${w.method} ${new URL(w.url).pathname} ${w.status}`);
        const challenge = wire[0]?.challenge || '';
        const m = /resource_metadata="([^"]+)"/.exec(challenge);
        assert(wire[0]?.status === 401 && m, `first request: ${seq[0]}, challenge ${challenge}`);
        const prm = wire.find((w) => w.url === m[1]);
        assert(prm && prm.status === 200, `no 200 GET of ${m[1]}: ${seq.join(', ')}`);
        const asm = wire.find((w) => w.url.startsWith(issuer + '/.well-known/'));
        assert(asm && asm.status === 200, `no AS metadata from ${issuer}: ${seq.join(', ')}`);
        const reg = wire.find((w) => w.url === issuer + '/register');
        assert(reg && reg.method === 'POST' && reg.status === 201, `registration: ${seq.join(', ')}`);
        assert(wire.indexOf(prm) < wire.indexOf(asm) && wire.indexOf(asm) < wire.indexOf(reg),
            `order: ${seq.join(', ')}`);
        assert(!wire.some((w) => w.auth), 'a request carried an Authorization');
    });
    const q = provider.authUrl ? provider.authUrl.searchParams : new URLSearchParams();
    await check('the authorization URL: the AS\'s endpoint, code, PKCE S256, RFC 8707 resource', () => {
        assert(provider.authUrl, 'no authorization URL');
        eq(provider.authUrl.origin + provider.authUrl.pathname, issuer + '/authorize', 'endpoint');
        eq(q.get('response_type'), 'code', 'response_type');
        eq(q.get('code_challenge_method'), 'S256', 'code_challenge_method');
        assert(/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') || ''),
            `code_challenge ${q.get('code_challenge')}`);
        eq(q.get('resource'), resource, 'resource');
        eq(q.get('redirect_uri'), REDIRECT, 'redirect_uri');
        eq(q.get('client_id'), provider._client?.client_id, 'client_id (the registered one)');
        eq(q.get('state'), provider._state, 'state');
        say(`# scope asked for: ${q.get('scope')}`);
    });
    const code = await check('the authorization server approves: 302 to the redirect_uri with code and state', async () => {
        const r = await logFetch(provider.authUrl, { redirect: 'manual' });
        await r.arrayBuffer();
        eq(r.status, 302, 'status');
        const loc = new URL(r.headers.get('location'));
        eq(loc.origin + loc.pathname, REDIRECT, 'where to');
        assert(!loc.searchParams.get('error'), `error ${loc.searchParams.get('error')}: ` +
            loc.searchParams.get('error_description'));
        eq(loc.searchParams.get('state'), provider._state, 'state');
        const c = loc.searchParams.get('code');
        assert(c, 'no code');
        return c;
    });
    const tokens = await check('transport.finishAuth(code): a Bearer JWT for the resource', async () => {
        assert(code, 'no code');
        await first.finishAuth(code);
        const t = provider._tokens;
        assert(t && t.access_token, `tokens: ${JSON.stringify(t)}`);
        assert(/^bearer$/i.test(t.token_type), `token_type ${t.token_type}`);
        const p = jwtPayload(t.access_token);
        say(`# access token claims: ${JSON.stringify(p)}`);
        eq(p.aud, resource, 'aud');
        eq(p.iss, issuer, 'iss');
        assert(t.refresh_token, 'no refresh_token');
        const tok = wire.filter((w) => w.url === issuer + '/token');
        eq(tok.map((w) => [w.method, w.status]), [['POST', 200]], '/token requests');
        return t;
    });
    const n = wire.length;
    await useServer('with the token', { authProvider: provider });
    await check('with the token: every request to mcpd carried it, none was 401', () => {
        const mine = wire.slice(n);
        assert(mine.length > 0, 'no request');
        const bad = mine.filter((w) => w.auth !== `Bearer ${tokens?.access_token}` || w.status === 401);
        eq(bad.map((w) => `${w.method} ${w.url} ${w.status}`), [], 'requests');
    });
    // a spoiled access token: 401 invalid_token, then the SDK refreshes
    const m = wire.length;
    if (provider._tokens)
        provider._tokens = { ...provider._tokens, access_token: 'spoiled.' + provider._tokens.access_token };
    await useServer('a spoiled access token', { authProvider: provider });
    await check('a spoiled access token: 401 invalid_token, the SDK refreshed it, then was served', () => {
        const mine = wire.slice(m);
        const seq = mine.map((w) => `${w.method} ${new URL(w.url).pathname} ${w.status}`);
        assert(mine[0]?.status === 401 && /error="invalid_token"/.test(mine[0].challenge || ''),
            `first: ${seq[0]} ${mine[0]?.challenge}`);
        const tok = mine.filter((w) => w.url === issuer + '/token');
        eq(tok.map((w) => w.status), [200], '/token requests');
        assert(!mine.some((w) => w.url.startsWith(issuer + '/authorize')), 'a new authorization');
        eq(provider.redirects, 1, 'redirectToAuthorization calls');
        const t = provider._tokens;
        assert(t.access_token !== tokens?.access_token && !t.access_token.startsWith('spoiled.'),
            'the access token is not new');
        eq(jwtPayload(t.access_token).aud, resource, 'the new token\'s aud');
    });
}

async function runNone() {
    await refused('no token, no authProvider: the connect fails with 401', {},
        StreamableHTTPError);
    await check('the 401 named the RFC 9728 metadata', () => {
        const c = wire[0]?.challenge || '';
        assert(wire[0]?.status === 401 && /^Bearer resource_metadata="[^"]+"/.test(c),
            `status ${wire[0]?.status}, challenge ${c}`);
    });
}

if (mode === 'token')
    await runToken(argv[2]);
else if (mode === 'flow')
    await runFlow(argv[2], argv[3]);
else
    await runNone();

hs.done();
