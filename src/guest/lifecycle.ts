// Shutdown requests from the toolstack: `xl shutdown`/`xl reboot` write control/shutdown and
// the guest acknowledges by clearing it, as Linux and Mini-OS do. A guest that does not ask
// for requests itself is shut down with the requested reason (Mirage's default).
import type { XenstoreClient } from '../xenstore/client/client.js';

export type ShutdownRequest = 'poweroff' | 'reboot' | 'suspend';

export interface Lifecycle {
  /** The next request from dom0; while someone waits here, requests are left to the guest. */
  awaitShutdownRequest(): Promise<ShutdownRequest>;
}

const REQUESTS: Record<string, ShutdownRequest> = { poweroff: 'poweroff', halt: 'poweroff', reboot: 'reboot', suspend: 'suspend' };

export class GuestLifecycle implements Lifecycle {
  #waiters: ((r: ShutdownRequest) => void)[] = [];
  /** Watch events are handled one after another, so two cannot take the same request. */
  #checks: Promise<void> = Promise.resolve();

  constructor(
    private readonly xs: XenstoreClient,
    private readonly onUnhandled: (r: ShutdownRequest) => void,
  ) {}

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
    const waiters = this.#waiters.splice(0);
    if (waiters.length === 0) this.onUnhandled(request);
    for (const w of waiters) w(request);
  }

  awaitShutdownRequest(): Promise<ShutdownRequest> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
