// Live VDI migration between SRs of one host (XCP's Storage XenMotion within a host):
//   1. a snapshot freezes the VDI's base (under a running guest, a pause of its I/O);
//   2. a new leaf is made in the destination over the source's base (so it reads as the
//      source's leaf does), and the guest's disk becomes a MirrorDisk: every write from then
//      on goes to the source's leaf and to the destination's, acknowledged once both have it
//      (the second pause);
//   3. the base chain is copied into the destination as one image (flattened, zeros skipped);
//   4. the destination's leaf is relinked onto that copy (compose);
//   5. the guest's backend switches to the destination's chain (the third pause: in-flight
//      writes drain, both leaves hold them);
//   6. the records move (the VDI keeps its uuid; its new base is a hidden VDI of the
//      destination), the source's leaf and the snapshot go, and the source's garbage collector
//      removes what no other VDI needs.
// A failure before step 6 puts the guest back on the plain source disk (a pause), deletes what
// was made in the destination and the snapshot: the guest runs on the source, which got every
// write. A journal in the destination names its new files, which recovery deletes unless the
// records already point at them. Without a guest the same steps run without the mirror (the
// leaf is empty after the snapshot, and nothing writes to it).
import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { XenError } from '../errors.js';
import { writeImage } from './copy.js';
import { journalDone, journalEntries, journalWrite } from './journal.js';
import { MirrorDisk } from './mirror.js';
import { imageFormat } from './open.js';
import { BASE_NAME, PARENT_KEY, snapshotVdi } from './snapshot.js';
import { CREATED_KEY, refreshSr, srPath } from './sr.js';
/**
 * Move VDI `ref` to SR `dest` (both directory SRs), live if a backend of this process serves it.
 * `destroySnapshot` removes the snapshot the migration made (vdi-destroy, which starts the
 * source's garbage collector).
 */
export async function migrateVdi(db, ref, dest, liveDisks, destroySnapshot, opts = {}) {
    const { vdi, srcDir, destDir } = await db.read((tx) => {
        const v = tx.VDI.get(ref);
        return { vdi: v, srcDir: srPath(tx, v.SR), destDir: srPath(tx, dest) };
    });
    if (vdi.SR === dest)
        throw new XenError('EINVAL', `VDI ${vdi.uuid} is in that SR already`);
    if (srcDir === null || destDir === null)
        throw new XenError('EOPNOTSUPP', 'live migration moves images between directory SRs, not RAM SRs');
    if (vdi.read_only || !vdi.managed)
        throw new XenError('EINVAL', `VDI ${vdi.uuid} is read-only or hidden: only a writable VDI is migrated`);
    const format = vdi.sm_config['format'] ?? 'raw';
    const f = imageFormat(format);
    if (!f.layers)
        throw new XenError('EOPNOTSUPP', `a ${format} VDI cannot be migrated live: vhd and qcow2 can`);
    const { live, foreign } = await liveDisks({ uuid: vdi.uuid, path: join(srcDir, vdi.location) });
    if (foreign.length || live.length > 1)
        throw new XenError('EBUSY', `VDI ${vdi.uuid} is served by ${[...foreign, `${live.length} backends`].join(', ')}: only one backend of dom0 can be switched`);
    const backend = live[0];
    let maxPausedMs = 0;
    const destBaseUuid = randomUUID();
    const destLeaf = join(destDir, `${vdi.uuid}.${f.extension}`);
    const destBase = join(destDir, `${destBaseUuid}.${f.extension}`);
    const journal = await journalWrite(destDir, { op: 'migrate', vdi: vdi.uuid, files: [destLeaf, destBase].map((p) => p.slice(destDir.length + 1)) });
    let mirror;
    let target;
    let switched = false;
    let srcBase = '';
    let snapUuid;
    try {
        // 1 and 2. Freeze the base; in the same pause of the guest's I/O, start the mirror onto a
        // new leaf in the destination over the source's base (opened there, once the base is final).
        const snap = await snapshotVdi(db, ref, { name: `migrate-${vdi.uuid}`, clone: false }, liveDisks, {
            before: async (base) => {
                srcBase = base;
                await f.layers.createChild(destLeaf, base);
            },
            wrap: async (disk) => {
                target = await f.open(destLeaf, { readOnly: false });
                return (mirror = new MirrorDisk(disk, target));
            },
        });
        maxPausedMs = snap.pausedMs;
        snapUuid = await db.read((tx) => tx.VDI.get(snap.ref).uuid);
        await opts.onStep?.('mirroring');
        // 3. The base chain, flattened into one image.
        const base = await f.open(srcBase, { readOnly: true });
        try {
            await writeImage(base, destBase, format, opts);
        }
        finally {
            await base.close();
        }
        await opts.onStep?.('copied');
        // 4. Compose: the destination's leaf onto the copied base.
        await f.layers.relink(destLeaf, destBase);
        await opts.onStep?.('composed');
        // 5. The guest onto the destination.
        if (backend && mirror) {
            const m = mirror;
            maxPausedMs = Math.max(maxPausedMs, await backend.switchDisk(async () => {
                await m.flush();
                if (m.broken)
                    throw new XenError('EIO', `the destination failed while mirroring: ${m.broken.message}`);
                return f.open(destLeaf, { readOnly: false });
            }));
            switched = true;
            await m.close().catch(() => { });
            await target.close().catch(() => { });
        }
        await opts.onStep?.('switched');
    }
    catch (e) {
        if (backend && mirror && !switched) {
            const m = mirror;
            await backend.switchDisk(async () => m.source).catch(() => { });
            await target?.close().catch(() => { });
        }
        await Promise.all([destLeaf, destBase].map((p) => rm(p, { force: true })));
        await journalDone(destDir, journal);
        if (snapUuid !== undefined)
            await destroySnapshot(snapUuid).catch(() => { });
        throw e;
    }
    // 6. Records; then the source's leaf and the snapshot go.
    const [leafSt, baseSt] = await Promise.all([stat(destLeaf), stat(destBase)]);
    await db.transaction((tx) => {
        const v = tx.VDI.get(ref);
        tx.VDI.create({
            uuid: destBaseUuid, name_label: BASE_NAME, SR: dest, virtual_size: v.virtual_size, physical_utilisation: baseSt.blocks * 512,
            location: `${destBaseUuid}.${f.extension}`, managed: false, read_only: true, sm_config: { format }, other_config: { [CREATED_KEY]: 'true' },
        });
        tx.VDI.update(ref, { SR: dest, location: `${vdi.uuid}.${f.extension}`, physical_utilisation: leafSt.blocks * 512,
            sm_config: { ...v.sm_config, [PARENT_KEY]: destBaseUuid }, other_config: { ...v.other_config, [CREATED_KEY]: 'true' } });
        refreshSr(tx, dest);
        refreshSr(tx, vdi.SR);
    });
    await journalDone(destDir, journal);
    await rm(join(srcDir, vdi.location), { force: true });
    await destroySnapshot(snapUuid);
    const mirrored = mirror?.mirrored ?? 0;
    return { maxPausedMs, copiedBytes: baseSt.blocks * 512, mirroredBytes: mirrored };
}
/** After a crash: a migration's destination files go unless a record now points at them. */
export async function recoverMigrations(db, sr, dir) {
    for (const { id, entry } of await journalEntries(dir)) {
        if (entry['op'] !== 'migrate')
            continue;
        const j = entry;
        const used = await db.read((tx) => new Set(tx.VDI.where('SR', sr).map((r) => tx.VDI.get(r).location)));
        for (const file of j.files)
            if (!used.has(file) && !file.includes('/'))
                await rm(join(dir, file), { force: true });
        await journalDone(dir, id);
    }
}
//# sourceMappingURL=migrate.js.map