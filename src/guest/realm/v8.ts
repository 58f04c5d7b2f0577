// node:v8's serialize and deserialize inside a realm (bin/link.js links this module as node:v8
// there). A suspend record (abi/suspend.ts) is V8's structured-clone data: the pCPU thread's V8
// writes it from the realm's value and reads it back into the realm's own context (pcpu.ts),
// so a record made in a shared pool restores in Pool-0 and the other way round.
import { host } from './globals.js';

export function serialize(value: unknown): Uint8Array {
  return host.serialize(value);
}

export function deserialize(bytes: Uint8Array): unknown {
  return host.deserialize(bytes);
}
