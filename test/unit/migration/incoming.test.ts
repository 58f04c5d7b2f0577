// An incoming migration's domain whose parked build fails after its RAM was filled in (a vif
// that did not connect while parked), or that is destroyed while the stream comes in (xenode
// destroy NAME--incoming): its RAM goes back to the heap, so the rest of the stream must not be
// written there; the read stops with the build's error, or ESRCH.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { XenError, isXenError } from '../../../src/errors.js';
import type { Domain } from '../../../src/hypervisor/hypervisor.js';
import { readImage } from '../../../src/migration/image.js';
import { IncomingDomain } from '../../../src/migration/incoming.js';
import { ByteSource } from '../../../src/migration/source.js';
import type { BuiltDomain } from '../../../src/toolstack/builder.js';
import type { Host } from '../../../src/toolstack/host.js';
import { CONFIG, GEO, imageParts, whole } from '../../support/save-image.js';

/** A host whose create fills in `mem` as the domain's RAM, then fails when the test says; a destroy of it begins once it is dying. */
function fakeHost(mem: Uint8Array): { host: Host; domain: { dying: boolean }; fail: (e: Error) => void } {
  let fail!: (e: Error) => void;
  const domain = { domid: 7, dying: false, view: { mem8: mem } };
  const host = {
    create: (_config: unknown, opts: { restore: { fill: (d: Domain) => void } }) => {
      opts.restore.fill(domain as unknown as Domain);
      return new Promise<BuiltDomain>((_, reject) => (fail = reject));
    },
    isBeingDestroyed: (d: Domain) => d.dying,
  } as unknown as Host;
  return { host, domain, fail: (e) => fail(e) };
}

/** A stream into `inc` held after its headers and first PAGE_DATA record, once those are in its RAM; end() sends the rest. */
async function heldAfterFirstRecord(inc: IncomingDomain, mem: Uint8Array): Promise<{ reading: Promise<unknown>; end: () => void }> {
  const p = imageParts({ populated: 1500 });
  const bytes = whole(p);
  const stream = new PassThrough();
  const reading = readImage(new ByteSource(stream, { stallMs: 5000 }), () => inc);
  reading.catch(() => {});
  const first = p.head.length + 8 + p.pages.readUInt32LE(4) + 8;
  stream.write(bytes.subarray(0, first));
  const second = () => mem.subarray((GEO.first + 1) * PAGE_SIZE, (GEO.first + 2) * PAGE_SIZE);
  for (let i = 0; i < 1000 && second().every((b) => b === 0); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(second().some((b) => b !== 0), 'the first record is in');
  return { reading, end: () => stream.end(bytes.subarray(first)) };
}

test('a build that fails mid-stream: no later frame is written into its RAM, and the read stops with its error', async () => {
  const mem = new Uint8Array(GEO.end * PAGE_SIZE);
  const { host, fail } = fakeHost(mem);
  const inc = new IncomingDomain(host, CONFIG, 'img--incoming');
  const { reading, end } = await heldAfterFirstRecord(inc, mem);
  const why = new XenError('EIO', 'vif 0 did not connect while parked');
  fail(why);
  await new Promise((r) => setImmediate(r));
  const before = mem.slice();
  end();
  await assert.rejects(reading, (e) => e === why);
  assert.ok(Buffer.from(mem).equals(before), 'no frame was written into the released RAM');
  assert.throws(() => inc.frame(GEO.first), (e) => e === why);
  assert.throws(() => inc.set(GEO.first, new Uint8Array(PAGE_SIZE)), (e) => e === why);
  await assert.rejects(inc.ready(), (e) => e === why);
});

test('a domain destroyed mid-stream: no later frame is written into the RAM the next domain got, and the read stops with ESRCH', async () => {
  const mem = new Uint8Array(GEO.end * PAGE_SIZE);
  const { host, domain } = fakeHost(mem);
  const inc = new IncomingDomain(host, CONFIG, 'img--incoming');
  const { reading, end } = await heldAfterFirstRecord(inc, mem);
  // Destroyed between two records; its RAM goes to the next domain of its size, which writes it.
  domain.dying = true;
  mem.fill(0xa5);
  end();
  await assert.rejects(reading, (e) => isXenError(e, 'ESRCH') && /destroyed while the stream came in/.test((e as Error).message));
  assert.ok(mem.every((b) => b === 0xa5), "the next domain's RAM is as it wrote it");
  assert.throws(() => inc.get(GEO.first), (e) => isXenError(e, 'ESRCH'), 'nor is it read');
});
