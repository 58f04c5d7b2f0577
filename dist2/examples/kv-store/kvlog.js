// The kv-store's on-disk format: sector 0 is a superblock, then an append-only log of
// records, each a whole number of sectors: a header (magic, sequence number, key and value
// lengths, CRC-32 of everything after the header) followed by the key and the value. Replay
// stops at the first record whose magic, sequence or CRC is wrong: a write torn by a crash
// before its flush completed is simply not there.
import { crc32 } from 'node:zlib';
export const SECTOR = 512;
const SUPER_MAGIC = 'xenode-kv-store v1\n';
const RECORD_MAGIC = 0x4b565243; // "KVRC"
const HEADER = 20;
/** vlen of a deletion. */
const TOMBSTONE = 0xffffffff;
export function superblock() {
    const b = new Uint8Array(SECTOR);
    b.set(new TextEncoder().encode(SUPER_MAGIC));
    return b;
}
export function isFormatted(sector0) {
    return new TextDecoder().decode(sector0.subarray(0, SUPER_MAGIC.length)) === SUPER_MAGIC;
}
export function encodeRecord(seq, r) {
    const enc = new TextEncoder();
    const k = enc.encode(r.key);
    const v = r.value === undefined ? new Uint8Array(0) : enc.encode(r.value);
    const len = HEADER + k.length + v.length;
    const b = new Uint8Array(Math.ceil(len / SECTOR) * SECTOR);
    const dv = new DataView(b.buffer);
    b.set(k, HEADER);
    b.set(v, HEADER + k.length);
    dv.setUint32(0, RECORD_MAGIC, true);
    dv.setUint32(4, seq, true);
    dv.setUint32(8, k.length, true);
    dv.setUint32(12, r.value === undefined ? TOMBSTONE : v.length, true);
    dv.setUint32(16, crc32(b.subarray(HEADER, len)), true);
    return b;
}
/** The record at the start of `b`, if `b` holds a whole valid one with sequence `seq`; and its size in sectors. */
export function decodeRecord(b, seq) {
    if (b.length < SECTOR)
        return 'need-more';
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (dv.getUint32(0, true) !== RECORD_MAGIC || dv.getUint32(4, true) !== seq)
        return null;
    const klen = dv.getUint32(8, true);
    const vlenRaw = dv.getUint32(12, true);
    const vlen = vlenRaw === TOMBSTONE ? 0 : vlenRaw;
    if (klen > 1 << 20 || vlen > 1 << 24)
        return null;
    const len = HEADER + klen + vlen;
    const sectors = Math.ceil(len / SECTOR);
    if (b.length < sectors * SECTOR)
        return 'need-more';
    if (crc32(b.subarray(HEADER, len)) !== dv.getUint32(16, true))
        return null;
    const dec = new TextDecoder();
    const key = dec.decode(b.subarray(HEADER, HEADER + klen));
    const value = vlenRaw === TOMBSTONE ? undefined : dec.decode(b.subarray(HEADER + klen, len));
    return { record: { key, value }, sectors };
}
//# sourceMappingURL=kvlog.js.map