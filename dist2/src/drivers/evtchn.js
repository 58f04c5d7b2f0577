import { BoundPort, bindInterdomain } from '../hypervisor/port.js';
export function eventChannels(hc, loop) {
    return {
        async allocUnbound(remoteDom) {
            return new BoundPort(hc, loop, await hc.evtchnAllocUnbound(remoteDom));
        },
        bindInterdomain: (remoteDom, remotePort) => bindInterdomain(hc, loop, remoteDom, remotePort),
    };
}
//# sourceMappingURL=evtchn.js.map