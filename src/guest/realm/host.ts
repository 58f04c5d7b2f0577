// What a realm's library OS may ask of the pCPU thread that hosts it (guest/pcpu.ts). These are
// the only host functions a realm holds, and only inside closures of its globals (globals.ts):
// every argument and every result is a primitive or an object of the realm's own, so nothing
// reachable from guest code leads back to the thread's own realm (its Function, its process).
import { PUSH_NOTIFY, type RingIo } from '../../drivers/blk/front/ring-io.js';
import { errorOf } from '../../hypervisor/error-code.js';

export interface RealmHost {
  /** performance.now() of the thread. */
  now(): number;
  /** process.hrtime.bigint(). */
  hrtime(): bigint;
  /**
   * Fire timer `id` in a turn after `ms` milliseconds; true if armed, false (nothing armed) when
   * the domain has as many armed as a domain may (each costs the thread a host timer). `own`: one
   * of the library OS's own timers (OwnTimer), never refused and not counted; it replaces the
   * last of its kind.
   */
  timerSet(id: number, ms: number, own: OwnTimer | null): boolean;
  timerClear(id: number): void;
  /** Run a turn soon: setImmediate callbacks are waiting. */
  immediate(): void;
  /**
   * A control-plane hypercall (control.ts); the reply comes in a later turn. False: not posted,
   * and no reply comes (the domain has halted or crashed, its realm running out its last turn).
   */
  control(id: number, op: string, a0?: number | string, a1?: number | string, a2?: number | string, a3?: number | string): boolean;
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
   * (pcpu-hypercalls.ts): SEND_DONE; SEND_NOT_HERE if not done yet: no view of the target (the
   * pCPU holds the send and makes it once the realm's own Hypercalls has connected the target, which
   * is all the realm does), or the domain is being killed (nothing was done); or the failed
   * hypercall's error code (hypervisor/error-code.ts).
   */
  evtchnSend(port: number): number | string;
  /**
   * Whether the pCPU's copy of the hypercalls holds a view of `domid`'s live domain: the realm's
   * own holds no other domain's buffers (pcpu-hypercalls.ts), so its connect() asks here.
   */
  connected(domid: number): boolean;
  /**
   * blkfront's push (drivers/blk/front/ring-io.ts pushStaged) on a ring of the domain's memory, in
   * this thread's one copy: the reads and writes staged in the realm's Float64Array encoded into
   * the ring, published, and the event sent on `port` when due (as evtchnSend): the PUSH_* flags,
   * PUSH_NOTIFY among them if the pCPU holds the send until the realm connects the target (SEND_NOT_HERE);
   * or the failed send's error code (the ring work was done). Numbers only besides `staged`, else
   * it throws.
   */
  blkPush(ringOff: number, nrEnts: number, port: number, staged: Float64Array, n: number, reqProdPvt: number, rspCons: number): number | string;
  /** blkfront's poll (ring-io.ts pollResponses) into the realm's Int32Array, in this thread's one copy. */
  blkPoll(ringOff: number, nrEnts: number, rspCons: number, out: Int32Array): number;
  /** The domain shut down: its realm is not run again. */
  halt(): void;
  /** node:v8 serialize of a value of the realm: the bytes, in a Uint8Array of the realm. */
  serialize(value: unknown): Uint8Array;
  /**
   * node:v8 deserialize of the realm's bytes: the value, built from the realm's own intrinsics.
   * Only for a domain that resumes from a suspend record (its port into the realm is made before
   * its guest's code runs); any other realm's throws.
   */
  deserialize(bytes: Uint8Array): unknown;
  /** The pCPU thread's kernel id: the owner its hypercalls write in the locks they take (lock.ts). */
  threadId(): number | undefined;
}

/**
 * The library OS's own timers in a realm, one of each kind per domain, outside the domain's timer
 * bound, as Xen's vCPU has its timers and Xen its own without allocating for the domain: the
 * vCPU's (set_timer_op), and the event-channel retry's (evtchn.ts: events its sends deferred).
 */
export type OwnTimer = 'vcpu' | 'evtchn-retry';
export const OWN_TIMERS: readonly OwnTimer[] = ['vcpu', 'evtchn-retry'];

/**
 * `: message` of an error, or nothing: a host error's message crossing into a realm as a string
 * of its own (the error itself never crosses), or what the pCPU's place() catches, which may be
 * the realm's (a kernel's top level can throw anything). Its message may be a getter, which runs
 * (within that turn) and counts only if it gives a string; what it throws is caught; the value is
 * never String()ed, which would run its code outside the try, and then dom0 would never hear
 * that the placement failed.
 */
export function messageOf(e: unknown): string {
  try {
    const m = (e as { message?: unknown } | null)?.message;
    return typeof m === 'string' ? `: ${m}` : '';
  } catch {
    return '';
  }
}

/** host.evtchnSend: the send was done (delivered, or dropped on an unbound port). */
export const SEND_DONE = 0;
/**
 * host.evtchnSend: not done yet. No view of the target: the pCPU holds the send and makes it with
 * dom0's answer to the connect the realm's own Hypercalls makes (the realm only connects). A kill:
 * nothing was done, and the realm stops at its gate.
 */
export const SEND_NOT_HERE = 1;

/**
 * The realm's side of host.evtchnSend, as its Hypercalls' sendHere: true if done, false if left
 * to the realm. A send that failed in the pCPU's copy is not tried again in the realm (it would
 * wait for a held lock again, or find one the first try poisoned): its error is thrown here, of
 * the type, errno and lock state the hypercall would have thrown.
 */
export function sendHereThrough(evtchnSend: RealmHost['evtchnSend'], domid: number): (port: number) => boolean {
  return (port) => sentHere(evtchnSend(port), domid, port);
}

/** What the pCPU's copy did with a send on `port` (SEND_DONE, SEND_NOT_HERE or an error code), as sendHereThrough judges it. */
function sentHere(r: number | string, domid: number, port: number): boolean {
  if (r === SEND_DONE) return true;
  if (r === SEND_NOT_HERE) return false;
  return sendFailed(r, domid, port);
}

/** A send that failed in the pCPU's copy: its error, thrown in the realm as the hypercall would throw it. */
function sendFailed(r: number | string, domid: number, port: number): never {
  throw errorOf(String(r), `d${domid}: EVTCHNOP_send on port ${port} failed in the pCPU's copy of the hypercall`);
}

/**
 * The realm's side of host.blkPush, its blkfront's RingIo push (ring-io.ts): the event the pCPU's
 * copy did not send is judged as sendHereThrough judges it, so not asked of the pCPU again: a
 * failure is thrown (blkfront fails the connection with EIO), and a send the pCPU holds
 * (SEND_NOT_HERE) has `sendOwn` connect its target, whose answer has the pCPU make it.
 * PUSH_NOTIFY is never returned.
 */
export function blkPushThrough(blkPush: RealmHost['blkPush'], domid: number, sendOwn: (port: number) => void): RingIo['push'] {
  return (ringOff, nrEnts, port, staged, n, reqProdPvt, rspCons) => {
    const r = blkPush(ringOff, nrEnts, port, staged, n, reqProdPvt, rspCons);
    if (typeof r === 'string') return sendFailed(r, domid, port);
    if (r < 0 || (r & PUSH_NOTIFY) === 0) return r;
    // PUSH_NOTIFY: the pCPU holds the send until the target is connected (SEND_NOT_HERE).
    sendOwn(port);
    return r & ~PUSH_NOTIFY;
  };
}
