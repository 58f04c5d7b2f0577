// The intended differences between xenode's xenstored and cxenstored 4.17, each a named rule
// with its reason (docs/XENSTORE.md lists the same). A rule rewrites both replies of one request
// into a form where the intended difference is gone; any difference left is unexplained.
import { XS_DIRECTORY_PART, XS_TRANSACTION_START } from '../../src/abi/xs_wire.js';
import type { Op } from './ops.js';

export interface Rule {
  readonly name: string;
  readonly reason: string;
  /** Rewrites one message's text (from describe()) for `op`; returns it unchanged if the rule does not apply. */
  normalize(op: Op, msg: string): string;
}

export const RULES: readonly Rule[] = [
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
export function explain(op: Op, x: string[], c: string[]): { x: string[]; c: string[]; used: string[] } {
  const used: string[] = [];
  const apply = (msgs: string[]): string[] => msgs.map((m) => {
    let out = m;
    for (const r of RULES) {
      const n = r.normalize(op, out);
      if (n !== out && !used.includes(r.name)) used.push(r.name);
      out = n;
    }
    return out;
  });
  return { x: apply(x), c: apply(c), used };
}

/**
 * A transaction's view mixes nodes first read at different times. When a parent's copy lists a
 * child that the transaction then finds missing and creates, cxenstored appends the name again
 * (DIRECTORY then shows it twice, and RM of the parent walks into the second entry and stops
 * with EIO, leaving the parent); xenode keeps each name once, so the views part. Such a
 * transaction cannot commit: the parent changed after its first read, so both daemons fail it
 * with EAGAIN. The fuzz lets the replies of a transaction differ once they have, provided the
 * events agree, and then requires that end.
 */
export const DOOMED_TRANSACTION = {
  name: 'doomed-transaction',
  reason: 'in a transaction that must fail with EAGAIN, cxenstored may list a child twice (and its RM then answers EIO); xenode never lists one twice',
};
