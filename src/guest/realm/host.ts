// What a realm's library OS may ask of the pCPU thread that hosts it (guest/pcpu.ts). These are
// the only host functions a realm holds, and only inside closures of its globals (globals.ts):
// every argument and every result is a primitive or an object of the realm's own, so nothing
// reachable from guest code leads back to the thread's own realm (its Function, its process).
export interface RealmHost {
  /** performance.now() of the thread. */
  now(): number;
  /** process.hrtime.bigint(). */
  hrtime(): bigint;
  /** Fire timer `id` in a turn after `ms` milliseconds (again, until cleared, if `repeat`). */
  timerSet(id: number, ms: number): void;
  timerClear(id: number): void;
  /** Run a turn soon: setImmediate callbacks are waiting. */
  immediate(): void;
  /** A control-plane hypercall (control.ts); the reply comes in a later turn. */
  control(id: number, op: string, a0?: number | string, a1?: number | string, a2?: number | string, a3?: number | string): void;
  /** TextDecoder.decode (UTF-8) of the bytes of a typed array of the realm. */
  decode(bytes: Uint8Array, fatal: boolean): string;
  /** zlib.crc32 of the bytes of a typed array of the realm. */
  crc32(bytes: Uint8Array, value: number): number;
  /** crypto.getRandomValues into a typed array of the realm. */
  random(into: Uint8Array): void;
  /** main(os) is about to be called. */
  mainCalled(): void;
  /** A shell's platform is up: it waits for the kernel its claim brings (RealmTurns.claim). */
  parked(): void;
  /** Wake a blocked vCPU thread (Atomics.notify of one waiter): now, or when the pCPU's pass is over (wakes.ts). */
  wake(words: Int32Array, index: number): void;
  /**
   * EVTCHNOP_send on a port of the domain, in this thread's one copy of the hypercall
   * (pcpu-hypercalls.ts): true if done, false if the realm's own Hypercalls must do it.
   */
  evtchnSend(port: number): boolean;
  /** The domain shut down: its realm is not run again. */
  halt(): void;
  /** node:v8 serialize of a value of the realm: the bytes, in a Uint8Array of the realm. */
  serialize(value: unknown): Uint8Array;
  /** node:v8 deserialize of the realm's bytes: the value, built from the realm's own intrinsics. */
  deserialize(bytes: Uint8Array): unknown;
  /** The pCPU thread's kernel id: the owner its hypercalls write in the locks they take (lock.ts). */
  threadId(): number | undefined;
}
