import type { MessagePort } from 'node:worker_threads';
import type { EvtchnStatus } from './evtchn.js';
import type { DomainBuffers } from './memory.js';
import type { ShutdownReason } from '../abi/xen.js';
export interface PeerGrant {
    readonly peer: DomainBuffers;
    /** The caller's maptrack, allocated the first time it is allowed to map anything. */
    readonly maptrack?: SharedArrayBuffer;
}
/** The control operations one domain may ask of the hypervisor, bound to that caller. */
export interface ControlPlane {
    allocUnbound(dom: number, remoteDom: number): number;
    bindInterdomain(remoteDom: number, remotePort: number): {
        port: number;
        peer?: PeerGrant;
    };
    bindVirq(virq: number, vcpu: number): number;
    close(port: number): void;
    status(dom: number, port: number): EvtchnStatus;
    setupTable(nrFrames: number): number;
    peer(domid: number): PeerGrant;
    /**
     * SCHEDOP_shutdown. With `suspend`, the guest names the frames of its suspend record (as a PV
     * guest passes its start_info frame), and the call returns only when the domain is resumed
     * in place (1, as Xen's cancelled suspend), never if it is destroyed; otherwise 0 at once.
     */
    shutdown(reason: ShutdownReason, recordPfn?: number, recordBytes?: number): number | Promise<number>;
}
export type ControlOp = keyof ControlPlane;
/** How a vCPU calls the control plane: directly on dom0's thread, by message elsewhere. */
export interface ControlChannel {
    call<K extends ControlOp>(op: K, ...args: Parameters<ControlPlane[K]>): Promise<ReturnType<ControlPlane[K]>>;
}
export declare function directChannel(plane: ControlPlane): ControlChannel;
/** The vCPU side: requests out, replies matched by id. */
export declare function portChannel(port: MessagePort): ControlChannel & {
    onPush(fn: (msg: unknown) => void): void;
};
/**
 * Control operations a domain may ask per second, and in one burst. Each costs dom0's thread
 * a message and a reply; a domain that asks for more than any driver needs is flooding dom0.
 */
export declare const CONTROL_RATE = 20000;
export declare const CONTROL_BURST = 4000;
/**
 * The authority side: serve one domain's control port. Anything malformed is refused. `clock`
 * is the bucket's time source; tests freeze it, since a loaded machine refills the bucket.
 */
export declare function serveControlPort(port: MessagePort, plane: ControlPlane, onFlood?: () => void, clock?: () => number): void;
