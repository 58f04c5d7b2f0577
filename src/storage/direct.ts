// Writes around the page cache (O_DIRECT) for a copy's destination (an image written once, in
// large buffers, that nothing reads back soon): as xapi's sparse_dd writes its destination. On
// this VM, 1 GiB written through the page cache from user memory cost 1.7-2.3 s of kernel CPU in
// most runs (copy_folio_from_iter_atomic, 72% of the samples), `cp`'s in-kernel copy 0.26-0.37 s,
// and the same writes with O_DIRECT 0.25-0.40 s (docs/PERFORMANCE.md, issue 14): the copy of a live
// migration was bound by that CPU, which its guest's I/O shares.
//
// O_DIRECT asks for aligned memory, and a JS buffer's address is unknown (malloc'd: 16 bytes
// past a page for large ones); a WebAssembly memory is mapped whole, so page-aligned.
// `alignedBuffer` makes such buffers and remembers them; only writes made entirely of them, at
// aligned offsets and lengths, go direct, the others (and all of them where the file system
// refuses O_DIRECT, as tmpfs does) through the file's ordinary descriptor. Durability is the
// same: a direct write is in the file once it returns, and the image's fdatasync (on its other
// descriptor: the same inode) commits its blocks' allocation and flushes the device's cache.
import { close, constants, open } from 'node:fs';
import { promisify } from 'node:util';
import { XenError } from '../errors.js';
import { transfer } from './fileio.js';

const openP = promisify(open);
const closeP = promisify(close);

/** What file offsets, lengths and memory of a direct write are aligned to: a page (any device's logical block). */
const ALIGN = 4096;
const WASM_PAGE = 65536;

/** WebAssembly.Memory, which the typings this build uses (ES2024, node) leave out. */
declare const WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer } };

const alignedMemory = new WeakSet<ArrayBufferLike>();

/** A zeroed buffer of `bytes` whose memory is page-aligned, as direct writes need. */
export function alignedBuffer(bytes: number): Uint8Array {
  const pages = Math.ceil(bytes / WASM_PAGE);
  let mem: { readonly buffer: ArrayBuffer };
  try {
    mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    // No address space for another memory (a ulimit -v): an ordinary buffer, written buffered.
    return new Uint8Array(bytes);
  }
  alignedMemory.add(mem.buffer);
  return new Uint8Array(mem.buffer, 0, bytes);
}

/** A direct write's refusals that the same write through the page cache gets past. */
const REFUSED = new Set(['EINVAL', 'EOPNOTSUPP', 'ENOTSUP']);

/** May `bufs` be written direct at byte `position`: every piece in aligned memory, at an aligned place and length. */
function fits(bufs: readonly Uint8Array[], position: number): boolean {
  if (position % ALIGN !== 0) return false;
  for (const b of bufs) if (b.byteOffset % ALIGN !== 0 || b.byteLength % ALIGN !== 0 || !alignedMemory.has(b.buffer)) return false;
  return true;
}

export class DirectWrites {
  #fd: number;
  /** Direct writes under way: the descriptor is closed only once they have ended (one may be retrying a short write on it). */
  readonly #writes = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  private constructor(fd: number, private readonly path: string) {
    this.#fd = fd;
  }

  /**
   * A second descriptor of the image open as `fd`, for writing with O_DIRECT; undefined where
   * the file system refuses it. Opened through /proc/self/fd, so it is the same file whatever
   * `path` names by now.
   */
  static async open(path: string, fd: number): Promise<DirectWrites | undefined> {
    const direct = await openP(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
    return direct === undefined ? undefined : new DirectWrites(direct, path);
  }

  /**
   * Write `bufs` at byte `position`: direct if they fit, else (or if the file system refuses
   * this one: EINVAL for a stricter alignment, EOPNOTSUPP; then never again) by `buffered`.
   */
  write(bufs: readonly Uint8Array[], position: number, buffered: () => Promise<void>): Promise<void> {
    if (this.#fd < 0 || !fits(bufs, position)) return buffered();
    const w = transfer('write', this.#fd, this.path, bufs, position, 'error');
    this.#writes.add(w);
    const ended = (): void => {
      this.#writes.delete(w);
    };
    return w.then(ended, (e: unknown) => {
      ended();
      if (!REFUSED.has(((e as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? '')) throw e;
      void this.close().catch(() => {}); // a failed close of a descriptor no longer written is no loss
      return buffered();
    });
  }

  /** No more direct writes; the descriptor closed once those under way have ended. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const fd = this.#fd;
      this.#fd = -1;
      this.#closing = Promise.allSettled([...this.#writes]).then(() => closeP(fd)).catch((e: NodeJS.ErrnoException) => {
        throw new XenError('EIO', `close ${this.path}: ${e.code ?? e.message}`);
      });
    }
    return this.#closing;
  }
}
