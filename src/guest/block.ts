// os.block: the guest's block devices, found under its device/vbd directory and connected
// (blkfront) on first use, so a guest that never touches a disk pays nothing at boot.
import type { BlkFront, BlkfrontOptions } from '../drivers/blk/front/blkfront.js';
import type { Block } from '../drivers/blk/front/block.js';
import type { DriverContext } from '../drivers/evtchn.js';
import { XenError, isXenError } from '../errors.js';

export type OpenBlock = (vdev?: string, opts?: BlkfrontOptions) => Promise<Block>;

export function blockDevices(ctx: DriverContext, domid: number): OpenBlock {
  const base = `/local/domain/${domid}/device/vbd`;
  const open = new Map<number, Promise<BlkFront>>();

  /** The device number and name of `vdev` (a name the toolstack wrote as the backend's dev, or a number); the first disk if absent. */
  async function find(vdev: string | undefined): Promise<[number, string]> {
    const ids = (await ctx.xs.directory(base).catch((e: unknown) => {
      if (isXenError(e, 'ENOENT')) return [] as string[];
      throw e;
    })).filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
    for (const devid of ids) {
      const be = await ctx.xs.readOptional(`${base}/${devid}/backend`);
      const name = (be && (await ctx.xs.readOptional(`${be}/dev`))) || String(devid);
      if (vdev === undefined || vdev === name || vdev === String(devid)) return [devid, name];
    }
    throw new XenError('ENOENT', vdev === undefined ? 'this domain has no block device' : `this domain has no block device ${vdev}`);
  }

  return async (vdev, opts) => {
    const [devid, name] = await find(vdev);
    const cur = open.get(devid);
    if (cur) {
      const f = await cur.catch(() => null);
      if (f && f.status !== 'closed') return f;
    }
    // blkfront loads when a disk is first opened: a guest without one never parses it.
    const p = import('../drivers/blk/front/blkfront.js').then(({ BlkFront }) => BlkFront.connect(ctx, domid, devid, name, opts));
    open.set(devid, p);
    p.catch(() => open.delete(devid));
    return p;
  };
}
