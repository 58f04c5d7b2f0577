// A robust mutex in shared memory, for the places where Xen takes a lock that several vCPUs
// (here: threads) contend for. Critical sections are a few loads and stores, so spin briefly
// before sleeping; Node allows Atomics.wait on the main thread too.
//
// Robust as a pthread robust mutex is: a thread can die while it holds one (a vCPU out of heap,
// a pCPU thread reset by the watchdog), and dom0's main thread must never block on such a lock.
// So the word holds its owner's thread tag (the kernel's thread id) and a waiters bit; waiters
// sleep in slices and, between slices, ask the kernel whether the owner still exists. A lock
// whose owner died is not handed on: the structure it guards may be half-updated, so the word is
// poisoned ('owner-dead' to the waiter that found it, 'not-recoverable' to every later one, as
// a robust pthread mutex's EOWNERDEAD and ENOTRECOVERABLE) until the hypervisor tears down the
// domain that held it (resetLock). An owner alive but holding it past the bound is reported
// ('timed-out') instead of waited for.
import { XenError } from '../errors.js';
import { currentThreadId, threadGone } from './thread.js';

/** Why a lock was not taken. Xen has no EOWNERDEAD: a dead or poisoned owner is EDEADLK. */
export class LockError extends XenError {
  override name = 'LockError';
  constructor(readonly state: 'owner-dead' | 'not-recoverable' | 'timed-out', detail: string) {
    super(state === 'timed-out' ? 'ETIMEDOUT' : 'EDEADLK', `${state}: ${detail}`);
  }
}

const UNLOCKED = 0;
const WAITERS = 1 << 30;
const TAG_MASK = WAITERS - 1;
/** The owner died holding it: nobody may take it until the holder's domain is torn down. */
export const POISONED = -1;
/** The tag of a thread whose kernel id is unknown (another OS, a realm not yet told): never judged dead. */
const UNKNOWN_OWNER = TAG_MASK;
const SPINS = 100;
/** A sleeping waiter looks at the owner this often (a held lock is otherwise a notify away). */
const SLICE_MS = 10;
/** Longer than any critical section ever runs, even on a loaded host. */
export const LOCK_MAX_WAIT_MS = 2000;

/** This thread's tag (a property, not a module `let`: the fast path reads it on every lock). */
const self = { tag: tagOf(currentThreadId()) };

function tagOf(tid: number | undefined): number {
  return tid !== undefined && tid > 0 && tid < TAG_MASK ? tid : UNKNOWN_OWNER;
}

/** The kernel id of the thread this copy of the module runs on (a realm learns its pCPU's from the host). */
export function setLockOwner(tid: number | undefined): void {
  self.tag = tagOf(tid);
}

export function lock(words: Int32Array, index: number, maxWaitMs = LOCK_MAX_WAIT_MS): void {
  if (!tryLock(words, index)) lockSlow(words, index, self.tag, maxWaitMs);
}

/** The lock if it can be had without sleeping (a brief spin), else false: for a thread that must not wait. */
export function tryLock(words: Int32Array, index: number): boolean {
  const me = self.tag;
  for (let i = 0; i <= SPINS; i++) {
    const c = Atomics.compareExchange(words, index, UNLOCKED, me);
    if (c === UNLOCKED) return true;
    if (c === POISONED) return false;
  }
  return false;
}

function lockSlow(words: Int32Array, index: number, me: number, maxWaitMs: number): void {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    let c = Atomics.load(words, index);
    if (c === POISONED) throw new LockError('not-recoverable', 'a thread died holding this lock; its domain is being torn down');
    if (c === UNLOCKED) {
      // Taken with the waiters bit (Drepper's mutex): others may still sleep on it.
      if (Atomics.compareExchange(words, index, UNLOCKED, me | WAITERS) === UNLOCKED) return;
      continue;
    }
    if (!(c & WAITERS)) {
      if (Atomics.compareExchange(words, index, c, c | WAITERS) !== c) continue;
      c |= WAITERS;
    }
    if (Atomics.wait(words, index, c, Math.min(SLICE_MS, maxWaitMs)) !== 'timed-out') continue;
    const owner = c & TAG_MASK;
    if (owner !== me && owner !== UNKNOWN_OWNER && threadGone(owner) === true) {
      if (Atomics.compareExchange(words, index, c, POISONED) !== c) continue;
      Atomics.notify(words, index);
      throw new LockError('owner-dead', `thread ${owner} died holding this lock; its domain is being torn down`);
    }
    if (performance.now() > deadline) throw new LockError('timed-out', `thread ${owner} has held this lock for over ${maxWaitMs} ms`);
  }
}

export function unlock(words: Int32Array, index: number): void {
  if (Atomics.exchange(words, index, UNLOCKED) & WAITERS) Atomics.notify(words, index, 1);
}

/** The hypervisor, tearing down the domain whose thread held the lock: free it for good. */
export function resetLock(words: Int32Array, index: number): void {
  if (Atomics.exchange(words, index, UNLOCKED) !== UNLOCKED) Atomics.notify(words, index);
}

/**
 * Free the lock if it is held by a thread that no longer exists, or poisoned by such a death;
 * true if it was. One load is judged and only that value is swapped out: a lock a live thread
 * holds, or lets go and takes again meanwhile, is left alone. Before, the word was loaded once to
 * see it held and again to judge it: a live holder that let go in between read as abandoned
 * (free counts as abandoned there), and the reset that followed could free its next hold too.
 */
export function breakAbandoned(words: Int32Array, index: number): boolean {
  // A dead owner's word changes only by a waiter poisoning it (then it is broken all the same), so
  // one more try suffices; a word that keeps changing is a guest writing its own (layout.ts), whose
  // lock left held costs it its own events, never the breaker a loop.
  for (let tries = 0; tries < 4; tries++) {
    const c = Atomics.load(words, index);
    if (c === UNLOCKED) return false;
    const owner = c & TAG_MASK;
    if (c !== POISONED && (owner === UNKNOWN_OWNER || threadGone(owner) !== true)) return false;
    if (Atomics.compareExchange(words, index, c, UNLOCKED) === c) {
      Atomics.notify(words, index);
      return true;
    }
  }
  return false;
}
