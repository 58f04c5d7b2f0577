// The xenbus lifecycle every split-driver backend follows (Linux's frontend_changed in
// blkback and netback): InitWait once the features are published, connect when the frontend
// is ready, follow it through Closing and Closed, wait for it to start over, and go when the
// toolstack takes the device away (online = 0, or the frontend's nodes removed). What is
// mapped and served is the device's (its BackendDevice). devd.ts is the daemon around it.
import { XenbusState } from '../abi/xenbus.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import { switchState, watchState } from './xenbus.js';

/** What a backend does at each step of the lifecycle. */
export interface BackendDevice {
  /** Whether rings are mapped now. */
  readonly connected: boolean;
  /**
   * Whether the frontend, now Initialised or Connected, is to be connected to; `first` is the
   * first state seen since starting (one an earlier backend may have left).
   */
  wantsConnect(s: XenbusState.Initialised | XenbusState.Connected, first: boolean): boolean;
  /** Map the frontend's rings, bind its event channels, `switch(Connected)` and serve. */
  connect(): Promise<void>;
  /** Stop and unmap everything (idempotent). */
  disconnect(): Promise<void>;
  /** Whether the frontend's Closing disconnects at once (netback) or only its Closed does (blkback). */
  readonly disconnectOnClosing: boolean;
  /** After `close`: let go of what the device holds beyond its rings. */
  closed?(): Promise<void>;
}

export class BackendLifecycle {
  #state = XenbusState.Initialising;
  #stopWatch: (() => Promise<void>) | null = null;
  #closed = false;
  /** The one close: a second caller (the device service, after the frontend's watch) waits for it. */
  #closing: Promise<void> | null = null;
  #first = true;

  constructor(readonly xs: XenstoreClient, readonly dir: string, readonly frontendDir: string,
    readonly log: (line: string) => void, readonly device: BackendDevice) {}

  get state(): XenbusState {
    return this.#state;
  }

  /** Go InitWait (the features are published) and follow the frontend. */
  async start(): Promise<void> {
    await this.switch(XenbusState.InitWait);
    this.#stopWatch = await watchState(this.xs, this.frontendDir, (s) => this.#frontendChanged(s),
      (e) => this.log(`frontend watch: ${(e as Error).message}`));
  }

  async switch(s: XenbusState): Promise<void> {
    if (this.#closed) return;
    this.#state = s;
    await switchState(this.xs, this.dir, s);
  }

  async #frontendChanged(s: XenbusState): Promise<void> {
    if (this.#closed) return;
    const d = this.device;
    const first = this.#first;
    this.#first = false;
    switch (s) {
      case XenbusState.Initialising:
        if (this.#state === XenbusState.Closed) await this.switch(XenbusState.InitWait);
        return;
      case XenbusState.Initialised:
      case XenbusState.Connected:
        if (!d.wantsConnect(s, first)) return;
        await d.disconnect();
        try {
          await d.connect();
        } catch (e) {
          await d.disconnect();
          await this.fatal(`connecting to the frontend's rings: ${(e as Error).message}`);
        }
        return;
      case XenbusState.Closing:
        if (d.disconnectOnClosing) await d.disconnect();
        await this.switch(XenbusState.Closing);
        return;
      case XenbusState.Closed:
        // A frontend left Closed by an earlier backend: stay InitWait, it starts over when it sees us.
        if (this.#state === XenbusState.InitWait && !d.connected) return;
        await d.disconnect();
        await this.switch(XenbusState.Closed);
        if ((await this.xs.readOptional(`${this.dir}/online`)) === '0') await this.close();
        return;
      default:
        // Unknown: the frontend's nodes are gone (its domain, or the device, was removed).
        await this.close();
    }
  }

  /** xenbus_dev_fatal: say why and close the device from our side. */
  async fatal(why: string): Promise<void> {
    this.log(why);
    await this.xs.write(`${this.dir}/error`, why).catch(() => {});
    await this.switch(XenbusState.Closing);
  }

  /** Take the device away: disconnect and stop following the frontend. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.device.disconnect();
    this.#closed = true;
    await this.#stopWatch?.();
    await this.device.closed?.();
  }
}
