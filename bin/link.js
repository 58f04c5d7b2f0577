#!/usr/bin/env node
// Links two programs out of dist/ into single modules, because one module loads far faster
// than dozens (see docs/PERFORMANCE.md):
// - the library OS (dist/src/guest/bootstrap.js and its imports) into dist/guest.mjs, which a
//   vCPU thread starts from and guest kernels import as 'xenode';
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
import { readdirSync, rmSync } from 'node:fs';
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
