// test-xenstore from Debian's xen-utils-4.17 against our xenstored. When the package is not
// installed it is fetched once with apt-get download and unpacked with dpkg -x into a cache
// under the temp dir (bench/xsdiff/cxenstored.ts; its libraries via LD_LIBRARY_PATH); without
// apt, the test is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon } from '../support/xenstore.js';
import { fetchXenUtils } from '../../bench/xsdiff/cxenstored.js';
const run = promisify(execFile);
const BIN = 'usr/lib/xen-4.17/bin/test-xenstore';
const LIBS = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'];
async function acquire() {
    if (existsSync(`/${BIN}`))
        return { bin: `/${BIN}`, libPath: undefined };
    let root;
    try {
        root = await fetchXenUtils();
    }
    catch (e) {
        return `test-xenstore unavailable: xen-utils-4.17 is not installed and apt-get download failed (${e.message.split('\n')[0]})`;
    }
    if (!existsSync(join(root, BIN)))
        return 'test-xenstore unavailable: not found in the downloaded xen-utils-4.17';
    return { bin: join(root, BIN), libPath: LIBS.map((l) => join(root, l)).join(':') };
}
const found = await acquire();
const skip = typeof found === 'string' ? found : false;
if (skip)
    console.log(`# skipping: ${skip}`);
test('test-xenstore: every test passes', { skip }, async () => {
    const { bin, libPath } = found;
    const d = await startDaemon();
    try {
        const env = { ...process.env, XENSTORED_PATH: d.path };
        if (libPath !== undefined)
            env.LD_LIBRARY_PATH = [libPath, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
        const { stdout } = await run(bin, ['-i', '3'], { env, timeout: 60_000 });
        const lines = stdout.trim().split('\n');
        assert.deepEqual(lines.filter((l) => /failed/.test(l)), []);
        const names = lines.map((l) => l.split(':')[0].trim());
        assert.deepEqual(names, ['read 1', 'read 2000', 'write 1', 'write 2000', 'dir', 'rm node', 'rm dir', 'ta empty',
            'ta empty x', 'ta rmw', 'ta rmw x', 'ta err']);
        // Its random mode: each test in random order for a second.
        const random = await run(bin, ['-r', '1'], { env, timeout: 60_000 });
        assert.doesNotMatch(random.stdout, /failed/);
    }
    finally {
        await d.stop();
    }
});
//# sourceMappingURL=xenstore-test-xenstore.test.js.map