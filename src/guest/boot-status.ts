// A realm's boot status messages to dom0's thread (main, parked), each posted once per realm
// whatever its guest calls: the host functions that make them are guest-reachable
// (docs/SECURITY.md), and one that posted on every call held dom0's loop 47 s behind and grew
// the host by 1.8 GiB in 8 s (issue 18). Defence in depth: its library OS keeps them from the guest.
import type { PcpuStatus } from '../hypervisor/cpupool.js';

export type BootStatus = 'main' | 'parked';

/** Posts each kind's first status; later ones are dropped before they are made. */
export function oncePerRealm(post: (m: PcpuStatus) => void): (kind: BootStatus, make: () => PcpuStatus) => void {
  const told = new Set<BootStatus>();
  return (kind, make) => {
    if (told.has(kind)) return;
    told.add(kind);
    post(make());
  };
}
