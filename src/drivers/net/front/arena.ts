// netfront's transmit arena: the pages granted (read-only) to the backend that outgoing frames
// are sent from, one slot per page. A frame from write() is copied into any free pages when it
// is posted; a frame built in place (Net.writeInPlace) takes a run of pages whose frames are
// consecutive in the guest's RAM, so that it is one contiguous Uint8Array the TCP/IP stack
// writes straight into, and netfront posts those pages with no copy at all. The arena grows by
// blocks as frames need it, up to a bound, and keeps its pages for the life of the connection
// (netback reads them with GNTTABOP_copy, so a long-held grant costs it nothing).
import { PAGE_SIZE } from '../../../abi/xen.js';
import type { NetPages } from './pages.js';

/** Pages the arena grows by. */
const BLOCK = 32;

/** A frame's pages in the arena; `bytes` is their contiguous view when they follow one another in RAM (a frame built in place, or copied in whole). */
export interface TxRun {
  readonly pages: readonly number[];
  readonly bytes: Uint8Array | undefined;
}

export class TxArena {
  readonly #pages: NetPages;
  readonly #maxPages: number;
  /** Per page, by arena index: its grant reference, its frame number, its view, whether a frame holds it. */
  readonly #ref: number[] = [];
  readonly #pfn: number[] = [];
  readonly #view: Uint8Array[] = [];
  /** Per page, the run of that page alone: a one-slot frame (most of a stream of small ones) allocates nothing. */
  readonly #single: TxRun[] = [];
  #busy = new Uint8Array(0);
  #free = 0;
  /** Where the last search ended: frames are freed in about the order they were placed. */
  #cursor = 0;

  constructor(pages: NetPages, maxPages: number) {
    this.#pages = pages;
    this.#maxPages = maxPages;
  }

  ref(page: number): number {
    return this.#ref[page]!;
  }

  view(page: number): Uint8Array {
    return this.#view[page]!;
  }

  /** `n` free pages, anywhere (a frame copied in slot by slot); undefined while there are not that many. */
  allocAny(n: number): TxRun | undefined {
    while (this.#free < n) if (!this.#grow()) return undefined;
    const busy = this.#busy;
    if (n === 1) {
      let i = this.#cursor;
      while (busy[i]) i = (i + 1) % busy.length;
      busy[i] = 1;
      this.#free--;
      this.#cursor = (i + 1) % busy.length;
      return this.#single[i]!;
    }
    const pages: number[] = [];
    for (let i = this.#cursor; pages.length < n; i = (i + 1) % busy.length) {
      if (!busy[i]) pages.push(i);
    }
    return this.#take(pages, undefined);
  }

  /** Pages for a frame of `len` bytes, consecutive in RAM, with its view; undefined when there is no such run. */
  allocContiguous(len: number): TxRun | undefined {
    for (;;) {
      const run = this.findContiguous(len);
      if (run || !this.#grow()) return run;
    }
  }

  /** allocContiguous among the pages the arena has, without growing it. */
  findContiguous(len: number): TxRun | undefined {
    const n = Math.max(1, Math.ceil(len / PAGE_SIZE));
    const first = this.#findRun(n);
    if (first < 0) return undefined;
    const pages = new Array<number>(n);
    for (let k = 0; k < n; k++) pages[k] = first + k;
    return this.#take(pages, new Uint8Array(this.#pages.memory, this.#pfn[first]! * PAGE_SIZE, len));
  }

  free(run: TxRun): void {
    for (const p of run.pages) this.#busy[p] = 0;
    this.#free += run.pages.length;
  }

  #take(pages: number[], bytes: Uint8Array | undefined): TxRun {
    for (const p of pages) this.#busy[p] = 1;
    this.#free -= pages.length;
    this.#cursor = (pages[pages.length - 1]! + 1) % this.#busy.length;
    return { pages, bytes };
  }

  /** The first of `n` free pages whose frames follow one another, from the cursor on (wrapping), or -1. */
  #findRun(n: number): number {
    const busy = this.#busy;
    const pfn = this.#pfn;
    const size = busy.length;
    if (this.#free < n) return -1;
    // From the cursor to the end, then from the start (a run does not wrap).
    for (let from = this.#cursor; ; from = 0) {
      let start = from;
      for (let i = from; i < size; i++) {
        if (busy[i]) {
          start = i + 1;
          continue;
        }
        if (i > start && pfn[i] !== pfn[i - 1]! + 1) start = i;
        if (i - start + 1 === n) return start;
      }
      if (from === 0) return -1;
    }
  }

  /** Another block of pages (sorted by frame number, so runs form); false at the bound or when the domain has no memory or grant references left. */
  #grow(): boolean {
    const n = Math.min(BLOCK, this.#maxPages - this.#ref.length);
    if (n <= 0) return false;
    let got;
    try {
      got = this.#pages.grantMany(n);
    } catch {
      return false;
    }
    got.sort((a, b) => a.pfn - b.pfn);
    for (const p of got) {
      this.#ref.push(p.ref);
      this.#pfn.push(p.pfn);
      this.#view.push(p.bytes);
      this.#single.push({ pages: [this.#ref.length - 1], bytes: undefined });
    }
    const busy = new Uint8Array(this.#ref.length);
    busy.set(this.#busy);
    this.#busy = busy;
    this.#free += n;
    return true;
  }
}
