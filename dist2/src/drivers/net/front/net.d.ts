import type { NetFrameInfo } from '../../../abi/netif.js';
/** Counters as Mirage's Mirage_net.stats keeps them. */
export interface NetStats {
    readonly rxBytes: number;
    readonly rxPackets: number;
    readonly txBytes: number;
    readonly txPackets: number;
    readonly rxErrors: number;
    readonly txErrors: number;
    readonly rxDropped: number;
    readonly txDropped: number;
}
/** Offloads negotiated with the backend: what write() may be given and listen() may see. */
export interface NetOffloads {
    /** Frames may be sent and received with csumBlank (the checksum left to the peer on this host). */
    readonly csum: boolean;
    readonly gsoTcpv4: boolean;
    readonly gsoTcpv6: boolean;
}
export interface Net {
    /** The vif's device id (its index in vif=) and MAC (aa:bb:cc:dd:ee:ff). */
    readonly devid: number;
    readonly mac: string;
    /** Largest frame payload (1500 unless mtu= says otherwise); GSO frames may exceed it. */
    readonly mtu: number;
    readonly offloads: NetOffloads;
    /** Send one frame or several in order (each with `info`); resolves when the backend has consumed them. */
    write(frames: Uint8Array | readonly Uint8Array[], info?: NetFrameInfo): Promise<void>;
    /** Receive frames; the Uint8Array is valid only during the call. Returns a function that stops listening. */
    listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void;
    stats(): NetStats;
    /** Close the device (xenbus Closing, Closed); later writes reject with Disconnected. */
    disconnect(): Promise<void>;
}
