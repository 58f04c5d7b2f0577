// Open the disk a block backend serves, from what the toolstack wrote in its backend node:
// `params` as libxl writes it for a userspace (qdisk) backend, "<format>:<target>". A target
// "ram:<size>" is a RAM disk of that many bytes (suffixes K, M, G), created empty. Image formats
// other than raw open files only, from the table below.
import { XenError } from '../errors.js';
import type { Disk } from './disk.js';
import { Qcow2Disk } from './qcow2/qcow2.js';
import { RamDisk } from './ram.js';
import { RawFile } from './raw.js';
import { ReadOnlyDisk } from './readonly.js';

export const RAM_TARGET_PREFIX = 'ram:';

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

/** "64M" -> 67108864; undefined if malformed. */
export function parseSize(s: string): number | undefined {
  const m = /^([0-9]{1,10})([KMG]?)$/i.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : undefined;
}

/** Split params into format and target, as libxl joined them. */
export function parseParams(params: string): { format: string; target: string } {
  const colon = params.indexOf(':');
  if (colon <= 0) throw new XenError('EINVAL', `backend params '${params.slice(0, 80)}' is not <format>:<target>`);
  return { format: params.slice(0, colon), target: params.slice(colon + 1) };
}

type ImageOpener = (path: string, opts: { readOnly: boolean }) => Promise<Disk>;

/** Image formats by their params prefix (raw also takes RAM targets). */
const IMAGE_FORMATS: Readonly<Record<string, ImageOpener>> = {
  qcow2: (path, opts) => Qcow2Disk.open(path, opts),
  raw: (path, opts) => RawFile.open(path, opts),
};

/** The formats openDisk accepts, for the toolstack's checks. */
export const DISK_FORMATS: readonly string[] = Object.keys(IMAGE_FORMATS);

export async function openDisk(params: string, opts: { readOnly: boolean }): Promise<Disk> {
  const { format, target } = parseParams(params);
  const opener = Object.hasOwn(IMAGE_FORMATS, format) ? IMAGE_FORMATS[format]! : undefined;
  if (!opener) throw new XenError('EOPNOTSUPP', `disk format ${format} is not supported (${DISK_FORMATS.join(', ')})`);
  let disk: Disk;
  if (format === 'raw' && target.startsWith(RAM_TARGET_PREFIX)) {
    const bytes = parseSize(target.slice(RAM_TARGET_PREFIX.length));
    if (bytes === undefined) throw new XenError('EINVAL', `RAM disk size '${target}' is not <bytes>[K|M|G]`);
    disk = new RamDisk(bytes);
  } else {
    disk = await opener(target, opts);
  }
  return opts.readOnly && !disk.readOnly ? new ReadOnlyDisk(disk) : disk;
}
