// Typed domain configuration from xl.cfg text and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { isXenError } from '../../../src/errors.js';
import { DEFAULT_MEMORY_MIB, domainNameProblem, loadDomainConfig, MAX_CONFIG_BYTES, parseDomainConfig, } from '../../../src/toolstack/domconfig.js';
import { hostLimits } from '../../../src/toolstack/limits.js';
import { ConfigError } from '../../../src/toolstack/xlcfg.js';
const FILE = '/etc/xen/guest.cfg';
const MINIMAL = 'name = "guest"\nkernel = "guest.js"\n';
function parse(extra) {
    return parseDomainConfig(MINIMAL + extra, FILE);
}
function refuses(text, where, key, what) {
    assert.throws(() => parseDomainConfig(text, FILE), (e) => {
        assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
        assert.ok(e.message.startsWith(`${FILE}:${where}: ${key}: `), e.message);
        assert.equal(e.key, key);
        assert.match(e.reason, what);
        return true;
    });
}
test("a minimal configuration takes xl's defaults", () => {
    assert.deepEqual(parseDomainConfig(MINIMAL, FILE), {
        config: {
            name: 'guest', kernel: '/etc/xen/guest.js', memory: DEFAULT_MEMORY_MIB, maxmem: DEFAULT_MEMORY_MIB, vcpus: 1,
            onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy', onWatchdog: 'destroy', onSoftReset: 'soft-reset',
            disks: [], vifs: [],
        },
        warnings: [],
    });
    assert.equal(DEFAULT_MEMORY_MIB, 32);
});
test('a full configuration', () => {
    const { config, warnings } = parseDomainConfig(`
name = "web-1"
uuid = "6B2F7C3E-0D4A-4C8B-9E5F-1A2B3C4D5E6F"
kernel = "/opt/guests/web.js"
memory = 256
maxmem = "512"
vcpus = 1
cmdline = "port=80"
on_poweroff = "preserve"; on_reboot = "rename-restart"; on_crash = "coredump-restart"
on_watchdog = "coredump-destroy"; on_soft_reset = "restart"
disk = [ '/srv/web.vhd,vhd,xvda,w', 'format=raw,vdev=xvdb,access=ro,target=/srv/data,v2.img' ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', 'devid=5', '' ]
max_grant_frames = 32
max_maptrack_frames = 0
max_event_channels = 4095
`, FILE);
    assert.deepEqual(warnings, []);
    assert.equal(config.name, 'web-1');
    assert.equal(config.uuid, '6b2f7c3e-0d4a-4c8b-9e5f-1a2b3c4d5e6f');
    assert.equal(config.kernel, '/opt/guests/web.js');
    assert.equal(config.memory, 256);
    assert.equal(config.maxmem, 512);
    assert.equal(config.cmdline, 'port=80');
    assert.deepEqual([config.onPoweroff, config.onReboot, config.onCrash, config.onWatchdog, config.onSoftReset], ['preserve', 'rename-restart', 'coredump-restart', 'coredump-destroy', 'restart']);
    assert.deepEqual(config.disks.map((d) => [d.target, d.format, d.devid, d.access]), [['/srv/web.vhd', 'vhd', 51712, 'rw'], ['/srv/data,v2.img', 'raw', 51728, 'ro']]);
    assert.deepEqual(config.vifs.map((v) => [v.devid, v.mac, v.bridge]), [[0, '00:16:3e:00:00:01', 'xenbr0'], [5, undefined, undefined], [2, undefined, undefined]]);
    assert.deepEqual([config.maxGrantFrames, config.maxMaptrackFrames, config.maxEventChannels], [32, 0, 4095]);
});
test('kernel is resolved from the directory of the config file', () => {
    assert.equal(parseDomainConfig('name="g"\nkernel="../k/g.js"', '/a/b/c.cfg').config.kernel, '/a/k/g.js');
    assert.equal(parseDomainConfig('name="g"\nkernel="/abs.js"', 'rel/c.cfg').config.kernel, '/abs.js');
    assert.equal(parseDomainConfig('name="g"\nkernel="g.js"', 'rel/c.cfg').config.kernel, join(process.cwd(), 'rel/g.js'));
});
test('cmdline, root and extra combine as in xl', () => {
    assert.equal(parse('extra = "a b"').config.cmdline, 'a b');
    assert.equal(parse('root = "/dev/xvda1"').config.cmdline, 'root=/dev/xvda1');
    assert.equal(parse('root = "/dev/xvda1"\nextra = "ro"').config.cmdline, 'root=/dev/xvda1 ro');
    assert.equal(parse('extra = ""').config.cmdline, '');
    const both = parse('extra = "x"\ncmdline = "y"');
    assert.equal(both.config.cmdline, 'y');
    assert.deepEqual(both.warnings, [`${FILE}:4: warning: ignoring root= and extra= in favour of cmdline=`]);
});
test('keys this version does not read are warnings, one per key with its line', () => {
    const { warnings } = parse('type = "pvh"\n\nbootloader = "pygrub"\ntype = "pv"\nvcpus = 1\n');
    assert.deepEqual(warnings, [
        `${FILE}:5: warning: 'bootloader' is not supported by this version and is ignored`,
        `${FILE}:6: warning: 'type' is not supported by this version and is ignored`,
    ]);
});
test('name: required, validated', () => {
    refuses('kernel = "k"', '1:1', 'name', /no name/);
    refuses('name = ""\nkernel="k"', '1:8', 'name', /must not be empty/);
    refuses('name = "123"\nkernel="k"', '1:8', 'name', /only digits.*domain id/);
    refuses('name = "a/b"\nkernel="k"', '1:8', 'name', /contains '\/'/);
    refuses('name = "a\\tb"\nkernel="k"', '1:8', 'name', /control character/);
    refuses('name = 7\nkernel="k"', '1:8', 'name', /expected a quoted string, found the number 7/);
    refuses('name = ["a"]\nkernel="k"', '1:8', 'name', /found a list/);
    assert.equal(domainNameProblem('Web_1.example-2'), undefined);
    assert.equal(domainNameProblem('0x1'), undefined);
    assert.match(domainNameProblem('\u00e9'.repeat(2026)) ?? '', /^4052 bytes is too long: this host takes at most 4050 bytes$/);
});
test('kernel: required, a non-empty string', () => {
    refuses('name = "g"', '1:1', 'kernel', /no kernel given/);
    refuses('name = "g"\nkernel = ""', '2:10', 'kernel', /must not be empty/);
    refuses('name = "g"\nkernel = 1', '2:10', 'kernel', /quoted string/);
});
test('uuid is checked and made lowercase', () => {
    refuses(`${MINIMAL}uuid = "not-a-uuid"`, '3:8', 'uuid', /is not a UUID/);
    refuses(`${MINIMAL}uuid = "6b2f7c3e0d4a4c8b9e5f1a2b3c4d5e6f"`, '3:8', 'uuid', /is not a UUID/);
    refuses(`${MINIMAL}uuid = "6b2f7c3e-0d4a-4c8b-9e5f-1a2b3c4d5e6g"`, '3:8', 'uuid', /is not a UUID/);
});
test('memory and maxmem: positive integers in MiB, maxmem at least memory', () => {
    assert.equal(parse('memory = 0x100').config.memory, 256);
    assert.equal(parse('memory = "0400"').config.memory, 256);
    assert.deepEqual([parse('memory = 64').config.maxmem, parse('maxmem = 64').config.memory], [64, 32]);
    refuses(`${MINIMAL}memory = 0`, '3:10', 'memory', /0 is out of range: this host can give an integer \(MiB\) from 16 to/);
    refuses(`${MINIMAL}memory = "lots"`, '3:10', 'memory', /expected an integer \(MiB\).*found the string "lots"/);
    refuses(`${MINIMAL}memory = "64M"`, '3:10', 'memory', /found the string "64M"/);
    refuses(`${MINIMAL}memory = [64]`, '3:10', 'memory', /found a list/);
    refuses(`${MINIMAL}memory = 8796093022208`, '3:10', 'memory', /out of range/);
    refuses(`${MINIMAL}memory = 128\nmaxmem = 64`, '4:10', 'maxmem', /maxmem \(64 MiB\) is less than memory \(128 MiB\)/);
});
test('vcpus and maxvcpus: only 1 in this version', () => {
    assert.equal(parse('vcpus = 1\nmaxvcpus = 1').config.vcpus, 1);
    refuses(`${MINIMAL}vcpus = 2`, '3:9', 'vcpus', /2 vCPUs requested.*exactly one vCPU.*vcpus = 1/);
    refuses(`${MINIMAL}maxvcpus = 4`, '3:12', 'maxvcpus', /4 vCPUs/);
    refuses(`${MINIMAL}vcpus = 0`, '3:9', 'vcpus', /0 vCPUs/);
});
test('shutdown actions', () => {
    refuses(`${MINIMAL}on_crash = "reboot"`, '3:12', 'on_crash', /unknown action 'reboot': use one of destroy, restart/);
    refuses(`${MINIMAL}on_reboot = 1`, '3:13', 'on_reboot', /quoted string/);
});
test('grant, maptrack and event-channel limits are bounded', () => {
    refuses(`${MINIMAL}max_grant_frames = 0`, '3:20', 'max_grant_frames', /out of range/);
    refuses(`${MINIMAL}max_maptrack_frames = 2147483648`, '3:23', 'max_maptrack_frames', /out of range/);
    refuses(`${MINIMAL}max_event_channels = 4096`, '3:22', 'max_event_channels', /from 3 to 4095/);
});
test('cpu_weight: the credit weight, an integer from 1 to 65535; absent when not given', () => {
    assert.equal(parse('cpu_weight = 512').config.cpuWeight, 512);
    assert.equal(parse('cpu_weight = "0x100"').config.cpuWeight, 256);
    assert.equal(parse('cpu_weight = 1').config.cpuWeight, 1);
    assert.equal(parse('cpu_weight = 65535').config.cpuWeight, 65535);
    assert.deepEqual(parse('cpu_weight = 512').warnings, [], 'a key this version reads');
    assert.equal('cpuWeight' in parseDomainConfig(MINIMAL, FILE).config, false);
    refuses(`${MINIMAL}cpu_weight = 0`, '3:14', 'cpu_weight', /^0 is out of range: expected an integer from 1 to 65535$/);
    refuses(`${MINIMAL}cpu_weight = 65536`, '3:14', 'cpu_weight', /^65536 is out of range: expected an integer from 1 to 65535$/);
    refuses(`${MINIMAL}vcpus = 1\n  cpu_weight = "heavy"`, '4:16', 'cpu_weight', /expected an integer from 1 to 65535, found the string "heavy"/);
    refuses(`${MINIMAL}cpu_weight = [256]`, '3:14', 'cpu_weight', /found a list/);
});
test('driver_domain: xl\'s boolean, 0 or 1; absent or 0 leaves it out', () => {
    assert.equal(parse('driver_domain = 1').config.driverDomain, true);
    assert.equal(parse('driver_domain = "1"').config.driverDomain, true);
    assert.equal('driverDomain' in parse('driver_domain = 0').config, false);
    assert.deepEqual(parse('driver_domain = 1').warnings, [], 'a key this version reads');
    refuses(`${MINIMAL}driver_domain = 2`, '3:17', 'driver_domain', /^2 is out of range: expected an integer from 0 to 1$/);
    refuses(`${MINIMAL}driver_domain = "yes"`, '3:17', 'driver_domain', /found the string "yes"/);
});
test('disk and vif entries: errors point at the entry', () => {
    refuses(`${MINIMAL}disk = [ '/a,,xvda',\n  '/b,,xvdz0' ]`, '4:3', 'disk', /entry 1 '\/b,,xvdz0': invalid vdev 'xvdz0'/);
    refuses(`${MINIMAL}disk = [ '/a,,xvda', '/b,,d0p0' ]`, '3:22', 'disk', /entry 1: vdev d0p0 \(device 51712\) is already used by entry 0/);
    refuses(`${MINIMAL}disk = '/a,,xvda'`, '3:8', 'disk', /expected a list/);
    refuses(`${MINIMAL}disk = [ '/a,,xvda', 5 ]`, '3:22', 'disk', /entry 1 must be a quoted string, found the number 5/);
    refuses(`${MINIMAL}vif = [ 'bridge=a', 'mac=1' ]`, '3:21', 'vif', /entry 1 'mac=1': mac '1' is not six/);
    refuses(`${MINIMAL}vif = [ 'devid=1', '' ]`, '3:20', 'vif', /entry 1: devid 1 is already used by entry 0/);
});
test('syntax errors come through as ConfigErrors', () => {
    assert.throws(() => parseDomainConfig('name = "g"\nkernel = k', FILE), (e) => e instanceof ConfigError && e.message === `${FILE}:2:10: bare word 'k' is not a value: quote strings ("k"); ` +
        'booleans are written 0 or 1' && e.key === undefined);
});
test('loadDomainConfig reads a file; a missing, oversized or non-UTF-8 file is a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xenode-domconfig-'));
    try {
        const path = join(dir, 'g.cfg');
        await writeFile(path, `${MINIMAL}colour = "blue"\n`);
        const { config, warnings } = await loadDomainConfig(path);
        assert.equal(config.kernel, join(dir, 'guest.js'));
        assert.deepEqual(warnings, [`${path}:3: warning: 'colour' is not supported by this version and is ignored`]);
        const missing = join(dir, 'nope.cfg');
        await assert.rejects(loadDomainConfig(missing), (e) => isXenError(e, 'ENOENT') && e.message === `ENOENT: configuration file ${missing} does not exist`);
        await assert.rejects(loadDomainConfig(dir), (e) => isXenError(e, 'EISDIR') && e.message.includes(dir));
        const big = join(dir, 'big.cfg');
        await writeFile(big, `${MINIMAL}${'#'.repeat(MAX_CONFIG_BYTES)}\n`);
        await assert.rejects(loadDomainConfig(big), (e) => isXenError(e, 'E2BIG') && e.message.includes(big));
        const latin1 = join(dir, 'latin1.cfg');
        await writeFile(latin1, Buffer.concat([Buffer.from(`${MINIMAL}extra = "caf`), Buffer.from([0xe9]), Buffer.from('"\n')]));
        await assert.rejects(loadDomainConfig(latin1), (e) => e instanceof ConfigError && e.message === `${latin1}:3:13: the file is not valid UTF-8: save it as UTF-8`);
    }
    finally {
        await rm(dir, { recursive: true, force: true });
    }
});
test('what the host cannot give is refused when parsed, naming the key and the bound', () => {
    const limits = { ...hostLimits(), memoryMiB: { min: 16, max: 8192 } };
    const refusesOn = (text, key, what) => assert.throws(() => parseDomainConfig(MINIMAL + text, FILE, limits), (e) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.key, key);
        assert.match(e.reason, what);
        return true;
    });
    assert.equal(parseDomainConfig(`${MINIMAL}memory = 8192`, FILE, limits).config.memory, 8192);
    refusesOn('memory = 65536', 'memory', /^65536 is out of range: this host can give an integer \(MiB\) from 16 to 8192$/);
    refusesOn('memory = 4194304', 'memory', /from 16 to 8192/);
    refusesOn('memory = 15', 'memory', /from 16 to 8192/);
    refusesOn('maxmem = 8193', 'maxmem', /from 16 to 8192/);
    refusesOn('max_grant_frames = 1025', 'max_grant_frames', /from 1 to 1024$/);
    refusesOn('max_maptrack_frames = 16385', 'max_maptrack_frames', /from 0 to 16384$/);
    refusesOn('max_event_channels = 2', 'max_event_channels', /from 3 to 4095$/);
    refusesOn(`cmdline = "${'c'.repeat(1024)}"`, 'cmdline', /^1024 bytes is too long: this host takes at most 1023 bytes$/);
    refusesOn(`extra = "${'e'.repeat(1000)}"\nroot = "${'r'.repeat(30)}"`, 'extra', /1036-byte command line: this host takes at most 1023 bytes/);
    assert.equal(parseDomainConfig(`${MINIMAL}cmdline = "${'c'.repeat(1023)}"`, FILE, limits).config.cmdline?.length, 1023);
    assert.throws(() => parseDomainConfig(`name = "${'n'.repeat(4051)}"\nkernel = "k.js"\n`, FILE, limits), (e) => e instanceof ConfigError && e.key === 'name' && /4051 bytes is too long: this host takes at most 4050 bytes/.test(e.reason));
    assert.equal(parseDomainConfig(`name = "${'\u00e9'.repeat(2025)}"\nkernel = "k.js"\n`, FILE, limits).config.name.length, 2025);
});
test("the host's memory bound is its RAM, and never more than one domain's memory buffer can hold", () => {
    const { memoryMiB } = hostLimits();
    assert.equal(memoryMiB.min, 16);
    assert.ok(memoryMiB.max <= Math.floor(totalmem() / 2 ** 20) && memoryMiB.max < 4 * 4096, String(memoryMiB.max));
});
test('disk targets: a bare name stays for the images directory, a relative path is anchored at the config file', () => {
    const disks = parseDomainConfig(`${MINIMAL}disk = [ 'vdev=xvda,target=a.img', 'vdev=xvdb,target=../x/b.img', 'vdev=xvdc,target=/abs.img', 'vdev=xvdd,target=ram:4M' ]`, '/a/b/c.cfg').config.disks;
    assert.deepEqual(disks.map((d) => d.target), ['a.img', '/a/x/b.img', '/abs.img', 'ram:4M']);
});
test("forward: xenode's own key for host port forwards, parsed without warnings; bad and repeated entries point at the entry", () => {
    const { config, warnings } = parse("vif = [ '' ]\nforward = [ 'tcp:8080:80', 'udp:0.0.0.0:5353:53' ]\n");
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.forwards, [
        { proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 },
        { proto: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestPort: 53 },
    ]);
    assert.equal(parse('').config.forwards, undefined);
    refuses(`${MINIMAL}forward = [ 'tcp:8080:80', 'tcp:99999:80' ]\n`, '3:28', 'forward', /entry 1: forward 'tcp:99999:80': the host port/);
    refuses(`${MINIMAL}forward = [ 'tcp:8080:80', 'tcp:8080:81' ]\n`, '3:28', 'forward', /entry 1: tcp 127\.0\.0\.1:8080 is already forwarded by entry 0/);
    refuses(`${MINIMAL}forward = 'tcp:8080:80'\n`, '3:11', 'forward', /expected a list/);
});
//# sourceMappingURL=domconfig.test.js.map