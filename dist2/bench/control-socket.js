// The control socket under a hostile client, against a host daemon in its own process: one
// client writes --requests `list` requests and never reads a reply, while a second, polite
// client times a `list` every --probe-ms for --seconds; then the flooder leaves. Reports the polite client's
// latency during the flood and the host's resident memory before, at its peak, and --settle
// seconds after the flooder left (docs/SECURITY.md, "Control socket").
//
//   node dist/bench/control-socket.js [--requests=200000] [--seconds=15] [--probe-ms=20] [--settle=5]
//   XENODE_ROOT=/path/to/other/checkout node dist/bench/control-socket.js   # measure another build
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteToolstack } from '../src/toolstack/client.js';
import { hostPaths } from '../src/toolstack/paths.js';
import { emit, numberOptions, summarize } from './support/harness.js';
import { spawnHost } from './support/host.js';
const opts = numberOptions({ requests: 200_000, seconds: 15, 'probe-ms': 20, settle: 5 });
const ROOT = process.env['XENODE_ROOT'] ?? fileURLToPath(new URL('../../', import.meta.url));
const XENODE = join(ROOT, 'bin/xenode.js');
const dir = mkdtempSync(join(tmpdir(), 'xenode-bench-control-'));
const stateDir = join(dir, 'state');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 2 ** 20;
const host = await spawnHost(XENODE, stateDir, ['--pool', '0']);
const rss = host.rss;
const ts = await RemoteToolstack.connect(stateDir);
for (let i = 0; i < 50; i++)
    await ts.call('list', {});
await sleep(500);
const rssBefore = rss();
// The flooder: writes as fast as the socket takes its requests, reads nothing.
const flooder = connect(hostPaths(stateDir).controlSocket);
flooder.on('error', () => { });
flooder.pause();
await new Promise((r) => flooder.once('connect', r));
let flooding = true;
const t0 = performance.now();
const written = (async () => {
    const batch = 1000;
    for (let id = 1; id <= opts.requests && flooding; id += batch) {
        let chunk = '';
        for (let k = id; k < id + batch; k++)
            chunk += `{"id":${k},"op":"list","args":{}}\n`;
        if (!flooder.write(chunk))
            await new Promise((r) => flooder.once('drain', r));
    }
})();
const probes = [];
let rssPeak = rssBefore;
// Probe for a fixed time: an old host reads the whole flood at once and then answers it for
// seconds; a bounded one stops reading the flooder, whose writes then wait.
const until = performance.now() + opts.seconds * 1000;
while (performance.now() < until) {
    const t = performance.now();
    await ts.call('list', {});
    probes.push(performance.now() - t);
    rssPeak = Math.max(rssPeak, rss());
    await sleep(opts['probe-ms']);
}
const writesDone = await Promise.race([written.then(() => true), sleep(0).then(() => false)]);
const floodMs = performance.now() - t0;
flooding = false;
flooder.destroy();
await sleep(opts.settle * 1000);
const rssAfter = rss();
const p = summarize(probes);
ts.close();
await host.stop();
rmSync(dir, { recursive: true, force: true });
emit({
    bench: 'control-socket',
    root: ROOT,
    requests: opts.requests,
    flood_ms: Math.round(floodMs),
    flood_all_written: writesDone,
    probes: probes.length,
    probe_ms: { median: p.median, p99: p.p99, max: Math.max(...probes) },
    rss_mb: { before: Math.round(rssBefore / MB), peak: Math.round(rssPeak / MB), after: Math.round(rssAfter / MB) },
});
//# sourceMappingURL=control-socket.js.map