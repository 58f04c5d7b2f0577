// Memory after churn (issue 11): the host daemon, started as `xenode host start` starts it,
// creates and destroys a guest over and over; its RSS after the first `warm` cycles is
// compared with its RSS after all of them. A host that keeps something of every guest it
// ran grows without end here.
//
//   npm run bench -- churn [--cycles=1000] [--warm=10] [--memory=16] [--settle=1000]
//
// The daemon runs with the node flags the CLI gives it; extra ones come from NODE_OPTIONS.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteToolstack } from '../src/toolstack/client.js';
import { emit, numberOptions } from './support/harness.js';
const opts = numberOptions({ cycles: 1000, warm: 10, memory: 16, settle: 1000 });
const XENODE = fileURLToPath(new URL('../../bin/xenode.js', import.meta.url));
const KERNEL = fileURLToPath(new URL('../../bench/guests/idle.ts', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * Resident and anonymous memory of a process, in MiB (Linux /proc), and the part of it in
 * anonymous 256 KiB mappings: V8 heap pages (of every isolate), where the remainder is the
 * binary, malloc and guest memory.
 */
async function memoryOf(pid) {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    let v8Pages = 0;
    let page = false;
    for (const line of (await readFile(`/proc/${pid}/smaps`, 'utf8')).split('\n')) {
        const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(\S*)$/.exec(line);
        if (m)
            page = !m[3] && parseInt(m[2], 16) - parseInt(m[1], 16) === 256 * 1024;
        else if (page && line.startsWith('Rss:'))
            v8Pages += Number(/(\d+) kB/.exec(line)?.[1] ?? 0);
    }
    return { rss: kib('Rss') / 1024, anon: kib('Anonymous') / 1024, v8_pages: v8Pages / 1024 };
}
const stateDir = await mkdtemp(join(tmpdir(), 'xenode-churn-'));
const file = join(stateDir, 'churn.cfg');
const child = spawn(process.execPath, [XENODE, 'host', 'start', '--state-dir', stateDir, '--pool', '2'], {
    stdio: ['ignore', 'pipe', 'inherit'],
});
const started = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => (out += b.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`xenode host start exited ${code}`))));
});
if (!started.trim())
    throw new Error('xenode host start printed no control socket');
const ts = await RemoteToolstack.connect(stateDir);
const hostStarted = (await ts.call('dmesg', {})).find((e) => e.type === 'host');
if (hostStarted?.type !== 'host')
    throw new Error('the host log names no daemon pid');
const daemonPid = hostStarted.pid;
let seq = 0;
const cycle = async () => {
    const text = `name = "churn-${seq++}"\nkernel = "${KERNEL}"\nmemory = ${opts.memory}\n`;
    const { domid } = await ts.call('create', { file, text });
    await ts.call('destroy', { domain: domid });
};
const t0 = performance.now();
for (let i = 0; i < opts.warm; i++)
    await cycle();
await sleep(opts.settle);
const first = await memoryOf(daemonPid);
for (let i = opts.warm; i < opts.cycles; i++)
    await cycle();
await sleep(opts.settle);
const last = await memoryOf(daemonPid);
const seconds = (performance.now() - t0) / 1000;
await ts.call('stop', {}).catch(() => { });
ts.close();
while (await memoryOf(daemonPid).then(() => true, () => false))
    await sleep(100);
await rm(stateDir, { recursive: true, force: true });
emit({
    bench: 'churn',
    cycles: opts.cycles,
    memory_mib: opts.memory,
    node_options: process.env.NODE_OPTIONS ?? '',
    seconds,
    rss_mib: { [`after_${opts.warm}`]: first.rss, [`after_${opts.cycles}`]: last.rss },
    anon_mib: { [`after_${opts.warm}`]: first.anon, [`after_${opts.cycles}`]: last.anon },
    v8_pages_mib: { [`after_${opts.warm}`]: first.v8_pages, [`after_${opts.cycles}`]: last.v8_pages },
    ratio: last.rss / first.rss,
    target_ratio: 1.2,
});
//# sourceMappingURL=churn.js.map