// Which sectors of a disk being received a mirrored write reached (disks.ts): one bit a sector,
// in pieces made only where a write lands, so that what it costs follows what the guest writes
// in the migration, not the disk's size (a byte for each of its sectors was 16 GiB for an 8 TiB
// disk, past what a typed array may hold).

/**
 * Sectors a piece covers: 2 MiB of disk in 512 bytes of bits, so that a 512-byte write (a
 * sender's smallest record) costs the receiver about what it carried, not 16 times that.
 */
const PIECE_SECTORS = 4096;

export class SectorMap {
  readonly #pieces = new Map<number, Uint8Array>();

  /** Bytes of bits held: what the mirrored writes cost the receiver (its log says). */
  get bytes(): number {
    return this.#pieces.size * (PIECE_SECTORS / 8);
  }

  /** Sectors [start, end) are marked. */
  mark(start: number, end: number): void {
    for (let s = start; s < end;) {
      const key = Math.floor(s / PIECE_SECTORS);
      let bits = this.#pieces.get(key);
      if (!bits) this.#pieces.set(key, (bits = new Uint8Array(PIECE_SECTORS / 8)));
      const stop = Math.min(end, (key + 1) * PIECE_SECTORS);
      for (let i = s - key * PIECE_SECTORS, n = stop - key * PIECE_SECTORS; i < n; i++) bits[i >>> 3]! |= 1 << (i & 7);
      s = stop;
    }
  }

  has(sector: number): boolean {
    const key = Math.floor(sector / PIECE_SECTORS);
    const i = sector - key * PIECE_SECTORS;
    return ((this.#pieces.get(key)?.[i >>> 3] ?? 0) & (1 << (i & 7))) !== 0;
  }
}
