// A kernel that never returns from its top level: create returns within a bound with a
// warning, and list shows it running (it burns a core), not blocked; an idle guest shows blocked.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAIN_WAIT_MS } from '../../src/toolstack/builder.js';
import { FIXTURES } from '../support/cli.js';
import { startDaemonRig } from '../support/host-daemon.js';
let rig;
before(async () => {
    rig = await startDaemonRig('runstate');
});
after(() => rig.close());
/** The State column of one domain, sampled `n` times 20 ms apart. */
async function states(domid, n) {
    const out = [];
    for (let i = 0; i < n; i++) {
        const [d] = await rig.ts.call('list', { domains: [domid] });
        out.push(d.state);
        await new Promise((r) => setTimeout(r, 20));
    }
    return out;
}
test('a kernel spinning at its top level: create returns with a warning; list shows it running', { timeout: 60_000 }, async () => {
    const file = rig.cfgFile('spin', `name = "spin"\nkernel = "${join(FIXTURES, 'spin.ts')}"\nmemory = 32\n`);
    const t0 = performance.now();
    const r = await rig.ts.call('create', { file });
    const took = performance.now() - t0;
    assert.ok(took < MAIN_WAIT_MS + 20_000, `create took ${took} ms`);
    assert.ok(r.warnings.some((w) => /has not called main\(\) after 5 s/.test(w)), r.warnings.join('\n'));
    // It is on a CPU or waiting for one: never shown blocked.
    const seen = await states(r.domid, 10);
    assert.ok(seen.every((s) => s === 'r-----'), seen.join(' '));
    await rig.ts.call('destroy', { domain: r.domid });
    assert.deepEqual((await rig.ts.call('list', {})).map((d) => d.name), ['Domain-0']);
});
test('an idle guest is shown blocked', { timeout: 30_000 }, async () => {
    const file = rig.cfgFile('idle', `name = "idle"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\nmemory = 32\n`);
    const r = await rig.ts.call('create', { file });
    assert.deepEqual(r.warnings, []);
    // It sleeps 50 ms between ticks, so samples find it asleep (on a loaded machine, woken
    // threads wait their turn runnable, so not every sample does).
    const seen = [];
    while (seen.length < 200 && !seen.includes('-b----'))
        seen.push(...(await states(r.domid, 5)));
    assert.ok(seen.includes('-b----'), seen.join(' '));
    await rig.ts.call('destroy', { domain: r.domid });
});
//# sourceMappingURL=runstate.test.js.map