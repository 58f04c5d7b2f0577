import type { DiskDevice, DomainInfo, HostEvent, HostInfo, NicDevice } from '../toolstack/contract.js';
/** xl list; `cpupool` adds xl list -c's Cpupool column (printf("%16s", ...)). */
export declare function xlList(domains: readonly DomainInfo[], opts?: {
    cpupool?: boolean;
}): string;
/** xl's uptime_to_string: "[D day[s], ]HH:MM:SS", or without seconds in short mode. */
export declare function uptimeString(seconds: number, short?: boolean): string;
/** xl uptime [-s]: Domain-0's uptime is the host's. */
export declare function xlUptime(domains: readonly DomainInfo[], now: number, short?: boolean): string;
/** xl info: "key<padding>: value", keys in xl's order; `only` prints just that key's value (xl info KEY). */
export declare function xlInfo(h: HostInfo, only?: string): string;
/** What `xenode top` samples each refresh. */
export interface TopSample {
    /** ms since the epoch. */
    readonly time: number;
    readonly host: HostInfo;
    readonly domains: readonly DomainInfo[];
}
/** CPU(%) of each domain between two samples (0 without an earlier sample, as xentop). */
export declare function cpuPercents(cur: TopSample, prev: TopSample | undefined): Map<number, number>;
/** xentop's state letters: d s b c p r, from xl list's r b p s <reason> d. */
export declare function xentopState(xlState: string): string;
/** The column header line; `style` marks it up (xentop shows it in reverse video). */
export declare function xentopHeader(): string;
/** xl block-list. */
export declare function xlBlockList(domid: number, disks: readonly DiskDevice[]): string;
export declare const XL_BLOCK_LIST_HEADER: string;
/** xl network-list's rows (xl_vif.c's printf formats). */
export declare function xlNetworkList(nics: readonly NicDevice[]): string;
/** printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path") */
export declare const XL_NETWORK_LIST_HEADER: string;
/** xentop's summary lines and one row per domain (batch mode's frame, without the header). */
export declare function xentopFrame(cur: TopSample, prev: TopSample | undefined): {
    summary: string;
    rows: string[];
};
/** Xen's console timestamp format with console_timestamps=datems: [YYYY-MM-DD HH:MM:SS.mmm]. */
export declare function dmesgLine(e: HostEvent): string;
