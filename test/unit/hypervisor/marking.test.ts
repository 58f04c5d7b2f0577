// A host's process marks each heap on its own thread (hypervisor/marking.ts): a pCPU thread at
// GUEST_NICE no longer waits behind helper threads at dom0's priority marking its heap. Each child
// (test/support/marking-child.ts) grows its heap until V8 steps incremental markings, under
// --trace-incremental-marking; V8 prints what its helper threads marked only while concurrent
// marking is on. A process that never loads the hypervisor (the control) has it on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../../support/marking-child.js', import.meta.url));
const MARKER = 'xenode-marking-test-grow';

function markingLines(withHost: boolean): string[] {
  const r = spawnSync(process.execPath, ['--trace-incremental-marking', CHILD, withHost ? 'host' : 'none', MARKER],
    { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  assert.equal(r.status, 0, `the child failed: ${r.stderr.slice(-2000)}`);
  const lines = r.stdout.split('\n');
  const at = lines.indexOf(MARKER);
  assert.ok(at >= 0, 'the child printed its marker');
  return lines.slice(at + 1).filter((l) => l.includes('[IncrementalMarking]'));
}

test('a host steps its markings and no helper thread marks; a process without the hypervisor has helpers mark', { timeout: 240_000 }, () => {
  const hosted = markingLines(true);
  assert.ok(hosted.some((l) => l.includes('[IncrementalMarking] Step')), 'dom0 stepped an incremental marking');
  assert.deepEqual(hosted.filter((l) => l.includes('on background threads')), []);
  const control = markingLines(false);
  assert.ok(control.some((l) => l.includes('on background threads')), 'without the hypervisor, V8 marks on its helper threads');
});
