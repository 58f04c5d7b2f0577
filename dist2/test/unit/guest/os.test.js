// The guest's console: its global console and os.console both write through the PV console
// frontend, and flush and input are the frontend's own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pvConsole } from '../../../src/guest/os.js';
function front() {
    const written = [];
    const inputs = [];
    const flushes = [];
    const f = {
        write: (d) => void written.push(typeof d === 'string' ? d : Buffer.from(d).toString()),
        flush: async () => void flushes.push(written.length),
        onInput: (h) => {
            inputs.push(h);
            return () => inputs.splice(inputs.indexOf(h), 1);
        },
    };
    return { front: f, written, inputs, flushes };
}
test('console.log, console.error and os.console.log are formatted as Node does and go to the PV console', () => {
    const f = front();
    const { console: c, consoleApi } = pvConsole(f.front);
    c.log('%s=%d', 'a', 1);
    c.error(new Error('bad').message);
    consoleApi.log({ x: [1, 2] });
    consoleApi.write('raw');
    consoleApi.write(new Uint8Array([0x68, 0x69]));
    assert.deepEqual(f.written, ['a=1\n', 'bad\n', '{ x: [ 1, 2 ] }\n', 'raw', 'hi']);
});
test("flush and input are the frontend's", async () => {
    const f = front();
    const { consoleApi } = pvConsole(f.front);
    consoleApi.write('x');
    await consoleApi.flush();
    assert.deepEqual(f.flushes, [1]);
    const got = [];
    const off = consoleApi.onInput((d) => got.push(Buffer.from(d).toString()));
    f.inputs.forEach((h) => h(new TextEncoder().encode('typed')));
    off();
    assert.deepEqual(got, ['typed']);
    assert.equal(f.inputs.length, 0, 'the handler is removed');
});
//# sourceMappingURL=os.test.js.map