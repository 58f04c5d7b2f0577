// The block allocation table: one big-endian 32-bit sector offset a block (BAT_UNUSED: not
// allocated), padded to whole sectors. Checked at open so that no later read or write can be
// sent into the headers, past the end of the file or onto another block.
import { BAT_UNUSED, VHD_SECTOR, VhdError } from './format.js';
/** Bytes the table occupies in the file. */
export function batBytes(entries) {
    return Math.ceil((entries * 4) / VHD_SECTOR) * VHD_SECTOR;
}
export function decodeBat(b, entries) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const bat = new Uint32Array(entries);
    for (let i = 0; i < entries; i++)
        bat[i] = v.getUint32(i * 4);
    return bat;
}
/**
 * The BAT's sector holding the entries of `changes` (block -> sector offset; all in one BAT
 * sector), as it will be on disk with them set.
 */
export function batSector(bat, changes) {
    const out = new Uint8Array(VHD_SECTOR);
    const v = new DataView(out.buffer);
    const some = changes.keys().next().value;
    const first = some - (some % (VHD_SECTOR / 4));
    for (let i = 0; i < VHD_SECTOR / 4; i++) {
        const e = first + i;
        v.setUint32(i * 4, changes.get(e) ?? (e < bat.length ? bat[e] : BAT_UNUSED));
    }
    return out;
}
/**
 * Check every allocated entry: its block (bitmap and data, `extent` bytes) lies after nothing
 * of `reserved`, ends by `limit`, and overlaps no other block. Returns the end of the last block
 * (0 with none).
 */
export function checkBat(bat, extent, reserved, limit, file) {
    const used = [];
    for (let i = 0; i < bat.length; i++) {
        const e = bat[i];
        if (e === BAT_UNUSED)
            continue;
        const start = e * VHD_SECTOR;
        const end = start + extent;
        const bad = (detail) => new VhdError(file, `BAT entry ${i}`, `block at byte ${start} ${detail}`);
        if (end > limit)
            throw bad(`ends at byte ${end}, outside the file's ${limit} bytes of data`);
        for (const r of reserved)
            if (start < r.end && r.start < end)
                throw bad(`overlaps the ${r.what}`);
        used.push(e);
    }
    const sorted = Uint32Array.from(used).sort();
    for (let i = 1; i < sorted.length; i++) {
        if ((sorted[i] - sorted[i - 1]) * VHD_SECTOR < extent) {
            const a = sorted[i - 1];
            const b = sorted[i];
            throw new VhdError(file, `BAT entry ${bat.lastIndexOf(b)}`, `block at byte ${b * VHD_SECTOR} overlaps block ${bat.indexOf(a)} at byte ${a * VHD_SECTOR}`);
        }
    }
    return sorted.length ? sorted[sorted.length - 1] * VHD_SECTOR + extent : 0;
}
//# sourceMappingURL=bat.js.map