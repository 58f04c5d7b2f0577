// blkback's pool of persistent grants at its limit: CLOCK eviction. A grant a request holds is
// never unmapped; an idle grant nobody used since the hand last passed goes before one used
// again since; a pool whose grants are all held answers null (the caller maps for the request).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GTF_permit_access, GTF_reading, GTF_writing } from '../../../../../src/abi/grant_table.js';
import { PersistentGrants } from '../../../../../src/drivers/blk/back/pgrants.js';
import { grantFlags, harness, ramPage } from '../../../../support/hypervisor.js';
const MAPPED = GTF_permit_access | GTF_reading | GTF_writing;
/** A frontend with `n` pages granted read-write to dom0, and dom0's pool of `limit` over them. */
function setup(h, n, limit) {
    const f = h.local({ ramFrames: 32 });
    const pages = Array.from({ length: n }, (_, i) => ramPage(f.hc, i + 1));
    const refs = pages.map((p) => f.hc.grantAccess(0, p.pfn, false));
    const pool = new PersistentGrants(h.dom0, f.domid, limit);
    /** The grant refs dom0 has mapped, by the frontend's own entries (GTF_reading/GTF_writing). */
    const mapped = () => refs.filter((r) => grantFlags(f.domain.view, r) === MAPPED);
    /** Use a grant for one request: acquire, check it is the page, release. */
    const use = (i) => {
        const g = pool.acquire(refs[i]);
        assert.ok(g, `grant ${i} is in the pool`);
        assert.equal(new Uint8Array(g.mem, g.offset, 1)[0], i + 1, `grant ${i} maps its page`);
        pool.release(g);
    };
    return { f, pages, refs, pool, mapped, use };
}
test('a pool at its limit never evicts a grant in use, and answers null when all are held', async (t) => {
    const h = harness(t);
    const { f, refs, pool, mapped } = setup(h, 5, 3);
    const held = [0, 1, 2].map((i) => pool.acquire(refs[i]));
    assert.equal(pool.size, 3);
    assert.deepEqual(mapped(), refs.slice(0, 3));
    // Twice round the clock finds nothing idle: null, and nothing unmapped.
    assert.equal(pool.acquire(refs[3]), null);
    assert.equal(pool.acquire(refs[4]), null);
    assert.equal(pool.evictions, 0);
    assert.equal(pool.maps, 3);
    assert.deepEqual(mapped(), refs.slice(0, 3), 'the grants in use are still mapped');
    assert.equal(f.domain.view.foreignPins, 3);
    for (const [i, g] of held.entries())
        assert.equal(new Uint8Array(g.mem, g.offset, 1)[0], i + 1, `grant ${i} still maps its page`);
    // Let go of the newest: it is the only one that may go, though it is the last in the clock's order.
    pool.release(held[2]);
    const g3 = pool.acquire(refs[3]);
    assert.ok(g3);
    assert.equal(new Uint8Array(g3.mem, g3.offset, 1)[0], 4);
    assert.equal(pool.evictions, 1);
    assert.deepEqual(mapped(), [refs[0], refs[1], refs[3]], 'grant 2 was unmapped; 0 and 1, in use, were not');
    // Still held twice over: a second acquire of a held grant is a hit, not a map.
    const again = pool.acquire(refs[0]);
    assert.equal(again, held[0]);
    assert.equal(pool.maps, 4);
    pool.release(again);
    assert.equal(pool.acquire(refs[4]), null, 'grant 0 is still held once; 1 and 3 are held');
    for (const g of [held[0], held[1], g3])
        pool.release(g);
    pool.clear();
    assert.equal(f.domain.view.foreignPins, 0);
});
test('CLOCK: an idle grant not used since the hand passed is evicted before one used again', async (t) => {
    const h = harness(t);
    const { refs, pool, mapped, use } = setup(h, 6, 3);
    use(0);
    use(1);
    use(2);
    // The pool is full: the hand clears every referenced bit on its first pass and takes the
    // first idle grant on its second (0, the oldest).
    use(3);
    assert.equal(pool.evictions, 1);
    assert.deepEqual(mapped(), [refs[1], refs[2], refs[3]]);
    // 1 is used again; 2 is not: 2 goes, although 1 is older.
    use(1);
    use(4);
    assert.equal(pool.evictions, 2);
    assert.deepEqual(mapped(), [refs[1], refs[3], refs[4]], 'grant 2 (idle, unreferenced) went before grant 1 (used again)');
    // 1 had its second chance: with nothing used since, the hand now takes it (before 3 and 4,
    // which came in referenced).
    use(5);
    assert.deepEqual(mapped(), [refs[3], refs[4], refs[5]]);
    assert.equal(pool.evictions, 3);
    assert.equal(pool.size, 3);
    // A grant evicted earlier comes back as a new mapping.
    const maps = pool.maps;
    use(2);
    assert.equal(pool.maps, maps + 1);
    assert.equal(pool.size, 3);
    pool.clear();
    assert.deepEqual(mapped(), []);
});
//# sourceMappingURL=pgrants.test.js.map