// xl restore and the receiving half of a migration: read and check the whole image first (so
// a bad one creates nothing), then build the domain from its configuration with its RAM frames
// filled in and start_info pointing at its suspend record; its runtime resumes from there and
// calls main(os) with os.resumed. Disks and vifs (MACs included) are the configuration's.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import type { BuiltDomain } from '../toolstack/builder.js';
import type { Host } from '../toolstack/host.js';
import { readImage, type DomainImage } from './image.js';
import { ByteSource } from './source.js';

/** How long a restore waits for more of a stream that has stopped coming. */
export const STREAM_STALL_MS = 10_000;

/** xl's "Loading new save file ... (new xl fmt info 0x%x/0x%x/%u)". */
export interface RestoreInfo {
  readonly info: readonly [number, number, number];
  readonly ms: { readonly read: number; readonly build: number };
}

/** Build a domain from a checked image; xl's name clash error if its name is taken. */
export async function restoreImage(host: Host, image: DomainImage, opts: { paused?: boolean; name?: string } = {}): Promise<BuiltDomain> {
  const config = opts.name ? { ...image.config, name: opts.name } : image.config;
  for (const d of host.hv.domains()) {
    if (d.name === config.name && !d.dying) throw new XenError('EEXIST', `Domain with name "${config.name}" already exists.`);
  }
  const built = await host.create(config, {
    ...(opts.paused !== undefined && { paused: opts.paused }),
    restore: {
      hwm: image.hwm,
      record: image.suspendRecord,
      fill: (d) => {
        const mem = d.view.mem8;
        for (const [pfn, data] of image.pages) mem.set(data, pfn * PAGE_SIZE);
      },
    },
  });
  const base = `/local/domain/${built.domain.domid}`;
  await Promise.all(image.xenstore.map(([k, v]) => host.xs.write(`${base}/${k}`, v).catch(() => {})));
  return built;
}

export async function restoreFile(host: Host, file: string, opts: { paused?: boolean; stallMs?: number } = {}): Promise<BuiltDomain & RestoreInfo> {
  const t0 = performance.now();
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EACCES', `Can't open restore file: ${e.message}`);
  });
  const head = Buffer.alloc(48);
  await fh.read(head, 0, 48, 0);
  const stream = createReadStream('', { fd: fh.fd, start: 0, highWaterMark: 1 << 20, autoClose: false });
  const src = new ByteSource(stream, { stallMs: opts.stallMs ?? STREAM_STALL_MS });
  let image: DomainImage;
  try {
    image = await readImage(src);
  } finally {
    src.close();
    stream.destroy();
    await fh.close();
  }
  const t1 = performance.now();
  const built = await restoreImage(host, image, opts);
  return { ...built, info: [head.readUInt32LE(36), head.readUInt32LE(40), head.readUInt32LE(44)], ms: { read: t1 - t0, build: performance.now() - t1 } };
}
