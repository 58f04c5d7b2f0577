import { XenError, isXenError } from '../errors.js';
/** `track` learns of every device opened (the runtime quiesces them for a suspend). */
export function netDevices(ctx, domid, track) {
    const base = `/local/domain/${domid}/device/vif`;
    const open = new Map();
    /** `devid` if this domain has it, else (when absent) its first vif. */
    async function find(devid) {
        const ids = (await ctx.xs.directory(base).catch((e) => {
            if (isXenError(e, 'ENOENT'))
                return [];
            throw e;
        })).filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
        const found = devid === undefined ? ids[0] : ids.find((i) => i === devid);
        if (found === undefined)
            throw new XenError('ENOENT', devid === undefined ? 'this domain has no network interface' : `this domain has no network interface ${devid}`);
        return found;
    }
    return async (devid, opts) => {
        const id = await find(devid);
        const cur = open.get(id);
        if (cur) {
            const f = await cur.catch(() => null);
            if (f && f.status !== 'closed')
                return f;
        }
        // netfront loads when a vif is first opened: a guest without one never parses it.
        const p = import('../drivers/net/front/netfront.js').then(({ NetFront }) => NetFront.connect(ctx, domid, id, opts));
        open.set(id, p);
        track?.(p);
        p.catch(() => open.delete(id));
        return p;
    };
}
//# sourceMappingURL=net.js.map