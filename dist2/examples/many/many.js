// Many guests: boots --count idle guests (default 100) and says how long it took. It uses the
// host daemon of the state dir when one runs, and leaves the guests there (`xenode list`
// shows them; `xenode shutdown -a` ends them); otherwise it starts a host in this process and
// destroys the guests at the end.
//
//   node dist/examples/many/many.js [--count=100] [--parallel=4] [--state-dir=DIR]
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Progress } from '../../src/cli/progress.js';
import { HostNotRunning, RemoteToolstack } from '../../src/toolstack/client.js';
import { displayPath } from '../../src/toolstack/paths.js';
import { startLocalHost } from '../../src/toolstack/local.js';
import { resolveStateDir } from '../../src/toolstack/paths.js';
const CFG = fileURLToPath(new URL('../../../examples/many/idle.cfg', import.meta.url));
const { values } = parseArgs({ options: { count: { type: 'string', default: '100' }, parallel: { type: 'string', default: '4' }, 'state-dir': { type: 'string' } } });
const count = Number(values.count);
const parallel = Number(values.parallel);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(parallel) || parallel < 1) {
    console.error('many: --count and --parallel want positive whole numbers');
    process.exit(1);
}
/** Boot `count` guests named idle-1..N, `parallel` at a time; returns their ids. */
async function bootAll(ts, text) {
    const progress = new Progress('guests', count);
    const ids = [];
    let next = 1;
    const worker = async () => {
        while (next <= count) {
            const n = next++;
            const { domid } = await ts.call('create', { file: CFG, text: `${text}\nname = "idle-${n}"\n` });
            ids.push(domid);
            progress.update(ids.length);
        }
    };
    try {
        await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
    }
    finally {
        progress.finish();
    }
    return ids;
}
const stateDir = resolveStateDir(values['state-dir']);
const remote = await RemoteToolstack.connect(stateDir).catch((e) => {
    if (e instanceof HostNotRunning)
        return null;
    throw e;
});
const local = remote ? null : await startLocalHost({ poolSize: parallel });
const ts = remote ?? local.api;
console.log(remote ? `Booting ${count} guests on the host running on ${displayPath(stateDir)}` : `Booting ${count} guests on a host in this process`);
try {
    // The base configuration without its name: each guest gets its own.
    const text = (await readFile(CFG, 'utf8')).replace(/^name\s*=.*$/m, '');
    const t0 = performance.now();
    const ids = await bootAll(ts, text);
    const secs = (performance.now() - t0) / 1000;
    console.log(`Booted ${ids.length} guests in ${secs.toFixed(2)} s: ${((secs * 1000) / ids.length).toFixed(1)} ms per guest, ` +
        `${(ids.length / secs).toFixed(0)} guests/s (${parallel} at a time)`);
    if (local) {
        const t1 = performance.now();
        await local.close();
        console.log(`Destroyed them in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
    }
    else {
        console.log('They keep running: `xenode list` shows them, `xenode shutdown -a -w` stops them');
    }
}
finally {
    remote?.close();
    await local?.close();
}
//# sourceMappingURL=many.js.map