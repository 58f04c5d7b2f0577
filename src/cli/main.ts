// The xenode command. Subcommands and their output follow xl (DESIGN.md §6).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerXenstoreCommands } from './xenstore.js';
import { run } from './run.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('xenode')
  .description('The Xen architecture on Node.js: hypervisor, xenstored, PV drivers, toolstack, unikernels')
  .version(pkg.version)
  .exitOverride();

program
  .command('run')
  .description('boot one guest in an in-process host, with its console on this terminal')
  .argument('<config>', 'the domain configuration, in xl.cfg syntax')
  .option('--state-dir <dir>', 'where the host puts its sockets (env XENODE_STATE_DIR, default ~/.xenode)')
  .option('-q, --quiet', "print only the guest's console")
  .action(async (config: string, opts: { stateDir?: string; quiet?: boolean }) => {
    process.exitCode = await run(config, opts);
  });

registerXenstoreCommands(program);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`xenode: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
