import type { Domain, Hypervisor } from '../hypervisor/hypervisor.js';
import { type Cpupool } from '../hypervisor/cpupool.js';
import { type BootedVcpu, type StartedVcpu, type VcpuPool } from '../hypervisor/vcpu.js';
import type { ConsoleDaemon } from '../drivers/console/daemon.js';
import type { UpcallLoop } from '../hypervisor/upcall.js';
import type { XenstoreClient } from '../xenstore/client/client.js';
import type { DomainConfig } from './domconfig.js';
import type { Vdis } from '../storage/vdi.js';
import { type VifHost } from './vifs.js';
/** What the builder needs of a domain's configuration. */
export type BuildSpec = Pick<DomainConfig, 'name' | 'uuid' | 'kernel' | 'memory' | 'cmdline' | 'cpuWeight' | 'cpuCap' | 'pool' | 'driverDomain' | 'maxGrantFrames' | 'maxMaptrackFrames' | 'maxEventChannels' | 'disks' | 'vifs'>;
/**
 * memory= is shared between the guest's I/O memory (frames in its SharedArrayBuffer: rings,
 * grant-able pages) and the JS heap of its vCPU thread; a quarter goes to I/O memory.
 */
export declare function memorySplit(memoryMb: number): {
    ramFrames: number;
    heapMb: number;
};
export interface BuildContext {
    readonly hv: Hypervisor;
    readonly xs: XenstoreClient;
    readonly consoled: ConsoleDaemon;
    readonly pool: VcpuPool;
    readonly onLog?: (line: string) => void;
    /** dom0's upcall loop: its blkback service runs there (needed for disks). */
    readonly loop?: UpcallLoop;
    /** Where relative disk targets live (devices.ts). */
    readonly imagesDir?: string;
    /** The host's VDIs, for `vdi:` disk targets. */
    readonly vdis?: Vdis;
    /** Starts dom0's netback service (vifs.ts), for vifs served by dom0. */
    readonly startNetback?: VifHost['startNetback'];
    /** The shared cpupools by name (Pool-0 is `pool`, and not listed here). */
    readonly cpupools?: ReadonlyMap<string, Cpupool>;
}
/** The shared pool a spec asks for, or undefined for Pool-0. */
export declare function sharedPoolOf(ctx: BuildContext, spec: Pick<BuildSpec, 'pool' | 'driverDomain'>): Cpupool | undefined;
/**
 * How long `create` waits for the guest's main() once the domain is built and unpaused. xl
 * returns at that point; xenode waits a little more, so a kernel that fails at once is reported
 * by create, but not forever: a kernel may run its top level as long as it likes.
 */
export declare const MAIN_WAIT_MS = 5000;
/** create's warning when main() was not reached within MAIN_WAIT_MS. */
export declare function mainLate(d: Domain): string;
export interface BuiltDomain {
    readonly domain: Domain;
    readonly vcpu: BootedVcpu;
    /** Milliseconds spent in each phase, for the create-latency figures. */
    readonly timings: {
        readonly kernel: number;
        readonly setup: number;
        readonly vcpu: number;
    };
}
/** What a domain restored from a save image starts with (migration/restore.ts). */
export interface RestoreSpec {
    /** RAM frames below this pfn are populated. */
    readonly hwm: number;
    /** Write the image's frames into the new domain's memory. */
    fill(d: Domain): void;
    /** The guest's suspend record, for start_info (abi/suspend.ts). */
    readonly record: {
        readonly pfn: number;
        readonly bytes: number;
    };
}
export declare function buildDomain(ctx: BuildContext, spec: BuildSpec, opts?: {
    paused?: boolean;
    restore?: RestoreSpec;
}): Promise<BuiltDomain>;
/** What a shell is built from: the parts of a configuration that decide its memory and limits. */
export type ShellSpec = Pick<DomainConfig, 'memory' | 'maxGrantFrames' | 'maxMaptrackFrames' | 'maxEventChannels' | 'driverDomain'>;
/** A pre-built domain: everything but its name, its devices and its kernel (LightVM's shell). */
export interface Shell {
    readonly domain: Domain;
    readonly vcpu: StartedVcpu;
}
/**
 * Build a shell named `placeholder`: a running domain whose runtime has brought up its console,
 * xenstore ring and timer and waits for a kernel. Resolves once it waits; on any failure
 * (its vCPU dying included) nothing of it is left.
 */
export declare function buildShell(ctx: BuildContext, spec: ShellSpec, placeholder: string): Promise<Shell>;
/**
 * Make a shell the domain `spec` describes (its create): link the kernel, take a shell
 * (`take` hands out each shell once; undefined when none is ready), name it, write what the
 * configuration adds (name, uuid, the /vm directory, command line, devices) and hand it its
 * kernel. Undefined when no shell was ready; on failure the shell is torn down.
 */
export declare function claimShell(ctx: BuildContext, take: () => Shell | undefined, spec: BuildSpec): Promise<BuiltDomain | undefined>;
/** Undo what the builder did and destroy the domain: console, xenstore, hypervisor. */
export declare function teardownDomain(ctx: BuildContext, domid: number): Promise<void>;
