import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slab } from '../../../src/tcpip/slab.js';
test('Slab: zeroed views carved end to end from one buffer; copies stay valid; large copies stand alone', () => {
    const slab = new Slab();
    const a = slab.alloc(100);
    const b = slab.alloc(50);
    assert.equal(a.buffer, b.buffer);
    assert.equal(b.byteOffset, a.byteOffset + 100, 'end to end');
    assert.ok(a.every((x) => x === 0) && b.every((x) => x === 0));
    const src = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
    const c = slab.copy(src);
    src.fill(0);
    assert.equal(c[299], 299 & 255, 'a copy, not a view of the source');
    const big = slab.copy(new Uint8Array(100_000).fill(9));
    assert.equal(big.byteOffset, 0);
    assert.equal(big.length, 100_000);
    assert.equal(big[99_999], 9);
    // A slab is never reused: earlier views keep their bytes however much is carved after them.
    a.fill(1);
    for (let i = 0; i < 5000; i++)
        slab.alloc(1000).fill(2);
    assert.ok(a.every((x) => x === 1));
});
//# sourceMappingURL=slab.test.js.map