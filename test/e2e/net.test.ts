// Guests' Ethernet end to end, on a host daemon: the pingable example (ARP and ICMP echo over
// os.net) answers a second guest's pings across dom0's bridge; guests on other bridges or
// VLANs get nothing; network-attach, -list and -detach as xl has them; and a vif detached
// while frames flow leaves the host and the other guest working. Every test runs with the
// guests in Pool-0 and again in a shared cpupool (netfront in realms).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XenbusState } from '../../src/abi/xenbus.js';
import type { RemoteToolstack } from '../../src/toolstack/client.js';
import { type DaemonRig, PLACEMENTS, startDaemonRig } from '../support/host-daemon.js';

const PINGABLE = fileURLToPath(new URL('../../../examples/pingable/pingable.ts', import.meta.url));
const NET_DD = fileURLToPath(new URL('../../../examples/driver-domain/netback.ts', import.meta.url));
/** A bound, not a speed check: a guest boots in well under a second alone, much slower on a loaded machine. */
const T = { timeout: 180_000 };

for (const at of PLACEMENTS) describe(`guests in ${at.label}`, () => {
  let rig: DaemonRig;
  let ts: RemoteToolstack;
  before(async () => {
    rig = await startDaemonRig('net', { poolSize: 2, placement: at });
    ts = rig.ts;
  });
  after(() => rig.close());

  /** Create a pingable guest on `vif`, with `extra` as its command line; kept after it shuts down. */
  async function create(name: string, vif: string | null, extra: string): Promise<number> {
    const file = rig.cfgFile(name, `name = "${name}"\nkernel = "${PINGABLE}"\nmemory = 32\n${at.cfg}${vif === null ? '' : `vif = [ '${vif}' ]\n`}` +
      `extra = "${extra}"\non_poweroff = "preserve"\non_crash = "preserve"\n`);
    return (await ts.call('create', { file })).domid;
  }

  async function consoleText(domain: string): Promise<string> {
    return Buffer.from((await ts.call('consoleLog', { domain })).data, 'base64').toString();
  }

  /** Wait for the domain to shut down; its xl state letters (s: poweroff, c: crash). */
  async function finished(domain: string): Promise<string> {
    // Bounded below the test's timeout, so that a timed-out test leaves no loop behind.
    const end = Date.now() + T.timeout - 10_000;
    for (;;) {
      const [d] = await ts.call('list', { domains: [domain] });
      if (/[sc]/.test(d!.state.slice(3, 5))) return d!.state;
      if (Date.now() > end) throw new Error(`${domain} did not shut down: state ${d!.state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function cleanup(...names: string[]): Promise<void> {
    for (const n of names) await ts.call('destroy', { domain: n }).catch(() => {});
  }

  test('two guests on one bridge: ARP and ping are answered; network-list and top show the vif', T, async () => {
    await create('pong', 'mac=00:16:3e:00:01:02,bridge=xenbr0', 'ip=10.0.0.2');
    await create('ping', 'mac=00:16:3e:00:01:03,bridge=xenbr0', 'ip=10.0.0.3 ping=10.0.0.2 count=3');
    try {
      assert.match(await finished('ping'), /s/, await consoleText('ping'));
      assert.match(await consoleText('ping'), /10\.0\.0\.2 is at 00:16:3e:00:01:02[\s\S]*3 packets transmitted, 3 received/);
      const [nic] = await ts.call('networkList', { domain: 'pong' });
      assert.equal(nic!.mac, '00:16:3e:00:01:02');
      assert.equal(nic!.state, XenbusState.Connected);
      assert.equal(nic!.backendId, 0);
      assert.match(nic!.backendPath, /^\/local\/domain\/0\/backend\/vif\/\d+\/0$/);
      const [d] = await ts.call('list', { domains: ['pong'] });
      assert.equal(d!.nets, 1);
      assert.equal(d!.pool, at.cpupool?.name ?? 'Pool-0');
      assert.ok(d!.netStats && d!.netStats.txBytes > 0 && d!.netStats.rxBytes > 0, JSON.stringify(d!.netStats));
    } finally {
      await cleanup('pong', 'ping');
    }
  });

  test('guests on other bridges or VLANs do not see each other; a VLAN carries its own traffic', T, async () => {
    await create('pong0', 'bridge=xenbr0', 'ip=10.0.0.2');
    await create('pong20', 'bridge=xenbr0.20', 'ip=10.0.0.2');
    await create('other-vlan', 'bridge=xenbr0.30', 'ip=10.0.0.9 ping=10.0.0.2 count=1 arp-tries=10');
    await create('other-bridge', 'bridge=xenbr1', 'ip=10.0.0.8 ping=10.0.0.2 count=1 arp-tries=10');
    await create('same-vlan', 'bridge=xenbr0.20', 'ip=10.0.0.7 ping=10.0.0.2 count=2');
    try {
      assert.match(await finished('other-vlan'), /c/, 'no ARP reply across VLANs');
      assert.match(await consoleText('other-vlan'), /no ARP reply from 10\.0\.0\.2/);
      assert.match(await finished('other-bridge'), /c/, 'no ARP reply across bridges');
      assert.match(await finished('same-vlan'), /s/, await consoleText('same-vlan'));
      const pong20 = await ts.call('networkList', { domain: 'pong20' });
      assert.match(await consoleText('same-vlan'), new RegExp(`is at ${pong20[0]!.mac}[\\s\\S]*2 received`));
    } finally {
      await cleanup('pong0', 'pong20', 'other-vlan', 'other-bridge', 'same-vlan');
    }
  });

  test('network-attach, network-list, network-detach by devid and by MAC; locking-mode= from vif= and network-attach', T, async () => {
    const domid = await create('plug', 'bridge=xenbr0,locking-mode=unlocked', 'ip=10.0.0.2');
    try {
      const added = await ts.call('networkAttach', { domain: 'plug', spec: 'bridge=xenbr1,mac=00:16:3e:aa:bb:cc,locking-mode=locked' });
      assert.equal(added.devid, 1);
      // The backend node netback reads; the guest's vif 0 (connected) is on the bridge with no MAC lock.
      const xs = rig.daemon.local.host.xs;
      assert.equal(await xs.read(`/local/domain/0/backend/vif/${domid}/0/locking-mode`), 'unlocked');
      assert.equal(await xs.read(`/local/domain/0/backend/vif/${domid}/1/locking-mode`), 'locked');
      for (let i = 0; i < 100 && !(await ts.call('bridgeList', {})).bridges.some((b) => b.ports.some((p) => p.name === `vif${domid}.0`)); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const port = (await ts.call('bridgeList', {})).bridges.flatMap((b) => b.ports).find((p) => p.name === `vif${domid}.0`);
      assert.equal(port?.mac, null, 'unlocked: any source MAC');
      await assert.rejects(ts.call('networkAttach', { domain: 'plug', spec: 'locking-mode=open' }), { errno: 'EINVAL' });
      assert.equal(added.mac, '00:16:3e:aa:bb:cc');
      assert.equal(added.backendPath, `/local/domain/0/backend/vif/${domid}/1`);
      const third = await ts.call('networkAttach', { domain: 'plug', spec: '' });
      assert.equal(third.devid, 2);
      assert.match(third.mac, /^00:16:3e:/);
      assert.deepEqual((await ts.call('networkList', { domain: domid })).map((n) => [n.devid, n.mac]),
        [[0, (await ts.call('networkList', { domain: domid }))[0]!.mac], [1, '00:16:3e:aa:bb:cc'], [2, third.mac]]);
      await ts.call('networkDetach', { domain: 'plug', vif: '00:16:3E:AA:BB:CC' });
      await ts.call('networkDetach', { domain: 'plug', vif: '2' });
      assert.deepEqual((await ts.call('networkList', { domain: 'plug' })).map((n) => n.devid), [0]);
      await assert.rejects(ts.call('networkDetach', { domain: 'plug', vif: '1' }), { errno: 'ENOENT' });
      await assert.rejects(ts.call('networkAttach', { domain: 'plug', spec: 'bogus=1' }), { errno: 'EINVAL' });
    } finally {
      await cleanup('plug');
    }
  });

  test('a vif detached while frames flow: the guest lets go, the other guest and the host carry on', T, async () => {
    await create('target', 'bridge=xenbr0', 'ip=10.0.0.2');
    await create('flood', 'bridge=xenbr0', 'ip=10.0.0.3 ping=10.0.0.2 count=100000');
    try {
      for (let i = 0; i < 600 && !/icmp_seq=20\b/.test(await consoleText('flood')); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(await consoleText('flood'), /icmp_seq=20\b/, 'pings flow before the detach');
      await ts.call('networkDetach', { domain: 'target', vif: '0' });
      assert.deepEqual(await ts.call('networkList', { domain: 'target' }), []);
      const [t, f] = await ts.call('list', { domains: ['target', 'flood'] });
      assert.doesNotMatch(t!.state, /c/, 'the target did not crash');
      assert.doesNotMatch(f!.state, /c/, 'the pinger did not crash');
      // The host still builds guests that talk.
      await create('after', 'bridge=xenbr0', 'ip=10.0.0.4 ping=10.0.0.3 count=1');
      assert.match(await finished('after'), /s/, await consoleText('after'));
    } finally {
      await cleanup('target', 'flood', 'after');
    }
  });

  test('a network driver domain: guests given vifs with backend=NAME talk across its own switch', T, async () => {
    const ddFile = rig.cfgFile('net-dd', `name = "net-dd"\nkernel = "${NET_DD}"\nmemory = 64\ndriver_domain = 1\n`);
    const dd = (await ts.call('create', { file: ddFile })).domid;
    await create('dd-pong', 'bridge=xenbr0,backend=net-dd', 'ip=10.0.0.2');
    await create('dd-ping', 'bridge=xenbr0,backend=net-dd', 'ip=10.0.0.3 ping=10.0.0.2 count=2');
    try {
      assert.match(await finished('dd-ping'), /s/, await consoleText('dd-ping'));
      assert.match(await consoleText('dd-ping'), /2 packets transmitted, 2 received/);
      const [nic] = await ts.call('networkList', { domain: 'dd-pong' });
      assert.equal(nic!.backendId, dd);
      assert.match(nic!.backendPath, new RegExp(`^/local/domain/${dd}/backend/vif/`));
    } finally {
      await cleanup('dd-pong', 'dd-ping', 'net-dd');
    }
  });
});
