// The console daemon of dom0 (xenconsoled): for every guest it maps the console page through
// the reserved grant entry, binds the console event channel, and moves bytes between the
// page and whoever watches the domain's console, keeping a bounded log so output printed
// before anyone attached is not lost.
import { EventEmitter } from 'node:events';
import type { Hypercalls } from '../../hypervisor/hypercalls.js';
import { bindInterdomain, type BoundPort } from '../../hypervisor/port.js';
import type { UpcallLoop } from '../../hypervisor/upcall.js';
import { ByteRing } from './ring.js';

interface GuestConsole {
  readonly handle: number;
  readonly port: BoundPort;
  readonly out: ByteRing;
  readonly in: ByteRing;
  log: Uint8Array[];
  logBytes: number;
  pendingInput: Uint8Array[];
  /** Bytes in pendingInput: a viewer may type faster than the guest reads. */
  pendingBytes: number;
}

/**
 * Typed bytes held for a guest that does not read its console (a paste or a flood): beyond
 * this, input is dropped, as a serial line drops what its receiver has no room for.
 */
export const MAX_PENDING_INPUT = 64 * 1024;

export interface ConsoleDaemonEvents {
  output: [domid: number, data: Uint8Array];
  /** The guest corrupted its console page; its console is detached. */
  broken: [domid: number, reason: string];
}

export class ConsoleDaemon extends EventEmitter<ConsoleDaemonEvents> {
  #hc: Hypercalls;
  #loop: UpcallLoop;
  #logLimit: number;
  #consoles = new Map<number, GuestConsole>();

  constructor(hc: Hypercalls, loop: UpcallLoop, opts: { logLimit?: number } = {}) {
    super();
    this.#hc = hc;
    this.#loop = loop;
    this.#logLimit = opts.logLimit ?? 64 * 1024;
  }

  /** Connect to a guest's console: `ringRef` is its console grant, `port` its unbound event channel. */
  async attach(domid: number, ringRef: number, remotePort: number): Promise<void> {
    if (this.#consoles.has(domid)) return;
    await this.#hc.connect(domid);
    const { handle, page } = this.#hc.grantMap(domid, ringRef, false);
    let port: BoundPort;
    try {
      port = await bindInterdomain(this.#hc, this.#loop, domid, remotePort);
    } catch (e) {
      this.#hc.grantUnmap(handle);
      throw e;
    }
    const c: GuestConsole = {
      handle,
      port,
      out: new ByteRing(page, 'out', 'consumer'),
      in: new ByteRing(page, 'in', 'producer'),
      log: [],
      logBytes: 0,
      pendingInput: [],
      pendingBytes: 0,
    };
    this.#consoles.set(domid, c);
    port.onEvent(() => this.#service(domid));
  }

  #service(domid: number): void {
    const c = this.#consoles.get(domid);
    if (!c) return;
    try {
      const data = c.out.read();
      let moved = data.length > 0;
      if (moved) {
        this.#record(c, data);
        this.emit('output', domid, data);
      }
      while (c.pendingInput.length) {
        const head = c.pendingInput[0]!;
        const n = c.in.write(head);
        c.pendingBytes -= n;
        moved ||= n > 0;
        if (n < head.length) {
          c.pendingInput[0] = head.subarray(n);
          break;
        }
        c.pendingInput.shift();
      }
      // The guest may be waiting for room in its out ring, or for input.
      if (moved) c.port.notify();
    } catch (e) {
      this.emit('broken', domid, (e as Error).message);
      this.detach(domid);
    }
  }

  #record(c: GuestConsole, data: Uint8Array): void {
    c.log.push(data);
    c.logBytes += data.length;
    while (c.logBytes > this.#logLimit && c.log.length > 1) c.logBytes -= c.log.shift()!.length;
  }

  /** Read whatever the guest left in its ring (before it is destroyed). */
  drain(domid: number): void {
    this.#service(domid);
  }

  /** Type into the guest's console; returns how many bytes were taken (the rest found no room). */
  input(domid: number, data: Uint8Array): number {
    const c = this.#consoles.get(domid);
    if (!c) return 0;
    const take = Math.min(data.length, MAX_PENDING_INPUT - c.pendingBytes);
    if (take <= 0) return 0;
    c.pendingInput.push(data.slice(0, take));
    c.pendingBytes += take;
    this.#service(domid);
    return take;
  }

  /**
   * The console output kept so far (bounded), oldest first. What the guest has put in its ring
   * and not yet signalled is read first: a guest's last words (a crash's trace) come just before
   * its shutdown, which a caller may see before the event that would have moved them.
   */
  log(domid: number): Uint8Array {
    this.#service(domid);
    return Buffer.concat(this.#consoles.get(domid)?.log ?? []);
  }

  has(domid: number): boolean {
    return this.#consoles.has(domid);
  }

  detach(domid: number): void {
    const c = this.#consoles.get(domid);
    if (!c) return;
    this.#consoles.delete(domid);
    c.port.close();
    this.#hc.grantUnmap(c.handle);
  }
}
