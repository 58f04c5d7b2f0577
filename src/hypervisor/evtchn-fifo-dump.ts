// A FIFO event's queues as both sides see them, for the diagnosis of an event that was sent and
// never handled (bench/blk.ts overstay()): the port's event word, and for its queue the control
// block's READY bit and HEAD, the hypervisor's private tail and lock word, where the consumer's
// walk is, and the chains (bounded) from there and from the port. An event LINKED but reached
// from neither the walk nor a READY queue's HEAD was lost by the linking side; one reached from
// them with READY and the upcall clear, by the consuming side. Read without locks, while events
// may still flow: a snapshot, which a send or a drain can change under it.
import { EVTCHN_FIFO_CB_HEAD, EVTCHN_FIFO_CB_READY, EVTCHN_FIFO_LINK_MASK } from '../abi/event_channel.js';
import { XenError } from '../errors.js';
import { controlWord, eventWord, fifoPortQueues, LINKED } from './evtchn-fifo.js';
import { CB_FIFO_CONTROL, CB_FIFO_QUEUE_LOCK, CB_FIFO_QUEUE_TAIL } from './layout.js';
import type { DomainView } from './memory.js';

/** How many links a chain is followed for. */
export const CHAIN_MAX = 64;

export interface FifoLink {
  readonly port: number;
  /** The event word in hex, or 'no page' for a port the event array does not cover. */
  readonly word: string;
}

export interface FifoQueueState {
  readonly q: number;
  /** The queue's bit in the control block's READY word. */
  readonly ready: boolean;
  /** The control block's HEAD: where the consumer starts once its walk reached the tail. */
  readonly head: number;
  /** The hypervisor's tail (where the next event is linked) and its queue lock word (0: free). */
  readonly tail: number;
  readonly lock: number;
  /** Where the consumer's walk is (0: at the tail; null: not known here). */
  readonly walk: number | null;
  /** The chain the consumer would walk next: from `walk`, or from `head` when that is 0. */
  readonly chain: readonly FifoLink[];
  readonly reachesPort: boolean;
  readonly reachesTail: boolean;
}

export interface FifoPortState {
  readonly port: number;
  readonly word: string;
  readonly priority: number;
  readonly lastQueue: number;
  /** Its priority's queue and, if another, the one it was last linked on. */
  readonly queues: readonly FifoQueueState[];
  /** The chain from the port itself (what is linked after it). */
  readonly fromPort: readonly FifoLink[];
}

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The ports linked from `from` on (each word's LINK while it is LINKED), at most CHAIN_MAX, no port twice. */
export function fifoChain(d: DomainView, from: number): FifoLink[] {
  const out: FifoLink[] = [];
  const seen = new Set<number>();
  for (let p = from; p > 0 && out.length < CHAIN_MAX && !seen.has(p);) {
    seen.add(p);
    const w = eventWord(d, p);
    if (w < 0) {
      out.push({ port: p, word: 'no page' });
      break;
    }
    const v = Atomics.load(d.mem32, w);
    out.push({ port: p, word: hex(v) });
    if (!(v & LINKED)) break;
    p = v & EVTCHN_FIFO_LINK_MASK;
  }
  return out;
}

/** Queue `q`'s state (EFAULT for a control block out of range); `port`: the one whose reach is asked (0: none); `walkAt`: the consumer's walk of a queue, if this thread runs it. */
export function fifoQueueState(d: DomainView, q: number, walkAt: (q: number) => number | null = () => null, port = 0): FifoQueueState {
  const m = d.mem32;
  // Its guest can rewrite where the control block is: one outside its RAM is not read.
  const cb = controlWord(d);
  if (cb < 0) throw new XenError('EFAULT', `d${d.domid}: FIFO control block out of range (${hex(Atomics.load(d.ctl, CB_FIFO_CONTROL))})`);
  const readyWord = Atomics.load(m, cb + (EVTCHN_FIFO_CB_READY >> 2));
  const head = Atomics.load(m, cb + (EVTCHN_FIFO_CB_HEAD >> 2) + q);
  const tail = Atomics.load(d.ctl, CB_FIFO_QUEUE_TAIL + q);
  const walk = walkAt(q);
  const chain = fifoChain(d, walk || head);
  return {
    q, ready: (readyWord & (1 << q)) !== 0, head, tail, lock: Atomics.load(d.ctl, CB_FIFO_QUEUE_LOCK + q), walk, chain,
    reachesPort: chain.some((l) => l.port === port), reachesTail: chain.some((l) => l.port === tail),
  };
}

/** `port`'s FIFO state and its queues' (the domain must use the FIFO ABI); `walkAt`: the consumer's walk of a queue, if this thread runs it. */
export function fifoPortState(d: DomainView, port: number, walkAt: (q: number) => number | null = () => null): FifoPortState {
  const { priority, lastQueue } = fifoPortQueues(d, port);
  const queue = (q: number): FifoQueueState => fifoQueueState(d, q, walkAt, port);
  const w = eventWord(d, port);
  return {
    port, word: w < 0 ? 'no page' : hex(Atomics.load(d.mem32, w)), priority, lastQueue,
    queues: priority === lastQueue ? [queue(priority)] : [queue(priority), queue(lastQueue)],
    fromPort: fifoChain(d, port),
  };
}
