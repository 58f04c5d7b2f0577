const REQUESTS = { poweroff: 'poweroff', halt: 'poweroff', reboot: 'reboot', suspend: 'suspend' };
export class GuestLifecycle {
    xs;
    onUnhandled;
    onSuspendRequest;
    #waiters = [];
    /** Watch events are handled one after another, so two cannot take the same request. */
    #checks = Promise.resolve();
    #suspendHandler;
    constructor(xs, onUnhandled, 
    /** The runtime's suspend; absent, a suspend request is unhandled like any other. */
    onSuspendRequest) {
        this.xs = xs;
        this.onUnhandled = onUnhandled;
        this.onSuspendRequest = onSuspendRequest;
    }
    onSuspend(handler) {
        if (typeof handler !== 'function')
            throw new TypeError('onSuspend: the handler must be a function');
        this.#suspendHandler = handler;
        return () => {
            if (this.#suspendHandler === handler)
                this.#suspendHandler = undefined;
        };
    }
    /** The program's handler, if it set one. */
    get suspendHandler() {
        return this.#suspendHandler;
    }
    async start() {
        // Tell the toolstack which requests we honour, as Linux's xenbus does at boot.
        await Promise.all([this.xs.write('control/feature-poweroff', '1'), this.xs.write('control/feature-reboot', '1')]);
        await this.xs.watch('control/shutdown', () => {
            this.#checks = this.#checks.then(() => this.#check());
        });
    }
    async #check() {
        const value = await this.xs.readOptional('control/shutdown').catch(() => undefined);
        const request = value ? REQUESTS[value] : undefined;
        if (!request)
            return;
        await this.xs.write('control/shutdown', '').catch(() => { });
        if (request === 'suspend' && this.onSuspendRequest)
            return this.onSuspendRequest();
        const waiters = this.#waiters.splice(0);
        if (waiters.length === 0)
            this.onUnhandled(request);
        for (const w of waiters)
            w(request);
    }
    awaitShutdownRequest() {
        return new Promise((resolve) => this.#waiters.push(resolve));
    }
}
//# sourceMappingURL=lifecycle.js.map