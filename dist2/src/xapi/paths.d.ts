export interface XapiPaths {
    /** Plain HTTP for local clients; root needs no password here. */
    readonly socket: string;
    readonly cert: string;
    readonly key: string;
    /** Every state-changing call and login (audit.ts), rotated as audit.log.1, .2. */
    readonly audit: string;
}
export declare function xapiPaths(stateDir: string): XapiPaths;
