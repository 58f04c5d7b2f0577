import { Buffer } from 'node:buffer';
import { type Accessor, type Perms } from './perms.js';
import type { Quotas } from './quota.js';
import { Node } from './store.js';
import type { View } from './view.js';
/** The node at `path` if `who` has all of `want` on it. */
export declare function accessNode(view: View, who: Accessor, path: string, want: number): Node;
export declare function readNode(view: View, who: Accessor, path: string): Node;
/** WRITE; `value` holds the bytes as a latin1 string. */
export declare function writeNode(view: View, who: Accessor, q: Quotas, path: string, value: string): void;
/** MKDIR: create an empty node; one that exists already is fine. */
export declare function makeNode(view: View, who: Accessor, q: Quotas, path: string): void;
/**
 * RM: remove `path` and everything below it. Watches on each removed descendant fire with
 * its path; watches on `path` and above fire once, with `path`. A missing node whose parent
 * exists is not an error. In a transaction the view may be inconsistent (a parent first read
 * before another client added or removed a child): as cxenstored, a listed child that is gone
 * stops the walk with EIO, a parent that does not list the node gives EIO after the walk, and
 * what was removed before stays removed; a missing parent is EINVAL.
 */
export declare function removeNode(view: View, who: Accessor, path: string): void;
/** SET_PERMS on a node: its owner (or a privileged domain) only; only the privileged may give it away. */
export declare function setNodePerms(view: View, who: Accessor, path: string, perms: Perms): void;
/**
 * DIRECTORY_PART reply for byte offset `offset` into the child list: "<generation>\0" then as
 * many whole names as fit, with an extra "\0" after the final chunk (cxenstored's algorithm,
 * including its treatment of offsets that do not fall on a name).
 */
export declare function directoryPart(node: Node, offset: string): Buffer;
