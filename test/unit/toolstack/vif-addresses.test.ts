// A vif's static ip= is its MAC's at its bridge's gateway whether or not the domain has a
// forward: frames from another MAC claiming it are dropped while the vif is there (also when
// the gateway comes after the vif), and the address is free again once the vif goes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Gateway } from '../../../src/network/gateway/gateway.js';
import { parseIpv4 } from '../../../src/tcpip/addr.js';
import { staticAddress, VifAddresses } from '../../../src/toolstack/vif-addresses.js';
import { gatewayRig, guest, l4Frame, waitFor } from '../../support/gateway.js';

const OWNER = '00:16:3e:00:00:01';
const OTHER = '00:16:3e:00:00:02';

test('staticAddress: the first IPv4 address of ip=, without its prefix', () => {
  assert.equal(staticAddress({ devid: 0, ip: '10.0.2.50/24' }), parseIpv4('10.0.2.50'));
  assert.equal(staticAddress({ devid: 0, ip: 'fe80::1 10.0.2.51' }), parseIpv4('10.0.2.51'));
  assert.equal(staticAddress({ devid: 0 }), undefined);
});

test('VifAddresses: ip= is bound to the vif\'s MAC at the gateway of its bridge while the vif lives', async (t) => {
  const rig = gatewayRig();
  t.after(() => rig.close());
  let gw: Gateway | undefined;
  const addrs = new VifAddresses((bridge) => (bridge === 'xenbr0' ? gw : undefined));
  // The vif comes before its bridge's gateway: bound when the gateway is attached.
  addrs.add(7, { devid: 0, bridge: 'xenbr0', mac: OWNER, ip: '10.0.2.50/24' });
  addrs.add(7, { devid: 1, bridge: 'xenbr0.20', mac: OWNER, ip: '10.0.2.60' }); // a VLAN: no gateway there
  gw = rig.gw;
  addrs.gatewayAttached(gw);
  const attacker = guest(rig, 2);
  const claim = (src: string) => attacker.send(l4Frame({ srcMac: OTHER, src, dst: '10.0.2.2', proto: 17, srcPort: 4000, dstPort: 9, payload: new Uint8Array(4) }));
  claim('10.0.2.50');
  assert.ok(await waitFor(() => rig.gw.counters.dropSpoof === 1, 20_000), `dropSpoof ${rig.gw.counters.dropSpoof}`);
  // Hot-plugged vif: bound at once; detached: free again.
  addrs.add(7, { devid: 2, bridge: 'xenbr0', mac: OWNER, ip: '10.0.2.52' });
  claim('10.0.2.52');
  assert.ok(await waitFor(() => rig.gw.counters.dropSpoof === 2, 20_000), `dropSpoof ${rig.gw.counters.dropSpoof}`);
  addrs.remove(7, 2);
  claim('10.0.2.52');
  // The domain goes: its addresses are free again (the first to use one claims it).
  addrs.removeDomain(7);
  claim('10.0.2.50');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(rig.gw.counters.dropSpoof, 2);
});
