// A test process can freeze for good where no timer of its own fires again: a V8 garbage
// collection that never finishes while it holds the lock every thread's next collection needs
// (seen with shared cpupools, src/guest/pcpu.ts), or a worker whose teardown never ends (the
// process then cannot exit). Its own test timeouts cannot see that. A separate small process
// watches it and, past a deadline, says so on stderr and kills it: the file fails, the suite
// goes on. The watcher leaves as soon as the test process is gone.
import { spawn } from 'node:child_process';

const WATCHER = `
const [pid, ms, what] = process.argv.slice(1);
const end = Date.now() + Number(ms);
setInterval(() => {
  try { process.kill(Number(pid), 0); } catch { process.exit(0); }
  if (Date.now() < end) return;
  process.stderr.write('exit guard: ' + what + ' still running ' + ms + ' ms after it started (frozen, or a thread that never ends); killing process ' + pid + '\\n');
  try { process.kill(Number(pid), 'SIGKILL'); } catch {}
  process.exit(0);
}, 1000);`;

/** Kill this process if it is still alive `ms` from now, saying `what` it was. */
export function killIfAliveAfter(ms: number, what: string): void {
  const watcher = spawn(process.execPath, ['-e', WATCHER, String(process.pid), String(ms), what], { stdio: ['ignore', 'ignore', 'inherit'] });
  watcher.unref();
}
