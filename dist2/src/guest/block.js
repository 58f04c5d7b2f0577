import { XenError, isXenError } from '../errors.js';
/** `track` learns of every device opened (the runtime quiesces them for a suspend). */
export function blockDevices(ctx, domid, track) {
    const base = `/local/domain/${domid}/device/vbd`;
    const open = new Map();
    /** The device number and name of `vdev` (a name the toolstack wrote as the backend's dev, or a number); the first disk if absent. */
    async function find(vdev) {
        const ids = (await ctx.xs.directory(base).catch((e) => {
            if (isXenError(e, 'ENOENT'))
                return [];
            throw e;
        })).filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
        for (const devid of ids) {
            const be = await ctx.xs.readOptional(`${base}/${devid}/backend`);
            const name = (be && (await ctx.xs.readOptional(`${be}/dev`))) || String(devid);
            if (vdev === undefined || vdev === name || vdev === String(devid))
                return [devid, name];
        }
        throw new XenError('ENOENT', vdev === undefined ? 'this domain has no block device' : `this domain has no block device ${vdev}`);
    }
    return async (vdev, opts) => {
        const [devid, name] = await find(vdev);
        const cur = open.get(devid);
        if (cur) {
            const f = await cur.catch(() => null);
            if (f && f.status !== 'closed')
                return f;
        }
        // blkfront loads when a disk is first opened: a guest without one never parses it.
        const p = import('../drivers/blk/front/blkfront.js').then(({ BlkFront }) => BlkFront.connect(ctx, domid, devid, name, opts));
        open.set(devid, p);
        track?.(p);
        p.catch(() => open.delete(devid));
        return p;
    };
}
//# sourceMappingURL=block.js.map