// The switch through the command layer, on a host daemon: `xenode bridge-link` to a VXLAN peer
// (a UDP socket of this test, on loopback), frames from it learned and listed by
// `xenode bridge-list`, and `xenode capture` to a file and to stdout, read by Debian's tshark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VXLAN_DEFAULT_VNI, vxlanEncap } from '../../src/network/vxlan.js';
import { ROOT, XENODE, xenode } from '../support/cli.js';
import { startDaemonRig } from '../support/host-daemon.js';
import { ethFrame } from '../support/switch.js';

const run = promisify(execFile);
const TSHARK = '/usr/bin/tshark';
const skip = existsSync(TSHARK) ? false : 'tshark not installed (apt-get install tshark)';
if (skip) console.log(`# skipping: ${skip}`);

const PEER_MAC = '02:00:00:00:00:99';

test('bridge-link, bridge-list and capture (to a file and to stdout) on a host daemon', { skip }, async (t) => {
  const rig = await startDaemonRig('capture');
  t.after(() => rig.close());
  const peer = createSocket('udp4');
  t.after(() => peer.close());
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', () => resolve()));
  const peerPort = peer.address().port;
  const linked = await xenode(['bridge-link', 'xenbr0', `127.0.0.1:${peerPort}`, '--local', '127.0.0.1:0'], { state: rig.stateDir });
  assert.equal(linked.code, 0, linked.stderr);
  const m = /vxlan0: xenbr0 linked to 127\.0\.0\.1:\d+ from 127\.0\.0\.1:(\d+), VNI 1048576/.exec(linked.stderr);
  assert.ok(m, linked.stderr);
  const hostPort = Number(m[1]);
  let sent = 0;
  const sendSome = () => {
    sent++;
    peer.send(vxlanEncap(ethFrame('ff:ff:ff:ff:ff:ff', PEER_MAC, { type: 0x0806, payload: new Uint8Array(46) }), VXLAN_DEFAULT_VNI), hostPort, '127.0.0.1');
    peer.send(vxlanEncap(ethFrame('ff:ff:ff:ff:ff:ff', PEER_MAC, { type: 0x88b5 }), VXLAN_DEFAULT_VNI + 20), hostPort, '127.0.0.1');
  };

  // To a file, through the API, while the peer sends.
  const file = join(rig.dir, 'br0.pcap');
  const capturing = rig.ts.call('capture', { target: 'xenbr0', file, count: 4 });
  const pump = setInterval(sendSome, 10);
  try {
    assert.deepEqual(await capturing, { frames: 4, bytes: 24 + 4 * 16 + 2 * 60 + 2 * 64, dropped: 0, end: 'count' });
  } finally {
    clearInterval(pump);
  }
  const { stdout: decoded } = await run(TSHARK, ['-n', '-r', file, '-T', 'fields', '-e', 'frame.protocols', '-e', 'vlan.id'], { timeout: 60_000 });
  assert.deepEqual(decoded.trim().split('\n').slice(0, 2), ['eth:ethertype:arp\t', 'eth:ethertype:vlan:ethertype:data\t20']);

  // To stdout, piped into tshark -r - by a shell, as a user types it (tshark's own start takes
  // seconds, and tens of them on a loaded machine: the bound is only against a hang).
  const pipeline = `"${process.execPath}" "${XENODE}" capture xenbr0 -c 3 | ${TSHARK} -n -r - -T fields -e frame.protocols`;
  const pump2 = setInterval(sendSome, 10);
  let piped: { stdout: string; stderr: string };
  try {
    piped = await run('/bin/sh', ['-c', pipeline], { cwd: ROOT, env: { ...process.env, XENODE_STATE_DIR: rig.stateDir }, timeout: 90_000 });
  } finally {
    clearInterval(pump2);
  }
  // tshark (as root) may print its warning with no newline before ours.
  assert.match(piped.stderr, /(^|[^0-9])3 packets captured$/m);
  const lines = piped.stdout.trim().split('\n');
  assert.equal(lines.length, 3, piped.stdout);
  for (const l of lines) assert.match(l, /^eth:ethertype:(arp|vlan:ethertype:data)$/);

  const list = await xenode(['bridge-list'], { state: rig.stateDir });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^xenbr0 +vxlan0 +- +all +any +\d+/m);
  assert.match(list.stdout, new RegExp(`^vxlan0 +20 +${PEER_MAC}`, 'm'));
  assert.match(list.stdout, /^vxlan0 +xenbr0 +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +1048576$/m);
  const json = JSON.parse((await xenode(['bridge-list', '--json'], { state: rig.stateDir })).stdout);
  assert.ok(json.bridges[0].counters.flooded >= 7 && sent >= 4);

  const unlinked = await xenode(['bridge-unlink', 'xenbr0', `127.0.0.1:${peerPort}`], { state: rig.stateDir });
  assert.equal(unlinked.code, 0, unlinked.stderr);
  const bad = await xenode(['capture', 'nosuchbr', '-w', join(rig.dir, 'x.pcap'), '-c', '1'], { state: rig.stateDir });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /ENODEV: no bridge or port named 'nosuchbr'/);
});
