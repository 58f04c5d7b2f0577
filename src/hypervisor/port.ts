// A bound event channel as drivers and transports use it: notify the other end, run
// handlers on events from it, close it.
import type { Hypercalls } from './hypercalls.js';
import type { UpcallLoop } from './upcall.js';

export class BoundPort {
  #handlers = new Set<() => void>();
  #closed = false;
  #expecting = false;

  constructor(
    readonly hypercalls: Hypercalls,
    readonly loop: UpcallLoop,
    readonly port: number,
  ) {
    loop.on(port, () => {
      for (const h of this.#handlers) h();
    });
  }

  notify(): void {
    if (!this.#closed) this.hypercalls.evtchnSend(this.port);
  }

  /** Whether an event is due soon on this port (requests in flight): the vCPU may poll for it. */
  expectEvents(on: boolean): void {
    if (on === this.#expecting || (on && this.#closed)) return;
    this.#expecting = on;
    this.loop.expectEvents(on);
  }

  onEvent(handler: () => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Stop delivering events; `closeChannel` also frees the port (EVTCHNOP_close). */
  close(closeChannel = true): void {
    if (this.#closed) return;
    this.expectEvents(false);
    this.#closed = true;
    this.#handlers.clear();
    this.loop.off(this.port);
    if (closeChannel) void this.hypercalls.evtchnClose(this.port).catch(() => {});
  }
}

/** Bind to a port another domain offered us (EVTCHNOP_bind_interdomain). */
export async function bindInterdomain(hc: Hypercalls, loop: UpcallLoop, remoteDom: number, remotePort: number): Promise<BoundPort> {
  const port = await hc.evtchnBindInterdomain(remoteDom, remotePort);
  return new BoundPort(hc, loop, port);
}
