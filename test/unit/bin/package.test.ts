// The npm package holds every file the runtime loads: what `npm pack` would put in the tarball
// (its dry run, with no scripts and no network) against the files reached from the package's
// entry points (its bin and exports) by following the built code's own references: relative
// imports and requires, import() of the lazy chunks (also through the vCPU entry's
// __xenodeImport), `new URL(..., import.meta.url)` (the vCPU and pCPU images, the examples) and
// the vCPU entry's `${__dirname}/...`. A package installed from the tarball runs no `prepare`
// (npm builds only git and directory dependencies), so a runtime file left out of `files` is
// simply missing there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GUEST_IMAGE, LIBRARY_IMAGE, PCPU_IMAGE, REALM_IMAGE } from '../../../src/guest/image.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface Package {
  name: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

const RELATIVE = [
  /(?:\bfrom|^\s*import)\s*["'](\.{1,2}\/[^"']+)["']/gm,
  /\b(?:import|require|__xenodeImport)\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
];
// Only import.meta.url: the runtime script's (guest.runtime.cjs, where it is the image's URL)
// are checked on their own below.
const MODULE_URL = /new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g;
const DIRNAME = /\$\{__dirname\}\/([\w.-]+)/g;
const BARE = [/(?:\bfrom|^\s*import)\s*["']([^."'/][^"']*)["']/gm, /\b(?:import|require)\(\s*["']([^."'/][^"']*)["']\s*\)/g];
const PACKAGE_NAME = /^(?:@[a-z0-9~-][\w.~-]*\/)?[a-z0-9~-][\w.~-]*$/;

/** Files (absolute) and directories (ending in the separator) reached from the entry points, and the packages imported. */
function reached(pkg: Package): { files: Set<string>; dirs: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const dirs = new Set<string>();
  const packages = new Map<string, string>();
  const todo = [...strings(pkg.bin), ...strings(pkg.exports).filter((p) => p !== './package.json')].map((p) => resolve(ROOT, p));
  const add = (from: string, spec: string) => {
    if (spec.endsWith('/')) dirs.add(resolve(from, spec) + sep);
    else todo.push(resolve(from, spec));
  };
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (files.has(f)) continue;
    files.add(f);
    if (!/\.[cm]?js$/.test(f) || !existsSync(f)) continue;
    const code = readFileSync(f, 'utf8');
    const here = dirname(f);
    for (const re of RELATIVE) for (const [, s] of code.matchAll(re)) add(here, s!);
    for (const [, s] of code.matchAll(MODULE_URL)) add(here, s!);
    for (const [, s] of code.matchAll(DIRNAME)) add(here, s!);
    for (const re of BARE) {
      for (const [, s] of code.matchAll(re)) {
        const name = s!.startsWith('@') ? s!.split('/').slice(0, 2).join('/') : s!.split('/')[0]!;
        if (s!.startsWith('node:') || builtinModules.includes(name) || !PACKAGE_NAME.test(name) || name === pkg.name) continue;
        if (!packages.has(name)) packages.set(name, relative(ROOT, f));
      }
    }
  }
  return { files, dirs, packages };
}

test('npm pack holds every file the runtime loads (the vCPU and pCPU images, the lazy chunks, the linked CLI) and no code cache', (t) => {
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if ((pack.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    t.skip('npm is not installed: npm pack cannot run');
    return;
  }
  assert.equal(pack.status, 0, `npm pack failed: ${pack.error?.message ?? pack.stderr.trim().split('\n').pop()}`);
  const [tarball] = JSON.parse(pack.stdout) as [{ files: { path: string }[] }];
  const packed = new Set(tarball.files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as Package;
  const { files, dirs, packages } = reached(pkg);
  // The walk reaches the images the toolstack starts threads from: else it proves nothing.
  for (const image of [GUEST_IMAGE, LIBRARY_IMAGE, PCPU_IMAGE, REALM_IMAGE]) {
    assert.ok(files.has(fileURLToPath(image)), `${relative(ROOT, fileURLToPath(image))} is reached from the entry points`);
  }
  const rel = (f: string) => relative(ROOT, f).split(sep).join('/');
  const missing = [...files].filter((f) => !existsSync(f)).map(rel);
  assert.deepEqual(missing, [], 'every file the code refers to was built');
  const left = [...files].map(rel).filter((f) => !packed.has(f));
  assert.deepEqual(left, [], 'every file reached is in the package');
  for (const d of dirs) assert.ok([...packed].some((p) => p.startsWith(rel(d) + '/')), `${rel(d)}/ is in the package`);
  for (const [name, from] of packages) assert.ok(pkg.dependencies?.[name], `${name} (imported by ${from}) is a dependency`);
  // Made by the threads that run it, for this machine's V8 and flags (bin/vcpu-thread.cjs).
  assert.deepEqual([...packed].filter((p) => /\.cache(\.|$)|\.tmp\./.test(p)), [], 'no code cache or temporary file');
});

test("the guest runtime's own URLs name files beside its image: no module whose paths hold from dist/src/ is linked into it", () => {
  // bin/link.js defines import.meta.url in the runtime script as dist/guest.mjs's URL.
  const image = pathToFileURL(`${ROOT}dist/guest.mjs`);
  const code = readFileSync(`${ROOT}dist/guest.runtime.cjs`, 'utf8');
  const urls = [...code.matchAll(/new URL\(\s*["']([^"']+)["']\s*,\s*__xenodeImage\.url\s*\)/g)].map(([, s]) => s!);
  assert.deepEqual(urls.filter((s) => !existsSync(fileURLToPath(new URL(s, image)))), []);
});
