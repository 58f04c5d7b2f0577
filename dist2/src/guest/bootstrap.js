// The vCPU thread of a domain. It loads the library OS while idle in the pool; its boot
// message gives it a domain, and then it does what a PV kernel's early boot does (start.ts).
// A shell's boot message names no kernel: it parks until a KernelMessage does.
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { portChannel } from '../hypervisor/control.js';
import { Hypercalls } from '../hypervisor/hypercalls.js';
import { DomainView } from '../hypervisor/memory.js';
import { currentThreadId } from '../hypervisor/thread.js';
import { HALT_POLL_MAX_US } from '../hypervisor/upcall.js';
import { startGuest } from './start.js';
import { warmUp } from './warmup.js';
// Guest stacks should name the guest's own source lines, not the linked image's.
process.setSourceMapsEnabled(true);
// Guest kernels import 'xenode' from this same image (see image.ts).
export * from './index.js';
const parent = parentPort;
const status = (m) => parent.postMessage(m);
function setNice(nice) {
    try {
        setPriority(nice); // this thread only (Linux); lowering it may need privilege
    }
    catch {
        /* the guest runs at the host process's priority */
    }
}
/** A shell's kernel, when the toolstack claims it. */
function kernelMessage() {
    return new Promise((resolve) => {
        const on = (m) => {
            if (m?.type !== 'kernel')
                return;
            parent.off('message', on);
            resolve(m);
        };
        parent.on('message', on);
    });
}
/** A vCPU that has shut down is never scheduled again: block the thread until it is destroyed. */
function deschedule() {
    const forever = new Int32Array(new SharedArrayBuffer(4));
    for (;;)
        Atomics.wait(forever, 0, 0);
}
const link = (url) => import(url);
function boot(msg) {
    const view = new DomainView(msg.buffers);
    const channel = portChannel(msg.control);
    const hc = new Hypercalls(view, channel);
    channel.onPush((g) => hc.adoptPeer(g));
    setNice(msg.nice);
    startGuest({
        hc,
        loop: { pausable: true, haltPollUs: HALT_POLL_MAX_US, pollOnlyWhenExpected: true },
        loadKernel: () => (msg.kernel === null ? null : link(msg.kernel)),
        park: async () => {
            status({ type: 'parked' });
            const k = await kernelMessage();
            if (k.nice !== msg.nice)
                setNice(k.nice);
            return { name: k.name, uuid: k.uuid, load: () => link(k.kernel) };
        },
        mainCalled: (marks) => status({ type: 'main', marks }),
        onUncaught: (crash) => {
            process.on('uncaughtException', crash);
            process.on('unhandledRejection', crash);
        },
        deschedule: async () => deschedule(),
    });
}
await warmUp();
parent.once('message', (msg) => boot(msg));
status({ type: 'ready', tid: currentThreadId() });
//# sourceMappingURL=bootstrap.js.map