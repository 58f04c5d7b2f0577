#!/usr/bin/env node
// Run by the build before tsc: removes from dist/ what tsc made from sources that are gone
// (a deleted or moved .ts leaves its .js behind, and a stale *.test.js would still run, a
// stale bench would still be listed). Only tsc's outputs under the directories tsconfig.json
// includes are touched; what bin/link.js writes (.mjs) is left to it.
//
//   node bin/prune-dist.js [PROJECT_DIR]      (default: this package)
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
const dist = join(root, tsconfig.compilerOptions.outDir);
// "src/**/*.ts" -> "src"
const roots = [...new Set(tsconfig.include.map((pattern) => pattern.split('/')[0]))];
const OUTPUT = /(\.js|\.js\.map|\.d\.ts|\.d\.ts\.map)$/;

/** Removes stale outputs under dist/`rel`; true if the directory is left empty (and removed). */
function prune(rel) {
  let left = 0;
  for (const entry of readdirSync(join(dist, rel), { withFileTypes: true })) {
    const path = join(rel, entry.name);
    if (entry.isDirectory()) {
      if (!prune(path)) left++;
      continue;
    }
    const m = OUTPUT.exec(entry.name);
    if (m && !existsSync(join(root, path.slice(0, -m[1].length) + '.ts'))) {
      rmSync(join(dist, path));
      console.log(`prune-dist: removed ${join(tsconfig.compilerOptions.outDir, path)}`);
    } else {
      left++;
    }
  }
  if (left > 0) return false;
  rmdirSync(join(dist, rel));
  return true;
}

for (const r of roots) if (existsSync(join(dist, r))) prune(r);
