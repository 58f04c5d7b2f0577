// The process and abort-controller packages inside a realm, as readable-stream (node:stream in
// a realm, bin/link.js) asks for them: the realm's own globals (globals.ts), read when called so
// this module may load in any order. The process package would defer nextTick to a host timer.
interface RealmProcess {
  nextTick(fn: (...a: unknown[]) => unknown, ...args: unknown[]): void;
  env: Record<string, string>;
}
const own = (): RealmProcess => (globalThis as unknown as { process: RealmProcess }).process;

export function nextTick(fn: (...a: unknown[]) => unknown, ...args: unknown[]): void {
  own().nextTick(fn, ...args);
}
export const env: Record<string, string> = {};
export const AbortController = globalThis.AbortController;
export const AbortSignal = globalThis.AbortSignal;
