import type { NetFrameInfo } from '../abi/netif.js';
export declare const CAPTURE_DEFAULTS: {
    readonly snaplen: 262144;
    readonly maxBytes: number;
    readonly maxBacklog: number;
};
/** The largest file a capture may be asked for. */
export declare const CAPTURE_MAX_BYTES: number;
export interface CaptureOptions {
    /** Stop after this many frames (tcpdump -c). */
    readonly count?: number;
    /** Bytes of each frame kept (tcpdump -s). */
    readonly snaplen?: number;
    /** The file stops growing here: the capture ends before a frame would pass it. */
    readonly maxBytes?: number;
    /** Bytes queued to a slow writer before frames are dropped. */
    readonly maxBacklog?: number;
}
/** Where the pcap bytes go. */
export interface CaptureSink {
    write(chunk: Uint8Array): void;
    /** Bytes written but not yet taken by the reader. */
    readonly backlog: number;
}
export type CaptureEnd = 'count' | 'size' | 'stopped' | 'gone';
export interface CaptureSummary {
    /** Frames in the file. */
    readonly frames: number;
    /** The file's size. */
    readonly bytes: number;
    /** Frames not recorded because the writer was behind. */
    readonly dropped: number;
    readonly end: CaptureEnd;
}
/** What a bridge or port calls for each frame it sees. */
export interface Tap {
    frame(frame: Uint8Array, info: NetFrameInfo): void;
    /** The bridge or port went away. */
    gone(): void;
}
export declare function checkCaptureOptions(o: CaptureOptions): void;
export declare class Capture implements Tap {
    #private;
    /** Settles when the capture ends, however it ends. */
    readonly done: Promise<CaptureSummary>;
    constructor(sink: CaptureSink, opts?: CaptureOptions);
    /** Called once the capture is tapped in: how to take it out again. */
    attached(detach: () => void): void;
    frame(frame: Uint8Array, info: NetFrameInfo): void;
    gone(): void;
    stop(): void;
    get summary(): CaptureSummary;
}
/** A pcap file for a capture: created (mode 0600) or truncated; only a regular file, never through a symlink. */
export declare function openPcapFile(file: string): Promise<{
    sink: CaptureSink;
    close(): Promise<void>;
}>;
