// dom0 past the 2-level ABI: the host switches dom0 to the FIFO event-channel ABI, so with more
// than 4,096 of its ports in use a guest still boots, its xenstore and console channels on
// dom0 ports above 4,096 (the 2-level ABI stopped hosts at 2,047 guests: two dom0 ports each).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EVTCHN_2L_NR_CHANNELS, EVTCHNSTAT_interdomain } from '../../src/abi/event_channel.js';
import { DOMID_SELF } from '../../src/abi/xen.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { FIXTURES } from '../support/cli.js';
import { scratchStateDir } from '../support/state-dir.js';

scratchStateDir('dom0-ports');

let host: Host;
let dir: string;
const output = new Map<number, string>();
before(async () => {
  host = await Host.start();
  host.consoled.on('output', (domid, data) => output.set(domid, (output.get(domid) ?? '') + Buffer.from(data).toString('utf8')));
  dir = await mkdtemp(join(tmpdir(), 'xenode-dom0-ports-'));
});
after(async () => {
  await host.close();
  await rm(dir, { recursive: true, force: true });
});

test('dom0 holds more than 4,096 ports and a guest boots on ports above them', { timeout: 120_000 }, async () => {
  const hc = host.hv.dom0Hypercalls;
  const held: number[] = [];
  while (held.length < EVTCHN_2L_NR_CHANNELS + 100) held.push(await hc.evtchnAllocUnbound(DOMID_SELF));
  const top = Math.max(...held);
  assert.ok(top > EVTCHN_2L_NR_CHANNELS, `dom0's highest port ${top}`);
  const cfg = parseDomainConfig(`name = "past-4096"\nkernel = "${join(FIXTURES, 'ticker.ts')}"\nmemory = 16\n`, join(dir, 'g.cfg')).config;
  const { domain } = await host.create(cfg);
  // Its console works (a dom0 port above every held one carries its output) ...
  for (const end = Date.now() + 30_000; !/tick 2/.test(output.get(domain.domid) ?? ''); await new Promise((r) => setTimeout(r, 20))) {
    assert.ok(Date.now() < end, `no ticks from d${domain.domid}: ${output.get(domain.domid) ?? ''}`);
  }
  // ... and its xenstore and console channels are on dom0 ports above the held ones.
  const mine: number[] = [];
  for (let p = top + 1; p <= top + 8; p++) {
    const s = await hc.evtchnStatus(p);
    if (s.status === EVTCHNSTAT_interdomain && s.remoteDomid === domain.domid) mine.push(p);
  }
  assert.ok(mine.length >= 2, `dom0 ports above ${top} bound to d${domain.domid}: ${mine.join(', ')}`);
  const destroyed = once(host, 'destroyed');
  await host.destroy(domain.domid);
  await destroyed;
  for (const p of held) await hc.evtchnClose(p);
});
