// Each network's default_locking_mode, by bridge, as a vif plug asks for it (vifs.ts): read from
// the host database once per bridge and kept until a network record changes. A summoned guest's
// plug is on the path of its first connection, and the read cost dom0 0.2-0.5 ms there
// (docs/PERFORMANCE.md, issue 17, summon13); the setting changes only through network records.
import type { HostDb } from './db/hostdb.js';

/** What a vif with no locking mode of its own is plugged with: 'disabled', or undefined (the MAC check). */
export type NetworkLocking = 'disabled' | undefined;

/** Bridges kept at most: a config may name any bridge, and a plug asks before it finds none. */
export const MAX_CACHED_BRIDGES = 256;

export class NetworkLockingCache {
  /** By bridge: the read, kept from its start, so that a commit that lands meanwhile drops it too. */
  readonly #byBridge = new Map<string, Promise<NetworkLocking>>();
  readonly #unwatch: () => void;

  constructor(private readonly db: HostDb) {
    // Any network's change may move a bridge from one network to another: all are read again.
    this.#unwatch = db.watch((changes) => {
      if (changes.some((c) => c.class === 'network')) this.#byBridge.clear();
    });
  }

  get(bridge: string): Promise<NetworkLocking> {
    let p = this.#byBridge.get(bridge);
    if (!p) {
      p = this.db.read((tx): NetworkLocking => {
        const [net] = tx.network.where('bridge', bridge);
        return net !== undefined && tx.network.get(net).default_locking_mode === 'disabled' ? 'disabled' : undefined;
      });
      if (this.#byBridge.size >= MAX_CACHED_BRIDGES) this.#byBridge.clear();
      this.#byBridge.set(bridge, p);
      // A read that failed is not kept: the next plug asks again.
      p.catch(() => {
        if (this.#byBridge.get(bridge) === p) this.#byBridge.delete(bridge);
      });
    }
    return p;
  }

  close(): void {
    this.#unwatch();
    this.#byBridge.clear();
  }
}
