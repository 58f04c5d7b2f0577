// struct xencons_interface: index accessors and copies that wrap around the end of each ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XENCONS_IN, XENCONS_IN_SIZE, XENCONS_INTERFACE_SIZE, XENCONS_OUT, XENCONS_OUT_PROD, XENCONS_OUT_SIZE, XenconsInterface, maskXenconsIdx, } from '../../../src/abi/console.js';
import { PAGE_SIZE } from '../../../src/abi/xen.js';
import { isXenError } from '../../../src/errors.js';
function page() {
    return new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
}
const bytes = (n, from = 1) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
test('indices are uint32 at their offsets and wrap', () => {
    const mem = page();
    const intf = new XenconsInterface(mem);
    intf.outProd = 0xffffffff;
    assert.equal(intf.outProd, 0xffffffff);
    assert.equal(new DataView(mem.buffer).getUint32(XENCONS_OUT_PROD, true), 0xffffffff);
    intf.outProd = intf.outProd + 1;
    assert.equal(intf.outProd, 0);
    intf.inCons = 7;
    intf.inProd = 9;
    intf.outCons = 2 ** 32 + 3;
    assert.deepEqual([intf.inCons, intf.inProd, intf.outCons], [7, 9, 3]);
});
test('MASK_XENCONS_IDX', () => {
    assert.equal(maskXenconsIdx(0xffffffff, XENCONS_OUT_SIZE), 2047);
    assert.equal(maskXenconsIdx(1024 + 5, XENCONS_IN_SIZE), 5);
});
test('a write that crosses the end of the out ring wraps to its start', () => {
    const mem = page();
    const intf = new XenconsInterface(mem);
    const idx = 0xfffffff8; // masks to 2040: 8 bytes before the end
    const data = bytes(20);
    intf.write('out', idx, data);
    assert.deepEqual(mem.subarray(XENCONS_OUT + 2040, XENCONS_OUT + 2048), data.subarray(0, 8));
    assert.deepEqual(mem.subarray(XENCONS_OUT, XENCONS_OUT + 12), data.subarray(8));
    assert.ok(mem.subarray(XENCONS_IN, XENCONS_IN + XENCONS_IN_SIZE).every((b) => b === 0), 'in ring untouched');
    const back = new Uint8Array(20);
    intf.read('out', idx, back);
    assert.deepEqual(back, data);
});
test('the in ring wraps at 1024 and a full-ring copy works from any index', () => {
    const mem = page();
    const intf = new XenconsInterface(mem);
    const data = bytes(XENCONS_IN_SIZE, 3);
    intf.write('in', 1000, data);
    assert.equal(mem[XENCONS_IN + 1000], 3);
    assert.equal(mem[XENCONS_IN], (3 + 24) & 0xff);
    const back = new Uint8Array(XENCONS_IN_SIZE);
    intf.read('in', 1000 + 5 * XENCONS_IN_SIZE, back);
    assert.deepEqual(back, data);
    assert.ok(mem.subarray(XENCONS_OUT, XENCONS_INTERFACE_SIZE - 16).every((b) => b === 0), 'out ring untouched');
});
test('copies larger than the ring and undersized pages are refused', () => {
    const intf = new XenconsInterface(page());
    assert.throws(() => intf.write('in', 0, new Uint8Array(XENCONS_IN_SIZE + 1)), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => intf.read('out', 0, new Uint8Array(XENCONS_OUT_SIZE + 1)), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => new XenconsInterface(page().subarray(0, XENCONS_INTERFACE_SIZE - 4)), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => new XenconsInterface(page().subarray(2)), (e) => isXenError(e, 'EINVAL'));
});
//# sourceMappingURL=console.test.js.map