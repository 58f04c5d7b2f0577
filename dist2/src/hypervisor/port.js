export class BoundPort {
    hypercalls;
    loop;
    port;
    #handlers = new Set();
    #closed = false;
    #expecting = false;
    constructor(hypercalls, loop, port) {
        this.hypercalls = hypercalls;
        this.loop = loop;
        this.port = port;
        loop.on(port, () => {
            for (const h of this.#handlers)
                h();
        });
    }
    notify() {
        if (!this.#closed)
            this.hypercalls.evtchnSend(this.port);
    }
    /** Whether an event is due soon on this port (requests in flight): the vCPU may poll for it. */
    expectEvents(on) {
        if (on === this.#expecting || (on && this.#closed))
            return;
        this.#expecting = on;
        this.loop.expectEvents(on);
    }
    onEvent(handler) {
        this.#handlers.add(handler);
        return () => this.#handlers.delete(handler);
    }
    /** Stop delivering events; `closeChannel` also frees the port (EVTCHNOP_close). */
    close(closeChannel = true) {
        if (this.#closed)
            return;
        this.expectEvents(false);
        this.#closed = true;
        this.#handlers.clear();
        this.loop.off(this.port);
        if (closeChannel)
            void this.hypercalls.evtchnClose(this.port).catch(() => { });
    }
}
/** Bind to a port another domain offered us (EVTCHNOP_bind_interdomain). */
export async function bindInterdomain(hc, loop, remoteDom, remotePort) {
    const port = await hc.evtchnBindInterdomain(remoteDom, remotePort);
    return new BoundPort(hc, loop, port);
}
//# sourceMappingURL=port.js.map