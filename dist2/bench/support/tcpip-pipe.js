// Two TCP/IP stacks in one process joined by an in-memory Ethernet link, for the tcp and dns
// benches: frames go over on setImmediate in batches, as a ring and an event channel would
// hand them over, and a write resolves once the peer has seen its frames (as netfront's does
// once netback copied them; the stack reuses a frame after that).
import { NET_FRAME_PLAIN } from '../../src/abi/netif.js';
import { createStack } from '../../src/tcpip/stack.js';
/** A Net whose frames go to its peer's listeners on the next turn of the event loop. */
class PipeEnd {
    mac;
    offloads;
    devid = 0;
    mtu = 1500;
    peer;
    #handlers = new Set();
    #queue = [];
    #delivered;
    #resolve = () => { };
    constructor(mac, offloads) {
        this.mac = mac;
        this.offloads = offloads;
    }
    write(frames, info = NET_FRAME_PLAIN) {
        const p = this.peer;
        for (const f of frames instanceof Uint8Array ? [frames] : frames)
            p.#queue.push([f, info]);
        if (!p.#delivered) {
            p.#delivered = new Promise((resolve) => { p.#resolve = resolve; });
            setImmediate(() => p.#drain());
        }
        return p.#delivered;
    }
    #drain() {
        const q = this.#queue;
        const resolve = this.#resolve;
        this.#queue = [];
        this.#delivered = undefined;
        for (const [f, i] of q)
            for (const h of this.#handlers)
                h(f, i);
        resolve();
    }
    listen(h) {
        this.#handlers.add(h);
        return () => this.#handlers.delete(h);
    }
    stats() {
        return { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
    }
    disconnect() {
        return Promise.resolve();
    }
}
/** Stack a at 10.0.0.1 and b at 10.0.0.2 on one link, with the vif offloads on or off. */
export function stackPair(offload, maxConnections = 16384) {
    const off = { csum: offload, gsoTcpv4: offload, gsoTcpv6: false };
    const ea = new PipeEnd('00:16:3e:00:00:0a', off);
    const eb = new PipeEnd('00:16:3e:00:00:0b', off);
    ea.peer = eb;
    eb.peer = ea;
    const tcp = { maxConnections, backlog: 1024 };
    const a = createStack(ea, { tcp });
    const b = createStack(eb, { tcp });
    a.configure({ ip: '10.0.0.1/24' });
    b.configure({ ip: '10.0.0.2/24' });
    return { a, b };
}
//# sourceMappingURL=tcpip-pipe.js.map