// mcp-remote.mjs -- mcpd's HTTP endpoint through the mcp-remote bridge.
//
//   node mcp-remote.mjs http://127.0.0.1:PORT/mcp
//
// Spawns mcp-remote (pinned 0.15.1, from MCPD_CONFORMANCE_DIR, default
// ../conformance next to this file) as a stdio MCP server:
//
//   node .../mcp-remote/dist/proxy.js URL --transport http-only --allow-http
//
// (http-only: Streamable HTTP, no fallback to the old HTTP+SSE transport;
// --allow-http: plain http, which it allows for localhost anyway; no OAuth
// happens unless the server answers 401, and its state directory is a
// temporary MCP_REMOTE_CONFIG_DIR, not ~/.mcp-auth), and drives it with the
// SDK Client over StdioClientTransport: initialize, listTools, callTool
// test_simple_text, ping, close.
//
// Prints "ok - NAME" or "not ok - NAME: reason" per check, then
// "mcp-remote: N passed, M failed"; exit status 1 on any failure.
// Every request has a 10 s timeout and the whole run 60 s.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG_DIR = process.env.MCPD_CONFORMANCE_DIR ||
    path.join(HERE, '..', 'conformance');
const NM = path.join(PKG_DIR, 'node_modules');
const SDK = path.join(NM, '@modelcontextprotocol', 'sdk', 'dist', 'esm');
const PROXY = path.join(NM, 'mcp-remote', 'dist', 'proxy.js');

const REQUEST_TIMEOUT = 10000;
const TOTAL_TIMEOUT = 60000;
const PROG = 'mcp-remote';

let passed = 0;
let failed = 0;
let configDir = null;

function say(line) {
    process.stdout.write(line + '\n');
}

function cleanup() {
    if (configDir)
        fs.rmSync(configDir, { recursive: true, force: true });
    configDir = null;
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

function short(v) {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : (s.length > 300 ? s.slice(0, 300) + '...' : s);
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
if (argv.length !== 1 || !/^https?:\/\//.test(argv[0])) {
    process.stderr.write(`usage: ${PROG} http://HOST:PORT/mcp\n`);
    process.exit(2);
}
const url = argv[0];

setTimeout(() => {
    fail('whole run', `not finished within ${TOTAL_TIMEOUT / 1000} s`);
    finish();
}, TOTAL_TIMEOUT).unref();

for (const f of [path.join(SDK, 'client', 'index.js'), PROXY]) {
    if (!fs.existsSync(f)) {
        fail('load', `${f} is missing; run: npm ci --prefix tests/conformance`);
        finish();
    }
}

const imp = (rel) => import(pathToFileURL(path.join(SDK, rel)).href);
const { Client } = await imp('client/index.js');
const { StdioClientTransport } = await imp('client/stdio.js');

configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-remote-'));
const transport = new StdioClientTransport({
    command: process.execPath,
    args: [PROXY, url, '--transport', 'http-only', '--allow-http'],
    env: { MCP_REMOTE_CONFIG_DIR: configDir, NO_COLOR: '1' },
    stderr: 'pipe',
});
let stderrText = '';
transport.stderr?.on('data', (d) => {
    if (stderrText.length < 20000)
        stderrText += d.toString();
});
function showStderr() {
    if (stderrText.trim())
        say('# mcp-remote stderr:\n# ' +
            stderrText.trim().split('\n').slice(-25).join('\n# '));
}

const errors = [];
const client = new Client({ name: 'mcpd-mcp-remote-test', version: '1.0.0' },
    { capabilities: {} });
client.onerror = (e) => errors.push(String(e && e.message || e));
const OPTS = { timeout: REQUEST_TIMEOUT };

const ok = await check('initialize through mcp-remote', async () => {
    await client.connect(transport, OPTS);
    const info = client.getServerVersion();
    assert(info && info.name === 'mcpd', `serverInfo: ${short(info)}`);
    const caps = client.getServerCapabilities() || {};
    assert(caps.tools, `no tools capability: ${short(caps)}`);
});
if (!ok) {
    showStderr();
    await transport.close().catch(() => {});
    finish();
}

await check('listTools through mcp-remote', async () => {
    const r = await client.listTools({}, OPTS);
    const names = r.tools.map((t) => t.name);
    for (const n of ['test_simple_text', 'test_tool_with_progress', 'test_sampling'])
        assert(names.includes(n), `${n} not listed (got ${short(names)})`);
});

await check('callTool test_simple_text through mcp-remote', async () => {
    const r = await client.callTool({ name: 'test_simple_text', arguments: {} },
        undefined, OPTS);
    assert(!r.isError, `isError: ${short(r)}`);
    assert(Array.isArray(r.content) && r.content[0] &&
        r.content[0].type === 'text' &&
        r.content[0].text === 'This is a simple text response for testing.',
    `content: ${short(r.content)}`);
});

await check('ping through mcp-remote', async () => {
    const r = await client.ping(OPTS);
    assert(r && Object.keys(r).length === 0, `result: ${short(r)}`);
});

const proc = transport._process;
await check('close', async () => {
    await client.close();
    // mcp-remote ends when its stdin closes; the SDK kills it after 2 s + 2 s
    assert(!proc || proc.exitCode !== null || proc.signalCode !== null,
        'mcp-remote still running after close');
});

await check('no transport or protocol errors', async () => {
    assert(errors.length === 0, errors.join(' | '));
});

if (failed || process.env.MCPD_CLIENTS_VERBOSE)
    showStderr();
finish();
