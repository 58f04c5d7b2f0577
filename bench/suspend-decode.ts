// How long dom0's thread is held by the decode of a suspend record (abi/suspend.ts's
// decodeSuspendRecord, run on dom0 by every restore, VM.resume and incoming migration): a record
// whose program state is many small objects, near the record's 64 MiB bound, the guest's to write.
// The record's bytes are made directly (V8's format: a dense array of N empty objects, three
// bytes each), as a hostile guest would write them, without building the objects first.
//
//   npm run bench -- suspend-decode [--rounds=3] [--mb=4,16]
//
// One JSON line: per size, the record's bytes, the objects in it, and the median decode in ms:
// wall time (what dom0's loop loses, which a loaded machine stretches) and the process's CPU time
// (V8's GC threads' included).
import { serialize } from 'node:v8';
import { decodeSuspendRecord } from '../src/abi/suspend.js';
import { benchOptions, emit, summarize } from './support/harness.js';

const opts = benchOptions({ rounds: 3 }, { mb: '4,16' });

/** V8's unsigned varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  out.push(n);
  return out;
}

/** A version 1 record whose state is `n` distinct empty objects, as V8 writes it. */
function record(n: number): Buffer {
  const two = serialize({ version: 1, hasState: true, state: [{}, {}], io: [] });
  // 'A' 2, two empty objects ('o' '{' 0 each), '$' 0 2: the dense array of two, in place.
  const small = Buffer.from([0x41, 2, 0x6f, 0x7b, 0, 0x6f, 0x7b, 0, 0x24, 0, 2]);
  const at = two.indexOf(small);
  if (at < 0) throw new Error("V8's format is not the one this bench writes");
  const body = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) body.set([0x6f, 0x7b, 0], 3 * i);
  return Buffer.concat([two.subarray(0, at), Buffer.from([0x41, ...varint(n)]), body, Buffer.from([0x24, 0, ...varint(n)]), two.subarray(at + small.length)]);
}

const sizes: Record<string, { bytes: number; objects: number; decode_ms: number; decode_cpu_ms: number }> = {};
for (const mb of opts.mb.split(',').map(Number)) {
  const n = Math.floor((mb * 2 ** 20 - 64) / 3);
  const bytes = record(n);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const decoded = decodeSuspendRecord(bytes, 16, 1024);
    const c1 = process.cpuUsage();
    ms.push(performance.now() - t0);
    cpu.push((c1.user + c1.system - c0.user - c0.system) / 1000);
    if ((decoded.state as unknown[]).length !== n) throw new Error('decoded the wrong record');
  }
  sizes[`mb_${mb}`] = { bytes: bytes.length, objects: n, decode_ms: summarize(ms).median, decode_cpu_ms: summarize(cpu).median };
}
emit({ bench: 'suspend-decode', rounds: opts.rounds, ...sizes });
