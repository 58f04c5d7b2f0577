import type { BuiltDomain } from '../toolstack/builder.js';
import type { Ref } from '../toolstack/db/records.js';
import type { Host } from '../toolstack/host.js';
import { type DomainImage } from './image.js';
/** How long a migration's receiver waits for more of a stream that has stopped coming. */
export declare const STREAM_STALL_MS = 10000;
/** xl's "Loading new save file ... (new xl fmt info 0x%x/0x%x/%u)". */
export interface RestoreInfo {
    readonly info: readonly [number, number, number];
    readonly ms: {
        readonly read: number;
        readonly build: number;
    };
}
/** Build a domain from a checked image; xl's name clash error if its name is taken. */
/** `vm`: the persistent VM the domain is (XenAPI's VM.resume); a new transient VM when absent. */
export declare function restoreImage(host: Host, image: DomainImage, opts?: {
    paused?: boolean;
    name?: string;
    vm?: Ref<'VM'>;
}): Promise<BuiltDomain>;
/** A save file larger than this is refused unread: more than any domain this host can run carries. */
export declare function maxImageBytes(): number;
export declare function restoreFile(host: Host, file: string, opts?: {
    paused?: boolean;
    vm?: Ref<'VM'>;
}): Promise<BuiltDomain & RestoreInfo>;
