// Bounded fuzz of what a configuration may ask of the host: random configurations with values
// at, inside and past every bound (memory, maxmem, name and command-line lengths, grant,
// maptrack and event-channel limits, vCPUs) are created on a host. Each either runs, or fails
// with an error that names the key; none reaches the user as a raw engine error.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { MAX_NAME_BYTES, hostLimits } from '../../src/toolstack/limits.js';
import { ConfigError } from '../../src/toolstack/xlcfg.js';
import { rng } from '../support/random.js';
import { FIXTURES } from '../support/cli.js';
import { startDaemonRig } from '../support/host-daemon.js';
let rig;
before(async () => {
    rig = await startDaemonRig('config-fuzz');
});
after(() => rig.close());
const RAW = /Invalid typed array length|Array buffer allocation failed|RangeError|TypeError|E2BIG: XS_|Maximum call stack|out of memory/i;
const CONFIGS = 24;
/** Values at and around a bound, and far past it (xl.cfg has no negative numbers). */
function around(min, max) {
    return [min - 1, min, min + 1, Math.floor((min + max) / 2), max - 1, max, max + 1, 2 ** 31, 2 ** 32 + 1, 2 ** 53 - 1].filter((n) => n >= 0);
}
test('random configurations at and past the host limits: each runs, or fails naming its key', { timeout: 120_000 }, async (t) => {
    const limits = hostLimits();
    const r = rng(0x5eed11);
    const pick = (xs) => xs[Math.floor(r() * xs.length)];
    /** Mostly a value within [min, max], so that some configurations run. */
    const num = (values, min, max) => () => String(pick(r() < 0.7 ? values.filter((n) => n >= min && n <= max) : values));
    // Memory near the top is built only now and then: each such guest reserves a quarter of it.
    const memory = around(limits.memoryMiB.min, 256).concat([limits.memoryMiB.max, limits.memoryMiB.max + 1, 65536, 4194304]);
    const keys = [
        ['memory', num(memory, limits.memoryMiB.min, limits.memoryMiB.max)],
        ['maxmem', num(memory, limits.memoryMiB.min, limits.memoryMiB.max)],
        ['vcpus', num(around(1, 1), 1, 1)],
        ['max_grant_frames', num(around(limits.maxGrantFrames.min, limits.maxGrantFrames.max), limits.maxGrantFrames.min, limits.maxGrantFrames.max)],
        ['max_maptrack_frames', num(around(limits.maxMaptrackFrames.min, limits.maxMaptrackFrames.max), limits.maxMaptrackFrames.min, limits.maxMaptrackFrames.max)],
        ['max_event_channels', num(around(limits.maxEventChannels.min, limits.maxEventChannels.max), limits.maxEventChannels.min, limits.maxEventChannels.max)],
        ['cmdline', () => `"${'c'.repeat(pick([0, 1, limits.cmdlineBytes, limits.cmdlineBytes + 1, 8192]))}"`],
        ['extra', () => `"${'\u00e9'.repeat(pick([1, limits.cmdlineBytes >> 1, (limits.cmdlineBytes >> 1) + 1]))}"`],
    ];
    const outcomes = { ran: 0, refused: 0 };
    for (let i = 0; i < CONFIGS; i++) {
        const nameLen = pick([8, 8, 8, MAX_NAME_BYTES, MAX_NAME_BYTES + 1, 8192]);
        const name = `f${i}-`.padEnd(nameLen, 'x');
        let text = `name = "${name}"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\n`;
        for (const [key, value] of keys)
            if (r() < 0.3)
                text += `${key} = ${value()}\n`;
        let expected;
        try {
            parseDomainConfig(text, join(rig.dir, `f${i}.cfg`));
        }
        catch (e) {
            assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}\n${text.slice(0, 300)}`);
            expected = e;
        }
        const file = rig.cfgFile(`f${i}`, text);
        try {
            const { domid } = await rig.ts.call('create', { file });
            assert.equal(expected, undefined, `created what the parser refuses: ${expected?.message}`);
            outcomes.ran++;
            await rig.ts.call('destroy', { domain: domid });
        }
        catch (e) {
            const message = e.message;
            assert.doesNotMatch(message, RAW, `config ${i}: ${text.slice(0, 300)}`);
            assert.ok(expected, `config ${i} parses but create failed: ${message}\n${text.slice(0, 300)}`);
            assert.ok(message.includes(`${expected.key}: `), message);
            outcomes.refused++;
        }
    }
    t.diagnostic(JSON.stringify(outcomes));
    assert.ok(outcomes.ran > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
    assert.deepEqual((await rig.ts.call('list', {})).map((d) => d.name), ['Domain-0']);
});
test('rename to a name xenstore cannot hold is refused, and changes nothing', { timeout: 30_000 }, async () => {
    const file = rig.cfgFile('named', `name = "named"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\n`);
    const { domid } = await rig.ts.call('create', { file });
    await assert.rejects(rig.ts.call('rename', { domain: domid, name: 'n'.repeat(MAX_NAME_BYTES + 1) }), new RegExp(`invalid domain name: ${MAX_NAME_BYTES + 1} bytes is too long: this host takes at most ${MAX_NAME_BYTES} bytes`));
    assert.deepEqual((await rig.ts.call('list', { domains: [domid] })).map((d) => d.name), ['named']);
    assert.equal(await rig.daemon.local.host.xs.read(`/local/domain/${domid}/name`), 'named');
    const long = 'l'.repeat(MAX_NAME_BYTES);
    await rig.ts.call('rename', { domain: domid, name: long });
    assert.equal(await rig.daemon.local.host.xs.read(`/local/domain/${domid}/name`), long);
    await rig.ts.call('destroy', { domain: domid });
});
//# sourceMappingURL=config-fuzz.test.js.map