export declare function domainPath(domid: number): string;
/** Whether `path` (already absolute) is a valid node name, as cxenstored's is_valid_nodename. */
export declare function isValidNodePath(path: string, pathMax: number): boolean;
export declare function isSpecialPath(path: string): boolean;
/**
 * Resolve `raw` (as sent by a client) to an absolute node path, or throw EINVAL. Relative paths
 * are taken below `home` (the connection's /local/domain/<domid>); special paths are not nodes.
 */
export declare function canonicalNodePath(raw: string, home: string, pathMax: number): string;
/** The parent of an absolute path other than "/". */
export declare function parentPath(path: string): string;
export declare function baseName(path: string): string;
export declare function childPath(parent: string, name: string): string;
/** A path cut short and made safe for a log line or error message. */
export declare function printable(s: string): string;
