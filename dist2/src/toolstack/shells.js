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
import { buildShell, teardownDomain } from './builder.js';
/** Placeholder names start so; a user's domain name cannot contain '/'. */
const PLACEHOLDER = 'shell/';
const REFILL_DELAY_MS = 100;
export function isShellName(name) {
    return name.startsWith(PLACEHOLDER);
}
export class ShellPool {
    #ctx;
    #spec;
    #target;
    #log;
    #ready = [];
    #building = 0;
    #seq = 0;
    #closed = false;
    #timer;
    /** The refill running now, so close() can wait for it. */
    #refilling;
    /** Builds that failed in a row: refilling stops after a few, until the next take. */
    #failures = 0;
    constructor(ctx, opts, log = () => { }) {
        if (!Number.isInteger(opts.count) || opts.count < 0)
            throw new XenError('EINVAL', `shells: ${opts.count} is not a whole number`);
        this.#ctx = ctx;
        this.#spec = { memory: opts.memory };
        this.#target = opts.count;
        this.#log = log;
    }
    /** Shells ready to be claimed now. */
    get ready() {
        return this.#ready.length;
    }
    /** Whether a shell can become the domain `spec` describes: same memory, default limits, not a driver domain. */
    fits(spec) {
        return this.#target > 0 && spec.memory === this.#spec.memory && spec.maxGrantFrames === undefined &&
            spec.maxMaptrackFrames === undefined && spec.maxEventChannels === undefined && spec.driverDomain !== true;
    }
    /**
     * A ready shell, taken out of the pool (synchronously: no two creates get one shell), or
     * undefined when none is ready. Starts a refill.
     */
    take() {
        let shell;
        while ((shell = this.#ready.shift()) && !usable(shell.domain))
            void this.#discard(shell);
        this.#failures = 0;
        this.#schedule(REFILL_DELAY_MS);
        return shell;
    }
    /** Start filling the pool (a host does at start). */
    fill() {
        this.#schedule(0);
    }
    /** A shell whose vCPU died while it waited is no use: take it out and tear it down. */
    reap() {
        const dead = this.#ready.filter((s) => !usable(s.domain));
        if (dead.length === 0)
            return;
        this.#ready = this.#ready.filter((s) => usable(s.domain));
        for (const s of dead)
            void this.#discard(s);
        this.#schedule(REFILL_DELAY_MS);
    }
    /** Stop refilling and tear every shell down. */
    async close() {
        this.#closed = true;
        clearTimeout(this.#timer);
        await this.#refilling;
        const all = this.#ready;
        this.#ready = [];
        await Promise.all(all.map((s) => this.#discard(s)));
    }
    #schedule(delayMs) {
        if (this.#closed || this.#timer || this.#refilling || this.#ready.length >= this.#target)
            return;
        this.#timer = setTimeout(() => {
            this.#timer = undefined;
            this.#refilling = this.#refill().finally(() => (this.#refilling = undefined));
        }, delayMs);
        this.#timer.unref();
    }
    /** One shell at a time until the pool is full: a build that fails leaves nothing behind (buildShell). */
    async #refill() {
        while (!this.#closed && this.#ready.length + this.#building < this.#target && this.#failures < 3) {
            this.#building++;
            try {
                const shell = await buildShell(this.#ctx(), this.#spec, `${PLACEHOLDER}${this.#seq++}`);
                if (this.#closed)
                    await this.#discard(shell);
                else
                    this.#ready.push(shell);
                this.#failures = 0;
            }
            catch (e) {
                this.#failures++;
                if (!this.#closed)
                    this.#log(`shells: building a shell failed: ${e.message}`);
            }
            finally {
                this.#building--;
            }
        }
    }
    async #discard(shell) {
        await teardownDomain(this.#ctx(), shell.domain.domid).catch((e) => this.#log(`shells: tearing down d${shell.domain.domid}: ${e.message}`));
    }
}
function usable(d) {
    return !d.dying && d.shutdownReason === null;
}
//# sourceMappingURL=shells.js.map