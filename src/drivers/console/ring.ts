// One direction of the console page: a byte ring with free-running u32 indices. Each side
// keeps a private copy of the index it owns and reads the peer's index once per pass, so a
// peer that scribbles on the page cannot make us read or write outside the ring.
import { XenError } from '../../errors.js';

export class ByteRing {
  readonly #data: Uint8Array;
  readonly #idx: Uint32Array;
  readonly #cons: number;
  readonly #prod: number;
  readonly #size: number;
  /** Our own index (cons if we consume, prod if we produce). */
  #mine: number;

  constructor(page: Uint8Array, dataOffset: number, size: number, consOffset: number, prodOffset: number, side: 'producer' | 'consumer') {
    this.#data = page.subarray(dataOffset, dataOffset + size);
    this.#idx = new Uint32Array(page.buffer, page.byteOffset, page.byteLength >> 2);
    this.#cons = consOffset >> 2;
    this.#prod = prodOffset >> 2;
    this.#size = size;
    this.#mine = Atomics.load(this.#idx, side === 'producer' ? this.#prod : this.#cons);
  }

  #outstanding(prod: number, cons: number): number {
    const n = (prod - cons) >>> 0;
    if (n > this.#size) throw new XenError('EIO', `console ring indices are corrupt (prod ${prod}, cons ${cons})`);
    return n;
  }

  /** Producer: copy as much of `src` as fits; returns the bytes written. */
  write(src: Uint8Array): number {
    const cons = Atomics.load(this.#idx, this.#cons);
    let prod = this.#mine;
    const room = this.#size - this.#outstanding(prod, cons);
    const n = Math.min(room, src.length);
    for (let i = 0; i < n; ) {
      const at = prod & (this.#size - 1);
      const chunk = Math.min(n - i, this.#size - at);
      this.#data.set(src.subarray(i, i + chunk), at);
      i += chunk;
      prod = (prod + chunk) >>> 0;
    }
    this.#mine = prod;
    Atomics.store(this.#idx, this.#prod, prod);
    return n;
  }

  /** Consumer: take everything outstanding (copied out of the page). */
  read(): Uint8Array {
    const prod = Atomics.load(this.#idx, this.#prod);
    let cons = this.#mine;
    const n = this.#outstanding(prod, cons);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; ) {
      const at = cons & (this.#size - 1);
      const chunk = Math.min(n - i, this.#size - at);
      out.set(this.#data.subarray(at, at + chunk), i);
      i += chunk;
      cons = (cons + chunk) >>> 0;
    }
    this.#mine = cons;
    Atomics.store(this.#idx, this.#cons, cons);
    return out;
  }

  /** Bytes the producer wrote that the consumer has not taken (as the consumer's side sees it). */
  get pending(): number {
    return (Atomics.load(this.#idx, this.#prod) - Atomics.load(this.#idx, this.#cons)) >>> 0;
  }
}
