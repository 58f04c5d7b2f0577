// os.net: the guest's network interfaces, found under its device/vif directory and connected
// (netfront) on first use, so a guest that never touches a vif pays nothing at boot.
import type { DriverContext } from '../drivers/evtchn.js';
import type { Net } from '../drivers/net/front/net.js';
import type { NetFront, NetfrontOptions } from '../drivers/net/front/netfront.js';
import { XenError, isXenError } from '../errors.js';

export type OpenNet = (devid?: number, opts?: NetfrontOptions) => Promise<Net>;

const loadNetfront = () => import('../drivers/net/front/netfront.js');

/** Whether the domain has a vif (xs relative to its home). */
export async function hasVifs(xs: DriverContext['xs']): Promise<boolean> {
  return (await xs.directory('device/vif').catch(() => [] as string[])).length > 0;
}

/** Load and compile netfront ahead of its first use (a restored runtime, while it waits for its state). */
export function preloadNetfront(): Promise<unknown> {
  return loadNetfront();
}

/** The domain's vifs, in order. */
async function vifIds(ctx: DriverContext, domid: number): Promise<number[]> {
  const names = await ctx.xs.directory(`/local/domain/${domid}/device/vif`).catch((e: unknown) => {
    if (isXenError(e, 'ENOENT')) return [] as string[];
    throw e;
  });
  return names.filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
}

/**
 * An incoming migration's parked runtime, before its frames are its own: every vif's handshake
 * as far as it goes without the rings (NetFront.hold), so that the resume only makes the rings
 * and waits for the backend's answer. Those that fail are connected afresh at the resume.
 */
export async function holdVifs(ctx: DriverContext, domid: number): Promise<NetFront[]> {
  const { NetFront } = await loadNetfront();
  const held = await Promise.allSettled((await vifIds(ctx, domid).catch(() => [])).map((id) => NetFront.hold(ctx, domid, id)));
  return held.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

/**
 * After a resume elsewhere: connect every vif at once, as Linux's frontends reconnect on resume,
 * so the handshake with the new backends runs while the program starts rather than after it
 * asks (os.net then hands out the connected device, with the default options). Errors are the
 * program's to see when it opens the device. With `held` (holdVifs), those are the vifs (one
 * whose hold failed connects when the program opens it). Resolves once every vif has settled.
 */
export async function reconnectVifs(ctx: DriverContext, domid: number, open: OpenNet, held: readonly NetFront[] = []): Promise<void> {
  const ids = held.length ? held.map((f) => f.devid) : await vifIds(ctx, domid).catch(() => []);
  await Promise.allSettled(ids.map((id) => open(id)));
}

/** Vifs connected before the domain had a name: a parked shell's (preconnectVifs). */
export type EarlyVifs = Promise<ReadonlyMap<number, Promise<NetFront>>>;

/**
 * A parked shell with vifs (the toolstack's vif shells) connects them while it waits, so that
 * a summoned guest's first os.net() finds its rings up. Their MACs are read again once the
 * shell is claimed (netDevices).
 */
export async function preconnectVifs(ctx: DriverContext, domid: number): EarlyVifs {
  const ids = await vifIds(ctx, domid).catch(() => [] as number[]);
  if (ids.length === 0) return new Map();
  const { NetFront } = await loadNetfront();
  return new Map(ids.map((id) => {
    const p = NetFront.connect(ctx, domid, id);
    p.catch(() => {}); // its open() sees the error, and connects again
    return [id, p];
  }));
}

/**
 * `track` learns of every device opened (the runtime quiesces them for a suspend). `early`:
 * vifs a parked shell connected before the claim, handed out first, each with the MAC the
 * create wrote. `held`: devices an incoming migration's parked runtime took as far as it could
 * (holdVifs), which their first open completes.
 */
export function netDevices(ctx: DriverContext, domid: number, track?: (f: Promise<NetFront>) => void, early?: EarlyVifs,
  held: readonly NetFront[] = []): OpenNet {
  const open = new Map<number, Promise<NetFront>>();
  const waiting = new Map(held.map((f) => [f.devid, f]));
  const adopt = (id: number, p: Promise<NetFront>) => {
    open.set(id, p);
    track?.(p);
    p.catch(() => open.delete(id));
  };
  // Now, not at the first open: the MAC is read while the kernel links, and the vif list with it
  // (one flight), for the first open.
  const adopted = early?.then((m) => {
    for (const [id, f] of m) adopt(id, f.then(async (nf) => (await nf.readMac(), nf)));
  }, () => {});
  let listed = early?.then(() => vifIds(ctx, domid));
  listed?.catch(() => {});

  /** `devid` if this domain has it, else (when absent) its first vif. */
  async function find(devid: number | undefined): Promise<number> {
    const pick = (ids: number[]) => (devid === undefined ? ids[0] : ids.find((i) => i === devid));
    const ahead = listed;
    listed = undefined;
    // The list read at the claim answers if it has the vif (one hot-plugged since then is read afresh).
    const found = (ahead && pick(await ahead.catch(() => []))) ?? pick(await vifIds(ctx, domid));
    if (found === undefined) throw new XenError('ENOENT', devid === undefined ? 'this domain has no network interface' : `this domain has no network interface ${devid}`);
    return found;
  }

  return async (devid, opts) => {
    await adopted;
    const id = devid !== undefined && waiting.has(devid) ? devid : await find(devid);
    const cur = open.get(id);
    if (cur) {
      const f = await cur.catch(() => null);
      if (f && f.status !== 'closed') return f;
    }
    const h = waiting.get(id);
    waiting.delete(id);
    // netfront loads when a vif is first opened: a guest without one never parses it.
    const p = h ? h.proceed(opts) : loadNetfront().then(({ NetFront }) => NetFront.connect(ctx, domid, id, opts));
    adopt(id, p);
    return p;
  };
}
