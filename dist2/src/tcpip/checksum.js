/** Add bytes [off, off+len) to a running sum (not folded; fold() before use). */
export function sumBytes(b, off, len, sum = 0) {
    let i = off;
    const end = off + len;
    if (len >= 64) {
        // 32-bit words: a ones' complement sum of 32-bit words folds to the same 16-bit sum, and a
        // double holds 2^21 of them exactly; fold every 64 Ki words to stay far from that.
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let n = 0; i + 3 < end; i += 4) {
            sum += v.getUint32(i);
            if (++n === 65536) {
                sum = fold(sum);
                n = 0;
            }
        }
    }
    for (; i + 1 < end; i += 2)
        sum += (b[i] << 8) | b[i + 1];
    if (i < end)
        sum += b[i] << 8;
    return sum;
}
export function fold(sum) {
    while (sum > 0xffff)
        sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
    return sum;
}
/** The checksum field value for a folded-and-complemented sum. */
export function finish(sum) {
    return ~fold(sum) & 0xffff;
}
/** The sum of the IPv4 pseudo-header of a TCP or UDP segment. */
export function pseudoHeaderSum(src, dst, proto, len) {
    return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}
/** True when bytes [off, off+len) with their checksum field sum to zero (plus `initial`). */
export function verify(b, off, len, initial = 0) {
    return fold(sumBytes(b, off, len, initial)) === 0xffff;
}
/**
 * Fill the TCP/UDP checksum at `csumOff` of the segment [off, off+len). With `blank` (the vif
 * negotiated checksum offload) only the pseudo-header sum goes in, as Linux leaves a
 * CHECKSUM_PARTIAL packet for whoever completes it; the payload is not read.
 */
export function fillL4Checksum(b, off, len, csumOff, src, dst, proto, blank) {
    const pseudo = pseudoHeaderSum(src, dst, proto, len);
    b[csumOff] = 0;
    b[csumOff + 1] = 0;
    const c = blank ? fold(pseudo) : finish(sumBytes(b, off, len, pseudo));
    b[csumOff] = c >> 8;
    b[csumOff + 1] = c;
}
//# sourceMappingURL=checksum.js.map