// The command layer's list calls: listColumns (what `xenode list` asks for) is list's rows cut
// to xl's columns and turned into one array per column, for every domain and for a chosen few,
// so xl's table is the same from either.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { dmesgLine, xlList } from '../../../src/cli/format.js';
import { isXenError } from '../../../src/errors.js';
import { ToolstackApi } from '../../../src/toolstack/api.js';
import { EVTCHN_DUMP_HEADER, type DomainColumns } from '../../../src/toolstack/contract.js';
import { Host } from '../../../src/toolstack/host.js';
import { HostLog } from '../../../src/toolstack/hostlog.js';
import { FIXTURES } from '../../support/cli.js';
import { columnsOf } from '../../support/columns.js';
import { scratchStateDir } from '../../support/state-dir.js';

scratchStateDir('api');

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

// xl debug-keys: the dump goes to the host log, as Xen's to its console ring (xl dmesg). One entry:
// one per port evicted its own header and dom0's part from the ring (2,000 entries) on a host with
// many ports, here a ring of 2 entries.
test("debugKeys 'e' dumps every domain's event channels into the host log as one entry; a key it does not handle is EINVAL", { timeout: 60_000 }, async (t) => {
  const host = await Host.start({ poolSize: 0 });
  t.after(() => host.close());
  const api = new ToolstackApi(host, { log: new HostLog({ limit: 2 }) });
  const { domid } = await api.call('create', { file: KERNEL, text: `name = "a"\nkernel = "${KERNEL}"\nmemory = 32\n`, paused: true });
  await api.call('debugKeys', { keys: 'e' });
  const entries = await api.call('dmesg', {});
  const last = entries.at(-1);
  const text = last?.type === 'message' ? last.text : '';
  assert.ok(text.startsWith(`${EVTCHN_DUMP_HEADER}\n`), JSON.stringify(entries).slice(0, 2000));
  // xenode dmesg prefixes each of its lines, as Xen's console does.
  for (const l of dmesgLine(last!).split('\n')) assert.match(l, /^\(XEN\) \[[^\]]+\] /);
  assert.match(text, /Event channel information for domain 0 \(Domain-0, /);
  assert.match(text, new RegExp(`Event channel information for domain ${domid} \\(a, `));
  // dom0's end of the guest's xenstore channel, and the guest's end pointing back.
  assert.match(text, new RegExp(`^ +\\d+ \\[\\d/\\d(/\\d\\] w=0x[0-9a-f]+ q=\\d+/\\d+)?\\]?: s=2 \\(interdomain\\) d=${domid} p=\\d+$`, 'm'));
  assert.match(text, /^ +\d+ \[\d\/\d(\/\d\] w=0x[0-9a-f]+ q=\d+\/\d+)?\]?: s=2 \(interdomain\) d=0 p=\d+$/m);
  for (const keys of ['x', '', 'ex']) await assert.rejects(api.call('debugKeys', { keys }), (e) => isXenError(e, 'EINVAL'), keys);
});
