// What xenstored knows about a domain: whether the toolstack introduced it, its home path, the
// domain it acts for (SET_TARGET) and its watch count. Its connections are the core's business.
import { domainPath } from '../common/path.js';
export class Domain {
    domid;
    path;
    introduced = false;
    /** The domain this one is a stub domain / device model for (XS_SET_TARGET). */
    target;
    /** Watches held by all of the domain's connections (the watch quota is per domain). */
    watches = 0;
    constructor(domid) {
        this.domid = domid;
        this.path = domainPath(domid);
    }
}
//# sourceMappingURL=domain.js.map