// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons by signed difference.
export function seqAdd(a, n) {
    return (a + n) >>> 0;
}
/** a - b as a signed 32-bit distance. */
export function seqDiff(a, b) {
    return (a - b) | 0;
}
export function seqLt(a, b) {
    return ((a - b) | 0) < 0;
}
export function seqLe(a, b) {
    return ((a - b) | 0) <= 0;
}
export function seqGt(a, b) {
    return ((a - b) | 0) > 0;
}
export function seqGe(a, b) {
    return ((a - b) | 0) >= 0;
}
//# sourceMappingURL=seq.js.map