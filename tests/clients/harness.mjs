// harness.mjs -- what the SDK client scripts share: "ok - NAME" and
// "not ok - NAME: reason" lines and their summary, checks, a watchdog for
// the whole run, and the official TypeScript SDK loaded from
// MCPD_CONFORMANCE_DIR (default: ../conformance next to this file).
//
//   const h = harness('sdk-resume', 60000);
//   const { Client } = await h.sdk('client/index.js');
//   await h.check('name', async () => { h.eq(got, want, 'what'); });
//   h.done();        // prints the summary, exits 1 on any failure

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PKG_DIR = process.env.MCPD_CONFORMANCE_DIR ||
    path.join(HERE, '..', 'conformance');
export const SDK = path.join(PKG_DIR, 'node_modules', '@modelcontextprotocol',
    'sdk', 'dist', 'esm');

export class CheckError extends Error {}

export function errText(e) {
    return `${e && e.constructor && e.constructor.name || 'Error'}` +
        `${e && e.code !== undefined ? ` (code ${e.code})` : ''}: ${e && e.message || e}`;
}

export function harness(prog, totalMs) {
    const h = { passed: 0, failed: 0 };

    h.say = (line) => process.stdout.write(line + '\n');
    h.summary = () => h.say(`${prog}: ${h.passed} passed, ${h.failed} failed`);
    h.pass = (name) => {
        h.passed++;
        h.say(`ok - ${name}`);
    };
    h.fail = (name, why) => {
        h.failed++;
        const text = String(why).replace(/\s+/g, ' ').trim();
        h.say(`not ok - ${name}: ${text.length > 600 ? text.slice(0, 600) + '...' : text}`);
    };
    h.assert = (cond, msg) => {
        if (!cond)
            throw new CheckError(msg);
    };
    h.eq = (got, want, what) => {
        const g = JSON.stringify(got), w = JSON.stringify(want);
        if (g !== w)
            throw new CheckError(`${what}: got ${g}, want ${w}`);
    };
    // one check; a thrown error makes it fail; returns the value of fn
    h.check = async (name, fn) => {
        try {
            const v = await fn();
            h.pass(name);
            return v;
        } catch (e) {
            h.fail(name, e instanceof CheckError ? e.message : errText(e));
            return undefined;
        }
    };
    h.done = () => {
        h.summary();
        process.exit(h.failed ? 1 : 0);
    };
    h.sdk = (rel) => {
        if (!fs.existsSync(path.join(SDK, 'client', 'index.js'))) {
            h.fail('load SDK', `${SDK} is missing; run: npm ci --prefix tests/conformance`);
            h.done();
        }
        return import(pathToFileURL(path.join(SDK, rel)).href);
    };
    const watchdog = setTimeout(() => {
        h.fail('whole run', `not finished within ${totalMs / 1000} s`);
        h.done();
    }, totalMs);
    watchdog.unref();
    return h;
}
