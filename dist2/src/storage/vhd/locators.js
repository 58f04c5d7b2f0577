// Parent locators as blktap writes them: the parent's path relative to the child, three times,
// as a MacX file URL in UTF-8 ("file://./base.vhd") and as Windows paths in UTF-16LE for W2KU
// and W2RU (".\base.vhd"; blktap writes the relative path in W2KU too). Read back, the first
// locator whose file exists names the parent (libvhd's order).
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { VHD_SECTOR } from './format.js';
export const PlatformCode = {
    MACX: 0x4d616358,
    W2KU: 0x57326b75,
    W2RU: 0x57327275,
};
/** The order blktap writes them in. */
export const BLKTAP_LOCATORS = ['MACX', 'W2KU', 'W2RU'];
/** A relative path as blktap's relative_path_to gives it: "./name" or "../dir/name". */
export function relativeParentPath(childPath, parentPath) {
    const rel = relative(dirname(resolve(childPath)), resolve(parentPath)).split(sep).join('/');
    return rel.startsWith('../') ? rel : `./${rel}`;
}
/** A locator's bytes for a relative path. */
export function encodeLocator(kind, rel) {
    if (kind === 'MACX')
        return Buffer.from(`file://${rel}`, 'utf8');
    // blktap: ".\" then the path without its "./", separators left as they are.
    return Buffer.from(`.\\${rel.startsWith('./') ? rel.slice(2) : rel}`, 'utf16le');
}
/** Bytes reserved for a locator's data: whole sectors. */
export function locatorSpace(length) {
    return Math.ceil(length / VHD_SECTOR) * VHD_SECTOR;
}
/**
 * The parent path a locator names, resolved against the child's directory; undefined for a
 * platform code we do not read or bytes that are not a path.
 */
export function decodeLocator(code, data, childPath) {
    let path;
    if (code === PlatformCode.MACX) {
        const url = Buffer.from(data).toString('utf8').replace(/\0+$/, '');
        if (!url.startsWith('file://'))
            return undefined;
        path = url.slice('file://'.length);
    }
    else if (code === PlatformCode.W2KU || code === PlatformCode.W2RU) {
        path = Buffer.from(data.subarray(0, data.length & ~1)).toString('utf16le').replace(/\0+$/, '').replace(/\\/g, '/');
        if (/^[A-Za-z]:/.test(path))
            path = path.slice(2);
    }
    else {
        return undefined;
    }
    if (path === '' || path.includes('\0'))
        return undefined;
    return isAbsolute(path) ? path : resolve(dirname(resolve(childPath)), path);
}
//# sourceMappingURL=locators.js.map