// The dynamic disk header (1024 bytes at the footer's data offset) of dynamic and differencing
// images: where the BAT is, the block size, and for a differencing image its parent's uuid,
// timestamp, name and the eight parent locator entries.
import { NO_OFFSET, VHD_MAX_BLOCK, VHD_MAX_BYTES, VHD_MIN_BLOCK, VHD_SECTOR, VhdError, checksum, } from './format.js';
export const HEADER_BYTES = 1024;
const COOKIE = 'cxsparse';
const CHECKSUM_AT = 36;
const HEADER_VERSION = 0x00010000;
const LOCATOR_AT = 576;
const LOCATOR_ENTRY = 24;
export const LOCATOR_SLOTS = 8;
/** Bytes of the parent's UTF-16BE name. */
const PARENT_NAME_BYTES = 512;
/** The most BAT entries we read (a 64 MiB table): a header asking for more is refused, not obeyed. */
const MAX_BAT_ENTRIES = 2 ** 24;
export function decodeHeader(b, file) {
    const v = new DataView(b.buffer, b.byteOffset, HEADER_BYTES);
    const bad = (field, detail) => new VhdError(file, `dynamic header ${field}`, detail);
    if (Buffer.from(b.subarray(0, 8)).toString('latin1') !== COOKIE)
        throw bad('cookie', `is not '${COOKIE}'`);
    const sum = v.getUint32(CHECKSUM_AT);
    if (sum !== checksum(b.subarray(0, HEADER_BYTES), CHECKSUM_AT))
        throw bad('checksum', `0x${sum.toString(16)} does not match the header`);
    if (v.getBigUint64(8) !== NO_OFFSET)
        throw bad('data offset', 'is not 0xffffffffffffffff');
    const version = v.getUint32(24);
    if (version !== HEADER_VERSION)
        throw bad('header version', `0x${version.toString(16)} is not 0x00010000`);
    const tableOffset = v.getBigUint64(16);
    if (tableOffset % BigInt(VHD_SECTOR) !== 0n || tableOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw bad('table offset', `0x${tableOffset.toString(16)} is not a sector offset`);
    }
    const blockSize = v.getUint32(32);
    if (blockSize < VHD_MIN_BLOCK || blockSize > VHD_MAX_BLOCK || (blockSize & (blockSize - 1)) !== 0) {
        throw bad('block size', `${blockSize} is not a power of two from ${VHD_MIN_BLOCK} to ${VHD_MAX_BLOCK}`);
    }
    const maxTableEntries = v.getUint32(28);
    if (maxTableEntries > MAX_BAT_ENTRIES || maxTableEntries * blockSize > VHD_MAX_BYTES + blockSize) {
        throw bad('max table entries', `${maxTableEntries} blocks of ${blockSize} bytes is beyond the 2040 GiB limit`);
    }
    const locators = [];
    for (let i = 0; i < LOCATOR_SLOTS; i++) {
        const at = LOCATOR_AT + i * LOCATOR_ENTRY;
        const code = v.getUint32(at);
        if (code === 0)
            continue;
        const rawSpace = v.getUint32(at + 4);
        const offset = v.getBigUint64(at + 16);
        if (offset > BigInt(Number.MAX_SAFE_INTEGER))
            throw bad(`parent locator ${i} offset`, `0x${offset.toString(16)} is out of range`);
        // As libvhd: a data_space under a sector counts sectors (the spec), otherwise bytes (Windows).
        const space = rawSpace < VHD_SECTOR ? rawSpace * VHD_SECTOR : rawSpace;
        locators.push({ code, space, length: v.getUint32(at + 8), offset: Number(offset) });
    }
    const nameBytes = Buffer.from(b.subarray(64, 64 + PARENT_NAME_BYTES));
    nameBytes.swap16();
    const parentName = nameBytes.toString('utf16le').replace(/\0[\s\S]*$/, '');
    return {
        tableOffset: Number(tableOffset), maxTableEntries, blockSize,
        parentUuid: b.slice(40, 56), parentTimestamp: v.getUint32(56), parentName, locators,
    };
}
export function encodeHeader(h) {
    const b = new Uint8Array(HEADER_BYTES);
    const v = new DataView(b.buffer);
    b.set(Buffer.from(COOKIE, 'latin1'), 0);
    v.setBigUint64(8, NO_OFFSET);
    v.setBigUint64(16, BigInt(h.tableOffset));
    v.setUint32(24, HEADER_VERSION);
    v.setUint32(28, h.maxTableEntries);
    v.setUint32(32, h.blockSize);
    b.set(h.parentUuid, 40);
    v.setUint32(56, h.parentTimestamp);
    const name = Buffer.from(h.parentName, 'utf16le').subarray(0, PARENT_NAME_BYTES);
    name.swap16();
    b.set(name, 64);
    h.locators.slice(0, LOCATOR_SLOTS).forEach((l, i) => {
        const at = LOCATOR_AT + i * LOCATOR_ENTRY;
        v.setUint32(at, l.code);
        v.setUint32(at + 4, l.space);
        v.setUint32(at + 8, l.length);
        v.setBigUint64(at + 16, BigInt(l.offset));
    });
    v.setUint32(CHECKSUM_AT, checksum(b, CHECKSUM_AT));
    return b;
}
//# sourceMappingURL=header.js.map