import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpipStacks } from '../../../src/guest/tcpip.js';
import { GuestTime, type Time } from '../../../src/guest/time.js';
import type { Hypercalls } from '../../../src/hypervisor/hypercalls.js';
import { clockFromTime } from '../../../src/tcpip/clock.js';
import { createStack } from '../../../src/tcpip/stack.js';
import { rng } from '../../support/random.js';
import { Link, ManualClock, collect, runPromise, runUntil } from '../../support/tcpip-link.js';

test('os.tcpip: one stack per vif on os.time, statically configured, talking TCP to a peer', async () => {
  const clock = new ManualClock();
  const link = new Link(clock);
  const time: Time = {
    monotonic: () => BigInt(Math.round(clock.now() * 1e6)),
    wallclock: () => new Date(0),
    sleep: (ms) => new Promise((r) => clock.setTimer(ms, r)),
  };
  let opened = 0;
  const tcpip = tcpipStacks(async () => { opened++; return link.a; }, time);
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

test('os.tcpip timers (clockFromTime over os.time): a cancelled timer leaves no sleeper behind', () => {
  const time = new GuestTime({ setTimer: () => undefined } as unknown as Hypercalls);
  const clock = clockFromTime(time);
  // TCP re-arms its timers all the time: each arming cancels the last.
  for (let i = 0; i < 1000; i++) clock.setTimer(60_000, () => assert.fail('a cancelled timer fired')).cancel();
  const kept = clock.setTimer(60_000, () => undefined);
  assert.equal(time.sleepers, 1);
  kept.cancel();
  assert.equal(time.sleepers, 0);
});
