// xl's cpupool-create settings and cpupool-list columns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePoolSettings, xlCpupoolList } from '../../../src/cli/cpupool.js';
import { xlList } from '../../../src/cli/format.js';
import type { DomainInfo } from '../../../src/toolstack/contract.js';
import { columnsOf } from '../../support/columns.js';

test('cpupool-create reads KEY=VALUE words, quoted or not, and refuses the rest', () => {
  assert.deepEqual(parsePoolSettings(['name=dense', 'sched="credit"', "cpus='2'"]), { name: 'dense', cpus: 2, sched: 'credit' });
  assert.deepEqual(parsePoolSettings(['name = dense', 'cpus=1']), { name: 'dense', cpus: 1 });
  assert.throws(() => parsePoolSettings(['name=dense']), /cpus= is required/);
  assert.throws(() => parsePoolSettings(['cpus=2']), /name= is required/);
  assert.throws(() => parsePoolSettings(['name=a', 'cpus=two']), /cpus= is required/);
  assert.throws(() => parsePoolSettings(['name=a', 'cpus=1', 'vcpus=1']), /unknown pool setting 'vcpus' \(known: name, sched, cpus, shells, shell_memory\)/);
  assert.throws(() => parsePoolSettings(['dense']), /is not KEY=VALUE/);
  assert.deepEqual(parsePoolSettings(['name=d', 'cpus=1', 'shells=8', 'shell_memory=16']), { name: 'd', cpus: 1, shells: 8, shellMemory: 16 });
  assert.throws(() => parsePoolSettings(['name=d', 'cpus=1', 'shells=many']), /shells= wants a whole number/);
});

test("cpupool-list prints xl's columns", () => {
  const out = xlCpupoolList([
    { name: 'Pool-0', cpus: 2, sched: 'credit', active: true, domains: 3 },
    { name: 'dense', cpus: 1, sched: 'credit', active: true, domains: 1000 },
  ]);
  assert.equal(out, 'Name               CPUs   Sched     Active   Domain count\n' +
    'Pool-0               2    credit       y          3\n' +
    'dense                1    credit       y       1000\n');
});

test('list -c adds the Cpupool column', () => {
  const d: DomainInfo = { domid: 7, name: 'g', uuid: '1', state: '-b----', memoryKiB: 16 * 1024, maxmemKiB: 16 * 1024, vcpus: 1, cpuSeconds: 0.5,
    vbds: 0, vbdStats: null, nets: 0, netStats: null, startTime: 0, pool: 'dense' };
  const [head, row] = xlList(columnsOf([d]), { cpupool: true }).toString().split('\n');
  assert.match(head!, /Time\(s\)         Cpupool$/);
  assert.match(row!, /0\.5           dense$/);
  assert.doesNotMatch(xlList(columnsOf([d])).toString(), /dense/);
});
