// A vCPU thread's entry (bin/link.js copies it to dist/guest.cjs): the library OS runtime,
// dist/guest.runtime.cjs, compiled from V8's code cache and run as a CommonJS module body. It
// then becomes what dist/guest.mjs exports to kernels and the lazily loaded chunks.
'use strict';
const { readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');
const { threadId } = require('node:worker_threads');

const RUNTIME = `${__dirname}/guest.runtime.cjs`;
// Named by the runtime's digest: V8 checks a cache against its source's length only.
const CACHE = `${__dirname}/guest.runtime-@DIGEST@.cache`;
// Made this long after a thread's start, when its boot (or a pool thread's warm-up) has compiled
// the functions a boot calls, so that the cache holds those too, not the top level only.
const CACHE_AFTER_MS = 1000;
const imageUrl = pathToFileURL(`${__dirname}/guest.mjs`).href;

let cachedData;
try {
  cachedData = readFileSync(CACHE);
} catch {
  // The first thread of this runtime makes it (below).
}
const body = `(function (exports, require, module, __xenodeImageUrl, __xenodeImport) {'use strict';${readFileSync(RUNTIME, 'utf8')}\n})`;
const script = new vm.Script(body, { filename: RUNTIME, ...(cachedData && { cachedData }) });
const runtime = { exports: {} };
// A script compiled by node:vm has no module loader: its import()s (a lazy chunk, a module kernel) are this file's.
script.runInThisContext()(runtime.exports, require, runtime, imageUrl, (specifier) => import(new URL(specifier, imageUrl).href));
globalThis[Symbol.for('xenode.library')] = runtime.exports;

if (cachedData === undefined || script.cachedDataRejected) {
  setTimeout(() => {
    const tmp = `${CACHE}.${process.pid}-${threadId}`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, CACHE); // whole, for threads starting meanwhile
    } catch {
      rmSync(tmp, { force: true }); // a read-only install compiles the runtime at each start
    }
  }, CACHE_AFTER_MS).unref();
}
