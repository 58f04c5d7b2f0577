// vdi-param-set, sr-param-set, network-param-set, host-param-set and pool-param-set: a record's name,
// description and other-config, as vm-param-set changes a VM's (the command layer's recordSet).
import type { Command } from 'commander';
import type { Args } from '../toolstack/contract.js';
import { withHost, withStateDir, type StateDirOpts } from './common.js';

type Opts = StateDirOpts & { name?: string; description?: string; otherConfig?: string };

/** --other-config key=value (key= removes the key). */
export function otherConfigChange(kv: string | undefined): { otherConfigKey?: string; otherConfigValue?: string } {
  if (kv === undefined) return {};
  const i = kv.indexOf('=');
  if (i <= 0) throw new Error('--other-config takes key=value (or key= to remove the key)');
  const value = kv.slice(i + 1);
  return { otherConfigKey: kv.slice(0, i), ...(value !== '' && { otherConfigValue: value }) };
}

export function registerParamCommands(program: Command): void {
  for (const cls of ['VDI', 'SR', 'network', 'host', 'pool'] as const) {
    const cmd = withStateDir(program.command(`${cls.toLowerCase()}-param-set`))
      .description(`change ${cls === 'pool' || cls === 'host' ? `the ${cls}` : `a ${cls}`}: its name, description, other-config`);
    if (cls !== 'pool' && cls !== 'host') cmd.argument('<id>', `the ${cls}, by uuid or name`);
    cmd.option('--name <name>').option('--description <text>').option('--other-config <key=value>', 'set other-config:key (key= with no value removes it)')
      .action(async (...args: unknown[]) => {
        const [id, o] = (cls === 'pool' || cls === 'host' ? ['', args[0]] : args) as [string, Opts];
        const change: Args<'recordSet'> = {
          cls, id, ...(o.name !== undefined && { name: o.name }), ...(o.description !== undefined && { description: o.description }), ...otherConfigChange(o.otherConfig),
        };
        const r = await withHost(o, (ts) => ts.call('recordSet', change));
        process.stdout.write(`${r.uuid}\n`);
      });
  }
}
