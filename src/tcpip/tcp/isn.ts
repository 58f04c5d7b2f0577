// Initial sequence numbers as RFC 6528 makes them and timestamp offsets as Linux makes them
// (secure_tcp_seq, secure_tcp_ts_off): a keyed hash of the connection's addresses (and ports,
// for the ISN) under secrets drawn once per stack, plus, for the ISN, a clock ticking every 4 us.
// A new connection on a 4-tuple so starts beyond the sequence numbers and timestamps of the one
// before it, and a peer that still holds that one in TIME-WAIT takes its SYN (RFC 6191), where a
// random ISN fell below the old one half the time and the SYN waited out a retransmission
// timeout; an off-path attacker still has to guess the secret. The hash is HalfSipHash-2-4
// (Aumasson and Bernstein's SipHash on 32-bit words; Linux's hsiphash), keyed with 64 bits.

/** RFC 6528's M: the clock's ticks per millisecond (a 4 us timer). */
const TICKS_PER_MS = 250;

/** The secrets as 32-bit words (the ISN's key, then the timestamps'), as a suspend record carries them. */
export type SecretWords = readonly [number, number, number, number];

export class SequenceSecrets {
  readonly #seqKey: readonly [number, number];
  readonly #tsKey: readonly [number, number];

  /** `source`: a uniform random in [0, 1), drawn four times, or the words of a stack carried on (`words`). */
  constructor(source: (() => number) | SecretWords) {
    let w: SecretWords;
    if (typeof source === 'function') {
      const word = () => Math.floor(source() * 0x100000000) >>> 0;
      w = [word(), word(), word(), word()];
    } else w = source;
    this.#seqKey = [w[0], w[1]];
    this.#tsKey = [w[2], w[3]];
  }

  get words(): SecretWords {
    return [this.#seqKey[0], this.#seqKey[1], this.#tsKey[0], this.#tsKey[1]];
  }

  /** The ISN of a connection from localAddr:localPort to remoteAddr:remotePort opened at `nowMs`. */
  isn(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, nowMs: number): number {
    const f = halfSipHash24(this.#seqKey[0], this.#seqKey[1], [localAddr, remoteAddr, ((localPort << 16) | remotePort) >>> 0]);
    return (f + Math.floor(nowMs * TICKS_PER_MS)) >>> 0;
  }

  /** What our timestamps towards `remoteAddr` add to the clock: one offset per pair of addresses, so they only grow from one connection to the next. */
  tsOffset(localAddr: number, remoteAddr: number): number {
    return halfSipHash24(this.#tsKey[0], this.#tsKey[1], [localAddr, remoteAddr]);
  }
}

const rotl = (x: number, b: number) => (x << b) | (x >>> (32 - b));

/** The hash's state words, v0..v3: one set for the module, not a closure's per call (a connection hashes twice as it opens). */
const v = new Int32Array(4);

function sipRound(): void {
  v[0] = v[0]! + v[1]!; v[1] = rotl(v[1]!, 5); v[1] ^= v[0]!; v[0] = rotl(v[0]!, 16);
  v[2] = v[2]! + v[3]!; v[3] = rotl(v[3]!, 8); v[3] ^= v[2]!;
  v[0] = v[0]! + v[3]!; v[3] = rotl(v[3]!, 7); v[3] ^= v[0]!;
  v[2] = v[2]! + v[1]!; v[1] = rotl(v[1]!, 13); v[1] ^= v[2]!; v[2] = rotl(v[2]!, 16);
}

function absorb(m: number): void {
  v[3] ^= m;
  sipRound();
  sipRound();
  v[0] ^= m;
}

/** HalfSipHash-2-4 with a 32-bit result, of the message made of `words` (each little-endian, 4 bytes). */
export function halfSipHash24(k0: number, k1: number, words: readonly number[]): number {
  v[0] = k0;
  v[1] = k1;
  v[2] = 0x6c796765 ^ k0;
  v[3] = 0x74656462 ^ k1;
  for (const w of words) absorb(w | 0);
  absorb((words.length * 4) << 24); // the length in bytes, in the last byte; no bytes left over
  v[2] ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  return (v[1]! ^ v[3]!) >>> 0;
}
