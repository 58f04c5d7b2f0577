// VHD test rig: scratch directories, images made and then damaged field by field (with the
// checksum fixed up, so that the field itself is what is refused), and recognisable data.
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FOOTER_BYTES, decodeFooter, encodeFooter } from '../../src/storage/vhd/footer.js';
import { HEADER_BYTES, decodeHeader, encodeHeader } from '../../src/storage/vhd/header.js';
export async function scratch(t, prefix = 'xenode-vhd-') {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    t.after(() => rm(dir, { recursive: true, force: true }));
    return dir;
}
export async function patch(path, offset, bytes) {
    const fh = await open(path, 'r+');
    try {
        await fh.write(bytes, 0, bytes.length, offset);
    }
    finally {
        await fh.close();
    }
}
export async function readAt(path, offset, length) {
    return (await readFile(path)).subarray(offset, offset + length);
}
/** Rewrite the footer at the end (and with `copy`, the one at the start) through `change`. */
export async function editFooter(path, change, copy = false) {
    const size = (await stat(path)).size;
    const f = change(decodeFooter(await readAt(path, size - FOOTER_BYTES, FOOTER_BYTES), path));
    await patch(path, size - FOOTER_BYTES, encodeFooter(f));
    if (copy)
        await patch(path, 0, encodeFooter(f));
}
/** Rewrite the dynamic header (at byte 512) through `change`. */
export async function editHeader(path, change) {
    const h = change(decodeHeader(await readAt(path, FOOTER_BYTES, HEADER_BYTES), path));
    await patch(path, FOOTER_BYTES, encodeHeader(h));
}
/** `n` bytes that say which `tag` wrote them and where. */
export function pattern(tag, n) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++)
        b[i] = (tag * 31 + (i >> 9) * 7 + 1) & 0xff;
    return b;
}
//# sourceMappingURL=vhd.js.map