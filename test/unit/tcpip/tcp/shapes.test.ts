// Sequence numbers past 2^31 must not change the TCP objects' hidden classes: V8 keeps a field
// first given a small integer as one, and the first larger value (half of all ISNs) deprecates
// the object's map, which throws away every optimized function that saw it (the whole TCP path,
// compiled again mid-stream). The child (test/support/tcp-shapes-child.ts) runs a connection
// with small sequence numbers, prints a marker, then one with large ones, under V8's
// --trace-generalization; no TCP field may be generalized after the marker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../../../support/tcp-shapes-child.js', import.meta.url));
const MARKER = 'xenode-tcp-shapes-large-sequence-numbers';

test('a connection whose sequence numbers and timestamps pass 2^31 changes no TCP object\'s field representation', (t) => {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--trace-generalization', '--no-sparkplug', CHILD, MARKER],
    { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  assert.equal(r.status, 0, `the child failed: ${r.stderr.slice(-2000)}`);
  const lines = r.stdout.split('\n');
  if (!lines.some((l) => l.startsWith('[generalizing]'))) {
    t.skip('this node prints no field generalizations (--trace-generalization)');
    return;
  }
  const at = lines.findIndex((l) => l.includes(MARKER));
  assert.ok(at >= 0, 'the marker was printed');
  // "[generalizing]rcvNxt:s{Any;mutable}->d{Any;mutable} (+37 maps) [~#inputSynSent+232 at file:///.../tcp/connection.js:1019]"
  const changed = lines.slice(at + 1).filter((l) => l.startsWith('[generalizing]') && /\/tcpip\/tcp\//.test(l) && /:[sd]\{[^}]*\}->[dt]\{/.test(l));
  assert.deepEqual(changed, []);
});
