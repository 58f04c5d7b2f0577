// xl's cpupool commands: cpupool-create name=NAME sched=credit cpus=N, cpupool-list,
// cpupool-destroy, cpupool-migrate. Here a shared pool's cpus are pCPU threads, each running
// many domains (hypervisor/cpupool.ts); Pool-0 is the default, with a thread per vCPU.
import type { Command } from 'commander';
import type { CpupoolInfo } from '../toolstack/contract.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';

/** xl's pool settings: KEY=VALUE words, values optionally quoted as in a pool config file. */
export function parsePoolSettings(words: readonly string[]): { name: string; cpus: number; sched?: string; shells?: number; shellMemory?: number } {
  const kv = new Map<string, string>();
  for (const w of words) {
    const m = /^([a-z_]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(.*))$/.exec(w.trim());
    if (!m) throw new Error(`'${w}' is not KEY=VALUE (cpupool-create name=NAME sched=credit cpus=N)`);
    if (!SETTINGS.includes(m[1]!)) throw new Error(`unknown pool setting '${m[1]}' (known: ${SETTINGS.join(', ')})`);
    kv.set(m[1]!, m[2] ?? m[3] ?? m[4]!);
  }
  const name = kv.get('name');
  if (!name) throw new Error('name= is required');
  const cpusText = kv.get('cpus');
  if (cpusText === undefined || !/^[0-9]+$/.test(cpusText)) throw new Error('cpus= is required: the number of pCPU threads (1..64)');
  const sched = kv.get('sched');
  const count = (key: string): number | undefined => {
    const text = kv.get(key);
    if (text !== undefined && !/^[0-9]+$/.test(text)) throw new Error(`${key}= wants a whole number, not '${text}'`);
    return text === undefined ? undefined : Number(text);
  };
  const shells = count('shells');
  const shellMemory = count('shell_memory');
  return { name, cpus: Number(cpusText), ...(sched !== undefined && { sched }), ...(shells !== undefined && { shells }), ...(shellMemory !== undefined && { shellMemory }) };
}

/** xl's pool settings, then xenode's: shells= domains kept parked in the pool for creates of shell_memory= MiB. */
const SETTINGS = ['name', 'sched', 'cpus', 'shells', 'shell_memory'];

/** xl cpupool-list: printf("%-19s", name) then "%3d %9s       y       %4d". */
export function xlCpupoolList(pools: readonly CpupoolInfo[]): string {
  let out = `${'Name'.padEnd(19)}CPUs   Sched     Active   Domain count\n`;
  for (const p of pools) {
    out += `${p.name.padEnd(19)}${String(p.cpus).padStart(3)} ${p.sched.padStart(9)}       ${p.active ? 'y' : 'n'}       ${String(p.domains).padStart(4)}\n`;
  }
  return out;
}

export function registerCpupoolCommands(program: Command): void {
  withStateDir(program.command('cpupool-create'))
    .description('create a shared cpupool: name=NAME sched=credit cpus=N (N pCPU threads that run many domains each); ' +
      'shells=N shell_memory=MiB keeps N domains parked in it, so a create there only names one and hands it its kernel')
    .argument('<settings...>', 'KEY=VALUE pool settings')
    .action(async (settings: string[], o: StateDirOpts) => {
      const args = parsePoolSettings(settings);
      const p = await withHost(o, (ts) => ts.call('cpupoolCreate', args));
      say(`Created cpupool ${p.name} with ${p.cpus} pCPU thread${p.cpus === 1 ? '' : 's'} (sched ${p.sched})`);
    });

  withStateDir(program.command('cpupool-list'))
    .description("list cpupools: xl's columns Name CPUs Sched Active Domain count")
    .argument('[pool]', 'only this pool')
    .option('--json', 'the rows as JSON')
    .action(async (pool: string | undefined, o: StateDirOpts & { json?: boolean }) => {
      const rows = (await withHost(o, (ts) => ts.call('cpupoolList', {}))).filter((p) => pool === undefined || p.name === pool);
      if (pool !== undefined && rows.length === 0) throw new Error(`no cpupool named ${pool}`);
      process.stdout.write(o.json ? `${JSON.stringify(rows)}\n` : xlCpupoolList(rows));
    });

  withStateDir(program.command('cpupool-destroy'))
    .description('destroy an empty cpupool')
    .argument('<pool>', 'the pool')
    .action(async (name: string, o: StateDirOpts) => {
      await withHost(o, (ts) => ts.call('cpupoolDestroy', { name }));
    });

  withStateDir(program.command('cpupool-migrate'))
    .description("move a domain to another cpupool (a running domain cannot move: its JavaScript heap stays on its thread)")
    .argument('<domain>', 'the domain, by name or id')
    .argument('<pool>', 'the pool')
    .action(async (domain: string, pool: string, o: StateDirOpts) => {
      await withHost(o, (ts) => ts.call('cpupoolMigrate', { domain, pool }));
    });
}
