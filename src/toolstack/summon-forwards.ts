// Summoning through a host port forward (Jitsu, NSDI'15, with a TCP port where summon.ts has a
// DNS name): `xenode network-forward TARGET SPEC --summon` listens on the host port for a guest
// that need not run; TARGET is a halted persistent VM or an xl config. The first connection
// boots the guest (from a parked shell when one fits), is held until the guest's stack answers
// on its port, and is then joined to it (forward.ts's ForwardHold); later connections go
// straight through while it runs, and one after it stopped boots it again. The forward belongs
// to the host, not to a domain: it stays when its guest goes.
import { XenError } from '../errors.js';
import type { Gateway } from '../network/gateway/gateway.js';
import type { HostForward } from '../network/gateway/forward.js';
import { formatForwardSpec, type ForwardSpec } from '../network/gateway/forwardspec.js';
import { formatIpv4, type Ipv4 } from '../tcpip/addr.js';
import type { SummonedForwardInfo } from './contract.js';
import type { DomainConfig } from './domconfig.js';
import { forwardKey, forwardRoute } from './forwards.js';
import { SummonedGuest, type SummonHost } from './summon.js';
import { settleVifMacs } from './vifs.js';

/** Summoning forwards one host may have (each holds a configuration in memory). */
export const MAX_SUMMONED_FORWARDS = 1024;
/** How long a connection waits for its guest to boot and listen before it is reset. */
export const SUMMON_HOLD_MS = 30_000;

interface Entry {
  readonly spec: ForwardSpec;
  readonly guest: SummonedGuest;
  readonly gw: Gateway;
  readonly fwd: HostForward;
  readonly target: () => Ipv4 | undefined;
}

export class SummonedForwards {
  readonly #byKey = new Map<string, Entry>();

  /** `gateway(bridge)`: the bridge's gateway, attached if it has none. */
  constructor(private readonly host: SummonHost, private readonly gateway: (bridge: string) => Gateway) {}

  /**
   * Forward `spec` to the guest `config` describes, booting it on demand: a new domain each time,
   * or the halted VM `vm` (whose stored configuration `config` is) started.
   */
  async add(config: DomainConfig, spec: ForwardSpec, vm?: string): Promise<SummonedForwardInfo> {
    if (spec.proto !== 'tcp') throw new XenError('EINVAL', `a summoning forward is TCP (its first connection boots the guest), not ${spec.proto}`);
    const k = forwardKey(spec);
    if (this.#byKey.has(k)) throw new XenError('EEXIST', `tcp ${spec.hostAddress}:${spec.hostPort} summons a guest already`);
    if (this.#byKey.size >= MAX_SUMMONED_FORWARDS) throw new XenError('ENOSPC', `${MAX_SUMMONED_FORWARDS} summoning forwards exist already`);
    const own = config.forwards?.some((f) => forwardKey(f) === k);
    if (own && vm !== undefined) throw new XenError('EEXIST', `VM ${vm} forwards tcp ${spec.hostAddress}:${spec.hostPort} itself: remove that forward from it first`);
    // The guest's own forward of this port would collide with ours; its MACs are settled once,
    // so every boot keeps its DHCP lease and the gateway's ARP entry.
    const c: DomainConfig = vm !== undefined ? config
      : { ...config, vifs: settleVifMacs(config.vifs), forwards: (config.forwards ?? []).filter((f) => forwardKey(f) !== k) };
    const route = forwardRoute(c.vifs, spec, `domain ${c.name}`);
    const gw = this.gateway(route.bridge);
    const target = route.target(gw);
    const guest = new SummonedGuest(this.host, c, vm);
    const fwd = await gw.forward(spec, target, {
      ready: (built) => guest.summon(built).catch((e: Error) => {
        this.host.log(`summon: booting ${c.name} for a connection to ${spec.hostAddress}:${spec.hostPort} failed: ${e.message}`);
        throw e;
      }),
      holdMs: SUMMON_HOLD_MS,
      settled: () => guest.served(),
    });
    if (this.#byKey.has(k)) {
      gw.unforward(fwd);
      throw new XenError('EEXIST', `tcp ${spec.hostAddress}:${spec.hostPort} was made to summon meanwhile`);
    }
    const e: Entry = { spec, guest, gw, fwd, target };
    this.#byKey.set(k, e);
    return info(e);
  }

  /** Stop summoning through that host port (a guest it booted keeps running). */
  remove(spec: ForwardSpec): SummonedForwardInfo {
    const e = this.#byKey.get(forwardKey(spec));
    if (!e) throw new XenError('ENOENT', `no summoning forward of ${spec.proto} ${spec.hostAddress}:${spec.hostPort}`);
    this.#byKey.delete(forwardKey(spec));
    e.gw.unforward(e.fwd);
    return info(e);
  }

  list(): SummonedForwardInfo[] {
    return [...this.#byKey.values()].map(info);
  }

  close(): void {
    for (const e of this.#byKey.values()) e.gw.unforward(e.fwd);
    this.#byKey.clear();
  }
}

function info(e: Entry): SummonedForwardInfo {
  const ip = e.target();
  return {
    spec: formatForwardSpec(e.spec), hostAddress: e.spec.hostAddress, hostPort: e.fwd.boundPort, guestPort: e.spec.guestPort,
    bridge: e.gw.bridge, guestAddress: ip === undefined ? null : formatIpv4(ip), domain: e.guest.config.name, vm: e.guest.vm ?? null,
    boots: e.guest.boots, accepted: e.fwd.counters.accepted, refused: e.fwd.counters.refused,
  };
}
