// What this host can give one domain. A configuration asking for more is refused when it is
// parsed, naming the key and the bound, before anything is built: left to the engine, a large
// memory= fails as "Invalid typed array length" or "Array buffer allocation failed", a long
// name as an E2BIG from xenstore halfway through the build.
import { totalmem } from 'node:os';
import { MAX_GUEST_CMDLINE, PAGE_SIZE } from '../abi/xen.js';
import { XENSTORE_PAYLOAD_MAX } from '../abi/xs_wire.js';
import { firstRamPfn } from '../hypervisor/layout.js';

/** An inclusive range of integers. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
}

export interface HostLimits {
  /** memory= and maxmem=, MiB. */
  readonly memoryMiB: Bounds;
  /** Bytes of the guest's command line (UTF-8). */
  readonly cmdlineBytes: number;
  readonly maxGrantFrames: Bounds;
  readonly maxMaptrackFrames: Bounds;
  readonly maxEventChannels: Bounds;
  readonly vcpus: Bounds;
}

/** The smallest memory= a guest can run in: V8 needs room for its heap. */
export const MIN_MEMORY_MIB = 16;
/** Shells one shared cpupool may keep parked: more would hold memory for guests nobody asked for. */
export const MAX_POOL_SHELLS = 1024;
/** Xen's own bound on max_grant_frames (and the hypervisor's, hypervisor.ts). */
const MAX_GRANT_FRAMES = 1024;
/** Maptrack frames are 4 KiB of dom0-side memory each; 16384 of them is 64 MiB. */
const MAX_MAPTRACK_FRAMES = 16384;
/** The 2-level ABI's ports, less port 0 (never allocated). */
const MAX_EVENT_CHANNELS = 4095;
/** The library OS binds three as it boots (xenstore, console, VIRQ_TIMER); with fewer it crashes before main(). */
const MIN_EVENT_CHANNELS = 3;
export const MIB = 2 ** 20;
/** One typed array over a domain's memory cannot pass 2^32 elements (DESIGN.md §10). */
const MAX_MEMORY_BUFFER = 2 ** 32;
/** The longest xenstore path the builder writes a name to: /vm/<uuid>/name. */
const NAME_PATH = '/vm/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/name';
/** Bytes of a domain's name: an XS_WRITE carries the path, its NUL and the value. */
export const MAX_NAME_BYTES = XENSTORE_PAYLOAD_MAX - NAME_PATH.length - 1;

/**
 * The largest memory= whose I/O quarter (builder.ts memorySplit), after the special and
 * grant-table frames, still fits one typed array.
 */
function engineMemoryMiB(): number {
  const ioBytes = MAX_MEMORY_BUFFER - firstRamPfn({ maxGrantFrames: MAX_GRANT_FRAMES, ramFrames: 0 }) * PAGE_SIZE;
  return Math.floor(ioBytes / MIB) * 4;
}

/** RAM and the engine's bound do not change while the process runs: read once (os.totalmem reads /proc/meminfo). */
let limits: HostLimits | undefined;

/** This machine's limits: memory= is bounded by its RAM as well as by the engine. */
export function hostLimits(): HostLimits {
  return (limits ??= {
    memoryMiB: { min: MIN_MEMORY_MIB, max: Math.min(engineMemoryMiB(), Math.floor(totalmem() / MIB)) },
    cmdlineBytes: MAX_GUEST_CMDLINE - 1,
    maxGrantFrames: { min: 1, max: MAX_GRANT_FRAMES },
    maxMaptrackFrames: { min: 0, max: MAX_MAPTRACK_FRAMES },
    maxEventChannels: { min: MIN_EVENT_CHANNELS, max: MAX_EVENT_CHANNELS },
    vcpus: { min: 1, max: 1 },
  });
}
