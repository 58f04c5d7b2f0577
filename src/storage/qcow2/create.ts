// Create a qcow2 version 3 image, empty or over a backing file, laid out as qemu-img lays it
// out: the header cluster, the refcount table, the refcount blocks, the L1 table. The refcount
// table is sized for the largest the file can grow to (every cluster of the disk allocated,
// with its L2 tables and refcount blocks), so a disk never outgrows it.
import { open, stat } from 'node:fs/promises';
import { XenError } from '../../errors.js';
import { SECTOR_SIZE, fsError } from '../disk.js';
import { RawFile } from '../raw.js';
import { backingPath, probeFormat, type BackingFormat } from './backing.js';
import { Qcow2Error } from './errors.js';
import { MAX_CLUSTER_BITS, MAX_L1_BYTES, MAX_REFTABLE_BYTES, MAX_VIRTUAL_SIZE, MIN_CLUSTER_BITS, encodeHeader } from './header.js';
import { Qcow2Disk } from './qcow2.js';

export const DEFAULT_CLUSTER_BITS = 16;

export interface CreateQcow2Options {
  /** Virtual size in bytes; by default the backing file's. */
  size?: number;
  clusterBits?: number;
  /** A backing file: its name as it will be stored (relative to the new image's directory, or absolute). */
  backing?: { file: string; format?: BackingFormat };
}

export async function createQcow2(path: string, opts: CreateQcow2Options): Promise<void> {
  const clusterBits = opts.clusterBits ?? DEFAULT_CLUSTER_BITS;
  if (!Number.isInteger(clusterBits) || clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw new XenError('EINVAL', `cluster size 2^${clusterBits} is outside 2^${MIN_CLUSTER_BITS}..2^${MAX_CLUSTER_BITS}`);
  }
  let size = opts.size;
  let backingFormat: BackingFormat | undefined;
  if (opts.backing) {
    const where = backingPath(path, opts.backing.file);
    backingFormat = opts.backing.format ?? await probeFormat(where).catch(() => {
      throw new Qcow2Error('ENOENT', path, 'backing_file', `${where}: no such file`);
    });
    if (size === undefined) {
      const b = backingFormat === 'qcow2' ? await Qcow2Disk.open(where, { readOnly: true }) : await RawFile.open(where, { readOnly: true });
      size = b.sectors * SECTOR_SIZE;
      await b.close();
    }
  }
  if (size === undefined || !Number.isSafeInteger(size) || size < 0 || size > MAX_VIRTUAL_SIZE || size % SECTOR_SIZE !== 0) {
    throw new XenError('EINVAL', `virtual size ${size} is not a whole number of sectors up to ${MAX_VIRTUAL_SIZE} bytes`);
  }
  const cs = 2 ** clusterBits;
  const l1Size = Math.ceil(size / (cs * (cs / 8)));
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
  const perBlock = cs / 2; // 16-bit refcounts
  // The worst case file: header, tables, every data cluster and L2 table, and the refcount blocks for all of it.
  const dataClusters = Math.ceil(size / cs) + l1Size;
  let blocks = 1;
  let tableClusters = 1;
  for (let i = 0; i < 8; i++) {
    const total = 1 + tableClusters + l1Clusters + dataClusters + blocks;
    blocks = Math.ceil(total / perBlock);
    tableClusters = Math.max(1, Math.ceil((blocks * 8) / cs));
  }
  const used = 1 + tableClusters + 1 + l1Clusters;
  if (l1Size * 8 > MAX_L1_BYTES || tableClusters * cs > MAX_REFTABLE_BYTES || used > perBlock) {
    throw new XenError('EINVAL', `virtual size ${size} needs tables beyond qemu's limits with ${cs}-byte clusters: use larger clusters`);
  }
  // Initial layout: header, refcount table, one refcount block, L1 table.
  const tableOffset = cs;
  const blockOffset = tableOffset + tableClusters * cs;
  const l1Offset = blockOffset + cs;
  const header = encodeHeader({
    clusterBits, size, l1Size, l1TableOffset: l1Offset, refcountTableOffset: tableOffset, refcountTableClusters: tableClusters,
    ...(opts.backing ? { backingFile: opts.backing.file, backingFormat } : {}),
  });
  const table = new Uint8Array(tableClusters * cs);
  new DataView(table.buffer).setBigUint64(0, BigInt(blockOffset));
  const block = new Uint8Array(cs);
  for (let c = 0; c < used; c++) block[c * 2 + 1] = 1;
  const fh = await open(path, 'wx').catch((e: NodeJS.ErrnoException) => {
    throw new XenError(e.code === 'EEXIST' ? 'EEXIST' : 'EIO', `create ${path}: ${e.code ?? e.message}`);
  });
  try {
    await fh.writev([header, table, block, new Uint8Array(l1Clusters * cs)], 0);
    await fh.datasync();
  } catch (e) {
    throw fsError('create', path, e);
  } finally {
    await fh.close();
  }
  if ((await stat(path)).size !== used * cs) throw new XenError('EIO', `create ${path}: short write`);
}
