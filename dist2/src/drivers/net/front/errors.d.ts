export type NetErrorKind = 'Disconnected' | 'InvalidLength' | 'Unimplemented' | 'TxError' | 'BackendMisbehaved';
export declare abstract class NetError extends Error {
    abstract readonly kind: NetErrorKind;
}
declare const Disconnected_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "Disconnected";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof NetError;
/** The device is not connected (any more): closed by the guest, detached, or its backend gone. */
export declare class Disconnected extends Disconnected_base {
}
declare const InvalidLength_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "InvalidLength";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof NetError;
/** An empty frame, one shorter than an Ethernet header, or one longer than the MTU allows. */
export declare class InvalidLength extends InvalidLength_base {
}
declare const Unimplemented_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "Unimplemented";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof NetError;
/** The frame asks for an offload (GSO) the backend did not negotiate. */
export declare class Unimplemented extends Unimplemented_base {
}
declare const TxError_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "TxError";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof NetError;
/** The backend answered NETIF_RSP_ERROR or NETIF_RSP_DROPPED for the frame. */
export declare class TxError extends TxError_base {
    readonly status: number;
    constructor(message: string, status: number);
}
declare const BackendMisbehaved_base: (abstract new (...args: any[]) => {
    name: string;
    readonly kind: "BackendMisbehaved";
    message: string;
    stack?: string;
    cause?: unknown;
}) & typeof NetError;
/** The backend's responses broke the protocol (an id not posted, a status out of range, ...). */
export declare class BackendMisbehaved extends BackendMisbehaved_base {
}
export {};
