// The child of full.test.ts, run in a mount namespace over a small tmpfs at argv[2]: it writes
// 64 KiB clusters to a qcow2 image there until the file system is full, then reports what
// happened as one line of JSON.
import { join } from 'node:path';
import { isXenError } from '../../../../src/errors.js';
import { createQcow2 } from '../../../../src/storage/qcow2/create.js';
import { Qcow2Disk } from '../../../../src/storage/qcow2/qcow2.js';
const path = join(process.argv[2], 'full.qcow2');
await createQcow2(path, { size: 64 << 20 });
const d = await Qcow2Disk.open(path, { readOnly: false });
let written = 0;
let error = '';
for (; written < 1024; written++) {
    try {
        await d.write(written * 128, [new Uint8Array(64 << 10).fill((written % 250) + 1)]);
        await d.flush();
    }
    catch (e) {
        error = isXenError(e) ? e.errno : String(e);
        break;
    }
}
await d.flush().catch(() => { });
await d.close().catch(() => { });
// Every write acknowledged before the file system filled up reads back.
const r = await Qcow2Disk.open(path, { readOnly: true });
let intact = 0;
for (let i = 0; i < written; i++) {
    const b = new Uint8Array(64 << 10);
    await r.read(i * 128, [b]);
    if (b.every((x) => x === (i % 250) + 1))
        intact++;
}
await r.close();
process.stdout.write(JSON.stringify({ written, error, intact }) + '\n');
//# sourceMappingURL=full-child.js.map