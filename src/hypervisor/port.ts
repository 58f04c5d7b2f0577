// A bound event channel as drivers and transports use it: notify the other end, run
// handlers on events from it, close it.
import type { Hypercalls } from './hypercalls.js';
import type { UpcallLoop } from './upcall.js';

export class BoundPort {
  #handlers = new Set<() => void>();
  #closed = false;

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

  onEvent(handler: () => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Stop delivering events; `closeChannel` also frees the port (EVTCHNOP_close). */
  close(closeChannel = true): void {
    if (this.#closed) return;
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
