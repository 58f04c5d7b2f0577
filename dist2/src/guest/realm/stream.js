// node:stream inside a realm: a Writable for the PV console (os.ts). The TCP sockets of
// os.tcpip are Node Duplex streams, which a realm does not have yet (docs/ARCHITECTURE.md).
import { RealmUnsupported } from './refused.js';
export class Writable {
    #opts;
    constructor(opts) {
        this.#opts = opts;
    }
    write(chunk) {
        this.#opts.write(chunk, 'utf8', () => { });
        return true;
    }
}
export class Duplex {
    constructor() {
        throw new RealmUnsupported('stream sockets (node:stream Duplex, used by os.tcpip TCP)');
    }
}
//# sourceMappingURL=stream.js.map