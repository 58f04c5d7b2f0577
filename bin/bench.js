#!/usr/bin/env node
// `npm run bench -- NAME [options]`: runs dist/bench/NAME.js, which prints one line of JSON.
// Every module at the top of bench/ is a benchmark; what they share sits in bench/support/ and
// their guest kernels in bench/guests/.
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
const dir = fileURLToPath(new URL('../dist/bench/', import.meta.url));
const name = process.argv[2];
const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)) : [];
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- NAME [options]\nbenchmarks: ${names.join(', ') || '(none built: run npm run build)'}`);
  process.exit(2);
}
process.argv.splice(2, 1);
// A bench's bare Hosts put their default SR's images under the state dir: a temporary one of the
// run's, removed at its exit, never the user's ~/.xenode (test/support/state-dir.ts).
const { scratchStateDir } = await import(new URL('../dist/test/support/state-dir.js', import.meta.url).href);
scratchStateDir(`bench-${name}`);
// V8's marking flags before the bench's modules load (hypervisor/marking.ts says why).
await import(new URL('../dist/src/hypervisor/marking.js', import.meta.url).href);
await import(pathToFileURL(dir + name + '.js').href);
