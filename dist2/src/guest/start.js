// What a PV kernel's early boot does, wherever its vCPU runs (a thread of its own, bootstrap.ts,
// or a realm on a shared pCPU, realm.ts): read start_info, bring up the console and xenstore,
// then call the guest program's main(os). A shell (a vCPU started without a kernel) parks once
// its platform is up, until the toolstack hands it its kernel.
import { VIRQ_TIMER } from '../abi/event_channel.js';
import { MAX_GUEST_CMDLINE, PAGE_SIZE, SI_CMD_LINE, SI_CONSOLE_EVTCHN, SI_CONSOLE_MFN, SI_FLAGS, SI_MOD_LEN, SI_MOD_START, SI_STORE_EVTCHN, SI_STORE_MFN, } from '../abi/xen.js';
import { SIF_XENODE_RESUMED } from '../abi/suspend.js';
import { ConsoleFront } from '../drivers/console/front.js';
import { eventChannels } from '../drivers/evtchn.js';
import { PFN_START_INFO } from '../hypervisor/layout.js';
import { BoundPort } from '../hypervisor/port.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { XenstoreRingClient } from '../xenstore/client/ring.js';
import { blockDevices } from './block.js';
import { ioPages } from './iopages.js';
import { GuestLifecycle } from './lifecycle.js';
import { netDevices } from './net.js';
import { pvConsole } from './os.js';
import { tcpipStacks, vifAddress } from './tcpip.js';
import { Suspender, resumeRecord } from './suspend.js';
import { GuestTime } from './time.js';
/** Wall-clock ms, comparable across threads (for the boot's breakdown). */
const now = () => performance.timeOrigin + performance.now();
function readStartInfo(view) {
    const si = new DataView(view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
    return {
        storePfn: Number(si.getBigUint64(SI_STORE_MFN, true)),
        storePort: si.getUint32(SI_STORE_EVTCHN, true),
        consolePfn: Number(si.getBigUint64(SI_CONSOLE_MFN, true)),
        consolePort: si.getUint32(SI_CONSOLE_EVTCHN, true),
    };
}
/** The command line in start_info: read when the kernel is known (a shell's is written when it is claimed). */
function readCmdline(view) {
    const cmd = new Uint8Array(view.buffers.memory, PFN_START_INFO * PAGE_SIZE + SI_CMD_LINE, MAX_GUEST_CMDLINE).slice();
    const nul = cmd.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? cmd : cmd.subarray(0, nul));
}
/** A restored domain's suspend record (abi/suspend.ts), from start_info; read once the kernel is known. */
function readResume(view) {
    const si = new DataView(view.buffers.memory, PFN_START_INFO * PAGE_SIZE, PAGE_SIZE);
    if ((si.getUint32(SI_FLAGS, true) & SIF_XENODE_RESUMED) === 0)
        return undefined;
    return { pfn: Number(si.getBigUint64(SI_MOD_START, true)), bytes: Number(si.getBigUint64(SI_MOD_LEN, true)) };
}
/** Boot the guest; returns its upcall loop (a driven loop's turn runs it) once the boot started. */
export function startGuest(p) {
    const marks = { booted: now() };
    const { hc } = p;
    const view = hc.memory;
    const si = readStartInfo(view);
    let down = false;
    let label = `d${view.domid}`;
    const loop = new UpcallLoop(view, { ...p.loop, onError: (e) => void crash(e) });
    const front = new ConsoleFront(view.frame(si.consolePfn), new BoundPort(hc, loop, si.consolePort));
    const pv = pvConsole(front);
    Object.defineProperty(globalThis, 'console', { value: pv.console, writable: true, configurable: true });
    async function shutdown(reason) {
        if (!down) {
            down = true;
            // The console daemon drains the ring before the domain goes; make sure it is all there.
            // Output larger than the ring moves only as the daemon's events come in, so the upcall
            // loop stops after the flush, not before.
            await Promise.race([front.flush(), new Promise((r) => setTimeout(r, 1000))]);
            loop.stop();
            await hc.shutdown(reason).catch(() => { });
        }
        return p.deschedule();
    }
    async function crash(err) {
        if (down)
            return;
        const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `uncaught value: ${String(err)}`;
        front.write(`\n[${label}] guest crashed: ${text}\n`);
        await shutdown('crash');
    }
    p.onUncaught((e) => void crash(e));
    const run = async () => {
        try {
            // Link the kernel while the platform comes up: nothing below depends on it.
            let kernelLoaded = p.loadKernel() ?? undefined;
            kernelLoaded?.catch(() => { });
            // Runs until the first event wait; blocks right here while the domain is still paused.
            loop.start();
            const time = new GuestTime(hc);
            const timerBound = hc.evtchnBindVirq(VIRQ_TIMER).then((port) => loop.on(port, () => time.onTimer()));
            const xs = new XenstoreClient(new XenstoreRingClient({ page: view.frame(si.storePfn), evtchn: new BoundPort(hc, loop, si.storePort) }));
            // A suspend asked for before the runtime is up is carried out once it is.
            let suspender;
            let suspendAsked = false;
            const lifecycle = new GuestLifecycle(xs, (r) => void shutdown(r), () => (suspender ? void suspender.suspend() : (suspendAsked = true)));
            // The watch fires once when set, so a request made before it is in place is not lost.
            lifecycle.start().catch((e) => void crash(e));
            let name;
            let uuid;
            if (kernelLoaded === undefined) {
                // A shell: the platform is up; what makes it a guest (name, command line, kernel) comes
                // when the toolstack claims it.
                await timerBound;
                if (!p.park)
                    throw new Error('no kernel, and this platform has no shells');
                const claim = await p.park();
                marks.handed = now();
                kernelLoaded = claim.load();
                kernelLoaded.catch(() => { });
                ({ name, uuid } = claim);
            }
            else {
                const [n, vm] = await Promise.all([xs.read('name'), xs.readOptional('vm'), timerBound]);
                name = n;
                uuid = vm?.split('/').pop() ?? '';
            }
            marks.named = now();
            label = name;
            // Resumed from a save or migration: the old runtime's RAM is freed, the program's kept.
            const resume = readResume(view);
            const record = resume ? resumeRecord(hc, resume.pfn, resume.bytes) : undefined;
            const io = ioPages(hc, record?.io);
            const sus = new Suspender({
                hc, handler: () => lifecycle.suspendHandler, ioRanges: () => io.ranges(), flushConsole: () => front.flush(),
                log: (line) => front.write(`[${label}] ${line}\n`),
            });
            suspender = sus;
            if (suspendAsked)
                void sus.suspend();
            const evtchn = eventChannels(hc, loop);
            const net = netDevices({ hc, evtchn, xs }, view.domid, (p) => sus.trackDevice(p));
            const os = {
                domid: view.domid,
                name,
                uuid,
                cmdline: readCmdline(view),
                console: pv.consoleApi,
                xenstore: xs,
                time,
                lifecycle,
                xen: hc,
                evtchn,
                block: blockDevices({ hc, evtchn, xs }, view.domid, (p) => sus.trackDevice(p)),
                net,
                tcpip: tcpipStacks(net, time, vifAddress(xs, view.domid), (p) => sus.trackStack(p)),
                io,
                resumed: record?.hasState ? record.state : undefined,
                shutdown: ((reason) => (reason === 'suspend' ? sus.suspend() : shutdown(reason))),
            };
            const kernel = await kernelLoaded;
            marks.linked = now();
            if (typeof kernel.default !== 'function')
                throw new Error('the kernel does not export a default main(os) function');
            p.mainCalled(marks);
            await kernel.default(os);
            await shutdown('poweroff');
        }
        catch (e) {
            await crash(e);
        }
    };
    void run();
    return loop;
}
//# sourceMappingURL=start.js.map