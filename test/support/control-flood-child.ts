// The child of the shared-pool control-flood test: a guest that posts control calls in a loop of
// one turn (fixtures/guests/control-flood.ts), next to a pool mate. Counts the guest's control
// messages dom0's thread received (its flood's close of port 1 << 20), as they arrive, and,
// the crashed domain preserved, prints the end of its console's out ring from its memory: what
// it wrote after its crash, which no event brings to dom0.
import { setTimeout as sleep } from 'node:timers/promises';
import { consoleRing } from './console-ring.js';
import { poolChild } from './pool-child.js';

const FLOOD_PORT = 1 << 20;
let received = 0;
// Node delivers a MessagePort's messages through EventTarget's hybrid dispatch: counted there,
// before dom0's bucket (serveControlPort) or anything else of dom0's looks at them.
const dispatch = Symbol.for('nodejs.internal.kHybridDispatch');
const target = EventTarget.prototype as unknown as Record<symbol, (...a: unknown[]) => unknown>;
const original = target[dispatch]!;
target[dispatch] = function (this: unknown, ...a: unknown[]) {
  const m = a[0] as { op?: unknown; args?: unknown[] } | undefined;
  if (a[1] === 'message' && m?.op === 'close' && m.args?.[0] === FLOOD_PORT) received++;
  return original.apply(this, a);
};

await poolChild('flood', async ({ host, text, config }) => {
  let shutdown: string | undefined;
  host.once('shutdown', (_domid, _name, reason) => (shutdown = String(reason)));
  const { domain } = await host.create(config('flood', 'control-flood.ts', 'pool = "flood"\non_crash = "preserve"\n'));
  for (let i = 0; i < 600 && shutdown === undefined; i++) await sleep(50);
  // What dom0 had queued of it arrives by now: its count stops growing.
  let last = -1;
  for (let i = 0; i < 100 && received !== last; i++) ((last = received), await sleep(100));
  // Its turn runs on after its crash, up to its loop's bound: its last line comes at the turn's end.
  let ring = consoleRing(domain.view.buffers.memory);
  for (let i = 0; i < 200 && !ring.includes('POSTED'); i++) ((await sleep(50)), (ring = consoleRing(domain.view.buffers.memory)));
  process.stdout.write(`${text(domain.domid)}\nRING ${ring}\nENDED ${shutdown ?? 'running'}\nRECEIVED ${received}\n`);
  await host.destroy(domain.domid);
});
