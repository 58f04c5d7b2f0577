// Snapshots and clones as XCP's FileSR makes them. A writable VDI's image becomes a hidden,
// read-only base (a new record, managed=false, "base copy" as sm names it); a new, empty
// differencing leaf over it keeps the VDI's uuid and file name; the snapshot (read-only,
// is_a_snapshot, snapshot_of, snapshot_time) or the clone (writable) is a second leaf over the
// same base. Each child records its parent's uuid in sm_config `vhd-parent`, as sm does (for
// qcow2 too). A read-only VDI (a snapshot) is not split: its clone is a child of it directly.
// Nothing is copied, so the cost does not depend on the size.
//
// Under a running guest the files are prepared first: the base is a hard link to the leaf's
// file, and both children are made over it. Then the backend pauses I/O (in-flight requests
// drain), the new leaf is renamed over the VDI's file name in one atomic rename, the backend
// switches to a disk made of the new leaf over the very disk it served (no file is read again),
// and I/O resumes. A journal (journal.ts) says what to undo or finish after a crash: before the
// rename the base is only a second name of the old image, so the link and the new files go;
// after it, only the records are missing and are made.
import { randomUUID } from 'node:crypto';
import { link, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { XenError } from '../errors.js';
import { journalDone, journalEntries, journalWrite, syncDir } from './journal.js';
import { imageFormat } from './open.js';
import { CREATED_KEY, checkName, refreshSr, srPath } from './sr.js';
/** sm_config key naming a differencing image's parent VDI (sm's name, for every format here). */
export const PARENT_KEY = 'vhd-parent';
/** name_label sm gives hidden bases. */
export const BASE_NAME = 'base copy';
/** Images in a chain, the leaf included (XCP's limit; VHD_MAX_CHAIN and qcow2's MAX_CHAIN_DEPTH). */
const MAX_CHAIN = 30;
function layersOf(f, format) {
    if (!f.layers)
        throw new XenError('EOPNOTSUPP', `a ${format} VDI has no differencing images: snapshots and clones need vhd or qcow2`);
    return f.layers;
}
/** Images from `vdi` up to the root of its chain, by the records' vhd-parent. */
export function chainDepth(tx, vdi) {
    let n = 1;
    for (let p = vdi.sm_config[PARENT_KEY]; p !== undefined && n <= MAX_CHAIN; n++)
        p = tx.VDI.get(tx.VDI.getByUuid(p)).sm_config[PARENT_KEY];
    return n;
}
/** Take a snapshot or clone of VDI `ref` (see the top of this file). */
export async function snapshotVdi(db, ref, args, liveDisks, hooks = {}) {
    checkName('VDI', args.name);
    const { vdi, dir, depth } = await db.read((tx) => {
        const v = tx.VDI.get(ref);
        return { vdi: v, dir: srPath(tx, v.SR), depth: chainDepth(tx, v) };
    });
    const format = vdi.sm_config['format'] ?? 'raw';
    const f = imageFormat(format);
    const layers = layersOf(f, format);
    if (dir === null)
        throw new XenError('EOPNOTSUPP', 'a RAM SR keeps no differencing images');
    if (vdi.missing)
        throw new XenError('ENOENT', `VDI '${vdi.name_label}' (${vdi.uuid}) is missing`);
    if (depth + 1 > MAX_CHAIN)
        throw new XenError('EMLINK', `VDI '${vdi.name_label}' is on a chain of ${depth} images; the limit is ${MAX_CHAIN}: destroy snapshots so the garbage collector can coalesce`);
    const leafPath = join(dir, vdi.location);
    const child = { uuid: randomUUID(), name: args.name, description: args.description ?? '', clone: args.clone, time: new Date().toISOString() };
    const childLocation = `${child.uuid}.${f.extension}`;
    if (vdi.read_only) {
        if (hooks.before || hooks.wrap)
            throw new XenError('EINVAL', `VDI ${vdi.uuid} is read-only`);
        // Its data never changes: the new VDI is a child of it as it is.
        await layers.createChild(join(dir, childLocation), leafPath);
        return { ref: await recordChild(db, vdi, { ...child, location: childLocation }, vdi.uuid, f, dir), pausedMs: 0 };
    }
    const { live, foreign } = await liveDisks({ uuid: vdi.uuid, path: leafPath });
    if (foreign.length)
        throw new XenError('EBUSY', `VDI ${vdi.uuid} is served by ${foreign.join(', ')}: a driver domain's backend cannot be paused for a snapshot`);
    if (live.length > 1)
        throw new XenError('EBUSY', `VDI ${vdi.uuid} is attached ${live.length} times: snapshots of a shared VDI are not supported`);
    const baseUuid = randomUUID();
    const j = {
        op: 'snapshot', vdi: vdi.uuid, format, leaf: vdi.location, tmp: `.snapshot-${child.uuid}.${f.extension}`,
        base: { uuid: baseUuid, location: `${baseUuid}.${f.extension}` }, child: { ...child, location: childLocation },
    };
    const id = await journalWrite(dir, j);
    const [base, tmp, other] = [join(dir, j.base.location), join(dir, j.tmp), join(dir, childLocation)];
    let pausedMs = 0;
    try {
        await link(leafPath, base);
        await layers.createChild(tmp, base);
        await layers.createChild(other, base);
        await syncDir(dir);
        await hooks.before?.(base);
        const swap = async () => {
            await rename(tmp, leafPath);
            await syncDir(dir);
        };
        if (live[0]) {
            // Most of the leaf's dirty data goes out now, so the flush in the pause has little left.
            await live[0].disk.flush();
            pausedMs = await live[0].switchDisk(async (old) => {
                await old.flush();
                await swap();
                try {
                    const next = await layers.openOver(leafPath, old);
                    return hooks.wrap ? await hooks.wrap(next) : next;
                }
                catch (e) {
                    // Put the old image back under its name: the guest goes on as before.
                    await rename(base, leafPath);
                    await syncDir(dir);
                    throw e;
                }
            });
        }
        else {
            await swap();
        }
    }
    catch (e) {
        await rollBack(dir, j).catch(() => { });
        await journalDone(dir, id);
        throw e;
    }
    const newRef = await finish(db, vdi.SR, dir, j);
    await journalDone(dir, id);
    return { ref: newRef, pausedMs };
}
/** Before the rename: the leaf is as it was; the base link and the new files go. */
async function rollBack(dir, j) {
    const [leaf, base] = [join(dir, j.leaf), join(dir, j.base.location)];
    const [l, b] = await Promise.all([stat(leaf).catch(() => null), stat(base).catch(() => null)]);
    if (b !== null && (l === null || l.ino !== b.ino)) {
        // The leaf is the new child: the old image is back under the leaf's name only if we put it there.
        await rename(base, leaf);
    }
    await Promise.all([j.tmp, j.child.location, j.base.location].filter((n) => n !== j.leaf).map((n) => rm(join(dir, n), { force: true })));
    await syncDir(dir);
}
/** After the rename: the records of the base and the new VDI, and the leaf's new parent (idempotent). */
function finish(db, sr, dir, j) {
    return sizes(dir, j).then((sz) => db.transaction((tx) => {
        const leafRef = tx.VDI.getByUuid(j.vdi);
        const leaf = tx.VDI.get(leafRef);
        const found = tx.VDI.where('SR', sr).find((r) => tx.VDI.get(r).uuid === j.child.uuid);
        if (found !== undefined)
            return found;
        const parent = leaf.sm_config[PARENT_KEY];
        tx.VDI.create({
            uuid: j.base.uuid, name_label: BASE_NAME, SR: sr, virtual_size: leaf.virtual_size, physical_utilisation: sz.base, location: j.base.location,
            managed: false, read_only: true, sm_config: { format: j.format, ...(parent !== undefined && { [PARENT_KEY]: parent }) }, other_config: { [CREATED_KEY]: 'true' },
        });
        tx.VDI.update(leafRef, { physical_utilisation: sz.leaf, sm_config: { ...leaf.sm_config, [PARENT_KEY]: j.base.uuid } });
        const ref = childRecord(tx, leaf, leafRef, j.child, j.base.uuid, j.format, sz.child);
        refreshSr(tx, sr);
        return ref;
    }));
}
function childRecord(tx, of, ofRef, c, parent, format, physical) {
    return tx.VDI.create({
        uuid: c.uuid, name_label: c.name, name_description: c.description, SR: of.SR, virtual_size: of.virtual_size, physical_utilisation: physical,
        location: c.location, read_only: !c.clone, ...(!c.clone && { is_a_snapshot: true, snapshot_of: ofRef, snapshot_time: c.time }),
        sm_config: { format, [PARENT_KEY]: parent }, other_config: { [CREATED_KEY]: 'true' },
    });
}
async function recordChild(db, of, c, parent, f, dir) {
    const path = join(dir, c.location);
    const physical = (await f.info(path)).physicalUtilisation;
    return db.transaction((tx) => {
        const ref = childRecord(tx, of, tx.VDI.getByUuid(of.uuid), c, parent, of.sm_config['format'] ?? 'raw', physical);
        refreshSr(tx, of.SR);
        return ref;
    }).catch(async (e) => {
        await rm(path, { force: true });
        throw e;
    });
}
async function sizes(dir, j) {
    const used = async (n) => ((await stat(join(dir, n)).catch(() => null))?.blocks ?? 0) * 512;
    return { base: await used(j.base.location), leaf: await used(j.leaf), child: await used(j.child.location) };
}
/** Finish or undo the snapshots a crash interrupted in the SR at `dir`. */
export async function recoverSnapshots(db, sr, dir) {
    for (const { id, entry } of await journalEntries(dir)) {
        if (entry['op'] !== 'snapshot')
            continue;
        const j = entry;
        const [l, b] = await Promise.all([stat(join(dir, j.leaf)).catch(() => null), stat(join(dir, j.base.location)).catch(() => null)]);
        const renamed = b !== null && l !== null && l.ino !== b.ino && (await stat(join(dir, j.tmp)).catch(() => null)) === null;
        if (renamed)
            await finish(db, sr, dir, j);
        else
            await rollBack(dir, j);
        await journalDone(dir, id);
    }
}
//# sourceMappingURL=snapshot.js.map