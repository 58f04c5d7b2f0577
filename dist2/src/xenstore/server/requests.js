// One handler per message type (docs/misc/xenstore.txt), with cxenstored's argument rules and
// reply payloads. A handler returns the reply payload (or replies itself, when something must
// follow the reply) and throws a XenError for an ERROR reply.
import { Buffer } from 'node:buffer';
import { XENSTORE_REL_PATH_MAX, XS_CONTROL, XS_DIRECTORY, XS_DIRECTORY_PART, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES, XS_RESUME, XS_RM, XS_SET_PERMS, XS_SET_TARGET, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WRITE, } from '../../abi/xs_wire.js';
import { DOMID_SELF, isValidDomid } from '../../abi/xen.js';
import { XenError, isXenError } from '../../errors.js';
import { atoi } from './cnum.js';
import { control } from './control.js';
import { directoryPart, makeNode, readNode, removeNode, setNodePerms, writeNode } from './nodeops.js';
import { canonicalNodePath, domainPath, isSpecialPath, printable } from '../common/path.js';
import { Perms, XS_PERM_OWNER, XS_PERM_WRITE, permFor } from './perms.js';
import { Transaction } from './view.js';
const OK = 'OK\0';
function einval(what) {
    return new XenError('EINVAL', what);
}
/** The single NUL-terminated string that must make up the whole payload (cxenstored onearg). */
function oneArg(p) {
    const n = p.length;
    if (n === 0 || p[n - 1] !== 0 || p.indexOf(0) !== n - 1)
        throw einval('expected one NUL-terminated argument');
    return p.toString('latin1', 0, n - 1);
}
/** The NUL-terminated strings of a payload; trailing bytes without a NUL are not one. */
function args(p) {
    const out = [];
    let start = 0;
    for (let nul = p.indexOf(0); nul >= 0; nul = p.indexOf(0, start)) {
        out.push(p.toString('latin1', start, nul));
        start = nul + 1;
    }
    return out;
}
function exactArgs(p, n) {
    const a = args(p);
    if (a.length !== n)
        throw einval(`expected ${n} NUL-terminated arguments`);
    return a;
}
function nodePath(core, conn, raw) {
    return canonicalNodePath(raw, conn.home, core.quotas.pathMax);
}
function view(core, tx) {
    return tx ?? core.live;
}
/** A watch's path: a special one as given, a node path made absolute. */
function watchPath(core, conn, raw) {
    if (isSpecialPath(raw)) {
        if (raw.length > XENSTORE_REL_PATH_MAX)
            throw einval('special watch path too long');
        return { path: raw, relativeTo: 0 };
    }
    const path = nodePath(core, conn, raw);
    return { path, relativeTo: path === raw ? 0 : conn.home.length + 1 };
}
/** A domain an operation names, which must have been introduced (cxenstored onearg_domain). */
function introducedDomain(core, raw) {
    const domid = atoi(raw) >>> 0;
    if (domid === 0)
        throw einval('domain 0 cannot be named here');
    if (!core.isIntroduced(domid))
        throw new XenError('ENOENT', `domain ${domid} is not introduced`);
    return domid;
}
const HANDLERS = [];
HANDLERS[XS_READ] = {
    fn: (core, conn, p, tx) => readNode(view(core, tx), conn, nodePath(core, conn, oneArg(p))).value,
};
HANDLERS[XS_WRITE] = {
    fn: (core, conn, p, tx) => {
        const nul = p.indexOf(0);
        if (nul < 0)
            throw einval('WRITE needs a NUL-terminated path');
        const path = nodePath(core, conn, p.toString('latin1', 0, nul));
        writeNode(view(core, tx), conn, core.quotas, path, p.toString('latin1', nul + 1));
        return OK;
    },
};
HANDLERS[XS_MKDIR] = {
    fn: (core, conn, p, tx) => {
        makeNode(view(core, tx), conn, core.quotas, nodePath(core, conn, oneArg(p)));
        return OK;
    },
};
HANDLERS[XS_RM] = {
    fn: (core, conn, p, tx) => {
        removeNode(view(core, tx), conn, nodePath(core, conn, oneArg(p)));
        return OK;
    },
};
HANDLERS[XS_DIRECTORY] = {
    fn: (core, conn, p, tx) => readNode(view(core, tx), conn, nodePath(core, conn, oneArg(p))).children.blob(),
};
HANDLERS[XS_DIRECTORY_PART] = {
    fn: (core, conn, p, tx) => {
        const [raw, offset] = exactArgs(p, 2);
        return directoryPart(readNode(view(core, tx), conn, nodePath(core, conn, raw)), offset);
    },
};
HANDLERS[XS_GET_PERMS] = {
    fn: (core, conn, p, tx) => readNode(view(core, tx), conn, nodePath(core, conn, oneArg(p))).perms.toWire(),
};
HANDLERS[XS_SET_PERMS] = {
    fn: (core, conn, p, tx) => {
        const [raw, ...strings] = args(p);
        if (raw === undefined || strings.length === 0)
            throw einval('SET_PERMS needs a path and permissions');
        if (!conn.privileged && strings.length > core.quotas.permissions) {
            throw new XenError('ENOSPC', `more than ${core.quotas.permissions} permission entries`);
        }
        // cxenstored domain_alloc_permrefs: the owner must exist; other entries naming a domain that
        // does not are kept but grant nothing, so a domain created later with that id gets nothing.
        const exists = (domid) => isValidDomid(domid) && core.domainExists(domid);
        const perms = Perms.parse(strings).ignoring((domid) => !exists(domid));
        if (!exists(perms.owner))
            throw new XenError('ENOENT', `owner domain ${perms.owner} does not exist`);
        if (isSpecialPath(raw)) {
            const old = core.specialPerms.get(raw);
            if (old === undefined)
                throw new XenError('ENOENT', `no special node ${printable(raw)}`);
            const want = XS_PERM_WRITE | XS_PERM_OWNER;
            if (!conn.privileged && (permFor(conn, old) & want) !== want)
                throw new XenError('EACCES', `${raw}: permission denied`);
            core.specialPerms.set(raw, perms);
        }
        else {
            setNodePerms(view(core, tx), conn, nodePath(core, conn, raw), perms);
        }
        return OK;
    },
};
HANDLERS[XS_WATCH] = {
    noTx: true,
    fn: (core, conn, p, _tx, reqId, txId) => {
        const [raw, tokenStr] = exactArgs(p, 2);
        const { path, relativeTo } = watchPath(core, conn, raw);
        const token = Buffer.from(tokenStr, 'latin1');
        if (core.watches.find(conn, path, token) !== undefined)
            throw new XenError('EEXIST', `already watching ${path}`);
        if (!conn.privileged && conn.domain.watches >= core.quotas.watches) {
            throw new XenError('E2BIG', `domain ${conn.domid} has ${core.quotas.watches} watches`);
        }
        core.watches.add(conn, path, token, relativeTo);
        conn.domain.watches++;
        conn.reply(XS_WATCH, reqId, txId, OK);
        // The initial event, so a client never misses a change made before the watch took.
        conn.sendEvent(raw, token);
        return undefined;
    },
};
HANDLERS[XS_UNWATCH] = {
    noTx: true,
    fn: (core, conn, p) => {
        const [raw, tokenStr] = exactArgs(p, 2);
        // A path no watch could have is simply not watched: ENOENT, as cxenstored (not EINVAL).
        let path;
        try {
            path = watchPath(core, conn, raw).path;
        }
        catch (e) {
            if (!isXenError(e, 'EINVAL'))
                throw e;
        }
        const w = path === undefined ? undefined : core.watches.find(conn, path, Buffer.from(tokenStr, 'latin1'));
        if (w === undefined)
            throw new XenError('ENOENT', `no watch on ${printable(raw)} with that token`);
        core.watches.remove(w);
        conn.domain.watches--;
        return OK;
    },
};
HANDLERS[XS_RESET_WATCHES] = {
    fn: (core, conn) => {
        core.forget(conn);
        return OK;
    },
};
HANDLERS[XS_TRANSACTION_START] = {
    fn: (core, conn, _p, tx) => {
        if (tx !== undefined)
            throw new XenError('EBUSY', 'transactions do not nest');
        if (!conn.privileged && conn.transactions.size >= core.quotas.transactions) {
            throw new XenError('ENOSPC', `connection has ${core.quotas.transactions} open transactions`);
        }
        const id = conn.nextTransactionId();
        conn.transactions.set(id, new Transaction(id, core.store, conn.privileged ? Infinity : core.quotas.transactionNodes));
        return `${id}\0`;
    },
};
HANDLERS[XS_TRANSACTION_END] = {
    fn: (core, conn, p, tx) => {
        const how = oneArg(p);
        if (how !== 'T' && how !== 'F')
            throw einval('TRANSACTION_END takes T (commit) or F (abort)');
        if (tx === undefined)
            throw new XenError('ENOENT', 'no transaction to end');
        // The transaction is over whatever happens next, conflicts included.
        conn.transactions.delete(tx.id);
        if (how === 'T')
            core.commit(conn, tx);
        return OK;
    },
};
HANDLERS[XS_GET_DOMAIN_PATH] = {
    fn: (_core, _conn, p) => `${domainPath(atoi(oneArg(p)) >>> 0)}\0`,
};
HANDLERS[XS_IS_DOMAIN_INTRODUCED] = {
    priv: true,
    fn: (core, _conn, p) => {
        const domid = atoi(oneArg(p)) >>> 0;
        return domid === DOMID_SELF || core.isIntroduced(domid) ? 'T\0' : 'F\0';
    },
};
HANDLERS[XS_INTRODUCE] = {
    priv: true,
    fn: (core, conn, p, _tx, reqId, txId) => {
        const a = args(p);
        if (a.length < 3)
            throw einval('INTRODUCE needs domid, mfn and port');
        const domid = atoi(a[0]) >>> 0;
        const mfn = Number.parseInt(a[1], 10) || 0;
        const port = atoi(a[2]) >>> 0;
        if (port === 0 || !isValidDomid(domid))
            throw einval(`cannot introduce domain ${domid} on port ${port}`);
        // Introducing again (to rebind the event channel, in Xen) changes nothing here.
        if (core.isIntroduced(domid))
            return OK;
        const hook = core.introduceHook;
        if (hook === undefined) {
            core.introduce(domid, undefined);
            return OK;
        }
        if (core.introducing.has(domid))
            throw new XenError('EBUSY', `domain ${domid} is being introduced`);
        // Mapping the ring is asynchronous: this connection's later requests wait for the reply.
        core.introducing.add(domid);
        conn.stall();
        hook(domid, mfn, port).then((ring) => {
            // Introduced meanwhile (by the host): the first ring stays.
            if (core.isIntroduced(domid))
                ring.evtchn.close();
            else
                core.introduce(domid, ring);
            conn.reply(XS_INTRODUCE, reqId, txId, OK);
        }, (err) => {
            core.log(`introducing domain ${domid} failed: ${err instanceof Error ? err.message : String(err)}`);
            conn.replyError(reqId, txId, isXenError(err) ? err.errno : 'EIO');
        }).finally(() => {
            core.introducing.delete(domid);
            conn.resume();
        });
        return undefined;
    },
};
HANDLERS[XS_RELEASE] = {
    priv: true,
    fn: (core, _conn, p) => {
        core.release(introducedDomain(core, oneArg(p)));
        return OK;
    },
};
HANDLERS[XS_RESUME] = {
    priv: true,
    fn: (core, _conn, p) => {
        introducedDomain(core, oneArg(p));
        return OK;
    },
};
HANDLERS[XS_SET_TARGET] = {
    priv: true,
    fn: (core, _conn, p) => {
        const a = args(p);
        if (a.length < 2)
            throw einval('SET_TARGET needs a domain and its target');
        const domid = atoi(a[0]) >>> 0;
        const target = atoi(a[1]) >>> 0;
        for (const d of [domid, target]) {
            if (!core.isIntroduced(d))
                throw new XenError('ENOENT', `domain ${d} is not introduced`);
        }
        core.domain(domid).target = target;
        return OK;
    },
};
HANDLERS[XS_CONTROL] = {
    priv: true,
    fn: (core, _conn, p) => control(core, args(p)),
};
/** Handle one request of `conn` and send its reply. */
export function handleRequest(core, conn, type, reqId, txId, p) {
    try {
        const e = HANDLERS[type];
        if (e === undefined)
            throw new XenError('ENOSYS', `unknown message type ${type}`);
        if (e.priv && !conn.privileged)
            throw new XenError('EACCES', `domain ${conn.domid} may not send type ${type}`);
        let tx;
        if (!e.noTx && txId !== 0) {
            tx = conn.transactions.get(txId);
            if (tx === undefined)
                throw new XenError('ENOENT', `no transaction ${txId}`);
        }
        const reply = e.fn(core, conn, p, tx, reqId, txId);
        if (reply !== undefined)
            conn.reply(type, reqId, txId, reply);
    }
    catch (err) {
        if (!isXenError(err)) {
            // A bug here must cost this request only, never the daemon.
            core.log(`internal error handling type ${type} from domain ${conn.domid}: ${err instanceof Error ? err.stack : String(err)}`);
        }
        conn.replyError(reqId, txId, isXenError(err) ? err.errno : 'EIO');
    }
}
//# sourceMappingURL=requests.js.map