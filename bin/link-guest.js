#!/usr/bin/env node
// Links the library OS (dist/src/guest/bootstrap.js and its imports) into dist/guest.mjs:
// one module loads far faster in a new vCPU thread than fifty (see docs/PERFORMANCE.md).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
await build({
  entryPoints: [`${dist}src/guest/bootstrap.js`],
  outfile: `${dist}guest.mjs`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
