import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { SourceLock } from '../../../src/network/locking.js';
import { parseMac } from '../../../src/network/mac.js';

const MAC = '00:16:3e:00:00:01';
const macBytes = (m: string) => m.split(':').map((b) => Number.parseInt(b, 16));

/** An Ethernet frame of `type` with `l3` as its payload, optionally VLAN-tagged. */
function frame(type: number, l3: number[], tag?: number): Uint8Array {
  const head = [...macBytes('ff:ff:ff:ff:ff:ff'), ...macBytes(MAC), ...(tag === undefined ? [] : [0x81, 0x00, tag >> 8, tag & 0xff]), type >> 8, type & 0xff];
  return Uint8Array.from([...head, ...l3]);
}
const ipv4 = (src: number[]) => frame(0x0800, [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, ...src, 10, 0, 0, 99]);
const arp = (sha: string, spa: number[]) => frame(0x0806, [0, 1, 8, 0, 6, 4, 0, 2, ...macBytes(sha), ...spa, 0, 0, 0, 0, 0, 0, 10, 0, 0, 99]);
const ipv6 = (src: number[]) => frame(0x86dd, [0x60, 0, 0, 0, 0, 0, 17, 64, ...src, ...Array(16).fill(0)]);
const V6 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

test('unlocked needs no checks; a mode or an address that is not one is EINVAL', () => {
  assert.equal(SourceLock.of({ mode: 'unlocked' }), null);
  for (const bad of [{ mode: 'open' }, { mode: 'locked', ipv4Allowed: ['10.0.0.256'] }, { mode: 'locked', ipv6Allowed: ['fd00::1::2'] }, { mode: 'locked', ipv4Allowed: ['fd00::1'] }]) {
    assert.throws(() => SourceLock.of(bad as never), (e: unknown) => isXenError(e, 'EINVAL'), JSON.stringify(bad));
  }
});

test('locked: IPv4, ARP and IPv6 only from the allowed addresses, nothing else, whatever the VLAN tag', () => {
  const lock = SourceLock.of({ mode: 'locked', ipv4Allowed: ['10.0.0.2', '192.168.1.200'], ipv6Allowed: ['fd00::2', '::ffff:10.0.0.2'] })!;
  const mac = parseMac(MAC);
  const ok = (f: Uint8Array, l3 = 14) => lock.allows(f, l3, mac);
  assert.equal(ok(ipv4([10, 0, 0, 2])), true);
  assert.equal(ok(ipv4([192, 168, 1, 200])), true);
  assert.equal(ok(ipv4([10, 0, 0, 3])), false);
  assert.equal(ok(ipv4([10, 0, 0, 2]).subarray(0, 14 + 19)), false, 'a truncated header');
  assert.equal(ok(arp(MAC, [10, 0, 0, 2])), true);
  assert.equal(ok(arp(MAC, [10, 0, 0, 9])), false, 'a sender IP not allowed');
  assert.equal(ok(arp('00:16:3e:00:00:02', [10, 0, 0, 2])), false, "another MAC's ARP");
  assert.equal(ok(ipv6(V6)), true);
  assert.equal(ok(ipv6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2])), true, 'an IPv4-mapped address');
  assert.equal(ok(ipv6([...V6.slice(0, 15), 3])), false);
  assert.equal(ok(frame(0x88b5, Array(46).fill(0))), false, 'another protocol');
  const tagged = ipv4([10, 0, 0, 2]);
  assert.equal(ok(frame(0x0800, [...tagged.subarray(14)], 20), 18), true);
  assert.equal(ok(frame(0x0800, [...ipv4([10, 0, 0, 4]).subarray(14)], 20), 18), false);
});

test('locked with no addresses lets nothing through; disabled nothing at all', () => {
  const none = SourceLock.of({ mode: 'locked' })!;
  assert.equal(none.allows(ipv4([10, 0, 0, 2]), 14, null), false);
  assert.equal(none.allows(ipv6(V6), 14, null), false);
  const off = SourceLock.of({ mode: 'disabled', ipv4Allowed: ['10.0.0.2'] })!;
  assert.equal(off.disabled, true);
  assert.equal(off.allows(ipv4([10, 0, 0, 2]), 14, null), false);
});
