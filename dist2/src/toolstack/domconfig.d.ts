import { type DiskSpec } from './diskspec.js';
import { type HostLimits } from './limits.js';
import { type VifSpec } from './vifspec.js';
import { type ForwardSpec } from '../network/gateway/forwardspec.js';
export declare const SHUTDOWN_ACTIONS: readonly ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart', 'soft-reset'];
export type ShutdownAction = (typeof SHUTDOWN_ACTIONS)[number];
/** A vif of a domain: its devid is settled (the spec's, else its index in the vif list). */
export interface DomainVif extends VifSpec {
    readonly devid: number;
}
export interface DomainConfig {
    readonly name: string;
    /** Lowercase canonical form; undefined means the toolstack generates one. */
    readonly uuid?: string;
    /** Absolute path of the guest program (relative paths are resolved from the config file's directory). */
    readonly kernel: string;
    /** MiB. */
    readonly memory: number;
    /** MiB, at least memory. */
    readonly maxmem: number;
    /** This version runs one vCPU per domain. */
    readonly vcpus: 1;
    /** Credit scheduler weight (cpu_weight=, 1..65535); 256 when absent. */
    readonly cpuWeight?: number;
    /** pool=: the cpupool whose pCPUs run the domain (hypervisor/cpupool.ts); Pool-0 when absent. */
    readonly pool?: string;
    /** cap=: credit scheduler cap, a percentage of one pCPU (0: none); in shared pools only. */
    readonly cpuCap?: number;
    /** driver_domain=1: the domain serves devices to others (it gets the libxl and device-model directories libxl gives one). */
    readonly driverDomain?: boolean;
    /** The guest's command line, from cmdline=, or else from root= and extra=; undefined if none. */
    readonly cmdline?: string;
    readonly onPoweroff: ShutdownAction;
    readonly onReboot: ShutdownAction;
    readonly onCrash: ShutdownAction;
    readonly onWatchdog: ShutdownAction;
    readonly onSoftReset: ShutdownAction;
    readonly disks: readonly DiskSpec[];
    readonly vifs: readonly DomainVif[];
    readonly maxGrantFrames?: number;
    readonly maxMaptrackFrames?: number;
    readonly maxEventChannels?: number;
    /** xenode's own `forward = [ 'tcp:8080:80' ]` (not xl's): host ports forwarded to the first vif by its bridge's gateway. */
    readonly forwards?: readonly ForwardSpec[];
}
/** libxl's default memory (and so maxmem) in MiB. */
export declare const DEFAULT_MEMORY_MIB = 32;
/** Larger files are refused before they are read: no real configuration comes close. */
export declare const MAX_CONFIG_BYTES: number;
/**
 * Why name cannot name a domain, or undefined if it can. Beyond xl's own rule (non-empty), a
 * name may not be only digits (xl commands read such an argument as a domain id), nor contain
 * '/' or control characters (it names files and xenstore values), nor be longer than xenstore
 * can hold (MAX_NAME_BYTES).
 */
export declare function domainNameProblem(name: string): string | undefined;
/** Why `name` cannot name a cpupool, or undefined if it can (xl's pool names are free text; ours name rows and logs). */
export declare function poolNameProblem(name: string): string | undefined;
/**
 * Reads a domain configuration from xl.cfg text; file names it in messages and anchors a
 * relative kernel path. Throws ConfigError (and nothing else) if the text is malformed or asks
 * for more than `limits` (this host's, by default) allow.
 */
export declare function parseDomainConfig(text: string, file: string, limits?: HostLimits): {
    config: DomainConfig;
    warnings: string[];
};
/**
 * Reads and parses a configuration file. A file that cannot be read is a NamedFileError (ENOENT
 * when it does not exist, EINVAL when it is not a regular file, E2BIG past MAX_CONFIG_BYTES);
 * a malformed one is a ConfigError.
 */
export declare function loadDomainConfig(path: string, limits?: HostLimits): Promise<{
    config: DomainConfig;
    warnings: string[];
}>;
