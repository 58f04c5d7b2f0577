// The kill -9 rig of the durability tests: a child process writes records and prints
// "flushed N" once record N's flush is acknowledged; it is killed without warning as soon as
// `atLeast` records are, and the parent then checks that every acknowledged record is there.
import { spawn } from 'node:child_process';
/** Run `script` with `args` until it has acknowledged record `atLeast`, SIGKILL it; the last record it acknowledged. */
export async function killAfterFlushed(script, args, atLeast) {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = -1;
    let out = '';
    await new Promise((resolve, reject) => {
        child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}`))));
        child.stdout.on('data', (b) => {
            out += b.toString();
            const lines = out.split('\n');
            out = lines.pop();
            for (const l of lines)
                if (l.startsWith('flushed '))
                    acked = Number(l.slice('flushed '.length));
            if (acked >= atLeast)
                child.kill('SIGKILL');
        });
    });
    return acked;
}
//# sourceMappingURL=kill-child.js.map