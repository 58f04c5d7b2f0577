// xenstored: the public face of the daemon and the one place that assembles it (the core, its
// request table, its ring transport). Transports hand it connections; the host introduces and
// releases domains; `listen` serves Xen's tools on a Unix socket.
import { XENSTORE_ERROR_NONE } from '../../abi/xs_wire.js';
import { XenstoreCore } from './core.js';
import { resolveQuotas } from './quota.js';
import { handleRequest } from './requests.js';
import { serveRing } from './ring.js';
import { UnixSocketListener } from './socket.js';
export class Xenstored {
    #core;
    #listeners = new Set();
    constructor(opts = {}) {
        this.#core = new XenstoreCore({
            quotas: resolveQuotas(opts.quotas),
            maxOutputBytes: opts.maxOutputBytes ?? 2 * 1024 * 1024,
            maxTotalOutputBytes: opts.maxTotalOutputBytes ?? 64 * 1024 * 1024,
            domainExists: opts.domainExists ?? (() => true),
            log: opts.log ?? (() => undefined),
            introduce: opts.introduce,
            dispatch: handleRequest,
            serveRing,
        });
    }
    /** A connection for a transport: the transport pushes received bytes in and gets reply bytes out through `send`. */
    connect(domid, send, opts = {}) {
        return this.#core.connect(domid, send, opts.privileged ?? domid === 0, opts.onClose ?? (() => undefined));
    }
    /**
     * The toolstack introduces a domain (with its mapped ring page and event channel, if it has
     * one); fires @introduceDomain. Returns the domain's ring connection. Introducing a domain
     * twice changes nothing.
     */
    introduceDomain(domid, ring) {
        return this.#core.introduce(domid, ring);
    }
    /**
     * The domain is gone: its connections, watches and transactions go, the nodes it owns are
     * removed, and @releaseDomain fires. Throws ENOENT if it was not introduced.
     */
    releaseDomain(domid) {
        this.#core.release(domid);
    }
    isIntroduced(domid) {
        return this.#core.isIntroduced(domid);
    }
    /** Serve a Unix socket (mode 0600); every client of it is dom0, as in Xen. */
    async listen(socketPath) {
        const core = this.#core;
        const l = await UnixSocketListener.listen(socketPath, (send, onDrop) => core.connect(0, send, true, onDrop), core.log);
        this.#listeners.add(l);
    }
    /** Stop listening and drop every connection. */
    async close() {
        const listeners = [...this.#listeners];
        this.#listeners.clear();
        await Promise.all(listeners.map((l) => l.close()));
        for (const c of [...this.#core.connections])
            c.drop(XENSTORE_ERROR_NONE, 'xenstored closing');
    }
}
//# sourceMappingURL=daemon.js.map