// xl restore: the domain is built (paused) from the configuration at the head of the image
// while the rest of the file is read, its RAM frames go straight into it (incoming.ts, as a
// migration's receiver does it), start_info points at its suspend record, and it runs: its
// runtime resumes from there and calls main(os) with os.resumed. Disks and vifs (MACs
// included) are the configuration's. A bad image is refused and what was built of it destroyed.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { BuiltDomain } from '../toolstack/builder.js';
import type { Host } from '../toolstack/host.js';
import { hostLimits } from '../toolstack/limits.js';
import { readImage, type DomainImage } from './image.js';
import { IncomingDomain, checkNameFree } from './incoming.js';
import { ByteSource } from './source.js';

/** How long a reader waits for more of a stream that has stopped coming. */
export const STREAM_STALL_MS = 10_000;
/** The first read of a save file: its headers and configuration, on which the build starts. */
const HEAD_BYTES = 64 << 10;

/** xl's "Loading new save file ... (new xl fmt info 0x%x/0x%x/%u)". */
export interface RestoreInfo {
  readonly info: readonly [number, number, number];
  /** read: until the whole image is read, checked and in the domain's RAM; build: the rest (the build's tail, the unpause). */
  readonly ms: { readonly read: number; readonly build: number };
}

/** The guest's own xenstore data from its image (best effort, as libxl restores it). */
export async function writeGuestData(host: Host, domid: number, data: DomainImage['xenstore']): Promise<void> {
  await Promise.all(data.map(([k, v]) => host.xs.write(`/local/domain/${domid}/${k}`, v).catch(() => {})));
}

/** A save file larger than this is refused unread: more than any domain this host can run carries. */
export function maxImageBytes(): number {
  return Math.ceil((hostLimits().memoryMiB.max << 20) / 4 / PAGE_SIZE) * (PAGE_SIZE + 8) + (64 << 20);
}

/** The file after its head, which was read first: the rest is read while the domain is built. */
async function* fileChunks(fh: FileHandle, head: Buffer, size: number): AsyncGenerator<Buffer> {
  yield head;
  if (size <= head.length) return;
  const rest = Buffer.allocUnsafe(size - head.length);
  const { bytesRead } = await fh.read(rest, 0, rest.length, head.length);
  yield rest.subarray(0, bytesRead);
}

export async function restoreFile(host: Host, file: string, opts: { paused?: boolean } = {}): Promise<BuiltDomain & RestoreInfo> {
  const t0 = performance.now();
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EACCES', `Can't open restore file: ${e.message}`);
  });
  let incoming: IncomingDomain | undefined;
  try {
    const { size } = await fh.stat();
    if (size > maxImageBytes()) throw new XenError('E2BIG', `${file} is ${size} bytes: larger than any save image of a domain this host can run`);
    const buf = Buffer.allocUnsafe(Math.min(size, HEAD_BYTES));
    const head = buf.subarray(0, (await fh.read(buf, 0, buf.length, 0)).bytesRead);
    const info = head.length >= 48 ? [head.readUInt32LE(36), head.readUInt32LE(40), head.readUInt32LE(44)] as const : [0, 0, 0] as const;
    const image = await readImage(new ByteSource(Readable.from(fileChunks(fh, head, size)), { stallMs: STREAM_STALL_MS }), (config) => {
      checkNameFree(host, config.name);
      return (incoming = new IncomingDomain(host, config, config.name));
    });
    const t1 = performance.now();
    const built = await incoming!.finish(image);
    if (!opts.paused) host.unpause(built.domain.domid);
    return { ...built, info, ms: { read: t1 - t0, build: performance.now() - t1 } };
  } catch (e) {
    await incoming?.abort();
    throw e;
  } finally {
    await fh.close();
  }
}
