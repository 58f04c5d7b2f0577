import { hostPaths, resolveStateDir } from '../toolstack/paths.js';
import { XenError, isXenError } from '../errors.js';
import { XenstoreClient } from '../xenstore/client/client.js';
/** Where xenstored listens: --state-dir, else XENSTORED_PATH (as Xen's tools), else the default state dir. */
export function xenstoredSocketPath(stateDir) {
    if (stateDir === undefined && process.env['XENSTORED_PATH'])
        return process.env['XENSTORED_PATH'];
    return hostPaths(resolveStateDir(stateDir)).xenstoredSocket;
}
/** A command failed: print `message` (if any) as one line and exit with `code`. */
class CliExit extends Error {
    code;
    name = 'CliExit';
    constructor(code, message = '') {
        super(message);
        this.code = code;
    }
}
/**
 * xs_sanitise_value: printable ASCII as is, backslash doubled, \t \n \r by name, bytes below 8
 * as three octal digits, anything else as \xHH.
 */
export function sanitiseValue(val) {
    let out = '';
    for (const c of val) {
        if (c >= 0x20 && c <= 0x7e && c !== 0x5c)
            out += String.fromCharCode(c);
        else if (c === 0x5c)
            out += '\\\\';
        else if (c === 0x09)
            out += '\\t';
        else if (c === 0x0a)
            out += '\\n';
        else if (c === 0x0d)
            out += '\\r';
        else if (c < 8)
            out += `\\00${c}`;
        else
            out += `\\x${c.toString(16).padStart(2, '0')}`;
    }
    return out;
}
const isOct = (c) => c !== undefined && c >= '0' && c <= '7';
const isHex = (c) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
/**
 * xs_unsanitise_value, the inverse used by xenstore-write: \t \n \r \\, \xH[H], octal \O[O[O]],
 * a backslash before anything else keeps that character, a trailing backslash is a NUL byte.
 */
export function unsanitiseValue(spec) {
    const out = [];
    const bytes = (s) => { for (const b of Buffer.from(s, 'utf8'))
        out.push(b); };
    for (let i = 0; i < spec.length; i++) {
        const c = spec[i];
        if (c !== '\\') {
            bytes(c);
            continue;
        }
        const n = spec[++i];
        if (n === undefined)
            out.push(0);
        else if (n === 't')
            out.push(9);
        else if (n === 'n')
            out.push(10);
        else if (n === 'r')
            out.push(13);
        else if (n === 'x' && isHex(spec[i + 1])) {
            let v = 0;
            for (let k = 0; k < 2 && isHex(spec[i + 1]); k++)
                v = v * 16 + parseInt(spec[++i], 16);
            out.push(v);
        }
        else if (isOct(n)) {
            let v = 0;
            i--;
            for (let k = 0; k < 3 && isOct(spec[i + 1]); k++)
                v = v * 8 + Number(spec[++i]);
            out.push(v & 0xff);
        }
        else
            bytes(n);
    }
    return Uint8Array.from(out);
}
/** xenstore-chmod's mode words: n, r, w or b followed by a domid (atoi, as Xen parses it). */
export function parseModes(words) {
    if (words.length > 16)
        throw new CliExit(1, 'Too many permissions specified.  Maximum per invocation is 16.');
    return words.map((w) => {
        const letter = w[0] ?? '';
        if (!'nrwb'.includes(letter) || letter === '')
            throw new CliExit(1, `Invalid permission specification: '${letter}'`);
        const m = /^[+-]?[0-9]+/.exec(w.slice(1).trimStart());
        return { perm: letter, domid: m ? Number(m[0]) : 0 };
    });
}
const permString = (p) => `${p.perm}${p.domid}`;
function childPath(dir, name) {
    return `${dir}${dir.endsWith('/') ? '' : '/'}${name}`;
}
/** C printf's %.*s: a negative precision prints the whole string. */
function clip(s, precision) {
    return precision < 0 ? s : s.slice(0, precision);
}
const TAG_LEN = ' = "..."'.length;
/** xenstore-ls's tree walk and layout (do_ls). */
async function ls(xs, root, opts, emit) {
    const tty = process.stdout.isTTY && process.stdout.columns > 0;
    const maxWidth = opts.full ? 2 ** 30 : tty ? process.stdout.columns - 2 : 80;
    const desiredWidth = opts.full ? 0 : 60;
    const walk = async (path, depth) => {
        let names;
        try {
            names = await xs.directory(path);
        }
        catch (e) {
            // A node that vanishes (or is made unreadable) during the walk is skipped, as Xen does.
            if (depth > 0 && (isXenError(e, 'ENOENT') || isXenError(e, 'EACCES')))
                return;
            throw e;
        }
        const paths = names.map((n) => childPath(path, n));
        // Pipelined: every child's value (and permissions) is asked for before the first answer.
        const values = Promise.all(paths.map((p) => xs.readBytes(p).catch(() => undefined)));
        const perms = opts.perms ? Promise.all(paths.map((p) => xs.getPerms(p).catch((e) => e))) : undefined;
        const vals = await values;
        const ps = await perms;
        for (let i = 0; i < names.length; i++) {
            let line = '';
            let wid = 0;
            if (opts.full)
                line += paths[i];
            else {
                line += ' '.repeat(depth);
                wid = depth;
                const name = clip(names[i], maxWidth - TAG_LEN - wid);
                line += name;
                wid += name.length;
            }
            const val = vals[i];
            if (val === undefined)
                line += ':\n';
            else {
                const shown = sanitiseValue(val);
                if (maxWidth < wid + val.byteLength + TAG_LEN) {
                    line += ` = "${clip(shown, maxWidth - TAG_LEN - wid)}\\..."`;
                }
                else {
                    const v = ` = "${shown}"`;
                    line += v;
                    wid += v.length;
                    if (opts.perms) {
                        line += ' ';
                        for (wid++; wid < Math.min(desiredWidth, maxWidth); wid++)
                            line += wid & 1 ? '.' : ' ';
                    }
                }
            }
            const p = ps?.[i];
            if (p instanceof Error)
                line += `\ncould not access permissions for ${names[i]}`;
            else if (p)
                line += `  (${p.map(permString).join(',')})`;
            emit(`${line}\n`);
            await walk(paths[i], depth + 1);
        }
    };
    await walk(root, 0);
}
/** Connect, run, close; turn failures into one line on stderr and a non-zero exit status. */
async function run(name, opts, body) {
    const socket = xenstoredSocketPath(opts.stateDir);
    let xs;
    try {
        xs = await XenstoreClient.connect(socket);
    }
    catch {
        process.stderr.write(`xenode xenstore ${name}: no xenstored at ${socket}: start a host with \`xenode host\` or \`xenode run\`\n`);
        process.exitCode = 1;
        return;
    }
    try {
        await body(xs);
    }
    catch (e) {
        const exit = e instanceof CliExit ? e : new CliExit(1, e instanceof Error ? e.message : String(e));
        if (exit.message)
            process.stderr.write(`xenode xenstore ${name}: ${exit.message}\n`);
        process.exitCode = exit.code;
    }
    finally {
        xs.close();
    }
}
/** The xenstore-utils pattern: do everything in one transaction, print only once it committed. */
async function inTransaction(xs, use, fn) {
    let out = [];
    const attempt = async (ops) => {
        out = [];
        await fn(ops, out);
    };
    if (use)
        await xs.transaction(attempt, { maxAttempts: 1000 });
    else
        await attempt(xs);
    if (out.length > 0)
        process.stdout.write(Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))));
}
function why(e) {
    return e instanceof XenError ? ` (${e.errno})` : '';
}
function common(cmd) {
    return cmd
        .option('-s, --socket', 'talk to xenstored over its socket (always the case; accepted for xenstore-utils compatibility)')
        .option('--state-dir <dir>', 'host state directory (default: $XENODE_STATE_DIR or ~/.xenode)');
}
export function registerXenstoreCommands(program) {
    const xsCmd = program
        .command('xenstore')
        .description('inspect and change xenstore (as xenstore-ls, -read, -write, -rm, -watch, -chmod, -list, -exists)');
    common(xsCmd.command('ls').argument('[path]', 'subtree to list', '/'))
        .description('list a subtree with values (xenstore-ls)')
        .option('-f, --full', 'print whole paths, without truncating values')
        .option('-p, --prefix', 'show permissions')
        .action(async (path, o) => {
        await run('ls', o, async (xs) => {
            // Stream the listing: a large tree should not wait until the end to show up.
            let buf = '';
            const emit = (s) => {
                buf += s;
                if (buf.length > 65536) {
                    process.stdout.write(buf);
                    buf = '';
                }
            };
            try {
                await ls(xs, path, { full: o.full === true, perms: o.prefix === true }, emit);
            }
            catch (e) {
                throw new CliExit(1, `xs_directory (${path}): ${e instanceof XenError ? e.errno : String(e)}`);
            }
            finally {
                process.stdout.write(buf);
            }
        });
    });
    common(xsCmd.command('read').argument('<key...>'))
        .description('print values (xenstore-read)')
        .option('-p, --prefix', 'print "key: value"')
        .option('-R, --raw', 'print the raw bytes, without escaping or newline')
        .action(async (keys, o) => {
        await run('read', o, (xs) => inTransaction(xs, keys.length > 1, async (ops, out) => {
            for (const k of keys) {
                let v;
                try {
                    v = await ops.readBytes(k);
                }
                catch (e) {
                    throw new CliExit(1, `couldn't read path ${k}${why(e)}`);
                }
                if (o.prefix)
                    out.push(`${k}: `);
                out.push(o.raw ? v : `${sanitiseValue(v)}\n`);
            }
        }));
    });
    common(xsCmd.command('write').argument('<key-value...>', 'key value [key value ...]'))
        .description('write values (xenstore-write); values take \\t \\n \\xHH \\OOO escapes unless -R')
        .option('-R, --raw', 'write values as given, without unescaping')
        .action(async (args, o) => {
        if (args.length % 2 !== 0) {
            process.stderr.write('xenode xenstore write: usage: write [-s] [-R] key value [key value ...]\n');
            process.exitCode = 1;
            return;
        }
        await run('write', o, (xs) => inTransaction(xs, args.length > 2, async (ops) => {
            for (let i = 0; i < args.length; i += 2) {
                const k = args[i];
                const v = args[i + 1];
                try {
                    await ops.write(k, o.raw ? v : unsanitiseValue(v));
                }
                catch (e) {
                    throw new CliExit(1, `could not write path ${k}${why(e)}`);
                }
            }
        }));
    });
    common(xsCmd.command('rm').argument('<key...>'))
        .description('remove nodes and their subtrees (xenstore-rm)')
        .option('-t, --tidy', 'also remove parents left empty and without a value')
        .action(async (keys, o) => {
        await run('rm', o, (xs) => inTransaction(xs, true, async (ops) => {
            for (const k of keys) {
                let path = k;
                for (;;) {
                    try {
                        await ops.rm(path);
                    }
                    catch (e) {
                        throw new CliExit(1, `could not remove path ${path}${why(e)}`);
                    }
                    if (!o.tidy)
                        break;
                    const slash = path.lastIndexOf('/');
                    if (slash < 0)
                        break;
                    path = path.slice(0, slash);
                    const val = await ops.readBytes(path).catch(() => undefined);
                    if (val?.byteLength !== 0)
                        break;
                    const kids = await ops.directory(path).catch(() => undefined);
                    if (kids?.length !== 0)
                        break;
                }
            }
        }));
    });
    common(xsCmd.command('exists').argument('<key...>'))
        .description('exit 0 if every key exists, 1 otherwise (xenstore-exists)')
        .action(async (keys, o) => {
        await run('exists', o, (xs) => inTransaction(xs, true, async (ops) => {
            // Any failure means "no", silently, as in Xen.
            for (const k of keys)
                if (!(await ops.exists(k).catch(() => false)))
                    throw new CliExit(1);
        }));
    });
    common(xsCmd.command('list').argument('<key...>'))
        .description("print a node's children (xenstore-list)")
        .option('-p, --prefix', 'print whole paths')
        .action(async (keys, o) => {
        await run('list', o, (xs) => inTransaction(xs, true, async (ops, out) => {
            for (const k of keys) {
                let names;
                try {
                    names = await ops.directory(k);
                }
                catch (e) {
                    throw new CliExit(1, `could not list path ${k}${why(e)}`);
                }
                for (const n of names)
                    out.push(o.prefix ? `${k}/${n}\n` : `${n}\n`);
            }
        }));
    });
    common(xsCmd.command('chmod').argument('<key>').argument('<mode...>', 'n|r|w|b followed by a domid; the first is the owner'))
        .description('set permissions (xenstore-chmod)')
        .option('-u, --upto', 'apply to every parent too')
        .option('-r, --recurse', 'apply to every child too')
        .action(async (key, modes, o) => {
        await run('chmod', o, (xs) => inTransaction(xs, true, async (ops) => {
            const perms = parseModes(modes);
            const set = async (path) => {
                try {
                    await ops.setPerms(path, perms);
                }
                catch (e) {
                    throw new CliExit(1, `Error occurred setting permissions on '${path}'${why(e)}`);
                }
            };
            const down = async (path) => {
                await set(path);
                const kids = await ops.directory(path).catch(() => []);
                for (const k of kids)
                    await down(`${path}/${k}`);
            };
            if (o.recurse)
                await down(key);
            else
                await set(key);
            if (o.upto) {
                let path = key;
                for (;;) {
                    const slash = path.lastIndexOf('/');
                    if (slash < 0)
                        throw new CliExit(1, `Unable to locate path separator '/' in '${path}'`);
                    path = path.slice(0, slash);
                    if (path === '')
                        break;
                    await set(path);
                }
            }
        }));
    });
    common(xsCmd.command('watch').argument('<key>'))
        .description('print the path of every change under key (xenstore-watch); the first event comes at once')
        .option('-n, --number <NR>', 'exit after NR events')
        .action(async (key, o) => {
        const count = o.number === undefined ? -1 : Number(o.number);
        if (o.number !== undefined && !(Number.isInteger(count) && count > 0)) {
            process.stderr.write(`xenode xenstore watch: -n needs a positive count, not "${o.number}"\n`);
            process.exitCode = 1;
            return;
        }
        await run('watch', o, async (xs) => {
            let w;
            try {
                w = await xs.watch(key);
            }
            catch (e) {
                throw new CliExit(1, `Unable to add watch on ${key}${why(e)}`);
            }
            let seen = 0;
            for await (const ev of w) {
                process.stdout.write(`${ev.path}\n`);
                if (++seen === count)
                    break;
            }
        });
    });
}
//# sourceMappingURL=xenstore.js.map