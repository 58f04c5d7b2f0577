// `xenode host` (the host daemon, in the foreground), `xenode host start` (the same, in the
// background: prints the control socket once it answers) and `xenode host stop`.
import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { Option, type Command } from 'commander';
import { XenError } from '../errors.js';
import { lockReleased, readPid } from '../toolstack/lock.js';
import { displayPath, hostPaths, resolveStateDir } from '../toolstack/paths.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';
import { dmesgLine } from './format.js';
import { keepHeapFlagsToDom0 } from './heap-flags.js';
import { DAEMON_MALLOC_ENV, mallocTuned } from './malloc-env.js';

interface DaemonOpts extends StateDirOpts {
  readonly pool: string;
  readonly shells: string;
  readonly shellVifs: string;
  readonly shutdownTimeout: string;
  /** Absent: the default port, which may be taken (another host on this machine). */
  readonly xapiPort?: string;
  readonly xapiAddress: string;
  readonly notifyParent?: boolean;
  /** ADDRESS:PORT to receive migrations on. */
  readonly listen?: string;
  /** ADDRESS:PORT of the summoning DNS server. */
  readonly summon?: string;
  /** More directories of kernels XenAPI callers may name (--kernel-dir, repeated). */
  readonly kernelDir: readonly string[];
}

/**
 * The daemon's V8 flags. Left to itself V8 grows the main isolate's young generation up to
 * 16 MiB a semi-space as the allocation rate rises, and a host creating and destroying guests
 * allocates fast: 1,000 cycles added ~29 MiB of V8 pages to its RSS (1.41x after 10 cycles);
 * with 1 MiB semi-spaces 1.06x at the same speed (docs/PERFORMANCE.md, "Memory after churn").
 * A flag the user gave (node's own arguments or NODE_OPTIONS) wins. Both size dom0's isolate
 * only (heap-flags.ts).
 */
const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1'] as const;

/** The daemon flags that neither `execArgv` nor `nodeOptions` already sets. */
export function daemonNodeFlags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((a) => a.split('=')[0]);
  return DAEMON_NODE_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
}

/** What a daemonized host tells `host start` over the IPC channel. */
type StartReport = { ready: string } | { error: string };

/** More shells than this would hold a host's memory for guests nobody asked for. */
const MAX_SHELLS = 256;
/** How long `host stop` waits, after the host hung up, for it to close and release its state dir. */
const HOST_EXIT_MS = 60_000;

/** XenAPI's HTTPS port unless --xapi-port says otherwise. */
const DEFAULT_XAPI_PORT = 8443;

/** An ADDRESS:PORT option's value. */
function addressPort(option: string, text: string): { address: string; port: number } {
  const m = /^(.+):([0-9]{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !(port >= 0 && port < 65536)) throw new Error(`${option} wants ADDRESS:PORT, not '${text}'`);
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** --listen ADDRESS:PORT for migrations, --summon ADDRESS:PORT for the summoning DNS server. */
function listenOption(o: DaemonOpts): { migrationListen?: { address: string; port: number }; summonDns?: { address: string; port: number } } {
  return { ...(o.listen !== undefined && { migrationListen: addressPort('--listen', o.listen) }), ...(o.summon !== undefined && { summonDns: addressPort('--summon', o.summon) }) };
}

function numbers(o: DaemonOpts): { poolSize: number; shells: number; shellVifs: number; shutdownGraceMs: number; xapiPort?: number; xapiAddress: string; xapiPortOptional: boolean } {
  const poolSize = Number(o.pool);
  const grace = Number(o.shutdownTimeout);
  const port = o.xapiPort === 'off' ? undefined : o.xapiPort === undefined ? DEFAULT_XAPI_PORT : Number(o.xapiPort);
  const shells = Number(o.shells);
  const shellVifs = Number(o.shellVifs);
  if (!Number.isInteger(poolSize) || poolSize < 0) throw new Error(`--pool wants a whole number of threads, not '${o.pool}'`);
  if (!Number.isInteger(shells) || shells < 0 || shells > MAX_SHELLS) throw new Error(`--shells wants a whole number of domains from 0 to ${MAX_SHELLS}, not '${o.shells}'`);
  if (!Number.isInteger(shellVifs) || shellVifs < 0 || shells + shellVifs > MAX_SHELLS) {
    throw new Error(`--shell-vifs wants a whole number of domains, at most ${MAX_SHELLS} with --shells, not '${o.shellVifs}'`);
  }
  if (!(grace >= 0)) throw new Error(`--shutdown-timeout wants a number of seconds, not '${o.shutdownTimeout}'`);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--xapi-port wants a TCP port or 'off', not '${o.xapiPort}'`);
  return { poolSize, shells, shellVifs, shutdownGraceMs: grace * 1000, ...(port !== undefined && { xapiPort: port }), xapiAddress: o.xapiAddress, xapiPortOptional: o.xapiPort === undefined };
}

async function runDaemon(o: DaemonOpts): Promise<void> {
  keepHeapFlagsToDom0();
  const { HostDaemon } = await import('../toolstack/daemon.js');
  const stateDir = resolveStateDir(o.stateDir);
  // Started by `host start`: report over IPC, then live without a terminal.
  const report = o.notifyParent && process.send ? (m: StartReport) => void process.send!(m) : null;
  let daemon;
  try {
    daemon = await HostDaemon.start({
      stateDir,
      ...numbers(o),
      ...listenOption(o),
      ...(o.kernelDir.length && { xapiKernelDirs: o.kernelDir.map((d) => resolvePath(d)) }),
      ...(!report && { echo: (e) => say(dmesgLine(e)) }),
    });
  } catch (e) {
    if (!report) throw e;
    report({ error: (e as Error).message });
    process.disconnect?.();
    process.exitCode = 1;
    return;
  }
  const d = daemon;
  const stop = () => void d.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A bug in one command must not take every guest down with the host: log it and go on.
  const uncaught = (e: unknown) => d.local.log.message(`uncaught error in the host: ${(e as Error)?.stack ?? String(e)}`);
  if (process.platform === 'linux' && !mallocTuned()) {
    d.local.log.message(`memory: run the host with ${Object.entries(DAEMON_MALLOC_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} ` +
      '(as `xenode host start` does), or its RSS grows with every guest created and destroyed');
  }
  process.on('uncaughtException', uncaught);
  if (report) {
    report({ ready: d.paths.controlSocket });
    process.disconnect?.();
  } else {
    say(`xenode host on ${displayPath(stateDir)} (pid ${process.pid}): control socket ${d.paths.controlSocket}, ` +
      `xenstored ${d.paths.xenstoredSocket}, XenAPI ${d.xapi.server.port ? `https://${o.xapiAddress}:${d.xapi.server.port}/ and ` : ''}` +
      `${d.xapi.paths.socket}; Ctrl-C stops it`);
  }
  await d.stopped;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  process.off('uncaughtException', uncaught);
}

/** Start a daemon in the background; resolves with its control socket once it serves. */
async function startDetached(o: DaemonOpts): Promise<string> {
  const stateDir = resolveStateDir(o.stateDir);
  numbers(o);
  listenOption(o);
  const child = spawn(process.execPath, [
    ...daemonNodeFlags(process.execArgv, process.env.NODE_OPTIONS), ...process.execArgv, process.argv[1]!, 'host', '--state-dir', stateDir, '--pool', o.pool, '--shells', o.shells,
    '--shell-vifs', o.shellVifs,
    '--shutdown-timeout', o.shutdownTimeout, ...(o.xapiPort !== undefined ? ['--xapi-port', o.xapiPort] : []), '--xapi-address', o.xapiAddress,
    ...(o.listen !== undefined ? ['--listen', o.listen] : []), ...(o.summon !== undefined ? ['--summon', o.summon] : []),
    ...o.kernelDir.flatMap((d) => ['--kernel-dir', resolvePath(d)]), '--notify-parent',
  ], { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { ...DAEMON_MALLOC_ENV, ...process.env } });
  const report = await new Promise<StartReport>((resolve, reject) => {
    child.once('message', (m) => resolve(m as StartReport));
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(
      `the host exited (${signal ?? `status ${code}`}) while starting: see ${displayPath(hostPaths(stateDir).logFile)}`)));
  });
  child.removeAllListeners('exit');
  child.unref();
  if ('error' in report) throw new Error(report.error);
  return report.ready;
}

export function registerHostCommands(program: Command): void {
  const daemonOptions = (cmd: Command) => withStateDir(cmd)
    .option('--pool <n>', 'vCPU threads kept started, ready for new domains', '2')
    .option('--shells <n>', 'domains kept pre-built for creates of the default memory=, so a create only names one and hands it its kernel', '0')
    .option('--shell-vifs <n>', 'more such domains, each with a vif connected while it waits, for configurations with one vif (a summoned web server)', '0')
    .option('--shutdown-timeout <seconds>', 'how long guests get to power off when the host stops', '10')
    .option('--xapi-port <port>', `XenAPI over HTTPS on this TCP port ('off': only on the state dir's xapi.sock; default ${DEFAULT_XAPI_PORT}, ` +
      'skipped with a note in the log when another host has it)')
    .option('--xapi-address <address>', "the address XenAPI's HTTPS listens on", '127.0.0.1')
    .option('--listen <address:port>', "receive live migrations here (senders need the state dir's migration-token)")
    .option('--summon <address:port>', 'where the summoning DNS server listens once a name is summoned (xenode summon; default 127.0.0.1, any free port)')
    .option('--kernel-dir <dir>', "another directory of kernels XenAPI callers may name in PV_kernel, besides the state dir's guest/ " +
      "(repeatable; each must be this user's and writable by no one else)", (d: string, dirs: string[]) => [...dirs, d], [] as string[]);

  const host = daemonOptions(program.command('host'))
    .description('run the host daemon in the foreground: hypervisor, dom0, xenstored, consoles, control socket (Ctrl-C stops it)')
    .addOption(new Option('--notify-parent').hideHelp())
    .action(async (o: DaemonOpts) => {
      await runDaemon(o);
    });

  daemonOptions(host.command('start'))
    .description('start the host daemon in the background; prints its control socket once it answers')
    .action(async (o: DaemonOpts) => {
      process.stdout.write(`${await startDetached(o)}\n`);
    });

  withStateDir(host.command('stop'))
    .description('stop the host daemon: guests are asked to power off, then destroyed if they linger')
    .action(async (o: StateDirOpts) => {
      const { lockFile } = hostPaths(resolveStateDir(o.stateDir));
      const pid = readPid(lockFile);
      await withHost(o, async (ts) => {
        let gone!: () => void;
        const stopped = new Promise<void>((resolve) => (gone = resolve));
        // The host hangs up on every client once it has stopped.
        const sub = await ts.events((e) => {
          if (e.type === 'destroyed') say(`Domain ${e.domid} has been destroyed`);
        }, () => gone());
        say(`Stopping the host on ${displayPath(resolveStateDir(o.stateDir))}`);
        await ts.call('stop', {});
        await stopped;
        sub.close();
      });
      if (pid !== undefined && !(await lockReleased(lockFile, pid, HOST_EXIT_MS))) {
        throw new XenError('ETIMEDOUT', `the host (pid ${pid}) hung up but did not release ${displayPath(lockFile)} within ${HOST_EXIT_MS / 1000} s`);
      }
    });
}
