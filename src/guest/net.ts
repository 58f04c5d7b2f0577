// os.net: the guest's network interfaces, found under its device/vif directory and connected
// (netfront) on first use, so a guest that never touches a vif pays nothing at boot.
import type { DriverContext } from '../drivers/evtchn.js';
import type { Net } from '../drivers/net/front/net.js';
import type { NetFront, NetfrontOptions } from '../drivers/net/front/netfront.js';
import { XenError, isXenError } from '../errors.js';
import { within } from '../within.js';

export type OpenNet = (devid?: number, opts?: NetfrontOptions) => Promise<Net>;

const loadNetfront = () => import('../drivers/net/front/netfront.js');

/** Load and compile netfront ahead of its first use (a restored runtime, while it waits for its state). */
export function preloadNetfront(): Promise<unknown> {
  return loadNetfront();
}

/** The domain's vifs, in order. */
export async function vifIds(ctx: DriverContext, domid: number): Promise<number[]> {
  const names = await ctx.xs.directory(`/local/domain/${domid}/device/vif`).catch((e: unknown) => {
    if (isXenError(e, 'ENOENT')) return [] as string[];
    throw e;
  });
  return names.filter((s) => /^[0-9]+$/.test(s)).map(Number).sort((a, b) => a - b);
}

/** A parked runtime's vifs: every one the domain has, and those whose handshake went as far as it could. */
export interface HeldVifs {
  readonly ids: readonly number[];
  readonly held: NetFront[];
}

/**
 * Every vif's handshake as far as it goes without the rings (NetFront.hold): a parked runtime's,
 * which connects them (connectHeld) once it has RAM for them, before it parks or at its resume.
 * Those that fail are connected afresh when opened; `ids` has them too, so that the first vif
 * is still the lowest devid, held or not. `listed`: the domain's vifs (vifIds), if the caller read them.
 */
export async function holdVifs(ctx: DriverContext, domid: number, listed?: readonly number[]): Promise<HeldVifs> {
  const { NetFront } = await loadNetfront();
  const ids = listed ?? await vifIds(ctx, domid).catch(() => []);
  const held = await Promise.allSettled(ids.map((id) => NetFront.hold(ctx, domid, id)));
  return { ids, held: held.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])) };
}

/**
 * After a resume elsewhere: connect every vif at once, as Linux's frontends reconnect on resume,
 * so the handshake with the new backends runs while the program starts rather than after it
 * asks (os.net then hands out the connected device, with the default options). Errors are the
 * program's to see when it opens the device. `ids`: the vifs, where the parked runtime knew them
 * (holdVifs). Resolves once every vif has settled.
 */
export async function reconnectVifs(ctx: DriverContext, domid: number, open: OpenNet, ids?: readonly number[]): Promise<void> {
  await Promise.allSettled((ids ?? (await vifIds(ctx, domid).catch(() => []))).map((id) => open(id)));
}

/** Vifs connected before the domain had a name: a parked shell's (preconnectVifs), or a parked restore's (connectHeld). */
export type EarlyVifs = Promise<ReadonlyMap<number, Promise<NetFront>>>;

/**
 * Early vifs whose connect has completed, by their connect's promise: a claim that finds its vif
 * here sends its reads at once, ahead of the kernel's main() (a promise's value is two hops away).
 */
const connectedEarly = new WeakMap<Promise<NetFront>, NetFront>();

/** Held vifs (holdVifs) connected now, with the default options: an open() hands each out. */
export function connectHeld(held: readonly NetFront[]): ReadonlyMap<number, Promise<NetFront>> {
  return new Map(held.map((f) => {
    const p = f.proceed();
    p.then((nf) => connectedEarly.set(p, nf), () => {}); // on error, its open() sees it and connects again
    return [f.devid, p];
  }));
}

/** The devids of `connecting` not connected within `ms` (failed, or still at it), in order. */
export async function unconnectedWithin(connecting: ReadonlyMap<number, Promise<NetFront>>, ms: number): Promise<number[]> {
  const connected = new Set<number>();
  const all = [...connecting].map(([id, p]) => p.then(() => void connected.add(id), () => {}));
  await within(Promise.all(all), ms);
  return [...connecting.keys()].filter((id) => !connected.has(id)).sort((a, b) => a - b);
}

/**
 * A parked shell with vifs (the toolstack's vif shells) connects them while it waits, so that
 * a summoned guest's first os.net() finds its rings up. Their MACs are read again once the
 * shell is claimed (netDevices).
 */
export async function preconnectVifs(ctx: DriverContext, domid: number): EarlyVifs {
  return connectHeld((await holdVifs(ctx, domid)).held);
}

export interface NetDeviceOptions {
  /** Learns of every device opened (the runtime quiesces them for a suspend). */
  readonly track?: (f: Promise<NetFront>) => void;
  /** Vifs connected before the claim, handed out first. */
  readonly early?: EarlyVifs;
  /** The early vifs' MACs are read again (a shell's: its create wrote them); a restore's are the ones they had. */
  readonly remac?: boolean;
  /** Devices a parked restore took as far as it could (holdVifs), which their first open completes. */
  readonly held?: readonly NetFront[];
  /**
   * The domain's vifs as the parked runtime listed them (HeldVifs.ids) or its claim told them
   * (KernelMessage.vifs): no list is read ahead, and an open of the first needs no directory read
   * (one hot-plugged since is read afresh).
   */
  readonly ids?: readonly number[];
  /**
   * A claimed shell's: told each vif whose address to read ahead (`ids`, where given, else the
   * early ones), with its backend directory where its netfront, connected while parked, knows
   * it: the address's nodes then go in the flight of its MAC's read, not after a read of the
   * frontend's `backend` node.
   */
  readonly readAhead?: (devid: number, backend?: string) => void;
}

/** The domain's vifs as os.net opens them (Mirage's NETWORK devices), with what the runtime connected ahead (opts). */
export function netDevices(ctx: DriverContext, domid: number, opts: NetDeviceOptions = {}): OpenNet {
  const { track, early, remac = true, held = [], ids, readAhead } = opts;
  const known = ids ?? [];
  const open = new Map<number, Promise<NetFront>>();
  const waiting = new Map(held.map((f) => [f.devid, f]));
  const adopt = (id: number, p: Promise<NetFront>) => {
    open.set(id, p);
    track?.(p);
    p.catch(() => open.delete(id));
  };
  // Now, not at the first open: the MAC is read while the kernel links, and the vif list with it
  // (one flight) where it was not told, for the first open.
  const ahead = (id: number) => !ids || ids.includes(id);
  const adopted = early?.then((m) => {
    for (const [id, f] of m) {
      const reads = readAhead && ahead(id);
      const kick = async (nf: NetFront) => {
        if (reads) readAhead(id, nf.backendDir);
        if (remac) await nf.readMac();
        return nf;
      };
      const connected = connectedEarly.get(f);
      adopt(id, !remac && !reads ? f : connected ? kick(connected) : f.then(kick));
    }
    ids?.filter((id) => !m.has(id)).forEach((id) => readAhead?.(id));
  }, () => ids?.forEach((id) => readAhead?.(id)));
  if (!early) ids?.forEach((id) => readAhead?.(id));
  let listed = ids === undefined ? early?.then(() => vifIds(ctx, domid)) : undefined;
  listed?.catch(() => {});

  /** `devid` if this domain has it, else (when absent) its first vif. */
  async function find(devid: number | undefined): Promise<number> {
    if (devid === undefined && known.length > 0) return Math.min(...known);
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
    const id = devid !== undefined && (waiting.has(devid) || open.has(devid)) ? devid : await find(devid);
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
