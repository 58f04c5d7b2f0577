import { styleText } from 'node:util';
import { withHost, withStateDir } from './common.js';
import { cpuPercents, xentopFrame, xentopHeader } from './format.js';
async function sample(ts) {
    const [host, domains] = await Promise.all([ts.call('info', {}), ts.call('list', {})]);
    return { time: Date.now(), host, domains };
}
/** Run the view until its iterations are done or the user quits. */
export async function top(ts, o) {
    const live = !o.batch && !o.json && process.stdout.isTTY === true;
    let quit;
    const quitting = new Promise((resolve) => (quit = resolve));
    const onKey = (b) => {
        // q, Q, Esc as xentop; Ctrl-C too, since raw mode turns it into a byte.
        if (b.some((c) => c === 0x71 || c === 0x51 || c === 0x1b || c === 0x03))
            quit();
    };
    if (live && process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        process.stdin.on('data', onKey).resume();
    }
    let prev;
    try {
        for (let i = 0; o.iterations === undefined || i < o.iterations; i++) {
            if (i > 0) {
                let timer;
                const stop = await Promise.race([quitting.then(() => true), new Promise((r) => (timer = setTimeout(() => r(false), o.delay * 1000)))]);
                clearTimeout(timer);
                if (stop)
                    break;
            }
            const cur = await sample(ts);
            process.stdout.write(o.json ? jsonFrame(cur, prev) : textFrame(cur, prev, live));
            prev = cur;
        }
    }
    finally {
        if (live && process.stdin.isTTY) {
            process.stdin.off('data', onKey).pause();
            process.stdin.setRawMode(false);
        }
    }
}
function jsonFrame(cur, prev) {
    const pct = cpuPercents(cur, prev);
    return `${JSON.stringify({ ...cur, domains: cur.domains.map((d) => ({ ...d, cpuPercent: pct.get(d.domid) })) })}\n`;
}
function textFrame(cur, prev, live) {
    const { summary, rows } = xentopFrame(cur, prev);
    if (!live)
        return `${summary}${xentopHeader()}\n${rows.map((r) => `${r}\n`).join('')}`;
    // Clear and draw from the top; rows that do not fit the terminal are left out, as in xentop.
    const room = Math.max(0, (process.stdout.rows || 24) - summary.split('\n').length - 1);
    return `\x1b[H\x1b[2J${summary}${styleText('inverse', xentopHeader())}\n${rows.slice(0, room).join('\n')}`;
}
export function registerTopCommand(program) {
    withStateDir(program.command('top'))
        .description("a live view of the host's domains, like xentop (q quits)")
        .option('-d, --delay <seconds>', 'seconds between updates', '3')
        .option('-i, --iterations <n>', 'number of updates before exiting')
        .option('-b, --batch', 'print frames one after another, without redrawing')
        .option('--json', 'one JSON object per update')
        .action(async (o) => {
        const delay = Number(o.delay);
        if (!(delay > 0))
            throw new Error(`--delay wants a positive number of seconds, not '${o.delay}'`);
        const iterations = o.iterations === undefined ? undefined : Number(o.iterations);
        if (iterations !== undefined && !(Number.isInteger(iterations) && iterations > 0)) {
            throw new Error(`--iterations wants a positive whole number, not '${o.iterations}'`);
        }
        await withHost(o, (ts) => top(ts, { delay, batch: o.batch === true, json: o.json === true, ...(iterations && { iterations }) }));
    });
}
//# sourceMappingURL=top.js.map