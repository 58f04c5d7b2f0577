// Sector bitmaps: one bit a sector of a block, most significant bit first (sector 0 is bit 7 of
// byte 0). A set bit means the sector's data is in this image; a clear one, in the parent (or
// zeros with no parent).
export function testBit(bm, i) {
    return (bm[i >> 3] & (0x80 >> (i & 7))) !== 0;
}
export function setBits(bm, first, count) {
    for (let i = first; i < first + count; i++)
        bm[i >> 3] |= 0x80 >> (i & 7);
}
/** Every bit of [first, first+count) is set. */
export function allSet(bm, first, count) {
    for (let i = first; i < first + count; i++)
        if ((bm[i >> 3] & (0x80 >> (i & 7))) === 0)
            return false;
    return true;
}
//# sourceMappingURL=bitmap.js.map