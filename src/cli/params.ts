// vdi-param-set, sr-param-set, network-param-set, host-param-set and pool-param-set: a record's name,
// description and other-config, as vm-param-set changes a VM's (the command layer's recordSet),
// and a network's default locking mode (networkSet);
// vbd-param-set: a halted VM's disk mode, bootable and userdevice (vbdSet), and a VBD's other-config.
import type { Command } from 'commander';
import type { Args } from '../toolstack/contract.js';
import { withHost, withStateDir, type StateDirOpts } from './common.js';

type Opts = StateDirOpts & { name?: string; description?: string; otherConfig?: string; defaultLockingMode?: string };

/** --other-config key=value (key= removes the key). */
export function otherConfigChange(kv: string | undefined): { otherConfigKey?: string; otherConfigValue?: string } {
  if (kv === undefined) return {};
  const i = kv.indexOf('=');
  if (i <= 0) throw new Error('--other-config takes key=value (or key= to remove the key)');
  const value = kv.slice(i + 1);
  return { otherConfigKey: kv.slice(0, i), ...(value !== '' && { otherConfigValue: value }) };
}

export function registerParamCommands(program: Command): void {
  withStateDir(program.command('vbd-param-set'))
    .description("change a VM's disk, as XenAPI's VBD setters (and xe vbd-param-set) do: mode, bootable and userdevice while the VM is halted, other-config any time")
    .argument('<vm>', 'the VM, by name or uuid')
    .argument('<vdev|userdevice>', "the disk's vdev (xvda) or its userdevice (0)")
    .option('--mode <RO|RW>', 'read-only or read-write')
    .option('--bootable <true|false>', 'true makes it the disk the VM boots from (its first)')
    .option('--userdevice <n>', 'its position: n is vdev xvd(a+n)')
    .option('--other-config <key=value>', 'set other-config:key (key= with no value removes it)')
    .action(async (vm: string, vbd: string, o: StateDirOpts & { mode?: string; bootable?: string; userdevice?: string; otherConfig?: string }) => {
      if (o.bootable !== undefined && o.bootable !== 'true' && o.bootable !== 'false') throw new Error('--bootable takes true or false');
      if (o.userdevice !== undefined && !/^[0-9]{1,3}$/.test(o.userdevice)) throw new Error('--userdevice takes a number 0..701');
      await withHost(o, async (ts) => {
        if (o.otherConfig !== undefined) await ts.call('recordSet', { cls: 'VBD', id: `${vm}/${vbd}`, ...otherConfigChange(o.otherConfig) });
        if (o.mode === undefined && o.bootable === undefined && o.userdevice === undefined) return;
        await ts.call('vbdSet', {
          vm, vbd, ...(o.mode !== undefined && { mode: o.mode as 'RO' }), ...(o.bootable !== undefined && { bootable: o.bootable === 'true' }),
          ...(o.userdevice !== undefined && { userdevice: Number(o.userdevice) }),
        });
      });
    });

  for (const cls of ['VDI', 'SR', 'network', 'host', 'pool'] as const) {
    const cmd = withStateDir(program.command(`${cls.toLowerCase()}-param-set`))
      .description(`change ${cls === 'pool' || cls === 'host' ? `the ${cls}` : `a ${cls}`}: its name, description, other-config`);
    if (cls !== 'pool' && cls !== 'host') cmd.argument('<id>', `the ${cls}, by uuid or name`);
    cmd.option('--name <name>').option('--description <text>').option('--other-config <key=value>', 'set other-config:key (key= with no value removes it)');
    if (cls === 'network') {
      cmd.option('--default-locking-mode <unlocked|disabled>', "what its vifs with locking mode network_default do from their next plug (XenAPI's network.default_locking_mode)");
    }
    cmd.action(async (...args: unknown[]) => {
      const [id, o] = (cls === 'pool' || cls === 'host' ? ['', args[0]] : args) as [string, Opts];
      const mode = o.defaultLockingMode;
      if (mode !== undefined && mode !== 'unlocked' && mode !== 'disabled') throw new Error('--default-locking-mode takes unlocked or disabled');
      const change: Args<'recordSet'> = {
        cls, id, ...(o.name !== undefined && { name: o.name }), ...(o.description !== undefined && { description: o.description }), ...otherConfigChange(o.otherConfig),
      };
      const more = o.name !== undefined || o.description !== undefined || o.otherConfig !== undefined;
      const r = await withHost(o, async (ts) => {
        const set = mode !== undefined ? await ts.call('networkSet', { network: id, defaultLockingMode: mode }) : undefined;
        return set && !more ? set : ts.call('recordSet', change);
      });
      process.stdout.write(`${r.uuid}\n`);
    });
  }
}
