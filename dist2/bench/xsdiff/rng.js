// Seeded randomness: the same sequence on every run, so a fuzz failure reproduces from its seed.
// (test/support/random.ts hands the same generator to the tests.)
/** mulberry32: small, fast and seedable; returns floats in [0, 1). */
export function rng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
//# sourceMappingURL=rng.js.map