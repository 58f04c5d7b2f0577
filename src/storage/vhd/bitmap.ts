// Sector bitmaps: one bit a sector of a block, most significant bit first (sector 0 is bit 7 of
// byte 0). A set bit means the sector's data is in this image; a clear one, in the parent (or
// zeros with no parent).

export function testBit(bm: Uint8Array, i: number): boolean {
  return (bm[i >> 3]! & (0x80 >> (i & 7))) !== 0;
}

export function setBits(bm: Uint8Array, first: number, count: number): void {
  for (let i = first; i < first + count; i++) bm[i >> 3]! |= 0x80 >> (i & 7);
}

/** Every bit of [first, first+count) is set; whole bytes at a time (a 2 MiB block has 4096 bits). */
export function allSet(bm: Uint8Array, first: number, count: number): boolean {
  const end = first + count;
  let i = first;
  for (; i < end && (i & 7) !== 0; i++) if ((bm[i >> 3]! & (0x80 >> (i & 7))) === 0) return false;
  for (; i + 8 <= end; i += 8) if (bm[i >> 3] !== 0xff) return false;
  for (; i < end; i++) if ((bm[i >> 3]! & (0x80 >> (i & 7))) === 0) return false;
  return true;
}
