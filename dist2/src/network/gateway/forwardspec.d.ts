import { XenError } from '../../errors.js';
export type ForwardProto = 'tcp' | 'udp';
/** PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT, as `forward = [ ... ]` and `xenode network-forward` spell it. */
export interface ForwardSpec {
    readonly proto: ForwardProto;
    readonly hostAddress: string;
    readonly hostPort: number;
    readonly guestPort: number;
}
export declare const FORWARD_DEFAULT_ADDRESS = "127.0.0.1";
export declare class ForwardSpecError extends XenError {
    readonly spec: string;
    readonly reason: string;
    name: string;
    constructor(spec: string, reason: string);
}
export declare function parseForwardSpec(spec: string): ForwardSpec;
export declare function formatForwardSpec(f: ForwardSpec): string;
