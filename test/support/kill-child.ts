// The kill -9 rig of the durability tests: a child process writes records and prints
// "flushed N" once record N's flush is acknowledged; it is killed without warning as soon as
// `atLeast` records are, and the parent then checks that every acknowledged record is there.
import { spawn } from 'node:child_process';

/** Run `script` with `args` until it has acknowledged record `atLeast`, SIGKILL it; the last record it acknowledged. */
export async function killAfterFlushed(script: string, args: readonly string[], atLeast: number): Promise<number> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = -1;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}`))));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) if (l.startsWith('flushed ')) acked = Number(l.slice('flushed '.length));
      if (acked >= atLeast) child.kill('SIGKILL');
    });
  });
  return acked;
}

/**
 * Run `script` with `args`: it prints "acked <sector> <generation>" once a write's flush is
 * acknowledged, and "flushed 0" when it wants to be killed; SIGKILL it then. Per sector, the
 * newest generation acknowledged.
 */
export async function killWhenAsked(script: string, args: readonly string[]): Promise<Map<number, number>> {
  const acked = new Map<number, number>();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}`))));
    c.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        const m = /^acked (\d+) (\d+)$/.exec(l);
        if (m) acked.set(Number(m[1]), Math.max(acked.get(Number(m[1])) ?? 0, Number(m[2])));
        else if (l === 'flushed 0') c.kill('SIGKILL');
      }
    });
  });
  return acked;
}

/**
 * Run `script PATH PREFIX`: it prints "acked N" once its record N is durable; SIGKILL it once it
 * has acknowledged `want` records (or after 20 s); the count it acknowledged.
 */
export function killDuringWrites(script: string, path: string, prefix: string, want: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = -1;
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        const m = /^acked ([0-9]+)$/.exec(l);
        if (m) acked = Number(m[1]);
      }
      if (acked + 1 >= want) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited (${code ?? signal}) before the kill: ${err}`));
      else resolve(acked + 1);
    });
  });
}
