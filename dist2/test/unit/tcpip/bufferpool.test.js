import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, POOL_LARGE } from '../../../src/tcpip/bufferpool.js';
test('BufferPool: a buffer given back is handed out again, once, and the free lists are bounded', () => {
    const pool = new BufferPool();
    const a = pool.take(1500);
    assert.equal(a.length, 1500);
    a.fill(7);
    pool.give(a);
    pool.give(a); // twice: must not come out twice
    const b = pool.take(100);
    assert.equal(b.buffer, a.buffer, 'reused');
    assert.equal(b[0], 7, 'not zeroed: the caller writes every byte');
    assert.notEqual(pool.take(100).buffer, a.buffer, 'given back twice, handed out once');
    const big = pool.take(POOL_LARGE);
    pool.give(big);
    assert.equal(pool.take(40_000).buffer, big.buffer);
    // Views that are not the pool's own (an offset, a foreign size) are left to the collector.
    const foreign = new Uint8Array(4096);
    pool.give(foreign);
    pool.give(pool.take(1000).subarray(10));
    assert.notEqual(pool.take(3000).buffer, foreign.buffer);
    // Bounded: giving back many keeps only a few.
    const many = Array.from({ length: 1000 }, () => pool.take(POOL_LARGE));
    for (const m of many)
        pool.give(m);
    const again = new Set(Array.from({ length: 1000 }, () => pool.take(POOL_LARGE).buffer));
    const reused = many.filter((m) => again.has(m.buffer)).length;
    assert.ok(reused > 0 && reused <= 16, `${reused} large buffers kept`);
    assert.equal(pool.take(POOL_LARGE + 1).length, POOL_LARGE + 1, 'larger than any class: a buffer of its own');
});
//# sourceMappingURL=bufferpool.test.js.map