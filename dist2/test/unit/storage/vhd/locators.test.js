// Parent locators as blktap writes and reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlatformCode, decodeLocator, encodeLocator, locatorSpace, relativeParentPath } from '../../../../src/storage/vhd/locators.js';
test('relative paths and their encodings', () => {
    assert.equal(relativeParentPath('/sr/a/child.vhd', '/sr/a/base.vhd'), './base.vhd');
    assert.equal(relativeParentPath('/sr/a/child.vhd', '/sr/b/base.vhd'), '../b/base.vhd');
    assert.equal(Buffer.from(encodeLocator('MACX', './base.vhd')).toString(), 'file://./base.vhd');
    assert.equal(Buffer.from(encodeLocator('W2RU', './base.vhd')).toString('utf16le'), '.\\base.vhd');
    assert.equal(Buffer.from(encodeLocator('W2KU', '../b/base.vhd')).toString('utf16le'), '.\\../b/base.vhd');
    assert.equal(locatorSpace(20), 512);
});
test('decoding resolves against the child\'s directory; unknown codes and junk give nothing', () => {
    for (const kind of ['MACX', 'W2KU', 'W2RU']) {
        assert.equal(decodeLocator(PlatformCode[kind], encodeLocator(kind, '../b/base.vhd'), '/sr/a/c.vhd'), '/sr/b/base.vhd');
    }
    assert.equal(decodeLocator(PlatformCode.W2KU, Buffer.from('C:\\sr\\x.vhd', 'utf16le'), '/sr/a/c.vhd'), '/sr/x.vhd');
    assert.equal(decodeLocator(PlatformCode.MACX, Buffer.from('http://x'), '/c.vhd'), undefined);
    assert.equal(decodeLocator(0x4d616320, Buffer.from('file://x'), '/c.vhd'), undefined);
    assert.equal(decodeLocator(PlatformCode.W2RU, new Uint8Array(8), '/c.vhd'), undefined);
});
//# sourceMappingURL=locators.test.js.map