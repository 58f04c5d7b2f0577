#!/usr/bin/env node
// The xenode command; the code lives in dist/ (built by `npm ci` through the prepare script).
// It is one script, dist/src/cli/xenode.cjs (bin/link.js), compiled through vm.Script with V8's
// code cache: the first run writes the compiled code (functions it ran included) to the
// user's cache directory, and later runs skip parsing and compiling what it holds (Node 20 has
// no compile cache for modules). A cache that is missing, stale or unwritable costs only speed.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const file = fileURLToPath(new URL('../dist/src/cli/xenode.cjs', import.meta.url));
const source = readFileSync(file, 'utf8');
const { size, mtimeMs } = statSync(file);
// Per user (cached code is code: it must not come from a directory others can write), per
// build of the script and per Node version (V8 also refuses data from another version).
const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'xenode');
const cacheFile = join(cacheDir, `cli-${process.version}-${size}-${Math.trunc(mtimeMs)}.v8`);
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  /* first run of this build */
}
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  ...(cachedData && { cachedData }),
});
if (!cachedData || script.cachedDataRejected) {
  // After the command has run, so that the functions it compiled are in the cache too.
  process.once('exit', () => {
    try {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      renameSync(tmp, cacheFile);
      // Caches of earlier builds are of no more use.
      for (const f of readdirSync(cacheDir)) if (f.startsWith('cli-') && join(cacheDir, f) !== cacheFile && f.endsWith('.v8')) rmSync(join(cacheDir, f), { force: true });
    } catch {
      /* no cache: the next run compiles again */
    }
  });
}
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
