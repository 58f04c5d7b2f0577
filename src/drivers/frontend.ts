// The xenbus lifecycle every split-driver frontend follows (Linux's xenbus_driver for
// blkfront and netfront): start from Initialising, follow the backend's state (InitWait: write
// rings and features; Connected: read its offer and connect; Closing or Closed: let go; back
// to InitWait after a restart: connect again), fail everything when the device is removed, and
// the orderly close. What is written and read, and what happens to requests in flight, is
// the device's (its FrontendDevice).
import { XenbusState } from '../abi/xenbus.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import { readState, switchState, watchState } from './xenbus.js';

export type FrontendStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** How long an orderly close waits for the backend to let go before revoking what it can. */
const CLOSE_TIMEOUT_MS = 5000;

/** What a frontend does at each step of the lifecycle. */
export interface FrontendDevice<E extends Error> {
  /** The device is (no longer) connected: the error every request fails with. */
  disconnected(message: string): E;
  /** The backend waits (InitWait): make the rings, write them and the features, then `initialised()`. */
  talk(): Promise<void>;
  /** The backend is Connected: read its offer, start the data path, then `connected()` (or `final`). */
  finishConnect(): Promise<void>;
  /** The backend announced Connected again while connected (a resize, say). */
  reconnected?(): Promise<void>;
  /** The connection is gone: requests in flight are kept to issue again if `recover`, else they fail. */
  teardown(recover: boolean): void;
  /** The device is gone for good: fail everything. */
  close(err: E): void;
  /** Revoke grants the backend has let go of since last time. */
  retryRevoke(): void;
  /** Let requests in flight finish (new ones are refused already), for an orderly close. */
  drain(err: E): Promise<void>;
  /** After `final`: what else the device does once it is gone. */
  finalised?(err: E): void;
}

export class FrontendLifecycle<E extends Error> {
  #state = XenbusState.Initialising;
  #status: FrontendStatus = 'connecting';
  #closing = false;
  #stopWatches: (() => Promise<void>)[] = [];
  #onConnected: { resolve: () => void; reject: (e: Error) => void } | null = null;
  #connected: Promise<void> = Promise.resolve();
  #onBackendClosed: (() => void) | null = null;
  /** Held (hold): the backend's states are noted, not acted on, until release(). */
  #held = false;
  #latest: XenbusState | undefined;
  #heard: ((s: XenbusState) => void) | null = null;
  /** The backend's states are acted on one after another. */
  #acting: Promise<void> = Promise.resolve();
  #onError: (e: unknown) => void = () => {};

  /** `name` is what the device is called in messages (`vif0`, `xvda`). */
  constructor(readonly xs: XenstoreClient, readonly name: string, readonly dir: string, readonly backendDir: string,
    readonly device: FrontendDevice<E>) {}

  get status(): FrontendStatus {
    return this.#status;
  }

  /** Closed, or closing: new requests are refused. */
  get refusing(): boolean {
    return this.#closing || this.#status === 'closed';
  }

  /** Start, and resolve once connected (or reject with why not). */
  async start(): Promise<void> {
    await this.hold();
    return this.release();
  }

  /**
   * Start as far as following the backend (the device's state read, the watches set) but act on
   * nothing it does until release(): a parked runtime (an incoming migration's) does this much
   * before its RAM is its own, so that what is left for its resume is the rings. Resolves with
   * the backend's state once it is known.
   */
  async hold(): Promise<XenbusState> {
    this.#held = true;
    const heard = new Promise<XenbusState>((resolve) => (this.#heard = resolve));
    this.#connected = new Promise<void>((resolve, reject) => (this.#onConnected = { resolve, reject }));
    this.#connected.catch(() => {}); // release() hands it out; a held device may fail first
    this.#state = await readState(this.xs, this.dir);
    // A device used before (and closed) starts over from Initialising, which tells the backend.
    if (this.#state !== XenbusState.Initialising) await this.switch(XenbusState.Initialising);
    const d = this.device;
    const onError = (e: unknown) => this.final(d.disconnected(`${this.name}: ${(e as Error).message}`));
    this.#onError = onError;
    // Both watches are set in one round trip.
    this.#stopWatches.push(...await Promise.all([
      watchState(this.xs, this.dir, (s) => {
        if (s === XenbusState.Unknown) this.final(d.disconnected(`${this.name}: the device was removed`));
      }, onError),
      watchState(this.xs, this.backendDir, (s) => {
        // Held, a backend that is gone still ends the device at once.
        if (!this.#held || s === XenbusState.Unknown) return this.#act(s);
        this.#latest = s;
        this.#heard?.(s);
      }, onError),
    ]));
    // A watch fires once when it is set: the backend's state comes with it.
    return heard;
  }

  /** Act on the backend's state (from hold()); resolves once connected (or rejects with why not). */
  release(): Promise<void> {
    this.#held = false;
    this.#heard = null;
    const s = this.#latest;
    this.#latest = undefined;
    if (s !== undefined) this.#act(s).catch(this.#onError);
    return this.#connected;
  }

  #act(s: XenbusState): Promise<void> {
    const p = this.#acting.then(() => this.#backendChanged(s));
    this.#acting = p.catch(() => {});
    return p;
  }

  async switch(s: XenbusState): Promise<void> {
    this.#state = s;
    await switchState(this.xs, this.dir, s);
  }

  /** The rings and features are written. */
  initialised(): Promise<void> {
    return this.switch(XenbusState.Initialised);
  }

  /**
   * The backend's offer is read: go Connected and let `start` return. The backend serves
   * already, so the device is used at once, without waiting for the write's answer.
   */
  async connected(): Promise<void> {
    const written = this.switch(XenbusState.Connected);
    this.#status = 'connected';
    this.#onConnected?.resolve();
    this.#onConnected = null;
    await written;
  }

  /** Linux's backend_changed (blkfront) and netback_changed, plus recovery when the backend restarts under us. */
  async #backendChanged(s: XenbusState): Promise<void> {
    if (this.#status === 'closed') return;
    const d = this.device;
    d.retryRevoke();
    switch (s) {
      case XenbusState.InitWait:
        if (this.#state === XenbusState.Initialised || this.#state === XenbusState.Connected) this.#teardown(!this.#closing);
        if (this.#closing) return this.#onBackendClosed?.();
        return d.talk();
      case XenbusState.Connected:
        if (this.#state === XenbusState.Initialised) return d.finishConnect();
        if (this.#state === XenbusState.Connected) return d.reconnected?.();
        return;
      case XenbusState.Closing:
      case XenbusState.Closed:
        if (this.#state !== XenbusState.Closed) {
          this.#teardown(!this.#closing);
          await this.switch(XenbusState.Closed);
        }
        if (s === XenbusState.Closed) this.#onBackendClosed?.();
        return;
      case XenbusState.Unknown:
        return this.final(d.disconnected(`${this.name}: the backend is gone`));
      default:
        return;
    }
  }

  #teardown(recover: boolean): void {
    this.device.teardown(recover);
    if (this.#status === 'connected') this.#status = 'reconnecting';
  }

  /** The device is gone for good (or the backend broke the protocol): fail everything, stop watching. */
  final(err: E): void {
    if (this.#status === 'closed') return;
    this.device.close(err);
    this.#status = 'closed';
    this.#onConnected?.reject(err);
    this.#onConnected = null;
    this.#heard?.(XenbusState.Unknown); // a hold waiting for the backend's state ends
    this.#heard = null;
    this.#onBackendClosed?.();
    for (const stop of this.#stopWatches.splice(0)) void stop();
    this.device.finalised?.(err);
  }

  /**
   * Orderly close (Mirage's disconnect): new requests are refused, those in flight finish, then
   * Closing, Closed, and the grants go once the backend has let go of them.
   */
  async disconnect(): Promise<void> {
    if (this.refusing) return;
    this.#closing = true;
    const err = this.device.disconnected(`${this.name}: disconnected by the guest`);
    await this.device.drain(err);
    const backendClosed = new Promise<void>((resolve) => (this.#onBackendClosed = resolve));
    const timer = setTimeout(() => this.#onBackendClosed?.(), CLOSE_TIMEOUT_MS);
    await this.switch(XenbusState.Closing).catch(() => {});
    await backendClosed;
    clearTimeout(timer);
    this.device.retryRevoke();
    this.final(err);
  }
}
