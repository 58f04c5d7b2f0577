// A save's write to a regular file reads the guest's frames as they are, on a libuv thread, until
// it settles (migration/save.ts): a destroy meanwhile reaps the domain, but its memory stays out
// of the domheap until that write ends (Hypervisor.linger), or the next domain of its size would
// have its frames written to the save file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { writeImage, type ImageSink } from '../../../src/migration/save.js';
import { parseDomainConfig } from '../../../src/toolstack/domconfig.js';
import type { Host } from '../../../src/toolstack/host.js';
import { FIXTURES } from '../../support/cli.js';
import { hostForTests } from '../../support/local-host.js';
import { waitFor } from '../../support/wait.js';

const WHOAMI = join(FIXTURES, 'whoami.ts');
let host!: Host;
hostForTests('save', (h) => (host = h));

/** A suspended guest, as a save writes it. */
async function suspended(name: string) {
  const config = parseDomainConfig(`name = "${name}"\nkernel = "${WHOAMI}"\nmemory = 16\n`, WHOAMI).config;
  const d = (await host.create(config)).domain;
  await host.suspend(d.domid);
  return { d, config };
}

/** Writes begun to the stalled pipes. */
let stalledWrites = 0;
/** A pipe whose reader stopped reading: no write to it ever ends. */
const stalledPipe = (): ImageSink => ({ writev: () => (stalledWrites++, new Promise(() => {})) });

test("a destroy that ends while a save to a pipe reads the guest's xenstore data: the save fails (ESRCH), not left waiting on its stalled write", { timeout: 60_000 }, async () => {
  const { d, config } = await suspended('save-early');
  const readOptional = host.xs.readOptional;
  host.xs.readOptional = async (path) => {
    host.xs.readOptional = readOptional;
    await host.destroy(d.domid);
    return readOptional.call(host.xs, path);
  };
  await assert.rejects(writeImage(host, d, config, stalledPipe(), false), (e: Error) => isXenError(e, 'ESRCH'));
});

test('saves to stalled pipes of one domain, more than EventEmitter warns of: one listener for its destroy, which fails them all (ESRCH)', { timeout: 60_000 }, async () => {
  const { d, config } = await suspended('save-many');
  const listeners = host.listenerCount('destroyed');
  const begun = stalledWrites;
  const saves = Array.from({ length: 11 }, () => writeImage(host, d, config, stalledPipe(), false));
  for (const s of saves) s.catch(() => {}); // awaited below
  assert.ok(await waitFor(() => stalledWrites - begun === saves.length), 'every save is writing');
  assert.ok(host.listenerCount('destroyed') <= listeners + 1, `${host.listenerCount('destroyed') - listeners} listeners added`);
  await host.destroy(d.domid);
  for (const s of saves) await assert.rejects(s, (e: Error) => isXenError(e, 'ESRCH'));
});

test("a destroy during a save's write to a regular file: the domain is reaped, its memory back in the domheap only once the write ends", { timeout: 60_000 }, async () => {
  const { d, config } = await suspended('save-held');
  // A regular file whose writes of the guest's frames (the second writev on: the first is the
  // headers) are held until the test ends them.
  let end!: () => void;
  const held = new Promise<void>((resolve) => (end = resolve));
  let writes = 0;
  const fh: ImageSink = { writev: async () => (++writes > 1 ? held : undefined) };
  const writing = writeImage(host, d, config, fh, true);
  writing.catch(() => {}); // awaited below
  assert.ok(await waitFor(() => writes === 2), 'a piece of its frames is being written');
  const inHeap = () => { const { freeBytes, scrubbingBytes } = host.hv.heap.stats(); return freeBytes + scrubbingBytes; };
  const before = inHeap();
  const bytes = d.view.buffers.memory.byteLength;

  await host.destroy(d.domid);
  assert.equal(host.hv.findDomain(d.domid), undefined, 'reaped');
  assert.equal(inHeap(), before, 'its memory is not in the domheap while the write reads it');
  end();
  // The write over, the save reads no more of its frames (a next piece would be refused).
  await writing.catch((e: Error) => assert.ok(isXenError(e, 'ESRCH'), e.message));
  assert.ok(await waitFor(() => inHeap() - before === bytes), 'its memory went back to the domheap once the write ended');
});
