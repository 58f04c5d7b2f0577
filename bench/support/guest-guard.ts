// A bench's guests watched while it waits on them: a guest that shuts down (its program threw,
// it ran out of memory) ends the bench at once with its name, reason and last console lines,
// instead of the bench waiting out the timeout of whatever it was waiting for.
import type { Host } from '../../src/toolstack/host.js';

const TAIL_LINES = 8;

export class GuestGuard {
  readonly #died: Promise<never>;
  #fail: (e: Error) => void = () => {};
  #off: () => void;
  readonly #watched = new Set<number>();

  /** Watch guests of `host` (watch() each) from now until stop(). */
  constructor(host: Host) {
    this.#died = new Promise<never>((_, reject) => (this.#fail = reject));
    this.#died.catch(() => {}); // rejected only while someone races it, or nobody cares
    const onShutdown = (domid: number, name: string, reason: string) => {
      if (!this.#watched.has(domid)) return;
      const tail = Buffer.from(host.consoled.log(domid)).toString('utf8').trimEnd().split('\n').slice(-TAIL_LINES).join('\n  ');
      this.#fail(new Error(`guest '${name}' (domain ${domid}) shut down (${reason}) during the bench${tail ? `; its console ended:\n  ${tail}` : ''}`));
    };
    host.on('shutdown', onShutdown);
    this.#off = () => host.off('shutdown', onShutdown);
  }

  watch(domid: number): void {
    this.#watched.add(domid);
  }

  /** `p`, or the death of a watched guest, whichever comes first. */
  race<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#died]);
  }

  /** Stop watching (before the bench destroys its guests). */
  stop(): void {
    this.#off();
  }
}
