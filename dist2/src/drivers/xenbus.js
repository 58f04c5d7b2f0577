// xenbus for split drivers (DESIGN.md §5): where a device's frontend and backend nodes live,
// the `state` node of each end (xen/io/xenbus.h), and strict parsing of what the other end
// wrote. Block and network drivers share it.
import { XenbusState, parseXenbusState } from '../abi/xenbus.js';
import { XenError } from '../errors.js';
/** `/local/domain/<domid>/device/<type>/<devid>` */
export function frontendPath(domid, type, devid) {
    return `/local/domain/${domid}/device/${type}/${devid}`;
}
/** `/local/domain/<backendDomid>/backend/<type>/<frontendDomid>/<devid>` */
export function backendPath(backendDomid, type, frontendDomid, devid) {
    return `/local/domain/${backendDomid}/backend/${type}/${frontendDomid}/${devid}`;
}
/** XEN_IO_PROTO_ABI_NATIVE for x86_64, the only ABI the ring layouts here follow. */
export const XEN_IO_PROTO_ABI_NATIVE = 'x86_64-abi';
/**
 * The `state` of the end at `dir`; XenbusState.Unknown when the node is gone or unreadable
 * (xenbus_read_driver_state's answer), and Unknown too for a value that is not a state, so a
 * peer's garbage reads as "not there" rather than as some state.
 */
export async function readState(xs, dir) {
    try {
        const v = await xs.readOptional(`${dir}/state`);
        return v === undefined ? XenbusState.Unknown : parseXenbusState(v);
    }
    catch {
        return XenbusState.Unknown;
    }
}
export async function switchState(xs, dir, state) {
    await xs.write(`${dir}/state`, String(state));
}
/**
 * Call `handler` with the other end's state now and after every change, one call at a time and
 * in order (each reads the current value, so a burst of changes may be seen as its last one).
 * Returns a function that stops watching.
 */
export async function watchState(xs, dir, handler, onError) {
    let chain = Promise.resolve();
    let stopped = false;
    const w = await xs.watch(`${dir}/state`, () => {
        chain = chain.then(async () => {
            if (stopped)
                return;
            const s = await readState(xs, dir);
            if (!stopped)
                await handler(s);
        }).catch(onError);
    });
    return async () => {
        stopped = true;
        await w.unwatch().catch(() => { });
    };
}
/** A decimal unsigned integer the other end wrote, checked against `max`; `def` when absent. */
export async function readUint(xs, path, max, def) {
    const v = await xs.readOptional(path);
    if (v === undefined) {
        if (def === undefined)
            throw new XenError('ENOENT', `${path} is missing`);
        return def;
    }
    return parseUint(v, path, max);
}
export function parseUint(v, what, max) {
    if (!/^[0-9]{1,20}$/.test(v) || Number(v) > max) {
        throw new XenError('EINVAL', `${what} = ${JSON.stringify(v.slice(0, 32))} is not an integer in 0..${max}`);
    }
    return Number(v);
}
/** A 0/1 feature flag; anything but "1" counts as off (blkif.h's default for absent keys is 0). */
export async function readFlag(xs, path) {
    return (await xs.readOptional(path)) === '1';
}
//# sourceMappingURL=xenbus.js.map