// host.log under a flood (issue 11): a client that makes xenstored drop thousands of
// connections must neither block dom0 with log writes nor grow the log without bound.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_ROTATE_BYTES } from '../../src/toolstack/logfile.js';
import { startLocalHost } from '../../src/toolstack/local.js';
import { hostPaths } from '../../src/toolstack/paths.js';
const CONNECTIONS = 2000;
const PARALLEL = 50;
/** One connection that sends a header announcing a payload past XENSTORE_PAYLOAD_MAX: dropped. */
function dropped(path) {
    return new Promise((resolve) => {
        const sock = connect(path);
        const header = Buffer.alloc(16);
        header.writeUInt32LE(1, 0); // XS_DIRECTORY
        header.writeUInt32LE(1 << 20, 12);
        sock.on('connect', () => sock.write(header));
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        sock.resume();
    });
}
test('a flood of dropped xenstore connections: the host answers throughout and host.log stays small', async (t) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'xenode-hostlog-'));
    t.after(() => rmSync(stateDir, { recursive: true, force: true }));
    const paths = hostPaths(stateDir);
    const local = await startLocalHost({ stateDir, logFile: paths.logFile });
    t.after(() => local.close());
    let flooding = true;
    const flood = (async () => {
        for (let i = 0; i < CONNECTIONS; i += PARALLEL) {
            await Promise.all(Array.from({ length: PARALLEL }, () => dropped(paths.xenstoredSocket)));
        }
        flooding = false;
    })();
    // dom0 keeps serving its own xenstore client and the command API during the flood.
    let answered = 0;
    while (flooding) {
        await local.host.xs.write('/tool/probe', String(answered));
        assert.equal((await local.api.call('list', {})).length, 1);
        answered++;
        await new Promise((r) => setImmediate(r)); // both answer without I/O: let the flood's in
    }
    await flood;
    assert.ok(answered > 0);
    // The count of what was held back is logged by the sweep after the last window (5 s) ends: within 10 s.
    const suppressed = () => local.log.entries().some((e) => e.type === 'message' && / more messages like this suppressed: dropping connection/.test(e.text));
    for (let i = 0; i < 150 && !suppressed(); i++)
        await new Promise((r) => setTimeout(r, 100));
    await local.log.flushed();
    const lines = readFileSync(paths.logFile, 'utf8').trim().split('\n');
    const drops = lines.filter((l) => l.includes('dropping connection')).length;
    // 10 a kind per 5 s, and a line with the count of the rest when each 5 s are over.
    assert.ok(drops >= 1 && drops <= CONNECTIONS / 20, `${drops} dropped-connection lines for ${CONNECTIONS} drops`);
    assert.ok(lines.some((l) => /\d+ more messages like this suppressed: dropping connection/.test(l)));
    const files = readdirSync(stateDir).filter((f) => f.startsWith('host.log'));
    const bytes = files.reduce((n, f) => n + statSync(join(stateDir, f)).size, 0);
    assert.ok(bytes <= DEFAULT_LOG_KEEP * DEFAULT_LOG_ROTATE_BYTES, `host.log* is ${bytes} bytes`);
});
//# sourceMappingURL=hostlog.test.js.map