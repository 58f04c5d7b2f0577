// xenode's summoning commands (Jitsu, NSDI'15; toolstack/summon.ts): `summon NAME CFG` makes the
// host's summoning DNS server answer NAME, booting the guest CFG describes on the first query;
// `summon-list` shows the names and where the server listens; `unsummon NAME` forgets one.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';

export function registerSummonCommands(program: Command): void {
  withStateDir(program.command('summon'))
    .description("answer NAME from the host's summoning DNS server, booting the guest CFG describes on the first query (Jitsu's summoning; a xenode extension)")
    .argument('<name>', 'the DNS name')
    .argument('<config>', "the guest's configuration; its first vif's ip= is the address the answer names")
    .action(async (name: string, config: string, o: StateDirOpts) => {
      const r = await withHost(o, (ts) => ts.call('summon', { name, file: resolve(config) }));
      say(`${r.name} -> ${r.address} (domain ${r.domain}), booted by its first query to the DNS server at ${r.dns}`);
    });

  withStateDir(program.command('summon-list'))
    .description('list the summoned names')
    .option('--json', 'as JSON')
    .action(async (o: StateDirOpts & { json?: boolean }) => {
      const r = await withHost(o, (ts) => ts.call('summonList', {}));
      if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      let out = `DNS server: ${r.dns ?? '(not listening: nothing summoned yet)'}\n${'Name'.padEnd(32)}${'Address'.padEnd(17)}${'Domain'.padEnd(24)}Boots\n`;
      for (const n of r.names) out += `${n.name.padEnd(32)}${n.address.padEnd(17)}${n.domain.padEnd(24)}${n.boots}\n`;
      process.stdout.write(out);
    });

  withStateDir(program.command('unsummon'))
    .description('forget a summoned name (a guest it booted keeps running)')
    .argument('<name>', 'the DNS name')
    .action(async (name: string, o: StateDirOpts) => {
      await withHost(o, (ts) => ts.call('unsummon', { name }));
    });
}
