// Save images built in memory for the stream tests: a configuration, a guest memory buffer with
// some populated frames and a suspend record, encoded as xenode save does it, in parts that a
// test can take apart and put together wrongly.
import { Readable } from 'node:stream';
import { encodeSuspendRecord } from '../../src/abi/suspend.js';
import { PAGE_SIZE } from '../../src/abi/xen.js';
import { geometryOf } from '../../src/migration/config.js';
import { encodeHeaders, encodePages, encodeTrailer, readImage } from '../../src/migration/image.js';
import { ByteSource } from '../../src/migration/source.js';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
export const CONFIG = parseDomainConfig('name = "img"\nkernel = "/srv/img.ts"\nmemory = 32\nvif = [ "mac=00:16:3e:00:00:01" ]\n', '/srv/img.cfg').config;
export const GEO = geometryOf(CONFIG);
/** `populated` RAM frames, each filled with its pfn's low byte (every fourth left zero), and a suspend record with `state`. */
export function imageParts(opts = {}) {
    const config = opts.config ?? CONFIG;
    const populated = opts.populated ?? 40;
    const memory = new SharedArrayBuffer(GEO.end * PAGE_SIZE);
    const mem = new Uint8Array(memory);
    const pfns = [];
    for (let i = 0; i < populated; i++) {
        const pfn = GEO.first + i;
        pfns.push(pfn);
        if (i % 4 !== 3)
            mem.fill(pfn & 0xff || 1, pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
    }
    const rec = encodeSuspendRecord({ version: 1, hasState: true, state: opts.state ?? { keys: ['a', 'b'], n: 42 }, io: [[GEO.first, 2]] });
    const recordPfn = GEO.first + populated;
    const recPages = Math.ceil(rec.length / PAGE_SIZE);
    mem.set(rec, recordPfn * PAGE_SIZE);
    for (let i = 0; i < recPages; i++)
        pfns.push(recordPfn + i);
    const head = Buffer.concat(encodeHeaders(config));
    const libxlAt = head.readUInt32LE(44) + 48;
    return {
        head, libxlAt, memory, recordPfn,
        pages: Buffer.concat(encodePages(memory, pfns).chunks),
        trailer: Buffer.concat(encodeTrailer({
            sharedInfo: new Uint8Array(PAGE_SIZE), suspendRecord: { pfn: recordPfn, bytes: rec.length }, xenstore: [['data/kv/ready', '1']],
        })),
    };
}
export function whole(p) {
    return Buffer.concat([p.head, p.pages, p.trailer]);
}
export function parse(bytes, stallMs = 2000) {
    return readImage(new ByteSource(bytes instanceof Readable ? bytes : Readable.from([bytes]), { stallMs }));
}
/** The trailer's parts: SHARED_INFO (8 + 4096), suspend record place (8 + 16), libxc END (8), then libxl's. */
export const TRAILER_XC_END = 8 + PAGE_SIZE + 8 + 16 + 8;
//# sourceMappingURL=save-image.js.map