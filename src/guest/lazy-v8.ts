// node:v8's serialize and deserialize in a vCPU thread's runtime (bin/link.js links this module
// as node:v8 into dist/guest.runtime.cjs), loaded off a thread's start: node:v8 brings nine of
// Node's internal modules (serdes, heap_utils, profiler, stream_wrap, ...), about 1 ms of CPU
// and 0.2 MiB of heap, for a suspend record (abi/suspend.ts) that only a suspend or a restore
// makes or reads (docs/PERFORMANCE.md, issue 17, pool15). Those run in a live migration's
// downtime, so the thread loads it before, where it has time (preloadV8), not at their call.
import type * as V8 from 'node:v8';

const v8 = (): typeof V8 => process.getBuiltinModule('node:v8');

export function serialize(value: unknown): Buffer {
  return v8().serialize(value);
}

export function deserialize(bytes: NodeJS.ArrayBufferView): unknown {
  return v8().deserialize(bytes);
}

/**
 * Load node:v8 now: a parked shell does before it parks (a restore into it and an incoming
 * migration read their record after the claim), a running guest a while after main() (its
 * suspend writes one). Loaded once; a later call costs a lookup.
 */
export function preloadV8(): void {
  v8();
}
