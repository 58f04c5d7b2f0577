// No test writes under $HOME: a bare Host (no stateDir option) puts its default SR's images under
// $XENODE_STATE_DIR, else ~/.xenode, and tests that started one left 1 MiB images accumulating in
// the user's ~/.xenode/images. Each test file (or child it spawns) that starts a Host without a
// state dir of its own calls scratchStateDir (test/support/state-dir.ts) first.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/cli.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Host.start(, new Host( or startLocalHost( calls whose arguments name no stateDir, in `text`. */
function bareHosts(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/(?:Host\.start|new Host|startLocalHost)\(/g)) {
    // The call's arguments: up to its closing parenthesis, nested ones included.
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    if (!/\bstateDir\b/.test(text.slice(m.index, end))) n++;
  }
  return n;
}

test('every test file that starts a bare Host gives it a temporary state dir of its own (scratchStateDir), never the user\'s ~/.xenode', () => {
  const test = join(ROOT, 'test');
  const offenders = sources(test)
    .filter((f) => !f.endsWith('state-dir.ts') && !f.endsWith('state-dirs.test.ts'))
    .filter((f) => {
      const text = readFileSync(f, 'utf8');
      return bareHosts(text) > 0 && !/\bscratchStateDir\(/.test(text);
    })
    .map((f) => relative(ROOT, f));
  assert.deepEqual(offenders, []);
});
