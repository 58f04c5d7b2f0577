/** mulberry32: small, fast and seedable; returns floats in [0, 1). */
export declare function rng(seed: number): () => number;
