// The xenode command. `xenode list` (and `li`) with arguments it plainly accepts runs straight
// from list.ts; everything else loads commander and every subcommand (program.ts). Node 20 has
// no code cache for ES modules, so what `list` does not load is what makes it start fast, and
// this module is linked as CommonJS (bin/xenode.cjs requires it): Node's ES module loader alone
// costs a start more than all of `list`'s own code (see docs/PERFORMANCE.md). Hence no
// top-level await here.
import { LIST_NAMES, quickList } from './list.js';

// `xenode console d | head`: when the reader goes away, stop quietly, as a Unix tool does.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!(name !== undefined && LIST_NAMES.includes(name) && await quickList(rest))) {
    const { runProgram } = await import('./program.js');
    await runProgram();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`xenode: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
