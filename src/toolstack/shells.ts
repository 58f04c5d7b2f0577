// Pre-built domains ("shells"), as LightVM's split toolstack keeps them: the host builds a
// few domains ahead of time (memory, event channels, grant table, xenstore nodes, console, a
// vCPU whose runtime is booted and waits for its kernel), so that a create only names one,
// writes what its configuration adds and hands it its kernel (builder.ts claimShell). The
// pool refills in the background after each take, one shell at a time and after a delay, so
// that refilling does not compete with the boot that just took one.
//
// A shell is not a VM: its placeholder name contains '/', which no user's name may
// (domconfig.ts domainNameProblem), so `list`, name lookups and events never show it.
import { XenError } from '../errors.js';
import { within } from '../within.js';
import { POOL0, type Cpupool } from '../hypervisor/cpupool.js';
import type { Domain } from '../hypervisor/hypervisor.js';
import type { KernelScript } from '../hypervisor/vcpu.js';
import { buildShell, fitsShellVif, teardownDomain, type BuildContext, type BuildSpec, type Shell, type ShellSpec } from './builder.js';

/** Placeholder names start so; a user's domain name cannot contain '/'. */
const PLACEHOLDER = 'shell/';
const REFILL_DELAY_MS = 100;
/** The longest a take's refill waits for what it was told to wait for (take's `refillAfter`). */
const REFILL_HOLD_MAX_MS = 2_000;
/** Kernels a parked shell compiles ahead of its claim: the most recently claimed. */
const RECENT_KERNELS = 4;

export function isShellName(name: string): boolean {
  return name.startsWith(PLACEHOLDER);
}

export interface ShellPoolOptions {
  /** Shells kept ready. */
  readonly count: number;
  /** memory= of the configurations they serve, MiB. */
  readonly memory: number;
  /** The shared cpupool whose pCPU threads run them (realms parked there); Pool-0 (a thread each) if absent. */
  readonly cpupool?: Cpupool;
  /** Fault a ready shell's RAM in while it waits, for restores into it (the host's scrubber thread does: scrub.ts). */
  readonly prefault?: (d: Domain) => void;
  /**
   * Each shell has vif 0 connected while it waits (builder.ts SHELL_BRIDGE); such shells serve
   * only configurations with one vif that it can become (fitsShellVif). Pool-0 only.
   */
  readonly vif?: boolean;
}

export class ShellPool {
  readonly #ctx: () => BuildContext;
  readonly #spec: ShellSpec;
  readonly #target: number;
  readonly #cpupool: Cpupool | undefined;
  readonly #prefault: ((d: Domain) => void) | undefined;
  readonly #log: (line: string) => void;
  #ready: Shell[] = [];
  #building = 0;
  #seq = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** The refill running now, so close() can wait for it. */
  #refilling: Promise<void> | undefined;
  /** Builds that failed in a row: refilling stops after a few, until the next take. */
  #failures = 0;
  /** The kernels claimed last, most recent first: every ready shell has them compiled. */
  #recent: KernelScript[] = [];

  constructor(ctx: () => BuildContext, opts: ShellPoolOptions, log: (line: string) => void = () => {}) {
    if (!Number.isInteger(opts.count) || opts.count < 0) throw new XenError('EINVAL', `shells: ${opts.count} is not a whole number`);
    this.#ctx = ctx;
    if (opts.vif && opts.cpupool) throw new XenError('EINVAL', 'shells with a vif are Pool-0 shells');
    this.#spec = { memory: opts.memory, ...(opts.vif && { vif: true }) };
    this.#target = opts.count;
    this.#cpupool = opts.cpupool;
    this.#prefault = opts.prefault;
    this.#log = log;
  }

  /** Shells ready to be claimed now. */
  get ready(): number {
    return this.#ready.length;
  }

  /** Shells kept ready when the pool is full. */
  get target(): number {
    return this.#target;
  }

  /**
   * Whether a shell can become the domain `spec` describes: same pool and memory, default
   * limits, not a driver domain; for shells with a vif, one vif that theirs can become.
   */
  fits(spec: BuildSpec): boolean {
    const pool = spec.pool === undefined || spec.pool === POOL0 ? undefined : spec.pool;
    return this.#target > 0 && pool === this.#cpupool?.name && spec.memory === this.#spec.memory && spec.maxGrantFrames === undefined &&
      spec.maxMaptrackFrames === undefined && spec.maxEventChannels === undefined && spec.driverDomain !== true &&
      (this.#spec.vif !== true || fitsShellVif(spec.vifs));
  }

  /**
   * A ready shell, taken out of the pool (synchronously: no two creates get one shell), or
   * undefined when none is ready. Starts a refill, once `refillAfter` settles (at most
   * REFILL_HOLD_MAX_MS later) when given. `script`, the kernel it is for, is compiled by the
   * shells left, so that the next create of it finds it compiled.
   */
  take(script?: KernelScript, refillAfter?: Promise<unknown>): Shell | undefined {
    let shell: Shell | undefined;
    while ((shell = this.#ready.shift()) && !usable(shell.domain)) void this.#discard(shell);
    this.#failures = 0;
    const refill = () => this.#schedule(REFILL_DELAY_MS);
    if (refillAfter) void within(refillAfter, REFILL_HOLD_MAX_MS, { unref: true }).then(refill, refill);
    else setImmediate(refill); // after the create's kernel is posted: a timer costs it tens of us
    if (script) this.#remember(script);
    return shell;
  }

  #remember(script: KernelScript): void {
    const fresh = this.#recent[0]?.url !== script.url;
    this.#recent = [script, ...this.#recent.filter((s) => s.url !== script.url)].slice(0, RECENT_KERNELS);
    if (fresh) for (const s of this.#ready) s.vcpu.prepare(script);
  }

  /** Start filling the pool (a host does at start). */
  fill(): void {
    this.#schedule(0);
  }

  /** A shell whose vCPU died while it waited is no use: take it out and tear it down. */
  reap(): void {
    const dead = this.#ready.filter((s) => !usable(s.domain));
    if (dead.length === 0) return;
    this.#ready = this.#ready.filter((s) => usable(s.domain));
    for (const s of dead) void this.#discard(s);
    this.#schedule(REFILL_DELAY_MS);
  }

  /** Stop refilling and tear every shell down. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#refilling;
    const all = this.#ready;
    this.#ready = [];
    await Promise.all(all.map((s) => this.#discard(s)));
  }

  #schedule(delayMs: number): void {
    if (this.#closed || this.#timer || this.#refilling || this.#ready.length >= this.#target) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refilling = this.#refill().finally(() => (this.#refilling = undefined));
    }, delayMs);
    this.#timer.unref();
  }

  /** One shell at a time until the pool is full: a build that fails leaves nothing behind (buildShell). */
  async #refill(): Promise<void> {
    while (!this.#closed && this.#ready.length + this.#building < this.#target && this.#failures < 3) {
      this.#building++;
      try {
        const shell = await buildShell(this.#ctx(), this.#spec, `${PLACEHOLDER}${this.#cpupool?.name ?? POOL0}${this.#spec.vif ? '+vif' : ''}/${this.#seq++}`, this.#cpupool);
        if (this.#closed) await this.#discard(shell);
        else {
          for (const k of this.#recent) shell.vcpu.prepare(k);
          this.#ready.push(shell);
          this.#prefault?.(shell.domain);
        }
        this.#failures = 0;
      } catch (e) {
        this.#failures++;
        if (!this.#closed) this.#log(`shells: building a shell failed: ${(e as Error).message}`);
      } finally {
        this.#building--;
      }
    }
  }

  async #discard(shell: Shell): Promise<void> {
    await teardownDomain(this.#ctx(), shell.domain).catch((e: Error) => this.#log(`shells: tearing down d${shell.domain.domid}: ${e.message}`));
  }
}

function usable(d: Domain): boolean {
  return !d.dying && d.shutdownReason === null;
}
