import { XAPI_ROLES } from '../toolstack/contract.js';
import { say, withHost, withStateDir } from './common.js';
async function readPassword() {
    if (process.stdin.isTTY)
        process.stderr.write('Password: ');
    const chunks = [];
    let n = 0;
    for await (const c of process.stdin) {
        chunks.push(c);
        n += c.length;
        if (Buffer.concat(chunks).includes(10) || n > 4096)
            break;
    }
    const line = Buffer.concat(chunks).toString('utf8').split('\n')[0].replace(/\r$/, '');
    if (!line)
        throw new Error('no password given: pass --password or a line on standard input');
    return line;
}
export function registerUserCommands(program) {
    withStateDir(program.command('user-add'))
        .description(`add a XenAPI user, or replace one (their sessions end); roles: ${XAPI_ROLES.join(', ')}`)
        .argument('<name>', 'the login name')
        .requiredOption('--role <role>', "the user's XAPI role")
        .option('--password <password>', 'the password (else the first line of standard input)')
        .action(async (name, o) => {
        const password = o.password ?? (await readPassword());
        const r = await withHost(o, (ts) => ts.call('userAdd', { name, role: o.role, password }));
        say(`${r.replaced ? 'Replaced' : 'Added'} user ${r.name} (${r.role})`);
    });
}
//# sourceMappingURL=users.js.map