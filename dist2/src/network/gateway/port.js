// The gateway's side of its bridge port: one PortDevice whose frames are shared by several
// TCP/IP stacks (src/tcpip) with one MAC, each a Net over the port, as slirp's virtual hosts
// share its one interface. Frames out are queued and sent from a microtask, so a stack that
// answers inside deliver() never re-enters the bridge while it forwards.
import { NET_FRAME_PLAIN } from '../../abi/netif.js';
/** Frames waiting for the microtask that sends them, at most: more are dropped (counted). */
const MAX_QUEUED = 4096;
const OFFLOADS = { csum: true, gsoTcpv4: true, gsoTcpv6: false };
export class GatewayPort {
    name;
    mac;
    mtu;
    onFrame;
    features = { csumOffload: true, gsoTcpv4: true, gsoTcpv6: false };
    counters = { rxFrames: 0, txFrames: 0, txDropped: 0 };
    /** Set once plugged in; frames sent before are dropped. */
    switchPort;
    #queue = [];
    #scheduled = false;
    constructor(name, mac, mtu, onFrame) {
        this.name = name;
        this.mac = mac;
        this.mtu = mtu;
        this.onFrame = onFrame;
    }
    deliver(frame, info) {
        this.counters.rxFrames++;
        this.onFrame(frame, info);
        return true;
    }
    send(frame, info) {
        if (this.#queue.length >= MAX_QUEUED) {
            this.counters.txDropped++;
            return;
        }
        this.#queue.push({ frame, info });
        if (!this.#scheduled) {
            this.#scheduled = true;
            queueMicrotask(() => this.#flush());
        }
    }
    #flush() {
        this.#scheduled = false;
        const q = this.#queue;
        this.#queue = [];
        for (const { frame, info } of q) {
            if (!this.switchPort) {
                this.counters.txDropped++;
                continue;
            }
            this.counters.txFrames++;
            this.switchPort.input(frame, info);
        }
    }
    /** A Net over this port for one of the gateway's stacks: its frames come from `feed`. */
    net() {
        return new GatewayNet(this);
    }
}
/** One stack's view of the gateway port (Mirage's NETWORK signature). */
export class GatewayNet {
    port;
    devid = 0;
    offloads = OFFLOADS;
    #handler;
    #tx = 0;
    #rx = 0;
    constructor(port) {
        this.port = port;
    }
    get mac() {
        return this.port.mac;
    }
    get mtu() {
        return this.port.mtu;
    }
    write(frames, info = NET_FRAME_PLAIN) {
        for (const f of frames instanceof Uint8Array ? [frames] : frames) {
            this.#tx++;
            this.port.send(f, info);
        }
        return Promise.resolve();
    }
    listen(handler) {
        this.#handler = handler;
        return () => {
            if (this.#handler === handler)
                this.#handler = undefined;
        };
    }
    /** A frame from the bridge for this stack. */
    feed(frame, info) {
        this.#rx++;
        this.#handler?.(frame, info);
    }
    stats() {
        return { rxBytes: 0, rxPackets: this.#rx, txBytes: 0, txPackets: this.#tx, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
    }
    disconnect() {
        this.#handler = undefined;
        return Promise.resolve();
    }
}
//# sourceMappingURL=port.js.map