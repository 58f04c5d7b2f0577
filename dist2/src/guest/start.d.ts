import type { Hypercalls } from '../hypervisor/hypercalls.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import type { BootMarks } from '../hypervisor/vcpu.js';
type KernelModule = {
    default?: unknown;
};
/** A shell's claim: its kernel, and the name and uuid the toolstack wrote for it. */
export interface Claim {
    readonly name: string;
    readonly uuid: string;
    load(): Promise<KernelModule>;
}
/** Where the vCPU runs, as the early boot needs to know it. */
export interface GuestPlatform {
    readonly hc: Hypercalls;
    /** How the upcall loop waits (its error handler is the boot's). */
    readonly loop: Omit<ConstructorParameters<typeof UpcallLoop>[1], 'onError'>;
    /** The kernel image's module (its default export is main(os)); null for a shell. */
    loadKernel(): Promise<KernelModule> | null;
    /** A shell's platform is up: wait until the toolstack claims it. */
    park?(): Promise<Claim>;
    /** main(os) is about to be called. */
    mainCalled(marks: BootMarks): void;
    /** Route the platform's uncaught errors of this guest to `crash`. */
    onUncaught(crash: (err: unknown) => void): void;
    /** A vCPU that has shut down is never scheduled again. */
    deschedule(): Promise<never>;
}
/** Boot the guest; returns its upcall loop (a driven loop's turn runs it) once the boot started. */
export declare function startGuest(p: GuestPlatform): UpcallLoop;
export {};
