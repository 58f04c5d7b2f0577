// A disk that mirrors its writes: reads come from the source, each write (and flush) goes to
// the source and to a mirror target, and is acknowledged once both have it, so at any moment
// the target holds every write the guest was told is done. It is what live VDI migration puts
// under a running guest (migrate.ts) from the moment its base is frozen by a snapshot; the
// target is any MirrorTarget, so migration to another host (issue 16) can send the writes over
// its stream instead of to a local image. A target that fails is dropped (`broken` says why):
// the guest goes on with the source, and the migration that owns the mirror fails cleanly.
import { XenError } from '../errors.js';
import type { Disk } from './disk.js';

/** Where mirrored writes go: a local image (a Disk), or a stream to another host. */
export interface MirrorTarget {
  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void;
  flush(): Promise<void> | void;
}

export class MirrorDisk implements Disk {
  readonly sectors: number;
  readonly readOnly = false;
  readonly features;
  /** Why the target was dropped; null while it mirrors. */
  broken: Error | null = null;
  /** Bytes written to the target. */
  mirrored = 0;
  /**
   * Set once the guest is being switched to the target: a write the target fails then fails
   * for the guest too (its data would be missing from the disk it goes on with).
   */
  strict = false;

  constructor(readonly source: Disk, readonly target: MirrorTarget) {
    if (source.readOnly) throw new XenError('EROFS', 'a read-only disk has no writes to mirror');
    this.sectors = source.sectors;
    this.features = { flush: source.features.flush, discard: false, secureDiscard: false };
  }

  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    return this.source.read(sector, bufs);
  }

  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    const both = [Promise.resolve(this.source.write(sector, bufs))];
    if (this.broken === null) {
      let n = 0;
      for (const b of bufs) n += b.byteLength;
      both.push(this.#toTarget(async () => {
        await this.target.write(sector, bufs);
        this.mirrored += n;
      }));
    }
    return Promise.all(both).then(() => undefined);
  }

  flush(): Promise<void> {
    const both = [Promise.resolve(this.source.flush())];
    if (this.broken === null) both.push(this.#toTarget(() => this.target.flush()));
    return Promise.all(both).then(() => undefined);
  }

  /** The target's part of an I/O: a failure drops the target instead of failing the guest's I/O. */
  #toTarget(fn: () => Promise<void> | void): Promise<void> {
    return Promise.resolve().then(fn).catch((e: unknown) => {
      this.broken ??= e instanceof Error ? e : new Error(String(e));
      if (this.strict) throw e;
    });
  }

  discard(): never {
    throw new XenError('EOPNOTSUPP', 'discard is not supported while a disk is mirrored');
  }

  /** Closes the source only: the target belongs to whoever made the mirror. */
  close(): Promise<void> {
    return this.source.close();
  }
}
