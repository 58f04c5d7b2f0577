// vCPUs are worker threads. Starting a thread and loading the guest runtime costs tens of
// milliseconds, so a pool keeps some started and idle; creating a domain then only hands one
// its boot message (DESIGN.md §2, §10).
import { MessageChannel, Worker } from 'node:worker_threads';
import { XenError } from '../errors.js';
import { serveControlPort } from './control.js';
import { CREDIT_DEFAULT_WEIGHT, niceForWeight } from './sched.js';
import { ThreadState } from './thread.js';
const REFILL_DELAY_MS = 100;
/** A vCPU thread that ended before it could take its domain. */
export class VcpuExited extends Error {
    name = 'VcpuExited';
    constructor(detail) {
        super(`vCPU thread ${detail}`);
    }
}
function spawn(image, opts) {
    const resourceLimits = {
        maxOldGenerationSizeMb: opts.heapMb,
        maxYoungGenerationSizeMb: Math.max(1, Math.min(8, Math.floor(opts.heapMb / 4))),
    };
    // stdout/stderr are captured so nothing a guest does reaches the host's terminal except
    // through its PV console.
    const worker = new Worker(image, { resourceLimits, stdout: true, stderr: true });
    const ready = new Promise((resolve, reject) => {
        const settle = () => {
            worker.off('message', onMsg);
            worker.off('error', onError);
            worker.off('exit', onExit);
        };
        const onMsg = (m) => {
            if (m.type !== 'ready')
                return;
            settle();
            resolve(m.tid);
        };
        const onError = (e) => {
            settle();
            reject(new VcpuExited(`failed to start: ${e.message}`));
        };
        // A thread that ends before it is ready (its runtime failed to load) must not leave the
        // domain's builder waiting for ever.
        const onExit = (code) => {
            settle();
            reject(new VcpuExited(`exited with code ${code} before it was ready`));
        };
        worker.on('message', onMsg);
        worker.on('error', onError);
        worker.on('exit', onExit);
    });
    ready.catch(() => { });
    return { worker, ready };
}
/**
 * Where vCPU threads come from: pre-started ones, one pool per heap size, or fresh ones. The
 * toolstack names the guest runtime image the threads start from (the hypervisor does not
 * know the library OS).
 */
export class VcpuPool {
    #idle = new Map();
    /** The pool's own exit handler of each idle thread, taken off when the thread is handed out. */
    #onExit = new Map();
    #target;
    #image;
    #closed = false;
    constructor(opts) {
        this.#target = opts.size;
        this.#image = opts.image;
    }
    /** Start pool threads for this heap size, without waiting for them. */
    warm(opts) {
        if (this.#closed)
            return;
        const list = this.#idle.get(opts.heapMb) ?? [];
        this.#idle.set(opts.heapMb, list);
        while (list.length < this.#target) {
            const w = spawn(this.#image, opts);
            w.worker.unref(); // an idle pool must not keep the host alive
            const onExit = () => {
                this.#onExit.delete(w.worker);
                const i = list.indexOf(w);
                if (i >= 0)
                    list.splice(i, 1);
            };
            this.#onExit.set(w.worker, onExit);
            w.worker.once('exit', onExit);
            list.push(w);
        }
    }
    /** A started thread if one is ready, else a fresh one; refills in the background. */
    take(opts) {
        const list = this.#idle.get(opts.heapMb);
        const w = list?.shift();
        // Refill a little later: starting a thread takes a core for tens of milliseconds, and the
        // domain just taken is booting now.
        if (list)
            setTimeout(() => this.warm(opts), REFILL_DELAY_MS).unref();
        if (w) {
            w.worker.off('exit', this.#onExit.get(w.worker));
            this.#onExit.delete(w.worker);
            w.worker.ref();
            return { ...w, warm: true };
        }
        return { ...spawn(this.#image, opts), warm: false };
    }
    async close() {
        this.#closed = true;
        const all = [...this.#idle.values()].flat();
        this.#idle.clear();
        this.#onExit.clear();
        await Promise.all(all.map((w) => w.worker.terminate()));
    }
}
/**
 * Give a domain its vCPU: a thread from the pool gets the boot message and a private
 * control port served by the hypervisor. The vCPU's death without a shutdown is a crash.
 */
export async function startVcpu(hv, domain, kernel, opts) {
    const { worker, ready, warm } = opts.pool.take(opts);
    const { port1, port2 } = new MessageChannel();
    serveControlPort(port1, hv.controlPlane(domain.domid), () => {
        opts.onLog?.(`d${domain.domid}: flooded the control plane; crashing it`);
        if (!domain.dying && !domain.shutdownReason)
            hv.shutdownDomain(domain.domid, 'crash');
    });
    let terminated = false;
    let mainResolve;
    let mainReject;
    const mainCalled = new Promise((res, rej) => ((mainResolve = res), (mainReject = rej)));
    mainCalled.catch(() => { });
    let parkedResolve;
    const parked = new Promise((res) => (parkedResolve = res));
    let hasKernel = kernel !== null;
    const drain = (stream) => stream.on('data', (b) => opts.onLog?.(b.toString('utf8').trimEnd()));
    drain(worker.stdout);
    drain(worker.stderr);
    worker.on('message', (m) => {
        if (m.type === 'main')
            mainResolve(m.marks);
        else if (m.type === 'parked')
            parkedResolve();
        else if (m.type === 'log')
            opts.onLog?.(m.line);
    });
    const crashed = (why) => {
        if (terminated)
            return;
        opts.onLog?.(`d${domain.domid}: vCPU died: ${why}`);
        mainReject(new Error(why));
        if (!domain.dying && !domain.shutdownReason)
            hv.shutdownDomain(domain.domid, 'crash');
    };
    let tid;
    try {
        tid = await ready;
    }
    catch (e) {
        // Not the domain's crash: it never ran. The builder tears the domain down.
        port1.close();
        throw e;
    }
    // Registered once ready: an earlier end rejected `ready` instead.
    worker.on('error', (e) => crashed(e.message));
    worker.on('exit', (code) => crashed(`thread exited with code ${code}`));
    const thread = tid === undefined ? undefined : ThreadState.open(tid);
    worker.once('exit', () => thread?.close());
    const handle = {
        worker,
        warm,
        mainCalled,
        parked,
        loadKernel(image, weight) {
            if (hasKernel)
                throw new XenError('EBUSY', `d${domain.domid}: its vCPU has a kernel already`);
            hasKernel = true;
            const m = { type: 'kernel', kernel: image, nice: niceForWeight(weight ?? CREDIT_DEFAULT_WEIGHT), name: domain.name, uuid: domain.uuid };
            worker.postMessage(m);
        },
        async terminate() {
            terminated = true;
            port1.close();
            await worker.terminate();
        },
        cpuTime: () => worker.performance.eventLoopUtilization().active,
        running: () => thread?.runnable(),
        push(grant) {
            port1.postMessage({ push: grant });
        },
    };
    hv.attachVcpu(domain.domid, handle);
    const nice = niceForWeight(opts.weight ?? CREDIT_DEFAULT_WEIGHT);
    const boot = { type: 'boot', buffers: domain.view.buffers, control: port2, kernel, nice };
    worker.postMessage(boot, [port2]);
    return handle;
}
//# sourceMappingURL=vcpu.js.map