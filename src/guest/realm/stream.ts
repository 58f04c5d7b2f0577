// node:stream inside a realm: a Writable for the PV console (os.ts). The TCP sockets of
// os.tcpip are Node Duplex streams, which a realm does not have yet (docs/ARCHITECTURE.md).
import { RealmUnsupported } from './refused.js';

interface WritableOptions {
  write(chunk: unknown, encoding: string, done: (err?: Error | null) => void): void;
}

export class Writable {
  #opts: WritableOptions;
  constructor(opts: WritableOptions) {
    this.#opts = opts;
  }
  write(chunk: unknown): boolean {
    this.#opts.write(chunk, 'utf8', () => {});
    return true;
  }
}

export class Duplex {
  constructor() {
    throw new RealmUnsupported('stream sockets (node:stream Duplex, used by os.tcpip TCP)');
  }
}
