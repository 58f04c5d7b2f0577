// `xenode host --kernel-dir DIR`: more directories of kernels XenAPI callers may name, besides
// the state dir's guest/; a directory others can write in stops the host from starting.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIXTURES, xenode } from '../support/cli.js';
import { jsonCall, rootSession } from '../support/xapi.js';

const dir = mkdtempSync(join(tmpdir(), 'xenode-kernel-dir-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('xenode host --kernel-dir: VM.create may name a kernel there; a directory others can write in is refused at start', { timeout: 240_000 }, async () => {
  const state = join(dir, 'state');
  const kernels = join(dir, 'kernels');
  mkdirSync(kernels, { mode: 0o700 });
  copyFileSync(join(FIXTURES, 'ticker.ts'), join(kernels, 'ticker.ts'));
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);

  const refused = await xenode(['host', 'start', '--xapi-port', 'off', '--pool', '0', '--kernel-dir', kernels, '--kernel-dir', shared], { state });
  assert.notEqual(refused.code, 0, refused.stdout);
  assert.match(refused.stderr, new RegExp(`kernel directory ${shared} is writable by other users \\(mode 777\\)`));

  const started = await xenode(['host', 'start', '--xapi-port', 'off', '--pool', '0', '--kernel-dir', kernels], { state });
  assert.equal(started.code, 0, started.stderr);
  try {
    const socket = { socket: join(state, 'xapi.sock') };
    const root = await rootSession(socket);
    const vm = await jsonCall(socket, 'VM.create', [root, { name_label: 'k', PV_kernel: join(kernels, 'ticker.ts'), memory_static_max: String(32 << 20) }]);
    assert.equal(typeof vm.result, 'string', JSON.stringify(vm.error));
    // Elsewhere is refused, and the refusal names the directories.
    const other = await jsonCall(socket, 'VM.create', [root, { name_label: 'o', PV_kernel: join(FIXTURES, 'ticker.ts'), memory_static_max: String(32 << 20) }]);
    assert.deepEqual(other.error?.data, ['PV_kernel', join(FIXTURES, 'ticker.ts'), `Is not in any of the allowed kernel directories: [<state>/guest; ${kernels}]`]);
  } finally {
    const stopped = await xenode(['host', 'stop'], { state });
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});
