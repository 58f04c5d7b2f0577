// Bounded fuzzing of the configuration parsers with a fixed seed: on any input they return or
// throw their own error type, never anything else, and they stay fast on large hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiskSpecError, parseDiskSpec } from '../../../src/toolstack/diskspec.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { VifSpecError, parseVifSpec } from '../../../src/toolstack/vifspec.js';
import { ConfigError, parseXlCfg } from '../../../src/toolstack/xlcfg.js';
import { rng } from '../../support/random.js';
const SEEDS = [
    `# a guest\nname = "web"\nkernel = "web.js"\nmemory = 0x40\nmaxmem = "128"\nvcpus = 1\n` +
        `disk = [ 'phy:/dev/vg/x,xvda,w', '/iso,,hdc,cdrom', # c\n 'format=qcow2,vdev=xvdb,target=/a,b' ,\n]\n` +
        `vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,rate=10Mb/s@20ms', 'ip=10.0.0.1 fd00::1/64,mtu=9000', '' ]\n` +
        `extra = "console=hvc0"; extra += " quiet"\non_crash = 'preserve'\nuuid = "6b2f7c3e-0d4a-4c8b-9e5f-1a2b3c4d5e6f"\n`,
    `name='x';kernel='k';cmdline="a\\tb\\"c";root='/dev/xvda1'\nl = [[1,2],[ 'a' ]]\nl += [ 0755, 0 ]\n`,
    `max_grant_frames = 64\nmax_maptrack_frames = 1024\nmax_event_channels = 1023\non_soft_reset = "soft-reset"\n`,
];
const DISK_SEEDS = ['/dev/vg/guest-volume,raw,hda,rw', 'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/r.iso',
    'tap:aio:/x.vhd,xvdtq37,r', ',hdc:cdrom,r', 'backendtype=qdisk,no-discard,untrusted,/t,qcow2,d3p1'];
const VIF_SEEDS = ['mac=00:16:3E:74:3d:76,model=rtl8139,bridge=xenbr0', 'rate=1MB/s@20ms,ip=10.0.0.1,mtu=1500,devid=2',
    'trusted, vifname=web0,type=ioemu,netdev=eth0'];
const ALPHABET = [...'\'"[],;=+#\n\\ \tabcxyz_.019-:/@$()', '\r', '\0', '\u00e9', '\u{1f600}', '\ufeff', '0x', '+=',
    '\\x', 'name', '[[', ']]', ',,'];
function mutate(r, s, seeds) {
    const pick = (xs) => xs[Math.floor(r() * xs.length)];
    const at = () => Math.floor(r() * (s.length + 1));
    for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
        const i = at();
        const j = Math.min(s.length, i + Math.floor(r() * 8));
        switch (Math.floor(r() * 6)) {
            case 0:
                s = s.slice(0, i) + pick(ALPHABET) + s.slice(i);
                break;
            case 1:
                s = s.slice(0, i) + s.slice(j);
                break;
            case 2:
                s = s.slice(0, i) + s.slice(i, j).repeat(1 + Math.floor(r() * 3)) + s.slice(i);
                break;
            case 3:
                s = s.slice(0, i);
                break;
            case 4: {
                const o = pick(seeds);
                const k = Math.floor(r() * o.length);
                s = s.slice(0, i) + o.slice(k, k + 20) + s.slice(j);
                break;
            }
            default: s = s.slice(0, i) + String.fromCharCode(Math.floor(r() * 0x180)) + s.slice(j);
        }
    }
    return s;
}
function randomText(r, max) {
    let s = '';
    for (let n = Math.floor(r() * max); n > 0; n--)
        s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    return s;
}
/** Runs parse on count inputs; each must return or throw an instance of allowed. */
function fuzz(name, seed, count, seeds, parse, allowed) {
    const r = rng(seed);
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < count; i++) {
        const input = r() < 0.8 ? mutate(r, seeds[i % seeds.length], seeds) : randomText(r, 80);
        try {
            parse(input);
            ok++;
        }
        catch (e) {
            if (!(e instanceof allowed))
                assert.fail(`${name} threw ${String(e)} on ${JSON.stringify(input)}`);
            refused++;
        }
    }
    return { ok, refused };
}
test('xl.cfg parser: 4000 mutated and random texts return or throw ConfigError', () => {
    const xl = fuzz('parseXlCfg', 0x5eed, 2000, SEEDS, (s) => {
        for (const setting of parseXlCfg(s, 'fuzz.cfg').settings.values()) {
            assert.ok(setting.pos.line >= 1 && setting.pos.column >= 1 && setting.valuePos.line >= setting.pos.line);
        }
    }, ConfigError);
    const dom = fuzz('parseDomainConfig', 0xc0ffee, 2000, SEEDS, (s) => parseDomainConfig(s, 'fuzz.cfg'), ConfigError);
    // The mutations must exercise both outcomes, or the fuzz proves little.
    assert.ok(xl.ok > 100 && xl.refused > 100, JSON.stringify(xl));
    assert.ok(dom.ok > 20 && dom.refused > 100, JSON.stringify(dom));
});
test('disk and vif spec parsers: 2000 inputs each return or throw their own error', () => {
    const disk = fuzz('parseDiskSpec', 0xd15c, 2000, DISK_SEEDS, parseDiskSpec, DiskSpecError);
    const vif = fuzz('parseVifSpec', 0x0f1f, 2000, VIF_SEEDS, parseVifSpec, VifSpecError);
    assert.ok(disk.ok > 100 && disk.refused > 100, JSON.stringify(disk));
    assert.ok(vif.ok > 100 && vif.refused > 100, JSON.stringify(vif));
});
// No clock in the assertions (a loaded machine is slow, not wrong): a quadratic parser needs
// hours on these half-megabyte inputs, so the test's timeout is what catches it.
test('large hostile inputs are handled in linear time', { timeout: 60_000 }, () => {
    const cases = [
        `a = [ ${'1, '.repeat(200_000)}]`,
        `a = "${'x'.repeat(500_000)}"`,
        `${'a = 1; '.repeat(100_000)}`,
        `a = ${'['.repeat(500_000)}`,
        `a = "${'\\n'.repeat(200_000)}`,
        `${'# comment\n'.repeat(100_000)}a = [`,
        `a = [${'\n'.repeat(300_000)}`,
        `${'x'.repeat(500_000)} = 1`,
    ];
    for (const text of cases) {
        try {
            parseXlCfg(text, 'big.cfg');
        }
        catch (e) {
            assert.ok(e instanceof ConfigError, String(e));
        }
    }
    assert.throws(() => parseDiskSpec(`${'x'.repeat(200_000)},${','.repeat(200_000)}`), DiskSpecError);
    assert.throws(() => parseDiskSpec(`/t,,xvd${'a'.repeat(200_000)}`), DiskSpecError);
    assert.throws(() => parseVifSpec(`${'bridge=b,'.repeat(50_000)}`), VifSpecError);
});
//# sourceMappingURL=fuzz.test.js.map