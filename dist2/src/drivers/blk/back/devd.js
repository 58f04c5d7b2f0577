import { openDisk as openDiskDefault } from '../../../storage/open.js';
import { BackendDaemon } from '../../devd.js';
import { BlkBack } from './blkback.js';
export { HOTPLUG_ERROR, HOTPLUG_STATUS } from '../../devd.js';
export class BlkbackDaemon extends BackendDaemon {
    static async start(ctx, domid, opts = {}) {
        const d = new BlkbackDaemon(ctx, domid, 'vbd', async (c, dir) => {
            const params = await c.xs.read(`${dir}/params`);
            const readOnly = (await c.xs.readOptional(`${dir}/mode`)) !== 'w';
            const disk = await (opts.openDisk ?? openDiskDefault)(params, { readOnly });
            try {
                return await BlkBack.start(c, dir, disk, opts.blkback);
            }
            catch (e) {
                await disk.close().catch(() => { });
                throw e;
            }
        });
        await d.watch();
        return d;
    }
}
//# sourceMappingURL=devd.js.map