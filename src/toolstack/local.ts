// A host in this process with its command API: what `xenode run` (when no daemon is up),
// `xenode demo`, the host daemon and tests drive.
import { ToolstackApi } from './api.js';
import { Host, type HostOptions } from './host.js';
import type { HostEvent } from './contract.js';
import { HostLog } from './hostlog.js';
import type { SummonDns } from './summon.js';

export interface LocalHostOptions {
  /** Exposes xenstored's socket there. */
  readonly stateDir?: string;
  readonly poolSize?: number;
  /** Pre-built domains (shells.ts): how many, for which memory=, and how many more with a vif. */
  readonly shells?: HostOptions['shells'];
  /** Where the summoning DNS server listens (summon.ts). */
  readonly summonDns?: SummonDns;
  /** The JSON-lines log file; none when absent. */
  readonly logFile?: string;
  readonly echo?: (e: HostEvent) => void;
  /** What `xenode host stop` does; an in-process host without it refuses to be stopped. */
  readonly onStop?: () => void;
}

export interface LocalHost {
  readonly host: Host;
  readonly api: ToolstackApi;
  readonly log: HostLog;
  /** Destroy every guest and stop the host (shutdownAll first for a graceful stop). */
  close(): Promise<void>;
}

export async function startLocalHost(opts: LocalHostOptions = {}): Promise<LocalHost> {
  const log = new HostLog({ ...(opts.logFile && { file: opts.logFile }), ...(opts.echo && { echo: opts.echo }) });
  let host: Host;
  try {
    host = await Host.start({
      ...(opts.stateDir && { stateDir: opts.stateDir }),
      poolSize: opts.poolSize ?? 0,
      ...(opts.shells && { shells: opts.shells }),
      ...(opts.summonDns && { summonDns: opts.summonDns }),
      log: (line) => log.message(line),
    });
  } catch (e) {
    await log.close();
    throw e;
  }
  log.attach(host);
  const api = new ToolstackApi(host, { log, ...(opts.onStop && { onStop: opts.onStop }) });
  return {
    host,
    api,
    log,
    async close() {
      await host.close();
      await log.close();
    },
  };
}
