// within(): a bounded wait, and one in the background that does not keep the process alive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { within } from '../../src/within.js';

test('within gives the promise, or nothing once its time is up', async () => {
  assert.equal(await within(Promise.resolve(7), 60_000), 7);
  assert.equal(await within(new Promise(() => {}), 1), undefined);
  await assert.rejects(within(Promise.reject(new Error('no')), 60_000), /no/);
});

test("an unref'd bound does not keep the process alive; a plain one does", () => {
  const url = new URL('../../src/within.js', import.meta.url).href;
  const run = (opts: string) => spawnSync(process.execPath, ['--input-type=module', '-e',
    `import { within } from ${JSON.stringify(url)}; void within(new Promise(() => {}), 3_000, ${opts}).then(() => console.log('timed out'));`],
  { encoding: 'utf8', timeout: 60_000 });
  const background = run('{ unref: true }');
  assert.equal(background.status, 0);
  assert.equal(background.stdout, '', 'the process ended before the bound');
  const held = run('undefined');
  assert.equal(held.stdout, 'timed out\n', 'the process waited for the bound');
});
