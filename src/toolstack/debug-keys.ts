// `xenode debug-keys`, as `xl debug-keys`: a key asks the hypervisor to dump some state into the
// host's log (`xenode dmesg`, as Xen's console ring and `xl dmesg`). Key 'e' is Xen's
// dump_evtchn_info: every domain's bound ports, with what an event lost between two domains needs
// to be told apart: which side holds it. For each domain its upcall byte and mask, its runstate,
// the events dom0's thread deferred for it (a held FIFO queue lock); under the FIFO ABI its
// control block's READY word, each queue's HEAD, the hypervisor's tail and lock, dom0's own walk
// (a guest's walk is in its own thread: not known here) and the chain the consumer reaches; for
// each port Xen's [pending/masked/linked] and the event word. Then the rings of dom0's blkback:
// an event lost on a ring shows as requests produced and not consumed with nothing pending.
// Read without locks, while events flow: a snapshot, as Xen's own is.
import { EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_NAMES, EVTCHNSTAT_unbound, EVTCHNSTAT_virq, SHINFO_EVTCHN_MASK, SHINFO_EVTCHN_PENDING, EVTCHN_FIFO_PRIORITY_MIN } from '../abi/event_channel.js';
import { XenError } from '../errors.js';
import { deferredEvents, maxPorts, readPort, UPCALL_WORD } from '../hypervisor/evtchn.js';
import { CHAIN_MAX, fifoChain, fifoQueueState, hex, type FifoLink, type FifoQueueState } from '../hypervisor/evtchn-fifo-dump.js';
import { controlWord, eventWord, fifoActive, fifoPortQueues, LINKED, MASKED, PENDING } from '../hypervisor/evtchn-fifo.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import { CB_RUNSTATE, EV_STATE, portBase } from '../hypervisor/layout.js';
import type { DomainView } from '../hypervisor/memory.js';
import type { UpcallLoop } from '../hypervisor/upcall.js';
import type { BackQueueSnapshot } from '../drivers/blk/back/queue.js';
import { EVTCHN_DUMP_HEADER } from './contract.js';
import { runningDom0Blkback, type DeviceHost } from './devices.js';

/** The keys `xenode debug-keys` knows, with what each dumps (Xen's keyhandler descriptions). */
const DEBUG_KEYS: Readonly<Record<string, string>> = { e: 'dump evtchn info' };

const RUNSTATES = ['running', 'runnable', 'blocked', 'offline'];

/** What a dump reads: the domains, dom0's upcall loop (its FIFO walk), and dom0 blkback's rings by frontend. */
export interface EvtchnDumpSource {
  readonly domains: readonly Domain[];
  readonly dom0Loop: Pick<UpcallLoop, 'fifoWalkAt'>;
  /** Each blkback device of dom0: its frontend, its directory, its rings' indexes. */
  readonly blkRings: readonly { readonly frontendId: number; readonly dir: string; readonly rings: readonly BackQueueSnapshot[] }[];
}

/** Check `keys` (each one xenode knows) before anything is dumped. */
export function checkDebugKeys(keys: string): void {
  if (keys === '') throw new XenError('EINVAL', 'no debug key given');
  for (const k of keys) {
    if (!Object.hasOwn(DEBUG_KEYS, k)) throw new XenError('EINVAL', `debug key '${k}' is not handled (known: ${Object.entries(DEBUG_KEYS).map(([c, what]) => `'${c}' ${what}`).join(', ')})`);
  }
}

/** Xen's [p/m/l] of a port and, under the FIFO ABI, its event word and queues. */
function portBits(v: DomainView, port: number, queues: readonly FifoQueueState[] | null): string {
  if (queues) {
    const w = eventWord(v, port);
    if (w < 0) return '[no page]';
    const word = Atomics.load(v.mem32, w);
    const { priority, lastQueue } = fifoPortQueues(v, port);
    // LINKED, and not on the chain its queue's consumer walks (read to its end): no later event of
    // this port is linked again, and none of those after it is reached. Or linked just after the read.
    const q = queues[lastQueue];
    // A guest's walk is not known here: one past its HEAD has unlinked what leads from HEAD to it.
    const orphan = word & LINKED && q && q.chain.length < CHAIN_MAX && !q.chain.some((l) => l.port === port)
      ? (q.walk === null ? ' not reached from HEAD' : ' ORPHANED?') : '';
    return `[${word & PENDING ? 1 : 0}/${word & MASKED ? 1 : 0}/${word & LINKED ? 1 : 0}] w=${hex(word)} q=${priority}/${lastQueue}${orphan}`;
  }
  const bit = (base: number): number => (Atomics.load(v.mem32, (base >> 2) + (port >>> 5)) >>> (port & 31)) & 1;
  return `[${bit(SHINFO_EVTCHN_PENDING)}/${bit(SHINFO_EVTCHN_MASK)}]`;
}

/** One domain's part of key 'e'. */
export function dumpDomainEvtchn(d: Domain, walkAt: (q: number) => number | null): string[] {
  const v = d.view;
  const upcall = Atomics.load(v.mem32, UPCALL_WORD);
  const rs = Atomics.load(v.ctl, CB_RUNSTATE);
  const fifo = fifoActive(v);
  const out = [
    `Event channel information for domain ${d.domid} (${d.name}, ${d.stateString}):`,
    `  upcall_pending=${upcall & 0xff} upcall_mask=${(upcall >> 8) & 0xff} runstate=${RUNSTATES[rs] ?? rs} deferred_by_dom0=${deferredEvents(v)} abi=${fifo ? 'fifo' : '2-level'}`,
  ];
  // Where its guest put the control block: one it moved out of its RAM has no queues to show.
  const cbOk = fifo && controlWord(v) >= 0;
  if (fifo && !cbOk) out.push('  control block out of range');
  const queues = fifo ? Array.from({ length: cbOk ? EVTCHN_FIFO_PRIORITY_MIN + 1 : 0 }, (_, q) => fifoQueueState(v, q, walkAt)) : null;
  // Every queue with anything in it, or its lock held.
  for (const s of queues ?? []) if (s.ready || s.head || s.tail || s.lock) out.push(`  ${queueLine(v, s)}`);
  out.push(`    port [p/m${queues ? '/l' : ''}]`);
  for (let p = 1; p <= maxPorts(v); p++) {
    const st = Atomics.load(v.ctl, portBase(v, p) + EV_STATE);
    if (st === EVTCHNSTAT_closed) continue;
    const { a, b } = readPort(v, p);
    const to = st === EVTCHNSTAT_interdomain ? ` d=${a} p=${b}` : st === EVTCHNSTAT_unbound ? ` d=${a}` : st === EVTCHNSTAT_virq ? ` v=${a}` : '';
    out.push(`    ${String(p).padStart(4)} ${portBits(v, p, queues)}: s=${st} (${EVTCHNSTAT_NAMES[st] ?? '?'})${to}`);
  }
  return out;
}

/** A FIFO queue's line: READY, HEAD, the hypervisor's tail and lock, the consumer's walk and the chain it reaches. */
function queueLine(v: DomainView, s: FifoQueueState): string {
  const links = (ls: readonly FifoLink[]): string => ls.map((l) => `${l.port}:${l.word}`).join(' ');
  // A tail the consumer's chain does not reach: events linked after it are orphaned (or its walk is behind).
  const lost = s.tail && !s.reachesTail ? ` (tail not reached; from it: [${links(fifoChain(v, s.tail))}])` : '';
  return `queue ${s.q}: READY=${s.ready ? 1 : 0} HEAD=${s.head} tail=${s.tail} lock=${hex(s.lock)} walk=${s.walk ?? '?'} chain=[${links(s.chain)}]${lost}`;
}

/** Key 'e': every domain's event channels, then dom0 blkback's rings. */
export function dumpEvtchnInfo(src: EvtchnDumpSource): string[] {
  const out = [EVTCHN_DUMP_HEADER];
  for (const d of src.domains) {
    // Words its guest wrote: whatever it put there, the other domains are dumped.
    try {
      out.push(...dumpDomainEvtchn(d, d.domid === 0 ? (q) => src.dom0Loop.fifoWalkAt(q) : () => null));
    } catch (e) {
      out.push(`Event channel information for domain ${d.domid}: not dumped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (src.blkRings.length) out.push('Block rings of dom0 blkback (req_prod req_cons req_event / rsp_prod_pvt rsp_prod rsp_event, in flight):');
  for (const b of src.blkRings) {
    for (const [i, r] of b.rings.entries()) {
      out.push(`  d${b.frontendId} ${b.dir} ring ${i} port ${r.port}: req ${r.reqProd} ${r.reqCons} ${r.reqEvent} / rsp ${r.rspProdPvt} ${r.rspProd} ${r.rspEvent}, ${r.inflight} in flight, ${r.state}`);
    }
  }
  return out;
}

/** Key 'e' on a host: its domains (shells too), dom0's loop, and dom0 blkback's rings if it runs. */
export async function hostEvtchnInfo(host: DeviceHost): Promise<string[]> {
  const blk = await runningDom0Blkback(host)?.catch(() => undefined);
  const blkRings = [...(blk?.devices.values() ?? [])].map((b) => ({ frontendId: b.frontendId, dir: b.dir, rings: b.rings }));
  return dumpEvtchnInfo({ domains: host.hv.domains(), dom0Loop: host.loop, blkRings });
}
