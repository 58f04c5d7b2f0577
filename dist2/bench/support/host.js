// A host daemon in a process of its own, as users run it, for the benchmarks that measure one.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
/** Daemons still running: if the benchmark dies, they must not live on with their guests. */
const children = new Set();
process.on('exit', () => {
    for (const c of children)
        c.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));
/** `xenode host` in the foreground (`xenode` is bin/xenode.js); resolves once it serves. */
export async function spawnHost(xenode, stateDir, args) {
    const child = spawn(process.execPath, [xenode, 'host', '--state-dir', stateDir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    await new Promise((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (b) => {
            err += b.toString();
            if (err.includes('control socket'))
                resolve();
        });
        child.once('exit', (code) => reject(new Error(`the daemon exited with ${code}: ${err}`)));
    });
    child.stderr.resume();
    return {
        child,
        rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024,
        async stop() {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
        },
    };
}
//# sourceMappingURL=host.js.map