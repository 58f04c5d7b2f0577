// The forwarding database: aging and its bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fdb } from '../../../src/network/fdb.js';
function port() {
    return { learned: 0 };
}
test('entries age out when looked up after the aging time', () => {
    let now = 0;
    const fdb = new Fdb({ agingMs: 1000, maxEntries: 10, maxPerPort: 10 }, () => now);
    const p = port();
    fdb.learn(1, 0xaa, p);
    assert.equal(fdb.lookup(1, 0xaa), p);
    assert.equal(fdb.lookup(2, 0xaa), undefined, 'per VLAN');
    now = 1000;
    assert.equal(fdb.lookup(1, 0xaa), p);
    now = 1001;
    assert.equal(fdb.lookup(1, 0xaa), undefined);
    assert.equal(fdb.size, 0);
    assert.equal(p.learned, 0);
});
test('a flood of source MACs stops at the bound; aged entries make room again', () => {
    let now = 0;
    const fdb = new Fdb({ agingMs: 1000, maxEntries: 100, maxPerPort: 60 }, () => now);
    const a = port();
    const b = port();
    for (let m = 0; m < 10_000; m++)
        fdb.learn(0, m, a);
    assert.equal(a.learned, 60, 'per-port bound');
    for (let m = 0; m < 10_000; m++)
        fdb.learn(0, 100_000 + m, b);
    assert.equal(fdb.size, 100, 'total bound');
    assert.equal(fdb.full, 10_000 - 60 + 10_000 - 40);
    now = 2000;
    fdb.learn(0, 999_999, b);
    assert.equal(fdb.size, 1, 'the sweep dropped every aged entry');
    assert.equal(a.learned + b.learned, 1);
});
test('a station that moves is relearned on its new port; forget drops a port\'s entries', () => {
    const fdb = new Fdb({ agingMs: 1000, maxEntries: 10, maxPerPort: 10 }, () => 0);
    const a = port();
    const b = port();
    fdb.learn(0, 1, a);
    fdb.learn(0, 2, a);
    fdb.learn(0, 1, b);
    assert.equal(fdb.lookup(0, 1), b);
    assert.deepEqual([a.learned, b.learned], [1, 1]);
    fdb.forget(a);
    assert.equal(fdb.lookup(0, 2), undefined);
    assert.equal(fdb.size, 1);
    assert.deepEqual(fdb.rows().map((r) => [r.vid, r.mac, r.port === b]), [[0, 1, true]]);
});
//# sourceMappingURL=fdb.test.js.map