// The block backend service of a backend domain (drivers/devd.ts): for every vbd the toolstack
// creates it opens the disk named by `params` and starts a blkback on it.
import type { Disk } from '../../../storage/disk.js';
import { VDI_UUID_KEY, openDisk as openDiskDefault } from '../../../storage/open.js';
import { BackendDaemon } from '../../devd.js';
import type { DriverContext } from '../../evtchn.js';
import { BlkBack, type BlkbackOptions } from './blkback.js';

export { HOTPLUG_ERROR, HOTPLUG_STATUS } from '../../devd.js';

export interface BlkbackDaemonOptions {
  readonly blkback?: BlkbackOptions;
  /** How `params` becomes a disk (default: storage/open.ts). */
  readonly openDisk?: (params: string, opts: { readOnly: boolean; vdi?: boolean }) => Promise<Disk>;
}

export class BlkbackDaemon extends BackendDaemon<BlkBack> {
  static async start(ctx: DriverContext, domid: number, opts: BlkbackDaemonOptions = {}): Promise<BlkbackDaemon> {
    const d = new BlkbackDaemon(ctx, domid, 'vbd', async (c, dir) => {
      const [params, mode, vdi] = await Promise.all([c.xs.read(`${dir}/params`), c.xs.readOptional(`${dir}/mode`), c.xs.readOptional(`${dir}/${VDI_UUID_KEY}`)]);
      const readOnly = mode !== 'w';
      // A VDI's image: its chain stays in its SR (a found image's locator cannot lead to a host file).
      const disk = await (opts.openDisk ?? openDiskDefault)(params, { readOnly, ...(vdi !== undefined && { vdi: true }) });
      try {
        return await BlkBack.start(c, dir, disk, opts.blkback);
      } catch (e) {
        await disk.close().catch(() => {});
        throw e;
      }
    });
    await d.watch();
    return d;
  }
}
