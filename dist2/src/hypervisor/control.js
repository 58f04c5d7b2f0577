import { GrantError } from '../abi/grant_table.js';
import { XenError } from '../errors.js';
const OPS = new Set([
    'allocUnbound', 'bindInterdomain', 'bindVirq', 'close', 'status', 'setupTable', 'peer', 'shutdown',
]);
export function directChannel(plane) {
    return {
        call(op, ...args) {
            try {
                return Promise.resolve(plane[op](...args));
            }
            catch (e) {
                return Promise.reject(e);
            }
        },
    };
}
/** The vCPU side: requests out, replies matched by id. */
export function portChannel(port) {
    let next = 1;
    const pending = new Map();
    let pushHandler = () => { };
    port.on('message', (msg) => {
        if ('push' in msg)
            return pushHandler(msg.push);
        const p = pending.get(msg.id);
        if (!p)
            return;
        pending.delete(msg.id);
        if (msg.ok)
            p.resolve(msg.value);
        else if (msg.kind === 'grant')
            p.reject(new GrantError(msg.status, msg.message));
        else
            p.reject(new XenError(msg.errno, msg.message));
    });
    return {
        call(op, ...args) {
            const id = next++;
            return new Promise((resolve, reject) => {
                pending.set(id, { resolve: resolve, reject });
                port.postMessage({ id, op, args });
            });
        },
        onPush(fn) {
            pushHandler = fn;
        },
    };
}
const MAX_ARGS = 4;
function isScalarArg(a) {
    return typeof a === 'number' || (typeof a === 'string' && a.length <= 64);
}
/**
 * Control operations a domain may ask per second, and in one burst. Each costs dom0's thread
 * a message and a reply; a domain that asks for more than any driver needs is flooding dom0.
 */
export const CONTROL_RATE = 20_000;
export const CONTROL_BURST = 4_000;
/**
 * The authority side: serve one domain's control port. Anything malformed is refused. `clock`
 * is the bucket's time source; tests freeze it, since a loaded machine refills the bucket.
 */
export function serveControlPort(port, plane, onFlood = () => { }, clock = () => performance.now()) {
    let tokens = CONTROL_BURST;
    let last = clock();
    let flooded = false;
    port.on('message', (msg) => {
        if (flooded)
            return;
        const now = clock();
        tokens = Math.min(CONTROL_BURST, tokens + ((now - last) * CONTROL_RATE) / 1000);
        last = now;
        if (--tokens < 0) {
            flooded = true;
            port.close();
            onFlood();
            return;
        }
        const req = msg;
        if (!req || typeof req.id !== 'number' || typeof req.op !== 'string' || !Array.isArray(req.args))
            return;
        const { id, op, args } = req;
        let reply;
        try {
            if (!OPS.has(op))
                throw new XenError('ENOSYS', `unknown control operation ${op.slice(0, 64)}`);
            // Every operation takes a few numbers or a short string. Anything else is refused before
            // dom0's thread spends time on it (spreading a huge array, formatting a huge value).
            if (args.length > MAX_ARGS || !args.every(isScalarArg))
                throw new XenError('EINVAL', `malformed arguments to ${op}`);
            const value = plane[op](...args);
            // Only a suspend answers later (when the domain is resumed): the vCPU waits in the call.
            if (value instanceof Promise) {
                value.then((v) => port.postMessage({ id, ok: true, value: v }), (e) => port.postMessage(errorReply(id, e)));
                return;
            }
            reply = { id, ok: true, value };
        }
        catch (e) {
            reply = errorReply(id, e);
        }
        port.postMessage(reply);
    });
}
function errorReply(id, e) {
    if (e instanceof GrantError)
        return { id, ok: false, kind: 'grant', status: e.status, message: e.detail };
    if (e instanceof XenError)
        return { id, ok: false, kind: 'xen', errno: e.errno, message: e.detail };
    return { id, ok: false, kind: 'xen', errno: 'EINVAL', message: String(e?.message ?? e) };
}
//# sourceMappingURL=control.js.map