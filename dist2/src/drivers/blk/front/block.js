// The guest's view of a block device: Mirage's Block signature (mirage-block's S), with
// sectors as numbers, buffers as Uint8Arrays (whole sectors) and errors as typed values
// (./errors.ts) carried by rejected promises.
export {};
//# sourceMappingURL=block.js.map