#!/usr/bin/env node
// Links two programs out of dist/ into single modules, because one module loads far faster
// than dozens (see docs/PERFORMANCE.md):
// - the library OS (dist/src/guest/bootstrap.js and its imports) into dist/guest.mjs, which a
//   vCPU thread starts from and guest kernels import as 'xenode';
// - the xenode command (dist/src/cli/main.js, commander included) into dist/src/cli/xenode.cjs,
//   a script whose compiled code V8 caches (bin/xenode.js). Each module is linked once (a
//   class linked twice would fail instanceof checks), and everything lands at
//   the same depth as the modules that find files relative to themselves (dist/guest.mjs,
//   examples/), so those paths resolve alike. esbuild and better-sqlite3 stay packages: each
//   finds its native binary relative to itself.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const common = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [`${dist}src/guest/bootstrap.js`],
  outfile: `${dist}guest.mjs`,
});
// The command is a CommonJS script, not a module: bin/xenode.js compiles it through vm.Script
// with V8's code cache, which Node 20 offers for scripts only. What only some commands need (the
// host daemon, an in-process host) stays behind lazy initializers and runs only when used;
// dynamic imports become require()s (a vm.Script cannot import() without a flag), and
// import.meta.url the script's own URL, at the same depth as the modules it replaces.
for (const f of readdirSync(`${dist}src/cli`)) if (/^xenode(-[A-Z0-9]+)?\.mjs$/.test(f)) rmSync(`${dist}src/cli/${f}`);
await build({
  ...common,
  entryPoints: [`${dist}src/cli/main.js`],
  outfile: `${dist}src/cli/xenode.cjs`,
  format: 'cjs',
  external: ['esbuild', 'better-sqlite3'],
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__xenodeScriptUrl' },
  banner: { js: "var __xenodeScriptUrl = require('node:url').pathToFileURL(__filename).href;" },
});
