// The xenbus lifecycle every split-driver backend follows (Linux's frontend_changed in
// blkback and netback): InitWait once the features are published, connect when the frontend
// is ready, follow it through Closing and Closed, wait for it to start over, and go when the
// toolstack takes the device away (online = 0, or the frontend's nodes removed). What is
// mapped and served is the device's (its BackendDevice). devd.ts is the daemon around it.
import { XenbusState } from '../abi/xenbus.js';
import { switchState, watchState } from './xenbus.js';
export class BackendLifecycle {
    xs;
    dir;
    frontendDir;
    log;
    device;
    #state = XenbusState.Initialising;
    #stopWatch = null;
    #closed = false;
    #first = true;
    constructor(xs, dir, frontendDir, log, device) {
        this.xs = xs;
        this.dir = dir;
        this.frontendDir = frontendDir;
        this.log = log;
        this.device = device;
    }
    get state() {
        return this.#state;
    }
    /** Go InitWait (the features are published) and follow the frontend. */
    async start() {
        await this.switch(XenbusState.InitWait);
        this.#stopWatch = await watchState(this.xs, this.frontendDir, (s) => this.#frontendChanged(s), (e) => this.log(`frontend watch: ${e.message}`));
    }
    async switch(s) {
        if (this.#closed)
            return;
        this.#state = s;
        await switchState(this.xs, this.dir, s);
    }
    async #frontendChanged(s) {
        if (this.#closed)
            return;
        const d = this.device;
        const first = this.#first;
        this.#first = false;
        switch (s) {
            case XenbusState.Initialising:
                if (this.#state === XenbusState.Closed)
                    await this.switch(XenbusState.InitWait);
                return;
            case XenbusState.Initialised:
            case XenbusState.Connected:
                if (!d.wantsConnect(s, first))
                    return;
                await d.disconnect();
                try {
                    await d.connect();
                }
                catch (e) {
                    await d.disconnect();
                    await this.fatal(`connecting to the frontend's rings: ${e.message}`);
                }
                return;
            case XenbusState.Closing:
                if (d.disconnectOnClosing)
                    await d.disconnect();
                await this.switch(XenbusState.Closing);
                return;
            case XenbusState.Closed:
                // A frontend left Closed by an earlier backend: stay InitWait, it starts over when it sees us.
                if (this.#state === XenbusState.InitWait && !d.connected)
                    return;
                await d.disconnect();
                await this.switch(XenbusState.Closed);
                if ((await this.xs.readOptional(`${this.dir}/online`)) === '0')
                    await this.close();
                return;
            default:
                // Unknown: the frontend's nodes are gone (its domain, or the device, was removed).
                await this.close();
        }
    }
    /** xenbus_dev_fatal: say why and close the device from our side. */
    async fatal(why) {
        this.log(why);
        await this.xs.write(`${this.dir}/error`, why).catch(() => { });
        await this.switch(XenbusState.Closing);
    }
    /** Take the device away: disconnect and stop following the frontend. */
    async close() {
        if (this.#closed)
            return;
        await this.device.disconnect();
        this.#closed = true;
        await this.#stopWatch?.();
        await this.device.closed?.();
    }
}
//# sourceMappingURL=backend.js.map