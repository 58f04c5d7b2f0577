import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteQueue } from '../../../../src/tcpip/tcp/bytequeue.js';
test('ByteQueue: bytes that continue the last chunk in memory join it; dropped chunks are released whole', () => {
    const released = [];
    const q = new ByteQueue((c) => released.push(c));
    const mem = Uint8Array.from({ length: 100 }, (_, i) => i);
    q.push(mem.subarray(0, 10));
    q.push(mem.subarray(10, 30)); // adjacent: joins
    q.push(new Uint8Array(5).fill(200)); // elsewhere: its own chunk
    assert.equal(q.length, 35);
    const out = new Uint8Array(35);
    q.copyTo(0, 35, out, 0);
    assert.deepEqual([...out.subarray(0, 30)], [...mem.subarray(0, 30)]);
    assert.deepEqual([...out.subarray(30)], [200, 200, 200, 200, 200]);
    q.drop(12);
    assert.equal(released.length, 0, 'a chunk partly dropped is kept');
    assert.deepEqual([...q.shift(3)], [12, 13, 14]);
    q.drop(15);
    assert.equal(released.length, 1);
    assert.equal(released[0].length, 30, 'the joined chunk is released as one');
    assert.equal(q.length, 5);
});
//# sourceMappingURL=bytequeue.test.js.map