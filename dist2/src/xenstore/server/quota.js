// Per-domain quotas. Names, defaults and errors are cxenstored's (xenstored -Q, CONTROL quota):
// they bind unprivileged domains only, except path-max which binds everyone.
import { XENSTORE_REL_PATH_MAX } from '../../abi/xs_wire.js';
export const DEFAULT_QUOTAS = {
    nodes: 1000,
    watches: 128,
    transactions: 10,
    outstanding: 1024,
    transactionNodes: 1024,
    nodeSize: 2048,
    pathMax: XENSTORE_REL_PATH_MAX,
    permissions: 5,
};
/** CONTROL names and descriptions, in cxenstored's order. */
export const QUOTA_INFO = [
    { key: 'nodes', name: 'nodes', descr: 'Nodes per domain' },
    { key: 'watches', name: 'watches', descr: 'Watches per domain' },
    { key: 'transactions', name: 'transactions', descr: 'Transactions per domain' },
    { key: 'outstanding', name: 'outstanding', descr: 'Outstanding requests per domain' },
    { key: 'transactionNodes', name: 'transaction-nodes', descr: 'Max. number of accessed nodes per transaction' },
    { key: 'nodeSize', name: 'node-size', descr: 'Max. size of a node' },
    { key: 'pathMax', name: 'path-max', descr: 'Max. length of a node path' },
    { key: 'permissions', name: 'permissions', descr: 'Max. number of permissions per node' },
];
export function resolveQuotas(partial) {
    const q = { ...DEFAULT_QUOTAS, ...partial };
    for (const { key, name } of QUOTA_INFO) {
        if (!Number.isInteger(q[key]) || q[key] <= 0)
            throw new RangeError(`quota ${name} must be a positive integer`);
    }
    return q;
}
//# sourceMappingURL=quota.js.map