// The xenode command's subcommands, parsed by commander (main.ts runs `list` without it).
// Subcommands and their output follow xl (DESIGN.md §6); those that manage domains talk to the
// host daemon of a state dir through the command API. Modules that only a few subcommands need
// (the host itself, esbuild) load when those run.
import '../hypervisor/marking.js'; // V8's marking flags at the start: the host may load later (hypervisor/marking.ts)
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerBridgeCommands } from './bridge.js';
import { registerCpupoolCommands } from './cpupool.js';
import { withStateDir } from './common.js';
import { registerDemoCommand } from './demo.js';
import { registerDomainCommands } from './domains.js';
import { registerHostCommands } from './host.js';
import { registerSaveRestoreCommands } from './saverestore.js';
import { registerStorageCommands } from './storage.js';
import { registerSummonCommands } from './summon.js';
import { registerNetworkCommands } from './network.js';
import { registerDeviceStatsCommand, registerTopCommand } from './top.js';
import { registerUserCommands } from './users.js';
import { registerVmCommands } from './vms.js';
import { registerParamCommands } from './params.js';
import { registerXenstoreCommands } from './xenstore.js';

const program = new Command('xenode')
  .description('The Xen architecture on Node.js: hypervisor, xenstored, PV drivers, toolstack, unikernels')
  .version(VERSION)
  .enablePositionalOptions()
  .exitOverride();

withStateDir(program.command('run'))
  .description('boot one guest with its console on this terminal, on the host daemon if one runs, else in this process')
  .argument('<config>', 'the domain configuration, in xl.cfg syntax')
  .option('-q, --quiet', "print only the guest's console")
  .action(async (config: string, opts: { stateDir?: string; quiet?: boolean }) => {
    const { run } = await import('./run.js');
    process.exitCode = await run(config, opts);
  });

registerHostCommands(program);
registerDomainCommands(program);
registerSaveRestoreCommands(program);
registerStorageCommands(program);
registerNetworkCommands(program);
registerTopCommand(program);
registerDeviceStatsCommand(program);
registerDemoCommand(program);
registerXenstoreCommands(program);
registerUserCommands(program);
registerVmCommands(program);
registerParamCommands(program);
registerBridgeCommands(program);
registerCpupoolCommands(program);
registerSummonCommands(program);

/** Parse the command line and run the subcommand; commander's own exits set the exit code. */
export async function runProgram(): Promise<void> {
  try {
    await program.parseAsync();
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    process.exitCode = e.exitCode;
  }
}
