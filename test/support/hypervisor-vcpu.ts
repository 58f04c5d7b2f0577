// A guest vCPU for tests: a worker thread that builds its hypercall layer and upcall loop from
// a boot message exactly as the real bootstrap does, then runs operations the test posts to
// it. Some operations misbehave on purpose (hostile.test.ts).
import { parentPort, type MessagePort } from 'node:worker_threads';
import { GrantError } from '../../src/abi/grant_table.js';
import { XenError } from '../../src/errors.js';
import { portChannel, type PeerGrant } from '../../src/hypervisor/control.js';
import { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import { lock } from '../../src/hypervisor/lock.js';
import type { DomainBuffers } from '../../src/hypervisor/memory.js';
import { UpcallLoop } from '../../src/hypervisor/upcall.js';

export interface GuestBoot {
  readonly buffers: DomainBuffers;
  readonly control: MessagePort;
}

/** Requests from the test, and what comes back. */
export interface GuestRequest { readonly id: number; readonly op: string; readonly args: unknown[] }
export type EncodedError =
  | { readonly kind: 'xen'; readonly errno: XenError['errno']; readonly detail: string }
  | { readonly kind: 'grant'; readonly status: number; readonly detail: string }
  | { readonly kind: 'other'; readonly name: string; readonly message: string };
export type GuestMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'event'; readonly port: number }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: EncodedError };

/** Replies to flood messages carry ids from here up, so they never match a real request. */
export const FLOOD_ID_BASE = 1_000_000_000;

export function encodeError(e: unknown): EncodedError {
  if (e instanceof XenError) return { kind: 'xen', errno: e.errno, detail: e.detail };
  if (e instanceof GrantError) return { kind: 'grant', status: e.status, detail: e.detail };
  const err = e as Error;
  return { kind: 'other', name: String(err?.name), message: String(err?.message ?? e) };
}

/** xorshift32: the fuzz and the scribbles are reproducible from their seed. */
export function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function start(parent: MessagePort, { buffers, control }: GuestBoot): void {
  const channel = portChannel(control);
  const hc = new Hypercalls(buffers, channel);
  /** Peers' buffers pushed to it (an interdomain bind by the other end), as a hostile guest keeps them. */
  const peers = new Map<number, DomainBuffers>();
  channel.onPush((g) => {
    hc.adoptPeer(g as PeerGrant);
    peers.set((g as PeerGrant).peer.domid, (g as PeerGrant).peer);
  });
  const loop = new UpcallLoop(hc.memory, {
    pausable: true,
    onError: (e) => {
      throw e;
    },
  });
  const mem8 = hc.memory.mem8;
  const pages = new Map<number, Uint8Array>();
  const page = (handle: number): Uint8Array => {
    const p = pages.get(handle);
    if (!p) throw new Error(`no mapping with handle ${handle}`);
    return p;
  };

  const ops: Record<string, (...args: never[]) => unknown> = {
    /** Any hypercall, by method name. */
    hc: (method: string, ...args: unknown[]) =>
      (hc[method as keyof Hypercalls] as (...a: unknown[]) => unknown).apply(hc, args),
    listen: (port: number) => loop.on(port, () => parent.postMessage({ type: 'event', port } satisfies GuestMessage)),
    /** Answer every event on `port` with a send on it (the far end of a ping-pong). */
    echo: (port: number) => loop.on(port, () => hc.evtchnSend(port)),
    map: (domid: number, ref: number, readonly: boolean) => {
      const m = hc.grantMap(domid, ref, readonly);
      pages.set(m.handle, m.page);
      return m.handle;
    },
    unmap: (handle: number) => {
      hc.grantUnmap(handle);
      pages.delete(handle);
    },
    poke: (handle: number, offset: number, bytes: Uint8Array) => page(handle).set(bytes, offset),
    peek: (handle: number, offset: number, len: number) => page(handle).slice(offset, offset + len),
    /** Own memory, at a byte address. */
    write: (addr: number, bytes: Uint8Array) => mem8.set(bytes, addr),
    read: (addr: number, len: number) => mem8.slice(addr, addr + len),
    /** A word of its own control block (a guest reaches it: os.xen.memory.buffers.control). */
    ctlStore: (index: number, value: number) => Atomics.store(hc.memory.ctl, index, value),
    /** Every word of its own control block. */
    ctlFill: (value: number) => hc.memory.ctl.fill(value),
    /** The buffers of its own it was given. */
    ownBuffers: () => Object.keys(buffers),
    /** Random bytes over [addr, addr + len) of the guest's own memory. */
    scribble: (addr: number, len: number, seed: number) => {
      const next = rng(seed);
      for (let i = 0; i < len; i++) mem8[addr + i] = next();
    },
    /** Rewrite one 32-bit word as fast as possible for `ms` milliseconds, alternating values. */
    flip: (addr: number, values: number[], ms: number) => {
      const w = new Int32Array(mem8.buffer, addr, 1);
      const end = performance.now() + ms;
      let n = 0;
      while (performance.now() < end) {
        for (let i = 0; i < 64; i++) Atomics.store(w, 0, values[n++ % values.length]!);
      }
      return n;
    },
    /** Random 32-bit values into `words` words from `addr`, one at a time, for `ms` milliseconds. */
    churn: (addr: number, words: number, seed: number, ms: number) => {
      const w = new Int32Array(mem8.buffer, addr, words);
      const next = rng(seed);
      const end = performance.now() + ms;
      let n = 0;
      while (performance.now() < end) {
        for (let i = 0; i < 64; i++, n++) Atomics.store(w, next() % words, next() | 0);
      }
      return n;
    },
    /** Post raw messages on the control port; resolve with the replies to the numbered ones. */
    flood: (messages: unknown[], expectReplies: number) =>
      new Promise<unknown[]>((resolve) => {
        const replies: unknown[] = [];
        const onReply = (r: { id?: unknown }) => {
          if (typeof r.id !== 'number' || r.id < FLOOD_ID_BASE) return;
          replies.push(r);
          if (replies.length === expectReplies) {
            control.off('message', onReply);
            resolve(replies);
          }
        };
        control.on('message', onReply);
        for (const m of messages) control.postMessage(m);
        if (expectReplies === 0) resolve(replies);
      }),
    /** After replying, make one hypercall in a loop that never yields: a vCPU busy in the hypervisor. */
    hammer: (method: string, ...args: unknown[]) => {
      const fn = hc[method as keyof Hypercalls] as (...a: unknown[]) => unknown;
      setImmediate(() => {
        for (;;) {
          try {
            fn.apply(hc, args);
          } catch {
            // Errors are expected; the point is to be inside the hypervisor when killed.
          }
        }
      });
    },
    /**
     * Take one of its own control block's locks (or a pushed peer's, or a peer's grant lock: `grants`) as a hypercall
     * would, reply, then die holding it ('exit': the thread ends, as out of heap) or keep it ('spin': a thread stuck inside).
     */
    holdLock: async (index: number, then: 'exit' | 'spin', peer?: number, which: 'control' | 'grants' = 'control') => {
      // A peer's buffers come on the control port, which need not be ahead of this request.
      for (let i = 0; i < 500 && peer !== undefined && !peers.has(peer); i++) await new Promise((r) => setTimeout(r, 10));
      const words = (peer === undefined ? buffers : peers.get(peer))?.[which];
      if (!words) throw new Error(`no ${which} of d${peer ?? 'self'}`);
      lock(new Int32Array(words), index);
      setImmediate(() => {
        if (then === 'exit') process.exit(0);
        for (;;);
      });
    },
    /** An uncaught exception: the vCPU dies, as a guest crash does. */
    crash: () => {
      setImmediate(() => {
        throw new Error('guest crashed on purpose');
      });
    },
  };

  parent.on('message', async ({ id, op, args }: GuestRequest) => {
    let reply: GuestMessage;
    try {
      const fn = ops[op];
      if (!fn) throw new Error(`unknown guest op ${op}`);
      reply = { type: 'reply', id, ok: true, value: await (fn as (...a: unknown[]) => unknown)(...args) };
    } catch (e) {
      reply = { type: 'reply', id, ok: false, error: encodeError(e) };
    }
    parent.postMessage(reply);
  });
  parent.postMessage({ type: 'ready' } satisfies GuestMessage);
  // Starts paused like every new domain: the loop holds the thread until the test unpauses.
  loop.start();
}

// Tests also import this module on their own thread for its helpers: then there is no vCPU to start.
const parent = parentPort;
if (parent) parent.once('message', (boot: GuestBoot) => start(parent, boot));
