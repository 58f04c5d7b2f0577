import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GuestStacks, readAhead, vifAddress } from '../../../src/guest/tcpip.js';
import { GuestTime, type Time } from '../../../src/guest/time.js';
import type { Hypercalls } from '../../../src/hypervisor/hypercalls.js';
import { clockFromTime } from '../../../src/tcpip/clock.js';
import { TcpipError } from '../../../src/tcpip/errors.js';
import { createStack } from '../../../src/tcpip/stack.js';
import { XenstoreClient } from '../../../src/xenstore/client/client.js';
import { connectLocal } from '../../../src/xenstore/client/transport.js';
import { Xenstored } from '../../../src/xenstore/server/daemon.js';
import { rng } from '../../support/random.js';
import { Link, ManualClock, collect, runPromise, runUntil } from '../../support/tcpip-link.js';

/** A link on a virtual clock, and an os.time that runs on that clock. */
function linkOnVirtualTime(): { clock: ManualClock; link: Link; time: Time } {
  const clock = new ManualClock();
  const time: Time = {
    monotonic: () => BigInt(Math.round(clock.now() * 1e6)),
    monotonicMs: () => clock.now(),
    wallclock: () => new Date(0),
    sleep: (ms) => new Promise((r) => clock.setTimer(ms, r)),
  };
  return { clock, link: new Link(clock), time };
}

test('os.tcpip: one stack per vif on os.time, statically configured, talking TCP to a peer', async () => {
  const { clock, link, time } = linkOnVirtualTime();
  let opened = 0;
  const tcpip = new GuestStacks(async () => { opened++; return link.a; }, time).open;
  const peer = createStack(link.b, { clock, random: rng(2) });
  peer.configure({ ip: '10.0.0.2/24' });
  peer.tcp.listen(80, (s) => s.end('hello guest'));
  const stack = await runPromise(clock, tcpip({ ip: { ip: '10.0.0.1/24' }, random: rng(1) }));
  assert.equal(await runPromise(clock, tcpip()), stack);
  assert.equal(opened, 1);
  assert.equal(stack.address?.address, '10.0.0.1');
  const c = await runPromise(clock, stack.tcp.connect('10.0.0.2', 80));
  const got = collect(c);
  assert.ok(await runUntil(clock, () => got.ended(), 10_000));
  assert.equal(got.bytes().toString(), 'hello guest');
});

test('os.tcpip timers (clockFromTime over os.time): a cancelled timer leaves no sleeper behind', async () => {
  const time = new GuestTime({ setTimer: () => undefined } as unknown as Hypercalls);
  const clock = clockFromTime(time);
  // TCP re-arms its timers all the time: each arming cancels the last.
  for (let i = 0; i < 1000; i++) clock.setTimer(60_000, () => assert.fail('a cancelled timer fired')).cancel();
  const kept = clock.setTimer(60_000, () => undefined);
  assert.equal(time.sleepers, 1);
  kept.cancel();
  await Promise.resolve(); // the sleep goes once the turn's re-arming is over
  assert.equal(time.sleepers, 0);
});

test('os.tcpip takes the vif\'s ip= (with netmask and gateway) from the backend\'s xenstore nodes as the toolstack writes them', async () => {
  const xenstored = new Xenstored();
  const xs = new XenstoreClient(connectLocal(xenstored, 0));
  const domid = 7;
  const be = `/local/domain/0/backend/vif/${domid}/0`;
  await xs.write(`/local/domain/${domid}/device/vif/0/backend`, be);
  const read = vifAddress(xs, domid);
  assert.equal(await read(0), undefined, 'no ip node: DHCP');
  assert.equal(await read(1), undefined, 'no such vif');
  await xs.write(`${be}/ip`, 'fd00::7 10.1.2.7/16 10.9.9.9');
  assert.deepEqual(await read(0), { ip: '10.1.2.7/16' }, 'the first IPv4 address of the list');
  await xs.write(`${be}/gateway`, '10.1.0.1');
  await xs.write(`${be}/netmask`, '255.255.0.0');
  await xs.write(`${be}/ip`, '10.1.2.7');
  assert.deepEqual(await read(0), { ip: '10.1.2.7', netmask: '255.255.0.0', gateway: '10.1.0.1' });

  const { clock, link, time } = linkOnVirtualTime();
  const stack = await runPromise(clock, new GuestStacks(async () => link.a, time, read).open({ random: rng(1) }));
  assert.deepEqual(stack.address, { address: '10.1.2.7', netmask: '255.255.0.0', gateway: '10.1.0.1', dns: [] });
  stack.stop();
  // Nonsense in xenstore fails os.tcpip() with a typed error instead of guessing.
  await xs.write(`${be}/ip`, '10.1.2.300');
  await assert.rejects(runPromise(clock, new GuestStacks(async () => link.a, time, read).open()), (e: Error) => e instanceof TcpipError);
  await xs.write(`${be}/ip`, '10.1.2.7');
  await xs.write(`${be}/gateway`, '192.168.0.1');
  await assert.rejects(runPromise(clock, new GuestStacks(async () => link.a, time, read).open()), /not on/);
  xs.close();
});

test('a vif address read ahead (a claimed shell\'s, at its claim) answers the next ask once; later asks read again', async () => {
  const xenstored = new Xenstored();
  const xs = new XenstoreClient(connectLocal(xenstored, 0));
  const domid = 8;
  const be = `/local/domain/0/backend/vif/${domid}/0`;
  await xs.write(`/local/domain/${domid}/device/vif/0/backend`, be);
  await xs.write(`${be}/ip`, '10.1.2.8');
  let reads = 0;
  const plain = vifAddress(xs, domid);
  const read = readAhead((devid) => (reads++, plain(devid)));
  read.ahead(0);
  assert.equal(reads, 1, 'read at once');
  assert.deepEqual(await read(0), { ip: '10.1.2.8' }, 'the ask takes what was read ahead');
  assert.equal(reads, 1);
  await xs.write(`${be}/ip`, '10.1.2.9');
  assert.deepEqual(await read(0), { ip: '10.1.2.9' }, 'the next ask reads again');
  assert.equal(await read(1), undefined, 'a vif not read ahead is read when asked');
  assert.equal(reads, 3);
  // A read ahead that fails fails its ask, and no other.
  read.ahead(0);
  xs.close();
  await assert.rejects(read(0));
});

test('os.tcpip after a resume: the saved stack carries on (its address without DHCP, its connection), a malformed one is dropped', async () => {
  const { clock, link, time } = linkOnVirtualTime();
  const peer = createStack(link.b, { clock, random: rng(2) });
  peer.configure({ ip: '10.0.0.2/24' });
  const heard: Buffer[] = [];
  peer.tcp.listen(80, (s) => s.on('data', (d: Buffer) => heard.push(d)));
  const before = new GuestStacks(async () => link.a, time);
  const stack = await runPromise(clock, before.open({ ip: { ip: '10.0.0.1/24' } }));
  const c = await runPromise(clock, stack.tcp.connect('10.0.0.2', 80));
  c.write('one ');
  const saved = before.freeze();
  assert.deepEqual(saved.map((s) => s.devid), [undefined]);
  // The old runtime is gone (its device no longer hears the link); a new one opens the stack without ip= or DHCP.
  link.a.handlers.clear();
  let read = 0;
  const after = new GuestStacks(async () => link.a, time, async () => { read++; return undefined; }, saved);
  const again = await runPromise(clock, after.open({ random: rng(3) }));
  assert.equal(read, 0, 'no ip= read: the address came with the state');
  assert.equal(again.address?.address, '10.0.0.1');
  const [mine] = again.tcp.resumed();
  mine!.write('two');
  assert.ok(await runUntil(clock, () => Buffer.concat(heard).toString() === 'one two', 30_000), Buffer.concat(heard).toString());

  const logged: string[] = [];
  const bad = new GuestStacks(async () => link.a, time, async () => ({ ip: '10.0.0.9/24' }), [{ devid: undefined, state: { address: 'x' } }], (l) => logged.push(l));
  const fresh = await runPromise(clock, bad.open());
  assert.equal(fresh.address?.address, '10.0.0.9');
  assert.match(logged.join('\n'), /not carried over: EINVAL/);
});

test('after a resume a stack opened with the defaults is restored at once (resumeSaved), one opened with options only when the program asks', async () => {
  const { clock, link, time } = linkOnVirtualTime();
  let n = 0;
  const before = new GuestStacks(async (devid) => (devid === 1 ? link.b : link.a), time, async () => ({ ip: `10.0.0.${++n}/24` }));
  await runPromise(clock, before.open());
  await runPromise(clock, before.open({ devid: 1, random: rng(4) }));
  const saved = before.freeze();
  assert.deepEqual(saved.map((s) => [s.devid, s.defaults === true]), [[undefined, true], [1, false]]);
  const opened: (number | undefined)[] = [];
  const after = new GuestStacks(async (devid) => {
    opened.push(devid);
    return devid === 1 ? link.b : link.a;
  }, time, async () => undefined, saved);
  await runPromise(clock, after.resumeSaved());
  assert.deepEqual(opened, [undefined], 'only the stack opened with the defaults, before the program asks');
  const first = await runPromise(clock, after.open());
  assert.equal(first.address?.address, '10.0.0.1');
  assert.deepEqual(opened, [undefined], 'the program is handed the stack restored already');
  const second = await runPromise(clock, after.open({ devid: 1, random: rng(5) }));
  assert.equal(second.address?.address, '10.0.0.2');
  assert.deepEqual(opened, [undefined, 1]);
});
