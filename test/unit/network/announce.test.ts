// The MAC announcement a migrated guest's vifs send: QEMU's announce-self RARP, byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { macAnnouncement } from '../../../src/network/announce.js';
import { parseMac } from '../../../src/network/mac.js';

test("the announcement is QEMU's announce_self_create frame: broadcast RARP request from the MAC, for the MAC, no IP addresses, 60 bytes", () => {
  const mac = [0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef];
  const f = macAnnouncement(parseMac('00:16:3e:ab:cd:ef'));
  const want = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...mac, 0x80, 0x35, // Ethernet: broadcast, from the MAC, ETH_P_RARP
    0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03, // Ethernet hardware, IPv4 protocol, lengths, reverse request
    ...mac, 0, 0, 0, 0, ...mac, 0, 0, 0, 0, // sender and target: the MAC, no IP
    ...new Array<number>(18).fill(0), // padding to the shortest frame
  ];
  assert.deepEqual([...f], want);
  // The top bit of a 48-bit MAC survives (no 32-bit arithmetic on the way).
  assert.deepEqual([...macAnnouncement(parseMac('fe:ff:ff:ff:ff:fe')).subarray(6, 12)], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xfe]);
});
