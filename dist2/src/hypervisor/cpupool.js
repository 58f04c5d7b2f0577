// Shared cpupools: a few pCPU threads that run many domains' vCPUs, as Xen schedules vCPUs on
// the pCPUs of a cpupool (xl cpupool-create). Pool-0 keeps a thread per vCPU (vcpu.ts); a
// domain placed in a shared pool gets a slot on one of the pool's pCPU threads, its own realm
// there (a node:vm context running its own instance of the library OS), its own memory and
// control block, and the same hypercalls. This is dom0's side: the pool, its threads, the
// placement of domains, and the watchdog. The thread's side is guest/pcpu.ts.
import { MessageChannel, Worker } from 'node:worker_threads';
import { XenError } from '../errors.js';
import { serveControlPort } from './control.js';
import { DOORBELL_SLOTS, doorbellBytes, PcpuStats } from './doorbell.js';
import { CREDIT_DEFAULT_WEIGHT } from './sched.js';
import { ThreadState } from './thread.js';
export const CPUPOOL_SCHEDS = ['credit'];
export const POOL0 = 'Pool-0';
/** pCPU threads one pool may have. */
export const MAX_POOL_CPUS = 64;
/** A turn that runs longer than this is a guest that does not yield. */
export const WATCHDOG_MS = 2000;
const WATCHDOG_CHECK_MS = 250;
const WATCHDOG_WALL_FACTOR = 5;
class Pcpu {
    pool;
    index;
    epoch;
    doorbell = new SharedArrayBuffer(doorbellBytes());
    stats;
    worker;
    #thread;
    residents = new Map();
    #freeSlots = [];
    #nextSlot = 0;
    ready;
    /** Resolves when the current thread has ended. */
    exited;
    constructor(pool, index, epoch) {
        this.pool = pool;
        this.index = index;
        this.epoch = epoch;
        this.stats = new PcpuStats(PcpuStats.allocate(), epoch);
        this.start();
    }
    start() {
        const data = {
            doorbell: this.doorbell, stats: this.stats.buffer, epoch: this.epoch, realmImage: this.pool.realmImage.href,
            name: `${this.pool.name}/${this.index}`,
        };
        const heap = this.pool.heapMb;
        this.worker = new Worker(this.pool.image, {
            workerData: data, stdout: true, stderr: true,
            ...(heap !== undefined && { resourceLimits: { maxOldGenerationSizeMb: heap } }),
        });
        const drain = (s) => s.on('data', (b) => this.pool.log(b.toString('utf8').trimEnd()));
        drain(this.worker.stdout);
        drain(this.worker.stderr);
        this.ready = new Promise((resolve, reject) => {
            this.worker.once('error', reject);
            this.worker.on('message', (m) => {
                if (m.type === 'ready') {
                    this.#thread = m.tid === undefined ? undefined : ThreadState.open(m.tid);
                    resolve();
                }
                else
                    this.#status(m);
            });
        });
        this.ready.catch(() => { });
        const w = this.worker;
        this.exited = new Promise((resolve) => w.once('exit', () => resolve()));
        w.on('error', (e) => this.pool.log(`pCPU ${this.pool.name}/${this.index}: ${e.message}`));
        w.once('exit', () => {
            this.#thread?.close();
            this.#thread = undefined;
            if (w === this.worker)
                this.pool.lost(this, 'its thread ended');
        });
    }
    #status(m) {
        if (m.type === 'log')
            return this.pool.log(m.line);
        if (m.type === 'ready')
            return;
        const r = this.residents.get(m.domid);
        if (!r)
            return;
        if (m.type === 'main')
            r.onMain();
        else if (m.type === 'placed')
            r.onPlaced();
        else if (m.type === 'failed')
            r.onPlaced(new Error(m.message));
        else if (m.type === 'evicted')
            r.onEvicted();
    }
    takeSlot() {
        const s = this.#freeSlots.pop() ?? this.#nextSlot++;
        if (s >= DOORBELL_SLOTS)
            throw new XenError('ENOSPC', `pCPU ${this.pool.name}/${this.index} hosts ${DOORBELL_SLOTS} domains already`);
        return s;
    }
    freeSlot(slot) {
        this.stats.cpuMs[slot] = 0;
        this.#freeSlots.push(slot);
    }
    running() {
        return this.#thread?.runnable();
    }
    cpuMs() {
        return this.#thread?.cpuMs();
    }
    /** The turn the watchdog watches, and the thread's CPU time when it first saw it. */
    watched = null;
}
export class Cpupool {
    name;
    sched;
    image;
    realmImage;
    heapMb;
    #pcpus = [];
    #onLog;
    #watchdogMs;
    #watchdog;
    #closed = false;
    constructor(opts) {
        if (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > MAX_POOL_CPUS) {
            throw new XenError('EINVAL', `cpus=${opts.cpus}: a pool has 1..${MAX_POOL_CPUS} pCPU threads`);
        }
        this.name = opts.name;
        this.sched = opts.sched ?? 'credit';
        this.image = opts.image;
        this.realmImage = opts.realmImage;
        this.heapMb = opts.heapMb;
        this.#onLog = opts.onLog ?? (() => { });
        this.#watchdogMs = opts.watchdogMs ?? WATCHDOG_MS;
        const epoch = performance.timeOrigin + performance.now();
        for (let i = 0; i < opts.cpus; i++)
            this.#pcpus.push(new Pcpu(this, i, epoch));
        this.#watchdog = setInterval(() => this.#check(), Math.min(WATCHDOG_CHECK_MS, this.#watchdogMs / 4)).unref();
    }
    get cpus() {
        return this.#pcpus.length;
    }
    /** Domains placed in the pool. */
    get domains() {
        let n = 0;
        for (const p of this.#pcpus)
            n += p.residents.size;
        return n;
    }
    /** Turns the pool's pCPUs have run (each runs one domain's work). */
    turns() {
        return this.#pcpus.reduce((n, p) => n + Atomics.load(p.stats.words, PcpuStats.TURNS), 0);
    }
    /** Resolves once every pCPU thread is up. */
    async ready() {
        await Promise.all(this.#pcpus.map((p) => p.ready));
    }
    log(line) {
        this.#onLog(line);
    }
    /** Choose a pCPU (the least loaded) and a slot on it. */
    place() {
        if (this.#closed)
            throw new XenError('EINVAL', `cpupool ${this.name} is being destroyed`);
        let best = this.#pcpus[0];
        for (const p of this.#pcpus)
            if (p.residents.size < best.residents.size)
                best = p;
        return { pool: this, pcpu: best.index, doorbell: { buffer: best.doorbell, slot: best.takeSlot() } };
    }
    /** Give back a placement whose domain was never started. */
    unplace(p) {
        this.#pcpus[p.pcpu]?.freeSlot(p.doorbell.slot);
    }
    /**
     * Start the domain's vCPU in its realm on the placed pCPU. Its death without a shutdown (the
     * watchdog, or its thread lost) is a crash.
     */
    async startVcpu(hv, domain, placement, kernel, opts = {}) {
        const pcpu = this.#pcpus[placement.pcpu];
        await pcpu.ready;
        const slot = placement.doorbell.slot;
        const { port1, port2 } = new MessageChannel();
        serveControlPort(port1, hv.controlPlane(domain.domid), () => {
            opts.onLog?.(`d${domain.domid}: flooded the control plane; crashing it`);
            if (!domain.dying && !domain.shutdownReason)
                hv.shutdownDomain(domain.domid, 'crash');
        });
        let mainResolve;
        let mainReject;
        const mainCalled = new Promise((res, rej) => ((mainResolve = res), (mainReject = rej)));
        mainCalled.catch(() => { });
        let placedResolve;
        const placed = new Promise((res) => (placedResolve = res));
        let evicted;
        const gone = new Promise((res) => (evicted = res));
        let terminated = false;
        const resident = {
            domain, slot,
            onMain: () => mainResolve(undefined),
            onPlaced: placedResolve,
            onEvicted: evicted,
            onExit: (why) => {
                if (terminated)
                    return;
                opts.onLog?.(`d${domain.domid}: vCPU died: ${why}`);
                mainReject(new Error(why));
                placedResolve(new Error(why));
                evicted();
                if (!domain.dying && !domain.shutdownReason)
                    hv.shutdownDomain(domain.domid, 'crash');
            },
        };
        pcpu.residents.set(domain.domid, resident);
        const msg = {
            type: 'place', domid: domain.domid, slot, buffers: domain.view.buffers, control: port2, kernel,
            weight: opts.weight ?? CREDIT_DEFAULT_WEIGHT, cap: opts.cap ?? 0,
        };
        pcpu.worker.postMessage(msg, [port2]);
        const err = await placed;
        const release = () => {
            if (pcpu.residents.get(domain.domid) === resident)
                pcpu.residents.delete(domain.domid);
            pcpu.freeSlot(slot);
        };
        if (err) {
            port1.close();
            release();
            throw err;
        }
        const handle = {
            warm: true,
            mainCalled,
            async terminate() {
                terminated = true;
                port1.close();
                const exited = pcpu.exited;
                pcpu.worker.postMessage({ type: 'evict', domid: domain.domid });
                await Promise.race([gone, exited]);
                release();
            },
            cpuTime: () => pcpu.stats.cpuMs[slot],
            // Running if its turn is on now; between turns, blocked (even when runnable: it waits for the pCPU).
            running: () => pcpu.stats.current()?.domid === domain.domid && pcpu.running() !== false,
            push(grant) {
                port1.postMessage({ push: grant });
            },
        };
        hv.attachVcpu(domain.domid, handle);
        return handle;
    }
    /** xl sched-credit -d: a domain's weight and cap. */
    setSched(domid, weight, cap) {
        for (const p of this.#pcpus) {
            if (p.residents.has(domid))
                p.worker.postMessage({ type: 'sched', domid, weight, cap });
        }
    }
    hosts(domid) {
        return this.#pcpus.some((p) => p.residents.has(domid));
    }
    /**
     * The watchdog: a turn that has run for longer than the bound is a guest that does not yield
     * (a loop, an Atomics.wait). A thread cannot be interrupted inside one realm without a cost on
     * every turn (docs/ARCHITECTURE.md), so the pCPU thread is reset: the culprit crashes, and its
     * pool mates on that pCPU crash with it (their on_crash applies); the other pCPUs run on.
     */
    #check() {
        for (const p of this.#pcpus) {
            const cur = p.stats.current();
            if (!cur) {
                p.watched = null;
                continue;
            }
            // The bound is in the thread's CPU time where the OS tells it: on a loaded host a turn
            // may wait for a core for longer than it runs.
            const key = `${Atomics.load(p.stats.words, PcpuStats.TURNS)}:${cur.domid}:${Atomics.load(p.stats.words, PcpuStats.TURN_START)}`;
            const cpu = p.cpuMs();
            const now = performance.now();
            if (p.watched?.key !== key) {
                p.watched = { key, cpu, wall: now };
                continue;
            }
            // CPU time decides; wall time only past WATCHDOG_WALL_FACTOR times the bound, so that a
            // host too loaded to give the thread a core still gets its pool mates back.
            const wall = now - p.watched.wall;
            const spent = cpu !== undefined && p.watched.cpu !== undefined ? cpu - p.watched.cpu : wall;
            if (spent < this.#watchdogMs && wall < this.#watchdogMs * WATCHDOG_WALL_FACTOR)
                continue;
            p.watched = null;
            this.log(`cpupool ${this.name}: d${cur.domid} ran ${Math.round(spent)} ms on pCPU ${p.index} without yielding; resetting that pCPU`);
            void this.#reset(p, cur.domid);
        }
    }
    async #reset(p, culprit) {
        const old = p.worker;
        Atomics.store(p.stats.words, PcpuStats.RUNNING, 0);
        const victims = [...p.residents.values()];
        // The culprit first, so its crash is the one logged as the cause.
        victims.sort((a, b) => (a.domain.domid === culprit ? -1 : b.domain.domid === culprit ? 1 : 0));
        for (const r of victims) {
            r.onExit(r.domain.domid === culprit ? `did not yield for ${this.#watchdogMs} ms (watchdog)` : `its pCPU was reset: d${culprit} did not yield`);
        }
        if (!this.#closed)
            p.start();
        await old.terminate();
    }
    /** The thread of a pCPU ended (out of heap, or a host bug): its domains crash; a new thread takes its place. */
    lost(p, why) {
        const cur = p.stats.current();
        for (const r of [...p.residents.values()]) {
            const detail = cur?.domid === r.domain.domid ? `pCPU thread lost during its turn (${why})` : `pCPU thread lost (${why})`;
            r.onExit(detail);
        }
        if (!this.#closed) {
            this.log(`cpupool ${this.name}: pCPU ${p.index} ${why}${cur ? ` during d${cur.domid}'s turn` : ''}; restarting it`);
            p.start();
        }
    }
    /** cpupool-destroy: refused while domains are placed in it. */
    async destroy() {
        if (this.domains > 0)
            throw new XenError('EBUSY', `cpupool ${this.name} still has ${this.domains} domain(s); destroy or move them first`);
        this.#closed = true;
        clearInterval(this.#watchdog);
        await Promise.all(this.#pcpus.map((p) => p.worker.terminate()));
    }
}
//# sourceMappingURL=cpupool.js.map