// sdk-client.mjs -- drive mcpd with the official TypeScript SDK client.
//
//   node sdk-client.mjs --http http://127.0.0.1:PORT/mcp
//   node sdk-client.mjs --stdio MCPD_BINARY CONF
//
// Uses @modelcontextprotocol/sdk (pinned 1.32.2) from MCPD_CONFORMANCE_DIR
// (default: ../conformance next to this file), with StreamableHTTPClientTransport
// or StdioClientTransport (which spawns "MCPD --stdio -c CONF" itself), and
// exercises every feature of the conformance fixture plugin that a client
// can drive: initialize, the lists, every tool (progress, logging, sampling,
// elicitation included), resources, prompts, completion, subscriptions,
// ping and cancellation; and the catalog of mcpd.conf that run-clients.py
// writes: the files of resource "file:///docs/" (list, read, subscribe,
// then a change to a file must bring notifications/resources/updated), the
// exec tools "echo" (a text full of shell characters comes back as is)
// and "slow" (/bin/sleep 30, cancelled), and the prompt "greet".
//
// Environment: MCPD_CLIENTS_DOCS, the directory of "file:///docs/" (with
// hello.txt and notes.md; this script rewrites notes.md); MCPD_CLIENTS_PID,
// over HTTP, the pid of mcpd, or the pids of the mcpd of every node behind
// a load balancer, separated by commas: the process of the cancelled
// "slow" is looked for in /proc among their descendants (over stdio:
// the mcpd --stdio child's).
//
// Prints "ok - NAME" or "not ok - NAME: reason" per check, then
// "sdk-client: N passed, M failed"; exit status 1 on any failure.
// Every request has a 10 s timeout and the whole run 60 s.

import fs from 'node:fs';
import path from 'node:path';

import { harness, CheckError } from './harness.mjs';

const REQUEST_TIMEOUT = 10000;   // ms, every request
const UPDATE_TIMEOUT = 5000;     // ms, a change to notifications/resources/updated
const GONE_TIMEOUT = 3000;       // ms, a cancelled exec tool's process to go
const DOCS = process.env.MCPD_CLIENTS_DOCS;
const DOCS_URI = 'file:///docs/';
const TOTAL_TIMEOUT = 60000;     // ms, the whole script
const PROG = 'sdk-client';

function short(v) {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : (s.length > 300 ? s.slice(0, 300) + '...' : s);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ args

function usage() {
    process.stderr.write(`usage: ${PROG} --http URL | --stdio MCPD CONF\n`);
    process.exit(2);
}

const hs = harness(PROG, TOTAL_TIMEOUT);
const { say, assert, eq, check } = hs;
const imp = hs.sdk;

const argv = process.argv.slice(2);
let mode, url, mcpdBin, confPath;
if (argv[0] === '--http' && argv.length === 2) {
    mode = 'http';
    url = argv[1];
} else if (argv[0] === '--stdio' && argv.length === 3) {
    mode = 'stdio';
    mcpdBin = argv[1];
    confPath = argv[2];
} else {
    usage();
}

const { Client } = await imp('client/index.js');
const { StreamableHTTPClientTransport } = await imp('client/streamableHttp.js');
const { StdioClientTransport } = await imp('client/stdio.js');
const types = await imp('types.js');
const {
    CreateMessageRequestSchema, ElicitRequestSchema,
    LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema,
    SUPPORTED_PROTOCOL_VERSIONS, LATEST_PROTOCOL_VERSION,
} = types;

// ------------------------------------------------- a transport that taps

// Wraps the real transport and records every message both ways, so the
// checks can look at the wire (the negotiated version, a response to a
// cancelled request, notifications after a cancellation).
class Tap {
    constructor(inner) {
        this.inner = inner;
        this.log = [];          // {dir: '<' or '>', t, msg}
        inner.onmessage = (msg, extra) => {
            this.log.push({ dir: '<', t: Date.now(), msg });
            this.onmessage?.(msg, extra);
        };
        inner.onclose = () => this.onclose?.();
        inner.onerror = (e) => this.onerror?.(e);
    }
    start() { return this.inner.start(); }
    send(msg, opts) {
        this.log.push({ dir: '>', t: Date.now(), msg });
        return this.inner.send(msg, opts);
    }
    close() { return this.inner.close(); }
    get sessionId() { return this.inner.sessionId; }
    setProtocolVersion(v) { this.inner.setProtocolVersion?.(v); }
    received(pred) {
        return this.log.filter((e) => e.dir === '<' && pred(e.msg, e));
    }
}

// ----------------------------------------------------------------- setup

const errors = [];              // what the SDK reported through onerror
const logs = [];                // notifications/message, with times
const sampling = [];            // sampling/createMessage params received
const elicits = [];             // elicitation/create params received
const updates = [];             // notifications/resources/updated, with times
let updateWaiter = null;        // called on each of them

const client = new Client(
    { name: 'mcpd-sdk-client', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: { form: {} } } });

client.onerror = (e) => errors.push({ t: Date.now(), e: String(e && e.message || e) });

client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push({ t: Date.now(), params: n.params });
});

client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push({ t: Date.now(), params: n.params });
    updateWaiter?.();
});

// Resolves with the first notifications/resources/updated for uri from
// updates[from] on, or rejects after ms.
function awaitUpdate(uri, from, ms) {
    return new Promise((resolve, reject) => {
        const look = () => {
            const u = updates.slice(from).find((x) => x.params.uri === uri);
            if (!u)
                return false;
            clearTimeout(tid);
            updateWaiter = null;
            resolve(u);
            return true;
        };
        const tid = setTimeout(() => {
            updateWaiter = null;
            reject(new CheckError(`no notifications/resources/updated for ` +
                `${uri} within ${ms} ms (got ${short(updates.slice(from))})`));
        }, ms);
        if (!look())
            updateWaiter = look;
    });
}

// MCPD_CLIENTS_PID: "PID" or "PID,PID,..." (every node of a cluster).
function pidList(text) {
    return String(text || '').split(',').map((s) => s.trim())
        .filter((s) => /^[1-9]\d*$/.test(s)).map(Number);
}

// /proc: the processes under any of pids whose argv is argv.
function descendantsWith(pids, argv) {
    const kids = new Map();
    for (const ent of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(ent))
            continue;
        let st;
        try {
            st = fs.readFileSync(`/proc/${ent}/stat`, 'latin1');
        } catch {
            continue;
        }
        const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
        if (!kids.has(ppid))
            kids.set(ppid, []);
        kids.get(ppid).push(Number(ent));
    }
    const found = [];
    const todo = [...pids], seen = new Set(pids);
    while (todo.length) {
        for (const c of kids.get(todo.pop()) || []) {
            if (seen.has(c))
                continue;
            seen.add(c);
            todo.push(c);
            let cl;
            try {
                cl = fs.readFileSync(`/proc/${c}/cmdline`, 'latin1');
            } catch {
                continue;
            }
            if (cl.replace(/\0$/, '') === argv.join('\0'))
                found.push(c);
        }
    }
    return found;
}

const SAMPLING_TEXT = 'This is a test response from the client';
const SAMPLING_REFUSAL = 'sampling refused by the test client';
client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    sampling.push(req.params);
    const m = req.params.messages[0];
    if (m && m.content && m.content.text === 'please fail')
        throw new types.McpError(types.ErrorCode.InvalidRequest, SAMPLING_REFUSAL);
    return {
        role: 'assistant',
        content: { type: 'text', text: SAMPLING_TEXT },
        model: 'test-model',
        stopReason: 'endTurn',
    };
});

client.setRequestHandler(ElicitRequestSchema, async (req) => {
    elicits.push(req.params);
    return {
        action: 'accept',
        content: { username: 'testuser', email: 'test@example.com' },
    };
});

// Over HTTP, the transport's fetch records each exchange: method, the
// Last-Event-ID sent, the status, and for an SSE body its events and when
// it ended; so that the checks can see which stream was which (sdkConflicts).
const exchanges = [];   // {t, method, lei, rid, status, events: [{id, msg}], end}

function parseSse(x, text) {
    x.buf += text;
    let k;
    while ((k = x.buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = x.buf.slice(0, k);
        x.buf = x.buf.slice(k).replace(/^\r?\n\r?\n/, '');
        let id, data = [];
        for (const line of block.split(/\r?\n/)) {
            const m = /^([^:]*):? ?(.*)$/.exec(line);
            if (m[1] === 'id')
                id = m[2];
            else if (m[1] === 'data')
                data.push(m[2]);
        }
        let msg;
        try {
            msg = data.join('\n') ? JSON.parse(data.join('\n')) : undefined;
        } catch {
            msg = undefined;
        }
        x.events.push({ id, msg });
    }
}

async function recordingFetch(u, init) {
    const method = init && init.method || 'GET';
    const h = new Headers(init && init.headers);
    const x = { t: Date.now(), method, lei: h.get('last-event-id') || undefined,
        rid: undefined, status: undefined, events: [], end: undefined, buf: '' };
    if (method === 'POST') {
        try {
            x.rid = JSON.parse(init.body).id;
        } catch {
            /* not ours to judge */
        }
    }
    exchanges.push(x);
    const r = await fetch(u, init);
    x.status = r.status;
    if (!r.body || !/^text\/event-stream/.test(r.headers.get('content-type') || ''))
        return r;
    const [mine, theirs] = r.body.tee();
    (async () => {
        const rd = mine.getReader();
        const dec = new TextDecoder();
        try {
            for (;;) {
                const { value, done } = await rd.read();
                if (done)
                    break;
                parseSse(x, dec.decode(value, { stream: true }));
            }
        } catch {
            /* aborted */
        }
        x.end = Date.now();
    })();
    return new Response(theirs, { status: r.status, statusText: r.statusText,
        headers: r.headers });
}

let inner, stderrText = '';
if (mode === 'http') {
    inner = new StreamableHTTPClientTransport(new URL(url), { fetch: recordingFetch });
} else {
    inner = new StdioClientTransport({
        command: mcpdBin,
        args: ['--stdio', '-c', confPath],
        stderr: 'pipe',
    });
    inner.stderr?.on('data', (d) => {
        if (stderrText.length < 20000)
            stderrText += d.toString();
    });
}
const tap = new Tap(inner);
const OPTS = { timeout: REQUEST_TIMEOUT };

// --------------------------------------------------------------- checks

const connected = await check('initialize', async () => {
    await client.connect(tap, OPTS);
    return true;
});
if (!connected) {
    if (stderrText)
        say('# mcpd stderr: ' + stderrText.trim().split('\n').slice(-10).join('\n# '));
    await tap.close().catch(() => {});
    hs.done();
}

await check('initialize: protocolVersion', async () => {
    const init = tap.received((m) => m.id !== undefined && m.result &&
        m.result.protocolVersion !== undefined)[0];
    assert(init, 'no InitializeResult seen');
    eq(init.msg.result.protocolVersion, LATEST_PROTOCOL_VERSION,
        'protocolVersion');
    assert(SUPPORTED_PROTOCOL_VERSIONS.includes(init.msg.result.protocolVersion),
        'not a supported version');
});

await check('initialize: serverInfo', async () => {
    const info = client.getServerVersion();
    assert(info && typeof info.name === 'string' && info.name.length > 0,
        `serverInfo.name: ${short(info)}`);
    assert(typeof info.version === 'string' && info.version.length > 0,
        `serverInfo.version: ${short(info)}`);
});

await check('initialize: capabilities', async () => {
    const c = client.getServerCapabilities() || {};
    for (const k of ['tools', 'resources', 'prompts', 'logging', 'completions'])
        assert(c[k] && typeof c[k] === 'object', `no ${k} capability in ${short(c)}`);
    eq(c.resources.subscribe, true, 'resources.subscribe');
});

if (mode === 'http') {
    await check('initialize: session id', async () => {
        const sid = inner.sessionId;
        assert(typeof sid === 'string' && /^[\x21-\x7e]+$/.test(sid),
            `Mcp-Session-Id: ${short(sid)}`);
    });
}

const TOOLS = ['test_simple_text', 'test_image_content', 'test_audio_content',
    'test_embedded_resource', 'test_multiple_content_types',
    'test_tool_with_logging', 'test_tool_with_progress', 'test_error_handling',
    'test_sampling', 'test_elicitation', 'test_elicitation_sep1034_defaults',
    'test_elicitation_sep1330_enums', 'json_schema_2020_12_tool'];

await check('listTools', async () => {
    const r = await client.listTools({}, OPTS);
    const names = r.tools.map((t) => t.name);
    for (const n of TOOLS)
        assert(names.includes(n), `${n} not listed (got ${short(names)})`);
    for (const t of r.tools) {
        assert(typeof t.description === 'string' && t.description,
            `${t.name}: no description`);
        eq(t.inputSchema && t.inputSchema.type, 'object', `${t.name} inputSchema.type`);
    }
    const js = r.tools.find((t) => t.name === 'json_schema_2020_12_tool');
    eq(js.inputSchema.$schema, 'https://json-schema.org/draft/2020-12/schema',
        'json_schema_2020_12_tool $schema');
    assert(js.inputSchema.$defs && js.inputSchema.$defs.address,
        'json_schema_2020_12_tool: no $defs.address');
    eq(js.inputSchema.additionalProperties, false,
        'json_schema_2020_12_tool additionalProperties');
    const s = r.tools.find((t) => t.name === 'test_sampling');
    eq(s.inputSchema.required, ['prompt'], 'test_sampling required');
});

await check('listResources', async () => {
    const r = await client.listResources({}, OPTS);
    const uris = r.resources.map((x) => x.uri);
    for (const u of ['test://static-text', 'test://static-binary',
        'test://watched-resource'])
        assert(uris.includes(u), `${u} not listed (got ${short(uris)})`);
    for (const x of r.resources)
        assert(x.name, `${x.uri}: no name`);
});

await check('listResourceTemplates', async () => {
    const r = await client.listResourceTemplates({}, OPTS);
    const t = r.resourceTemplates.find((x) => x.uriTemplate === 'test://template/{id}/data');
    assert(t, `test://template/{id}/data not listed: ${short(r)}`);
    assert(t.name, 'template without a name');
});

await check('listPrompts', async () => {
    const r = await client.listPrompts({}, OPTS);
    const names = r.prompts.map((p) => p.name);
    for (const n of ['test_simple_prompt', 'test_prompt_with_arguments',
        'test_prompt_with_embedded_resource', 'test_prompt_with_image'])
        assert(names.includes(n), `${n} not listed (got ${short(names)})`);
    for (const p of r.prompts)
        assert(p.description, `${p.name}: no description`);
    const a = r.prompts.find((p) => p.name === 'test_prompt_with_arguments');
    eq(a.arguments.map((x) => [x.name, x.required]),
        [['arg1', true], ['arg2', true]], 'test_prompt_with_arguments arguments');
});

async function call(name, args, opts) {
    const params = { name };
    if (args !== undefined)
        params.arguments = args;
    return client.callTool(params, undefined, { ...OPTS, ...(opts || {}) });
}

function content(r, i, type) {
    assert(Array.isArray(r.content) && r.content.length > i,
        `content[${i}] missing: ${short(r)}`);
    eq(r.content[i].type, type, `content[${i}].type`);
    return r.content[i];
}

await check('callTool test_simple_text', async () => {
    const r = await call('test_simple_text');
    assert(!r.isError, 'isError set');
    eq(content(r, 0, 'text').text, 'This is a simple text response for testing.', 'text');
});

await check('callTool test_image_content', async () => {
    const r = await call('test_image_content', {});
    const c = content(r, 0, 'image');
    eq(c.mimeType, 'image/png', 'mimeType');
    assert(Buffer.from(c.data, 'base64').subarray(1, 4).toString() === 'PNG',
        'data is not a base64 PNG');
});

await check('callTool test_audio_content', async () => {
    const r = await call('test_audio_content', {});
    const c = content(r, 0, 'audio');
    eq(c.mimeType, 'audio/wav', 'mimeType');
    const b = Buffer.from(c.data, 'base64');
    assert(b.subarray(0, 4).toString() === 'RIFF' && b.subarray(8, 12).toString() === 'WAVE',
        'data is not a base64 WAV');
});

await check('callTool test_embedded_resource', async () => {
    const r = await call('test_embedded_resource', {});
    const c = content(r, 0, 'resource');
    eq(c.resource, { uri: 'test://embedded-resource', mimeType: 'text/plain',
        text: 'This is an embedded resource content.' }, 'resource');
});

await check('callTool test_multiple_content_types', async () => {
    const r = await call('test_multiple_content_types', {});
    eq(r.content.map((c) => c.type), ['text', 'image', 'resource'], 'types');
    eq(r.content[0].text, 'Multiple content types test:', 'text');
    eq(r.content[2].resource.uri, 'test://mixed-content-resource', 'resource uri');
    eq(JSON.parse(r.content[2].resource.text), { test: 'data', value: 123 },
        'resource text');
});

await check('callTool test_error_handling -> isError', async () => {
    const r = await call('test_error_handling', {});
    eq(r.isError, true, 'isError');
    eq(content(r, 0, 'text').text,
        'This tool intentionally returns an error for testing', 'text');
});

await check('callTool json_schema_2020_12_tool', async () => {
    const args = { name: 'Ada', address: { street: '1 Main St', city: 'Springfield' } };
    const r = await call('json_schema_2020_12_tool', args);
    assert(!r.isError, `isError: ${short(r)}`);
    const t = content(r, 0, 'text').text;
    assert(t.includes('Ada') && t.includes('Springfield'),
        `arguments not echoed: ${short(t)}`);
});

await check('callTool unknown tool -> error', async () => {
    let r;
    try {
        r = await call('no_such_tool', {});
    } catch (e) {
        // a JSON-RPC error (-32602) is what the 2025-11-25 spec shows
        assert(/no_such_tool|unknown|not found|-32602/i.test(String(e.message)),
            `unexpected error: ${e.message}`);
        return;
    }
    eq(r.isError, true, `result for an unknown tool: ${short(r)} isError`);
});

// The SDK (1.32.2) runs notification handlers in a microtask but responses
// synchronously, so when the last progress notification and the result come
// in one read (usual over stdio, even from the SDK's own McpServer) the
// response retires the progress handler first and the SDK drops that
// notification with "Received a progress notification for an unknown token"
// (typescript-sdk issue #2580).  What the server controls is the wire: 3
// notifications with the call's token, in order, all before the result.
// onprogress must get every one of them except, at most, that last one.
// Whether an onerror text is that race: a progress notification the wire
// shows before the response to its request.
function sdkRace(text) {
    const m = /unknown token: (\{.*\})$/.exec(text);
    if (!m)
        return false;
    let n;
    try {
        n = JSON.parse(m[1]);
    } catch {
        return false;
    }
    const tok = n.params && n.params.progressToken;
    const idx = (pred) => tap.log.findIndex((e) => e.dir === '<' && pred(e.msg));
    const ni = idx((x) => x.method === 'notifications/progress' &&
        x.params.progressToken === tok && x.params.progress === n.params.progress);
    const ri = idx((x) => x.id === tok && (x.result !== undefined || x.error !== undefined));
    return ni >= 0 && ri > ni;
}
await check('callTool test_tool_with_progress (onprogress x3)', async () => {
    const seen = [];
    let resultAt = null;
    const mark = tap.log.length;
    const r = await call('test_tool_with_progress', {}, {
        onprogress: (p) => seen.push({ ...p, done: resultAt !== null }),
    });
    resultAt = Date.now();
    await sleep(20);            // a late notification gets its chance
    assert(!r.isError, `isError: ${short(r)}`);
    eq(content(r, 0, 'text').text, 'Tool with progress executed successfully', 'text');
    const wire = tap.log.slice(mark);
    const req = wire.find((e) => e.dir === '>' && e.msg.method === 'tools/call');
    const tok = req.msg.params._meta && req.msg.params._meta.progressToken;
    assert(tok !== undefined, 'the SDK sent no progressToken');
    const resIdx = wire.findIndex((e) => e.dir === '<' && e.msg.id === req.msg.id);
    const notes = wire.map((e, i) => ({ e, i })).filter(({ e }) => e.dir === '<' &&
        e.msg.method === 'notifications/progress' &&
        e.msg.params.progressToken === tok);
    eq(notes.map(({ e }) => [e.msg.params.progress, e.msg.params.total]),
        [[0, 100], [50, 100], [100, 100]], 'progress notifications on the wire');
    assert(notes.every(({ i }) => i < resIdx),
        'a progress notification came after the result on the wire');
    const got = seen.map((p) => [p.progress, p.total]);
    if (got.length === 2) {
        const lost = errors.filter((x) => x.e.includes('unknown token') &&
            x.e.includes(`"progressToken":${JSON.stringify(tok)}`));
        assert(lost.length === 1 && sdkRace(lost[0].e),
            `onprogress got ${short(got)}, and no SDK race seen`);
        say('# the SDK dropped the last progress notification, which came in ' +
            'the same read as the result (SDK race, typescript-sdk #2580)');
    } else {
        eq(got.length, 3, `onprogress calls (${short(seen)})`);
    }
    eq(got, [[0, 100], [50, 100], [100, 100]].slice(0, got.length), 'onprogress values');
    assert(seen.every((p) => !p.done), 'onprogress after the result');
});

await check('setLoggingLevel debug', async () => {
    const r = await client.setLoggingLevel('debug', OPTS);
    eq(r, {}, 'result');
});

await check('callTool test_tool_with_logging (3 log notifications)', async () => {
    const t0 = Date.now();
    const first = logs.length;
    const r = await call('test_tool_with_logging', {});
    const mine = logs.slice(first);
    assert(!r.isError, `isError: ${short(r)}`);
    eq(content(r, 0, 'text').text, 'Tool with logging executed successfully', 'text');
    eq(mine.map((l) => l.params.data), ['Tool execution started',
        'Tool processing data', 'Tool execution completed'], 'log data');
    eq(mine.map((l) => l.params.level), ['info', 'info', 'info'], 'log levels');
    assert(mine.every((l) => l.t >= t0), 'log timing');
});

await check('setLoggingLevel error filters info', async () => {
    await client.setLoggingLevel('error', OPTS);
    const first = logs.length;
    await call('test_tool_with_logging', {});
    await sleep(50);
    eq(logs.length - first, 0, 'info notifications at level error');
    await client.setLoggingLevel('debug', OPTS);
});

await check('callTool test_sampling (sampling/createMessage)', async () => {
    const before = sampling.length;
    const r = await call('test_sampling', { prompt: 'What is 2+2?' });
    eq(sampling.length - before, 1, 'sampling requests received');
    const p = sampling[before];
    eq(p.messages, [{ role: 'user', content: { type: 'text', text: 'What is 2+2?' } }],
        'sampling messages');
    eq(p.maxTokens, 100, 'maxTokens');
    assert(!r.isError, `isError: ${short(r)}`);
    eq(content(r, 0, 'text').text, `LLM response: ${SAMPLING_TEXT}`, 'text');
});

await check('callTool test_sampling, the client answers with an error', async () => {
    const r = await call('test_sampling', { prompt: 'please fail' });
    eq(r.isError, true, `isError (${short(r)})`);
    const t = content(r, 0, 'text').text;
    assert(t.includes(SAMPLING_REFUSAL), `client's error not in the result: ${short(t)}`);
});

await check('callTool test_elicitation (elicitation/create)', async () => {
    const before = elicits.length;
    const r = await call('test_elicitation', { message: 'Who are you?' });
    eq(elicits.length - before, 1, 'elicitation requests received');
    const p = elicits[before];
    eq(p.message, 'Who are you?', 'message');
    eq(p.requestedSchema.required, ['username', 'email'], 'requestedSchema.required');
    assert(!r.isError, `isError: ${short(r)}`);
    const t = content(r, 0, 'text').text;
    assert(t.startsWith('User response: ') && t.includes('accept') &&
        t.includes('testuser') && t.includes('test@example.com'),
        `answer not in the result: ${short(t)}`);
});

await check('callTool test_elicitation_sep1034_defaults', async () => {
    const before = elicits.length;
    const r = await call('test_elicitation_sep1034_defaults', {});
    eq(elicits.length - before, 1, 'elicitation requests received');
    const props = elicits[before].requestedSchema.properties;
    eq([props.name.default, props.age.default, props.score.default,
        props.status.default, props.verified.default],
    ['John Doe', 30, 95.5, 'active', true], 'defaults');
    const t = content(r, 0, 'text').text;
    assert(t.startsWith('Elicitation completed: action=accept'), `text: ${short(t)}`);
});

await check('concurrent calls (progress, logging, sampling, elicitation)', async () => {
    const firstLog = logs.length;
    const mark = tap.log.length;
    let nprog = 0;
    const [a, b, c, d, e] = await Promise.all([
        call('test_tool_with_progress', {}, { onprogress: () => nprog++ }),
        call('test_tool_with_logging', {}),
        call('test_sampling', { prompt: 'concurrent' }),
        call('test_elicitation', { message: 'concurrent' }),
        call('test_simple_text'),
    ]);
    eq(content(a, 0, 'text').text, 'Tool with progress executed successfully', 'progress tool');
    eq(content(b, 0, 'text').text, 'Tool with logging executed successfully', 'logging tool');
    eq(content(c, 0, 'text').text, `LLM response: ${SAMPLING_TEXT}`, 'sampling tool');
    assert(content(d, 0, 'text').text.includes('testuser'), `elicitation tool: ${short(d)}`);
    eq(content(e, 0, 'text').text, 'This is a simple text response for testing.', 'simple');
    assert(nprog >= 2, `onprogress called ${nprog} times`);
    eq(logs.length - firstLog, 3, 'log notifications');
    // they overlap: the logging tool starts before the progress tool ends
    const wire = tap.log.slice(mark);
    const preq = wire.find((x) => x.dir === '>' && x.msg.method === 'tools/call' &&
        x.msg.params.name === 'test_tool_with_progress');
    const pres = wire.findIndex((x) => x.dir === '<' && x.msg.id === preq.msg.id);
    const log0 = wire.findIndex((x) => x.dir === '<' &&
        x.msg.method === 'notifications/message');
    assert(log0 >= 0 && log0 < pres, 'the calls ran one after the other');
});

await check('readResource test://static-text', async () => {
    const r = await client.readResource({ uri: 'test://static-text' }, OPTS);
    eq(r.contents, [{ uri: 'test://static-text', mimeType: 'text/plain',
        text: 'This is the content of the static text resource.' }], 'contents');
});

await check('readResource test://static-binary', async () => {
    const r = await client.readResource({ uri: 'test://static-binary' }, OPTS);
    eq(r.contents.length, 1, 'contents');
    const c = r.contents[0];
    eq([c.uri, c.mimeType], ['test://static-binary', 'image/png'], 'uri, mimeType');
    assert(typeof c.blob === 'string' &&
        Buffer.from(c.blob, 'base64').subarray(1, 4).toString() === 'PNG',
        'blob is not a base64 PNG');
});

await check('readResource test://template/42/data', async () => {
    const r = await client.readResource({ uri: 'test://template/42/data' }, OPTS);
    const c = r.contents[0];
    eq([c.uri, c.mimeType], ['test://template/42/data', 'application/json'],
        'uri, mimeType');
    eq(JSON.parse(c.text), { id: '42', templateTest: true, data: 'Data for ID: 42' },
        'text');
});

await check('readResource unknown -> error', async () => {
    let r;
    try {
        r = await client.readResource({ uri: 'test://no-such-resource' }, OPTS);
    } catch (e) {
        assert(e.code === -32002 || e.code === -32602,
            `error code ${e.code}: ${e.message}`);
        return;
    }
    throw new CheckError(`got a result: ${short(r)}`);
});

await check('getPrompt test_simple_prompt', async () => {
    const r = await client.getPrompt({ name: 'test_simple_prompt' }, OPTS);
    eq(r.messages, [{ role: 'user', content: { type: 'text',
        text: 'This is a simple prompt for testing.' } }], 'messages');
});

await check('getPrompt test_prompt_with_arguments', async () => {
    const r = await client.getPrompt({ name: 'test_prompt_with_arguments',
        arguments: { arg1: 'testValue1', arg2: 'testValue2' } }, OPTS);
    eq(r.messages, [{ role: 'user', content: { type: 'text',
        text: "Prompt with arguments: arg1='testValue1', arg2='testValue2'" } }],
    'messages');
});

await check('getPrompt test_prompt_with_arguments without arg2 -> error', async () => {
    let r;
    try {
        r = await client.getPrompt({ name: 'test_prompt_with_arguments',
            arguments: { arg1: 'x' } }, OPTS);
    } catch (e) {
        eq(e.code, -32602, `error code (${e.message})`);
        return;
    }
    throw new CheckError(`got a result: ${short(r)}`);
});

await check('getPrompt test_prompt_with_embedded_resource', async () => {
    const r = await client.getPrompt({ name: 'test_prompt_with_embedded_resource',
        arguments: { resourceUri: 'test://example-resource' } }, OPTS);
    eq(r.messages.map((m) => m.content.type), ['resource', 'text'], 'content types');
    eq(r.messages[0].content.resource, { uri: 'test://example-resource',
        mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
    'resource');
});

await check('getPrompt test_prompt_with_image', async () => {
    const r = await client.getPrompt({ name: 'test_prompt_with_image' }, OPTS);
    eq(r.messages.map((m) => m.content.type), ['image', 'text'], 'content types');
    eq(r.messages[0].content.mimeType, 'image/png', 'mimeType');
    eq(r.messages[1].content.text, 'Please analyze the image above.', 'text');
});

await check('complete ref/prompt arg1', async () => {
    const r = await client.complete({
        ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
        argument: { name: 'arg1', value: 'par' },
    }, OPTS);
    eq(r.completion.values, ['paris', 'park', 'party'], 'values');
    const r2 = await client.complete({
        ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
        argument: { name: 'arg1', value: 'test' },
    }, OPTS);
    eq(r2.completion.values, [], 'values for "test"');
});

await check('subscribeResource test://watched-resource', async () => {
    const r = await client.subscribeResource({ uri: 'test://watched-resource' }, OPTS);
    eq(r, {}, 'result');
});

await check('unsubscribeResource test://watched-resource', async () => {
    const r = await client.unsubscribeResource({ uri: 'test://watched-resource' }, OPTS);
    eq(r, {}, 'result');
});

await check('ping', async () => {
    const r = await client.ping(OPTS);
    eq(r, {}, 'result');
});

// Cancellation: abort a running call; the SDK sends notifications/cancelled
// and rejects the call at once.  The server should stop the tool (no more
// log notifications for it) and should send no response for it.
let cancelledId;
await check('cancel test_tool_with_logging (AbortSignal)', async () => {
    const ac = new AbortController();
    const firstLog = logs.length;
    const p = call('test_tool_with_logging', {}, { signal: ac.signal });
    const tid = setTimeout(() => ac.abort(), 20);
    let err, res;
    try {
        res = await p;
    } catch (e) {
        err = e;
    }
    clearTimeout(tid);
    assert(err, `the call resolved: ${short(res)}`);
    assert(/abort/i.test(String(err.message)), `not an abort error: ${err.message}`);
    const req = tap.log.filter((e) => e.dir === '>' && e.msg.method === 'tools/call' &&
        e.msg.params && e.msg.params.name === 'test_tool_with_logging').pop();
    cancelledId = req.msg.id;
    const sent = tap.log.filter((e) => e.dir === '>' &&
        e.msg.method === 'notifications/cancelled');
    assert(sent.length && sent[sent.length - 1].msg.params.requestId === cancelledId,
        'no notifications/cancelled sent for the call');
    // the first log notification went out at once; later steps must not
    await sleep(300);
    const later = logs.slice(firstLog).map((l) => l.params.data);
    assert(!later.includes('Tool execution completed'),
        `the cancelled tool ran to the end (logs: ${short(later)})`);
});

await check('no response to the cancelled request', async () => {
    assert(cancelledId !== undefined, 'no cancelled request');
    const got = tap.received((m) => m.id === cancelledId &&
        (m.result !== undefined || m.error !== undefined));
    if (got.length)
        throw new CheckError(`server answered the cancelled request ` +
            `${short(cancelledId)}: ${short(got[0].msg)}`);
});

await check('ping after cancellation', async () => {
    const r = await client.ping(OPTS);
    eq(r, {}, 'result');
    const r2 = await call('test_simple_text');
    eq(content(r2, 0, 'text').text, 'This is a simple text response for testing.',
        'text');
});

// ------------------------------------------- the catalog of mcpd.conf

// run-clients.py declares a directory of files, two exec tools and a
// prompt; these checks drive them as a client would.
const HELLO_URI = DOCS_URI + 'hello.txt';
const NOTES_URI = DOCS_URI + 'notes.md';

await check('catalog: MCPD_CLIENTS_DOCS is a directory', async () => {
    assert(DOCS, 'MCPD_CLIENTS_DOCS is not set (run-clients.py sets it)');
    assert(fs.statSync(DOCS).isDirectory(), `${DOCS} is not a directory`);
});

await check(`listResources: the files of ${DOCS_URI}`, async () => {
    const all = [];
    let cursor;
    for (let i = 0; i < 100; i++) {
        const r = await client.listResources(cursor ? { cursor } : {}, OPTS);
        all.push(...r.resources);
        cursor = r.nextCursor;
        if (!cursor)
            break;
    }
    const mine = all.filter((x) => x.uri.startsWith(DOCS_URI));
    eq(mine.map((x) => x.uri).sort(), [HELLO_URI, NOTES_URI], 'uris');
    const h = mine.find((x) => x.uri === HELLO_URI);
    eq(h.name, 'hello.txt', `${HELLO_URI} name`);
    if (h.mimeType !== undefined)
        eq(h.mimeType, 'text/plain', `${HELLO_URI} mimeType`);
});

await check(`readResource ${HELLO_URI}`, async () => {
    const r = await client.readResource({ uri: HELLO_URI }, OPTS);
    eq(r.contents, [{ uri: HELLO_URI, mimeType: 'text/plain',
        text: 'Hello from mcpd.\n' }], 'contents');
});

// Subscribe, change the file, await the notification: over HTTP it comes
// on the GET stream that the SDK opened after initialize, over stdio on
// stdout.
const NEW_NOTES = `# Notes\nchanged by ${PROG} over ${mode}, pid ${process.pid}\n`;
let notesChanged = false;
await check(`subscribeResource ${NOTES_URI}, write the file, ` +
    'notifications/resources/updated', async () => {
    assert(DOCS, 'MCPD_CLIENTS_DOCS is not set');
    const r = await client.subscribeResource({ uri: NOTES_URI }, OPTS);
    eq(r, {}, 'subscribe result');
    const from = updates.length;
    const t0 = Date.now();
    const wait = awaitUpdate(NOTES_URI, from, UPDATE_TIMEOUT);
    fs.writeFileSync(path.join(DOCS, 'notes.md'), NEW_NOTES);
    notesChanged = true;
    const u = await wait;
    eq(u.params, { uri: NOTES_URI }, 'params');
    if (mode === 'http') {
        // it came on the GET stream: not as part of a POST's response
        const e = tap.log.find((x) => x.dir === '<' &&
            x.msg.method === 'notifications/resources/updated' && x.t >= t0);
        assert(e, 'not seen on the wire');
    }
});

await check(`readResource ${NOTES_URI} after the change`, async () => {
    assert(notesChanged, 'not changed');
    const r = await client.readResource({ uri: NOTES_URI }, OPTS);
    eq(r.contents, [{ uri: NOTES_URI, mimeType: 'text/markdown',
        text: NEW_NOTES }], 'contents');
});

await check(`unsubscribeResource ${NOTES_URI}: no more updates`, async () => {
    const r = await client.unsubscribeResource({ uri: NOTES_URI }, OPTS);
    eq(r, {}, 'unsubscribe result');
    await sleep(200);           // anything still on its way from before
    const from = updates.length;
    fs.writeFileSync(path.join(DOCS, 'notes.md'), NEW_NOTES + 'again\n');
    await sleep(1000);
    const got = updates.slice(from).filter((x) => x.params.uri === NOTES_URI);
    eq(got.length, 0, `updates after unsubscribe (${short(got)})`);
});

await check('listTools: the exec tools echo and slow', async () => {
    const r = await client.listTools({}, OPTS);
    const echo = r.tools.find((t) => t.name === 'echo');
    const slow = r.tools.find((t) => t.name === 'slow');
    assert(echo && slow, `not listed: ${short(r.tools.map((t) => t.name))}`);
    eq(echo.inputSchema.required, ['text'], 'echo inputSchema.required');
    eq(echo.description, 'print the text', 'echo description');
});

const SHELLY = `it's "$(id)" \`id\`; echo pwned | cat > /dev/null && ls * ` +
    '~ $HOME \\n {x} <in >out 2>&1 # not a comment';
await check('callTool echo (a text with shell characters, one argv word)', async () => {
    const r = await call('echo', { text: SHELLY });
    assert(!r.isError, `isError: ${short(r)}`);
    eq(r.content.length, 1, `content (${short(r.content)})`);
    eq(content(r, 0, 'text').text, SHELLY + '\n', 'text');
});

// The roots of mcpd's processes: the child over stdio; over HTTP the pids
// that run-clients.py gives (one mcpd, or every node behind HAProxy).
const mcpdPids = mode === 'stdio' ?
    (inner._process && inner._process.pid ? [inner._process.pid] : []) :
    pidList(process.env.MCPD_CLIENTS_PID);
const mcpdPid = mcpdPids.length ? mcpdPids.join(',') : undefined;
const SLEEP_ARGV = ['/bin/sleep', '30'];
let slowCancelled = false;
await check('cancel the exec tool slow after 300 ms (AbortSignal)', async () => {
    const ac = new AbortController();
    const mark = tap.log.length;
    const t0 = Date.now();
    const p = call('slow', {}, { signal: ac.signal });
    let running;
    const tid = setTimeout(() => {
        if (mcpdPid)
            running = descendantsWith(mcpdPids, SLEEP_ARGV);
        ac.abort();
    }, 300);
    let err, res;
    try {
        res = await p;
    } catch (e) {
        err = e;
    }
    clearTimeout(tid);
    const dt = Date.now() - t0;
    assert(err, `the call resolved: ${short(res)}`);
    assert(/abort/i.test(String(err.message)), `not an abort error: ${err.message}`);
    assert(dt < 2000, `the call ended after ${dt} ms`);
    const req = tap.log.slice(mark).find((e) => e.dir === '>' &&
        e.msg.method === 'tools/call');
    const sent = tap.log.slice(mark).filter((e) => e.dir === '>' &&
        e.msg.method === 'notifications/cancelled');
    assert(sent.length === 1 && sent[0].msg.params.requestId === req.msg.id,
        'no notifications/cancelled sent for the call');
    slowCancelled = true;
    if (mcpdPid)
        assert(running && running.length === 1,
            `not one sleep 30 under mcpd (pid${mcpdPids.length > 1 ? 's' : ''} ` +
            `${mcpdPid}) after 300 ms: ` +
            `${short(running)}`);
});

await check('ping after cancelling slow', async () => {
    const r = await client.ping(OPTS);
    eq(r, {}, 'result');
});

if (mcpdPid) {
    await check('the cancelled slow tool is killed (no sleep 30 under mcpd)', async () => {
        assert(slowCancelled, 'not cancelled');
        const t0 = Date.now();
        let left = descendantsWith(mcpdPids, SLEEP_ARGV);
        while (left.length && Date.now() - t0 < GONE_TIMEOUT) {
            await sleep(50);
            left = descendantsWith(mcpdPids, SLEEP_ARGV);
        }
        assert(!left.length, `sleep 30 still running (pids ${left.join(' ')}) ` +
            `${GONE_TIMEOUT} ms after the cancel`);
    });
}

await check('listPrompts: greet with its argument', async () => {
    const r = await client.listPrompts({}, OPTS);
    const g = r.prompts.find((p) => p.name === 'greet');
    assert(g, `greet not listed: ${short(r.prompts.map((p) => p.name))}`);
    eq(g.arguments, [{ name: 'who', description: 'whom to greet', required: true }],
        'arguments');
});

await check('getPrompt greet (the argument substituted)', async () => {
    const r = await client.getPrompt({ name: 'greet',
        arguments: { who: 'Ada {who} "Lovelace"' } }, OPTS);
    eq(r.messages, [{ role: 'user', content: { type: 'text',
        text: 'Say hello to Ada {who} "Lovelace", please.' } }], 'messages');
});

// SDK 1.32.2 takes only a result, not an error response, as the end of a
// POST's SSE stream (typescript-sdk #1390, fixed in v2; the v1.x backport
// is #2638), and it resumes the stream of a request it cancelled too.  So
// after such a stream it sends GET with Last-Event-ID; mcpd has nothing
// more for it and ends that stream at once; the SDK, which handles every
// GET stream as the standalone one, then "reconnects" it with a plain GET
// one retry interval (1 s) later, and mcpd, whose standalone GET stream of
// the session is still open, refuses a second one with 409 Conflict.
// Returns how many 409s are that and nothing else: each a GET without
// Last-Event-ID while the first standalone GET stream was open, after an
// empty, ended resumption of a POST stream that had carried its response
// or whose request had been cancelled.
function sdkConflicts() {
    const main = exchanges.find((x) => x.method === 'GET' && !x.lei && x.status === 200);
    const cancelled = new Set(tap.log.filter((e) => e.dir === '>' &&
        e.msg.method === 'notifications/cancelled').map((e) => e.msg.params.requestId));
    const finishedPost = (lei) => exchanges.some((x) => x.method === 'POST' &&
        x.events.some((ev) => ev.id === lei) && (cancelled.has(x.rid) ||
        x.events.some((ev) => ev.msg && ev.msg.id === x.rid &&
            (ev.msg.result !== undefined || ev.msg.error !== undefined))));
    const resumptions = exchanges.filter((x) => x.method === 'GET' && x.lei &&
        x.status === 200 && x.end !== undefined &&
        x.events.every((ev) => ev.msg === undefined) && finishedPost(x.lei));
    let n = 0;
    for (const c of exchanges.filter((x) => x.method === 'GET' && x.status === 409)) {
        if (c.lei || !main || (main.end !== undefined && main.end <= c.t))
            return 0;
        if (!resumptions.some((r) => r.end <= c.t))
            return 0;
        n++;
    }
    return n;
}

await check('no transport or protocol errors', async () => {
    let left = errors.filter((e) => !sdkRace(e.e));
    const n = sdkConflicts();
    const CONFLICT = 'Streamable HTTP error: Failed to open SSE stream: Conflict';
    const theirs = left.filter((e) => e.e === CONFLICT ||
        e.e === 'Failed to reconnect SSE stream: ' + CONFLICT ||
        /^Maximum reconnection attempts \(\d+\) exceeded\.$/.test(e.e));
    if (n > 0 && theirs.filter((e) => e.e === CONFLICT).length <= n &&
        theirs.filter((e) => e.e !== CONFLICT && !/^Max/.test(e.e)).length <= n) {
        left = left.filter((e) => !theirs.includes(e));
        say(`# the SDK reopened a resumed stream as a second GET stream, ${n} ` +
            'times, and mcpd answered 409 (typescript-sdk #1390, #2638)');
    }
    assert(left.length === 0, left.map((e) => e.e).join(' | '));
});

// ------------------------------------------------------------- shutdown

if (mode === 'http') {
    const sid = inner.sessionId;
    const ver = inner.protocolVersion;
    await check('DELETE session', async () => {
        const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': ver };
        const d = await fetch(url, { method: 'DELETE', headers,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT) });
        await d.arrayBuffer();
        if (d.status === 405)
            return;             // allowed: the server keeps sessions
        assert(d.status >= 200 && d.status < 300, `DELETE: HTTP ${d.status}`);
        const p = await fetch(url, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json',
                accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 'after-delete', method: 'ping' }),
            signal: AbortSignal.timeout(REQUEST_TIMEOUT),
        });
        await p.arrayBuffer();
        eq(p.status, 404, 'POST on the deleted session: HTTP status');
    });
    await tap.close().catch(() => {});
} else {
    const proc = inner._process;
    await check('close: mcpd --stdio exits 0 on EOF', async () => {
        assert(proc, 'no child process');
        const t0 = Date.now();
        await tap.close();
        const dt = Date.now() - t0;
        eq([proc.exitCode, proc.signalCode], [0, null], 'exit status, signal');
        assert(dt < 2000, `exit took ${dt} ms (the SDK sends SIGTERM at 2 s)`);
    });
    if (hs.failed && stderrText)
        say('# mcpd stderr:\n# ' + stderrText.trim().split('\n').slice(-20).join('\n# '));
}

hs.done();
