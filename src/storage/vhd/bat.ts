// The block allocation table: one big-endian 32-bit sector offset a block (BAT_UNUSED: not
// allocated), padded to whole sectors. Checked at open so that no later read or write can be
// sent into the headers, past the end of the file or onto another block.
import { BAT_UNUSED, VHD_SECTOR, VhdError } from './format.js';

/** Bytes the table occupies in the file. */
export function batBytes(entries: number): number {
  return Math.ceil((entries * 4) / VHD_SECTOR) * VHD_SECTOR;
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The table's entries, read from `b` (whose bytes are swapped in place when its view allows,
 * else copied): natively, as a 2040 GiB image has a million of them, and without a second
 * 4 MiB buffer (fresh memory costs a page fault a page here).
 */
export function decodeBat(b: Uint8Array, entries: number): Uint32Array {
  const bat = b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, entries) : new Uint32Array(entries);
  const bytes = Buffer.from(bat.buffer, bat.byteOffset, entries * 4);
  if (bat.buffer !== b.buffer) bytes.set(b.subarray(0, entries * 4));
  if (LITTLE_ENDIAN) bytes.swap32();
  return bat;
}

/**
 * The BAT's sectors holding the entries of `changes` (block -> sector offset), as they will be
 * on disk with them set: runs of sectors (numbered from the table's start), sectors at most
 * `gap` apart in one run, so that a batch of allocations costs few writes. The sectors' other
 * entries are written as they are on disk: as in `bat`, except blocks `unwritten` (allocated in
 * memory only), which are unused there.
 */
export function batRuns(bat: Uint32Array, changes: ReadonlyMap<number, number>, gap: number, unwritten?: ReadonlySet<number>): { first: number; bytes: Uint8Array }[] {
  const per = VHD_SECTOR / 4;
  const sectors = [...new Set([...changes.keys()].map((b) => Math.floor(b / per)))].sort((a, b) => a - b);
  const runs: { first: number; bytes: Uint8Array }[] = [];
  for (let i = 0; i < sectors.length;) {
    let j = i;
    while (j + 1 < sectors.length && sectors[j + 1]! - sectors[j]! <= gap) j++;
    const first = sectors[i]!;
    const from = first * per;
    const to = (sectors[j]! + 1) * per;
    // The run's entries copied and byte-swapped natively (a run may span the whole table).
    const words = new Uint32Array(to - from).fill(BAT_UNUSED);
    words.set(bat.subarray(from, Math.min(to, bat.length)));
    if (unwritten) for (const e of unwritten) if (e >= from && e < to) words[e - from] = BAT_UNUSED;
    for (const [e, v] of changes) if (e >= from && e < to) words[e - from] = v;
    if (LITTLE_ENDIAN) Buffer.from(words.buffer).swap32();
    runs.push({ first, bytes: new Uint8Array(words.buffer) });
    i = j + 1;
  }
  return runs;
}

/** A byte range of the file that blocks must not overlap. */
export interface Extent { readonly what: string; readonly start: number; readonly end: number }

/**
 * Check every allocated entry: its block (bitmap and data, `extent` bytes) lies after nothing
 * of `reserved`, ends by `limit`, and overlaps no other block. Returns the end of the last block
 * (0 with none).
 */
export function checkBat(bat: Uint32Array, extent: number, reserved: readonly Extent[], limit: number, file: string): number {
  const used: number[] = [];
  for (let i = 0; i < bat.length; i++) {
    const e = bat[i]!;
    if (e === BAT_UNUSED) continue;
    const start = e * VHD_SECTOR;
    const end = start + extent;
    const bad = (detail: string) => new VhdError(file, `BAT entry ${i}`, `block at byte ${start} ${detail}`);
    if (end > limit) throw bad(`ends at byte ${end}, outside the file's ${limit} bytes of data`);
    for (const r of reserved) if (start < r.end && r.start < end) throw bad(`overlaps the ${r.what}`);
    used.push(e);
  }
  const sorted = Uint32Array.from(used).sort();
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i]! - sorted[i - 1]!) * VHD_SECTOR < extent) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      throw new VhdError(file, `BAT entry ${bat.lastIndexOf(b)}`, `block at byte ${b * VHD_SECTOR} overlaps block ${bat.indexOf(a)} at byte ${a * VHD_SECTOR}`);
    }
  }
  return sorted.length ? sorted[sorted.length - 1]! * VHD_SECTOR + extent : 0;
}
