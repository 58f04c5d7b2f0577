// Suspend and resume as the library OS does them (Mirage's and Linux's PV suspend, with the JS
// heap left behind): on a suspend request the program's onSuspend handler hands over its state,
// the runtime writes the suspend record (abi/suspend.ts) into RAM, quiesces its frontends (block
// requests in flight complete and nothing new is issued, net stops posting), flushes the
// console and calls SCHEDOP_shutdown(suspend). If the domain is resumed in place (a checkpoint,
// a failed save or migration) the call returns and everything carries on; the addresses of the
// TCP/IP stacks are announced again. A domain restored elsewhere boots afresh and finds the
// record through start_info (resumeRecord), and main(os) runs again with os.resumed. The
// TCP/IP stacks' state travels in the record too (taken after the program's handler, once each
// stack has stopped taking frames, so that nothing is acknowledged that the record lacks).
import { PAGE_SIZE } from '../abi/xen.js';
import { encodeSuspendRecord, decodeSuspendRecord, type SuspendRecord } from '../abi/suspend.js';
import { allocContiguous } from '../drivers/ringpages.js';
import type { Hypercalls } from '../hypervisor/hypercalls.js';
import { CB_RAM_HWM, firstRamPfn } from '../hypervisor/layout.js';
import { wallMs } from '../hypervisor/monotonic.js';
import type { IoRanges } from './iopages.js';
import type { SuspendHandler } from './lifecycle.js';
import type { GuestStacks } from './tcpip.js';
import { within } from '../within.js';

/** A frontend as a suspend sees it. */
export interface Quiescable {
  quiesce(): Promise<void>;
  release(): void;
}

/** How long a suspend waits for the devices' requests in flight before it goes on regardless. */
export const QUIESCE_TIMEOUT_MS = 2000;
/** How long it waits for the console ring to drain. */
const CONSOLE_FLUSH_MS = 1000;

export interface SuspendDeps {
  readonly hc: Hypercalls;
  handler(): SuspendHandler | undefined;
  /** The program's resume handler: told when a suspend that asked its handler ends with the domain here. */
  resumeHandler(): (() => void) | undefined;
  ioRanges(): IoRanges;
  readonly stacks: Pick<GuestStacks, 'freeze' | 'thaw'>;
  flushConsole(): Promise<void>;
  log(line: string): void;
  /** Where the suspend's time went (epoch ms per step), told before the domain stops. */
  report?(marks: Readonly<Record<string, number>>): void;
}

export class Suspender {
  readonly #deps: SuspendDeps;
  readonly #devices: Promise<Quiescable>[] = [];
  #busy = false;

  constructor(deps: SuspendDeps) {
    this.#deps = deps;
  }

  /** A frontend the program opened. */
  trackDevice(p: Promise<Quiescable>): void {
    this.#devices.push(p);
  }

  async #settled<T>(list: Promise<T>[]): Promise<T[]> {
    const all = await Promise.allSettled(list);
    return all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /**
   * Suspend; returns once resumed in place. A handler that throws, or a state that cannot be
   * cloned, aborts the suspend (the toolstack's wait times out and the domain runs on).
   */
  async suspend(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const { hc, log } = this.#deps;
    let pfns: number[] = [];
    let devices: Quiescable[] = [];
    let frozen = false;
    let resumedHere = false;
    let asked = false;
    const marks: Record<string, number> = { asked: wallMs() };
    try {
      const handler = this.#deps.handler();
      asked = handler !== undefined;
      const state = handler ? await handler() : undefined;
      marks.handler = wallMs();
      frozen = true;
      const tcpip = this.#deps.stacks.freeze();
      marks.frozen = wallMs();
      const record: SuspendRecord = { version: 1, hasState: handler !== undefined, state, io: this.#deps.ioRanges(), tcpip };
      const bytes = encodeSuspendRecord(record);
      pfns = allocContiguous(hc, Math.ceil(bytes.length / PAGE_SIZE));
      new Uint8Array(hc.memory.buffers.memory, pfns[0]! * PAGE_SIZE, bytes.length).set(bytes);
      devices = await this.#settled(this.#devices);
      await within(Promise.all(devices.map((d) => d.quiesce())), QUIESCE_TIMEOUT_MS);
      marks.quiesced = wallMs();
      await within(this.#deps.flushConsole(), CONSOLE_FLUSH_MS);
      marks.flushed = wallMs();
      this.#deps.report?.(marks);
      await hc.shutdown('suspend', { pfn: pfns[0]!, bytes: bytes.length });
      // Resumed in place: the same backends, rings and heap.
      resumedHere = true;
    } catch (e) {
      log(`suspend refused: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      if (pfns.length) hc.decreaseReservation(pfns);
      for (const d of devices) d.release();
      if (frozen) this.#deps.stacks.thaw(resumedHere);
      this.#busy = false;
      if (asked) {
        try {
          this.#deps.resumeHandler()?.();
        } catch (e) {
          log(`resume handler: ${(e as Error)?.message ?? String(e)}`);
        }
      }
    }
  }
}

/**
 * The record a restored domain resumes from (its frames named in start_info), and the RAM it
 * frees: every frame the image populated (below `hwm`: frames above it are those the new runtime
 * took before, a parked restore's vifs) but the program's I/O pages belonged to the old runtime.
 */
export function resumeRecord(hc: Hypercalls, pfn: number, bytes: number, hwm = Atomics.load(hc.memory.ctl, CB_RAM_HWM)): SuspendRecord {
  const view = hc.memory;
  const first = firstRamPfn(view.geometry);
  if (pfn < first || pfn + Math.ceil(bytes / PAGE_SIZE) > hwm) throw new RangeError(`the suspend record at pfn ${pfn} is outside RAM`);
  const record = decodeSuspendRecord(new Uint8Array(view.buffers.memory, pfn * PAGE_SIZE, bytes).slice(), first, hwm);
  // The frames between the kept ranges, walked in order (no set of every kept frame: the
  // program's I/O pages are most of RAM in a big guest, and this runs in the downtime).
  const kept = [...record.io].sort((x, y) => x[0] - y[0]);
  const free: number[] = [];
  let p = first;
  for (const [start, n] of [...kept, [hwm, 0] as const]) {
    for (; p < start; p++) free.push(p);
    p = Math.max(p, start + n);
  }
  if (free.length) hc.decreaseReservation(free);
  return record;
}
