// VM records across kill -9: a writer (test/support/vm-records-writer.ts) makes, starts and
// stops VMs through the VmTable as the host does, and is killed without warning 20 times; each
// time the database opens sound, every acknowledged VM is there, halted, with its VBD and VIF,
// and what a host restart does to the records (VmTable.rebuild) leaves no transient VM and no
// record hanging off a VM that is gone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteHostDb } from '../../../src/toolstack/db/sqlite.js';
import { VmTable } from '../../../src/toolstack/vms.js';
import { killDuringWrites } from '../../support/kill-child.js';

const TRIALS = 20;

const WRITER = join(import.meta.dirname, '../../support/vm-records-writer.js');

test(`VM records: ${TRIALS} kill -9 trials during writes; every acknowledged VM is there after a restart, nothing left hanging`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenode-vm-kill-'));
  const path = join(dir, 'host.db');
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const prefix = `t${trial}`;
      const acked = await killDuringWrites(WRITER, path, prefix, 1 + ((trial * 7) % 10));
      const db = SqliteHostDb.open(path);
      try {
        assert.deepEqual(db.integrityCheck(), [], `trial ${trial}`);
        // What a host start does with what the database says.
        await new VmTable(db, 'OpaqueRef:NULL').rebuild({ domid: 0, uuid: '00000000-0000-0000-0000-000000000000', name: 'Domain-0', createdAt: Date.now() });
        await db.read((tx) => {
          for (let i = 0; i < acked; i++) {
            const refs = tx.VM.getByNameLabel(`${prefix}-${i}`);
            assert.equal(refs.length, 1, `trial ${trial}: acknowledged VM ${i} of ${acked} is missing`);
            const r = tx.VM.get(refs[0]!);
            assert.deepEqual([r.power_state, r.domid], ['Halted', -1], `trial ${trial}: VM ${i}`);
            assert.equal(tx.VBD.where('VM', refs[0]!).length, 1, `trial ${trial}: VM ${i}'s VBD`);
            assert.equal(tx.VIF.where('VM', refs[0]!).length, 1, `trial ${trial}: VM ${i}'s VIF`);
          }
          const all = tx.VM.getAllRecords();
          assert.deepEqual([...all.values()].filter((r) => r.xenode_transient).map((r) => r.name_label), [], `trial ${trial}: transient VMs outlived their host`);
          for (const ref of tx.VBD.getAll()) assert.ok(all.has(tx.VBD.get(ref).VM), `trial ${trial}: a VBD of a VM that is gone`);
          for (const ref of tx.VIF.getAll()) assert.ok(all.has(tx.VIF.get(ref).VM), `trial ${trial}: a VIF of a VM that is gone`);
          for (const ref of tx.console.getAll()) assert.ok(all.has(tx.console.get(ref).VM), `trial ${trial}: a console of a VM that is gone`);
          const metrics = new Set([...all.values()].map((r) => r.metrics));
          for (const ref of tx.VM_metrics.getAll()) assert.ok(metrics.has(ref), `trial ${trial}: VM_metrics of a VM that is gone`);
        });
      } finally {
        await db.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
