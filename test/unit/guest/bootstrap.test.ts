// The vCPU thread's boot and shutdown as a host runs them: main(os) returning powers the domain
// off, a throw crashes it, and whatever the guest printed reaches the console daemon first.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ShutdownReason } from '../../../src/abi/xen.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import { Host } from '../../../src/toolstack/host.js';
import { FIXTURES } from '../../support/cli.js';
import { within } from '../../support/hypervisor.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('bootstrap');

let host: Host;
before(async () => {
  host = await Host.start({ poolSize: 1 });
});
after(() => host.close());

/** Run `kernel` on `host` until it shuts down; its whole console output and its shutdown reason. */
async function runToShutdown(name: string, kernel: string, extra = '', on = host): Promise<{ text: string; reason: ShutdownReason }> {
  const host = on;
  const out = new Map<number, Buffer[]>();
  const onOutput = (domid: number, data: Uint8Array) => void (out.get(domid) ?? out.set(domid, []).get(domid)!).push(Buffer.from(data));
  host.consoled.on('output', onOutput);
  try {
    const cfg = `name = "${name}"\nkernel = "${kernel}"\nmemory = 32\nextra = "${extra}"\non_poweroff = "destroy"\non_crash = "destroy"\n`;
    const down = new Promise<[number, ShutdownReason]>((resolve) => {
      const onShutdown = (domid: number, n: string, reason: ShutdownReason) => {
        if (n !== name) return;
        host.off('shutdown', onShutdown);
        resolve([domid, reason]);
      };
      host.on('shutdown', onShutdown);
    });
    await host.create(parseDomainConfig(cfg, join(FIXTURES, `${name}.cfg`)).config);
    const [domid, reason] = await within(down, `${name} to shut down`);
    return { text: Buffer.concat(out.get(domid) ?? []).toString(), reason };
  } finally {
    host.consoled.off('output', onOutput);
  }
}

test('main returning powers off, after everything it printed is in the console ring', async () => {
  // 500 lines of 93 bytes: twenty times the 2 KiB ring, still queued in the guest when main returns.
  const { text, reason } = await runToShutdown('chatty', 'chatty.ts', '500');
  assert.equal(reason, 'poweroff');
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('line ')).length, 500, 'every line reached the console daemon');
  assert.ok(text.endsWith('last line\n'), `the output ends with the last line written (ends: ${JSON.stringify(text.slice(-40))})`);
});

test('main throwing crashes the domain, with the stack on its console', async () => {
  const { text, reason } = await runToShutdown('crash', 'crash.ts');
  assert.equal(reason, 'crash');
  assert.match(text, /about to fail/);
  assert.match(text, /\[crash\] guest crashed: Error: boom from the guest\n\s+at .*crash\.ts:\d+/);
});

test("a vCPU thread's start loads neither node:v8 (a suspend record's) nor node:module (a kernel's require of a file, a crash's source map)", async () => {
  const { text, reason } = await runToShutdown('builtins', 'builtins.ts');
  assert.equal(reason, 'poweroff');
  const loaded = JSON.parse(/builtins (\[.*\])/.exec(text)![1]!) as string[];
  assert.ok(loaded.includes('vm'), `the list is the thread's own (${loaded.length} modules)`);
  assert.ok(!loaded.includes('v8'), 'node:v8 is loaded at its first use');
  assert.ok(!loaded.includes('module'), 'node:module is loaded at its first use');
});

const builtinsAtMain = (text: string) => JSON.parse(/builtins (\[.*\])/.exec(text)![1]!) as string[];

test('a running guest loads node:v8 in the background a while after main(), so that its suspend (a live migration\'s downtime) does not', async () => {
  const { text, reason } = await runToShutdown('later', 'builtins.ts', 'later');
  assert.equal(reason, 'poweroff');
  assert.ok(!builtinsAtMain(text).includes('v8'), 'not before main()');
  assert.match(text, /later v8=true/);
});

test('a parked shell loads node:v8 before it parks, so that a restore into it does not after its claim', async (t) => {
  const shelled = await Host.start({ poolSize: 0, shells: { count: 1, memory: 32 } });
  t.after(() => shelled.close());
  for (const end = Date.now() + 30_000; shelled.shells.ready < 1;) {
    if (Date.now() > end) throw new Error('timed out waiting for the shell to park');
    await new Promise((r) => setTimeout(r, 20));
  }
  const { text, reason } = await runToShutdown('shelled', 'builtins.ts', '', shelled);
  assert.equal(reason, 'poweroff');
  assert.ok(builtinsAtMain(text).includes('v8'), 'loaded by the shell before its claim');
});
