// Disk full during a write: the write fails with ENOSPC, every earlier write stays, and the
// image is not corrupt. The file system is a 2 MiB tmpfs in a user and mount namespace of its
// own (unshare -rm), so nothing outside the test fills up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('full-child.js', import.meta.url));
async function namespaces() {
    if (!existsSync('/usr/bin/unshare'))
        return 'unshare (util-linux) is not installed';
    return run('/usr/bin/unshare', ['-rm', 'true']).then(() => false, (e) => `user namespaces are not available here: ${e.message.split('\n')[0]}`);
}
test('a write that meets a full file system fails with ENOSPC; earlier writes survive, qemu-img check finds no corruption', async (t) => {
    const skip = await namespaces();
    if (skip)
        return t.skip(skip);
    const dir = await mkdtemp(join(tmpdir(), 'xenode-qcow2-full-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // qemu-img check runs inside the namespace too (the tmpfs goes away with it): 0 clean, 3 leaks only.
    const check = existsSync('/usr/bin/qemu-img') ? `; /usr/bin/qemu-img check -f qcow2 "$0/full.qcow2" >/dev/null; echo "check $?"` : '';
    const script = `mount -t tmpfs -o size=2m none "$0" && "${process.execPath}" "${CHILD}" "$0"${check}`;
    const { stdout } = await run('/usr/bin/unshare', ['-rm', 'sh', '-c', script, dir], { timeout: 60_000 });
    const [json, checked] = stdout.trim().split('\n');
    const r = JSON.parse(json);
    assert.equal(r.error, 'ENOSPC');
    assert.ok(r.written > 10 && r.written < 40, `${r.written} clusters fit in 2 MiB`);
    assert.equal(r.intact, r.written);
    if (checked)
        assert.match(checked, /^check [03]$/);
    else
        t.diagnostic('qemu-img not installed (apt-get install qemu-utils): the image is checked by reading it only');
});
//# sourceMappingURL=full.test.js.map