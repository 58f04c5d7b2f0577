// Debian's xenstore-utils (libxenstore's command-line tools) against our xenstored's socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { XS_CONTROL } from '../../src/abi/xs_wire.js';
import { SocketPeer, startDaemon } from '../support/xenstore.js';
const run = promisify(execFile);
const TOOLS = ['xenstore-write', 'xenstore-read', 'xenstore-ls', 'xenstore-list', 'xenstore-rm', 'xenstore-chmod', 'xenstore-exists', 'xenstore-watch'];
const missing = TOOLS.filter((t) => !existsSync(`/usr/bin/${t}`));
const skip = missing.length > 0 ? `xenstore-utils not installed (apt-get install xenstore-utils): missing ${missing.join(', ')}` : false;
if (skip)
    console.log(`# skipping: ${skip}`);
async function xs(d, tool, ...args) {
    const { stdout } = await run(`/usr/bin/${tool}`, ['-s', ...args], { env: { ...process.env, XENSTORED_PATH: d.path }, timeout: 10_000 });
    return stdout;
}
async function exitCode(d, tool, ...args) {
    try {
        await xs(d, tool, ...args);
        return 0;
    }
    catch (e) {
        return e.code;
    }
}
test('write, read, ls, list, chmod, exists, rm', { skip }, async () => {
    const d = await startDaemon();
    try {
        await xs(d, 'xenstore-write', '/st/a', 'hello', '/st/b', 'world');
        assert.equal(await xs(d, 'xenstore-read', '/st/a'), 'hello\n');
        assert.equal(await xs(d, 'xenstore-ls', '/st'), 'a = "hello"\nb = "world"\n');
        assert.equal(await xs(d, 'xenstore-list', '/st'), 'a\nb\n');
        await xs(d, 'xenstore-chmod', '/st/a', 'n0', 'r3');
        assert.match(await xs(d, 'xenstore-ls', '-p', '/st'), /^a = "hello" +[ .]*\(n0,r3\)\nb = "world" +[ .]*\(n0\)\n$/);
        assert.equal(await exitCode(d, 'xenstore-exists', '/st/a'), 0);
        assert.equal(await exitCode(d, 'xenstore-exists', '/st/nope'), 1);
        assert.equal(await exitCode(d, 'xenstore-read', '/st/nope'), 1);
        await xs(d, 'xenstore-rm', '/st/a');
        assert.equal(await xs(d, 'xenstore-ls', '/st'), 'b = "world"\n');
        assert.equal(await xs(d, 'xenstore-ls', '/'), 'tool = ""\n xenstored = ""\nst = ""\n b = "world"\n');
        // A listing over 4096 bytes goes through DIRECTORY_PART.
        const keys = Array.from({ length: 600 }, (_, i) => [`/big/key${String(i).padStart(4, '0')}`, `${i}`]).flat();
        for (let i = 0; i < keys.length; i += 200)
            await xs(d, 'xenstore-write', ...keys.slice(i, i + 200));
        const listed = (await xs(d, 'xenstore-list', '/big')).trim().split('\n');
        assert.equal(listed.length, 600);
        assert.equal(listed[599], 'key0599');
    }
    finally {
        await d.stop();
    }
});
test('xenstore-watch -n counts events, the initial one included', { skip }, async () => {
    const d = await startDaemon();
    const probe = await SocketPeer.open(d.path);
    try {
        await xs(d, 'xenstore-write', '/w', '');
        const child = spawn('/usr/bin/xenstore-watch', ['-s', '-n', '3', '/w'], { env: { ...process.env, XENSTORED_PATH: d.path } });
        const guard = setTimeout(() => child.kill(), 10_000);
        let out = '';
        child.stdout.on('data', (b) => { out += b.toString(); });
        const exited = new Promise((resolve) => child.on('close', resolve));
        // Its output is block-buffered until it exits, so ask xenstored when the watch is in place.
        for (let i = 0; i < 500; i++) {
            const usage = (await probe.req(XS_CONTROL, 'quota\x000\0')).payload.toString();
            if (/watches +: +1\n/.test(usage))
                break;
            await delay(10);
        }
        await xs(d, 'xenstore-write', '/w/x', '1');
        await xs(d, 'xenstore-rm', '/w/x');
        const code = await exited;
        clearTimeout(guard);
        assert.equal(code, 0);
        assert.equal(out, '/w\n/w/x\n/w/x\n');
    }
    finally {
        probe.close();
        await d.stop();
    }
});
//# sourceMappingURL=xenstore-utils.test.js.map