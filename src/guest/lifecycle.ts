// Shutdown requests from the toolstack: `xl shutdown`/`xl reboot`/`xl save` write
// control/shutdown and the guest acknowledges by clearing it, as Linux and Mini-OS do. A guest
// that does not ask for requests itself is shut down with the requested reason (Mirage's
// default). A suspend request always goes to the runtime (suspend.ts), which asks the program's
// onSuspend handler for its state.
import type { XenstoreClient } from '../xenstore/client/client.js';

export type ShutdownRequest = 'poweroff' | 'reboot' | 'suspend';

/**
 * Called when the domain is about to be suspended (xenode save, migrate): returns (or resolves
 * to) the state the program continues from, which must be structured-cloneable. It should let
 * its own I/O in flight finish first; the runtime then waits for the devices' requests in flight.
 */
export type SuspendHandler = () => unknown;

export interface Lifecycle {
  /**
   * The next poweroff or reboot request from dom0; while someone waits here, those requests are
   * left to the guest. Suspend requests are the runtime's (see onSuspend).
   */
  awaitShutdownRequest(): Promise<ShutdownRequest>;
  /**
   * The program's part of a suspend: its handler's result is `os.resumed` when main(os) is
   * called again after a restore or migration. One handler; a new one replaces it. Returns a
   * function that removes it.
   */
  onSuspend(handler: SuspendHandler): () => void;
  /**
   * Called when a suspend that asked the onSuspend handler ends with the domain running on here
   * (resumed in place: a checkpoint, a failed or refused save or migration), as Mirage's resume
   * hooks. A program that stopped acknowledging work once it handed over its state (work
   * acknowledged after that would be missing from os.resumed elsewhere) carries on from here.
   * One handler; a new one replaces it. Returns a function that removes it.
   */
  onResume(handler: () => void): () => void;
}

const REQUESTS: Record<string, ShutdownRequest> = { poweroff: 'poweroff', halt: 'poweroff', reboot: 'reboot', suspend: 'suspend' };

export class GuestLifecycle implements Lifecycle {
  #waiters: ((r: ShutdownRequest) => void)[] = [];
  /** Watch events are handled one after another, so two cannot take the same request. */
  #checks: Promise<void> = Promise.resolve();

  #suspendHandler: SuspendHandler | undefined;
  #resumeHandler: (() => void) | undefined;

  constructor(
    private readonly xs: XenstoreClient,
    private readonly onUnhandled: (r: ShutdownRequest) => void,
    /** The runtime's suspend; absent, a suspend request is unhandled like any other. */
    private readonly onSuspendRequest?: () => void,
  ) {}

  onSuspend(handler: SuspendHandler): () => void {
    if (typeof handler !== 'function') throw new TypeError('onSuspend: the handler must be a function');
    this.#suspendHandler = handler;
    return () => {
      if (this.#suspendHandler === handler) this.#suspendHandler = undefined;
    };
  }

  onResume(handler: () => void): () => void {
    if (typeof handler !== 'function') throw new TypeError('onResume: the handler must be a function');
    this.#resumeHandler = handler;
    return () => {
      if (this.#resumeHandler === handler) this.#resumeHandler = undefined;
    };
  }

  /** The program's handler, if it set one. */
  get suspendHandler(): SuspendHandler | undefined {
    return this.#suspendHandler;
  }

  /** The program's resume handler, if it set one. */
  get resumeHandler(): (() => void) | undefined {
    return this.#resumeHandler;
  }

  async start(): Promise<void> {
    // Tell the toolstack which requests we honour, as Linux's xenbus does at boot.
    await Promise.all([this.xs.write('control/feature-poweroff', '1'), this.xs.write('control/feature-reboot', '1')]);
    await this.xs.watch('control/shutdown', () => {
      this.#checks = this.#checks.then(() => this.#check());
    });
  }

  async #check(): Promise<void> {
    const value = await this.xs.readOptional('control/shutdown').catch(() => undefined);
    const request = value ? REQUESTS[value] : undefined;
    if (!request) return;
    await this.xs.write('control/shutdown', '').catch(() => {});
    if (request === 'suspend' && this.onSuspendRequest) return this.onSuspendRequest();
    const waiters = this.#waiters.splice(0);
    if (waiters.length === 0) this.onUnhandled(request);
    for (const w of waiters) w(request);
  }

  awaitShutdownRequest(): Promise<ShutdownRequest> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
