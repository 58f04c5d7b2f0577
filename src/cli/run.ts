// `xenode run FILE.cfg`: an in-process host that boots one guest with its console on this
// terminal and exits when the guest is gone, with a status that says how it ended.
import type { ShutdownReason } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { loadDomainConfig } from '../toolstack/domconfig.js';
import { Host } from '../toolstack/host.js';
import { resolveStateDir } from '../toolstack/paths.js';

/** Exit statuses of `xenode run` (documented in the README). */
export const RUN_EXIT: Record<ShutdownReason | 'destroyed', number> = {
  poweroff: 0,
  crash: 2,
  reboot: 3,
  suspend: 4,
  watchdog: 5,
  soft_reset: 6,
  destroyed: 130,
};

/** How long a guest gets to power off after Ctrl-C before it is destroyed. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunOptions {
  readonly stateDir?: string;
  readonly quiet?: boolean;
}

export async function run(file: string, opts: RunOptions): Promise<number> {
  const say = (line: string) => opts.quiet || process.stderr.write(`${line}\n`);
  say(`Parsing config from ${file}`);
  const { config, warnings } = await loadDomainConfig(file);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);

  const stateDir = resolveStateDir(opts.stateDir);
  const host = await Host.start({ stateDir, log: (line) => process.stderr.write(`xenode: ${line}\n`) }).catch(async (e) => {
    // Another host owns this state dir: run without exposing xenstored.
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || (e instanceof XenError && e.errno === 'EEXIST')) {
      say(`note: a host is already using ${stateDir}; this guest's xenstore is not exposed on a socket`);
      return Host.start({ log: (line) => process.stderr.write(`xenode: ${line}\n`) });
    }
    throw e;
  });

  let domid = -1;
  let outcome: ShutdownReason | 'destroyed' | null = null;
  const done = new Promise<void>((resolve) => {
    host.consoled.on('output', (d, data) => d === domid && process.stdout.write(data));
    host.on('shutdown', (d, _name, reason, action) => {
      if (d !== domid) return;
      outcome = reason;
      if (action === 'preserve') {
        say(`Domain ${d} shut down (${reason}); preserved as on_${reason === 'crash' ? 'crash' : reason === 'reboot' ? 'reboot' : 'poweroff'} asks`);
        resolve();
      }
    });
    host.on('restarted', (oldId, newId) => {
      if (oldId !== domid) return;
      domid = newId;
      outcome = null;
      say(`Domain ${oldId} restarted as domain ${newId}`);
    });
    host.on('destroyed', (d) => {
      if (d !== domid) return;
      outcome ??= 'destroyed';
      resolve();
    });
  });

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1 && domid > 0) {
      say(`\nShutting down domain ${domid} (Ctrl-C again to destroy it)`);
      void host.requestShutdown(domid, 'poweroff').catch(() => {});
      setTimeout(() => void host.destroy(domid).catch(() => {}), SHUTDOWN_GRACE_MS).unref();
    } else if (domid > 0) {
      void host.destroy(domid).catch(() => {});
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const built = await host.create(config);
    domid = built.domain.domid;
    await done;
  } finally {
    process.off('SIGINT', onSigint);
    await host.close();
  }
  const how = (outcome as ShutdownReason | 'destroyed' | null) ?? 'destroyed';
  if (how === 'crash') process.stderr.write(`xenode: domain '${config.name}' crashed\n`);
  return RUN_EXIT[how];
}
