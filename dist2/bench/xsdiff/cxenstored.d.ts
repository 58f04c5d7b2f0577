/** The root of an unpacked xen-utils-4.17 (the cache test-xenstore's test uses too). */
export declare function fetchXenUtils(): Promise<string>;
/** Why cxenstored cannot run here (missing tool, package or headers), or undefined. */
export declare function cxenstoredUnavailable(): Promise<string | undefined>;
export interface Cxenstored {
    readonly socket: string;
    /** Whether the process is still running (it crashes on a few inputs; see docs/XENSTORE.md). */
    alive(): boolean;
    stop(): Promise<void>;
}
/** Start cxenstored in the foreground serving a socket in a fresh temp dir. */
export declare function startCxenstored(): Promise<Cxenstored>;
