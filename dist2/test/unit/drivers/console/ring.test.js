// One direction of the console page: the producer never overruns the consumer, indices wrap,
// and a peer index that claims more than the ring holds is EIO, never a read or write outside.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XENCONS_IN_SIZE, XENCONS_OUT_SIZE, XenconsInterface } from '../../../../src/abi/console.js';
import { PAGE_SIZE } from '../../../../src/abi/xen.js';
import { ByteRing } from '../../../../src/drivers/console/ring.js';
import { isXenError } from '../../../../src/errors.js';
const page = () => new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
const bytes = (n, from = 1) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
test('what the producer writes the consumer reads, once, in order', () => {
    const p = page();
    const prod = new ByteRing(p, 'out', 'producer');
    const cons = new ByteRing(p, 'out', 'consumer');
    assert.equal(prod.write(bytes(5)), 5);
    assert.equal(prod.write(bytes(3, 10)), 3);
    assert.equal(cons.pending, 8);
    assert.deepEqual(cons.read(), Uint8Array.from([1, 2, 3, 4, 5, 10, 11, 12]));
    assert.equal(cons.pending, 0);
    assert.equal(cons.read().length, 0);
    // The other direction is a different ring of the same page.
    assert.equal(new ByteRing(p, 'in', 'consumer').read().length, 0);
});
test('a full ring takes no more until the consumer makes room, and data wraps the end', () => {
    for (const [ring, size] of [['out', XENCONS_OUT_SIZE], ['in', XENCONS_IN_SIZE]]) {
        const p = page();
        const prod = new ByteRing(p, ring, 'producer');
        const cons = new ByteRing(p, ring, 'consumer');
        assert.equal(prod.write(bytes(size - 10)), size - 10);
        assert.equal(cons.read().length, size - 10);
        // 30 bytes from 10 before the end: they wrap.
        assert.equal(prod.write(bytes(size)), size, `${ring}: room for a whole ring again`);
        assert.equal(prod.write(bytes(1)), 0, `${ring}: full`);
        assert.deepEqual(cons.read(), bytes(size));
        assert.equal(prod.write(bytes(7, 50)), 7);
        assert.deepEqual(cons.read(), bytes(7, 50));
    }
});
test('indices start where the page says, so a reattached end carries on', () => {
    const p = page();
    const intf = new XenconsInterface(p);
    intf.outProd = 0xfffffffe;
    intf.outCons = 0xfffffffe;
    const prod = new ByteRing(p, 'out', 'producer');
    const cons = new ByteRing(p, 'out', 'consumer');
    assert.equal(prod.write(bytes(4)), 4);
    assert.equal(intf.outProd, 2, 'the index wraps at 2^32');
    assert.deepEqual(cons.read(), bytes(4));
});
test('a peer index claiming more than the ring holds is EIO for both ends', () => {
    const p = page();
    const intf = new XenconsInterface(p);
    const cons = new ByteRing(p, 'out', 'consumer');
    intf.outProd = XENCONS_OUT_SIZE + 1;
    assert.throws(() => cons.read(), (e) => isXenError(e, 'EIO'));
    const q = page();
    const prod = new ByteRing(q, 'in', 'producer');
    new XenconsInterface(q).inCons = 5; // the consumer claims to have taken bytes never written
    assert.throws(() => prod.write(bytes(1)), (e) => isXenError(e, 'EIO'));
});
//# sourceMappingURL=ring.test.js.map