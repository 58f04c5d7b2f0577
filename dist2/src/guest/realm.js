// The library OS of one domain on a shared pCPU, in the domain's own realm (a node:vm context
// with its own globals): the pCPU thread (pcpu.ts) evaluates this image once per realm and
// calls boot(). From there the boot is a PV kernel's as on a thread of its own (start.ts); what
// differs is that the realm waits for nothing itself: the pCPU runs its timers, control-plane
// replies and event upcalls in the domain's turns (the functions boot returns).
import { fireTimer, host, onUncaught, runImmediates } from './realm/globals.js';
import { Buffer } from 'node:buffer';
import { GrantError } from '../abi/grant_table.js';
import { XenError } from '../errors.js';
import { onKilledAtGate } from '../hypervisor/gate.js';
import { Hypercalls } from '../hypervisor/hypercalls.js';
import * as xenode from './library.js';
import { RealmUnsupported } from './realm/refused.js';
import { startGuest } from './start.js';
/** The few parts of Node's modules a kernel in a realm gets: realm copies, or pure functions of the host's. */
const REALM_BUILTINS = {
    buffer: { Buffer },
    zlib: { crc32: (data, value = 0) => host.crc32(typeof data === 'string' ? Buffer.from(data) : data, value) },
};
Object.defineProperty(globalThis, 'Buffer', { value: Buffer, writable: true, configurable: true });
class DomainKilled extends Error {
    name = 'DomainKilled';
}
export function boot(buffers, kernel) {
    // Blocking at the gate would block the pool mates: end the turn instead (gate.ts).
    onKilledAtGate(() => {
        throw new DomainKilled('the domain is being destroyed');
    });
    const pending = new Map();
    let next = 1;
    const channel = {
        call(op, ...args) {
            const id = next++;
            return new Promise((resolve, reject) => {
                pending.set(id, { resolve: resolve, reject });
                host.control(id, op, ...args);
            });
        },
    };
    const hc = new Hypercalls(buffers, channel);
    const requireOf = (id) => {
        const builtin = REALM_BUILTINS[id.replace(/^node:/, '')];
        if (id === 'xenode')
            return xenode;
        if (builtin)
            return builtin;
        throw new RealmUnsupported(`Node's ${id}`);
    };
    let crash = () => { };
    const loop = startGuest({
        hc,
        loop: { pausable: false, driven: true },
        loadKernel: async () => {
            // Its top level runs after the pCPU reported the realm placed, in a turn the watchdog watches.
            await null;
            const module = { exports: {} };
            kernel(module.exports, requireOf, module);
            return module.exports;
        },
        mainCalled: () => host.mainCalled(),
        onUncaught: (fn) => {
            crash = fn;
            onUncaught(fn);
        },
        deschedule: () => {
            host.halt();
            return new Promise(() => { });
        },
    });
    const guard = (fn, none) => (...a) => {
        try {
            return fn(...a);
        }
        catch (e) {
            crash(e);
            return none;
        }
    };
    return {
        timer: guard(fireTimer, undefined),
        reply: guard((id, ok, value, kind, code, message) => {
            const p = pending.get(id);
            if (!p)
                return;
            pending.delete(id);
            if (ok)
                p.resolve(value);
            else if (kind === 'grant')
                p.reject(new GrantError(Number(code), String(message)));
            else
                p.reject(new XenError(String(code), String(message)));
        }, undefined),
        push: guard((grant) => hc.adoptPeer(grant), undefined),
        immediates: guard(runImmediates, undefined),
        upcall: guard(() => loop.runPending(), false),
        uncaught: (reason) => crash(reason),
    };
}
//# sourceMappingURL=realm.js.map