// Disk specifications (xl-disk-configuration(5)) and virtual device numbers (xen-vbd-interface(7)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiskSpecError, parseDiskSpec, vdevToDevid } from '../../../src/toolstack/diskspec.js';
function refuses(spec, what) {
    assert.throws(() => parseDiskSpec(spec), (e) => {
        assert.ok(e instanceof DiskSpecError, `not a DiskSpecError: ${String(e)}`);
        assert.equal(e.spec, spec);
        assert.match(e.reason, what);
        assert.equal(e.message, `disk spec '${spec}': ${e.reason}`);
        return true;
    });
}
const PLAIN = {
    format: 'raw', access: 'rw', cdrom: false, specification: 'xen', directIoSafe: false, discard: true, trusted: true,
};
test("the man page's equivalent disk forms agree", () => {
    const volume = { ...PLAIN, target: '/dev/vg/guest-volume', vdev: 'hda', devid: 768 };
    for (const spec of [
        '/dev/vg/guest-volume,,hda',
        '/dev/vg/guest-volume,raw,hda,rw',
        'format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume',
        'raw:/dev/vg/guest-volume,hda,w',
    ])
        assert.deepEqual(parseDiskSpec(spec), volume, spec);
    const iso = { ...PLAIN, target: '/root/image.iso', vdev: 'hdc', devid: 5632, access: 'ro', cdrom: true };
    for (const spec of [
        '/root/image.iso,,hdc,cdrom',
        '/root/image.iso,,hdc,,cdrom',
        '/root/image.iso,raw,hdc,devtype=cdrom',
        'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso',
        'raw:/root/image.iso,hdc:cdrom,ro',
    ])
        assert.deepEqual(parseDiskSpec(spec), iso, spec);
});
test('an empty cdrom drive has no target and format empty', () => {
    for (const spec of [',hdc:cdrom,r', 'vdev=hdc,cdrom', ',,hdc,cdrom']) {
        const d = parseDiskSpec(spec);
        assert.equal(d.target, undefined, spec);
        assert.equal(d.format, 'empty', spec);
        assert.equal(d.access, 'ro', spec);
        assert.equal(d.devid, 5632, spec);
    }
});
test('target= takes the rest of the spec, commas, colons and trailing spaces included', () => {
    assert.equal(parseDiskSpec('vdev=xvda, target=/a,b:c=d ').target, '/a,b:c=d ');
    assert.equal(parseDiskSpec(',,xvda,target=/x').target, '/x');
    assert.equal(parseDiskSpec('vdev=xvda,target=/x,').target, '/x');
});
test('keys, flags and formats', () => {
    const d = parseDiskSpec('backend=driver-dom,backendtype=qdisk,specification=virtio,script=block-iscsi,' +
        'direct-io-safe,no-discard,untrusted,grant_usage=1,/t.qcow2,qcow2,xvdb,ro');
    assert.deepEqual(d, {
        target: '/t.qcow2', format: 'qcow2', vdev: 'xvdb', devid: 51728, access: 'ro', cdrom: false,
        backend: 'driver-dom', backendtype: 'qdisk', specification: 'virtio', script: 'block-iscsi',
        directIoSafe: true, discard: false, trusted: false, grantUsage: true,
    });
    for (const f of ['raw', 'qcow', 'qcow2', 'vhd', 'qed'])
        assert.equal(parseDiskSpec(`/t,${f},xvda`).format, f);
    assert.equal(parseDiskSpec('/t,,xvda,r').access, 'ro');
    assert.equal(parseDiskSpec('/t,,xvda,').access, 'rw');
    assert.equal(parseDiskSpec('/t,,xvda,w,cdrom').access, 'ro', 'a cdrom is read-only whatever access says');
});
test('deprecated prefixes are stripped as xl strips them', () => {
    assert.equal(parseDiskSpec('phy:/dev/sdb,xvda,w').target, '/dev/sdb');
    assert.equal(parseDiskSpec('file:/img,xvda,w').target, '/img');
    const tap = parseDiskSpec('tap:aio:/img.vhd,xvda,r');
    assert.deepEqual([tap.target, tap.format, tap.access], ['/img.vhd', 'raw', 'ro']);
    assert.equal(parseDiskSpec('tap2:tapdisk:vhd:/img.vhd,xvda').format, 'vhd');
    assert.equal(parseDiskSpec('qcow2:/i,xvda').format, 'qcow2');
    const nbd = parseDiskSpec('nbd:host:1234,xvda');
    assert.deepEqual([nbd.script, nbd.target], ['block-nbd', 'host:1234']);
    refuses('foo:/x,xvda', /unknown deprecated prefix 'foo:'/);
});
test('whitespace before a parameter is ignored, whitespace after it is kept', () => {
    assert.equal(parseDiskSpec('  /t ,\traw,  xvda').target, '/t ');
    refuses('/t,,xvda,rw ', /unknown access 'rw '/);
});
test('what is wrong is said', () => {
    refuses('', /no vdev given/);
    refuses('/t', /no vdev given/);
    refuses('vdev=xvda', /no target given/);
    refuses('/t,,xvda,rw,more', /too many positional parameters at 'more'/);
    refuses('/t,vmdk,xvda', /unknown format 'vmdk'/);
    refuses('/t,,xvda,x', /unknown access 'x'/);
    refuses('/t,,xvda,devtype=floppy', /unknown devtype 'floppy'/);
    refuses('/t,,xvda,backendtype=nfs', /unknown backendtype 'nfs'/);
    refuses('/t,,xvda,specification=scsi', /unknown specification 'scsi'/);
    refuses('/t,,xvda,grant_usage=2', /grant_usage must be 0 or 1/);
    refuses('/t,,xvda,colour=red', /unknown parameter 'colour'/);
    refuses('/t,,xvda,colo', /COLO/);
    refuses('/t,,xvda,colo-host=h', /COLO/);
    refuses('/t,,xvda,=x', /bad disk syntax near '=x'/);
    refuses('/t,,xvda,hdc:floppy', /unknown access 'hdc:floppy'/);
    refuses(',hdc:floppy', /unknown device type 'floppy'/);
    refuses('/t,,xvdz0', /invalid vdev 'xvdz0'/);
    refuses('/t,,vda', /invalid vdev 'vda'/);
});
test('each parameter is given once, though an empty or identical value may repeat', () => {
    refuses('/t,,xvda,vdev=xvdb', /vdev is given twice \('xvda', then 'xvdb'\)/);
    refuses('/t,raw,xvda,format=qcow2', /format is given twice \(raw, then qcow2\)/);
    refuses('/t,,xvda,target=/u', /target is given twice/);
    refuses('/t,,xvda,discard,no-discard', /discard is given twice/);
    refuses('/t,,xvda,ro,access=rw', /access is given twice/);
    assert.equal(parseDiskSpec('/t,raw,xvda,format=raw').format, 'raw');
    assert.equal(parseDiskSpec(',,xvda,target=/u').target, '/u');
});
test('vdev numbers follow xen-vbd-interface(7)', () => {
    const cases = [
        ['xvda', 51712], ['xvdb', 51728], ['xvda1', 51713], ['xvdp15', (202 << 8) | (15 << 4) | 15],
        ['xvdq', (1 << 28) | (16 << 8)], ['xvda16', (1 << 28) | 16], ['xvdz', (1 << 28) | (25 << 8)],
        ['xvdaa', (1 << 28) | (26 << 8)], ['xvdtq37', (1 << 28) | (536 << 8) | 37], ['xvdb255', (1 << 28) | (1 << 8) | 255],
        ['d0', 51712], ['d0p0', 51712], ['d1p2', 51730], ['d536p37', (1 << 28) | (536 << 8) | 37],
        ['hda', 768], ['hdb', 832], ['hdc', 5632], ['hdd', 5696], ['hda1', 769], ['hdd63', 5759],
        ['sda', 2048], ['sdb3', 2067], ['sdp15', 2303],
        ['51712', 51712], ['0xca00', 51712], ['0145000', 51712], ['0', 0], ['2147483647', 0x7fffffff],
    ];
    for (const [vdev, n] of cases)
        assert.equal(vdevToDevid(vdev), n, vdev);
    for (const bad of ['', 'xvd', 'hd', 'sd', 'd', 'xvda0', 'xvda256', 'xvdA', 'hde', 'hda64', 'sdq', 'sda16', 'd1p',
        'd01p1', 'dp1', 'd1048576', 'd0p256', '2147483648', 'xvda-1', 'xvd1', 'hda01', 'fd0', ' xvda', 'xvda ',
        `xvd${'z'.repeat(100)}`, `xvda${'9'.repeat(400)}`]) {
        assert.equal(vdevToDevid(bad), undefined, bad);
    }
});
//# sourceMappingURL=diskspec.test.js.map