// Storage repositories as XCP's FileSR keeps them: a directory of images, or RAM, with SR, PBD
// and VDI records in the host database (toolstack/db, a leaf module every layer may use). The
// SR's directory is in its PBD's device_config `location`, as XAPI has it. The host's default
// SR, `default`, is the state dir's images directory (where bare-name disk targets live), made
// on first use. sr-scan reconciles records with files: it introduces images it finds, marks
// records whose file is gone `missing`, and deletes nothing.
import { lstat, mkdir, readdir, realpath, statfs } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { XenError } from '../errors.js';
import { NULL_REF, isUuid } from '../toolstack/db/records.js';
import { formatOfExtension, imageFormat } from './open.js';
export const DEFAULT_SR_NAME = 'default';
/** other_config keys xenode sets: the host's default SR, and images xenode made (the only ones it deletes). */
export const DEFAULT_SR_KEY = 'xenode-default';
export const CREATED_KEY = 'xenode-created';
const MAX_NAME = 255;
/** File names an SR's images may have: no separators, no leading dot. */
const LOCATION_RE = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$/;
/**
 * A user's name for an SR or VDI: what the CLI and a config's vdi: target can name again. A
 * name shaped like a uuid would shadow one, so it is refused, as are control characters,
 * commas (the separator of disk specs) and '/'.
 */
export function checkName(what, name) {
    const problem = name === '' ? 'is empty'
        : name.length > MAX_NAME ? `is longer than ${MAX_NAME} characters`
            : /[\x00-\x1f\x7f]/.test(name) ? 'has a control character'
                : /[,/]/.test(name) ? "has a ',' or '/'"
                    : isUuid(name) ? 'looks like a uuid'
                        : name !== name.trim() ? 'starts or ends with a space' : undefined;
    if (problem)
        throw new XenError('EINVAL', `${what} name '${name.slice(0, 80)}' ${problem}`);
    return name;
}
/** The SR's directory from its PBD, or null for a RAM SR. */
export function srPath(tx, sr) {
    if (tx.SR.get(sr).type === 'ram')
        return null;
    const [pbd] = tx.PBD.where('SR', sr);
    const location = pbd === undefined ? undefined : tx.PBD.get(pbd).device_config['location'];
    if (location === undefined)
        throw new XenError('EIO', `SR ${tx.SR.get(sr).uuid} has no PBD with a location`);
    return location;
}
/** Where a VDI's image is: inside its SR's directory, checked (records come from a file anyone with the state dir could edit). */
export function imagePath(dir, vdi) {
    if (!LOCATION_RE.test(vdi.location))
        throw new XenError('EINVAL', `VDI ${vdi.uuid} has location '${vdi.location.slice(0, 80)}', not a file name in its SR`);
    return join(dir, vdi.location);
}
/** The real path of `path`, which must lie inside the real `dir` (no symbolic link leads out). */
export async function confined(path, dir) {
    const [real, realDir] = await Promise.all([realpath(path), realpath(dir)]);
    if (!real.startsWith(realDir + sep))
        throw new XenError('EACCES', `${path} leads to ${real}, outside its SR ${dir}`);
    return real;
}
/** The SRs of a host and their records. */
export class Storage {
    db;
    defaultPath;
    constructor(db, defaultPath) {
        this.db = db;
        this.defaultPath = defaultPath;
    }
    /** The default SR, made (with its directory) on first use. */
    async defaultSr() {
        await mkdir(this.defaultPath, { recursive: true, mode: 0o700 });
        const physical_size = await capacity(this.defaultPath);
        return this.db.transaction((tx) => {
            const [found] = tx.SR.getAll().filter((r) => tx.SR.get(r).other_config[DEFAULT_SR_KEY] === 'true');
            if (found !== undefined)
                return found;
            return createSr(tx, { name_label: DEFAULT_SR_NAME, name_description: "the host's local storage", type: 'file', physical_size,
                other_config: { [DEFAULT_SR_KEY]: 'true' } }, this.defaultPath);
        });
    }
    /** sr-create: a directory SR (made if absent) or a RAM SR. */
    async create(args) {
        checkName('SR', args.name);
        await this.defaultSr();
        // Before the directory is made; the transaction below checks again.
        await this.db.read((tx) => this.#nameFree(tx, args.name));
        let path = null;
        let physical_size = 0;
        if (args.type === 'file') {
            if (args.path === undefined)
                throw new XenError('EINVAL', 'sr-create type=file needs path=<directory>');
            if (!isAbsolute(args.path) || args.path.includes('\0'))
                throw new XenError('EINVAL', `path=${args.path}: the SR's directory must be an absolute path`);
            path = normalize(args.path);
            const st = await lstat(path).catch(() => null);
            if (st === null)
                await mkdir(path, { recursive: true, mode: 0o700 });
            else if (!st.isDirectory())
                throw new XenError('EINVAL', `path=${path} is not a directory`);
            path = await realpath(path);
            physical_size = await capacity(path);
        }
        else if (args.path !== undefined) {
            throw new XenError('EINVAL', 'a RAM SR has no path');
        }
        const dir = path;
        const ref = await this.db.transaction((tx) => {
            this.#nameFree(tx, args.name);
            if (dir !== null) {
                for (const sr of tx.SR.getAll()) {
                    const other = srPath(tx, sr);
                    if (other !== null && (other === dir || other.startsWith(dir + sep) || dir.startsWith(other + sep))) {
                        throw new XenError('EEXIST', `path=${dir} overlaps the directory of SR '${tx.SR.get(sr).name_label}' (${other})`);
                    }
                }
            }
            return createSr(tx, { name_label: args.name, name_description: args.description ?? '', type: args.type, physical_size }, dir);
        });
        return this.db.read((tx) => ({ ref, record: tx.SR.get(ref), path: dir }));
    }
    #nameFree(tx, name) {
        if (tx.SR.getByNameLabel(name).length)
            throw new XenError('EEXIST', `an SR named '${name}' exists already`);
    }
    async list() {
        await this.defaultSr();
        return this.db.read((tx) => tx.SR.getAll().map((ref) => ({ ref, record: tx.SR.get(ref), path: srPath(tx, ref) })));
    }
    /** An SR by name or uuid. */
    async resolve(name) {
        const def = await this.defaultSr();
        if (name === DEFAULT_SR_NAME)
            return def;
        return this.db.read((tx) => {
            if (isUuid(name))
                return tx.SR.getByUuid(name);
            const refs = tx.SR.getByNameLabel(name);
            if (refs.length === 0)
                throw new XenError('ENOENT', `no SR named '${name}': \`xenode sr-list\` shows them`);
            if (refs.length > 1)
                throw new XenError('EINVAL', `${refs.length} SRs are named '${name}': name one by its uuid`);
            return refs[0];
        });
    }
    /** sr-scan: reconcile the SR's VDI records with its directory. Deletes nothing. */
    async scan(sr) {
        const { path, record } = await this.db.read((tx) => ({ path: srPath(tx, sr), record: tx.SR.get(sr) }));
        const report = { sr: record.uuid, introduced: [], missing: [], found: [], skipped: [] };
        if (path === null)
            return report;
        const files = new Map();
        for (const file of (await readdir(path)).sort()) {
            if (file.startsWith('.'))
                continue;
            if (!LOCATION_RE.test(file)) {
                report.skipped.push({ file, why: 'not a name an image may have' });
                continue;
            }
            const st = await lstat(join(path, file));
            if (!st.isFile()) {
                report.skipped.push({ file, why: st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file' });
                continue;
            }
            // <name>.<ext> of a known format; any other file of the directory is a raw image (a bare-name disk target).
            const ext = /\.([a-z0-9]+)$/.exec(file)?.[1];
            const format = (ext !== undefined && formatOfExtension(ext)) || 'raw';
            try {
                files.set(file, { format, ...(await imageFormat(format).info(join(path, file))) });
            }
            catch (e) {
                report.skipped.push({ file, why: e.message });
            }
        }
        const physical_size = await capacity(path);
        await this.db.transaction((tx) => {
            const known = new Set();
            for (const ref of tx.VDI.where('SR', sr)) {
                const vdi = tx.VDI.get(ref);
                known.add(vdi.location);
                const f = files.get(vdi.location);
                if (!f) {
                    if (!vdi.missing)
                        report.missing.push(vdi.uuid);
                    tx.VDI.update(ref, { missing: true });
                    continue;
                }
                if (vdi.missing)
                    report.found.push(vdi.uuid);
                tx.VDI.update(ref, { missing: false, virtual_size: f.virtualSize, physical_utilisation: f.physicalUtilisation });
            }
            for (const [file, f] of files) {
                if (known.has(file))
                    continue;
                const ref = tx.VDI.create({ name_label: file, SR: sr, location: file, virtual_size: f.virtualSize, physical_utilisation: f.physicalUtilisation,
                    sm_config: { format: f.format } });
                report.introduced.push(tx.VDI.get(ref).uuid);
            }
            tx.SR.update(sr, { physical_size });
            refreshSr(tx, sr);
        });
        return report;
    }
}
/** An SR and its PBD, plugged into the pool's master; the first becomes the pool's default SR. */
function createSr(tx, fields, path) {
    const ref = tx.SR.create({ content_type: 'user', ...fields });
    const [pool] = tx.pool.getAll();
    const p = pool === undefined ? undefined : tx.pool.get(pool);
    tx.PBD.create({ SR: ref, device_config: path === null ? {} : { location: path }, currently_attached: true, ...(p && { host: p.master }) });
    if (pool !== undefined && p.default_SR === NULL_REF)
        tx.pool.update(pool, { default_SR: ref });
    return ref;
}
/** Recompute an SR's totals from its VDIs (call inside the transaction that changed them). */
export function refreshSr(tx, sr) {
    let physical = 0;
    let virtual = 0;
    for (const ref of tx.VDI.where('SR', sr)) {
        const v = tx.VDI.get(ref);
        physical += v.physical_utilisation;
        virtual += v.virtual_size;
    }
    tx.SR.update(sr, { physical_utilisation: physical, virtual_allocation: virtual });
}
/** The size of the file system a directory is on. */
async function capacity(dir) {
    const s = await statfs(dir);
    return s.blocks * s.bsize;
}
//# sourceMappingURL=sr.js.map