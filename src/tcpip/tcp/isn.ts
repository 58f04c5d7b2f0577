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

/** HalfSipHash-2-4 with a 32-bit result, of the message made of `words` (each little-endian, 4 bytes). */
export function halfSipHash24(k0: number, k1: number, words: readonly number[]): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = (0x6c796765 ^ k0) | 0;
  let v3 = (0x74656462 ^ k1) | 0;
  const round = () => {
    v0 = (v0 + v1) | 0; v1 = rotl(v1, 5); v1 ^= v0; v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0; v3 = rotl(v3, 8); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = rotl(v3, 7); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = rotl(v1, 13); v1 ^= v2; v2 = rotl(v2, 16);
  };
  const absorb = (m: number) => {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  for (const w of words) absorb(w | 0);
  absorb((words.length * 4) << 24); // the length in bytes, in the last byte; no bytes left over
  v2 ^= 0xff;
  round();
  round();
  round();
  round();
  return (v1 ^ v3) >>> 0;
}
