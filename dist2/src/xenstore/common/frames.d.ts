import { Buffer } from 'node:buffer';
import { type XsdSockmsg } from '../../abi/xs_wire.js';
export declare function typeName(type: number): string;
/**
 * One request packet: the header, then each part followed by a NUL, except that with `rawLast`
 * the last part (a WRITE value) goes without one. E2BIG if the payload exceeds
 * XENSTORE_PAYLOAD_MAX, which xenstored would treat as a protocol violation and disconnect.
 */
export declare function encodeRequest(type: number, reqId: number, txId: number, parts: readonly (string | Uint8Array)[], rawLast?: boolean): Buffer;
/**
 * Cuts an xsd_sockmsg byte stream (any chunking) into packets: the one framer of xenode's
 * xenstore, used by xenstored's connections for requests and by the client for replies and
 * watch events.
 */
export declare class XsFrameReader {
    #private;
    private readonly onPacket;
    private readonly onOversize;
    /**
     * `onPacket` gets each packet's header, its payload and the whole packet, as views into the
     * chunk; nothing here writes to it afterwards. `onOversize` is called for a header whose
     * payload exceeds XENSTORE_PAYLOAD_MAX: the stream cannot be trusted after that, so the rest
     * is discarded. By default (a client reading xenstored's replies) it throws EIO out of push().
     */
    constructor(onPacket: (h: XsdSockmsg, payload: Buffer, packet: Buffer) => void, onOversize?: (len: number) => void);
    /** Feed bytes; calls onPacket for every complete packet, unless held. */
    push(chunk: Uint8Array): void;
    /**
     * Store bytes without cutting them: the consumer takes packets with pull() when it has time
     * (xenstored serves its connections in turns).
     */
    append(chunk: Uint8Array): void;
    /** Bytes stored and not yet cut. */
    get buffered(): number;
    /** Whether a whole packet (or a header too long to be one) is stored. */
    get ready(): boolean;
    /** Cut and deliver up to `max` stored packets; returns how many were delivered. */
    pull(max: number): number;
    /** Stop after the packet being delivered: the consumer completes it asynchronously. */
    hold(): void;
    /** The held packet completed: pull() goes on with the packets stored meanwhile. */
    release(): void;
    /** Drop buffered bytes and stop the cut in progress (the stream was reset or closed). */
    clear(): void;
}
