// A kernel script's code cache with every function compiled, not its top level only. V8
// compiles a function when it first runs, and a cache holds what had been compiled when it was
// made: from dom0's cache (the top level), each claim compiled the kernel's functions as its
// main() and its first request ran them (0.5-1.3 ms of the kernel's start and 1.2 ms of a
// summoned guest's first request, docs/PERFORMANCE.md, issue 17). V8's --lazy is the only
// switch, and it is the whole process's: turned off in dom0 it changed every thread's compiles
// for that moment (boot13's change, reverted). So a child process of the same Node and flags
// compiles the script with --lazy off, turns it on again (the cache's flag hash is then the
// guests'), and writes the cache; dom0 checks that V8 takes it before it is used.
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { setPriority } from 'node:os';
import vm from 'node:vm';
import { HEAP_SIZE_FLAGS } from '../node-flags.js';

/** A child that takes longer is killed (its cache is not needed: the top level's serves). */
export const EAGER_CACHE_TIMEOUT_MS = 30_000;
/** The child's nice value: a guest thread's (its work is for guests), below dom0's. */
const BACKGROUND_NICE = 10;

const CHILD = `
const v8 = require('node:v8'), vm = require('node:vm');
const parts = [];
process.stdin.on('data', (d) => parts.push(d)).on('end', () => {
  v8.setFlagsFromString('--no-lazy');
  const script = new vm.Script(Buffer.concat(parts).toString('utf8'), { filename: process.argv[1] });
  v8.setFlagsFromString('--lazy');
  process.stdout.write(script.createCachedData());
});`;

/** The child at work, and those queued after it: one at a time (a storm of creates of new kernels must not start a Node each). */
let queue: Promise<unknown> = Promise.resolve();

/**
 * The code cache of `source` (a wrapped kernel script, filename `url`) with its functions
 * compiled; undefined if it could not be made, or V8 in this process refuses it (other flags).
 * `maxBytes` bounds what the child may write. Children run one at a time, at a guest's priority.
 * Once `signal` aborts (its host closes), its child is killed and its queued work never starts:
 * the answer is then undefined.
 */
export function eagerCodeCache(source: string, url: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
  const made = queue.then(() => (signal?.aborted ? undefined : make(source, url, maxBytes, signal)));
  queue = made.catch(() => undefined);
  return made;
}

/**
 * The host's flags that can change how V8 compiles, and so the flag hash a code cache carries:
 * the heap sizes, the stack, the tiers, language switches. Nothing else passes to the child:
 * not an inspector (its port is the host's; --inspect-brk would wait for a debugger), a profiler
 * (a file per child), a preload (--require, --import) or a test runner's option, nor a value
 * given as a separate word. A flag the list misses costs only the cache: V8 then refuses it
 * (the check in `make`) and the top level's cache serves.
 */
const COMPILE_FLAG = new RegExp(`^--(?:no-)?(?:${[...HEAP_SIZE_FLAGS, 'stack-size', 'jitless', 'opt', 'sparkplug', 'maglev', 'turbofan', 'lazy', 'expose-gc', 'harmony[\\w-]*', 'js-[\\w-]+'].join('|')})(?:=\\S*)?$`);

/** The compile-relevant flags of a flag list (process.execArgv, or NODE_OPTIONS's words). */
export function compileFlags(flags: readonly string[]): string[] {
  return flags.filter((f) => COMPILE_FLAG.test(f.replaceAll('_', '-')));
}

async function make(source: string, url: string, maxBytes: number, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
  const env = { ...process.env, NODE_OPTIONS: compileFlags((process.env.NODE_OPTIONS ?? '').split(/\s+/)).join(' ') };
  const child = spawn(process.execPath, [...compileFlags(process.execArgv), '-e', CHILD, url],
    { stdio: ['pipe', 'pipe', 'ignore'], env });
  // Nothing waits for it: a host (or a command) that is done need not wait for its cache.
  child.unref();
  (child.stdout as Socket).unref();
  try {
    // Background work: dom0's thread comes first.
    if (child.pid !== undefined) setPriority(child.pid, BACKGROUND_NICE);
  } catch {
    // Not allowed here: it runs at the host's priority.
  }
  const timer = setTimeout(() => child.kill(), EAGER_CACHE_TIMEOUT_MS).unref();
  const abort = () => child.kill();
  signal?.addEventListener('abort', abort, { once: true });
  const out: Buffer[] = [];
  let size = 0;
  child.stdout.on('data', (d: Buffer) => {
    size += d.length;
    if (size > maxBytes) child.kill();
    else out.push(d);
  });
  child.stdin.on('error', () => {});
  child.stdin.end(source);
  const ok = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0 && size <= maxBytes));
  });
  clearTimeout(timer);
  signal?.removeEventListener('abort', abort);
  if (!ok || size === 0 || signal?.aborted) return undefined;
  const cache = Buffer.concat(out);
  // Another name than dom0's own compile of it: V8's compilation cache would answer with that
  // script and not look at the cache at all.
  const check = new vm.Script(source, { filename: `${url}#eager`, cachedData: cache });
  return check.cachedDataRejected === true ? undefined : cache;
}
