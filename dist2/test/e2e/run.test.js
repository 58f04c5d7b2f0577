// `xenode run` as a user runs it: a child process, its terminal output and its exit status.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIXTURES, xenode as run } from '../support/cli.js';
const stateDir = mkdtempSync(join(tmpdir(), 'xenode-run-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
function xenode(args, opts = {}) {
    return run(args, { ...opts, state: stateDir });
}
test('hello boots, prints on its console, sleeps and powers off with status 0', async () => {
    const r = await xenode(['run', 'examples/hello/hello.cfg']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Parsing config from examples\/hello\/hello.cfg/);
    assert.match(r.stdout, /I am domain \d+, named 'hello'/);
    assert.match(r.stdout, /xenstore says my domid is \d+; my uuid is [0-9a-f-]{36}\./);
    assert.match(r.stdout, /My command line: greeting=world/);
    assert.match(r.stdout, /Slept \d+\.\d ms on a timer\. Powering off\./);
});
test('a guest that throws crashes: stack on its console, status 2', async () => {
    const r = await xenode(['run', join(FIXTURES, 'crash.cfg')]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /about to fail/);
    assert.match(r.stdout, /\[crash\] guest crashed: Error: boom from the guest/);
    // Source maps: the stack names the guest's own file.
    assert.match(r.stdout, /crash\.ts:\d+:\d+/);
    assert.match(r.stderr, /domain 'crash' crashed/);
});
test('an unhandled rejection in a guest is a crash too', async () => {
    const r = await xenode(['run', join(FIXTURES, 'reject.cfg')]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /TypeError: nobody catches this/);
});
test('Ctrl-C asks the guest to power off through control/shutdown', async () => {
    let sent = false;
    const r = await xenode(['run', join(FIXTURES, 'ticker.cfg')], {
        onStdout: (text, child) => {
            if (!sent && text.includes('tick 2')) {
                sent = true;
                child.kill('SIGINT');
            }
        },
    });
    assert.ok(sent, 'the guest never ticked');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Shutting down domain \d+/);
});
test('configuration errors name file, line and key, and exit 1', async () => {
    const dir = mkdtempSync(join(stateDir, 'cfg-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'bad.cfg'), 'name = "x"\nkernel = "none.ts"\nmemory = "lots"\n');
    const r = await xenode(['run', join(dir, 'bad.cfg')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.cfg:3:\d+: memory: /);
    writeFileSync(join(dir, 'nokernel.cfg'), 'name = "x"\nkernel = "none.ts"\n');
    const r2 = await xenode(['run', join(dir, 'nokernel.cfg')]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /kernel .*none\.ts: no such file/);
    const r3 = await xenode(['run', join(dir, 'missing.cfg')]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /missing\.cfg/);
});
//# sourceMappingURL=run.test.js.map