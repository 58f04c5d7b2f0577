import { resolve } from 'node:path';
import { say, withHost, withStateDir } from './common.js';
const VM = ['<vm>', 'the VM, by uuid or name'];
/** xe vm-list's layout: one block per VM. */
function vmBlock(v) {
    return [
        `uuid ( RO)           : ${v.uuid}`,
        `     name-label ( RW): ${v.name}`,
        `    power-state ( RO): ${v.powerState.toLowerCase()}`,
        `          domid ( RO): ${v.domid}`,
        `      transient ( RO): ${v.transient}`,
        '',
    ].join('\n');
}
export function registerVmCommands(program) {
    withStateDir(program.command('vm-import'))
        .description('make a persistent VM from an xl.cfg file: it stays, halted, across host restarts until vm-uninstall; prints its uuid')
        .argument('<config>', 'the VM configuration, in xl.cfg syntax')
        .option('--description <text>', "the VM's name_description")
        .action(async (config, o) => {
        const v = await withHost(o, (ts) => ts.call('vmImport', { file: resolve(config), ...(o.description !== undefined && { description: o.description }) }));
        process.stdout.write(`${v.uuid}\n`);
    });
    withStateDir(program.command('vm-list'))
        .description("list the host database's VMs, halted persistent ones included (xe vm-list)")
        .option('--json', 'the records as JSON')
        .action(async (o) => {
        const vms = await withHost(o, (ts) => ts.call('vmList', {}));
        process.stdout.write(o.json ? `${JSON.stringify(vms)}\n` : vms.map(vmBlock).join('\n'));
    });
    withStateDir(program.command('vm-start'))
        .description('boot a halted persistent VM with its stored configuration')
        .argument(...VM)
        .option('-p, --paused', 'leave it paused')
        .action(async (vm, o) => {
        const r = await withHost(o, (ts) => ts.call('vmStart', { vm, paused: o.paused === true }));
        for (const w of r.warnings)
            process.stderr.write(`${w}\n`);
        say(`Started VM ${vm} as domain ${r.domid}`);
    });
    withStateDir(program.command('vm-uninstall'))
        .description("remove a halted persistent VM's record (its disk images stay)")
        .argument(...VM)
        .action(async (vm, o) => {
        const r = await withHost(o, (ts) => ts.call('vmUninstall', { vm }));
        say(`Removed VM ${r.uuid}`);
    });
    withStateDir(program.command('vm-param-set'))
        .description("change a VM: its name (a running VM's domain is renamed), description, memory (while halted), other-config")
        .argument(...VM)
        .option('--name <name>')
        .option('--description <text>')
        .option('--memory <MiB>', 'memory, in MiB', Number)
        .option('--maxmem <MiB>', 'maximum memory, in MiB', Number)
        .option('--other-config <key=value>', 'set other-config:key (key= with no value removes it)')
        .action(async (vm, o) => {
        let other = {};
        if (o.otherConfig !== undefined) {
            const i = o.otherConfig.indexOf('=');
            if (i <= 0)
                throw new Error('--other-config takes key=value (or key= to remove the key)');
            const value = o.otherConfig.slice(i + 1);
            other = { otherConfigKey: o.otherConfig.slice(0, i), ...(value !== '' && { otherConfigValue: value }) };
        }
        const v = await withHost(o, (ts) => ts.call('vmSet', {
            vm, ...(o.name !== undefined && { name: o.name }), ...(o.description !== undefined && { description: o.description }),
            ...(o.memory !== undefined && { memory: o.memory }), ...(o.maxmem !== undefined && { maxmem: o.maxmem }), ...other,
        }));
        process.stdout.write(vmBlock(v));
    });
}
//# sourceMappingURL=vms.js.map