// The guest end of the PV console (as a Mini-OS or Linux hvc_xen frontend): output goes into
// the page's out ring and an event tells the console daemon in dom0; input arrives in the in
// ring. Output that does not fit waits for the daemon to make room.
import { ByteRing } from './ring.js';

export interface ConsolePort {
  notify(): void;
  onEvent(handler: () => void): () => void;
}

const encoder = new TextEncoder();

export class ConsoleFront {
  #out: ByteRing;
  #in: ByteRing;
  #port: ConsolePort;
  #queue: Uint8Array[] = [];
  /** Bytes written, and bytes put into the ring (the daemon's progress), since the start. */
  #queued = 0;
  #moved = 0;
  /** Flushes waiting until #moved reaches their mark, in order. */
  #flushed: { readonly upTo: number; readonly resolve: () => void }[] = [];
  #input = new Set<(data: Uint8Array) => void>();
  #broken = false;

  constructor(page: Uint8Array, port: ConsolePort) {
    this.#out = new ByteRing(page, 'out', 'producer');
    this.#in = new ByteRing(page, 'in', 'consumer');
    this.#port = port;
    port.onEvent(() => {
      this.#pump();
      this.#readInput();
    });
  }

  write(data: string | Uint8Array): void {
    if (this.#broken) return;
    const bytes = typeof data === 'string' ? encoder.encode(data) : data.slice();
    this.#queued += bytes.length;
    this.#queue.push(bytes);
    this.#pump();
  }

  /**
   * Resolves once everything written so far is in the ring, where the daemon will find it. With
   * `stallMs`, also once the daemon has made no room for that long: a daemon that is gone must
   * not hold the guest, while a slow one (a loaded dom0) still gets everything, however long
   * that takes, and output written after the flush does not hold it.
   */
  flush(stallMs?: number): Promise<void> {
    if (this.#moved >= this.#queued || this.#broken) return Promise.resolve();
    const upTo = this.#queued;
    const all = new Promise<void>((resolve) => this.#flushed.push({ upTo, resolve }));
    if (stallMs === undefined) return all;
    return new Promise<void>((resolve) => {
      let seen = this.#moved;
      const check = () => {
        if (this.#moved === seen) return resolve();
        seen = this.#moved;
        timer = setTimeout(check, stallMs);
      };
      let timer = setTimeout(check, stallMs);
      void all.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  onInput(handler: (data: Uint8Array) => void): () => void {
    this.#input.add(handler);
    return () => this.#input.delete(handler);
  }

  #pump(): void {
    let wrote = false;
    try {
      while (this.#queue.length) {
        const head = this.#queue[0]!;
        const n = this.#out.write(head);
        this.#moved += n;
        if (n > 0) wrote = true;
        if (n < head.length) {
          this.#queue[0] = head.subarray(n);
          break; // ring full: the daemon's event brings us back
        }
        this.#queue.shift();
      }
    } catch {
      // Our own page was scribbled on: the console is lost to us, and only to us.
      this.#broken = true;
      this.#queue = [];
    }
    if (wrote) this.#port.notify();
    // In the order they came (their marks only grow); once broken, nothing more moves.
    while (this.#flushed.length > 0 && (this.#broken || this.#flushed[0]!.upTo <= this.#moved)) this.#flushed.shift()!.resolve();
  }

  #readInput(): void {
    if (this.#broken || this.#in.pending === 0) return;
    let data: Uint8Array;
    try {
      data = this.#in.read();
    } catch {
      return;
    }
    this.#port.notify();
    for (const h of this.#input) h(data);
  }
}
