// The TCP layer's connections by 4-tuple (our address is the stack's own): by the remote
// address, then both ports as one number. A segment's lookup builds nothing; a key string per
// segment cost its building and hashing on every request and answer.
import type { Ipv4 } from '../addr.js';

interface Keyed {
  readonly remoteAddr: Ipv4;
  readonly remotePort: number;
  readonly localPort: number;
}

const ports = (remotePort: number, localPort: number): number => remotePort * 65536 + localPort;

export class ConnectionTable<C extends Keyed> {
  readonly #byAddr = new Map<Ipv4, Map<number, C>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(remoteAddr: Ipv4, remotePort: number, localPort: number): C | undefined {
    return this.#byAddr.get(remoteAddr)?.get(ports(remotePort, localPort));
  }

  has(remoteAddr: Ipv4, remotePort: number, localPort: number): boolean {
    return this.get(remoteAddr, remotePort, localPort) !== undefined;
  }

  /** Add `c`, in place of any connection on its 4-tuple. */
  set(c: C): void {
    let m = this.#byAddr.get(c.remoteAddr);
    if (!m) this.#byAddr.set(c.remoteAddr, (m = new Map()));
    const k = ports(c.remotePort, c.localPort);
    if (!m.has(k)) this.#size++;
    m.set(k, c);
  }

  /** Remove `c` if it is the one on its 4-tuple; whether it was. */
  delete(c: C): boolean {
    const m = this.#byAddr.get(c.remoteAddr);
    const k = ports(c.remotePort, c.localPort);
    if (m?.get(k) !== c) return false;
    m.delete(k);
    this.#size--;
    if (m.size === 0) this.#byAddr.delete(c.remoteAddr);
    return true;
  }

  *values(): IterableIterator<C> {
    for (const m of this.#byAddr.values()) yield* m.values();
  }
}
