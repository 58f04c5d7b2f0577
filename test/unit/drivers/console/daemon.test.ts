// dom0's console daemon against a guest on the test's thread: it maps the guest's console
// page by grant, moves output out and input in on the event channel, keeps a bounded log,
// and a guest that corrupts its page loses its own console and nothing else.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { XenconsInterface } from '../../../../src/abi/console.js';
import { ConsoleDaemon } from '../../../../src/drivers/console/daemon.js';
import { ConsoleFront } from '../../../../src/drivers/console/front.js';
import { ByteRing } from '../../../../src/drivers/console/ring.js';
import { BoundPort } from '../../../../src/hypervisor/port.js';
import { harness, ramPage, within, type Harness } from '../../../support/hypervisor.js';

async function consoleGuest(h: Harness, daemon: ConsoleDaemon) {
  const g = h.local({ ramFrames: 32 });
  const { pfn, page } = ramPage(g.hc, 0);
  const ref = g.hc.grantAccess(0, pfn, false);
  const port = new BoundPort(g.hc, g.events.loop, await g.hc.evtchnAllocUnbound(0));
  await daemon.attach(g.domid, ref, port.port);
  return { g, page, front: new ConsoleFront(page, port) };
}

const text = (b: Uint8Array) => Buffer.from(b).toString();

test('guest output reaches the daemon\'s listeners and its log; typed input reaches the guest', async (t) => {
  const h = harness(t);
  const daemon = new ConsoleDaemon(h.dom0, h.dom0Events.loop);
  const { g, front } = await consoleGuest(h, daemon);
  assert.equal(daemon.has(g.domid), true);
  const seen: string[] = [];
  daemon.on('output', (domid, data) => seen.push(`${domid}:${text(data)}`));
  const out = once(daemon, 'output');
  front.write('booting\n');
  await within(out, 'console output');
  assert.deepEqual(seen, [`${g.domid}:booting\n`]);
  assert.equal(text(daemon.log(g.domid)), 'booting\n');
  const input = new Promise<string>((resolve) => front.onInput((d) => resolve(text(d))));
  daemon.input(g.domid, new TextEncoder().encode('halt\n'));
  assert.equal(await within(input, 'console input'), 'halt\n');
  daemon.detach(g.domid);
  assert.equal(daemon.has(g.domid), false);
  assert.equal(daemon.log(g.domid).length, 0);
});

test('the log includes what the guest left in its ring without an event (its last words before a shutdown)', async (t) => {
  const h = harness(t);
  const daemon = new ConsoleDaemon(h.dom0, h.dom0Events.loop);
  const { g, page } = await consoleGuest(h, daemon);
  new ByteRing(page, 'out', 'producer').write(new TextEncoder().encode('guest crashed: boom\n'));
  assert.equal(text(daemon.log(g.domid)), 'guest crashed: boom\n');
  assert.equal(text(daemon.log(g.domid)), 'guest crashed: boom\n', 'read once');
});

test('the log keeps the newest output within its limit', async (t) => {
  const h = harness(t);
  const daemon = new ConsoleDaemon(h.dom0, h.dom0Events.loop, { logLimit: 10 });
  const { g, front } = await consoleGuest(h, daemon);
  for (const line of ['one\n', 'two\n', 'three\n', 'four\n']) {
    const out = once(daemon, 'output');
    front.write(line);
    await within(out, `output ${line}`);
  }
  assert.equal(text(daemon.log(g.domid)), 'four\n', 'older lines dropped once over 10 bytes');
});

test('a guest that corrupts its page loses its console; another guest keeps its own', async (t) => {
  const h = harness(t);
  const daemon = new ConsoleDaemon(h.dom0, h.dom0Events.loop);
  const bad = await consoleGuest(h, daemon);
  const good = await consoleGuest(h, daemon);
  const broken = once(daemon, 'broken');
  new XenconsInterface(bad.page).outProd = 0x10000;
  daemon.drain(bad.g.domid);
  const [domid, reason] = await within(broken, 'broken');
  assert.equal(domid, bad.g.domid);
  assert.match(String(reason), /corrupt/);
  assert.equal(daemon.has(bad.g.domid), false);
  const out = once(daemon, 'output');
  good.front.write('still here');
  const [from, data] = await within(out, 'output of the other guest');
  assert.equal(from, good.g.domid);
  assert.equal(text(data as Uint8Array), 'still here');
});
