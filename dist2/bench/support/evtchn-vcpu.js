// The worker side of bench/evtchn.ts: a domain's vCPU built from a boot message as the real
// bootstrap builds it (Hypercalls over its control port, peers pushed on it, the UpcallLoop),
// plus the bare Atomics ping-pongs the event channel is compared with, run on the same threads.
import { parentPort } from 'node:worker_threads';
import { portChannel } from '../../src/hypervisor/control.js';
import { Hypercalls } from '../../src/hypervisor/hypercalls.js';
import { HALT_POLL_MAX_US, UpcallLoop } from '../../src/hypervisor/upcall.js';
import { serveRequests } from './harness.js';
let hc;
let loop;
/** Ping-pong with a thread that sleeps in Atomics.wait: the pinger returns its round trips in ms. */
function bareWait({ role, sab, rounds }) {
    const w = new Int32Array(sab);
    const samples = new Float64Array(rounds);
    for (let i = 1; i <= rounds; i++) {
        if (role === 'ping') {
            const t0 = performance.now();
            Atomics.store(w, 0, i);
            Atomics.notify(w, 0);
            while (Atomics.load(w, 1) !== i)
                Atomics.wait(w, 1, i - 1);
            samples[i - 1] = performance.now() - t0;
        }
        else {
            while (Atomics.load(w, 0) !== i)
                Atomics.wait(w, 0, i - 1);
            Atomics.store(w, 1, i);
            Atomics.notify(w, 1);
        }
    }
    return role === 'ping' ? samples : null;
}
/** The same with Atomics.waitAsync, which is how the upcall loop sleeps. */
async function bareWaitAsync({ role, sab, rounds }) {
    const w = new Int32Array(sab);
    const samples = new Float64Array(rounds);
    const until = async (index, value) => {
        while (Atomics.load(w, index) !== value) {
            const r = Atomics.waitAsync(w, index, value - 1);
            if (r.async)
                await r.value;
        }
    };
    for (let i = 1; i <= rounds; i++) {
        if (role === 'ping') {
            const t0 = performance.now();
            Atomics.store(w, 0, i);
            Atomics.notify(w, 0);
            await until(1, i);
            samples[i - 1] = performance.now() - t0;
        }
        else {
            await until(0, i);
            Atomics.store(w, 1, i);
            Atomics.notify(w, 1);
        }
    }
    return role === 'ping' ? samples : null;
}
/** Round trips through an interdomain event channel; the far end runs `pong` on its port. */
function evtchnPing({ port, rounds }) {
    const samples = new Float64Array(rounds);
    let i = 0;
    let t0 = 0;
    return new Promise((resolve) => {
        loop.on(port, () => {
            const t = performance.now();
            samples[i++] = t - t0;
            if (i === rounds) {
                loop.off(port);
                resolve(samples);
                return;
            }
            t0 = t;
            hc.evtchnSend(port);
        });
        t0 = performance.now();
        hc.evtchnSend(port);
    });
}
serveRequests(parentPort, {
    boot({ buffers, control }) {
        const channel = portChannel(control);
        hc = new Hypercalls(buffers, channel);
        channel.onPush((g) => hc.adoptPeer(g));
        loop = new UpcallLoop(hc.memory, {
            pausable: true,
            haltPollUs: HALT_POLL_MAX_US, // as the guest bootstrap sets it (the bench always awaits an event)
            onError: (e) => {
                throw e;
            },
        });
        loop.start();
        return null;
    },
    hc: ({ method, args }) => hc[method].apply(hc, args),
    pong({ port }) {
        loop.on(port, () => hc.evtchnSend(port));
        return null;
    },
    ping: evtchnPing,
    wait: bareWait,
    waitAsync: bareWaitAsync,
});
//# sourceMappingURL=evtchn-vcpu.js.map