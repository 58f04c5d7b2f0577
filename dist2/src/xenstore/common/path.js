// Node paths as xenstored checks them (docs/misc/xenstore.txt, cxenstored's is_valid_nodename):
// absolute, '/'-separated, no empty component, only [A-Za-z0-9_@/-], relative paths resolved
// against the connection's /local/domain/<domid>, and at most `pathMax` bytes below a domain's
// home directory. Special watch paths start with '@' and are only valid where a caller allows them.
import { XenError } from '../../errors.js';
const SLASH = 0x2f;
const AT = 0x40;
/** 1 for each byte a node name may contain. */
const VALID = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_@')
    VALID[c.charCodeAt(0)] = 1;
const LOCAL_DOMAIN = '/local/domain/';
export function domainPath(domid) {
    return `${LOCAL_DOMAIN}${domid}`;
}
/**
 * Length of a "/local/domain/<1-5 digits>/" prefix of `path` (0 if none): the path-length limit
 * applies to what follows, so deep guest paths cost every domain the same.
 */
function homePrefixLength(path) {
    if (!path.startsWith(LOCAL_DOMAIN))
        return 0;
    let i = LOCAL_DOMAIN.length;
    const start = i;
    while (i < path.length && i - start < 5) {
        const c = path.charCodeAt(i);
        if (c < 0x30 || c > 0x39)
            break;
        i++;
    }
    return i > start && path.charCodeAt(i) === SLASH ? i + 1 : 0;
}
/** Whether `path` (already absolute) is a valid node name, as cxenstored's is_valid_nodename. */
export function isValidNodePath(path, pathMax) {
    const n = path.length;
    if (n === 0 || path.charCodeAt(0) !== SLASH)
        return false;
    if (n > 1 && path.charCodeAt(n - 1) === SLASH)
        return false;
    if (n - homePrefixLength(path) > pathMax)
        return false;
    let prev = 0;
    for (let i = 0; i < n; i++) {
        const c = path.charCodeAt(i);
        if (c > 0xff || VALID[c] === 0 || (c === SLASH && prev === SLASH))
            return false;
        prev = c;
    }
    return true;
}
export function isSpecialPath(path) {
    return path.charCodeAt(0) === AT;
}
/**
 * Resolve `raw` (as sent by a client) to an absolute node path, or throw EINVAL. Relative paths
 * are taken below `home` (the connection's /local/domain/<domid>); special paths are not nodes.
 */
export function canonicalNodePath(raw, home, pathMax) {
    const path = raw.charCodeAt(0) === SLASH || isSpecialPath(raw) ? raw : `${home}/${raw}`;
    if (!isValidNodePath(path, pathMax))
        throw new XenError('EINVAL', `invalid node path '${printable(raw)}'`);
    return path;
}
/** The parent of an absolute path other than "/". */
export function parentPath(path) {
    const i = path.lastIndexOf('/');
    return i <= 0 ? '/' : path.slice(0, i);
}
export function baseName(path) {
    return path.slice(path.lastIndexOf('/') + 1);
}
export function childPath(parent, name) {
    return parent === '/' ? `/${name}` : `${parent}/${name}`;
}
/** A path cut short and made safe for a log line or error message. */
export function printable(s) {
    const cut = s.length > 80 ? `${s.slice(0, 80)}...` : s;
    return cut.replace(/[^\x20-\x7e]/g, '?');
}
//# sourceMappingURL=path.js.map