// The node operations behind READ, WRITE, MKDIR, RM, GET/SET_PERMS, DIRECTORY(_PART), written
// once against a View (the live tree or a transaction). Permission and errno rules follow
// cxenstored: a missing node is ENOENT only if its nearest existing ancestor grants the access
// asked for (else EACCES, so a guest learns nothing about nodes it may not see); creating a node
// needs write access to that ancestor; new nodes inherit its permissions, and an unprivileged
// creator owns them.
import { Buffer } from 'node:buffer';
import { XENSTORE_PAYLOAD_MAX } from '../../abi/xs_wire.js';
import { XenError } from '../../errors.js';
import { atoi } from './cnum.js';
import { baseName, childPath, parentPath } from '../common/path.js';
import { type Accessor, type Perms, XS_PERM_OWNER, XS_PERM_READ, XS_PERM_WRITE, permFor } from './perms.js';
import type { Quotas } from './quota.js';
import { Children } from './children.js';
import { Node } from './store.js';
import type { View } from './view.js';

function allowed(who: Accessor, perms: Perms, want: number): boolean {
  return who.privileged || (permFor(who, perms) & want) === want;
}

/**
 * The error for a request on a missing node (cxenstored errno_from_parents). The ancestors are
 * read up to the nearest existing one for every caller, privileged or not: in a transaction
 * those reads are accesses that commit checks, as in cxenstored.
 */
function missing(view: View, who: Accessor, path: string, want: number): XenError {
  let p = path;
  let anc: Node | undefined;
  do {
    p = parentPath(p);
    anc = view.get(p);
  } while (anc === undefined && p !== '/');
  if (!who.privileged && (anc === undefined || (permFor(who, anc.perms) & want) === 0)) {
    return XenError.quiet('EACCES', `${path}: permission denied`);
  }
  return XenError.quiet('ENOENT', `${path}: no such node`);
}

/** The node at `path` if `who` has all of `want` on it. */
export function accessNode(view: View, who: Accessor, path: string, want: number): Node {
  const n = view.get(path);
  if (n === undefined) throw missing(view, who, path, want);
  if (!allowed(who, n.perms, want)) throw XenError.quiet('EACCES', `${path}: permission denied`);
  return n;
}

export function readNode(view: View, who: Accessor, path: string): Node {
  return accessNode(view, who, path, XS_PERM_READ);
}

function checkSize(who: Accessor, q: Quotas, node: Node, path: string): void {
  if (!who.privileged && node.size > q.nodeSize) {
    throw new XenError('ENOSPC', `${path}: node would exceed the node-size quota of ${q.nodeSize} bytes`);
  }
}

/** Create `path` and any missing ancestors (cxenstored create_node); returns the new node. */
function createNode(view: View, who: Accessor, q: Quotas, path: string, value: string): Node {
  const created = [path];
  let top = parentPath(path);
  let anc = view.get(top);
  while (anc === undefined) {
    created.push(top);
    top = parentPath(top);
    anc = view.get(top);
  }
  if (!allowed(who, anc.perms, XS_PERM_WRITE)) throw XenError.quiet('EACCES', `${path}: permission denied`);
  const parent = anc.withChildren(anc.children.appended(baseName(created[created.length - 1]!)));
  if (!who.privileged) {
    if (view.ownedBy(who.domid) + created.length > q.nodes) {
      throw new XenError('ENOSPC', `domain ${who.domid} would exceed its quota of ${q.nodes} nodes`);
    }
    checkSize(who, q, parent, top);
  }
  const perms = who.privileged ? anc.perms : anc.perms.withOwner(who.domid);
  const node = new Node(value, perms);
  checkSize(who, q, node, path);
  view.set(path, node);
  for (let i = 1; i < created.length; i++) {
    view.set(created[i]!, new Node('', perms, Children.of(baseName(created[i - 1]!))));
  }
  view.set(top, parent);
  return node;
}

/** WRITE; `value` holds the bytes as a latin1 string. */
export function writeNode(view: View, who: Accessor, q: Quotas, path: string, value: string): void {
  const old = view.get(path);
  let node: Node;
  if (old === undefined) {
    node = createNode(view, who, q, path, value);
  } else {
    if (!allowed(who, old.perms, XS_PERM_WRITE)) throw XenError.quiet('EACCES', `${path}: permission denied`);
    node = old.withValue(value);
    checkSize(who, q, node, path);
    view.set(path, node);
  }
  view.changed({ path, exact: false, node, oldPerms: undefined });
}

/** MKDIR: create an empty node; one that exists already is fine. */
export function makeNode(view: View, who: Accessor, q: Quotas, path: string): void {
  const old = view.get(path);
  if (old !== undefined) {
    if (!allowed(who, old.perms, XS_PERM_WRITE)) throw XenError.quiet('EACCES', `${path}: permission denied`);
    return;
  }
  const node = createNode(view, who, q, path, '');
  view.changed({ path, exact: false, node, oldPerms: undefined });
}

/**
 * RM: remove `path` and everything below it. Watches on each removed descendant fire with
 * its path; watches on `path` and above fire once, with `path`. A missing node whose parent
 * exists is not an error. In a transaction the view may be inconsistent (a parent first read
 * before another client added or removed a child): as cxenstored, a listed child that is gone
 * stops the walk with EIO, a parent that does not list the node gives EIO after the walk, and
 * what was removed before stays removed; a missing parent is EINVAL.
 */
export function removeNode(view: View, who: Accessor, path: string): void {
  const node = view.get(path);
  if (node === undefined) {
    const err = missing(view, who, path, XS_PERM_WRITE);
    if (err.errno === 'ENOENT' && view.get(parentPath(path)) !== undefined) return;
    throw err;
  }
  if (!allowed(who, node.perms, XS_PERM_WRITE)) throw XenError.quiet('EACCES', `${path}: permission denied`);
  if (path === '/') throw new XenError('EINVAL', 'the root node cannot be removed');
  // The parent is read before the walk, as cxenstored's rm_node does (access order matters to
  // the order of a transaction's watch events).
  const pp = parentPath(path);
  const parent = view.get(pp);
  // Only a transaction's view can lack the parent of a node it has (cxenstored: EINVAL).
  if (parent === undefined) throw new XenError('EINVAL', `${pp}, the parent of ${path}, is missing in this transaction's view`);
  // Post-order walk: children go (and fire) before their parent, as cxenstored's walk does.
  // Each removed child leaves its parent's list, as there; since they go in list order, what
  // is left of a list is all but its first `removed` entries, made only if the walk stops
  // (a parent with n children costs O(n), not a copy of its list per child).
  type Frame = { path: string; node: Node; kids: Iterator<string>; removed: number };
  const stack: Frame[] = [{ path, node, kids: node.children.names.values(), removed: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.kids.next();
    if (!next.done) {
      const p = childPath(top.path, next.value);
      const n = view.get(p);
      if (n === undefined) {
        // Keep the view consistent with what went: each frame's list without its removed children.
        for (const f of stack) if (f.removed > 0) view.set(f.path, f.node.withChildren(f.node.children.withoutFirst(f.removed)));
        throw new XenError('EIO', `${p} is listed by ${top.path} but missing in this transaction's view`);
      }
      stack.push({ path: p, node: n, kids: n.children.names.values(), removed: 0 });
      continue;
    }
    stack.pop();
    view.delete(top.path);
    view.changed({ path: top.path, exact: top.path !== path, node: top.node, oldPerms: undefined });
    const up = stack[stack.length - 1];
    if (up !== undefined) up.removed++;
  }
  // The node may come from the store while the parent is the transaction's older copy that
  // does not list it: cxenstored has removed the subtree by then and answers EIO.
  if (!parent.children.has(baseName(path))) throw new XenError('EIO', `${pp} does not list ${path} in this transaction's view`);
  view.set(pp, parent.withChildren(parent.children.without(baseName(path))));
}

/** SET_PERMS on a node: its owner (or a privileged domain) only; only the privileged may give it away. */
export function setNodePerms(view: View, who: Accessor, path: string, perms: Perms): void {
  const node = accessNode(view, who, path, XS_PERM_WRITE | XS_PERM_OWNER);
  if (!who.privileged && perms.owner !== node.perms.owner) {
    throw new XenError('EPERM', `${path}: only a privileged domain may change the owner`);
  }
  const changed = node.withPerms(perms);
  view.set(path, changed);
  view.changed({ path, exact: false, node: changed, oldPerms: node.perms });
}

/**
 * DIRECTORY_PART reply for byte offset `offset` into the child list: "<generation>\0" then as
 * many whole names as fit, with an extra "\0" after the final chunk (cxenstored's algorithm,
 * including its treatment of offsets that do not fall on a name).
 */
export function directoryPart(node: Node, offset: string): Buffer {
  const list = node.children.blob();
  const gen = Buffer.from(`${node.gen}\0`, 'latin1');
  const off = atoi(offset) >>> 0;
  if (off >= list.length) return Buffer.concat([gen, Buffer.from([0])]);
  const maxLen = XENSTORE_PAYLOAD_MAX - gen.length - 1;
  let len = 0;
  for (;;) {
    const nameLen = list.indexOf(0, off + len) - (off + len);
    if (len + nameLen >= maxLen) break;
    len += nameLen + 1;
    if (off + len === list.length) break;
  }
  const last = off + len === list.length;
  return Buffer.concat([gen, list.subarray(off, off + len), last ? Buffer.from([0]) : Buffer.alloc(0)]);
}
