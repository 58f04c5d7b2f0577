import { XenbusState } from '../abi/xenbus.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
/** `/local/domain/<domid>/device/<type>/<devid>` */
export declare function frontendPath(domid: number, type: string, devid: number): string;
/** `/local/domain/<backendDomid>/backend/<type>/<frontendDomid>/<devid>` */
export declare function backendPath(backendDomid: number, type: string, frontendDomid: number, devid: number): string;
/** XEN_IO_PROTO_ABI_NATIVE for x86_64, the only ABI the ring layouts here follow. */
export declare const XEN_IO_PROTO_ABI_NATIVE = "x86_64-abi";
/**
 * The `state` of the end at `dir`; XenbusState.Unknown when the node is gone or unreadable
 * (xenbus_read_driver_state's answer), and Unknown too for a value that is not a state, so a
 * peer's garbage reads as "not there" rather than as some state.
 */
export declare function readState(xs: XenstoreClient, dir: string): Promise<XenbusState>;
export declare function switchState(xs: XenstoreClient, dir: string, state: XenbusState): Promise<void>;
/**
 * Call `handler` with the other end's state now and after every change, one call at a time and
 * in order (each reads the current value, so a burst of changes may be seen as its last one).
 * Returns a function that stops watching.
 */
export declare function watchState(xs: XenstoreClient, dir: string, handler: (state: XenbusState) => Promise<void> | void, onError: (e: unknown) => void): Promise<() => Promise<void>>;
/** A decimal unsigned integer the other end wrote, checked against `max`; `def` when absent. */
export declare function readUint(xs: XenstoreClient, path: string, max: number, def?: number): Promise<number>;
export declare function parseUint(v: string, what: string, max: number): number;
/** A 0/1 feature flag; anything but "1" counts as off (blkif.h's default for absent keys is 0). */
export declare function readFlag(xs: XenstoreClient, path: string): Promise<boolean>;
