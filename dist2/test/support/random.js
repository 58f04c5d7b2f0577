// Seeded randomness for bounded fuzz tests: the same sequence on every run, so a failure
// reproduces. One generator for tests and benches (bench/ may not import test/).
export { rng } from '../../bench/xsdiff/rng.js';
//# sourceMappingURL=random.js.map