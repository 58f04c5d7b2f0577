export declare class Domain {
    readonly domid: number;
    readonly path: string;
    introduced: boolean;
    /** The domain this one is a stub domain / device model for (XS_SET_TARGET). */
    target: number | undefined;
    /** Watches held by all of the domain's connections (the watch quota is per domain). */
    watches: number;
    constructor(domid: number);
}
