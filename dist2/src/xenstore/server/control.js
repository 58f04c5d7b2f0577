// XS_CONTROL (docs/misc/xenstore.txt): the daemon's own commands, with cxenstored's names,
// argument rules and reply texts. live-update, logfile and memreport have no meaning here.
import { XenError } from '../../errors.js';
import { atoi } from './cnum.js';
import { QUOTA_INFO } from './quota.js';
const OK = 'OK\0';
function einval(why) {
    return new XenError('EINVAL', why);
}
function noArgs(args) {
    if (args.length !== 0)
        throw einval('command takes no arguments');
}
function quotaSettings(core) {
    let s = 'Quota settings:\n';
    for (const { key, name, descr } of QUOTA_INFO)
        s += `${name.padEnd(17)}: ${String(core.quotas[key]).padStart(8)} ${descr}\n`;
    return `${s}\0`;
}
function domainUsage(core, domid) {
    const d = core.domains.get(domid);
    if (d === undefined)
        throw new XenError('ENOENT', `domain ${domid} is not known`);
    let transactions = 0;
    let outstanding = 0;
    for (const c of core.connections) {
        if (c.domid !== domid)
            continue;
        transactions += c.transactions.size;
        outstanding += c.outstanding;
    }
    const rows = [
        ['nodes', core.store.ownedBy(domid)], ['watches', d.watches], ['transactions', transactions], ['outstanding', outstanding],
    ];
    return `Domain ${domid}:\n${rows.map(([n, v]) => `${n.padEnd(16)}: ${String(v).padStart(8)}\n`).join('')}\0`;
}
const COMMANDS = [
    {
        name: 'check',
        pars: '',
        run: (core, args) => {
            noArgs(args);
            const problems = core.check();
            for (const p of problems)
                core.log(`check: ${p}`);
            if (problems.length > 0)
                throw new XenError('EIO', `store inconsistent: ${problems[0]}`);
            return OK;
        },
    },
    {
        name: 'log',
        pars: 'on|off',
        run: (core, args) => {
            if (args.length !== 1 || (args[0] !== 'on' && args[0] !== 'off'))
                throw einval('log takes on or off');
            core.tracing = args[0] === 'on';
            return OK;
        },
    },
    {
        name: 'print',
        pars: '<string>',
        run: (core, args) => {
            if (args.length !== 1)
                throw einval('print takes one string');
            core.log(`control: ${args[0]}`);
            return OK;
        },
    },
    {
        name: 'quota',
        pars: '[set <name> <val>|<domid>]',
        run: (core, args) => {
            if (args.length === 0)
                return quotaSettings(core);
            if (args.length === 1)
                return domainUsage(core, atoi(args[0]) >>> 0);
            if (args.length !== 3 || args[0] !== 'set')
                throw einval('usage: quota [set <name> <val>|<domid>]');
            const q = QUOTA_INFO.find((i) => i.name === args[1]);
            const val = atoi(args[2]);
            if (q === undefined || val <= 0)
                throw einval(`cannot set quota ${args[1]} to ${args[2]}`);
            core.quotas[q.key] = val;
            return OK;
        },
    },
    {
        name: 'help',
        pars: '',
        run: (_core, args) => {
            noArgs(args);
            return `${COMMANDS.map((c) => `${c.name}\t${c.pars}\n`).join('')}\0`;
        },
    },
];
/** Run the CONTROL request whose NUL-terminated strings are `strings`; returns the reply payload. */
export function control(core, strings) {
    const [name, ...args] = strings;
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd === undefined)
        throw einval(`unknown control command ${name ?? ''}`);
    return cmd.run(core, args);
}
//# sourceMappingURL=control.js.map