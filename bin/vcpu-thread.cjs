// A vCPU thread's entry (bin/link.js copies it to dist/guest.cjs): the library OS runtime,
// dist/guest.runtime.cjs, compiled from V8's code cache and run as a CommonJS module body. It
// then becomes what dist/guest.mjs exports to kernels and the lazily loaded chunks.
'use strict';
const { accessSync, closeSync, constants, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const vm = require('node:vm');
const { threadId } = require('node:worker_threads');

const RUNTIME = `${__dirname}/guest.runtime.cjs`;
/** FNV-1a, 32 bits, in hex: a short name for the flags below. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
// Named by the runtime's digest, as V8 checks a cache against its source's length only, and by
// the process's node flags: V8 refuses a cache made under other flags (a bench with --expose-gc
// beside a daemon), and two kinds of process would each rewrite the other's at every start.
const FLAGS = `${process.execArgv.filter((a) => a.startsWith('--')).join(' ')}|${process.env.NODE_OPTIONS ?? ''}`;
// In dist/ beside the runtime, or where $XENODE_CODE_CACHE_DIR says (a read-only install's
// writable place; a test's own directory).
const CACHE_DIR = process.env.XENODE_CODE_CACHE_DIR || __dirname;
const CACHE = `${CACHE_DIR}/guest.runtime-@DIGEST@-${fnv1a(FLAGS)}.cache`;
// The same, made by a shell after its claim: V8 compiles a function the first time it runs and a
// cache holds what was compiled when it was made, so only a claim's cache holds a claim's path
// (the kernel message to main(): about 0.35 of a warm create's 2 ms on this VM, compiled in every
// shell otherwise). Read first where there is one.
const CLAIM_CACHE = CACHE.replace(/\.cache$/, '.claim.cache');
// dist/guest.mjs's URL, made when first asked (an import(): a lazy chunk, a module kernel): a
// fresh thread's load of node:url for it cost 0.24 ms of its start (issue 17, cold16).
const image = {
  get url() {
    const url = process.getBuiltinModule('node:url').pathToFileURL(`${__dirname}/guest.mjs`).href;
    Object.defineProperty(this, 'url', { value: url });
    return url;
  },
};

// The function bin/link.js wrote: (exports, require, module, __xenodeImage, __xenodeImport) => void.
const body = readFileSync(RUNTIME, 'utf8');

/** A cache file's bytes and the inode they were read from (one open, so the two agree). */
function readCache(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
    return { data: readFileSync(fd), ino: fstatSync(fd).ino };
  } catch {
    return undefined; // The first thread of this runtime makes it (below).
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function statInode(file) {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}

// The claim's cache first, then the start's; a refused one (another Node, garbage) is passed over.
let script;
let fromClaim = false;
let refused = true;
for (const [file, claim] of [[CLAIM_CACHE, true], [CACHE, false]]) {
  const cache = readCache(file);
  if (!cache) continue;
  script = new vm.Script(body, { filename: RUNTIME, cachedData: cache.data });
  if (!script.cachedDataRejected) {
    fromClaim = claim;
    refused = false;
    break;
  }
  // Removed so that the next claim makes it anew, unless a thread has already (a new inode: a
  // cache is written by rename).
  if (claim && statInode(file) === cache.ino) rmSync(file, { force: true });
}
script ??= new vm.Script(body, { filename: RUNTIME });

const runtime = { exports: {} };
// A script compiled by node:vm has no module loader: its import()s (a lazy chunk, a module kernel) are this file's.
script.runInThisContext()(runtime.exports, require, runtime, image, (specifier) => import(new URL(specifier, image.url).href));
globalThis[Symbol.for('xenode.library')] = runtime.exports;

/** Write this thread's code cache to `file` (whole: threads starting meanwhile read it). */
function writeCache(file) {
  const tmp = `${file}.${process.pid}-${threadId}`;
  try {
    // A read-only install compiles the runtime at each start; it need not serialize it too.
    accessSync(CACHE_DIR, constants.W_OK);
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

// The runtime calls this once its domain's main() has been called, before it tells dom0 so
// (src/guest/bootstrap.ts; `claimed`: a shell's claim). Each cache is made once, and at once, as
// a guest need not live long after (a bench's are destroyed then), so the first boot of a
// runtime reports main() a few ms later:
// - the start's, by a thread that took neither cache, at its boot's main(): it then holds a boot's
//   path whichever thread came first. (Made a second after a thread's start, it held what that
//   thread had run by then: a pool thread's warm-up, which the daemon's pool makes first, or a
//   boot; a cold create's thread took 6-12% more CPU from the former, docs/PERFORMANCE.md.)
// - the claim's, by a shell's claim, unless this thread started from one.
const MAIN_CALLED = Symbol.for('xenode.mainCalled');
if (refused || !fromClaim) {
  globalThis[MAIN_CALLED] = (claimed) => {
    delete globalThis[MAIN_CALLED];
    // The shells parked before the first claim's cache was made need not each make one.
    if (claimed) {
      if (!existsSync(CLAIM_CACHE)) writeCache(CLAIM_CACHE);
    } else if (refused) writeCache(CACHE);
  };
}
