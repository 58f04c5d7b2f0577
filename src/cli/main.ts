// The xenode command. `xenode list` (and `li`) with arguments it plainly accepts runs straight
// from list.ts; everything else loads commander and every subcommand (program.ts). Node 20 has
// no code cache for ES modules, so what `list` does not load is what makes it start fast (see
// docs/PERFORMANCE.md).
import { LIST_NAMES, quickList } from './list.js';

// `xenode console d | head`: when the reader goes away, stop quietly, as a Unix tool does.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

try {
  const [name, ...rest] = process.argv.slice(2);
  if (!(name !== undefined && LIST_NAMES.includes(name) && await quickList(rest))) {
    const { runProgram } = await import('./program.js');
    await runProgram();
  }
} catch (e) {
  process.stderr.write(`xenode: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
