// Host port forward specs: PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT (QEMU's hostfwd, in the order
// `xenode network-forward` and the `forward = [ ... ]` config key spell it). 127.0.0.1 unless an
// address is given: a forward is reachable from other machines only when asked for.
import { isIPv4 } from 'node:net';
import { XenError } from '../../errors.js';
export const FORWARD_DEFAULT_ADDRESS = '127.0.0.1';
export class ForwardSpecError extends XenError {
    spec;
    reason;
    name = 'ForwardSpecError';
    constructor(spec, reason) {
        super('EINVAL', `forward '${spec.slice(0, 80)}': ${reason}`);
        this.spec = spec;
        this.reason = reason;
    }
}
function port(spec, s, what) {
    if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535)
        throw new ForwardSpecError(spec, `${what} must be a port number 1..65535, not '${s}'`);
    return Number(s);
}
export function parseForwardSpec(spec) {
    const parts = spec.trim().split(':');
    const proto = parts[0]?.toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp')
        throw new ForwardSpecError(spec, "expected tcp:HOSTPORT:GUESTPORT or udp:..., optionally tcp:HOSTADDR:HOSTPORT:GUESTPORT");
    if (parts.length !== 3 && parts.length !== 4)
        throw new ForwardSpecError(spec, 'expected PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT');
    const hostAddress = parts.length === 4 ? parts[1] : FORWARD_DEFAULT_ADDRESS;
    if (!isIPv4(hostAddress))
        throw new ForwardSpecError(spec, `host address '${hostAddress}' is not an IPv4 address`);
    return { proto, hostAddress, hostPort: port(spec, parts.at(-2), 'the host port'), guestPort: port(spec, parts.at(-1), 'the guest port') };
}
export function formatForwardSpec(f) {
    return `${f.proto}:${f.hostAddress === FORWARD_DEFAULT_ADDRESS ? '' : `${f.hostAddress}:`}${f.hostPort}:${f.guestPort}`;
}
//# sourceMappingURL=forwardspec.js.map