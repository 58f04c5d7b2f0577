// A writable image file extended ahead of the writes that near its end (VHD's blocks, qcow2's
// clusters), so that most appends land inside the file: on ext4 a write that starts past the end
// of the file zeroes the partial block, grows the file and marks the inode dirty (in a journal
// handle on a journalled file system), all under the inode lock every write of the file takes;
// a write inside the file does none of that. One ftruncate at a time, started in the background
// once less than half of what was extended ahead is left; after one fails (a nearly full disk)
// no more start, and writes extend the file themselves (slower, not wrong).
import { truncate } from './disk.js';

export class GrowAhead {
  /** The file's size as its extensions and cuts made it (or as opened), and the writes its owner reports (`wrote`). */
  size: number;
  /** What the file is being extended to (`size` when no extension is in flight). */
  #target: number;
  #inFlight: Promise<void> | undefined;
  #failed = false;

  /** `ahead`: bytes to extend past the furthest write by; `image`: what errors name (its path may change: a rename while open). */
  constructor(private readonly fd: number, private readonly image: { readonly path: string }, readonly ahead: number, size: number) {
    this.size = size;
    this.#target = size;
  }

  /** A write ending at `end` completed: the file is at least that long. */
  wrote(end: number): void {
    if (end > this.size) this.size = end;
  }

  /** The extension in flight, if a write ending at `end` must wait for it: it ends past it, and an ftruncate must never cut a write. */
  waitFor(end: number): Promise<void> | undefined {
    return this.#inFlight && end > this.#target ? this.#inFlight : undefined;
  }

  /** A write ending at `end` nears the end of the file: an extension should start (none is in flight, none failed). */
  nearing(end: number): boolean {
    return this.#inFlight === undefined && !this.#failed && end > this.#target - this.ahead / 2;
  }

  /** Extend the file to `to` in the background (after `nearing` said so). */
  start(to: number): void {
    this.#target = to;
    this.#inFlight = truncate(this.fd, this.image.path, to).then(() => {
      if (to > this.size) this.size = to;
    }, () => {
      this.#failed = true;
      this.#target = this.size;
    }).finally(() => {
      this.#inFlight = undefined;
    });
  }

  /**
   * The file at least `need` bytes long, `ahead` more if the disk allows (else only `need`):
   * after the extension in flight; fails as ftruncate does (a full disk: ENOSPC).
   */
  async reach(need: number): Promise<void> {
    await this.#inFlight;
    if (need <= this.size) return;
    try {
      await truncate(this.fd, this.image.path, need + this.ahead);
      this.size = need + this.ahead;
    } catch {
      await truncate(this.fd, this.image.path, need);
      this.size = need;
    }
    this.#target = this.size;
  }

  /** Cut the file to `to` bytes (what it holds), after the extension in flight, which would land after it. */
  async cut(to: number): Promise<void> {
    await this.#inFlight;
    await truncate(this.fd, this.image.path, to);
    this.size = to;
    this.#target = to;
  }

  /** Once no extension is in flight (before the descriptor is closed). */
  settled(): Promise<void> {
    return this.#inFlight ?? Promise.resolve();
  }
}
