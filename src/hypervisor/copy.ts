// Byte copies that touch shared memory (guest RAM, granted pages: SharedArrayBuffers). V8 copies
// into or out of a SharedArrayBuffer with relaxed atomic accesses, word by word, and byte by
// byte when source and destination are not equally aligned (a TCP payload 66 bytes into a frame
// always is not): about 1 byte per ns, where Node's Buffer fill of a whole range is one memcpy
// (4 KiB: 3.7 us against 0.25 us; 64 KiB frames: 2-3x less CPU per GiB). The bytes of a frame
// or a segment are not being written by another thread meanwhile (the ring protocol hands a
// slot to one side at a time), so a plain copy sees what the relaxed one would.

/** Node's Buffer fill, which copies a Uint8Array value with memcpy; undefined in a realm, whose Buffer is a JavaScript one. */
const nativeFill = ((): ((this: Uint8Array, value: Uint8Array, offset: number, end: number) => unknown) | undefined => {
  const g = globalThis as { process?: { versions?: { node?: unknown } }; Buffer?: { prototype: { fill: unknown } } };
  const fill = g.Buffer?.prototype.fill;
  return typeof g.process?.versions?.node === 'string' && typeof fill === 'function' ? fill as never : undefined;
})();

/** Below this the call costs more than the relaxed copy saves. */
const NATIVE_MIN = 128;

/** dst[at, at + src.length) = src; the two ranges must not overlap. */
export function copyBytes(dst: Uint8Array, src: Uint8Array, at = 0): void {
  if (nativeFill !== undefined && src.length >= NATIVE_MIN) {
    if (at < 0 || at + src.length > dst.length) throw new RangeError(`copyBytes: ${src.length} bytes at ${at} do not fit ${dst.length}`);
    nativeFill.call(dst, src, at, at + src.length);
  } else dst.set(src, at);
}
