// The qcow2 header (docs/interop/qcow2.txt in qemu) and its extensions: parsed from the first
// cluster with every field checked against the file, and encoded for create. Versions 2 and 3
// are read; images are written as version 3.
import { Qcow2Error } from './errors.js';
export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
export const V2_HEADER_LENGTH = 72;
export const V3_HEADER_LENGTH = 104;
/** What qemu writes for version 3 (the compression type byte, padded to 8). */
export const WRITTEN_HEADER_LENGTH = 112;
/** Virtual sizes beyond this do not fit a JavaScript number of bytes exactly: refused. */
export const MAX_VIRTUAL_SIZE = 2 ** 52;
/** qemu's limits on the L1 and refcount tables (QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE). */
export const MAX_L1_BYTES = 32 << 20;
export const MAX_REFTABLE_BYTES = 8 << 20;
export const MAX_BACKING_NAME = 1023;
export const EXT_END = 0;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_NAMES = 0x6803f857;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;
/** Incompatible feature bits: only "corrupt" is understood (it forbids writing). */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
const INCOMPAT_NAMES = ['dirty bit (lazy refcounts)', 'corrupt bit', 'external data file', 'compression type', 'extended L2 entries'];
const COMPAT_NAMES = ['lazy refcounts'];
const AUTOCLEAR_NAMES = ['bitmaps', 'raw external data'];
/** Parse and check the header in `buf` (the first cluster, or as much of the file as there is). */
export function parseHeader(file, buf, fileSize) {
    const fail = (field, what) => {
        throw new Qcow2Error('EINVAL', file, field, what);
    };
    if (buf.byteLength < V2_HEADER_LENGTH)
        fail('header', `the file is ${fileSize} bytes, too short for a header`);
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const u64 = (off, field) => {
        const x = v.getBigUint64(off);
        if (x > BigInt(Number.MAX_SAFE_INTEGER))
            fail(field, `${x} is beyond any supported size`);
        return Number(x);
    };
    const magic = v.getUint32(0);
    if (magic !== QCOW2_MAGIC)
        fail('magic', `0x${magic.toString(16)} is not QFI\\xfb: not a qcow2 image`);
    const version = v.getUint32(4);
    if (version !== 2 && version !== 3)
        fail('version', `version ${version} is not supported (2 and 3 are)`);
    const clusterBits = v.getUint32(20);
    if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
        fail('cluster_bits', `${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`);
    }
    const cs = 2 ** clusterBits;
    const h = {
        version: version,
        backingFileOffset: u64(8, 'backing_file_offset'),
        backingFileSize: v.getUint32(16),
        clusterBits,
        size: u64(24, 'size'),
        cryptMethod: v.getUint32(32),
        l1Size: v.getUint32(36),
        l1TableOffset: u64(40, 'l1_table_offset'),
        refcountTableOffset: u64(48, 'refcount_table_offset'),
        refcountTableClusters: v.getUint32(56),
        nbSnapshots: v.getUint32(60),
        snapshotsOffset: u64(64, 'snapshots_offset'),
        incompatible: 0n,
        compatible: 0n,
        autoclear: 0n,
        refcountOrder: 4,
        headerLength: V2_HEADER_LENGTH,
    };
    if (version === 3) {
        if (buf.byteLength < V3_HEADER_LENGTH)
            fail('header', `the file is ${fileSize} bytes, too short for a version 3 header`);
        h.incompatible = v.getBigUint64(72);
        h.compatible = v.getBigUint64(80);
        h.autoclear = v.getBigUint64(88);
        h.refcountOrder = v.getUint32(96);
        h.headerLength = v.getUint32(100);
        if (h.headerLength < V3_HEADER_LENGTH || h.headerLength % 8 !== 0 || h.headerLength > Math.min(cs, buf.byteLength)) {
            fail('header_length', `${h.headerLength} is not a multiple of 8 between ${V3_HEADER_LENGTH} and the cluster size`);
        }
    }
    if (h.refcountOrder > 6)
        fail('refcount_order', `${h.refcountOrder}: refcounts wider than 64 bits`);
    if (h.size > MAX_VIRTUAL_SIZE)
        fail('size', `${h.size} bytes is beyond the ${MAX_VIRTUAL_SIZE}-byte limit`);
    if (h.cryptMethod !== 0) {
        throw new Qcow2Error('EOPNOTSUPP', file, 'crypt_method', `${h.cryptMethod}: encrypted qcow2 images are not supported`);
    }
    // The table placement: aligned, after the header cluster, inside the file.
    const table = (field, sizeField, off, bytes, max) => {
        if (bytes > max)
            fail(sizeField, `${bytes} bytes is beyond the ${max}-byte limit`);
        if (bytes === 0)
            return;
        if (off % cs !== 0)
            fail(field, `offset ${off} is not cluster-aligned`);
        if (off < cs)
            fail(field, `offset ${off} overlaps the header`);
        if (off + bytes > fileSize)
            fail(field, `${bytes} bytes at ${off} reach past the end of the file (${fileSize} bytes)`);
    };
    const l2Span = cs * (cs / 8);
    const l1Needed = Math.ceil(h.size / l2Span);
    if (h.l1Size < l1Needed)
        fail('l1_size', `${h.l1Size} entries do not cover ${h.size} bytes (${l1Needed} needed)`);
    table('l1_table_offset', 'l1_size', h.l1TableOffset, h.l1Size * 8, MAX_L1_BYTES);
    if (h.refcountTableClusters === 0)
        fail('refcount_table_clusters', 'is 0');
    table('refcount_table_offset', 'refcount_table_clusters', h.refcountTableOffset, h.refcountTableClusters * cs, MAX_REFTABLE_BYTES);
    if (h.l1Size > 0 && h.l1TableOffset < h.refcountTableOffset + h.refcountTableClusters * cs && h.refcountTableOffset < h.l1TableOffset + h.l1Size * 8) {
        fail('l1_table_offset', `the L1 table at ${h.l1TableOffset} overlaps the refcount table at ${h.refcountTableOffset}`);
    }
    const features = parseExtensions(file, buf, h, v, fail);
    checkIncompatible(file, h, features);
    if (h.backingFileOffset !== 0) {
        if (h.backingFileSize === 0 || h.backingFileSize > MAX_BACKING_NAME)
            fail('backing_file_size', `${h.backingFileSize} is outside 1..${MAX_BACKING_NAME}`);
        if (h.backingFileOffset < h.headerLength || h.backingFileOffset + h.backingFileSize > Math.min(cs, buf.byteLength)) {
            fail('backing_file_offset', `the name (${h.backingFileSize} bytes at ${h.backingFileOffset}) is not inside the header cluster`);
        }
        h.backingFile = new TextDecoder().decode(buf.subarray(h.backingFileOffset, h.backingFileOffset + h.backingFileSize));
        if (h.backingFile.includes('\0'))
            fail('backing_file_offset', 'the backing file name contains a NUL byte');
    }
    return h;
}
function parseExtensions(file, buf, h, v, fail) {
    const features = [];
    const end = Math.min(2 ** h.clusterBits, buf.byteLength);
    let off = h.headerLength;
    for (let n = 0; off + 8 <= end; n++) {
        const type = v.getUint32(off);
        const len = v.getUint32(off + 4);
        if (type === EXT_END)
            return features;
        const data = off + 8;
        if (data + len > end)
            fail('header extension', `type 0x${type.toString(16)} at ${off}: ${len} bytes reach past the header cluster`);
        if (type === EXT_BACKING_FORMAT) {
            h.backingFormat = new TextDecoder().decode(buf.subarray(data, data + len));
        }
        else if (type === EXT_FEATURE_NAMES) {
            for (let e = data; e + 48 <= data + len; e += 48) {
                const raw = buf.subarray(e + 2, e + 48);
                const nul = raw.indexOf(0);
                features.push({ type: buf[e], bit: buf[e + 1], name: new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul)) });
            }
        }
        else if (type === EXT_CRYPTO) {
            throw new Qcow2Error('EOPNOTSUPP', file, 'full disk encryption header', 'encrypted qcow2 images are not supported');
        }
        off = data + Math.ceil(len / 8) * 8;
        if (n > 1000)
            break;
    }
    if (h.version === 3)
        fail('header extension', 'the extension list has no end marker inside the header cluster');
    return features;
}
/** Refuse incompatible features we do not implement, naming them (the image's own names first). */
function checkIncompatible(file, h, features) {
    const unknown = h.incompatible & ~INCOMPAT_CORRUPT;
    if (unknown === 0n)
        return;
    const names = [];
    for (let bit = 0; bit < 64; bit++) {
        if (!(unknown & (1n << BigInt(bit))))
            continue;
        const named = features.find((f) => f.type === 0 && f.bit === bit)?.name ?? INCOMPAT_NAMES[bit] ?? 'unknown';
        names.push(`bit ${bit} (${named})`);
    }
    const hint = unknown & INCOMPAT_DIRTY ? '; `qemu-img check -r all` repairs a dirty image' : '';
    throw new Qcow2Error('EOPNOTSUPP', file, 'incompatible_features', `${names.join(', ')} not supported${hint}`);
}
/** The feature name table qemu writes, so `qemu-img info` and other readers can name our bits. */
function featureNameTable() {
    const entries = [
        ...INCOMPAT_NAMES.map((name, bit) => ({ type: 0, bit, name })),
        ...COMPAT_NAMES.map((name, bit) => ({ type: 1, bit, name })),
        ...AUTOCLEAR_NAMES.map((name, bit) => ({ type: 2, bit, name })),
    ];
    const out = new Uint8Array(entries.length * 48);
    entries.forEach((f, i) => {
        out[i * 48] = f.type;
        out[i * 48 + 1] = f.bit;
        out.set(new TextEncoder().encode(f.name.slice(0, 46)), i * 48 + 2);
    });
    return out;
}
/** A version 3 header with refcount_order 4, its extensions and the backing file name, in one cluster. */
export function encodeHeader(n) {
    const cs = 2 ** n.clusterBits;
    const buf = new Uint8Array(cs);
    const v = new DataView(buf.buffer);
    v.setUint32(0, QCOW2_MAGIC);
    v.setUint32(4, 3);
    v.setUint32(20, n.clusterBits);
    v.setBigUint64(24, BigInt(n.size));
    v.setUint32(36, n.l1Size);
    v.setBigUint64(40, BigInt(n.l1TableOffset));
    v.setBigUint64(48, BigInt(n.refcountTableOffset));
    v.setUint32(56, n.refcountTableClusters);
    v.setUint32(96, 4);
    v.setUint32(100, WRITTEN_HEADER_LENGTH);
    let off = WRITTEN_HEADER_LENGTH;
    const ext = (type, data) => {
        v.setUint32(off, type);
        v.setUint32(off + 4, data.byteLength);
        buf.set(data, off + 8);
        off += 8 + Math.ceil(data.byteLength / 8) * 8;
    };
    const name = new TextEncoder().encode(n.backingFile ?? '');
    if (n.backingFormat !== undefined)
        ext(EXT_BACKING_FORMAT, new TextEncoder().encode(n.backingFormat));
    const names = featureNameTable();
    // Optional: left out where it does not fit (512-byte clusters).
    if (off + 8 + names.byteLength + 8 + name.byteLength <= cs)
        ext(EXT_FEATURE_NAMES, names);
    off += 8; // the end marker: type 0, length 0
    if (n.backingFile !== undefined) {
        if (name.byteLength === 0 || name.byteLength > MAX_BACKING_NAME || off + name.byteLength > cs) {
            throw new RangeError(`backing file name of ${name.byteLength} bytes does not fit the header`);
        }
        v.setBigUint64(8, BigInt(off));
        v.setUint32(16, name.byteLength);
        buf.set(name, off);
    }
    return buf;
}
/** Byte offset of the autoclear field (cleared when a writer does not keep those features). */
export const AUTOCLEAR_OFFSET = 88;
//# sourceMappingURL=header.js.map