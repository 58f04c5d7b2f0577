// The command layer's list calls: listColumns (what `xenode list` asks for) is list's rows cut
// to xl's columns and turned into one array per column, for every domain and for a chosen few,
// so xl's table is the same from either.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { xlList } from '../../../src/cli/format.js';
import { isXenError } from '../../../src/errors.js';
import { ToolstackApi } from '../../../src/toolstack/api.js';
import type { DomainColumns } from '../../../src/toolstack/contract.js';
import { Host } from '../../../src/toolstack/host.js';
import { HostLog } from '../../../src/toolstack/hostlog.js';
import { FIXTURES } from '../../support/cli.js';
import { columnsOf } from '../../support/columns.js';

const KERNEL = join(FIXTURES, 'whoami.ts');

test('listColumns is list cut to xl\'s columns', { timeout: 60_000 }, async (t) => {
  const host = await Host.start({ poolSize: 0 });
  t.after(() => host.close());
  const api = new ToolstackApi(host, { log: new HostLog() });
  for (const name of ['a', 'b']) {
    await api.call('create', { file: KERNEL, text: `name = "${name}"\nkernel = "${KERNEL}"\nmemory = 32\n`, paused: true });
  }
  // Paused guests: their state does not move between the two calls; CPU times (a paused vCPU's
  // thread still turns its event loop) and dom0's heap do.
  const still = (c: DomainColumns): DomainColumns => ({ ...c, cpuSeconds: c.cpuSeconds.map(() => 0), memoryKiB: c.memoryKiB.map((m, i) => (c.domid[i] === 0 ? 0 : m)) });
  for (const which of [{}, { domains: ['b', 0] }]) {
    const columns = still(await api.call('listColumns', which));
    const full = still(columnsOf(await api.call('list', which)));
    assert.equal(columns.domid.length, which.domains?.length ?? 3);
    assert.deepEqual(columns, full);
    assert.deepEqual(Object.keys(columns).sort(), ['cpuSeconds', 'domid', 'memoryKiB', 'name', 'pool', 'state', 'vcpus']);
    for (const cpupool of [false, true]) assert.deepEqual(xlList(columns, { cpupool }), xlList(full, { cpupool }));
  }
  assert.deepEqual((await api.call('listColumns', { domains: ['b'] })).name, ['b']);
  await assert.rejects(api.call('listColumns', { domains: ['nosuch'] }), (e) => isXenError(e, 'ESRCH'));
});

// xl debug-keys: the dump goes to the host log, as Xen's to its console ring (xl dmesg).
test("debugKeys 'e' dumps every domain's event channels into the host log; a key it does not handle is EINVAL", { timeout: 60_000 }, async (t) => {
  const host = await Host.start({ poolSize: 0 });
  t.after(() => host.close());
  const api = new ToolstackApi(host, { log: new HostLog() });
  const { domid } = await api.call('create', { file: KERNEL, text: `name = "a"\nkernel = "${KERNEL}"\nmemory = 32\n`, paused: true });
  await api.call('debugKeys', { keys: 'e' });
  const text = (await api.call('dmesg', {})).map((e) => (e.type === 'message' ? e.text : '')).join('\n');
  assert.match(text, /'e' pressed -> dumping event-channel info/);
  assert.match(text, /Event channel information for domain 0 \(Domain-0, /);
  assert.match(text, new RegExp(`Event channel information for domain ${domid} \\(a, `));
  // dom0's end of the guest's xenstore channel, and the guest's end pointing back.
  assert.match(text, new RegExp(`^ +\\d+ \\[\\d/\\d(/\\d\\] w=0x[0-9a-f]+ q=\\d+/\\d+)?\\]?: s=2 \\(interdomain\\) d=${domid} p=\\d+$`, 'm'));
  assert.match(text, /^ +\d+ \[\d\/\d(\/\d\] w=0x[0-9a-f]+ q=\d+\/\d+)?\]?: s=2 \(interdomain\) d=0 p=\d+$/m);
  for (const keys of ['x', '', 'ex']) await assert.rejects(api.call('debugKeys', { keys }), (e) => isXenError(e, 'EINVAL'), keys);
});
