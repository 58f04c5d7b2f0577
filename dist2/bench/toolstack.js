// The toolstack's figures, against a host daemon in its own process (as users run it):
//  1. create-to-running latency (the create returns once the guest's main() runs) through the
//     command API on the control socket and through the CLI (`xenode create`, a new process
//     each time), cold (no pre-started vCPU threads) and warm (a pool that refills between
//     creates);
//  2. density: --guests idle guests booted one after another, the create latency per batch of
//     --batch as they accumulate (flat is the goal), the time and the host's memory per guest;
//  3. `xenode list` with all of them running (and settled): the CLI's wall time, the API call
//     alone, and a bare `node -e 0` for the process start-up share.
//
//   node dist/bench/toolstack.js [--samples=20] [--cli=5] [--guests=100] [--batch=25] [--pool=4] [--settle=15]
//   node dist/bench/toolstack.js --guests=1000 --batch=100   # the big run (about 9 GiB of RAM)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteToolstack } from '../src/toolstack/client.js';
import { spawnHost } from './support/host.js';
import { emit, numberOptions, summarize } from './support/harness.js';
const opts = numberOptions({ samples: 20, cli: 5, guests: 100, batch: 25, pool: 4, settle: 15 });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const XENODE = join(ROOT, 'bin/xenode.js');
const KERNEL = join(ROOT, 'bench/guests/idle.ts');
const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-toolstack-'));
const CFG = join(dir, 'idle.cfg');
const BASE = `kernel = "${KERNEL}"\nmemory = 32\n`;
writeFileSync(CFG, `name = "cli"\n${BASE}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ms = (s) => ({ median: s.median, p99: s.p99 });
const log = (line) => process.stderr.write(`${line}\n`);
/** `xenode host` in the foreground, in a process of its own. */
async function startDaemon(name, pool) {
    const stateDir = join(dir, name);
    const host = await spawnHost(XENODE, stateDir, ['--pool', String(pool), '--shutdown-timeout', '0']);
    const ts = await RemoteToolstack.connect(stateDir);
    return {
        stateDir,
        child: host.child,
        ts,
        rss: host.rss,
        async stop() {
            ts.close();
            await host.stop();
        },
    };
}
let seq = 0;
/** The phases of the last API create (CreateResult.ms). */
let phases = { kernel: 0, setup: 0, vcpu: 0, main: 0 };
/** API create-to-running, ms; the guest is destroyed again unless `keep`. */
async function apiCreate(d, keep = false) {
    const t0 = performance.now();
    const r = await d.ts.call('create', { file: CFG, text: `name = "idle-${seq++}"\n${BASE}` });
    const t = performance.now() - t0;
    phases = r.ms;
    if (!keep)
        await d.ts.call('destroy', { domain: r.domid });
    return t;
}
/** `xenode create` as a user runs it: process start to exit, ms. */
async function cliCreate(d) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [XENODE, 'create', '-q', '--state-dir', d.stateDir, CFG]);
    const t = performance.now() - t0;
    if (r.status !== 0)
        throw new Error(`xenode create: ${r.stderr.toString()}`);
    await d.ts.call('destroy', { domain: 'cli' });
    return t;
}
function wallMs(args) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args);
    if (r.status !== 0)
        throw new Error(`${args.join(' ')}: ${r.stderr.toString()}`);
    return performance.now() - t0;
}
async function series(n, between, one) {
    const out = [];
    for (let i = 0; i < n; i++) {
        await between();
        out.push(await one());
    }
    return out;
}
try {
    // 1. Latency, cold: every create starts a vCPU thread.
    log('create latency, cold ...');
    const cold = await startDaemon('cold', 0);
    await apiCreate(cold); // builds and caches the kernel image
    const apiCold = await series(opts.samples, async () => { }, () => apiCreate(cold));
    const cliCold = await series(opts.cli, async () => { }, () => cliCreate(cold));
    await cold.stop();
    // Warm: a pool of started threads, given time to refill between creates.
    log('create latency, warm ...');
    const warm = await startDaemon('warm', opts.pool);
    await apiCreate(warm);
    const settle = () => sleep(150);
    const apiWarm = await series(opts.samples, settle, () => apiCreate(warm));
    const cliWarm = await series(opts.cli, settle, () => cliCreate(warm));
    // 2. Density: guests accumulate; creates back to back.
    log(`booting ${opts.guests} idle guests ...`);
    await sleep(300);
    const rss0 = warm.rss();
    const t0 = performance.now();
    const each = [];
    const eachPhases = [];
    for (let i = 0; i < opts.guests; i++) {
        each.push(await apiCreate(warm, true));
        eachPhases.push(phases);
        if ((i + 1) % opts.batch === 0)
            log(`  ${i + 1} guests, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const bootAll = (performance.now() - t0) / 1000;
    // A new guest's isolate keeps a core busy for some seconds after boot (V8 finishing its
    // compilation and first collections): measure memory and list once they are idle.
    log(`letting them settle for ${opts.settle} s ...`);
    await sleep(opts.settle * 1000);
    const rss1 = warm.rss();
    const batches = [];
    for (let i = 0; i < each.length; i += opts.batch) {
        const s = summarize(each.slice(i, i + opts.batch));
        const ph = eachPhases.slice(i, i + opts.batch);
        const phases_median = Object.fromEntries(['kernel', 'setup', 'vcpu', 'main'].map((k) => [k, summarize(ph.map((p) => p[k])).median]));
        batches.push({ running: i, median: s.median, p99: s.p99, phases_median });
    }
    // 3. list with them all running.
    log('list ...');
    const listArgs = [XENODE, 'list', '--state-dir', warm.stateDir];
    wallMs(listArgs);
    const cliList = summarize(Array.from({ length: 5 }, () => wallMs(listArgs)));
    const nodeBare = summarize(Array.from({ length: 5 }, () => wallMs(['-e', '0'])));
    const apiList = [];
    for (let i = 0; i < 10; i++) {
        const t = performance.now();
        const rows = await warm.ts.call('list', {});
        apiList.push(performance.now() - t);
        if (rows.length !== opts.guests + 1)
            throw new Error(`list has ${rows.length} rows, expected ${opts.guests + 1}`);
    }
    log('stopping ...');
    const t2 = performance.now();
    await warm.stop();
    const stopS = (performance.now() - t2) / 1000;
    const first = batches[0].median;
    const last = batches.at(-1).median;
    emit({
        bench: 'toolstack',
        samples: opts.samples,
        api_create_ms: { cold: ms(summarize(apiCold)), warm: ms(summarize(apiWarm)) },
        cli_create_ms: { cold: ms(summarize(cliCold)), warm: ms(summarize(cliWarm)) },
        guests: opts.guests,
        boot_all_s: bootAll,
        boot_per_guest_ms: (bootAll * 1000) / opts.guests,
        create_ms_by_running: batches,
        create_flat_ratio: last / first,
        rss_per_guest_mib: (rss1 - rss0) / opts.guests / 2 ** 20,
        host_rss_mib: rss1 / 2 ** 20,
        list_ms: { cli: cliList.median, api: summarize(apiList).median, node_start: nodeBare.median },
        stop_all_s: stopS,
        targets: { list_cli_ms: 100 },
    });
}
finally {
    rmSync(dir, { recursive: true, force: true });
}
//# sourceMappingURL=toolstack.js.map