// os.net: finding the guest's vifs under device/vif by number (the first when none is named),
// connecting each once, and refusing a vif the domain does not have.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connectHeld, holdVifs, netDevices, preconnectVifs, unconnectedWithin } from '../../../src/guest/net.js';
import { NETBACK_OFFER, NetRig, within, type NetGuest } from '../../support/net-rawback.js';

/** A rig's guest with its own device directory, as the builder makes it (the guest may list it). */
async function guestWithDevices(t: TestContext): Promise<{ rig: NetRig; g: NetGuest }> {
  const rig = new NetRig();
  t.after(() => rig.close());
  const g = rig.guest(4096);
  await rig.xs0.mkdir(`/local/domain/${g.domid}/device`);
  await rig.xs0.setPerms(`/local/domain/${g.domid}/device`, [{ domid: g.domid, perm: 'n' }]);
  return { rig, g };
}

test('os.net finds a vif by number or the first one, connects it once, and refuses one that is not there', async (t) => {
  const { rig, g } = await guestWithDevices(t);
  const open = netDevices(g.ctx, g.domid);
  await assert.rejects(open(), { errno: 'ENOENT' });
  const b1 = await rig.backend(g, 1, NETBACK_OFFER, '00:16:3e:00:00:11');
  const b3 = await rig.backend(g, 3, NETBACK_OFFER, '00:16:3e:00:00:33');
  const first = open();
  await within(b1.attach(), 'vif 1 to connect');
  const n1 = await within(first, 'os.net()');
  assert.equal(n1.devid, 1);
  assert.equal(n1.mac, '00:16:3e:00:00:11');
  assert.equal(await open(1), n1);
  const third = open(3);
  await within(b3.attach(), 'vif 3 to connect');
  assert.equal((await within(third, 'os.net(3)')).mac, '00:16:3e:00:00:33');
  await assert.rejects(open(2), { errno: 'ENOENT' });
});

test('a claimed shell reads its vif list at the claim for the first open; a vif hot-plugged after that list is still found', async (t) => {
  const { rig, g } = await guestWithDevices(t);
  const b1 = await rig.backend(g, 1, NETBACK_OFFER, '00:16:3e:00:00:11');
  // The shell connects its vif while it waits; then it is claimed.
  const early = preconnectVifs(g.ctx, g.domid);
  await within(b1.attach(), 'vif 1 to connect');
  const open = netDevices(g.ctx, g.domid, { early });
  // The guest's requests are answered in order: once this one is, the claim's list (vif 1) is read.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await g.ctx.xs.directory(`/local/domain/${g.domid}/device/vif`), ['1']);
  const b3 = await rig.backend(g, 3, NETBACK_OFFER, '00:16:3e:00:00:33');
  const third = open(3);
  await within(b3.attach(), 'vif 3 to connect');
  assert.equal((await within(third, 'os.net(3)')).mac, '00:16:3e:00:00:33', 'not in the claim\'s list: read afresh');
  assert.equal((await within(open(), 'os.net()')).devid, 1);
  await assert.rejects(open(2), { errno: 'ENOENT' });
});

test('a claim that names its vifs: the first open reads no vif list; a vif hot-plugged since is read afresh', async (t) => {
  const { rig, g } = await guestWithDevices(t);
  const b1 = await rig.backend(g, 1, NETBACK_OFFER, '00:16:3e:00:00:11');
  const early = preconnectVifs(g.ctx, g.domid);
  await within(b1.attach(), 'vif 1 to connect');
  await early;
  // The guest's own client, its directory reads counted (the claim's list would be one).
  const vifDir = `/local/domain/${g.domid}/device/vif`;
  let lists = 0;
  const directory = g.ctx.xs.directory.bind(g.ctx.xs);
  g.ctx.xs.directory = (path: string) => {
    if (path === vifDir) lists++;
    return directory(path);
  };
  const open = netDevices(g.ctx, g.domid, { early, ids: [1] });
  assert.equal((await within(open(), 'os.net()')).devid, 1);
  assert.equal(lists, 0, 'the claim named vif 1: no list read');
  const b3 = await rig.backend(g, 3, NETBACK_OFFER, '00:16:3e:00:00:33');
  const third = open(3);
  await within(b3.attach(), 'vif 3 to connect');
  assert.equal((await within(third, 'os.net(3)')).mac, '00:16:3e:00:00:33', 'not named by the claim: read afresh');
  assert.equal(lists, 1);
  await assert.rejects(open(2), { errno: 'ENOENT' });
  assert.equal(lists, 2);
  // A claim with no vif reads the list only when one is opened (it may have been hot-plugged since).
  const none = netDevices(g.ctx, g.domid, { early: Promise.resolve(new Map()), ids: [] });
  await new Promise((r) => setImmediate(r));
  assert.equal(lists, 2);
  await assert.rejects(none(5), { errno: 'ENOENT' });
  assert.equal(lists, 3);
});

test('after a resume, os.net() is the lowest devid even when that vif failed to hold while parked (and is connected afresh)', async (t) => {
  const { rig, g } = await guestWithDevices(t);
  const b0 = await rig.backend(g, 0, NETBACK_OFFER, '00:16:3e:00:00:10');
  const b1 = await rig.backend(g, 1, NETBACK_OFFER, '00:16:3e:00:00:11');
  // vif 0's frontend nodes do not check out while the runtime is parked: its hold fails.
  const fe0 = `/local/domain/${g.domid}/device/vif/0`;
  await rig.xs0.write(`${fe0}/backend-id`, 'not a domid');
  const { ids, held } = await within(holdVifs(g.ctx, g.domid), 'the vifs to be held');
  assert.deepEqual(ids, [0, 1]);
  assert.deepEqual(held.map((f) => f.devid), [1]);
  await rig.xs0.write(`${fe0}/backend-id`, '0');
  const open = netDevices(g.ctx, g.domid, { held, ids });
  const first = open();
  await within(b0.attach(), 'vif 0 to connect');
  const n0 = await within(first, 'os.net()');
  assert.equal(n0.devid, 0);
  assert.equal(n0.mac, '00:16:3e:00:00:10');
  const second = open(1);
  await within(b1.attach(), 'the held vif 1 to connect');
  assert.equal((await within(second, 'os.net(1)')).mac, '00:16:3e:00:00:11');
});

test('a parked restore tells which held vifs did not connect in its bound (their backend never answered), and not those that did', async (t) => {
  const { rig, g } = await guestWithDevices(t);
  await rig.backend(g, 0, NETBACK_OFFER, '00:16:3e:00:00:10'); // never attaches
  const b1 = await rig.backend(g, 1, NETBACK_OFFER, '00:16:3e:00:00:11');
  const { held } = await within(holdVifs(g.ctx, g.domid), 'the vifs to be held');
  const connecting = connectHeld(held);
  await within(b1.attach(), 'vif 1 to connect');
  await within(connecting.get(1)!, 'vif 1 connected');
  assert.deepEqual(await unconnectedWithin(connecting, 50), [0]);
  assert.deepEqual(await unconnectedWithin(new Map([[1, connecting.get(1)!]]), 50), []);
});

test('a parked restore holds the vifs it listed itself (one read of device/vif), not a second listing', async (t) => {
  const { rig, g } = await guestWithDevices(t);
  const b0 = await rig.backend(g, 0, NETBACK_OFFER, '00:16:3e:00:00:10');
  await rig.backend(g, 1, NETBACK_OFFER, '00:16:3e:00:00:11');
  // Listed when vif 0 alone was there: vif 1 is not held (its first open connects it).
  const { ids, held } = await within(holdVifs(g.ctx, g.domid, [0]), 'the listed vifs to be held');
  assert.deepEqual(ids, [0]);
  assert.deepEqual(held.map((f) => f.devid), [0]);
  const connecting = connectHeld(held);
  await within(b0.attach(), 'vif 0 to connect');
  assert.equal((await within(connecting.get(0)!, 'vif 0 connected')).devid, 0);
});
