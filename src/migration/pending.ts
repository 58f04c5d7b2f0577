// Connections to the migration listener yet to show the token (or refused, lingering until
// closed), bounded in all and per remote address. Past a bound the oldest goes, not the newcomer:
// a sender with the token shows it within milliseconds of connecting, so clients that connect
// and say nothing, however fast they come back, cannot keep it out.
import type { Socket } from 'node:net';
import { XenError } from '../errors.js';

export class PendingConnections {
  /** Each connection's remote address, oldest first. */
  readonly #all = new Map<Socket, string>();
  /** The connections from each address, oldest first. */
  readonly #byAddress = new Map<string, Set<Socket>>();

  constructor(readonly max: number, readonly maxPerAddress: number) {}

  /**
   * Count `sock` until release() or its close, first dropping the oldest from its address if
   * that has maxPerAddress, else the oldest of all if there are max.
   */
  admit(sock: Socket): void {
    const address = sock.remoteAddress ?? '';
    let mine = this.#byAddress.get(address);
    if (!mine) this.#byAddress.set(address, (mine = new Set()));
    const perAddress = mine.size >= this.maxPerAddress;
    const oldest = perAddress ? mine.values().next().value : this.#all.size >= this.max ? this.#all.keys().next().value : undefined;
    if (oldest) {
      this.release(oldest);
      oldest.destroy(new XenError('EBUSY', `dropped for a newer connection: the oldest of ${perAddress ? `${this.maxPerAddress} from ${address}` : this.max} yet to show the token`));
    }
    this.#all.set(sock, address);
    mine.add(sock);
    sock.once('close', () => this.release(sock));
  }

  release(sock: Socket): void {
    const address = this.#all.get(sock);
    if (address === undefined) return;
    this.#all.delete(sock);
    const mine = this.#byAddress.get(address)!;
    mine.delete(sock);
    if (mine.size === 0) this.#byAddress.delete(address);
  }
}
