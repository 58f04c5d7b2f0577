// Gratuitous ARP on every vif after a resume: a guest with a TCP/IP stack on each of two vifs
// (two bridges, static ip=) announces each address on its own bridge, as Linux's netfront does
// with netdev_notify_peers, both when it is resumed in place (xl save -c, a checkpoint) and when
// it is restored from a file (main runs afresh and configures its stacks again). Seen by a
// capture of each bridge started after the guest booted: an ARP request from the vif's MAC to
// broadcast whose sender and target address are both the vif's address (RFC 5227's announcement).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { restoreFile } from '../../src/migration/restore.js';
import { saveDomain } from '../../src/migration/save.js';
import { Capture } from '../../src/network/capture.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { MemorySink, readPcap } from '../support/switch.js';
import { hostForTests } from '../support/local-host.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/guests/', import.meta.url));
const VIFS = [
  { mac: '00:16:3e:6a:00:01', bridge: 'xenbr-garp0', ip: '10.9.0.5' },
  { mac: '00:16:3e:6a:00:02', bridge: 'xenbr-garp1', ip: '10.9.1.5' },
] as const;
const T = { timeout: 120_000 };
let host: Host;
let dir: string;
hostForTests('resume-arp', (h, d) => {
  host = h;
  dir = d;
});

/** The gratuitous ARP requests in a bridge's capture so far: [sender MAC, address]. */
function announcements(sink: MemorySink): string[] {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
  const out: string[] = [];
  for (const { data: f } of readPcap(sink.bytes()).records) {
    if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x06 || f[21] !== 1) continue; // ARP request
    const spa = f.subarray(28, 32).join('.');
    if (hex(f.subarray(0, 6)) === 'ff:ff:ff:ff:ff:ff' && spa === f.subarray(38, 42).join('.')) out.push(`${hex(f.subarray(22, 28))} ${spa}`);
  }
  return out;
}

/** Capture both bridges from now; resolves once each has its vif's announcement (bounded). */
function watchBridges(): { seen(): Promise<void>; stop(): void } {
  const sinks = VIFS.map((v) => {
    const sink = new MemorySink();
    const cap = new Capture(sink);
    host.switch.capture(v.bridge, cap);
    return { sink, cap };
  });
  return {
    async seen() {
      for (let i = 0; ; i++) {
        const got = sinks.map(({ sink }) => announcements(sink));
        if (VIFS.every((v, n) => got[n]!.includes(`${v.mac} ${v.ip}`))) {
          // Each bridge saw only its own vif's announcement.
          got.forEach((g, n) => assert.deepEqual([...new Set(g)], [`${VIFS[n]!.mac} ${VIFS[n]!.ip}`]));
          return;
        }
        if (i > 200) assert.fail(`no gratuitous ARP on every vif: ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      for (const { cap } of sinks) cap.stop();
    },
  };
}

test('a guest announces the address of every vif by gratuitous ARP after a checkpoint and after a restore', T, async () => {
  const kernel = join(FIXTURES, 'two-stacks.ts');
  const vif = VIFS.map((v) => `'mac=${v.mac},bridge=${v.bridge},ip=${v.ip}/24'`).join(', ');
  const { domain } = await host.create(parseDomainConfig(`name = "garp"\nkernel = "${kernel}"\nmemory = 32\nvif = [ ${vif} ]\n`, kernel).config);
  const ready = (domid: number) => host.xs.wait(`/local/domain/${domid}/data/ready`, (v) => v === '1', { timeout: 60_000 });
  await ready(domain.domid);

  // Resumed in place (xl save -c): the same stacks announce again.
  const checkpoint = watchBridges();
  try {
    await saveDomain(host, domain.domid, join(dir, 'garp-cp.save'), { checkpoint: true });
    assert.equal(domain.shutdownReason, null, 'a checkpoint leaves the guest running');
    await checkpoint.seen();
  } finally {
    checkpoint.stop();
  }

  // Saved and restored as a new domain: its main runs again and its new stacks announce.
  const file = join(dir, 'garp.save');
  await saveDomain(host, domain.domid, file);
  // The bridges stay when their last port goes (the switch keeps them), so the capture is in place before the restored vifs plug in.
  const watch = watchBridges();
  try {
    const r = await restoreFile(host, file);
    await ready(r.domain.domid);
    await watch.seen();
    await host.destroy(r.domain.domid);
  } finally {
    watch.stop();
  }
});
