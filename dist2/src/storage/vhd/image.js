// One VHD file of a chain: its footer, dynamic header, BAT and sector bitmaps, checked at open,
// and the allocation of blocks in it. A fixed image is every block allocated, no bitmaps.
//
// Allocating a block is crash-safe by its order of writes (docs/BLOCK.md):
//   0. the file is extended to the new end (a full disk fails here, nothing changed yet);
//   1. the data, into the new block (past the old footer);
//   2. the block's bitmap (over or after the old footer);
//   3. the BAT entry;
//   4. the footer, moved to the new end.
// A crash between any two steps leaves a file whose BAT points only at blocks whose bitmap and
// data are written; only the footer at the end may be missing, and open then takes the copy at
// the start of the file and (writable) truncates after the last block and writes the footer
// there, dropping a block whose BAT entry was never written. Allocations queued while one is
// being committed go together as the next batch, each step for all of them at once (a group
// commit: one footer move for many blocks).
import { close } from 'node:fs';
import { promisify } from 'node:util';
import { openNamed } from '../named.js';
import { allSet, setBits } from './bitmap.js';
import { batBytes, batSector, checkBat, decodeBat } from './bat.js';
import { FOOTER_BYTES, decodeFooter, encodeFooter, virtualBytes } from './footer.js';
import { BAT_UNUSED, VHD_DEFAULT_BLOCK, VHD_SECTOR, VhdError, bitmapBytes } from './format.js';
import { HEADER_BYTES, decodeHeader } from './header.js';
import { datasync, fsError, pread, pwrite, transfer, truncate } from './io.js';
import { decodeLocator } from './locators.js';
const closeP = promisify(close);
/** Page size new blocks' data is aligned to. */
const PAGE = 4096;
/** The longest parent locator we read. */
const MAX_LOCATOR_BYTES = 8192;
export class VhdImage {
    readOnly;
    footer;
    header;
    type;
    /** Virtual size in bytes. */
    bytes;
    blockSize;
    sectorsPerBlock;
    /** BAT (dynamic and differencing); for a fixed image, empty. */
    bat;
    blocks;
    #fd;
    #path;
    #bitmapBytes;
    /** Cached bitmaps, loaded on first use; `#full[b]` = 1: every sector of block b is here. */
    #bitmaps = [];
    #loading = new Map();
    #full;
    /** Where the footer is and the next block goes. */
    #nextFree;
    #footerBytes;
    /** A failed allocation left the tail of the file unknown: truncate and rewrite the footer. */
    #tailDirty;
    /** Allocations waiting for the allocator, the batch it is committing, and the allocator's run. */
    #queue = [];
    #batch;
    #allocator;
    #blockLocks = new Map();
    constructor(path, fd, readOnly, footer, header, bat, blockSize, nextFree, tailDirty) {
        this.readOnly = readOnly;
        this.footer = footer;
        this.header = header;
        this.#path = path;
        this.#fd = fd;
        this.type = footer.type;
        this.bytes = virtualBytes(footer);
        this.blockSize = blockSize;
        this.sectorsPerBlock = blockSize / VHD_SECTOR;
        this.blocks = Math.ceil(this.bytes / blockSize);
        this.bat = bat;
        this.#bitmapBytes = bitmapBytes(blockSize);
        this.#full = new Uint8Array(this.blocks);
        if (footer.type === 'fixed')
            for (let b = 0; b < this.blocks; b++)
                this.#full[b] = (b + 1) * blockSize <= this.bytes ? 1 : 0;
        this.#nextFree = nextFree;
        this.#footerBytes = encodeFooter(footer);
        this.#tailDirty = tailDirty;
    }
    static async open(path, opts) {
        const { fd, stats } = await openNamed(path, { what: 'VHD image', kind: 'file', write: !opts.readOnly });
        try {
            const image = await VhdImage.#read(path, fd, stats.size, opts);
            if (image.#tailDirty && !opts.readOnly)
                await image.#restoreTail();
            return image;
        }
        catch (e) {
            await closeP(fd);
            throw e;
        }
    }
    static async #read(path, fd, size, opts) {
        if (size < FOOTER_BYTES)
            throw new VhdError(path, 'file size', `${size} bytes is too short for a footer (truncated?)`);
        const tail = new Uint8Array(FOOTER_BYTES);
        await pread(fd, path, tail, size - FOOTER_BYTES);
        let footer;
        let footerAtEnd = true;
        try {
            footer = decodeFooter(tail, path);
        }
        catch (e) {
            // A crash while a block was allocated leaves no footer at the end: the copy at the start
            // (dynamic and differencing images only) stands in for it.
            const head = new Uint8Array(FOOTER_BYTES);
            await pread(fd, path, head, 0);
            let copy;
            try {
                copy = decodeFooter(head, path);
            }
            catch {
                throw e;
            }
            if (copy.type === 'fixed')
                throw e;
            footer = copy;
            footerAtEnd = false;
        }
        const limit = footerAtEnd ? size - FOOTER_BYTES : size;
        if (footer.type === 'fixed') {
            const bytes = virtualBytes(footer);
            if (limit < bytes)
                throw new VhdError(path, 'file size', `${size} bytes is too short for a fixed image of ${bytes} bytes (truncated?)`);
            return new VhdImage(path, fd, opts.readOnly, footer, undefined, new Uint32Array(0), opts.blockSize ?? VHD_DEFAULT_BLOCK, limit, false);
        }
        const headerAt = Number(footer.dataOffset);
        if (headerAt + HEADER_BYTES > limit)
            throw new VhdError(path, 'footer data offset', `header at byte ${headerAt} is outside the file (truncated?)`);
        const hb = new Uint8Array(HEADER_BYTES);
        await pread(fd, path, hb, headerAt);
        const header = decodeHeader(hb, path);
        const bytes = virtualBytes(footer);
        if (header.maxTableEntries * header.blockSize < bytes) {
            throw new VhdError(path, 'dynamic header max table entries', `${header.maxTableEntries} blocks do not cover the disk's ${bytes} bytes`);
        }
        const reserved = [
            { what: 'footer copy', start: 0, end: FOOTER_BYTES },
            { what: 'dynamic header', start: headerAt, end: headerAt + HEADER_BYTES },
            { what: 'BAT', start: header.tableOffset, end: header.tableOffset + batBytes(header.maxTableEntries) },
        ];
        header.locators.forEach((l, i) => {
            if (l.length > l.space || l.length > MAX_LOCATOR_BYTES) {
                throw new VhdError(path, `parent locator ${i} length`, `${l.length} bytes is more than its ${Math.min(l.space, MAX_LOCATOR_BYTES)} bytes of space`);
            }
            reserved.push({ what: `parent locator ${i}`, start: l.offset, end: l.offset + l.space });
        });
        for (const r of reserved) {
            if (r.end > limit)
                throw new VhdError(path, r.what, `ends at byte ${r.end}, outside the file's ${limit} bytes (truncated?)`);
            for (const o of reserved) {
                if (o !== r && r.start < o.end && o.start < r.end)
                    throw new VhdError(path, r.what, `overlaps the ${o.what}`);
            }
        }
        const raw = new Uint8Array(batBytes(header.maxTableEntries));
        await pread(fd, path, raw, header.tableOffset);
        const bat = decodeBat(raw, header.maxTableEntries);
        const blockEnd = checkBat(bat, bitmapBytes(header.blockSize) + header.blockSize, reserved, limit, path);
        const metaEnd = Math.max(...reserved.map((r) => Math.ceil(r.end / VHD_SECTOR) * VHD_SECTOR));
        const nextFree = footerAtEnd ? limit : Math.max(metaEnd, blockEnd);
        return new VhdImage(path, fd, opts.readOnly, footer, header, bat, header.blockSize, nextFree, !footerAtEnd);
    }
    /** Where the file is (its name in errors and the base of its relative parent locators). */
    get path() {
        return this.#path;
    }
    /** The file was renamed (or linked) to `path` while open: a snapshot made it a base. */
    moved(path) {
        this.#path = path;
    }
    get uuid() {
        return this.footer.uuid;
    }
    isAllocated(b) {
        return this.type === 'fixed' ? b < this.blocks : b < this.bat.length && this.bat[b] !== BAT_UNUSED;
    }
    /** Every sector of the (allocated) block is in this image: read it without its bitmap. */
    isFull(b) {
        return this.#full[b] === 1;
    }
    /** Sectors of block b inside the disk (the last block may be short). */
    sectorsIn(b) {
        return Math.min(this.sectorsPerBlock, Math.ceil(this.bytes / VHD_SECTOR) - b * this.sectorsPerBlock);
    }
    /** Byte offset of sector `s` of allocated block `b`. */
    #dataAt(b, s) {
        return this.type === 'fixed' ? b * this.blockSize + s * VHD_SECTOR : this.bat[b] * VHD_SECTOR + this.#bitmapBytes + s * VHD_SECTOR;
    }
    /** The bitmap of an allocated block (loaded once). */
    bitmap(b) {
        const have = this.#bitmaps[b];
        if (have)
            return have;
        let p = this.#loading.get(b);
        if (!p) {
            p = this.#loadBitmap(b);
            this.#loading.set(b, p);
            void p.finally(() => this.#loading.delete(b)).catch(() => { });
        }
        return p;
    }
    async #loadBitmap(b) {
        let bm = new Uint8Array(this.#bitmapBytes);
        if (this.type === 'fixed')
            setBits(bm, 0, this.sectorsIn(b));
        else
            await pread(this.#fd, this.path, bm, this.bat[b] * VHD_SECTOR);
        bm = this.#bitmaps[b] ??= bm;
        if (allSet(bm, 0, this.sectorsIn(b)))
            this.#full[b] = 1;
        return bm;
    }
    read(b, s, bufs) {
        return transfer('read', this.#fd, this.path, bufs, this.#dataAt(b, s));
    }
    write(b, s, bufs) {
        return transfer('write', this.#fd, this.path, bufs, this.#dataAt(b, s));
    }
    /** After data was written to an allocated block: its sectors' bits, set on disk. */
    markWritten(b, s, count) {
        if (this.#full[b] === 1)
            return undefined;
        return this.#lockBlock(b, async () => {
            const bm = await this.bitmap(b);
            if (allSet(bm, s, count))
                return;
            // Bits are set only once their data is written, so a bitmap on disk never claims a
            // sector whose data is not there.
            const next = bm.slice();
            setBits(next, s, count);
            await pwrite(this.#fd, this.path, next, this.bat[b] * VHD_SECTOR);
            this.#bitmaps[b] = next;
            if (allSet(next, 0, this.sectorsIn(b)))
                this.#full[b] = 1;
        });
    }
    /**
     * Allocate block `b` with `bufs` written at its sector `s`. A differencing image marks only
     * those sectors (the rest still comes from the parent); an image with no parent marks the
     * whole block, whose other sectors read as the zeros of new file space. Returns false if the
     * block was allocated by another request meanwhile (write to it then).
     */
    allocate(b, s, bufs) {
        if (this.isAllocated(b))
            return Promise.resolve(false);
        const other = this.#queue.find((a) => a.b === b) ?? this.#batch?.find((a) => a.b === b);
        if (other)
            return other.done.then(() => false, () => false);
        let count = 0;
        for (const x of bufs)
            count += x.byteLength / VHD_SECTOR;
        const bm = new Uint8Array(this.#bitmapBytes);
        if (this.type === 'differencing')
            setBits(bm, s, count);
        else
            bm.fill(0xff);
        let settle;
        const done = new Promise((resolve, reject) => (settle = { resolve, reject }));
        this.#queue.push({ b, s, bufs, bm, start: 0, done, ...settle });
        this.#allocator ??= this.#allocateQueued();
        return done.then(() => true);
    }
    /**
     * The allocator: takes every queued allocation as one batch and commits it with the order
     * above, each step for the whole batch at once (group commit: under a deep queue, many blocks
     * cost one footer move), then the next batch.
     */
    async #allocateQueued() {
        while (this.#queue.length > 0) {
            const batch = (this.#batch = this.#queue.splice(0));
            try {
                await this.#commit(batch);
                for (const a of batch)
                    a.resolve();
            }
            catch (e) {
                for (const a of batch)
                    a.reject(e);
            }
        }
        this.#batch = undefined;
        this.#allocator = undefined;
    }
    async #commit(batch) {
        if (this.#tailDirty)
            await this.#restoreTail();
        const first = this.#nextFree;
        let end = first;
        for (const a of batch) {
            // Each block's data starts on a page (its bitmap just before): a 4 KiB read or write then
            // touches one page of the page cache, not two. The gap left holds zeros (or the old footer).
            a.start = Math.ceil((end + this.#bitmapBytes) / PAGE) * PAGE - this.#bitmapBytes;
            end = a.start + this.#bitmapBytes + this.blockSize;
        }
        const all = (fn) => Promise.all(batch.map(fn));
        try {
            await truncate(this.#fd, this.path, end + FOOTER_BYTES);
            await all((a) => transfer('write', this.#fd, this.path, a.bufs, a.start + this.#bitmapBytes + a.s * VHD_SECTOR));
            await all((a) => pwrite(this.#fd, this.path, a.bm, a.start));
        }
        catch (e) {
            // Nothing points at the new blocks yet: cut them off and put the footer back.
            this.#tailDirty = true;
            await this.#restoreTail().catch(() => { });
            throw e;
        }
        // From here the BAT may point into the new space, so it stays: unreferenced blocks in it
        // are only lost space, and the footer goes after it.
        this.#nextFree = end;
        try {
            const sectors = new Map();
            for (const a of batch) {
                const k = Math.floor(a.b / (VHD_SECTOR / 4));
                sectors.set(k, [...(sectors.get(k) ?? []), a]);
            }
            await Promise.all([...sectors].map(async ([k, group]) => {
                const entries = new Map(group.map((a) => [a.b, a.start / VHD_SECTOR]));
                await pwrite(this.#fd, this.path, batSector(this.bat, entries), this.header.tableOffset + k * VHD_SECTOR);
                for (const a of group) {
                    this.bat[a.b] = a.start / VHD_SECTOR;
                    this.#bitmaps[a.b] = a.bm;
                    if (allSet(a.bm, 0, this.sectorsIn(a.b)))
                        this.#full[a.b] = 1;
                }
            }));
            await pwrite(this.#fd, this.path, this.#footerBytes, end);
        }
        catch (e) {
            this.#tailDirty = true;
            throw e;
        }
    }
    /** Cut the file after the last block and write the footer there. */
    async #restoreTail() {
        await truncate(this.#fd, this.path, this.#nextFree + FOOTER_BYTES);
        await pwrite(this.#fd, this.path, this.#footerBytes, this.#nextFree);
        await datasync(this.#fd, this.path);
        this.#tailDirty = false;
    }
    #lockBlock(b, fn) {
        const prev = this.#blockLocks.get(b) ?? Promise.resolve();
        const p = prev.then(fn);
        const tail = p.catch(() => { });
        this.#blockLocks.set(b, tail);
        void tail.then(() => {
            if (this.#blockLocks.get(b) === tail)
                this.#blockLocks.delete(b);
        });
        return p;
    }
    /** Parent locators' data, read and resolved against this file's directory, in header order. */
    async parentPaths() {
        const out = [];
        for (const l of this.header?.locators ?? []) {
            const data = new Uint8Array(l.length);
            await pread(this.#fd, this.path, data, l.offset);
            const p = decodeLocator(l.code, data, this.path);
            if (p !== undefined)
                out.push(p);
        }
        return out;
    }
    async flush() {
        if (this.readOnly)
            return;
        await this.#allocator;
        if (this.#tailDirty)
            await this.#restoreTail();
        await datasync(this.#fd, this.path);
    }
    async close() {
        const fd = this.#fd;
        if (fd < 0)
            return;
        await this.#allocator;
        this.#fd = -1;
        await closeP(fd).catch((e) => {
            throw fsError('close', this.path, e);
        });
    }
}
//# sourceMappingURL=image.js.map