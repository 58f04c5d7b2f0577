// The intended differences between xenode's xenstored and cxenstored 4.17, each a named rule
// with its reason (docs/XENSTORE.md lists the same). A rule rewrites both replies of one request
// into a form where the intended difference is gone; any difference left is unexplained.
import { XS_DIRECTORY_PART, XS_TRANSACTION_START } from '../../src/abi/xs_wire.js';
export const RULES = [
    {
        name: 'transaction-id',
        reason: 'transaction ids are opaque numbers a client only echoes; the fuzz maps each side\'s own',
        normalize: (op, msg) => (op.type === XS_TRANSACTION_START ? msg.replace(/^TRANSACTION_START \d+\\u0000$/, 'TRANSACTION_START <id>') : msg),
    },
    {
        name: 'directory-part-generation',
        reason: 'DIRECTORY_PART starts with the node\'s generation, a counter private to each daemon whose only use is to be compared with itself',
        normalize: (op, msg) => (op.type === XS_DIRECTORY_PART ? msg.replace(/^DIRECTORY_PART \d+\\u0000/, 'DIRECTORY_PART <gen>\\u0000') : msg),
    },
];
/** Both sides' messages with every rule applied; returns the rules that changed something. */
export function explain(op, x, c) {
    const used = [];
    const apply = (msgs) => msgs.map((m) => {
        let out = m;
        for (const r of RULES) {
            const n = r.normalize(op, out);
            if (n !== out && !used.includes(r.name))
                used.push(r.name);
            out = n;
        }
        return out;
    });
    return { x: apply(x), c: apply(c), used };
}
//# sourceMappingURL=rules.js.map