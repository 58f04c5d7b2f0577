// The child of the VHD disk-full test: run under a file size limit (ulimit -f), it writes a
// block at a time to a dynamic VHD until the image cannot grow, and prints one JSON line: the
// error, whether everything written before it reads back, and whether the image (reopened) is
// still consistent and writable where it has room.
import { VhdDisk } from '../../src/storage/vhd/chain.js';
import { pattern } from './vhd.js';
const image = process.argv[2];
const out = {};
let disk = await VhdDisk.open(image, { readOnly: false });
const blockSectors = 4096;
let written = 0;
try {
    for (; written < disk.sectors / blockSectors; written++)
        await disk.write(written * blockSectors, [pattern(written, 65536)]);
    out['error'] = 'none';
}
catch (e) {
    out['error'] = e.errno ?? String(e);
    out['message'] = e.message;
}
out['written'] = written;
const check = async () => {
    const r = new Uint8Array(65536);
    for (let i = 0; i < written; i++) {
        await disk.read(i * blockSectors, [r]);
        if (Buffer.compare(r, pattern(i, 65536)) !== 0)
            return false;
    }
    return true;
};
out['intact'] = await check();
// A write into an allocated block needs no room.
if (written > 0)
    await disk.write(0, [pattern(0, 4096)]);
await disk.flush();
await disk.close();
disk = await VhdDisk.open(image, { readOnly: false });
out['reopenedIntact'] = await check();
await disk.close();
console.log(JSON.stringify(out));
//# sourceMappingURL=vhd-full-child.js.map