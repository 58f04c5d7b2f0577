#!/usr/bin/env node
// Links two programs out of dist/ into single modules, because one module loads far faster
// than dozens (see docs/PERFORMANCE.md):
// - the library OS (dist/src/guest/bootstrap.js and its imports) into dist/guest.runtime.cjs,
//   which a vCPU thread runs (its entry dist/guest.cjs compiles it from V8's code cache), and
//   dist/guest.mjs, which guest kernels import as 'xenode' (that same instance);
// - the xenode command: dist/src/cli/main.js (`xenode list`) into dist/src/cli/xenode.cjs
//   (CommonJS: Node's ES module loader costs a start more than `list`'s own code), and
//   commander with every subcommand into xenode-program.mjs beside it, with what only some
//   commands need (the host daemon, an in-process host for run and demo) split into chunks that
//   load when used, so `xenode list` parses little. Each module is linked once into each
//   program (a class linked twice would fail instanceof checks), and everything lands at
//   the same depth as the modules that find files relative to themselves (dist/guest.mjs,
//   examples/), so those paths resolve alike. esbuild and better-sqlite3 stay packages: each
//   finds its native binary relative to itself.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const common = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' };
// Drivers, the TCP/IP stack and the backends are imported when a guest first uses them: they
// land in chunks beside guest.mjs (dist/guest-*.mjs), so an idle guest's thread parses and
// holds only the runtime it runs.
for (const f of readdirSync(dist)) if (/^guest-[A-Z0-9]+\.mjs$/.test(f)) rmSync(`${dist}${f}`);
await build({
  ...common,
  entryPoints: { guest: `${dist}src/guest/bootstrap.js` },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'guest-[hash]',
});
await mergeStaticChunks();
await runtimeAsScript();

/**
 * The chunks guest.mjs imports statically (code it shares with the lazy ones) merged into it: a
 * vCPU thread then loads one module at start instead of a dozen, each of which costs Node's ES
 * module loader its resolution, read and compile (about 8% of a fresh thread's CPU until ready,
 * docs/PERFORMANCE.md). The lazy chunks import what they used from those chunks from guest.mjs
 * instead, under names that say which chunk it came from, so every module stays linked once.
 */
async function mergeStaticChunks() {
  const chunk = /(?:\bfrom|^import)\s*"\.\/(guest-[A-Z0-9]+\.mjs)";/gm; // static imports only, not import("...")
  const read = (f) => readFileSync(`${dist}${f}`, 'utf8');
  const merged = new Set();
  for (const todo = ['guest.mjs']; todo.length > 0;) {
    for (const [, f] of read(todo.pop()).matchAll(chunk)) if (!merged.has(f)) merged.add(f), todo.push(f);
  }
  if (merged.size === 0) return;
  const alias = (f, name) => `__${f.slice(6, -4)}_${name}`;
  const named = /^import \{([^}]*)\} from "\.\/(guest-[A-Z0-9]+\.mjs)";/gm;
  const bare = /^import "\.\/(guest-[A-Z0-9]+\.mjs)";/gm;
  const specifiers = (names) => names.split(',').map((e) => e.trim()).filter(Boolean).map((e) => e.split(/\s+as\s+/));
  const lazy = readdirSync(dist).filter((f) => /^guest-[A-Z0-9]+\.mjs$/.test(f) && !merged.has(f));
  // Only what the lazy chunks use is exported: the rest of the merged code is left out where unused.
  const used = new Map([...merged].map((f) => [f, new Set()]));
  for (const f of lazy) for (const [, names, g] of read(f).matchAll(named)) for (const [name] of specifiers(names)) used.get(g)?.add(name);
  const entry = `${dist}guest.entry.tmp.mjs`;
  writeFileSync(entry, ['export * from "./guest.mjs";',
    ...[...used].map(([f, names]) => `export { ${[...names].map((n) => `${n} as ${alias(f, n)}`).join(', ')} } from "./${f}";`)].join('\n'));
  await build({
    ...common,
    entryPoints: [entry],
    outfile: `${dist}guest.merged.tmp.mjs`,
    plugins: [{
      name: 'lazy-chunks',
      setup(b) {
        b.onResolve({ filter: /^\.\/guest-[A-Z0-9]+\.mjs$/ }, (a) => (a.kind === 'dynamic-import' ? { path: a.path, external: true } : undefined));
      },
    }],
  });
  rmSync(entry);
  renameSync(`${dist}guest.merged.tmp.mjs`, `${dist}guest.mjs`);
  for (const f of merged) rmSync(`${dist}${f}`);
  for (const f of lazy) {
    const code = read(f)
      .replace(named, (all, names, g) => (!merged.has(g) ? all
        : `import { ${specifiers(names).map(([name, local = name]) => `${alias(g, name)} as ${local}`).join(', ')} } from "./guest.mjs";`))
      .replace(bare, (all, g) => (merged.has(g) ? 'import "./guest.mjs";' : all));
    writeFileSync(`${dist}${f}`, code);
  }
}
/**
 * The merged runtime as a CommonJS script, dist/guest.runtime.cjs, which a vCPU thread's entry
 * (dist/guest.cjs) compiles from V8's code cache: Node 20 caches no ES module's compile, and
 * its ES module loader costs a fresh thread about 7 ms of CPU on its own (docs/PERFORMANCE.md,
 * issue 17). dist/guest.mjs becomes the module kernels and the lazy chunks import: it exports
 * the script's instance, so every module stays linked once in a thread. The script's import()
 * calls (the lazy chunks, a module kernel) go through the entry's __xenodeImport: a script
 * compiled by node:vm has no loader of its own. The code cache, made by the threads themselves,
 * is named by the script's digest, so a rebuilt runtime never meets an older cache.
 */
async function runtimeAsScript() {
  for (const f of readdirSync(dist)) if (/^guest\.runtime(-[0-9a-f]+)*(\.claim)?\.(cjs|cache)(\.\d+-\d+)?$/.test(f)) rmSync(`${dist}${f}`);
  const lazyExternal = {
    name: 'lazy-chunks',
    setup(b) {
      b.onResolve({ filter: /^\.\/guest-[A-Z0-9]+\.mjs$/ }, (a) => ({ path: a.path, external: true }));
    },
  };
  // node:v8 loaded at its first use (src/guest/lazy-v8.ts): a suspend's or a restore's only.
  const lazyV8 = {
    name: 'lazy-v8',
    setup(b) {
      b.onResolve({ filter: /^node:v8$/ }, () => ({ path: `${dist}src/guest/lazy-v8.js` }));
    },
  };
  const names = await build({ ...common, entryPoints: [`${dist}guest.mjs`], write: false, metafile: true, outfile: `${dist}names.tmp.mjs`, plugins: [lazyExternal] });
  const exports = Object.values(names.metafile.outputs)[0].exports;
  const script = await build({
    ...common,
    format: 'cjs',
    entryPoints: [`${dist}guest.mjs`],
    write: false,
    outfile: `${dist}guest.runtime.cjs`,
    define: { 'import.meta.url': '__xenodeImage.url' },
    plugins: [lazyExternal, lazyV8],
  });
  // The exports object is the namespace esbuild made (getters already): not copied into a second
  // one of getters over the first, which cost a fresh thread's start 0.2-0.5 ms (issue 17, cold16).
  const toCommonJS = 'module.exports = __toCommonJS(guest_exports);';
  const text = script.outputFiles[0].text;
  if (text.split(toCommonJS).length !== 2) throw new Error(`bin/link.js: esbuild's runtime script no longer has one "${toCommonJS}"`);
  // The function the entry (dist/guest.cjs) runs, whole in the file: a thread reads it as one string,
  // not its body joined to a head and a tail (a second 200 KB string to flatten, in the young heap).
  const code = `(function (exports, require, module, __xenodeImage, __xenodeImport) {${text
    .replace(toCommonJS, 'module.exports = guest_exports;').replace(/\bimport\(/g, '__xenodeImport(')}\n})`;
  writeFileSync(`${dist}guest.runtime.cjs`, code);
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 16);
  writeFileSync(`${dist}guest.mjs`, [
    '// The library OS as a guest kernel and the lazily loaded chunks import it: the instance this',
    '// vCPU thread runs (guest.runtime.cjs, started by guest.cjs; bin/link.js made this file).',
    "const library = globalThis[Symbol.for('xenode.library')];",
    "if (library === undefined) throw new Error('the xenode library OS is imported from a guest kernel on its vCPU thread only');",
    `export const { ${exports.join(', ')} } = library;`,
    '',
  ].join('\n'));
  writeFileSync(`${dist}guest.cjs`, readFileSync(fileURLToPath(new URL('./vcpu-thread.cjs', import.meta.url)), 'utf8').replace('@DIGEST@', digest));
}

// The library OS once more, as a script for the realms of shared pCPUs (src/guest/pcpu.ts): one
// function of the host functions a realm may call (src/guest/realm/host.ts) that returns the
// realm's boot. Node's modules are not linked: the few the library OS needs come in realm copies,
// and every other one is a stand-in that throws when used (src/guest/realm/refused.ts).
// Streams (os.tcpip's TCP sockets as Duplex) are readable-stream, evaluated only once a guest
// uses the stack: the userland copy of Node's own, on the events and string_decoder packages;
// what it asks of process and AbortController are the realm's own globals (realm/process.ts).
const packageOf = (id) => createRequire(import.meta.url).resolve(id);
const streamDep = (id) => createRequire(packageOf('readable-stream')).resolve(`${id}/`);
const realmCopies = {
  name: 'realm-copies',
  setup(b) {
    b.onResolve({ filter: /^node:console$/ }, () => ({ path: `${dist}src/guest/realm/console.js` }));
    b.onResolve({ filter: /^node:v8$/ }, () => ({ path: `${dist}src/guest/realm/v8.js` }));
    b.onResolve({ filter: /^(node:)?stream$/ }, () => ({ path: packageOf('readable-stream/lib/ours/browser.js') }));
    b.onResolve({ filter: /^(node:)?buffer\/?$/ }, () => ({ path: packageOf('buffer/') }));
    b.onResolve({ filter: /^(node:)?(events|string_decoder)\/?$/ }, (args) => ({ path: streamDep(args.path.replace(/^node:|\/$/g, '')) }));
    b.onResolve({ filter: /^(process|abort-controller)\/?$/ }, () => ({ path: `${dist}src/guest/realm/process.js` }));
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
  },
};
await build({
  ...common,
  format: 'iife',
  globalName: '__xenodeRealm',
  entryPoints: [`${dist}src/guest/realm.js`],
  outfile: `${dist}realm.js`,
  plugins: [realmCopies],
  // No import() in a realm: Node's answer to one is an object of the host thread's realm.
  supported: { 'dynamic-import': false },
  banner: {
    js: '(function (__host) { "use strict"; const require = (id) => new Proxy({}, { get(_t, key) { ' +
      "if (typeof key === 'symbol' || key === '__esModule' || key === 'then') return undefined; " +
      "throw new Error(`Node's ${id} is not available to a domain in a shared cpupool; run it in Pool-0`); } });",
  },
  footer: { js: 'return __xenodeRealm; })' },
});
// Chunks of an earlier build have other names: clear them, or they would pile up.
for (const f of readdirSync(`${dist}src/cli`)) if (/^xenode((-[A-Z0-9]+|-program)?\.mjs|\.cjs)$/.test(f)) rmSync(`${dist}src/cli/${f}`);
// `xenode list` loads one module: main.js with what it imports, and nothing else. Every other
// subcommand imports the program (commander and the subcommands, split as below), which has
// its own copies of the few modules main.js links: main.js only reads an error's message, so
// no object of one copy meets a class of the other.
await build({
  ...common,
  format: 'cjs',
  entryPoints: { xenode: `${dist}src/cli/main.js` },
  outdir: `${dist}src/cli`,
  outExtension: { '.js': '.cjs' },
  plugins: [{
    name: 'program',
    setup(b) {
      b.onResolve({ filter: /^\.\/program\.js$/ }, () => ({ path: './xenode-program.mjs', external: true }));
    },
  }],
});
await build({
  ...common,
  entryPoints: { 'xenode-program': `${dist}src/cli/program.js` },
  outdir: `${dist}src/cli`,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'xenode-[hash]',
  external: ['esbuild', 'better-sqlite3'],
  // commander is CommonJS: its require() of Node's modules needs a real require.
  banner: { js: "import { createRequire as __xenodeRequire } from 'node:module'; const require = __xenodeRequire(import.meta.url);" },
});
