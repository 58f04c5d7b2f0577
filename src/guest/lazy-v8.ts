// node:v8's serialize and deserialize in a vCPU thread's runtime (bin/link.js links this module
// as node:v8 into dist/guest.runtime.cjs), loaded at their first call: node:v8 brings nine of
// Node's internal modules (serdes, heap_utils, profiler, stream_wrap, ...), a part of every
// thread's start, for a suspend record (abi/suspend.ts) that only a suspend or a restore makes
// or reads (docs/PERFORMANCE.md, issue 17, pool15).
import type * as V8 from 'node:v8';

const v8 = (): typeof V8 => process.getBuiltinModule('node:v8');

export function serialize(value: unknown): Buffer {
  return v8().serialize(value);
}

export function deserialize(bytes: NodeJS.ArrayBufferView): unknown {
  return v8().deserialize(bytes);
}
