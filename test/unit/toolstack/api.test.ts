// The command layer's list calls: listRows (what `xenode list` asks for) is list's rows cut to
// xl's columns, for every domain and for a chosen few, so xl's table is the same from either.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { xlList } from '../../../src/cli/format.js';
import { isXenError } from '../../../src/errors.js';
import { ToolstackApi } from '../../../src/toolstack/api.js';
import type { DomainInfo, DomainRow } from '../../../src/toolstack/contract.js';
import { Host } from '../../../src/toolstack/host.js';
import { HostLog } from '../../../src/toolstack/hostlog.js';
import { FIXTURES } from '../../support/cli.js';

const KERNEL = join(FIXTURES, 'whoami.ts');

const columns = (d: DomainInfo): DomainRow =>
  ({ domid: d.domid, name: d.name, state: d.state, memoryKiB: d.memoryKiB, vcpus: d.vcpus, cpuSeconds: d.cpuSeconds, pool: d.pool! });

test('listRows is list cut to xl\'s columns', { timeout: 60_000 }, async (t) => {
  const host = await Host.start({ poolSize: 0 });
  t.after(() => host.close());
  const api = new ToolstackApi(host, { log: new HostLog() });
  for (const name of ['a', 'b']) {
    await api.call('create', { file: KERNEL, text: `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\n`, paused: true });
  }
  // Paused guests: their state does not move between the two calls; CPU times (a paused vCPU's
  // thread still turns its event loop) and dom0's heap do.
  const still = (r: DomainRow): DomainRow => ({ ...r, cpuSeconds: 0, ...(r.domid === 0 && { memoryKiB: 0 }) });
  for (const which of [{}, { domains: ['b', 0] }]) {
    const rows = (await api.call('listRows', which)).map(still);
    const full = (await api.call('list', which)).map(columns).map(still);
    assert.equal(rows.length, which.domains?.length ?? 3);
    assert.deepEqual(rows, full);
    assert.deepEqual(Object.keys(rows[0]!).sort(), ['cpuSeconds', 'domid', 'memoryKiB', 'name', 'pool', 'state', 'vcpus']);
    for (const cpupool of [false, true]) assert.equal(xlList(rows, { cpupool }), xlList(full, { cpupool }));
  }
  assert.deepEqual((await api.call('listRows', { domains: ['b'] })).map((r) => r.name), ['b']);
  await assert.rejects(api.call('listRows', { domains: ['nosuch'] }), (e) => isXenError(e, 'ESRCH'));
});
