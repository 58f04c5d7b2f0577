// The node flags `xenode host start` gives its daemon.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { daemonNodeFlags } from '../../../src/cli/host.js';
test('host start: the daemon gets 1 MiB semi-spaces by default', () => {
    assert.deepEqual(daemonNodeFlags([], ''), ['--max-semi-space-size=1']);
    assert.deepEqual(daemonNodeFlags(['--enable-source-maps'], '--trace-warnings'), ['--max-semi-space-size=1']);
});
test("host start: a semi-space size the user gave wins, from node's arguments or NODE_OPTIONS", () => {
    assert.deepEqual(daemonNodeFlags(['--max-semi-space-size=4'], ''), []);
    assert.deepEqual(daemonNodeFlags([], '--inspect  --max-semi-space-size=8'), []);
});
//# sourceMappingURL=host.test.js.map