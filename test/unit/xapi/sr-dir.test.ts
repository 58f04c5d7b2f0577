// SR.create and SR.scan over XenAPI cannot turn a host directory into VDIs (hunt25 H3): a
// pool-operator's SR.create over a directory with files in it is FileSR's SRExists, and
// SR.scan introduces only images named `<uuid>.<ext>`, so a vm-admin cannot then grow, or
// attach read-write, a host file that lies in an SR's directory.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jsonCall, startInProcessXapi, type InProcessXapi } from '../../support/xapi.js';

let x: InProcessXapi;
before(async () => {
  x = await startInProcessXapi('xapi-sr-dir');
});
after(() => x.close());

const KEYS = 'ssh-ed25519 AAAAC3Nza... admin@host\n';

async function call(session: string, method: string, ...params: unknown[]): Promise<{ result?: unknown; error?: { message: string; data: string[] } }> {
  return jsonCall(x.tcp, method, [session, ...params]);
}

test('SR.create refuses a directory with files in it, and SR.scan introduces no host file', async () => {
  const op = await x.login('pool-operator');
  const adm = await x.login('vm-admin');
  const [host] = (await call(op, 'host.get_all')).result as string[];
  const create = (location: string, name: string) => call(op, 'SR.create', host, { location }, 0, name, '', 'file', 'user', false, {});

  const ssh = join(x.dir, 'victim-home', '.ssh');
  mkdirSync(ssh, { recursive: true });
  writeFileSync(join(ssh, 'authorized_keys'), KEYS);
  const refused = await create(ssh, 'sneaky');
  assert.equal(refused.error?.message, 'SR_BACKEND_FAILURE_42', JSON.stringify(refused));
  assert.match(refused.error!.data[1]!, /^The SR already exists \[opterr=path=\S+\/\.ssh is not empty/);
  assert.deepEqual((await call(op, 'SR.get_by_name_label', 'sneaky')).result, []);

  // An empty directory makes an SR; a file put there later is not a VDI, whatever scans it.
  const dir = join(x.dir, 'empty');
  mkdirSync(dir);
  const sr = (await create(dir, 'mine')).result as string;
  assert.match(sr, /^OpaqueRef:/);
  writeFileSync(join(dir, 'authorized_keys'), KEYS);
  const image = '0d5e9f3a-1b2c-4d4e-8f60-718293a4b5c6';
  writeFileSync(join(dir, `${image}.raw`), Buffer.alloc(4096));
  assert.equal((await call(op, 'SR.scan', sr)).error, undefined);
  const vdis = Object.values((await call(adm, 'VDI.get_all_records')).result as Record<string, { uuid: string; location: string; SR: string }>);
  assert.deepEqual(vdis.filter((v) => v.SR === sr).map((v) => [v.uuid, v.location]), [[image, `${image}.raw`]]);
  assert.equal(statSync(join(dir, 'authorized_keys')).size, KEYS.length);
  assert.equal(readFileSync(join(ssh, 'authorized_keys'), 'utf8'), KEYS);
});
