// PV disks end to end through the in-process host: the kv-store unikernel keeps its data
// across a restart of the guest, and a crash of a block driver domain leaves dom0 running
// while the guest it served sees its disk close.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDomainConfig } from '../../src/toolstack/domconfig.js';
import { Host } from '../../src/toolstack/host.js';
import { listDisks } from '../../src/toolstack/devices.js';
import type { StartedVcpu } from '../../src/hypervisor/vcpu.js';
import { askKv } from '../support/kv.js';
import { hostForTests } from '../support/local-host.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
let host: Host;
let dir: string;
hostForTests('blk-e2e', (h, d) => {
  host = h;
  dir = d;
});

function kvConfig(name: string, disk: string) {
  const kernel = join(EXAMPLES, 'kv-store/kv.ts');
  return parseDomainConfig(`name = "${name}"\nkernel = "${kernel}"\nmemory = 32\ndisk = [ '${disk}' ]\nextra = "serve"\non_reboot = "restart"\n`, kernel).config;
}

const ask = (domid: number, req: string): Promise<string> => askKv(host, domid, req);

test('kv-store: what was set before a guest restart is there after it', async () => {
  const image = join(dir, 'kv.img');
  await writeFile(image, new Uint8Array(4 << 20));
  const { domain } = await host.create(kvConfig('kv', `vdev=xvda, target=${image}`));
  assert.equal(await ask(domain.domid, 'set colour blue'), 'ok');
  assert.equal(await ask(domain.domid, 'get boots'), 'ok 1');
  const restarted = once(host, 'restarted');
  await host.requestShutdown(domain.domid, 'reboot');
  const [, newId] = (await restarted) as [number, number];
  assert.equal(await ask(newId, 'get colour'), 'ok blue');
  assert.equal(await ask(newId, 'get boots'), 'ok 2');
  const [disk] = await listDisks(host, newId);
  assert.equal(disk?.vdev, 'xvda');
  await host.destroy(newId);
});

test('a driver domain serves a disk; when it crashes, dom0 runs on and the guest sees the disk close', async () => {
  const kernel = join(EXAMPLES, 'driver-domain/blkback.ts');
  const dd = await host.create(parseDomainConfig(`name = "storage-dd"\nkernel = "${kernel}"\nmemory = 32\ndriver_domain = 1\n`, kernel).config);
  // driver_domain=1: libxl's libxl and device-model directories, owned by the driver domain.
  for (const dir of ['libxl', 'device-model']) {
    assert.deepEqual(await host.xs.getPerms(`/local/domain/${dd.domain.domid}/${dir}`), [{ domid: dd.domain.domid, perm: 'n' }]);
  }
  const { domain } = await host.create(kvConfig('kv-dd', 'vdev=xvda, backend=storage-dd, target=ram:4M'));
  assert.equal(await host.xs.readOptional(`/local/domain/${domain.domid}/libxl`), undefined, 'an ordinary guest has none');
  assert.equal(await ask(domain.domid, 'set k v'), 'ok');
  assert.equal(await host.xs.read(`/local/domain/${domain.domid}/device/vbd/51712/backend-id`), String(dd.domain.domid));
  const destroyed = once(host, 'destroyed');
  await (dd.vcpu as StartedVcpu).worker.terminate(); // the driver domain's vCPU dies: a crash, on_crash=destroy
  assert.equal((await destroyed)[0], dd.domain.domid);
  assert.match(await ask(domain.domid, 'set k w'), /^error xvda: /);
  assert.equal(host.hv.domain(domain.domid).shutdownReason, null, 'the guest runs on');
  assert.equal(host.hv.dom0.shutdownReason, null);
  await host.destroy(domain.domid);
});
