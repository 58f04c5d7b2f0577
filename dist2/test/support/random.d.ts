export { rng } from '../../bench/xsdiff/rng.js';
