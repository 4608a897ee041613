// sdk2-client.mjs -- drive mcpd with the SDK v2 client in the 2026-07-28 era.
//
//   node sdk2-client.mjs --http http://127.0.0.1:PORT/mcp
//   node sdk2-client.mjs --stdio MCPD_BINARY CONF
//
// Uses @modelcontextprotocol/client (pinned 2.4.0) from MCPD_CONFORMANCE_DIR
// (default: ../conformance next to this file), pinned to protocol version
// 2026-07-28 (versionNegotiation { pin }): no initialize, no session; the
// Client probes with server/discover and then sends the _meta envelope
// (protocol version, client info and capabilities) with every request.
// Over StreamableHTTPClientTransport, or StdioClientTransport, which spawns
// "MCPD --stdio -c CONF" itself (and, for the probe, a short-lived sibling
// of it first).  Exercises what a client of the stateless era does:
//
//   server/discover; every list and a call of every kind of tool (the
//   fixture plugin's and the exec tools "echo" and "slow" of the catalog),
//   resources (text, binary, template, the files of "file:///docs/"),
//   prompts, completion; the multi round-trip tools, whose input_required
//   results the Client fulfils through its sampling and elicitation
//   handlers and retries (one round, two rounds, a prompt); a log level
//   in _meta; an x-mcp-header parameter; cancelling "slow" (the process
//   must go); two subscriptions/listen streams with different filters,
//   that get notifications/resources/updated after a write to
//   notes.md and the list changes the fixture tools announce, each only
//   what its filter asked for; closing one (notifications/cancelled); and,
//   over stdio, closing the Client with the other one still open: mcpd
//   must exit 0 at the end of its stdin at once, not wait for it.
//
// Over HTTP also: the wire (every POST carries MCP-Protocol-Version, and
// each request Mcp-Method and, where the method names something,
// Mcp-Name; no Mcp-Session-Id ever); the v1 SDK (@modelcontextprotocol/sdk 1.32.2,
// session era) connected at the same time, both clients in use at once;
// and a reload: the script prints the line
//
//   # mcpd-clients: reload
//
// and reads one line from stdin: "reloaded" once run-clients.py has added
// the tool "reloaded" and the prompt "reloaded" to the catalog and sent
// SIGHUP to mcpd (anything else is a failure it reports).  Then both
// listen streams and the v1 session's GET stream must get their list
// changes, and both clients must see the new tool.  (mcpd --stdio does
// not reload: over stdio the list changes come from the fixture tools.)
//
// Environment: MCPD_CLIENTS_DOCS, the directory of "file:///docs/" (with
// hello.txt and notes.md; this script rewrites both, hello.txt with its
// own content); MCPD_CLIENTS_PID, over HTTP, the pid of mcpd, or the pids
// of the mcpd of every node behind a load balancer, separated by commas:
// the process of the cancelled "slow" is looked for in /proc among their
// descendants.
//
// Prints "ok - NAME" or "not ok - NAME: reason" per check, then
// "sdk2-client: N passed, M failed"; exit status 1 on any failure.
// Every request has a 10 s timeout and the whole run 60 s.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG_DIR = process.env.MCPD_CONFORMANCE_DIR ||
    path.join(HERE, '..', 'conformance');
const NM = path.join(PKG_DIR, 'node_modules');
const SDK2 = path.join(NM, '@modelcontextprotocol', 'client', 'dist');
const SDK1 = path.join(NM, '@modelcontextprotocol', 'sdk', 'dist', 'esm');

const VERSION = '2026-07-28';
const REQUEST_TIMEOUT = 10000;   // ms, every request
const NOTE_TIMEOUT = 5000;       // ms, a change to its notification
const QUIET_MS = 300;            // ms, to see that nothing more comes
const RELOAD_TIMEOUT = 20000;    // ms, until run-clients.py says "reloaded"
const GONE_TIMEOUT = 3000;       // ms, a cancelled exec tool's process to go
const EXIT_TIMEOUT = 1500;       // ms, mcpd --stdio to exit at EOF
const TOTAL_TIMEOUT = 60000;     // ms, the whole script
const DOCS = process.env.MCPD_CLIENTS_DOCS;
const DOCS_URI = 'file:///docs/';
const HELLO_URI = DOCS_URI + 'hello.txt';
const NOTES_URI = DOCS_URI + 'notes.md';
const PROG = 'sdk2-client';

let passed = 0;
let failed = 0;

function say(line) {
    process.stdout.write(line + '\n');
}

function summary() {
    say(`${PROG}: ${passed} passed, ${failed} failed`);
}

function pass(name) {
    passed++;
    say(`ok - ${name}`);
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
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : (s.length > 300 ? s.slice(0, 300) + '...' : s);
}

// Run one check; a thrown error makes it fail.  Returns the value of fn,
// or true when fn returns nothing; undefined when the check failed.
async function check(name, fn) {
    try {
        const v = await fn();
        pass(name);
        return v === undefined ? true : v;
    } catch (e) {
        fail(name, e instanceof CheckError ? e.message :
            `${e && e.name || 'Error'}: ${e && e.message || e}` +
            (e && e.code !== undefined ? ` (code ${e.code})` : ''));
        return undefined;
    }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves with pred()'s first truthy value, polling; rejects after ms.
async function until(pred, ms, what) {
    const t0 = Date.now();
    for (;;) {
        const v = pred();
        if (v)
            return v;
        if (Date.now() - t0 >= ms)
            throw new CheckError(`${what}: not within ${ms} ms`);
        await sleep(10);
    }
}

// ------------------------------------------------------------------ args

function usage() {
    process.stderr.write(`usage: ${PROG} --http URL | --stdio MCPD CONF\n`);
    process.exit(2);
}

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

const watchdog = setTimeout(() => {
    fail('whole run', `not finished within ${TOTAL_TIMEOUT / 1000} s`);
    summary();
    process.exit(1);
}, TOTAL_TIMEOUT);
watchdog.unref();

for (const f of [path.join(SDK2, 'index.mjs'), path.join(SDK2, 'stdio.mjs'),
    path.join(SDK1, 'client', 'index.js')]) {
    if (!fs.existsSync(f)) {
        fail('load SDK', `${f} is missing; run: npm ci --prefix tests/conformance`);
        summary();
        process.exit(1);
    }
}

const sdk2 = await import(pathToFileURL(path.join(SDK2, 'index.mjs')).href);
const { StdioClientTransport } = await import(pathToFileURL(path.join(SDK2, 'stdio.mjs')).href);
const { Client, StreamableHTTPClientTransport, LOG_LEVEL_META_KEY,
    PROTOCOL_VERSION_META_KEY, SUBSCRIPTION_ID_META_KEY } = sdk2;

// ------------------------------------------------------------ the wire

// Every JSON-RPC message both ways, as the transport hands it over.  The
// transport stays the SDK's own class (the stdio probe on a sibling
// process needs exactly that); its instance gets a send that records and
// an onmessage property that records before it calls the Client's.
const wire = [];                // {dir: '<' or '>', t, msg}

function tapTransport(tr) {
    const send = tr.send.bind(tr);
    tr.send = (msg, opts) => {
        wire.push({ dir: '>', t: Date.now(), msg });
        return send(msg, opts);
    };
    let handler;
    const tapped = (msg, extra) => {
        wire.push({ dir: '<', t: Date.now(), msg });
        return handler?.(msg, extra);
    };
    Object.defineProperty(tr, 'onmessage', {
        configurable: true,
        enumerable: true,
        get() {
            return handler ? tapped : undefined;
        },
        set(fn) {
            if (fn !== tapped)
                handler = fn;
        },
    });
}

function sent(pred, from = 0) {
    return wire.slice(from).filter((e) => e.dir === '>' && pred(e.msg));
}

function received(pred, from = 0) {
    return wire.slice(from).filter((e) => e.dir === '<' && pred(e.msg));
}

// Over HTTP, each exchange of the v2 client: request headers and body,
// response status ('aborted' when the client gave up before it came) and
// headers.
const exchanges = [];           // {t, method, req: {header: value}, body, status, res}

async function recordingFetch(u, init) {
    const x = { t: Date.now(), method: init && init.method || 'GET', req: {},
        body: undefined, status: undefined, res: {} };
    new Headers(init && init.headers).forEach((v, k) => { x.req[k] = v; });
    if (init && typeof init.body === 'string') {
        try {
            x.body = JSON.parse(init.body);
        } catch {
            x.body = init.body;
        }
    }
    exchanges.push(x);
    let r;
    try {
        r = await fetch(u, init);
    } catch (e) {
        x.status = init && init.signal && init.signal.aborted ? 'aborted' : String(e);
        throw e;
    }
    x.status = r.status;
    r.headers.forEach((v, k) => { x.res[k] = v; });
    return r;
}

// MCPD_CLIENTS_PID: "PID" or "PID,PID,..." (every node of a cluster).
function pidList(text) {
    return String(text || '').split(',').map((s) => s.trim())
        .filter((s) => /^[1-9]\d*$/.test(s)).map(Number);
}

// /proc: the processes under any of pids whose argv starts with argv.
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
            const words = cl.replace(/\0$/, '').split('\0');
            if (argv.every((a, i) => words[i] === a))
                found.push(c);
        }
    }
    return found;
}

// ----------------------------------------------------------------- setup

const errors = [];              // what the SDK reported through onerror
const samplings = [];           // sampling/createMessage params received
const elicits = [];             // elicitation/create params received
const logs = [];                // notifications/message params

const SAMPLING_TEXT = 'Paris, said the test model';
const NAME = 'Ada Lovelace';
const COLOR = 'ultramarine';
const CONTEXT = 'a context from the sdk2 client';

const client = new Client(
    { name: 'mcpd-sdk2-client', version: '2.0.0' },
    {
        capabilities: { sampling: {}, elicitation: { form: {} } },
        versionNegotiation: { mode: { pin: VERSION } },
    });
client.onerror = (e) => errors.push(String(e && e.message || e));

// The handlers answer the inputRequests of input_required results: the
// Client calls them, then retries the request with the answers.
client.setRequestHandler('sampling/createMessage', async (req) => {
    samplings.push(req.params);
    return {
        role: 'assistant',
        content: { type: 'text', text: SAMPLING_TEXT },
        model: 'test-model',
        stopReason: 'endTurn',
    };
});

client.setRequestHandler('elicitation/create', async (req) => {
    elicits.push(req.params);
    const props = req.params.requestedSchema &&
        req.params.requestedSchema.properties || {};
    const content = {};
    if (props.name)
        content.name = NAME;
    if (props.color)
        content.color = COLOR;
    if (props.context)
        content.context = CONTEXT;
    if (props.confirm)
        content.confirm = true;
    return { action: 'accept', content };
});

client.setNotificationHandler('notifications/message', (n) => {
    logs.push(n.params);
});

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
tapTransport(inner);
const OPTS = { timeout: REQUEST_TIMEOUT };

function showStderr() {
    if (stderrText.trim())
        say('# mcpd stderr:\n# ' + stderrText.trim().split('\n').slice(-20).join('\n# '));
}

// ---------------------------------------------------- connect, discover

const connected = await check(`connect, pinned to ${VERSION} (server/discover probe)`,
    async () => {
        await client.connect(inner, OPTS);
        eq(client.getProtocolEra(), 'modern', 'protocol era');
        eq(client.getNegotiatedProtocolVersion(), VERSION, 'negotiated version');
    });
if (!connected) {
    showStderr();
    await client.close().catch(() => {});
    summary();
    process.exit(1);
}

// the child that serves: over stdio, the transport's
const child = mode === 'stdio' ? inner._process : undefined;

if (mode === 'stdio') {
    await check('stdio: the probe\'s sibling mcpd is gone, one mcpd --stdio left', async () => {
        const kids = descendantsWith([process.pid], [mcpdBin, '--stdio']);
        assert(child && child.pid, 'no child process');
        eq(kids, [child.pid], 'mcpd --stdio processes under this script');
    });
} else {
    await check('http: the probe was a POST of server/discover', async () => {
        const x = exchanges[0];
        assert(x, 'no exchange');
        eq([x.method, x.body && x.body.method, x.status], ['POST', 'server/discover', 200],
            'first exchange: method, JSON-RPC method, status');
        eq(x.req['mcp-protocol-version'], VERSION, 'MCP-Protocol-Version');
    });
}

await check('server/discover: versions, capabilities, serverInfo', async () => {
    const mark = wire.length;
    const r = await client.discover(OPTS);
    eq(sent((m) => m.method === 'server/discover', mark).length, 1,
        'server/discover requests sent');
    const v = r.supportedVersions;
    assert(Array.isArray(v) && v.includes(VERSION), `supportedVersions: ${short(v)}`);
    for (const old of ['2025-11-25', '2025-06-18', '2025-03-26'])
        assert(v.includes(old), `${old} not in supportedVersions ${short(v)}`);
    const c = r.capabilities || {};
    for (const k of ['tools', 'resources', 'prompts', 'completions'])
        assert(c[k] && typeof c[k] === 'object', `no ${k} capability in ${short(c)}`);
    eq([c.tools.listChanged, c.prompts.listChanged, c.resources.listChanged,
        c.resources.subscribe], [true, true, true, true],
    'tools/prompts/resources listChanged, resources.subscribe');
    assert(c.extensions && c.extensions['io.modelcontextprotocol/tasks'],
        `no tasks extension in ${short(c.extensions)}`);
    const info = client.getServerVersion();
    assert(info && info.name === 'mcpd' && typeof info.version === 'string' &&
        info.version.length > 0, `serverInfo: ${short(info)}`);
});

// ----------------------------------------------------------------- tools

const TOOLS = ['echo', 'slow', 'test_simple_text', 'test_error_handling',
    'test_input_required_result_sampling', 'test_input_required_result_elicitation',
    'test_input_required_result_multi_round', 'test_logging_tool',
    'test_trigger_tool_change', 'test_trigger_prompt_change', 'test_x_mcp_header',
    'greet', 'slow_compute'];

await check('listTools: the fixture tools and the exec tools', async () => {
    const r = await client.listTools({}, OPTS);
    const names = r.tools.map((t) => t.name);
    for (const n of TOOLS)
        assert(names.includes(n), `${n} not listed (got ${short(names)})`);
    for (const t of r.tools)
        eq(t.inputSchema && t.inputSchema.type, 'object', `${t.name} inputSchema.type`);
    const echo = r.tools.find((t) => t.name === 'echo');
    eq(echo.inputSchema.required, ['text'], 'echo inputSchema.required');
    eq(echo.description, 'print the text', 'echo description');
});

async function call(name, args, opts) {
    const params = { name };
    if (args !== undefined)
        params.arguments = args;
    return client.callTool(params, { ...OPTS, ...(opts || {}) });
}

function text(r, i = 0) {
    assert(r && Array.isArray(r.content) && r.content.length > i,
        `content[${i}] missing: ${short(r)}`);
    eq(r.content[i].type, 'text', `content[${i}].type`);
    return r.content[i].text;
}

await check('callTool test_simple_text', async () => {
    const r = await call('test_simple_text', {});
    assert(!r.isError, `isError: ${short(r)}`);
    eq(text(r), 'This is a simple text response for testing.', 'text');
});

const SHELLY = `it's "$(id)" \`id\`; echo pwned | cat > /dev/null && ls * ` +
    '~ $HOME {x} <in >out 2>&1 # not a comment';
await check('callTool echo, an exec tool (shell characters, one argv word)', async () => {
    const r = await call('echo', { text: SHELLY });
    assert(!r.isError, `isError: ${short(r)}`);
    eq(r.content.length, 1, `content (${short(r.content)})`);
    eq(text(r), SHELLY + '\n', 'text');
});

await check('callTool greet and slow_compute (task tools, called plainly)', async () => {
    const g = await call('greet', { name: 'Grace' });
    eq(text(g), 'Hello, Grace!', 'greet');
    // no tasks extension in the request: the answer comes at the end
    const t0 = Date.now();
    const s = await call('slow_compute', { seconds: 1 });
    assert(!s.isError, `slow_compute isError: ${short(s)}`);
    eq(text(s), 'Computed', 'slow_compute');
    assert(Date.now() - t0 >= 900, `slow_compute answered after ${Date.now() - t0} ms`);
});

await check('callTool test_error_handling -> isError', async () => {
    const r = await call('test_error_handling', {});
    eq(r.isError, true, 'isError');
});

await check('callTool unknown tool -> JSON-RPC error', async () => {
    let r;
    try {
        r = await call('no_such_tool', {});
    } catch (e) {
        eq(e.code, -32602, `error code (${e.message})`);
        return;
    }
    throw new CheckError(`got a result: ${short(r)}`);
});

await check(`callTool test_logging_tool with _meta ${LOG_LEVEL_META_KEY} info`, async () => {
    const first = logs.length;
    const r = await client.callTool({ name: 'test_logging_tool', arguments: {},
        _meta: { [LOG_LEVEL_META_KEY]: 'info' } }, OPTS);
    eq(text(r), 'Logged three messages', 'text');
    eq(logs.slice(first).map((l) => [l.level, l.data]),
        [['info', 'starting'], ['info', 'working'], ['info', 'done']], 'log notifications');
});

await check('callTool test_x_mcp_header (x-mcp-header parameter)', async () => {
    const mark = exchanges.length;
    const r = await call('test_x_mcp_header', { region: 'eu-west-1' });
    eq(text(r), 'region=eu-west-1', 'text');
    if (mode === 'http') {
        const x = exchanges.slice(mark).find((e) => e.body && e.body.method === 'tools/call');
        assert(x, 'no tools/call POST');
        eq(x.req['mcp-param-region'], 'eu-west-1', 'Mcp-Param-Region header');
    }
});

// ------------------------------------------- multi round-trip requests

// One call whose first answer is input_required: the Client answers
// through its handler and retries.  On the wire: the request, the
// input_required result with inputRequests[key] of the method, the retry
// with a new id, inputResponses[key] and the requestState echoed.
function roundTrips(mark, method, names) {
    const reqs = sent((m) => m.method === method, mark);
    const byId = (id) => received((m) => m.id === id && m.result !== undefined, mark)[0];
    eq(reqs.length, names.length + 1, `${method} requests sent`);
    const ids = new Set(reqs.map((e) => e.msg.id));
    eq(ids.size, reqs.length, `distinct request ids (${short([...ids])})`);
    for (let i = 0; i < names.length; i++) {
        const [key, what] = names[i];
        const res = byId(reqs[i].msg.id);
        assert(res, `no result for request ${reqs[i].msg.id}`);
        eq(res.msg.result.resultType, 'input_required', `round ${i + 1} resultType`);
        const ir = res.msg.result.inputRequests || {};
        eq(Object.keys(ir), [key], `round ${i + 1} inputRequests keys`);
        eq(ir[key].method, what, `round ${i + 1} inputRequests.${key}.method`);
        const rs = res.msg.result.requestState;
        assert(typeof rs === 'string' && rs.length > 0, `round ${i + 1}: no requestState`);
        const retry = reqs[i + 1].msg.params;
        assert(retry.inputResponses && retry.inputResponses[key],
            `retry ${i + 1}: no inputResponses.${key}: ${short(retry)}`);
        eq(retry.requestState, rs, `retry ${i + 1} requestState`);
        eq(retry._meta && retry._meta[PROTOCOL_VERSION_META_KEY], VERSION,
            `retry ${i + 1} _meta protocolVersion`);
    }
    const last = byId(reqs[names.length].msg.id);
    assert(last, 'no result for the last request');
    eq(last.msg.result.resultType, 'complete', 'last resultType');
}

await check('sampling round trip: test_input_required_result_sampling', async () => {
    const mark = wire.length, before = samplings.length;
    const r = await call('test_input_required_result_sampling', {});
    eq(samplings.length - before, 1, 'sampling handler calls');
    const p = samplings[before];
    eq(p.messages, [{ role: 'user', content: { type: 'text',
        text: 'What is the capital of France?' } }], 'sampling messages');
    assert(!r.isError, `isError: ${short(r)}`);
    eq(text(r), `The model said: ${SAMPLING_TEXT}`, 'text');
    roundTrips(mark, 'tools/call', [['capital_question', 'sampling/createMessage']]);
    const retry = sent((m) => m.method === 'tools/call', mark)[1].msg.params;
    eq(retry.inputResponses.capital_question.content,
        { type: 'text', text: SAMPLING_TEXT }, 'inputResponses.capital_question.content');
});

await check('elicitation round trip: test_input_required_result_elicitation', async () => {
    const mark = wire.length, before = elicits.length;
    const r = await call('test_input_required_result_elicitation', {});
    eq(elicits.length - before, 1, 'elicitation handler calls');
    eq(elicits[before].requestedSchema.properties, { name: { type: 'string' } },
        'requestedSchema.properties');
    assert(!r.isError, `isError: ${short(r)}`);
    eq(text(r), `Hello, ${NAME}!`, 'text');
    roundTrips(mark, 'tools/call', [['user_name', 'elicitation/create']]);
    const retry = sent((m) => m.method === 'tools/call', mark)[1].msg.params;
    eq(retry.inputResponses.user_name, { action: 'accept', content: { name: NAME } },
        'inputResponses.user_name');
});

await check('two rounds: test_input_required_result_multi_round', async () => {
    const mark = wire.length, before = elicits.length;
    const r = await call('test_input_required_result_multi_round', {});
    eq(elicits.length - before, 2, 'elicitation handler calls');
    eq(text(r), `${NAME} likes ${COLOR}`, 'text');
    roundTrips(mark, 'tools/call', [['user_name', 'elicitation/create'],
        ['favourite_color', 'elicitation/create']]);
});

await check('prompts/get with a round trip: test_input_required_result_prompt', async () => {
    const mark = wire.length;
    const r = await client.getPrompt({ name: 'test_input_required_result_prompt' }, OPTS);
    eq(r.messages, [{ role: 'user', content: { type: 'text', text: CONTEXT } }], 'messages');
    roundTrips(mark, 'prompts/get', [['user_context', 'elicitation/create']]);
});

// ------------------------------------------------------------- resources

await check('listResources: the fixture resources and the files of file:///docs/', async () => {
    const r = await client.listResources({}, OPTS);
    const uris = r.resources.map((x) => x.uri);
    for (const u of ['test://static-text', 'test://static-binary', HELLO_URI, NOTES_URI])
        assert(uris.includes(u), `${u} not listed (got ${short(uris)})`);
    eq(r.resources.find((x) => x.uri === HELLO_URI).name, 'hello.txt', `${HELLO_URI} name`);
});

await check('listResourceTemplates', async () => {
    const r = await client.listResourceTemplates({}, OPTS);
    const t = r.resourceTemplates.map((x) => x.uriTemplate);
    assert(t.includes('test://template/{id}/data'),
        `test://template/{id}/data not listed: ${short(t)}`);
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
    eq([c.uri, c.mimeType], ['test://template/42/data', 'application/json'], 'uri, mimeType');
    eq(JSON.parse(c.text), { id: '42', templateTest: true, data: 'Data for ID: 42' }, 'text');
});

await check(`readResource ${HELLO_URI}`, async () => {
    const r = await client.readResource({ uri: HELLO_URI }, OPTS);
    eq(r.contents, [{ uri: HELLO_URI, mimeType: 'text/plain',
        text: 'Hello from mcpd.\n' }], 'contents');
});

await check('readResource unknown -> JSON-RPC error', async () => {
    let r;
    try {
        r = await client.readResource({ uri: 'test://no-such-resource' }, OPTS);
    } catch (e) {
        assert(e.code === -32002 || e.code === -32602, `error code ${e.code}: ${e.message}`);
        return;
    }
    throw new CheckError(`got a result: ${short(r)}`);
});

// --------------------------------------------------- prompts, completion

await check('listPrompts', async () => {
    const r = await client.listPrompts({}, OPTS);
    const names = r.prompts.map((p) => p.name);
    for (const n of ['test_simple_prompt', 'test_prompt_with_arguments', 'greet',
        'test_input_required_result_prompt'])
        assert(names.includes(n), `${n} not listed (got ${short(names)})`);
    const g = r.prompts.find((p) => p.name === 'greet');
    eq(g.arguments, [{ name: 'who', description: 'whom to greet', required: true }],
        'greet arguments');
});

await check('getPrompt test_simple_prompt, test_prompt_with_arguments, greet', async () => {
    const a = await client.getPrompt({ name: 'test_simple_prompt' }, OPTS);
    eq(a.messages, [{ role: 'user', content: { type: 'text',
        text: 'This is a simple prompt for testing.' } }], 'test_simple_prompt');
    const b = await client.getPrompt({ name: 'test_prompt_with_arguments',
        arguments: { arg1: 'one', arg2: 'two' } }, OPTS);
    eq(b.messages[0].content.text, "Prompt with arguments: arg1='one', arg2='two'",
        'test_prompt_with_arguments');
    const c = await client.getPrompt({ name: 'greet', arguments: { who: 'Ada' } }, OPTS);
    eq(c.messages, [{ role: 'user', content: { type: 'text',
        text: 'Say hello to Ada, please.' } }], 'greet');
});

await check('complete ref/prompt arg1', async () => {
    const r = await client.complete({
        ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
        argument: { name: 'arg1', value: 'par' },
    }, OPTS);
    eq(r.completion.values, ['paris', 'park', 'party'], 'values');
});

// ------------------------------------------------------- cancellation

// The Client cancels a request of this era by closing its stream (HTTP)
// or with notifications/cancelled (stdio); either way the exec tool's
// process must go.
const mcpdPids = mode === 'stdio' ? (child && child.pid ? [child.pid] : []) :
    pidList(process.env.MCPD_CLIENTS_PID);
const mcpdPid = mcpdPids.length ? mcpdPids.join(',') : undefined;
const SLEEP_ARGV = ['/bin/sleep', '30'];
await check('cancel the exec tool slow after 300 ms: its process goes', async () => {
    assert(mcpdPid, 'no pid of mcpd (MCPD_CLIENTS_PID is not set)');
    const ac = new AbortController();
    const t0 = Date.now();
    const p = call('slow', {}, { signal: ac.signal });
    let running;
    const tid = setTimeout(() => {
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
    assert(dt < 2000, `the call ended after ${dt} ms`);
    assert(running && running.length === 1,
        `not one sleep 30 under mcpd (pid${mcpdPids.length > 1 ? 's' : ''} ${mcpdPid}) ` +
        `after 300 ms: ${short(running)}`);
    const t1 = Date.now();
    let left = descendantsWith(mcpdPids, SLEEP_ARGV);
    while (left.length && Date.now() - t1 < GONE_TIMEOUT) {
        await sleep(50);
        left = descendantsWith(mcpdPids, SLEEP_ARGV);
    }
    assert(!left.length, `sleep 30 still running (pids ${left.join(' ')}) ` +
        `${GONE_TIMEOUT} ms after the cancel`);
});

// ----------------------------------------- the v1 client, at the same time

let v1, v1Transport;
const v1Errors = [];
const v1Changes = [];           // methods of list_changed notifications on the v1 session
const v1Exchanges = [];
if (mode === 'http') {
    const imp1 = (rel) => import(pathToFileURL(path.join(SDK1, rel)).href);
    const v1c = await imp1('client/index.js');
    const v1h = await imp1('client/streamableHttp.js');
    const v1t = await imp1('types.js');
    v1 = new v1c.Client({ name: 'mcpd-sdk1-beside-sdk2', version: '1.0.0' },
        { capabilities: { sampling: {} } });
    v1.onerror = (e) => v1Errors.push(String(e && e.message || e));
    v1.setRequestHandler(v1t.CreateMessageRequestSchema, async () => ({
        role: 'assistant', content: { type: 'text', text: 'v1 answer' }, model: 'v1-model',
    }));
    for (const s of [v1t.ToolListChangedNotificationSchema,
        v1t.PromptListChangedNotificationSchema])
        v1.setNotificationHandler(s, (n) => v1Changes.push(n.method));
    v1Transport = new v1h.StreamableHTTPClientTransport(new URL(url), {
        fetch: async (u, init) => {
            const x = { method: init && init.method || 'GET', status: undefined };
            v1Exchanges.push(x);
            const r = await fetch(u, init);
            x.status = r.status;
            return r;
        },
    });

    await check('v1 SDK beside: initialize on the same endpoint (session era)', async () => {
        await v1.connect(v1Transport, OPTS);
        const sid = v1Transport.sessionId;
        assert(typeof sid === 'string' && sid.length > 0, `no Mcp-Session-Id: ${short(sid)}`);
        eq(v1Transport.protocolVersion, '2025-11-25', 'v1 negotiated protocolVersion');
        // its standalone GET stream, for the notifications of the session
        await until(() => v1Exchanges.some((x) => x.method === 'GET' && x.status === 200),
            3000, 'the v1 GET stream');
    });

    await check('v1 and v2 at once: a session-era sampling request and a ' +
        'stateless sampling round trip', async () => {
        const [a, b] = await Promise.all([
            v1.callTool({ name: 'test_sampling', arguments: { prompt: 'v1 here' } },
                undefined, OPTS),
            call('test_input_required_result_sampling', {}),
            v1.listTools({}, OPTS),
            client.listTools({}, OPTS),
        ]);
        eq(text(a), 'LLM response: v1 answer', 'v1 test_sampling');
        eq(text(b), `The model said: ${SAMPLING_TEXT}`, 'v2 sampling round trip');
    });
}

// ---------------------------------------------------- subscriptions/listen

// Notifications on the wire that carry a subscription id, per id.
function onStream(id, method, from = 0) {
    return received((m) => m.method === method && m.params && m.params._meta &&
        m.params._meta[SUBSCRIPTION_ID_META_KEY] === id, from);
}

function streamNotes(from = 0) {
    return received((m) => m.method !== undefined && m.id === undefined &&
        m.params && m.params._meta && m.params._meta[SUBSCRIPTION_ID_META_KEY] !== undefined &&
        m.method !== 'notifications/subscriptions/acknowledged', from)
        .map((e) => [e.msg.params._meta[SUBSCRIPTION_ID_META_KEY], e.msg.method,
            e.msg.params.uri]);
}

const handled = [];             // what reached the Client's handlers
for (const m of ['notifications/tools/list_changed', 'notifications/prompts/list_changed',
    'notifications/resources/list_changed', 'notifications/resources/updated'])
    client.setNotificationHandler(m, (n) => handled.push([n.method, n.params && n.params.uri]));

const FILTER_A = { toolsListChanged: true, resourceSubscriptions: [NOTES_URI] };
const FILTER_B = { promptsListChanged: true, resourcesListChanged: true };
let subA, subB, idA, idB;

await check('listen A (tools, notes.md) and B (prompts, resources): acknowledged', async () => {
    const mark = wire.length;
    subA = await client.listen(FILTER_A, OPTS);
    subB = await client.listen(FILTER_B, OPTS);
    eq(subA.honoredFilter, FILTER_A, 'A honoredFilter');
    eq(subB.honoredFilter, FILTER_B, 'B honoredFilter');
    const reqs = sent((m) => m.method === 'subscriptions/listen', mark);
    eq(reqs.length, 2, 'listen requests sent');
    [idA, idB] = reqs.map((e) => e.msg.id);
    for (const [id, f] of [[idA, FILTER_A], [idB, FILTER_B]]) {
        const ack = onStream(id, 'notifications/subscriptions/acknowledged', mark);
        eq(ack.length, 1, `acknowledgements for ${id}`);
        eq(ack[0].msg.params.notifications, f, `${id} acknowledged filter`);
    }
    if (mode === 'http') {
        // each one its own POST, answered with an SSE stream
        const posts = exchanges.filter((x) => x.body && x.body.method === 'subscriptions/listen');
        eq(posts.map((x) => [x.status, (x.res['content-type'] || '').split(';')[0]]),
            [[200, 'text/event-stream'], [200, 'text/event-stream']], 'listen POSTs');
    }
});

await check(`write notes.md: notifications/resources/updated on A only, ` +
    'none for hello.txt', async () => {
    assert(subA && subB, 'not listening');
    assert(DOCS, 'MCPD_CLIENTS_DOCS is not set (run-clients.py sets it)');
    const mark = wire.length;
    // hello.txt gets its own content again: a change no filter asked for
    fs.writeFileSync(path.join(DOCS, 'hello.txt'), 'Hello from mcpd.\n');
    fs.writeFileSync(path.join(DOCS, 'notes.md'),
        `# Notes\nchanged by ${PROG} over ${mode}, pid ${process.pid}\n`);
    await until(() => onStream(idA, 'notifications/resources/updated', mark).length,
        NOTE_TIMEOUT, 'notifications/resources/updated on A');
    await sleep(QUIET_MS);
    eq(streamNotes(mark), [[idA, 'notifications/resources/updated', NOTES_URI]],
        'notifications on the listen streams');
    assert(handled.some(([m, u]) => m === 'notifications/resources/updated' &&
        u === NOTES_URI), 'the Client\'s handler did not get it');
});

await check(`readResource ${NOTES_URI} after the change`, async () => {
    const r = await client.readResource({ uri: NOTES_URI }, OPTS);
    eq(r.contents, [{ uri: NOTES_URI, mimeType: 'text/markdown',
        text: `# Notes\nchanged by ${PROG} over ${mode}, pid ${process.pid}\n` }], 'contents');
});

const v1Before = () => v1Changes.length;
await check('test_trigger_tool_change: tools/list_changed on A only' +
    (mode === 'http' ? ', and on the v1 session' : ''), async () => {
    const mark = wire.length, v1From = v1Before();
    const r = await call('test_trigger_tool_change', {});
    eq(text(r), 'Announced a change of the tools list', 'text');
    await until(() => onStream(idA, 'notifications/tools/list_changed', mark).length,
        NOTE_TIMEOUT, 'tools/list_changed on A');
    if (mode === 'http')
        await until(() => v1Changes.slice(v1From).includes('notifications/tools/list_changed'),
            NOTE_TIMEOUT, 'tools/list_changed on the v1 session');
    await sleep(QUIET_MS);
    eq(streamNotes(mark), [[idA, 'notifications/tools/list_changed', undefined]],
        'notifications on the listen streams');
});

await check('test_trigger_prompt_change: prompts/list_changed on B only', async () => {
    const mark = wire.length;
    const r = await call('test_trigger_prompt_change', {});
    eq(text(r), 'Announced a change of the prompts list', 'text');
    await until(() => onStream(idB, 'notifications/prompts/list_changed', mark).length,
        NOTE_TIMEOUT, 'prompts/list_changed on B');
    await sleep(QUIET_MS);
    eq(streamNotes(mark), [[idB, 'notifications/prompts/list_changed', undefined]],
        'notifications on the listen streams');
});

// --------------------------------------------- a reload (HTTP: SIGHUP)

// One line from stdin, or null after ms.
function readLine(ms) {
    return new Promise((resolve) => {
        let buf = '';
        const done = (v) => {
            clearTimeout(tid);
            process.stdin.off('data', onData);
            process.stdin.off('end', onEnd);
            process.stdin.pause();
            resolve(v);
        };
        const onData = (d) => {
            buf += d.toString();
            const k = buf.indexOf('\n');
            if (k >= 0)
                done(buf.slice(0, k).trim());
        };
        const onEnd = () => done(buf.trim() || null);
        const tid = setTimeout(() => done(null), ms);
        process.stdin.on('data', onData);
        process.stdin.on('end', onEnd);
        process.stdin.resume();
    });
}

if (mode === 'http') {
    let reloaded = false;
    const reloadMark = wire.length, v1Mark = v1Changes.length;
    await check('reload: run-clients.py adds a tool and a prompt and sends SIGHUP', async () => {
        say('# mcpd-clients: reload');
        const t0 = Date.now();
        const answer = await readLine(RELOAD_TIMEOUT);
        assert(answer !== null, `no answer on stdin within ${RELOAD_TIMEOUT} ms ` +
            '(run this script from run-clients.py)');
        eq(answer, 'reloaded', `answer after ${Date.now() - t0} ms`);
        reloaded = true;
    });

    await check('after SIGHUP: tools/list_changed on A, prompts and resources ' +
        'list_changed on B, list changes on the v1 session', async () => {
        assert(reloaded, 'not reloaded');
        // every worker had reloaded before the answer: all is on its way
        await until(() => onStream(idA, 'notifications/tools/list_changed', reloadMark).length &&
            onStream(idB, 'notifications/prompts/list_changed', reloadMark).length &&
            onStream(idB, 'notifications/resources/list_changed', reloadMark).length,
        NOTE_TIMEOUT, `the list changes (got ${short(streamNotes(reloadMark))})`);
        const v1Got = () => v1Changes.slice(v1Mark);
        await until(() => v1Got().includes('notifications/tools/list_changed') &&
            v1Got().includes('notifications/prompts/list_changed'),
        NOTE_TIMEOUT, `list changes on the v1 session (got ${short(v1Got())})`);
        await sleep(QUIET_MS);
        const on = (id) => streamNotes(reloadMark).filter(([i]) => i === id)
            .map(([, m]) => m).sort();
        eq(on(idA), ['notifications/tools/list_changed'], 'on A');
        eq(on(idB), ['notifications/prompts/list_changed',
            'notifications/resources/list_changed'], 'on B');
    });

    await check('after SIGHUP: listTools, callTool and listPrompts see the new ' +
        'tool and prompt (v2 and v1)', async () => {
        assert(reloaded, 'not reloaded');
        const t = await client.listTools({}, OPTS);
        assert(t.tools.some((x) => x.name === 'reloaded'),
            `v2: reloaded not listed: ${short(t.tools.map((x) => x.name))}`);
        const r = await call('reloaded', { text: 'after the reload' });
        eq(text(r), 'reloaded: after the reload\n', 'v2 callTool reloaded');
        const p = await client.listPrompts({}, OPTS);
        assert(p.prompts.some((x) => x.name === 'reloaded'),
            `v2: prompt reloaded not listed: ${short(p.prompts.map((x) => x.name))}`);
        const t1 = await v1.listTools({}, OPTS);
        assert(t1.tools.some((x) => x.name === 'reloaded'),
            `v1: reloaded not listed: ${short(t1.tools.map((x) => x.name))}`);
        const r1 = await v1.callTool({ name: 'reloaded', arguments: { text: 'v1' } },
            undefined, OPTS);
        eq(text(r1), 'reloaded: v1\n', 'v1 callTool reloaded');
    });
}

await check('close listen A: closed "local", notifications/cancelled sent, ' +
    'no more notifications on A', async () => {
    assert(subA, 'not listening');
    const mark = wire.length;
    await subA.close();
    eq(await subA.closed, 'local', 'A closed');
    eq(sent((m) => m.method === 'notifications/cancelled' &&
        m.params.requestId === idA, mark).length, 1, 'notifications/cancelled for A');
    await sleep(100);           // the server sees it
    const from = wire.length;
    await call('test_trigger_tool_change', {});
    await call('test_trigger_prompt_change', {});
    await until(() => onStream(idB, 'notifications/prompts/list_changed', from).length,
        NOTE_TIMEOUT, 'prompts/list_changed on B');
    await sleep(QUIET_MS);
    eq(streamNotes(from), [[idB, 'notifications/prompts/list_changed', undefined]],
        'notifications on the listen streams');
});

// --------------------------------------------------------------- the wire

await check('the wire: no initialize; every request carries the _meta envelope', async () => {
    const bad = sent((m) => m.method === 'initialize' || m.method === 'notifications/initialized');
    eq(bad.length, 0, 'initialize or notifications/initialized sent');
    const reqs = sent((m) => m.method !== undefined && m.id !== undefined);
    assert(reqs.length > 20, `only ${reqs.length} requests`);
    for (const { msg } of reqs) {
        const meta = msg.params && msg.params._meta || {};
        eq(meta[PROTOCOL_VERSION_META_KEY], VERSION, `${msg.method} ${msg.id} _meta protocolVersion`);
        assert(meta['io.modelcontextprotocol/clientCapabilities'],
            `${msg.method} ${msg.id}: no _meta clientCapabilities`);
    }
    // and no server-to-client requests: input_required results instead
    const theirs = received((m) => m.method !== undefined && m.id !== undefined);
    eq(theirs.map((e) => e.msg.method), [], 'requests from the server');
});

if (mode === 'http') {
    await check('the wire: MCP-Protocol-Version; Mcp-Method and Mcp-Name on ' +
        'requests; no Mcp-Session-Id', async () => {
        const posts = exchanges.filter((x) => x.method === 'POST');
        assert(posts.length > 20, `only ${posts.length} POSTs`);
        for (const x of posts) {
            const b = x.body || {};
            const what = `POST ${b.method} ${b.id === undefined ? '' : b.id}`;
            eq(x.req['mcp-protocol-version'], VERSION, `${what}: MCP-Protocol-Version`);
            if (b.id !== undefined) {
                // requests (the SDK sends notifications without them)
                eq(x.req['mcp-method'], b.method, `${what}: Mcp-Method`);
                const name = b.method === 'tools/call' || b.method === 'prompts/get' ?
                    b.params.name : b.method === 'resources/read' ? b.params.uri : undefined;
                eq(x.req['mcp-name'], name, `${what}: Mcp-Name`);
            }
            assert(x.req['mcp-session-id'] === undefined, `${what}: sent Mcp-Session-Id`);
            assert(x.res['mcp-session-id'] === undefined,
                `${what}: answered with Mcp-Session-Id ${x.res['mcp-session-id']}`);
            // only the cancelled call of slow may end before its response
            assert(x.status === 200 || x.status === 202 || (x.status === 'aborted' &&
                b.method === 'tools/call' && b.params.name === 'slow'),
            `${what}: HTTP ${x.status}`);
        }
        eq(exchanges.filter((x) => x.method !== 'POST').map((x) => x.method), [],
            'other than POST');
    });
}

await check('no transport or protocol errors', async () => {
    assert(errors.length === 0, errors.join(' | '));
    assert(v1Errors.length === 0, 'v1: ' + v1Errors.join(' | '));
});

// ------------------------------------------------------------- shutdown

if (mode === 'http') {
    await check('v1 SDK beside: DELETE its session', async () => {
        await v1Transport.terminateSession();
        await v1.close();
    });
    await check('close the v2 client; listen B ends', async () => {
        await client.close();
        const how = await Promise.race([subB.closed, sleep(2000).then(() => 'not closed')]);
        assert(how === 'local' || how === 'remote', `listen B: ${how}`);
    });
} else {
    // listen B is still open: at the end of its stdin mcpd must exit at
    // once anyway, before the SDK's SIGTERM 2 s later
    await check('close with listen B still open: mcpd --stdio exits 0 at EOF, ' +
        'before the SDK\'s SIGTERM at 2 s', async () => {
        assert(child, 'no child process');
        const t0 = Date.now();
        await client.close();
        const dt = Date.now() - t0;
        eq([child.exitCode, child.signalCode], [0, null], `exit status, signal after ${dt} ms`);
        assert(dt < EXIT_TIMEOUT, `exit took ${dt} ms`);
    });
    if (failed)
        showStderr();
}

summary();
process.exit(failed ? 1 : 0);
