// A read-only view of a disk: what blkback serves for mode=r (access=ro, cdroms).
import { XenError } from '../errors.js';
import type { Disk } from './disk.js';

export class ReadOnlyDisk implements Disk {
  readonly readOnly = true;
  readonly features;
  constructor(readonly inner: Disk) {
    this.features = { flush: false, discard: false, secureDiscard: false };
  }
  get sectors(): number {
    return this.inner.sectors;
  }
  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    return this.inner.read(sector, bufs);
  }
  write(): never {
    throw new XenError('EROFS', 'the disk is read-only');
  }
  flush(): void {}
  discard(): never {
    throw new XenError('EROFS', 'the disk is read-only');
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
