import assert from 'node:assert/strict';
import { test } from 'node:test';
import { warmStackResume } from '../../../src/guest/stackwarm.js';
import * as stackModule from '../../../src/tcpip/stack.js';

test('the stack\'s resume path runs once on scratch stacks (an incoming migration\'s parked runtime), and every scratch socket is quiet', async () => {
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  process.on('uncaughtException', onError);
  try {
    assert.equal(await warmStackResume(stackModule), true, 'every step ran: a connection with data, a freeze and a restore');
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('uncaughtException', onError);
  }
  assert.deepEqual(errors, []);
});
