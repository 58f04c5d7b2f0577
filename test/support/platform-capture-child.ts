// The child of the shared-pool platform-capture test: a guest that hunts for its library OS's
// platform object through Object.prototype getters and replaced intrinsics
// (fixtures/guests/platform-capture.ts), next to a pool mate. Run apart from the test runner:
// on the old code it got the object and each call of its mainCalled was a message to dom0's
// thread, which a guest calling it in a loop held for tens of seconds. Counts the status
// messages dom0's side of the pCPU thread received from the guest, by type.
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { poolChild } from './pool-child.js';

/** Status messages of pCPU threads (hypervisor/cpupool.ts PcpuStatus), by domid and type: counted as dom0 receives them. */
const statuses = new Map<string, number>();
const emit = Worker.prototype.emit;
Worker.prototype.emit = function (this: Worker, event: string | symbol, ...args: unknown[]): boolean {
  const m = args[0] as { type?: unknown; domid?: unknown } | undefined;
  if (event === 'message' && typeof m?.type === 'string' && typeof m.domid === 'number') {
    const key = `d${m.domid} ${m.type}`;
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }
  return emit.call(this, event, ...args);
} as typeof Worker.prototype.emit;

await poolChild('capture', async ({ host, text, config }) => {
  let shutdown: string | undefined;
  host.once('shutdown', (_domid, _name, reason) => (shutdown = `shutdown ${String(reason)}`));
  const { domain } = await host.create(config('capture', 'platform-capture.ts'));
  // Its own suspend goes through (the domain stops) or, refused, it says DONE: bounded either way.
  const done = () => /DONE/.test(text(domain.domid));
  for (let i = 0; i < 600 && shutdown === undefined && !done(); i++) await sleep(50);
  const ended = shutdown ?? (done() ? 'done' : 'neither');
  const count = (type: string) => statuses.get(`d${domain.domid} ${type}`) ?? 0;
  process.stdout.write(`${text(domain.domid)}\nENDED ${ended}\nSTATUS main=${count('main')} parked=${count('parked')}\n`);
  await host.destroy(domain.domid);
});
