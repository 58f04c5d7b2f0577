// An incoming migration's domain whose parked build fails after its RAM was filled in (a vif
// that did not connect while parked): its RAM goes back to the heap, so the rest of the stream
// must not be written there; the read stops with the build's error.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { XenError } from '../../../src/errors.js';
import type { Domain } from '../../../src/hypervisor/hypervisor.js';
import { readImage } from '../../../src/migration/image.js';
import { IncomingDomain } from '../../../src/migration/incoming.js';
import { ByteSource } from '../../../src/migration/source.js';
import type { BuiltDomain } from '../../../src/toolstack/builder.js';
import type { Host } from '../../../src/toolstack/host.js';
import { CONFIG, GEO, imageParts, whole } from '../../support/save-image.js';

/** A host whose create fills in `mem` as the domain's RAM, then fails when the test says. */
function failingHost(mem: Uint8Array): { host: Host; fail: (e: Error) => void } {
  let fail!: (e: Error) => void;
  const host = {
    create: (_config: unknown, opts: { restore: { fill: (d: Domain) => void } }) => {
      opts.restore.fill({ view: { mem8: mem } } as unknown as Domain);
      return new Promise<BuiltDomain>((_, reject) => (fail = reject));
    },
  } as unknown as Host;
  return { host, fail: (e) => fail(e) };
}

test('a build that fails mid-stream: no later frame is written into its RAM, and the read stops with its error', async () => {
  const p = imageParts({ populated: 1500 });
  const bytes = whole(p);
  const mem = new Uint8Array(GEO.end * PAGE_SIZE);
  const { host, fail } = failingHost(mem);
  const inc = new IncomingDomain(host, CONFIG, 'img--incoming');
  const stream = new PassThrough();
  const reading = readImage(new ByteSource(stream, { stallMs: 5000 }), () => inc);
  reading.catch(() => {});
  // The headers and the first PAGE_DATA record.
  const first = p.head.length + 8 + p.pages.readUInt32LE(4) + 8;
  stream.write(bytes.subarray(0, first));
  for (let i = 0; i < 1000 && mem.subarray((GEO.first + 1) * PAGE_SIZE, (GEO.first + 2) * PAGE_SIZE).every((b) => b === 0); i++) {
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(mem.subarray((GEO.first + 1) * PAGE_SIZE, (GEO.first + 2) * PAGE_SIZE).some((b) => b !== 0), 'the first record is in');
  const why = new XenError('EIO', 'vif 0 did not connect while parked');
  fail(why);
  await new Promise((r) => setImmediate(r));
  const before = mem.slice();
  stream.end(bytes.subarray(first));
  await assert.rejects(reading, (e) => e === why);
  assert.ok(Buffer.from(mem).equals(before), 'no frame was written into the released RAM');
  assert.throws(() => inc.frame(GEO.first), (e) => e === why);
  assert.throws(() => inc.set(GEO.first, new Uint8Array(PAGE_SIZE)), (e) => e === why);
  await assert.rejects(inc.ready(), (e) => e === why);
});
