// os.net: the guest's network interfaces, found under its device/vif directory and connected
// (netfront) on first use, so a guest that never touches a vif pays nothing at boot.
import type { DriverContext } from '../drivers/evtchn.js';
import type { Net } from '../drivers/net/front/net.js';
import type { NetFront, NetfrontOptions } from '../drivers/net/front/netfront.js';
import { XenError, isXenError } from '../errors.js';

export type OpenNet = (devid?: number, opts?: NetfrontOptions) => Promise<Net>;

export function netDevices(ctx: DriverContext, domid: number): OpenNet {
  const base = `/local/domain/${domid}/device/vif`;
  const open = new Map<number, Promise<NetFront>>();

  /** `devid` if this domain has it, else (when absent) its first vif. */
  async function find(devid: number | undefined): Promise<number> {
    const ids = (await ctx.xs.directory(base).catch((e: unknown) => {
      if (isXenError(e, 'ENOENT')) return [] as string[];
      throw e;
    })).filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
    const found = devid === undefined ? ids[0] : ids.find((i) => i === devid);
    if (found === undefined) throw new XenError('ENOENT', devid === undefined ? 'this domain has no network interface' : `this domain has no network interface ${devid}`);
    return found;
  }

  return async (devid, opts) => {
    const id = await find(devid);
    const cur = open.get(id);
    if (cur) {
      const f = await cur.catch(() => null);
      if (f && f.status !== 'closed') return f;
    }
    // netfront loads when a vif is first opened: a guest without one never parses it.
    const p = import('../drivers/net/front/netfront.js').then(({ NetFront }) => NetFront.connect(ctx, domid, id, opts));
    open.set(id, p);
    p.catch(() => open.delete(id));
    return p;
  };
}
