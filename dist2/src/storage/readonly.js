// A read-only view of a disk: what blkback serves for mode=r (access=ro, cdroms).
import { XenError } from '../errors.js';
export class ReadOnlyDisk {
    inner;
    readOnly = true;
    features;
    constructor(inner) {
        this.inner = inner;
        this.features = { flush: false, discard: false, secureDiscard: false };
    }
    get sectors() {
        return this.inner.sectors;
    }
    read(sector, bufs) {
        return this.inner.read(sector, bufs);
    }
    write() {
        throw new XenError('EROFS', 'the disk is read-only');
    }
    flush() { }
    discard() {
        throw new XenError('EROFS', 'the disk is read-only');
    }
    close() {
        return this.inner.close();
    }
}
//# sourceMappingURL=readonly.js.map