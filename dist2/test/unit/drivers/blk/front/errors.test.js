// The Block errors a guest tells apart: each is its own class, and its name and kind say which.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockError, Disconnected, IoError, OutOfRange, ReadOnly, Unaligned, } from '../../../../../src/drivers/blk/front/errors.js';
test('each error is a BlockError of its own kind, and of no other', () => {
    const all = [Disconnected, ReadOnly, OutOfRange, Unaligned, IoError];
    for (const C of all) {
        const e = new C('what happened');
        assert.ok(e instanceof BlockError && e instanceof Error);
        assert.equal(e.name, C.name);
        assert.equal(e.kind, C.name);
        assert.equal(e.message, 'what happened');
        for (const D of all)
            if (D !== C)
                assert.equal(e instanceof D, false, `${C.name} is not ${D.name}`);
    }
    assert.equal(new IoError('x').unsupported, false);
    assert.equal(new IoError('x', true).unsupported, true);
});
//# sourceMappingURL=errors.test.js.map