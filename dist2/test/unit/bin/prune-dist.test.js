// The build's first step: outputs of deleted sources leave dist/, everything else stays. Run on
// a project of its own in a temporary directory, never on this package's dist/, which other
// tests are running from.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
const PRUNE = fileURLToPath(new URL('../../../../bin/prune-dist.js', import.meta.url));
function project(t, files) {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-prune-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tsconfig = { compilerOptions: { outDir: 'out' }, include: ['src/**/*.ts', 'test/**/*.ts'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    for (const f of files) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), '');
    }
    return dir;
}
function prune(dir) {
    const r = spawnSync(process.execPath, [PRUNE, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
}
test('outputs whose source is gone are removed, with directories left empty; the rest stays', (t) => {
    const kept = [
        'src/a.ts', 'out/src/a.js', 'out/src/a.js.map', 'out/src/a.d.ts',
        'src/sub/b.test.ts', 'out/src/sub/b.test.js',
        // bin/link.js's outputs, and what is outside the directories tsconfig.json includes
        'out/src/cli/xenode.mjs', 'out/guest.mjs', 'out/other/c.js',
    ];
    const stale = [
        'out/src/gone.js', 'out/src/gone.js.map', 'out/src/gone.d.ts', 'out/src/gone.d.ts.map',
        'out/src/sub/moved.test.js', 'out/test/helpers/cli.js', 'out/test/helpers/cli.d.ts',
    ];
    const dir = project(t, [...kept, ...stale]);
    const log = prune(dir);
    for (const f of kept)
        assert.ok(existsSync(join(dir, f)), `${f} kept`);
    for (const f of stale) {
        assert.ok(!existsSync(join(dir, f)), `${f} removed`);
        assert.match(log, new RegExp(`removed ${f.replace(/\./g, '\\.')}\n`));
    }
    assert.ok(!existsSync(join(dir, 'out/test')), 'a directory left empty goes too');
    assert.ok(existsSync(join(dir, 'out/src/sub')));
    assert.equal(prune(dir), '', 'a second run finds nothing to do');
});
test('a project never built has nothing to prune', (t) => {
    const dir = project(t, ['src/a.ts']);
    assert.equal(prune(dir), '');
    assert.ok(!existsSync(join(dir, 'out')));
});
//# sourceMappingURL=prune-dist.test.js.map