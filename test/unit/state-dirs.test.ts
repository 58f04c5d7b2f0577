// No test writes under $HOME: a bare Host (no stateDir option) puts its default SR's images under
// $XENODE_STATE_DIR, else ~/.xenode, and tests that started one left 1 MiB images accumulating in
// the user's ~/.xenode/images. Each test file (or child it spawns) that starts a Host without a
// state dir of its own calls scratchStateDir (test/support/state-dir.ts) first; benches get one
// from their runner (bin/bench.js).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { resolveStateDir } from '../../src/toolstack/paths.js';
import { scratchStateDir } from '../support/state-dir.js';
import { ROOT } from '../support/cli.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** `text` without its comments: a mention of a call in one is no call. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** Where each Host.start(, new Host( or startLocalHost( call whose arguments name no stateDir begins, in `text` (code). */
function bareHosts(text: string): number[] {
  const at: number[] = [];
  for (const m of text.matchAll(/(?:Host\.start|new Host|startLocalHost)\(/g)) {
    // The call's arguments: up to its closing parenthesis, nested ones included.
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    if (!/\bstateDir\b/.test(text.slice(m.index, end))) at.push(m.index);
  }
  return at;
}

/** Test sources that start a bare Host without calling scratchStateDir before the first such start. */
function offenders(dir: string, skip: readonly string[] = []): string[] {
  return sources(dir)
    .map((f) => relative(ROOT, f))
    .filter((f) => !skip.includes(f))
    .filter((f) => {
      const text = code(readFileSync(join(ROOT, f), 'utf8'));
      const bare = bareHosts(text);
      if (bare.length === 0) return false;
      const scratch = text.search(/\bscratchStateDir\(/);
      return scratch < 0 || scratch > bare[0]!;
    });
}

test('every test file that starts a bare Host gives it a temporary state dir of its own (scratchStateDir) first, never the user\'s ~/.xenode', () => {
  assert.deepEqual(offenders(join(ROOT, 'test'), ['test/support/state-dir.ts', 'test/unit/state-dirs.test.ts']), []);
});

test('the check reads code, not comments, and wants the scratch dir set before the first bare Host', () => {
  assert.deepEqual(bareHosts(code('// Host.start()\n/* new Host() */\nconst u = "http://x";')), []);
  const late = code('await Host.start({});\n// scratchStateDir(x)\nscratchStateDir("x");');
  assert.ok(late.search(/\bscratchStateDir\(/) > bareHosts(late)[0]!, 'a scratch dir set after the Host started is too late');
  assert.deepEqual(bareHosts(code('Host.start({ stateDir: d }); startLocalHost({})')), [29]);
});

test("a process's scratch state dir is made once: a later call (a second host of the same file) gets the same one, and XENODE_STATE_DIR names it", (t) => {
  const before = process.env['XENODE_STATE_DIR'];
  t.after(() => {
    if (before === undefined) delete process.env['XENODE_STATE_DIR'];
    else process.env['XENODE_STATE_DIR'] = before;
  });
  const first = scratchStateDir('state-dirs');
  process.env['XENODE_STATE_DIR'] = '/elsewhere';
  const again = scratchStateDir('state-dirs-again');
  assert.equal(again, first, 'the same dir');
  assert.equal(resolveStateDir(), first, 'and the default state dir is it again');
  assert.ok(statSync(first).isDirectory());
  assert.equal(relative(tmpdir(), first).startsWith('..'), false, 'under the temporary directory');
});
