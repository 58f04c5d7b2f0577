// Debian's cxenstored (xen-utils-4.17) as a reference peer without a hypervisor: the package is
// fetched with `apt-get download` and unpacked with `dpkg -x` into a cache under the temp dir
// (nothing is installed), and cxenstored-shim.c, built with gcc against libxen-dev's headers,
// stands in for libxenctrl/libxengnttab/libxenevtchn (only dom0 exists, its ring never fires).
// The shared libraries it links come with libxen-dev.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const XENSTORED = 'usr/lib/xen-4.17/bin/xenstored';
/** Where the shim's source sits in the checkout (tsc copies no C files into dist/). */
const SHIM_SOURCE = fileURLToPath(new URL('../../../bench/xsdiff/cxenstored-shim.c', import.meta.url));
const CACHE = join(tmpdir(), 'xenode-test-debs');

/** The root of an unpacked xen-utils-4.17 (the cache test-xenstore's test uses too). */
export async function fetchXenUtils(): Promise<string> {
  const root = join(CACHE, 'root');
  if (existsSync(join(root, XENSTORED))) return root;
  await mkdir(CACHE, { recursive: true });
  // Unpack beside the cache and rename into place, so concurrent runs never see half a tree.
  const work = await mkdtemp(join(CACHE, 'dl-'));
  try {
    await run('apt-get', ['download', 'xen-utils-4.17', 'libxenstore4', 'libxentoolcore1'], { cwd: work, timeout: 180_000 });
    const tree = join(work, 'root');
    for (const deb of (await readdir(work)).filter((f) => f.endsWith('.deb'))) {
      await run('dpkg', ['-x', join(work, deb), tree], { timeout: 60_000 });
    }
    await rename(tree, root).catch(() => undefined);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (!existsSync(join(root, XENSTORED))) throw new Error('xen-utils-4.17 holds no xenstored');
  return root;
}

/** Why cxenstored cannot run here (missing tool, package or headers), or undefined. */
export async function cxenstoredUnavailable(): Promise<string | undefined> {
  if (!existsSync('/usr/include/xenctrl.h')) return 'libxen-dev headers (xenctrl.h) are not installed';
  try {
    await run('gcc', ['--version']);
  } catch {
    return 'gcc is not installed';
  }
  try {
    await fetchXenUtils();
  } catch (e) {
    return `xen-utils-4.17 could not be fetched with apt-get download (${(e as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

export interface Cxenstored {
  readonly socket: string;
  /** The daemon's process id (benchmarks read its CPU time). */
  readonly pid: number;
  /** Whether the process is still running (it crashes on a few inputs; see docs/XENSTORE.md). */
  alive(): boolean;
  stop(): Promise<void>;
}

/** The shim, built once per version of its source (in the package cache). */
async function buildShim(): Promise<string> {
  const source = await readFile(SHIM_SOURCE);
  const shim = join(CACHE, `cxenstored-shim-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.so`);
  if (existsSync(shim)) return shim;
  await mkdir(CACHE, { recursive: true });
  // Built beside and renamed into place, so a concurrent run never loads half a file.
  const part = `${shim}.${process.pid}`;
  await run('gcc', ['-shared', '-fPIC', '-O2', '-o', part, SHIM_SOURCE, '-ldl'], { timeout: 60_000 });
  await rename(part, shim);
  return shim;
}

/** Start cxenstored in the foreground serving a socket in a fresh temp dir. */
export async function startCxenstored(): Promise<Cxenstored> {
  const root = await fetchXenUtils();
  const shim = await buildShim();
  const dir = await mkdtemp(join(tmpdir(), 'xenode-cxenstored-'));
  await mkdir(join(dir, 'run'));
  await mkdir(join(dir, 'lib'));
  const socket = join(dir, 'socket');
  const child: ChildProcess = spawn(join(root, XENSTORED), ['-N'], {
    env: {
      ...process.env,
      LD_PRELOAD: shim,
      XENSTORED_PATH: socket,
      XENSTORED_RUNDIR: join(dir, 'run'),
      XENSTORED_ROOTDIR: join(dir, 'lib'),
    },
    stdio: 'ignore',
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  for (let i = 0; i < 200 && !existsSync(socket) && !exited; i++) await new Promise((r) => setTimeout(r, 25));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGKILL');
    await gone;
    await rm(dir, { recursive: true, force: true });
  };
  if (!existsSync(socket)) {
    await stop();
    throw new Error('cxenstored did not create its socket');
  }
  return { socket, pid: child.pid!, alive: () => !exited, stop };
}
