// vCPU threads that end before they are ready: the domain's start fails with a typed error
// instead of waiting for ever.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Hypervisor } from '../../../src/hypervisor/hypervisor.js';
import { startVcpu, VcpuExited, VcpuPool } from '../../../src/hypervisor/vcpu.js';
const T = { timeout: 30_000 };
function image(t, source) {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-vcpu-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'runtime.mjs');
    writeFileSync(file, source);
    return pathToFileURL(file);
}
for (const [what, source] of [
    ['throws while loading', "throw new Error('broken runtime');\n"],
    ['exits while loading', 'process.exit(3);\n'],
]) {
    test(`a runtime that ${what}: startVcpu rejects with VcpuExited and the domain can go`, T, async (t) => {
        const hv = new Hypervisor();
        const pool = new VcpuPool({ size: 1, image: image(t, source) });
        t.after(() => pool.close());
        const d = hv.createDomain({ name: 'doomed', ramFrames: 16 });
        await assert.rejects(startVcpu(hv, d, 'unused', { heapMb: 16, pool }), VcpuExited);
        // A pooled thread dies the same way and is not handed out as ready.
        pool.warm({ heapMb: 16 });
        await assert.rejects(pool.take({ heapMb: 16 }).ready, VcpuExited);
        await hv.destroyDomain(d.domid);
        assert.equal(hv.findDomain(d.domid), undefined);
    });
}
//# sourceMappingURL=vcpu.test.js.map