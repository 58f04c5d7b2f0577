// The host's log file: written in the background, bounded in queue and on disk.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogFile } from '../../../src/toolstack/logfile.js';
function tmp(t) {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-logfile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    return join(dir, 'host.log');
}
const droppedLine = (n) => `dropped ${n}`;
test('lines are appended in order, 0600, and all there after flush', async (t) => {
    const path = tmp(t);
    const log = new LogFile(path, { droppedLine });
    for (let i = 0; i < 1000; i++)
        log.append(`line ${i}`);
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.deepEqual(lines, Array.from({ length: 1000 }, (_, i) => `line ${i}`));
    assert.equal(statSync(path).mode & 0o777, 0o600);
});
test('a full queue drops lines and says how many', async (t) => {
    const path = tmp(t);
    const log = new LogFile(path, { droppedLine, maxQueueBytes: 100 });
    const kept = Array.from({ length: 50 }, (_, i) => log.append(`line ${String(i).padStart(2, '0')}`)).filter(Boolean).length;
    assert.equal(kept, 12, '100 bytes of 8-byte lines, in one turn');
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.equal(lines.length, 13);
    assert.equal(lines.at(-1), 'dropped 38');
});
test('the file rotates and the number of files is bounded', async (t) => {
    const path = tmp(t);
    const log = new LogFile(path, { droppedLine, rotateBytes: 4096, keep: 3 });
    const line = 'x'.repeat(99);
    for (let i = 0; i < 400; i++) {
        log.append(line);
        if (i % 20 === 0)
            await log.flush();
    }
    await log.close();
    assert.equal(existsSync(`${path}.1`), true);
    assert.equal(existsSync(`${path}.2`), true);
    assert.equal(existsSync(`${path}.3`), false, 'keep=3: the log and two old ones');
    for (const f of [path, `${path}.1`, `${path}.2`])
        assert.ok(statSync(f).size <= 4096 + 21 * 100, f);
});
//# sourceMappingURL=logfile.test.js.map