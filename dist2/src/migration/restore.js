// xl restore and the receiving half of a migration: read and check the whole image first (so
// a bad one creates nothing), then build the domain from its configuration with its RAM frames
// filled in and start_info pointing at its suspend record; its runtime resumes from there and
// calls main(os) with os.resumed. Disks and vifs (MACs included) are the configuration's.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { PAGE_SIZE } from '../abi/xen.js';
import { XenError } from '../errors.js';
import { hostLimits } from '../toolstack/limits.js';
import { readImage } from './image.js';
import { ByteSource } from './source.js';
/** How long a migration's receiver waits for more of a stream that has stopped coming. */
export const STREAM_STALL_MS = 10_000;
/** Build a domain from a checked image; xl's name clash error if its name is taken. */
/** `vm`: the persistent VM the domain is (XenAPI's VM.resume); a new transient VM when absent. */
export async function restoreImage(host, image, opts = {}) {
    const config = opts.name ? { ...image.config, name: opts.name } : image.config;
    for (const d of host.hv.domains()) {
        if (d.name === config.name && !d.dying)
            throw new XenError('EEXIST', `Domain with name "${config.name}" already exists.`);
    }
    const built = await host.create(config, {
        ...(opts.paused !== undefined && { paused: opts.paused }),
        ...(opts.vm !== undefined && { vm: opts.vm }),
        restore: {
            hwm: image.hwm,
            record: image.suspendRecord,
            fill: (d) => {
                const mem = d.view.mem8;
                for (const [pfn, data] of image.pages)
                    mem.set(data, pfn * PAGE_SIZE);
            },
        },
    });
    const base = `/local/domain/${built.domain.domid}`;
    await Promise.all(image.xenstore.map(([k, v]) => host.xs.write(`${base}/${k}`, v).catch(() => { })));
    return built;
}
/** A save file larger than this is refused unread: more than any domain this host can run carries. */
export function maxImageBytes() {
    return Math.ceil((hostLimits().memoryMiB.max << 20) / 4 / PAGE_SIZE) * (PAGE_SIZE + 8) + (64 << 20);
}
export async function restoreFile(host, file, opts = {}) {
    const t0 = performance.now();
    const fh = await open(file, 'r').catch((e) => {
        throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EACCES', `Can't open restore file: ${e.message}`);
    });
    let data;
    try {
        // One read of the whole file: the image is then parsed in place, without copies.
        const { size } = await fh.stat();
        if (size > maxImageBytes())
            throw new XenError('E2BIG', `${file} is ${size} bytes: larger than any save image of a domain this host can run`);
        data = await fh.readFile();
    }
    finally {
        await fh.close();
    }
    const image = await readImage(new ByteSource(Readable.from([data]), { stallMs: STREAM_STALL_MS }));
    const t1 = performance.now();
    const built = await restoreImage(host, image, opts);
    const info = data.length >= 48 ? [data.readUInt32LE(36), data.readUInt32LE(40), data.readUInt32LE(44)] : [0, 0, 0];
    return { ...built, info, ms: { read: t1 - t0, build: performance.now() - t1 } };
}
//# sourceMappingURL=restore.js.map