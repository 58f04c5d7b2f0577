// The hypercall gate: destroy waits for a vCPU to leave its hypercall by being woken, not by
// spinning, and gives up after the kill timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeGate, enterGate, leaveGate } from '../../../src/hypervisor/gate.js';
import { CB_HEADER_WORDS, CB_IN_HYPERCALL, CB_KILL } from '../../../src/hypervisor/layout.js';
const controlBlock = () => new Int32Array(new SharedArrayBuffer(CB_HEADER_WORDS * 4));
const turn = () => new Promise((r) => setImmediate(r));
test('a vCPU outside any hypercall is killed at once, and may not enter one again', async () => {
    const ctl = controlBlock();
    enterGate(ctl);
    leaveGate(ctl);
    assert.equal(await closeGate(ctl, 60_000), 'outside');
    assert.equal(Atomics.load(ctl, CB_KILL), 1);
});
test('closing the gate waits while the vCPU is inside and resolves when it leaves', async () => {
    const ctl = controlBlock();
    enterGate(ctl);
    let result;
    const closing = closeGate(ctl, 60_000).then((r) => (result = r));
    for (let i = 0; i < 5; i++)
        await turn();
    assert.equal(result, undefined, 'still inside: dom0 waits without blocking its thread');
    leaveGate(ctl);
    await closing;
    assert.equal(result, 'outside');
    assert.equal(Atomics.load(ctl, CB_IN_HYPERCALL), 0);
});
test('a vCPU that never leaves (it died inside) times out after killWaitMs', async () => {
    const ctl = controlBlock();
    enterGate(ctl);
    assert.equal(await closeGate(ctl, 1), 'timed-out');
    assert.equal(Atomics.load(ctl, CB_IN_HYPERCALL), 1);
});
//# sourceMappingURL=gate.test.js.map