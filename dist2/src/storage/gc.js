// The garbage collector of an SR, as sm's cleanup does it for FileSR. A hidden image (a base
// made by a snapshot, managed=false) with no child left is deleted; one with a single child is
// coalesced with it, the child's data copied into the parent (sm's direction: child into
// parent):
// - the child hidden too: its children are relinked to the parent (their headers name it), then
//   the child goes;
// - the child a leaf (a VDI, when its snapshot was deleted): the parent, now holding the leaf's
//   data, is renamed over the leaf's file, so the VDI keeps its uuid and file name (sm's leaf
//   coalesce). A leaf a guest uses is left for a later run (said in the report).
// Every coalesce is journaled (journal.ts) and each step can be redone: copying the child's
// sectors again writes the same data, a relink names the same parent, and a step that is done
// shows in the files (the child or the parent gone). So a kill -9 at any step leaves a chain
// that reads the same, and the next run finishes the job. The copy is throttled: it works at
// most `duty` of the time, sleeping in between, so a guest keeps its disk's throughput.
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { XenError } from '../errors.js';
import { SECTOR_SIZE } from './disk.js';
import { journalDone, journalEntries, journalWrite, syncDir } from './journal.js';
import { imageFormat } from './open.js';
import { recoverMigrations } from './migrate.js';
import { PARENT_KEY, recoverSnapshots } from './snapshot.js';
import { CREATED_KEY, refreshSr } from './sr.js';
/** The share of time a coalesce copies by default: the guest keeps the rest. */
export const GC_DUTY = 0.1;
/** Bytes a coalesce copies per step: small, so a guest's requests never wait long behind one on libuv's pool. */
const GC_CHUNK_BYTES = 256 * 1024;
const exists = (path) => stat(path).then(() => true, () => false);
/** One pass over the SR at `dir`: finish interrupted operations, then delete and coalesce until nothing is left to do. */
export async function collectGarbage(db, sr, dir, opts = {}) {
    const report = { removed: [], coalesced: [], deferred: [] };
    await recover(db, sr, dir, opts);
    const deferred = new Set();
    for (let round = 0;; round++) {
        opts.signal?.throwIfAborted();
        const records = await db.read((tx) => tx.VDI.where('SR', sr).map((r) => tx.VDI.get(r)));
        if (round > records.length)
            break;
        const kids = new Map();
        for (const v of records) {
            const p = v.sm_config[PARENT_KEY];
            if (p !== undefined)
                kids.set(p, [...(kids.get(p) ?? []), v]);
        }
        const hidden = records.find((v) => !v.managed && !v.missing && (kids.get(v.uuid)?.length ?? 0) <= 1 && !deferred.has(v.uuid));
        if (!hidden)
            break;
        const children = kids.get(hidden.uuid) ?? [];
        if (children.length === 0) {
            if (hidden.other_config[CREATED_KEY] === 'true')
                await rm(join(dir, hidden.location), { force: true });
            await db.transaction((tx) => {
                tx.VDI.destroy(tx.VDI.getByUuid(hidden.uuid));
                refreshSr(tx, sr);
            });
            report.removed.push(hidden.uuid);
            continue;
        }
        const child = children[0];
        const leaf = child.managed;
        if (leaf && (kids.get(child.uuid)?.length ?? 0) > 0) {
            // A VDI (a read-only snapshot) with clones of its own stays what it is.
            deferred.add(hidden.uuid);
            continue;
        }
        if (child.other_config[CREATED_KEY] !== 'true') {
            // Coalescing ends with the child's file deleted or replaced: never a file xenode did not make.
            deferred.add(hidden.uuid);
            report.deferred.push({ uuid: child.uuid, why: 'has an image xenode did not make (sr-scan found it): it is not coalesced' });
            continue;
        }
        const release = leaf && opts.hold ? opts.hold(child.uuid) : () => { };
        if (!release) {
            deferred.add(hidden.uuid);
            report.deferred.push({ uuid: child.uuid, why: 'is busy (a snapshot runs on it)' });
            continue;
        }
        try {
            const users = leaf ? await opts.users?.({ uuid: child.uuid, path: join(dir, child.location) }) ?? [] : [];
            if (users.length) {
                deferred.add(hidden.uuid);
                report.deferred.push({ uuid: child.uuid, why: `in use by ${users.join(', ')}: its leaf is coalesced once it is free` });
                continue;
            }
            const j = {
                op: 'coalesce', format: hidden.sm_config['format'] ?? 'raw', leaf,
                parent: { uuid: hidden.uuid, location: hidden.location }, child: { uuid: child.uuid, location: child.location },
            };
            const id = await journalWrite(dir, j);
            const done = await coalesce(db, sr, dir, j, opts);
            await journalDone(dir, id);
            if (done === true)
                report.coalesced.push({ parent: hidden.uuid, child: child.uuid, leaf });
            else {
                deferred.add(hidden.uuid);
                report.deferred.push({ uuid: done, why: 'is busy (a snapshot or migration runs on it): its chain is coalesced later' });
            }
        }
        finally {
            release();
        }
    }
    return report;
}
/** Finish what a crash interrupted: snapshots, migrations into this SR, then coalesces. */
export async function recover(db, sr, dir, opts = {}) {
    await recoverSnapshots(db, sr, dir);
    await recoverMigrations(db, sr, dir);
    for (const { id, entry } of await journalEntries(dir)) {
        if (entry['op'] !== 'coalesce')
            continue;
        // A busy VDI leaves the job undone but the chain consistent: the journal goes, a later run starts afresh.
        await coalesce(db, sr, dir, entry, opts);
        await journalDone(dir, id);
    }
}
/**
 * The steps of one coalesce; each is skipped when the files show it done. A hidden child's
 * children are read from the records after the copy (a snapshot may have split one meanwhile)
 * and held while they are relinked; if one is busy, the coalesce stops there (true: done; else
 * the busy VDI's uuid): the copy changed nothing any reader sees.
 */
async function coalesce(db, sr, dir, j, opts) {
    const f = imageFormat(j.format);
    const [parentPath, childPath] = [join(dir, j.parent.location), join(dir, j.child.location)];
    const releases = [];
    try {
        if (await exists(j.leaf ? parentPath : childPath)) {
            await copyDown(f, childPath, parentPath, opts);
            await opts.onStep?.('copied');
            if (j.leaf) {
                await rename(parentPath, childPath);
                await syncDir(dir);
                await opts.onStep?.('renamed');
            }
            else {
                const grandchildren = await db.read((tx) => tx.VDI.where('SR', sr).map((r) => tx.VDI.get(r)).filter((v) => v.sm_config[PARENT_KEY] === j.child.uuid));
                for (const g of grandchildren) {
                    const release = g.managed && opts.hold ? opts.hold(g.uuid) : () => { };
                    if (!release)
                        return g.uuid;
                    releases.push(release);
                }
                for (const g of grandchildren)
                    await f.layers.relink(join(dir, g.location), parentPath);
                await opts.onStep?.('relinked');
            }
        }
        await record(db, sr, j, (await stat(j.leaf ? childPath : parentPath).catch(() => null))?.blocks ?? 0);
    }
    finally {
        for (const r of releases)
            r();
    }
    await opts.onStep?.('recorded');
    if (!j.leaf) {
        await rm(childPath, { force: true });
        await syncDir(dir);
    }
    return true;
}
/** The records after a coalesce (idempotent: a run after a crash may repeat it). */
async function record(db, sr, j, physical) {
    await db.transaction((tx) => {
        const find = (uuid) => tx.VDI.where('SR', sr).find((r) => tx.VDI.get(r).uuid === uuid);
        const parentRef = find(j.parent.uuid);
        const childRef = find(j.child.uuid);
        if (j.leaf) {
            if (parentRef !== undefined && childRef !== undefined) {
                const grand = tx.VDI.get(parentRef).sm_config[PARENT_KEY];
                const { [PARENT_KEY]: _, ...rest } = tx.VDI.get(childRef).sm_config;
                tx.VDI.update(childRef, { physical_utilisation: physical * 512, sm_config: { ...rest, ...(grand !== undefined && { [PARENT_KEY]: grand }) } });
            }
            if (parentRef !== undefined)
                tx.VDI.destroy(parentRef);
        }
        else {
            // The relinked children: every record still naming the child.
            for (const r of tx.VDI.where('SR', sr)) {
                const v = tx.VDI.get(r);
                if (v.sm_config[PARENT_KEY] === j.child.uuid) {
                    tx.VDI.update(r, { sm_config: { ...v.sm_config, [PARENT_KEY]: j.parent.uuid } });
                }
            }
            if (childRef !== undefined)
                tx.VDI.destroy(childRef);
            if (parentRef !== undefined)
                tx.VDI.update(parentRef, { physical_utilisation: physical * 512 });
        }
        refreshSr(tx, sr);
    });
}
/** Copy the sectors the child image holds itself into its parent, throttled; then flush the parent. */
async function copyDown(f, childPath, parentPath, opts) {
    const duty = opts.duty ?? GC_DUTY;
    if (!(duty > 0 && duty <= 1))
        throw new XenError('EINVAL', `GC duty ${duty} is not in (0, 1]`);
    const child = (await f.open(childPath, { readOnly: true }));
    try {
        const parent = await f.open(parentPath, { readOnly: false });
        try {
            const runs = [];
            let total = 0;
            for await (const r of child.leafExtents()) {
                runs.push(r);
                total += r[1] * SECTOR_SIZE;
            }
            const per = GC_CHUNK_BYTES / SECTOR_SIZE;
            const buf = new Uint8Array(GC_CHUNK_BYTES);
            let done = 0;
            for (const [first, count] of runs) {
                for (let at = first; at < first + count; at += per) {
                    opts.signal?.throwIfAborted();
                    const t0 = performance.now();
                    const part = buf.subarray(0, Math.min(per, first + count - at) * SECTOR_SIZE);
                    await child.read(at, [part]);
                    await parent.write(at, [part]);
                    done += part.byteLength;
                    opts.progress?.(done, total);
                    const busy = performance.now() - t0;
                    if (duty < 1)
                        await sleep(busy * (1 / duty - 1));
                }
            }
            await parent.flush();
        }
        finally {
            await parent.close();
        }
    }
    finally {
        await child.close();
    }
}
//# sourceMappingURL=gc.js.map