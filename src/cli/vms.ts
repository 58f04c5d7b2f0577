// The host database's VMs, halted ones included (xl's commands see only domains): vm-import
// (a persistent VM from an xl.cfg file), vm-list, vm-start, vm-uninstall, vm-param-set, and as
// xe has them vm-snapshot, vm-clone, vm-copy and vm-revert (`xenode vm-snapshot vm=web
// new-name-label=before`, or the VM first without its key). Each is one call of the command
// API; a VM is named by its uuid or its name.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { VmInfo } from '../toolstack/contract.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';
import { otherConfigChange } from './params.js';
import { required, xeParams } from './storage.js';
import { runTask } from './tasks.js';

const VM = ['<vm>', 'the VM, by uuid or name'] as const;

/** xe vm-list's layout: one block per VM. */
function vmBlock(v: VmInfo): string {
  return [
    `uuid ( RO)           : ${v.uuid}`,
    `     name-label ( RW): ${v.name}`,
    `    power-state ( RO): ${v.powerState.toLowerCase()}`,
    `          domid ( RO): ${v.domid}`,
    `      transient ( RO): ${v.transient}`,
    ...(v.isSnapshot ? ['  is-a-snapshot ( RO): true'] : []),
    '',
  ].join('\n');
}

export function registerVmCommands(program: Command): void {
  withStateDir(program.command('vm-import'))
    .description('make a persistent VM from an xl.cfg file: it stays, halted, across host restarts until vm-uninstall; prints its uuid')
    .argument('<config>', 'the VM configuration, in xl.cfg syntax')
    .option('--description <text>', "the VM's name_description")
    .action(async (config: string, o: StateDirOpts & { description?: string }) => {
      const v = await withHost(o, (ts) => ts.call('vmImport', { file: resolve(config), ...(o.description !== undefined && { description: o.description }) }));
      process.stdout.write(`${v.uuid}\n`);
    });

  withStateDir(program.command('vm-list'))
    .description("list the host database's VMs, halted persistent ones included (xe vm-list)")
    .option('--json', 'the records as JSON')
    .action(async (o: StateDirOpts & { json?: boolean }) => {
      const vms = await withHost(o, (ts) => ts.call('vmList', {}));
      process.stdout.write(o.json ? `${JSON.stringify(vms)}\n` : vms.map(vmBlock).join('\n'));
    });

  withStateDir(program.command('vm-start'))
    .description('boot a halted persistent VM with its stored configuration')
    .argument(...VM)
    .option('-p, --paused', 'leave it paused')
    .action(async (vm: string, o: StateDirOpts & { paused?: boolean }) => {
      const r = await withHost(o, (ts) => ts.call('vmStart', { vm, paused: o.paused === true }));
      for (const w of r.warnings) process.stderr.write(`${w}\n`);
      say(`Started VM ${vm} as domain ${r.domid}`);
    });

  withStateDir(program.command('vm-uninstall'))
    .description("remove a halted persistent VM's record (its disk images stay)")
    .argument(...VM)
    .action(async (vm: string, o: StateDirOpts) => {
      const r = await withHost(o, (ts) => ts.call('vmUninstall', { vm }));
      say(`Removed VM ${r.uuid}`);
    });

  const words = ['[params...]', 'xe-style key=value parameters (vm=, new-name-label=, sr=), or the VM first'] as const;
  const spellings = { vm: 'vm', uuid: 'vm', 'new-name-label': 'name', name: 'name', sr: 'sr', 'sr-uuid': 'sr' };
  for (const [cmd, op, what] of [['vm-snapshot', 'vmSnapshot', 'a snapshot of a VM (running or not): its disks\' VDIs snapshotted (O(1), live); a halted VM record marked as a snapshot'],
    ['vm-clone', 'vmClone', 'a new halted VM from a halted VM or a snapshot, its disks clones sharing their base (O(1))']] as const) {
    withStateDir(program.command(cmd))
      .description(`${what}: vm=VM new-name-label=NAME; prints its uuid`)
      .argument(...words)
      .option('--json', 'the new VM record as JSON')
      .action(async (params: string[], o: StateDirOpts & { json?: boolean }) => {
        const p = xeParams(params, spellings, 'vm');
        const how = `${cmd} vm=VM new-name-label=NAME`;
        const v = await withHost(o, (ts) => ts.call(op, { vm: required(p, 'vm', how), name: required(p, 'name', how) }));
        process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${v.uuid}\n`);
      });
  }

  withStateDir(program.command('vm-copy'))
    .description("a new halted VM with full copies of a halted VM's (or a snapshot's) disks: vm=VM new-name-label=NAME [sr=SR] (each disk's own SR when absent); prints its uuid")
    .argument(...words)
    .option('--json', 'the new VM record as JSON (progress as JSON lines on stderr)')
    .action(async (params: string[], o: StateDirOpts & { json?: boolean }) => {
      const p = xeParams(params, spellings, 'vm');
      const how = 'vm-copy vm=VM new-name-label=NAME [sr=SR]';
      const v = await withHost(o, (ts) => runTask(ts, { op: 'vmCopy', args: {
        vm: required(p, 'vm', how), name: required(p, 'name', how), ...(p.has('sr') && { sr: p.get('sr')! }),
      } }, 'copying', o.json === true));
      process.stdout.write(o.json ? `${JSON.stringify(v)}\n` : `${v.uuid}\n`);
    });

  withStateDir(program.command('vm-revert'))
    .description("return the VM a snapshot was taken of to it: the VM halts, gets the snapshot's configuration and clones of its disks (snapshot=SNAPSHOT)")
    .argument('[params...]', 'snapshot=SNAPSHOT (by uuid or name), or the snapshot alone')
    .action(async (params: string[], o: StateDirOpts) => {
      const p = xeParams(params, { snapshot: 'snapshot', 'snapshot-uuid': 'snapshot', uuid: 'snapshot' }, 'snapshot');
      const v = await withHost(o, (ts) => ts.call('vmRevert', { snapshot: required(p, 'snapshot', 'vm-revert snapshot=SNAPSHOT') }));
      say(`Reverted VM ${v.uuid} (${v.name}); it is ${v.powerState.toLowerCase()}`);
    });

  withStateDir(program.command('vm-param-set'))
    .description("change a VM: its name (a running VM's domain is renamed), description, memory (while halted), other-config")
    .argument(...VM)
    .option('--name <name>')
    .option('--description <text>')
    .option('--memory <MiB>', 'memory, in MiB', Number)
    .option('--maxmem <MiB>', 'maximum memory, in MiB', Number)
    .option('--other-config <key=value>', 'set other-config:key (key= with no value removes it)')
    .action(async (vm: string, o: StateDirOpts & { name?: string; description?: string; memory?: number; maxmem?: number; otherConfig?: string }) => {
      const other = otherConfigChange(o.otherConfig);
      const v = await withHost(o, (ts) => ts.call('vmSet', {
        vm, ...(o.name !== undefined && { name: o.name }), ...(o.description !== undefined && { description: o.description }),
        ...(o.memory !== undefined && { memory: o.memory }), ...(o.maxmem !== undefined && { maxmem: o.maxmem }), ...other,
      }));
      process.stdout.write(vmBlock(v));
    });
}
