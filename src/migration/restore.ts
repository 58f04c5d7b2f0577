// xl restore: read and check the whole image first (so
// a bad one creates nothing), then build the domain from its configuration with its RAM frames
// filled in and start_info pointing at its suspend record; its runtime resumes from there and
// calls main(os) with os.resumed. Disks and vifs (MACs included) are the configuration's.
import { constants } from 'node:buffer';
import { Readable } from 'node:stream';
import { PAGE_SIZE } from '../abi/xen.js';
import { readNamed } from '../storage/named.js';
import type { BuiltDomain } from '../toolstack/builder.js';
import type { DomainConfig } from '../toolstack/domconfig.js';
import type { Ref } from '../toolstack/db/records.js';
import type { Host } from '../toolstack/host.js';
import { hostLimits, MIB } from '../toolstack/limits.js';
import { readImage, type DomainImage } from './image.js';
import { checkNameFree, writeGuestData } from './incoming.js';
import { ByteSource } from './source.js';

/** How long a reader waits for more of a stream that has stopped coming. */
export const STREAM_STALL_MS = 10_000;

export interface RestoreOpts {
  readonly paused?: boolean;
  readonly vm?: Ref<'VM'>;
  readonly config?: (image: DomainConfig) => DomainConfig;
}

/** xl's "Loading new save file ... (new xl fmt info 0x%x/0x%x/%u)". */
export interface RestoreInfo {
  readonly info: readonly [number, number, number];
  readonly ms: { readonly read: number; readonly build: number };
}

/** Build a domain from a checked image; xl's name clash error if its name is taken. */
/**
 * `vm`: the persistent VM the domain is (XenAPI's VM.resume); a new transient VM when absent.
 * `config`: the configuration to build with, given the image's (a VM's resume takes its
 * record's: the image is in a VDI its owner could have written).
 */
async function restoreImage(host: Host, image: DomainImage, pages: ReadonlyMap<number, Uint8Array>, opts: RestoreOpts): Promise<BuiltDomain> {
  const config = opts.config ? opts.config(image.config) : image.config;
  checkNameFree(host, config.name);
  const built = await host.create(config, {
    ...(opts.paused !== undefined && { paused: opts.paused }),
    ...(opts.vm !== undefined && { vm: opts.vm }),
    restore: {
      hwm: image.hwm,
      record: image.suspendRecord,
      fill: (d) => {
        const mem = d.view.mem8;
        for (const [pfn, data] of pages) mem.set(data, pfn * PAGE_SIZE);
      },
    },
  });
  await writeGuestData(host, built.domain.domid, image.xenstore);
  return built;
}

/**
 * A save file larger than this is refused unread: more than any domain this host can run
 * carries. In doubles (memory= passes 2047 MiB, past 32-bit shifts), and below the largest
 * Buffer, which readNamed allocates one octet more than.
 */
export function maxImageBytes(): number {
  const image = Math.ceil((hostLimits().memoryMiB.max * MIB) / 4 / PAGE_SIZE) * (PAGE_SIZE + 8) + 64 * MIB;
  return Math.min(image, constants.MAX_LENGTH - 1);
}

export async function restoreFile(host: Host, file: string, opts: RestoreOpts = {}): Promise<BuiltDomain & RestoreInfo> {
  const t0 = performance.now();
  // A regular file only, opened without blocking and read up to the bound (named.ts): a FIFO
  // would hold a pool thread until a writer came, and /dev/zero (which says size 0) never ends.
  // One read of the whole file: the image is then parsed in place, without copies.
  const data = await readNamed(file, { what: 'restore file', limit: maxImageBytes() });
  const pages = new Map<number, Uint8Array>();
  const image = await readImage(new ByteSource(Readable.from([data]), { stallMs: STREAM_STALL_MS }), () => pages);
  const t1 = performance.now();
  const built = await restoreImage(host, image, pages, opts);
  const info = data.length >= 48 ? [data.readUInt32LE(36), data.readUInt32LE(40), data.readUInt32LE(44)] as const : [0, 0, 0] as const;
  return { ...built, info, ms: { read: t1 - t0, build: performance.now() - t1 } };
}
