// os.tcpip: a TCP/IP stack (src/tcpip) on one of the guest's vifs, made on first use; its
// timers run on os.time. Configured from `ip` when the program gives it, else from the vif's
// ip= as the toolstack wrote it to xenstore, else by DHCP.
import { clockFromTime } from '../tcpip/clock.js';
/**
 * The vif's ip= from xenstore: libxl writes it (a space-separated list, each address with an
 * optional /prefix) to the backend's `ip` node, which the frontend may read; the first IPv4
 * address is ours. `netmask` and `gateway` beside it are xenode's (libxl has no such vif keys;
 * the /prefix form is the portable way to give a netmask).
 */
export function vifAddress(xs, domid) {
    return async (devid) => {
        const be = await xs.readOptional(`/local/domain/${domid}/device/vif/${devid}/backend`);
        if (!be)
            return undefined;
        const [list, netmask, gateway] = await Promise.all(['ip', 'netmask', 'gateway'].map((k) => xs.readOptional(`${be}/${k}`)));
        const ip = list?.split(' ').find((a) => /^[0-9.]+(\/[0-9]+)?$/.test(a));
        if (!ip)
            return undefined;
        return { ip, ...(netmask && { netmask }), ...(gateway && { gateway }) };
    };
}
/** `track` learns of every stack made (the runtime announces their addresses after a resume). */
export function tcpipStacks(openNet, time, readVifAddress, track) {
    const stacks = new Map();
    return (opts = {}) => {
        const cur = stacks.get(opts.devid);
        if (cur)
            return cur;
        const p = (async () => {
            const { devid, ip, dns, dhcpTimeoutMs, ...stackOpts } = opts;
            // The stack loads on first use: a guest that never asks for it never parses it.
            const [{ createStack }, { parseIpv4 }] = await Promise.all([import('../tcpip/stack.js'), import('../tcpip/addr.js')]);
            const servers = dns?.map(parseIpv4);
            const net = await openNet(devid);
            const stack = createStack(net, { ...stackOpts, clock: clockFromTime(time) });
            try {
                const address = ip ?? (await readVifAddress?.(net.devid));
                if (address)
                    stack.configure(address);
                else
                    await stack.dhcp(dhcpTimeoutMs);
                if (servers)
                    stack.resolver.servers = servers;
            }
            catch (e) {
                stack.stop();
                throw e;
            }
            return stack;
        })();
        stacks.set(opts.devid, p);
        track?.(p);
        p.catch(() => stacks.delete(opts.devid));
        return p;
    };
}
//# sourceMappingURL=tcpip.js.map