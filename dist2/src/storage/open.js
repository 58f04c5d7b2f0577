// Open the disk a block backend serves, from what the toolstack wrote in its backend node:
// `params` as libxl writes it for a userspace (qdisk) backend, "<format>:<target>". A target
// "ram:<size>" is a RAM disk of that many bytes (suffixes K, M, G), created empty.
//
// Image formats are rows of FORMATS: what a block backend opens, and what an SR creates,
// measures and resizes (sr.ts, vdi.ts). A format module (VHD, qcow2) adds its row here; a
// format without one is refused by name.
import { open, stat, truncate } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { XenError } from '../errors.js';
import { createQcow2 } from './qcow2/create.js';
import { Qcow2Disk } from './qcow2/qcow2.js';
import { qcow2Info, rebaseQcow2, resizeQcow2 } from './qcow2/resize.js';
import { RamDisk } from './ram.js';
import { RawFile } from './raw.js';
import { ReadOnlyDisk } from './readonly.js';
import { VhdDisk } from './vhd/chain.js';
import { createDifferencing, createVhd, relinkVhd, resizeVhd } from './vhd/create.js';
import { VHD_MAX_BYTES } from './vhd/format.js';
import { VhdImage } from './vhd/image.js';
export const RAM_TARGET_PREFIX = 'ram:';
const UNITS = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
/** "64M" -> 67108864 (suffixes K, M, G, T); undefined if malformed. */
export function parseSize(s) {
    const m = /^([0-9]{1,10})([KMGT]?)$/i.exec(s);
    return m ? Number(m[1]) * UNITS[m[2].toUpperCase()] : undefined;
}
/** Split params into format and target, as libxl joined them. */
export function parseParams(params) {
    const colon = params.indexOf(':');
    if (colon <= 0)
        throw new XenError('EINVAL', `backend params '${params.slice(0, 80)}' is not <format>:<target>`);
    return { format: params.slice(0, colon), target: params.slice(colon + 1) };
}
const RAW = {
    extension: 'raw',
    open: (path, opts) => RawFile.open(path, opts),
    async create(path, virtualSize) {
        const fh = await open(path, 'wx', 0o600);
        try {
            await fh.truncate(virtualSize);
            await fh.sync();
        }
        finally {
            await fh.close();
        }
    },
    async info(path) {
        const st = await stat(path);
        return { virtualSize: st.size, physicalUtilisation: st.blocks * 512 };
    },
    resize: (path, virtualSize) => truncate(path, virtualSize),
};
/** Dynamic VHDs with a BAT for XCP's largest size, so that a resize is a footer update (vhd-util create -S). */
const VHD = {
    extension: 'vhd',
    open: (path, opts) => VhdDisk.open(path, opts),
    create: (path, virtualSize) => createVhd(path, { type: 'dynamic', size: virtualSize, maxSize: VHD_MAX_BYTES }),
    async info(path) {
        const image = await VhdImage.open(path, { readOnly: true });
        await image.close();
        return { virtualSize: image.bytes, physicalUtilisation: (await stat(path)).blocks * 512 };
    },
    resize: (path, virtualSize) => resizeVhd(path, virtualSize),
    layers: {
        createChild: (path, parentPath) => createDifferencing(path, parentPath),
        relink: relinkVhd,
        openOver: async (path, below) => (below instanceof VhdDisk ? VhdDisk.overDisk(path, below) : VhdDisk.open(path, { readOnly: false })),
    },
};
const QCOW2 = {
    extension: 'qcow2',
    open: (path, opts) => Qcow2Disk.open(path, opts),
    create: (path, virtualSize) => createQcow2(path, { size: virtualSize }),
    info: qcow2Info,
    resize: resizeQcow2,
    layers: {
        async createChild(path, parentPath) {
            const { virtualSize } = await qcow2Info(parentPath);
            await createQcow2(path, { size: virtualSize, backing: { file: relative(dirname(path), parentPath), format: 'qcow2' } });
        },
        relink: (path, parentPath) => rebaseQcow2(path, relative(dirname(path), parentPath)),
        openOver: (path, below) => Qcow2Disk.open(path, { readOnly: false, ...(below instanceof Qcow2Disk && { backing: below }) }),
    },
};
/** Format name (as xl's format= and sm_config's `format` spell it) → its implementation. */
const FORMATS = new Map([['raw', RAW], ['vhd', VHD], ['qcow2', QCOW2]]);
/** The format of that name; EOPNOTSUPP naming the ones there are. */
export function imageFormat(name) {
    const f = FORMATS.get(name);
    if (!f)
        throw new XenError('EOPNOTSUPP', `disk format ${name} is not supported yet (known: ${[...FORMATS.keys()].join(', ')})`);
    return f;
}
/** The format whose images have that extension, if any. */
export function formatOfExtension(extension) {
    for (const [name, f] of FORMATS)
        if (f.extension === extension)
            return name;
    return undefined;
}
export async function openDisk(params, opts) {
    const { format, target } = parseParams(params);
    const f = imageFormat(format);
    let disk;
    if (target.startsWith(RAM_TARGET_PREFIX)) {
        if (format !== 'raw')
            throw new XenError('EINVAL', `a RAM disk is raw, not ${format}`);
        const bytes = parseSize(target.slice(RAM_TARGET_PREFIX.length));
        if (bytes === undefined)
            throw new XenError('EINVAL', `RAM disk size '${target}' is not <bytes>[K|M|G]`);
        disk = new RamDisk(bytes);
    }
    else {
        disk = await f.open(target, opts);
    }
    return opts.readOnly && !disk.readOnly ? new ReadOnlyDisk(disk) : disk;
}
//# sourceMappingURL=open.js.map