// Rows (list's, or a test's own) as the columns listColumns answers with, for xl list's table.
import type { DomainColumns, DomainRow } from '../../src/toolstack/contract.js';

export function columnsOf(rows: readonly DomainRow[]): DomainColumns {
  return {
    domid: rows.map((d) => d.domid), name: rows.map((d) => d.name), state: rows.map((d) => d.state), memoryKiB: rows.map((d) => d.memoryKiB),
    vcpus: rows.map((d) => d.vcpus), cpuSeconds: rows.map((d) => d.cpuSeconds), pool: rows.map((d) => d.pool ?? 'Pool-0'),
  };
}
