// vif= and network-attach/-list/-detach as libxl does them: the backend and frontend nodes with
// their permissions, the wait for the backend's hotplug-status, lookup by devid or MAC, and
// removal. The backend here is a driver domain (backend=NAME) whose device service is the
// test, so only the toolstack's side is under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenbusState } from '../../../src/abi/xenbus.js';
import { attachVif, detachVif, listVifs, type VifHost } from '../../../src/toolstack/vifs.js';
import { parseVifSpec } from '../../../src/toolstack/vifspec.js';
import { NetRig, within } from '../../support/net-rawback.js';

function rigWithDriverDomain(t: import('node:test').TestContext) {
  const rig = new NetRig();
  t.after(() => rig.close());
  const dd = rig.guest(64);
  const g = rig.guest(64);
  const host: VifHost = { hv: rig.h.hv, xs: rig.xs0, loop: rig.h.dom0Events.loop, log: (l) => rig.log.push(l) };
  /** The driver domain's device service: it takes vif `devid` of `g` once the toolstack creates it. */
  const serve = async (devid: number, outcome = 'connected', error?: string) => {
    const dir = `/local/domain/${dd.domid}/backend/vif/${g.domid}/${devid}`;
    await rig.xs0.wait(`${dir}/state`, (v) => v !== undefined);
    if (error) await rig.xs0.write(`${dir}/hotplug-error`, error);
    await rig.xs0.write(`${dir}/hotplug-status`, outcome);
  };
  return { rig, dd, g, host, serve };
}

test('vif= with backend=NAME: libxl nodes and permissions on both ends, then network-list and network-detach by MAC', async (t) => {
  const { rig, dd, g, host, serve } = rigWithDriverDomain(t);
  const spec = parseVifSpec(`mac=00:16:3e:01:02:03,bridge=xenbr0.20,backend=${dd.domain.name},rate=10Mb/s,ip=10.0.0.2,locking-mode=unlocked`);
  const served = serve(0);
  const nic = await within(attachVif(host, g.domid, { ...spec, devid: 0 }), 'attach');
  await served;
  const be = `/local/domain/${dd.domid}/backend/vif/${g.domid}/0`;
  const fe = `/local/domain/${g.domid}/device/vif/0`;
  const r = (p: string) => rig.xs0.read(p);
  assert.deepEqual(
    [await r(`${be}/frontend`), await r(`${be}/frontend-id`), await r(`${be}/online`), await r(`${be}/state`), await r(`${be}/mac`),
      await r(`${be}/bridge`), await r(`${be}/handle`), await r(`${be}/type`), await r(`${be}/rate`), await r(`${be}/ip`), await r(`${be}/script`),
      await r(`${be}/locking-mode`)],
    [fe, String(g.domid), '1', String(XenbusState.Initialising), '00:16:3e:01:02:03', 'xenbr0.20', '0', 'vif', '62500,50000', '10.0.0.2', '/etc/xen/scripts/vif-bridge',
      'unlocked'],
  );
  assert.deepEqual([await r(`${fe}/backend`), await r(`${fe}/backend-id`), await r(`${fe}/state`), await r(`${fe}/handle`), await r(`${fe}/mac`)],
    [be, String(dd.domid), String(XenbusState.Initialising), '0', '00:16:3e:01:02:03']);
  assert.deepEqual(await rig.xs0.getPerms(be), [{ domid: dd.domid, perm: 'n' }, { domid: g.domid, perm: 'r' }]);
  assert.deepEqual(await rig.xs0.getPerms(fe), [{ domid: g.domid, perm: 'n' }, { domid: dd.domid, perm: 'r' }]);
  assert.deepEqual(nic, { devid: 0, backendId: dd.domid, mac: '00:16:3e:01:02:03', handle: 0, state: XenbusState.Initialising,
    eventChannel: undefined, txRingRef: undefined, rxRingRef: undefined, backendPath: be });
  await assert.rejects(attachVif(host, g.domid, { ...spec, devid: 0 }), { errno: 'EEXIST' });
  // A second vif with a generated MAC in Xen's OUI.
  const served2 = serve(1);
  const second = await within(attachVif(host, g.domid, { backend: dd.domain.name, devid: 1 }), 'attach a second');
  await served2;
  assert.match(second.mac, /^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
  assert.equal(await r(`/local/domain/${dd.domid}/backend/vif/${g.domid}/1/bridge`), 'xenbr0');
  assert.equal(await rig.xs0.exists(`/local/domain/${dd.domid}/backend/vif/${g.domid}/1/locking-mode`), false, "no locking-mode: the backend's default");
  assert.deepEqual((await listVifs(host, g.domid)).map((n) => n.devid), [0, 1]);
  assert.equal(await detachVif(host, g.domid, '00:16:3E:01:02:03'), 0);
  assert.equal(await rig.xs0.exists(fe), false);
  assert.equal(await rig.xs0.exists(be), false);
  assert.equal(await detachVif(host, g.domid, '1'), 1);
  assert.deepEqual(await listVifs(host, g.domid), []);
  await assert.rejects(detachVif(host, g.domid, '0'), { errno: 'ENOENT' });
});

test('a backend that reports a hotplug failure: the attach fails with its reason and leaves no nodes', async (t) => {
  const { rig, dd, g, host, serve } = rigWithDriverDomain(t);
  const served = serve(0, 'error', 'no such bridge');
  await assert.rejects(within(attachVif(host, g.domid, { backend: String(dd.domid), devid: 0 }), 'attach'), { errno: 'ENODEV', message: /no such bridge/ });
  await served;
  assert.equal(await rig.xs0.exists(`/local/domain/${g.domid}/device/vif/0`), false);
});

test('dom0 without a network backend, a backend domain that does not exist, a domain serving itself', async (t) => {
  const { g, host } = rigWithDriverDomain(t);
  await assert.rejects(attachVif(host, g.domid, { devid: 0 }), { errno: 'ENODEV' });
  await assert.rejects(attachVif(host, g.domid, { devid: 0, backend: 'nosuch' }), { errno: 'ESRCH' });
  await assert.rejects(attachVif(host, g.domid, { devid: 0, backend: String(g.domid) }), { errno: 'EINVAL' });
});
