// sdk-resume.mjs -- the official TypeScript SDK client resumes a stream on
// the successor of the worker that served it (test_registry.py).
//
//   node sdk-resume.mjs URL
//
// Connects (StreamableHTTPClientTransport, 2025-11-25) and calls the
// conformance plugin's "test_reconnection": mcpd sends the stream's
// priming event, ends the stream (SEP-1699) and answers 100 ms later into
// the session's replay ring.  When the priming event's id comes, this
// script prints "token ID" and stops (a synchronous read of standard
// input: no timer of the client runs) until a line comes: meanwhile the
// test kills the worker of that id and waits for its successor.  Then the
// SDK reconnects as it does (GET with Last-Event-ID after the server's
// retry), the successor replays the answer from the registry, and the
// call must resolve with it; a second call in the same session must be
// served too.
//
// Prints "ok - NAME" or "not ok - NAME: reason" per check, then
// "sdk-resume: N passed, M failed"; exit status 1 on any failure.

import fs from 'node:fs';

import { harness } from './harness.mjs';

const h = harness('sdk-resume', 60000);
const REQUEST_TIMEOUT = 30000;   // ms, the call that waits for the test

if (process.argv.length !== 3) {
    process.stderr.write('usage: sdk-resume URL\n');
    process.exit(2);
}
const url = new URL(process.argv[2]);
const { Client } = await h.sdk('client/index.js');
const { StreamableHTTPClientTransport } = await h.sdk('client/streamableHttp.js');

// Wait for a line on standard input, blocking the whole process.
function waitForLine() {
    const buf = Buffer.alloc(1);
    for (;;) {
        let n;
        try {
            n = fs.readSync(0, buf, 0, 1, null);
        } catch (e) {
            if (e.code === 'EAGAIN')
                continue;
            throw e;
        }
        if (n === 0 || buf[0] === 0x0a)
            return;
    }
}

const requests = [];
const transport = new StreamableHTTPClientTransport(url, {
    fetch: async (input, init) => {
        const r = await fetch(input, init);
        const h2 = new Headers(init?.headers);
        requests.push(`${init?.method || 'GET'} ${r.status}` +
            (h2.get('last-event-id') ? ` Last-Event-ID ${h2.get('last-event-id')}` : ''));
        return r;
    }
});
const client = new Client({ name: 'sdk-resume', version: '1.0.0' });

await h.check('connect', () => client.connect(transport));
let told = false;
await h.check('the answer, replayed by the successor', async () => {
    const r = await client.callTool({ name: 'test_reconnection', arguments: {} },
        undefined, {
            timeout: REQUEST_TIMEOUT,
            onresumptiontoken: (id) => {
                if (told)
                    return;
                told = true;
                h.say(`token ${id}`);
                waitForLine();
            }
        });
    h.assert(told, 'no resumption token came');
    const text = r.content?.[0]?.text || '';
    h.assert(text.includes('Reconnection test completed'), `result ${JSON.stringify(r)}`);
    h.assert(requests.some((q) => q.startsWith('GET 200 Last-Event-ID')),
        `no GET with Last-Event-ID: ${requests.join(', ')}`);
});
await h.check('the session, on the successor', async () => {
    const r = await client.callTool({ name: 'test_simple_text', arguments: {} },
        undefined, { timeout: 10000 });
    h.assert((r.content?.[0]?.text || '').length > 0, JSON.stringify(r));
});
h.say(`# requests: ${requests.join(', ')}`);
await client.close().catch(() => {});
h.done();
