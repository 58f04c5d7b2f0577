import type { DomainView } from './memory.js';
/** The 32-bit word holding evtchn_upcall_pending: what a vCPU sleeps on. */
export declare const UPCALL_WORD: number;
export interface EvtchnStatus {
    readonly status: number;
    readonly vcpu: number;
    readonly remoteDomid?: number;
    readonly remotePort?: number;
    readonly virq?: number;
}
export declare function portBase(port: number): number;
export declare function maxPorts(d: DomainView): number;
/** Throws EINVAL for a port number outside the domain's table, as Xen's port_is_valid check. */
export declare function checkPort(d: DomainView, port: number): void;
export declare function portState(d: DomainView, port: number): number;
/**
 * evtchn_2l_set_pending: mark the port pending in the target's shared_info and, unless it is
 * masked or its selector bit is already set, raise the vCPU's upcall and wake it. The wake is
 * the expensive part, so it happens only on the 0 -> 1 edge of evtchn_upcall_pending.
 */
export declare function setPending(target: DomainView, port: number): void;
/** Wake the domain's vCPU: its own thread sleeps on the upcall word, a shared pCPU on its doorbell. */
export declare function wake(d: DomainView): void;
/** EVTCHNOP_unmask: clear the mask bit and re-raise an event that arrived while masked. */
export declare function unmask(d: DomainView, port: number): void;
export declare function mask(d: DomainView, port: number): void;
/**
 * Where a send on `port` goes: [remote domid, remote port] for an interdomain channel,
 * [own domid, port] for an IPI, null for an unbound one (Xen drops those silently). A VIRQ
 * port is raised only by the hypervisor: sending on it is EINVAL, as in evtchn_send.
 */
export declare function sendTarget(d: DomainView, port: number): [number, number] | null;
export declare function status(d: DomainView, port: number): EvtchnStatus;
export declare function withEvtchnLocks<T>(a: DomainView, b: DomainView | null, fn: () => T): T;
/** get_free_port: the lowest closed port, never 0. Caller holds the lock. */
export declare function allocPort(d: DomainView): number;
export declare function setPort(d: DomainView, port: number, state: number, a: number, b: number, vcpu?: number): void;
export declare function readPort(d: DomainView, port: number): {
    state: number;
    a: number;
    b: number;
};
/** Clear pending state of a port being freed so a later user of the number starts clean. */
export declare function clearPending(d: DomainView, port: number): void;
export declare function virqPort(d: DomainView, virq: number): number;
export declare function setVirqPort(d: DomainView, virq: number, port: number): void;
