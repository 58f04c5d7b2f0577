// A backend domain's device service, as xl devd runs in a driver domain and the kernel's
// xenbus backend bus in dom0: it watches the domain's backend/<type> directory, starts a
// backend for every device the toolstack creates there and closes it when the toolstack
// removes the device's nodes. It reports each device's hotplug outcome in `hotplug-status`
// (and `hotplug-error`), which the toolstack waits for, as libxl waits for its hotplug scripts.
import { XenError } from '../errors.js';
import type { XsWatch } from '../xenstore/client/client.js';
import type { DriverContext } from './evtchn.js';

export const HOTPLUG_STATUS = 'hotplug-status';
export const HOTPLUG_ERROR = 'hotplug-error';

export interface BackendDevice {
  close(): Promise<void>;
}

/** Start the backend of the device whose backend directory is `dir`. */
export type StartBackend<D extends BackendDevice> = (ctx: DriverContext, dir: string) => Promise<D>;

export class BackendDaemon<D extends BackendDevice> {
  readonly base: string;
  readonly #ctx: DriverContext;
  readonly #type: string;
  readonly #start: StartBackend<D>;
  readonly #devices = new Map<string, D>();
  /** Starts and closes under way, by device key: a frontend's removal waits for its own. */
  readonly #inFlight = new Map<string, Promise<void>>();
  #watch: XsWatch | null = null;
  #chain = Promise.resolve();
  /** What the chain will look at and has not started on: a device's key, or a directory to scan. */
  readonly #queued = new Set<string>();
  #stopped = false;

  protected constructor(ctx: DriverContext, domid: number, type: string, start: StartBackend<D>) {
    this.#ctx = ctx;
    this.#type = type;
    this.#start = start;
    this.base = `/local/domain/${domid}/backend/${type}`;
  }

  protected async watch(): Promise<void> {
    this.#watch = await this.#ctx.xs.watch(this.base, (ev) => this.#enqueue(ev.path));
  }

  /** The backend serving `<frontend domid>/<devid>`, if any. */
  device(frontendId: number, devid: number): D | undefined {
    return this.#devices.get(`${frontendId}/${devid}`);
  }

  get devices(): ReadonlyMap<string, D> {
    return this.#devices;
  }

  #enqueue(path: string): void {
    // One change at a time: starting and removing a device take several xenstore round trips.
    // A device's nodes are written (and removed) together, a watch event each: the device is
    // looked at once for all those still queued, not once per node.
    const rest = path === this.base ? [] : path.slice(this.base.length + 1).split('/');
    const what = rest.length < 2 ? `scan:${rest[0] ?? ''}` : `${rest[0]}/${rest[1]}`;
    if (this.#queued.has(what)) return;
    this.#queued.add(what);
    this.#chain = this.#chain.then(() => {
      this.#queued.delete(what);
      return this.#changed(rest);
    }).catch((e: unknown) => {
      this.#ctx.log?.(`${this.#type} backend daemon: ${(e as Error).message}`);
    });
  }

  async #changed(rest: readonly string[]): Promise<void> {
    if (this.#stopped) return;
    // Something at or above a device changed (or the watch was just set): look at every device below.
    if (rest.length < 2) {
      for (const key of await this.#keys(rest[0])) await this.#device(key);
      for (const key of [...this.#devices.keys()]) if (rest.length === 0 || key.startsWith(`${rest[0]}/`)) await this.#device(key);
      return;
    }
    await this.#device(`${rest[0]}/${rest[1]}`);
  }

  /** `<frontend domid>/<devid>` of every device node below the base (or one frontend's). */
  async #keys(frontend?: string): Promise<string[]> {
    const list = (p: string) => this.#ctx.xs.directory(p).catch(() => [] as string[]);
    const keys: string[] = [];
    for (const fe of frontend === undefined ? await list(this.base) : [frontend]) {
      for (const devid of await list(`${this.base}/${fe}`)) keys.push(`${fe}/${devid}`);
    }
    return keys;
  }

  /** Start the device if it is new, remove it if its nodes went. */
  async #device(key: string): Promise<void> {
    if (!/^[0-9]+\/[0-9]+$/.test(key)) return;
    const dir = `${this.base}/${key}`;
    const present = await this.#ctx.xs.exists(`${dir}/frontend-id`);
    if (this.#devices.has(key)) {
      if (!present) await this.#remove(key);
      return;
    }
    if (present && (await this.#ctx.xs.readOptional(`${dir}/${HOTPLUG_STATUS}`)) === undefined) await this.#add(key, dir);
  }

  #add(key: string, dir: string): Promise<void> {
    return this.#track(key, this.#started(key, dir));
  }

  async #started(key: string, dir: string): Promise<void> {
    const xs = this.#ctx.xs;
    try {
      this.#devices.set(key, await this.#start(this.#ctx, dir));
      await xs.write(`${dir}/${HOTPLUG_STATUS}`, 'connected');
    } catch (e) {
      const why = e instanceof XenError ? e.message : String((e as Error)?.message ?? e);
      this.#ctx.log?.(`${this.#type} backend daemon: ${dir}: ${why}`);
      await xs.write(`${dir}/${HOTPLUG_ERROR}`, why).catch(() => {});
      await xs.write(`${dir}/${HOTPLUG_STATUS}`, 'error').catch(() => {});
    }
  }

  #remove(key: string): Promise<void> {
    const be = this.#devices.get(key);
    if (!be) return Promise.resolve();
    this.#devices.delete(key);
    return this.#track(key, be.close());
  }

  async #track(key: string, op: Promise<void>): Promise<void> {
    this.#inFlight.set(key, op);
    try {
      await op;
    } finally {
      if (this.#inFlight.get(key) === op) this.#inFlight.delete(key);
    }
  }

  /** Close the devices of frontend domain `domid` now (it is being destroyed). */
  async removeFrontend(domid: number): Promise<void> {
    const mine = (key: string) => key.startsWith(`${domid}/`);
    // A start under way finishes first (then is closed below); a close that the watch began
    // is waited for, so the caller knows every one of the domain's backends has let go.
    await Promise.all([...this.#inFlight].filter(([key]) => mine(key)).map(([, op]) => op.catch(() => {})));
    for (const key of [...this.#devices.keys()]) if (mine(key)) await this.#remove(key);
  }

  /** Close every device and stop watching (the backend domain is going away). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watch?.unwatch().catch(() => {});
    await this.#chain;
    for (const key of [...this.#devices.keys()]) await this.#remove(key);
  }
}
