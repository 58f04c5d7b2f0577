// Network interface specifications (xl-network-configuration(5)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVifSpec, randomVifMac, VifSpecError, XEN_OUI } from '../../../src/toolstack/vifspec.js';

function refuses(spec: string, what: RegExp): void {
  assert.throws(() => parseVifSpec(spec), (e: unknown) => {
    assert.ok(e instanceof VifSpecError, `not a VifSpecError: ${String(e)}`);
    assert.equal(e.spec, spec);
    assert.match(e.reason, what);
    return true;
  });
}

test("the man page's examples", () => {
  assert.deepEqual(parseVifSpec('mac=00:16:3E:74:3d:76,model=rtl8139,bridge=xenbr0'),
    { mac: '00:16:3e:74:3d:76', model: 'rtl8139', bridge: 'xenbr0' });
  assert.deepEqual(parseVifSpec('mac=00:16:3E:74:34:32'), { mac: '00:16:3e:74:34:32' });
  assert.deepEqual(parseVifSpec(''), {});
});

test('every key', () => {
  assert.deepEqual(parseVifSpec('mac=02:00:00:00:00:01, bridge=br1,backend=netdom,vifname=web0,model=e1000,' +
    'type=ioemu,ip=10.0.0.2 fd00::2/64,rate=10Mb/s,mtu=9000,script=vif-route,gatewaydev=eth0,devid=3,untrusted,locking-mode=unlocked'), {
    mac: '02:00:00:00:00:01', bridge: 'br1', backend: 'netdom', vifname: 'web0', model: 'e1000', type: 'ioemu',
    ip: '10.0.0.2 fd00::2/64', rate: { bytesPerInterval: 62500, intervalUsecs: 50000 }, mtu: 9000,
    script: 'vif-route', gatewaydev: 'eth0', devid: 3, trusted: false, lockingMode: 'unlocked',
  });
  assert.equal(parseVifSpec('locking-mode=locked').lockingMode, 'locked');
  assert.deepEqual(parseVifSpec('locking-mode=disabled,ipv4-allowed= 10.0.0.2  10.0.0.3,ipv6-allowed=fd00::2'),
    { lockingMode: 'disabled', ipv4Allowed: '10.0.0.2 10.0.0.3', ipv6Allowed: 'fd00::2' });
  assert.equal(parseVifSpec('netdev=eth1').gatewaydev, 'eth1');
  assert.equal(parseVifSpec('trusted').trusted, true);
  assert.equal(parseVifSpec('script=/etc/xen/scripts/vif-x=y').script, '/etc/xen/scripts/vif-x=y');
});

test('empty items and spaces before items are skipped', () => {
  assert.deepEqual(parseVifSpec(',, bridge=b,,  mtu=1500,'), { bridge: 'b', mtu: 1500 });
});

test('rates as xl computes them: credit per interval, default interval 50ms', () => {
  const rate = (r: string) => parseVifSpec(`rate=${r}`).rate;
  assert.deepEqual(rate('10Mb/s'), { bytesPerInterval: 62500, intervalUsecs: 50000 });
  assert.deepEqual(rate('250KB/s'), { bytesPerInterval: 12500, intervalUsecs: 50000 });
  assert.deepEqual(rate('1MB/s@20ms'), { bytesPerInterval: 20000, intervalUsecs: 20000 });
  assert.deepEqual(rate('1GB/s@1s'), { bytesPerInterval: 1e9, intervalUsecs: 1e6 });
  assert.deepEqual(rate('100B/s@2'), { bytesPerInterval: 200, intervalUsecs: 2e6 });
  assert.deepEqual(rate('7b/s@100us'), { bytesPerInterval: 0, intervalUsecs: 100 });
  assert.deepEqual(rate('4294967295GB/s@1us'), { bytesPerInterval: 4294967295000, intervalUsecs: 1 });
  for (const bad of ['', '10', '10MB', '10mb/s', '10TB/s', '-1B/s', '0B/s', '4294967296B/s', '1MB/s@', '1MB/s@0ms',
    '1MB/s@5h', '1MB/s@4295s', '1MB/s@20ms@1s', '4294967295GB/s@4294967295us']) {
    assert.throws(() => parseVifSpec(`rate=${bad}`), VifSpecError, bad);
  }
});

test('MACs: six two-digit hex bytes, unicast, not zero', () => {
  refuses('mac=00:16:3e:74:3d', /not six two-digit hex bytes/);
  refuses('mac=00-16-3e-74-3d-76', /not six/);
  refuses('mac=0:16:3e:74:3d:76', /not six/);
  refuses('mac=00:16:3e:74:3d:7g', /not six/);
  refuses('mac=01:00:5e:00:00:01', /multicast/);
  refuses('mac=ff:ff:ff:ff:ff:ff', /multicast/);
  refuses('mac=00:00:00:00:00:00', /not an address/);
});

test('a generated MAC is in Xen OUI, unicast, with byte 3 below 0x80', () => {
  assert.deepEqual(XEN_OUI, [0x00, 0x16, 0x3e]);
  assert.equal(randomVifMac(new Uint8Array([0xff, 0xab, 0x01])), '00:16:3e:7f:ab:01');
  for (let i = 0; i < 100; i++) {
    const mac = randomVifMac();
    assert.match(mac, /^00:16:3e:[0-7][0-9a-f](:[0-9a-f]{2}){2}$/);
    assert.deepEqual(parseVifSpec(`mac=${mac}`).mac, mac);
  }
});

test('what is wrong is said', () => {
  refuses('bridge', /'bridge' is not KEY=VALUE/);
  refuses('colour=red', /unknown key 'colour'/);
  refuses('accel=x', /unknown key 'accel'/);
  refuses('bridge=', /bridge= needs a value/);
  refuses('bridge=a,bridge=b', /bridge is given twice/);
  refuses('netdev=a,gatewaydev=b', /gatewaydev \(netdev\) is given twice/);
  refuses('trusted,untrusted', /given twice/);
  refuses('type=virtio', /unknown type 'virtio'/);
  refuses('locking-mode=open', /unknown locking-mode 'open': use locked, unlocked or disabled/);
  refuses('ipv4-allowed=10.0.0.2 fd00::2', /ipv4-allowed: 'fd00::2' is not an IPv4 address/);
  refuses('ipv6-allowed=fd00::2/64', /ipv6-allowed: 'fd00::2\/64' is not an IPv6 address/);
  refuses('locking-mode=locked,locking-mode=unlocked', /locking-mode is given twice/);
  refuses('mtu=67', /mtu must be a decimal integer from 68 to 65535/);
  refuses('mtu=65536', /mtu/);
  refuses('mtu=0x5dc', /mtu/);
  refuses('mtu=01500', /mtu/);
  refuses('devid=-1', /devid/);
  refuses('devid=2147483648', /devid/);
  refuses('vifname=a-very-long-ifname', /at most 15 characters/);
  refuses('vifname=a b', /no spaces/);
  refuses('vifname=a/b', /'\/'/);
  refuses('ip=10.0.0.256', /ip '10\.0\.0\.256'/);
  refuses('ip=10.0.0.1/33', /ip '10\.0\.0\.1\/33'/);
  refuses('ip=fd00::1/129', /not an IPv4 or IPv6/);
  refuses('ip=host.example', /not an IPv4 or IPv6/);
  refuses('ip=10.0.0.1/', /not an IPv4 or IPv6/);
});
