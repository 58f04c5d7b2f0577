// `xenode xenstore ...` against xenode's xenstored: the output must be byte for byte what
// Debian's xenstore-utils print for the same tree (expected texts captured from xenstore-ls,
// -list and -read 4.17 against cxenstored).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModes, sanitiseValue, unsanitiseValue } from '../../../src/cli/xenstore.js';
import { connectLocal } from '../../../src/xenstore/client/transport.js';
import { XenstoreClient } from '../../../src/xenstore/client/client.js';
import { Xenstored } from '../../../src/xenstore/server/daemon.js';
const CLI_MODULE = fileURLToPath(new URL('../../../src/cli/xenstore.js', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
let xenstored;
let xs;
let dir;
let socket;
before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xenode-xs-cli-'));
    socket = join(dir, 'xenstored.sock');
    xenstored = new Xenstored();
    await xenstored.listen(socket);
    xs = new XenstoreClient(connectLocal(xenstored, 0));
    await xs.write('/cli/bin', Uint8Array.from([0x61, 9, 0x62, 10, 0x63, 0x5c, 1, 0x7f, 0x80, 0xc3, 0xa9, 0x22, 0x78]));
    await xs.write('/cli/long', 'x'.repeat(100));
    await xs.write('/cli/a/b/c', '1');
    await xs.write('/cli/esc', '');
    await xs.setPerms('/cli/esc', [{ domid: 0, perm: 'n' }, { domid: 3, perm: 'r' }]);
});
after(async () => {
    xs.close();
    await xenstored.close();
    rmSync(dir, { recursive: true, force: true });
});
/** Run `xenode xenstore ARGS` in a child process (stdout a pipe, as in a script). */
function cli(args, env = { XENSTORED_PATH: socket }) {
    const program = `import { Command } from 'commander';
import { registerXenstoreCommands } from ${JSON.stringify(CLI_MODULE)};
const p = new Command('xenode');
registerXenstoreCommands(p);
await p.parseAsync(process.argv.slice(1), { from: 'user' });`;
    return new Promise((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', program, '--', 'xenstore', ...args], {
            cwd: PACKAGE_ROOT, encoding: 'buffer', env: { ...process.env, XENODE_STATE_DIR: dir, ...env }, timeout: 20000,
        }, (err, stdout, stderr) => {
            // A child killed (by the timeout) has no exit code: report it rather than pass as a failure exit.
            if (err && typeof err.code !== 'number')
                assert.fail(`xenode xenstore ${args.join(' ')}: ${err.message} ${stderr.toString()}`);
            resolve({ code: err ? Number(err.code) : 0, stdout, stderr: stderr.toString() });
        });
    });
}
/** Run a command that must succeed; its stdout. */
async function ok(args) {
    const r = await cli(args);
    assert.equal(r.code, 0, `xenode xenstore ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
}
const BIN = String.raw `"a\tb\nc\\\001\x7f\x80\xc3\xa9"x"`;
test('xs_sanitise_value and xs_unsanitise_value, as xenstore-read and xenstore-write do them', () => {
    const all = Uint8Array.from([...Array.from({ length: 31 }, (_, i) => i + 1), 0x7f, 0x80, 0xff]);
    assert.equal(sanitiseValue(all), String.raw `\001\002\003\004\005\006\007\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f\x80\xff`);
    assert.equal(sanitiseValue(Uint8Array.from([0x61, 0, 0x62])), String.raw `a\000b`);
    const cases = [
        [String.raw `a\x4g`, [0x61, 4, 0x67]], [String.raw `a\18`, [0x61, 1, 0x38]], ['a\\', [0x61, 0]], [String.raw `a\a`, [0x61, 0x61]],
        [String.raw `\1234`, [0x53, 0x34]], [String.raw `\x`, [0x78]], [String.raw `\xg1`, [0x78, 0x67, 0x31]], [String.raw `\777`, [0xff]],
        [String.raw `\400`, [0]], [String.raw `\b\f\v\e\0`, [0x62, 0x66, 0x76, 0x65, 0]], [String.raw `x\ty\101\\z\x41\q`, [0x78, 9, 0x79, 0x41, 0x5c, 0x7a, 0x41, 0x71]],
    ];
    for (const [spec, bytes] of cases)
        assert.deepEqual([...unsanitiseValue(spec)], bytes, spec);
});
test('xenstore-chmod mode words', () => {
    assert.deepEqual(parseModes(['n0', 'r3', 'w12', 'b7']), [
        { perm: 'n', domid: 0 }, { perm: 'r', domid: 3 }, { perm: 'w', domid: 12 }, { perm: 'b', domid: 7 },
    ]);
    assert.deepEqual(parseModes(['rx']), [{ perm: 'r', domid: 0 }], 'atoi of garbage is 0, as in Xen');
    assert.throws(() => parseModes(['x1']), /Invalid permission specification: 'x'/);
    assert.throws(() => parseModes(Array(17).fill('r1')), /Too many permissions/);
});
test('ls: tree, -f, -p and -fp layouts', async () => {
    assert.equal((await ok(['ls', '/cli'])).toString(), [
        `bin = ${BIN}`,
        `long = "${'x'.repeat(68)}\\..."`,
        'a = ""', ' b = ""', '  c = "1"', 'esc = ""', '',
    ].join('\n'));
    assert.equal((await ok(['ls', '-f', '/cli'])).toString(), [
        `/cli/bin = ${BIN}`, `/cli/long = "${'x'.repeat(100)}"`, '/cli/a = ""', '/cli/a/b = ""', '/cli/a/b/c = "1"', '/cli/esc = ""', '',
    ].join('\n'));
    assert.equal((await ok(['ls', '-p', '/cli'])).toString(), [
        `bin = ${BIN}  . . . . . . . . . .  (n0)`,
        `long = "${'x'.repeat(68)}\\..."  (n0)`,
        'a = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
        ' b = ""  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
        '  c = "1"  . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)',
        'esc = "" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r3)',
        '',
    ].join('\n'));
    assert.equal((await ok(['ls', '-fp', '/cli'])).toString(), [
        `/cli/bin = ${BIN}   (n0)`, `/cli/long = "${'x'.repeat(100)}"   (n0)`, '/cli/a = ""   (n0)', '/cli/a/b = ""   (n0)',
        '/cli/a/b/c = "1"   (n0)', '/cli/esc = ""   (n0,r3)', '',
    ].join('\n'));
});
test('read, list, exists', async () => {
    assert.equal((await ok(['read', '-p', '/cli/bin', '/cli/a/b/c'])).toString(), `/cli/bin: ${BIN.slice(1, -1)}\n/cli/a/b/c: 1\n`);
    assert.deepEqual([...(await ok(['read', '-R', '/cli/bin']))], [0x61, 9, 0x62, 10, 0x63, 0x5c, 1, 0x7f, 0x80, 0xc3, 0xa9, 0x22, 0x78]);
    assert.equal((await ok(['list', '-p', '/cli'])).toString(), '/cli/bin\n/cli/long\n/cli/a\n/cli/esc\n');
    assert.equal((await ok(['list', '/cli/a'])).toString(), 'b\n');
    await ok(['exists', '/cli/a', '/cli/esc']);
    const missing = await cli(['exists', '/cli/nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, '', 'xenstore-exists fails silently');
    const r = await cli(['read', '/cli/a/b/c', '/cli/nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.length, 0, 'nothing printed when one key fails');
    assert.match(r.stderr, /^xenode xenstore read: couldn't read path \/cli\/nope \(ENOENT\)\n$/);
});
test('write (with escapes unless -R), rm -t, chmod -r / -u', async () => {
    await ok(['write', '/cli/w/x', String.raw `a\tb\x41`, '/cli/w/raw', String.raw `a\tb`, '-R']);
    // -R applies to every value of the invocation, as in Xen.
    assert.equal(await xs.read('/cli/w/x'), String.raw `a\tb\x41`);
    await ok(['write', '/cli/w/x', String.raw `a\tb\x41`]);
    assert.equal(await xs.read('/cli/w/x'), 'a\tbA');
    assert.equal((await cli(['write', '/cli/odd'])).code, 1);
    await xs.write('/cli/tidy/p/q', 'v');
    await ok(['rm', '-t', '/cli/tidy/p/q']);
    assert.equal(await xs.exists('/cli/tidy'), false, 'empty, valueless parents went too');
    assert.equal(await xs.exists('/cli'), true);
    await ok(['chmod', '-r', '/cli/a', 'n0', 'r5']);
    assert.deepEqual(await xs.getPerms('/cli/a/b/c'), [{ domid: 0, perm: 'n' }, { domid: 5, perm: 'r' }]);
    await ok(['chmod', '-u', '/cli/a/b', 'n0', 'b6']);
    assert.deepEqual(await xs.getPerms('/cli'), [{ domid: 0, perm: 'n' }, { domid: 6, perm: 'b' }]);
    assert.deepEqual(await xs.getPerms('/cli/a/b/c'), [{ domid: 0, perm: 'n' }, { domid: 5, perm: 'r' }], '-u goes up only');
    const bad = await cli(['chmod', '/cli/a', 'x1']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "xenode xenstore chmod: Invalid permission specification: 'x'\n");
});
test('watch -n counts the first event, then exits', async () => {
    const run = cli(['watch', '-n', '3', '/cli/watched']);
    // Write until the watcher has seen enough; bounded by the count, not by time.
    let done = false;
    void run.then(() => { done = true; });
    for (let i = 0; !done && i < 2000; i++) {
        await xs.write('/cli/watched/k', String(i));
        await new Promise((r) => setTimeout(r, 5));
    }
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.toString().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[0], '/cli/watched');
    assert.deepEqual(lines.slice(1, 3), ['/cli/watched/k', '/cli/watched/k']);
});
test('no xenstored: one line, non-zero exit', async () => {
    const r = await cli(['ls', '/'], { XENSTORED_PATH: join(dir, 'nothing-here.sock') });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `xenode xenstore ls: no xenstored at ${join(dir, 'nothing-here.sock')}: start a host with \`xenode host\` or \`xenode run\`\n`);
});
test('the socket comes from --state-dir, else XENSTORED_PATH, else $XENODE_STATE_DIR', async () => {
    const byEnvDir = await cli(['read', '/cli/a/b/c'], { XENSTORED_PATH: '' });
    assert.deepEqual({ ...byEnvDir, stdout: byEnvDir.stdout.toString() }, { code: 0, stdout: '1\n', stderr: '' });
    const byFlag = await cli(['read', '--state-dir', join(dir, 'other'), '/cli/a/b/c']);
    assert.equal(byFlag.code, 1);
    assert.match(byFlag.stderr, /no xenstored at .*other\/xenstored\.sock/);
});
//# sourceMappingURL=xenstore.test.js.map