// inspector2.mjs -- drive mcpd from the command line with the Inspector 2 CLI.
//
//   node inspector2.mjs http://127.0.0.1:PORT/mcp MCPD_BINARY CONF
//
// Runs the CLI of @modelcontextprotocol/inspector (pinned 2.12.0, from
// MCPD_CONFORMANCE_DIR, default ../conformance next to this file; it wants
// node >= 22.19, which is the node running this script) as a user would,
// in its modern era (--protocol-era modern: 2026-07-28, server/discover
// instead of initialize):
//
//   inspector --cli URL --protocol-era modern [--format json] --method M ...
//
// against mcpd's HTTP endpoint through a recording proxy on 127.0.0.1 (so
// that the checks see the wire: server/discover first, no initialize, the
// MCP-Protocol-Version, Mcp-Method and Mcp-Name headers, no session), for
// tools/list, tools/call of the exec tool "echo" and of a fixture tool
// (in the default, human-readable format too), resources/read,
// prompts/get and an unknown tool; then once over stdio, where it spawns
// "MCPD --stdio -c CONF" itself.  Its state (catalog, storage, secrets)
// goes to a temporary directory, not to ~/.mcp-inspector.
//
// Prints "ok - NAME" or "not ok - NAME: reason" per check, then
// "inspector2: N passed, M failed"; exit status 1 on any failure.
// Every run of the CLI has 20 s and the whole script 60 s.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG_DIR = process.env.MCPD_CONFORMANCE_DIR ||
    path.join(HERE, '..', 'conformance');
const NM = path.join(PKG_DIR, 'node_modules');
const INSPECTOR = path.join(NM, '@modelcontextprotocol', 'inspector');
const LAUNCHER = path.join(INSPECTOR, 'clients', 'launcher', 'build', 'index.js');

const VERSION = '2026-07-28';
const CLI_TIMEOUT = 20000;      // ms, one run of the CLI
const TOTAL_TIMEOUT = 60000;    // ms, the whole script
const PROG = 'inspector2';

let passed = 0;
let failed = 0;
let stateDir = null;

function say(line) {
    process.stdout.write(line + '\n');
}

function cleanup() {
    if (stateDir)
        fs.rmSync(stateDir, { recursive: true, force: true });
    stateDir = null;
}

function finish() {
    say(`${PROG}: ${passed} passed, ${failed} failed`);
    cleanup();
    process.exit(failed ? 1 : 0);
}

function fail(name, why) {
    failed++;
    const text = String(why).replace(/\s+/g, ' ').trim();
    say(`not ok - ${name}: ${text.length > 600 ? text.slice(0, 600) + '...' : text}`);
}

class CheckError extends Error {}

function assert(cond, msg) {
    if (!cond)
        throw new CheckError(msg);
}

function eq(got, want, what) {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    if (g !== w)
        throw new CheckError(`${what}: got ${g}, want ${w}`);
}

function short(v) {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    return s === undefined ? String(v) : (s.length > 400 ? s.slice(0, 400) + '...' : s);
}

async function check(name, fn) {
    try {
        const v = await fn();
        passed++;
        say(`ok - ${name}`);
        return v === undefined ? true : v;
    } catch (e) {
        fail(name, e instanceof CheckError ? e.message :
            `${e && e.name || 'Error'}: ${e && e.message || e}`);
        return undefined;
    }
}

const argv = process.argv.slice(2);
if (argv.length !== 3 || !/^http:\/\//.test(argv[0])) {
    process.stderr.write(`usage: ${PROG} http://HOST:PORT/mcp MCPD CONF\n`);
    process.exit(2);
}
const [url, mcpdBin, confPath] = argv;

setTimeout(() => {
    fail('whole run', `not finished within ${TOTAL_TIMEOUT / 1000} s`);
    finish();
}, TOTAL_TIMEOUT).unref();

if (!fs.existsSync(LAUNCHER)) {
    fail('load', `${LAUNCHER} is missing; run: npm ci --prefix tests/conformance`);
    finish();
}
const [maj, min] = process.versions.node.split('.').map(Number);
if (maj < 22 || (maj === 22 && min < 19)) {
    fail('node', `node ${process.versions.node}: the Inspector 2 wants >= 22.19`);
    finish();
}

// ---------------------------------------------------------- the proxy

// Forwards everything to mcpd as it comes (SSE bodies included) and
// records each exchange: {method, headers, body, status, resHeaders}.
const target = new URL(url);
const exchanges = [];
const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'host'];

const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const x = { method: req.method, headers: req.headers, body: undefined,
            status: undefined, resHeaders: {} };
        try {
            x.body = raw.length ? JSON.parse(raw.toString()) : undefined;
        } catch {
            x.body = raw.toString();
        }
        exchanges.push(x);
        const headers = {};
        for (const [k, v] of Object.entries(req.headers))
            if (!HOP.includes(k))
                headers[k] = v;
        headers['content-length'] = String(raw.length);
        const up = http.request({
            host: target.hostname, port: target.port, path: req.url,
            method: req.method, headers,
        }, (ur) => {
            x.status = ur.statusCode;
            x.resHeaders = ur.headers;
            const out = {};
            for (const [k, v] of Object.entries(ur.headers))
                if (!HOP.includes(k))
                    out[k] = v;
            res.writeHead(ur.statusCode, out);
            ur.pipe(res);
        });
        up.on('error', (e) => {
            x.status = `proxy: ${e.message}`;
            if (!res.headersSent)
                res.writeHead(502);
            res.end();
        });
        // the CLI going away closes mcpd's side too
        res.on('close', () => up.destroy());
        up.end(raw);
    });
});
await new Promise((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', resolve);
});
proxy.unref();
const proxyUrl = `http://127.0.0.1:${proxy.address().port}${target.pathname}`;

// ---------------------------------------------------------- the CLI

stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-inspector2-'));
const env = {
    PATH: process.env.PATH || '/usr/bin:/bin',
    HOME: stateDir,
    NO_COLOR: '1',
    MCP_CATALOG_PATH: path.join(stateDir, 'mcp.json'),
    MCP_CLIENT_CONFIG_PATH: path.join(stateDir, 'client.json'),
    MCP_STORAGE_DIR: path.join(stateDir, 'storage'),
    MCP_INSPECTOR_SECRET_STORE: 'memory',
    INSPECTOR_OAUTH_STATE_PATH: path.join(stateDir, 'oauth.json'),
};

// One run: {code, signal, stdout, stderr, ms, from} (from: the index of its
// first exchange through the proxy).
function cli(args) {
    return new Promise((resolve) => {
        const from = exchanges.length;
        const t0 = Date.now();
        const p = spawn(process.execPath, [LAUNCHER, '--cli', ...args], {
            env, cwd: stateDir, stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '', stderr = '';
        p.stdout.on('data', (d) => { stdout += d; });
        p.stderr.on('data', (d) => { stderr += d; });
        const tid = setTimeout(() => p.kill('SIGKILL'), CLI_TIMEOUT);
        p.on('close', (code, signal) => {
            clearTimeout(tid);
            resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, from });
        });
    });
}

function ran(r) {
    return `exit ${r.code}${r.signal ? ' signal ' + r.signal : ''} after ${r.ms} ms; ` +
        `stdout ${short(r.stdout)}; stderr ${short(r.stderr)}`;
}

// The JSON object on stdout of a --format json run.
function result(r) {
    assert(r.code === 0, ran(r));
    let o;
    try {
        o = JSON.parse(r.stdout);
    } catch (e) {
        throw new CheckError(`stdout is not JSON (${e.message}): ${ran(r)}`);
    }
    assert(o && o.result, `no result: ${short(o)}`);
    return o.result;
}

const MODERN = [proxyUrl, '--protocol-era', 'modern'];

// What one run did on the wire: the modern era, no session.
function modernWire(r, method, name) {
    const xs = exchanges.slice(r.from);
    assert(xs.length > 0, 'nothing went through the proxy');
    const posts = xs.filter((x) => x.method === 'POST');
    const methods = posts.map((x) => x.body && x.body.method);
    eq(methods[0], 'server/discover', `first request (all: ${short(methods)})`);
    assert(!methods.includes('initialize'), `initialize sent: ${short(methods)}`);
    for (const x of posts) {
        const b = x.body || {};
        eq(x.headers['mcp-protocol-version'], VERSION, `${b.method}: MCP-Protocol-Version`);
        eq(x.headers['mcp-method'], b.method, `${b.method}: Mcp-Method`);
        assert(x.headers['mcp-session-id'] === undefined, `${b.method}: Mcp-Session-Id sent`);
        assert(x.resHeaders['mcp-session-id'] === undefined,
            `${b.method}: mcpd answered with Mcp-Session-Id`);
        if (b.id !== undefined)
            eq(b.params && b.params._meta &&
                b.params._meta['io.modelcontextprotocol/protocolVersion'], VERSION,
            `${b.method}: _meta protocolVersion`);
    }
    const mine = posts.filter((x) => x.body && x.body.method === method);
    assert(mine.length > 0, `no ${method} request (all: ${short(methods)})`);
    for (const x of mine) {
        eq(x.status, 200, `${method}: HTTP status`);
        if (name !== undefined)
            eq(x.headers['mcp-name'], name, `${method}: Mcp-Name`);
    }
    return mine;
}

// ---------------------------------------------------------------- checks

await check('tools/list (modern era, --format json)', async () => {
    const r = await cli([...MODERN, '--format', 'json', '--method', 'tools/list']);
    const names = result(r).tools.map((t) => t.name);
    for (const n of ['echo', 'slow', 'test_simple_text', 'greet'])
        assert(names.includes(n), `${n} not listed: ${short(names)}`);
    modernWire(r, 'tools/list');
});

const TEXT = 'hello from the inspector, "quoted" & $(not run)';
await check('tools/call echo (modern era, --format json)', async () => {
    const r = await cli([...MODERN, '--format', 'json', '--method', 'tools/call',
        '--tool-name', 'echo', '--tool-arg', `text=${TEXT}`]);
    const res = result(r);
    eq(res.isError, false, 'isError');
    eq(res.content, [{ type: 'text', text: TEXT + '\n' }], 'content');
    eq(res.resultType, 'complete', 'resultType');
    const calls = modernWire(r, 'tools/call', 'echo');
    eq(calls.map((x) => x.body.params.arguments), [{ text: TEXT }], 'arguments sent');
});

await check('tools/call test_simple_text, as a user reads it (default format)', async () => {
    const r = await cli([...MODERN, '--method', 'tools/call', '--tool-name',
        'test_simple_text']);
    assert(r.code === 0, ran(r));
    assert(r.stdout.includes('This is a simple text response for testing.'),
        `the text is not in the output: ${ran(r)}`);
    modernWire(r, 'tools/call', 'test_simple_text');
});

await check('resources/read file:///docs/hello.txt', async () => {
    const r = await cli([...MODERN, '--format', 'json', '--method', 'resources/read',
        '--uri', 'file:///docs/hello.txt']);
    eq(result(r).contents, [{ uri: 'file:///docs/hello.txt', mimeType: 'text/plain',
        text: 'Hello from mcpd.\n' }], 'contents');
    modernWire(r, 'resources/read', 'file:///docs/hello.txt');
});

await check('prompts/get greet', async () => {
    const r = await cli([...MODERN, '--format', 'json', '--method', 'prompts/get',
        '--prompt-name', 'greet', '--prompt-args', 'who=Ada']);
    eq(result(r).messages, [{ role: 'user', content: { type: 'text',
        text: 'Say hello to Ada, please.' } }], 'messages');
    modernWire(r, 'prompts/get', 'greet');
});

await check('resources/read of an unknown resource: mcpd\'s error, exit status 1', async () => {
    const r = await cli([...MODERN, '--format', 'json', '--method', 'resources/read',
        '--uri', 'test://no-such-resource']);
    eq(r.code, 1, `exit status (${ran(r)})`);
    let o;
    try {
        o = JSON.parse(r.stderr);
    } catch (e) {
        throw new CheckError(`stderr is not JSON (${e.message}): ${ran(r)}`);
    }
    assert(o.error && /resource not found/i.test(o.error.message),
        `error: ${short(o)}`);
    modernWire(r, 'resources/read', 'test://no-such-resource');
});

await check('tools/call echo over stdio (modern era; it spawns mcpd --stdio)', async () => {
    const r = await cli(['--protocol-era', 'modern', '--format', 'json', '--method',
        'tools/call', '--tool-name', 'echo', '--tool-args-json',
        JSON.stringify({ text: 'over stdio' }), '--', mcpdBin, '--stdio', '-c', confPath]);
    const res = result(r);
    eq(res.content, [{ type: 'text', text: 'over stdio\n' }], 'content');
    eq(res.resultType, 'complete', 'resultType (2026-07-28 results carry it)');
    eq(exchanges.length, r.from, 'exchanges through the HTTP proxy');
});

finish();
