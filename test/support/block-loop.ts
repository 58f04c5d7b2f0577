// dom0's thread blocked, as a long synchronous step blocks it (a restore's decode, a build): no
// timer, I/O callback or promise runs until it returns; what peers send meanwhile waits in the
// kernel's socket buffers.

/** Block this thread for `ms`. */
export function blockLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
