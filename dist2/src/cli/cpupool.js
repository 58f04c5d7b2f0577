import { say, withHost, withStateDir } from './common.js';
/** xl's pool settings: KEY=VALUE words, values optionally quoted as in a pool config file. */
export function parsePoolSettings(words) {
    const kv = new Map();
    for (const w of words) {
        const m = /^([a-z_]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(.*))$/.exec(w.trim());
        if (!m)
            throw new Error(`'${w}' is not KEY=VALUE (cpupool-create name=NAME sched=credit cpus=N)`);
        if (!['name', 'sched', 'cpus'].includes(m[1]))
            throw new Error(`unknown pool setting '${m[1]}' (known: name, sched, cpus)`);
        kv.set(m[1], m[2] ?? m[3] ?? m[4]);
    }
    const name = kv.get('name');
    if (!name)
        throw new Error('name= is required');
    const cpusText = kv.get('cpus');
    if (cpusText === undefined || !/^[0-9]+$/.test(cpusText))
        throw new Error('cpus= is required: the number of pCPU threads (1..64)');
    const sched = kv.get('sched');
    return { name, cpus: Number(cpusText), ...(sched !== undefined && { sched }) };
}
/** xl cpupool-list: printf("%-19s", name) then "%3d %9s       y       %4d". */
export function xlCpupoolList(pools) {
    let out = `${'Name'.padEnd(19)}CPUs   Sched     Active   Domain count\n`;
    for (const p of pools) {
        out += `${p.name.padEnd(19)}${String(p.cpus).padStart(3)} ${p.sched.padStart(9)}       ${p.active ? 'y' : 'n'}       ${String(p.domains).padStart(4)}\n`;
    }
    return out;
}
export function registerCpupoolCommands(program) {
    withStateDir(program.command('cpupool-create'))
        .description('create a shared cpupool: name=NAME sched=credit cpus=N (N pCPU threads that run many domains each)')
        .argument('<settings...>', 'KEY=VALUE pool settings')
        .action(async (settings, o) => {
        const args = parsePoolSettings(settings);
        const p = await withHost(o, (ts) => ts.call('cpupoolCreate', args));
        say(`Created cpupool ${p.name} with ${p.cpus} pCPU thread${p.cpus === 1 ? '' : 's'} (sched ${p.sched})`);
    });
    withStateDir(program.command('cpupool-list'))
        .description("list cpupools: xl's columns Name CPUs Sched Active Domain count")
        .argument('[pool]', 'only this pool')
        .option('--json', 'the rows as JSON')
        .action(async (pool, o) => {
        const rows = (await withHost(o, (ts) => ts.call('cpupoolList', {}))).filter((p) => pool === undefined || p.name === pool);
        if (pool !== undefined && rows.length === 0)
            throw new Error(`no cpupool named ${pool}`);
        process.stdout.write(o.json ? `${JSON.stringify(rows)}\n` : xlCpupoolList(rows));
    });
    withStateDir(program.command('cpupool-destroy'))
        .description('destroy an empty cpupool')
        .argument('<pool>', 'the pool')
        .action(async (name, o) => {
        await withHost(o, (ts) => ts.call('cpupoolDestroy', { name }));
    });
    withStateDir(program.command('cpupool-migrate'))
        .description("move a domain to another cpupool (a running domain cannot move: its JavaScript heap stays on its thread)")
        .argument('<domain>', 'the domain, by name or id')
        .argument('<pool>', 'the pool')
        .action(async (domain, pool, o) => {
        await withHost(o, (ts) => ts.call('cpupoolMigrate', { domain, pool }));
    });
}
//# sourceMappingURL=cpupool.js.map