import type { StaticConfigInput } from '../tcpip/config.js';
import type { StackOptions, TcpipStack } from '../tcpip/stack.js';
import type { OpenNet } from './net.js';
import type { Time } from './time.js';
export interface TcpipOptions extends Omit<StackOptions, 'clock'> {
    /** The vif (its index in vif=), else the first. */
    devid?: number;
    /** A static address instead of the vif's ip= or DHCP. */
    ip?: StaticConfigInput;
    /** DNS servers to ask instead of those the lease or `ip` gives. */
    dns?: readonly string[];
    dhcpTimeoutMs?: number;
}
export type OpenTcpip = (opts?: TcpipOptions) => Promise<TcpipStack>;
/** Reads a vif's static address as its config gave it; undefined when it gave none. */
export type VifAddress = (devid: number) => Promise<StaticConfigInput | undefined>;
/** What vifAddress needs of a xenstore connection. */
interface XsReader {
    readOptional(path: string): Promise<string | undefined>;
}
/**
 * The vif's ip= from xenstore: libxl writes it (a space-separated list, each address with an
 * optional /prefix) to the backend's `ip` node, which the frontend may read; the first IPv4
 * address is ours. `netmask` and `gateway` beside it are xenode's (libxl has no such vif keys;
 * the /prefix form is the portable way to give a netmask).
 */
export declare function vifAddress(xs: XsReader, domid: number): VifAddress;
/** `track` learns of every stack made (the runtime announces their addresses after a resume). */
export declare function tcpipStacks(openNet: OpenNet, time: Time, readVifAddress?: VifAddress, track?: (s: Promise<TcpipStack>) => void): OpenTcpip;
export {};
