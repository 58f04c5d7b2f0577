// Path validation, permission parsing and evaluation, C number parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atoi, strtolWhole } from '../../../../src/xenstore/server/cnum.js';
import { canonicalNodePath, childPath, isValidNodePath, parentPath, } from '../../../../src/xenstore/common/path.js';
import { Perms, XS_PERM_ALL, XS_PERM_NONE, XS_PERM_READ, XS_PERM_WRITE, permFor } from '../../../../src/xenstore/server/perms.js';
test('node paths', () => {
    for (const ok of ['/', '/a', '/a/b-c_d@e/F0', '/local/domain/5/x'])
        assert.ok(isValidNodePath(ok, 2048), ok);
    for (const bad of ['', 'a', '/a/', '//', '/a//b', '/a b', '/a.b', '/\u00e9', '/a\u0100'])
        assert.ok(!isValidNodePath(bad, 2048), bad);
    assert.equal(canonicalNodePath('x/y', '/local/domain/7', 2048), '/local/domain/7/x/y');
    assert.throws(() => canonicalNodePath('@introduceDomain', '/local/domain/7', 2048), /EINVAL/);
    assert.throws(() => canonicalNodePath('', '/local/domain/7', 2048), /EINVAL/);
    // The limit counts below a domain's home, if the path is in one.
    assert.ok(isValidNodePath(`/local/domain/12345/${'a'.repeat(10)}`, 10));
    assert.ok(!isValidNodePath(`/local/domain/123456/${'a'.repeat(10)}`, 10));
    assert.equal(parentPath('/a/b'), '/a');
    assert.equal(parentPath('/a'), '/');
    assert.equal(childPath('/', 'a'), '/a');
});
test('C numbers', () => {
    assert.deepEqual(['12x', 'abc', '', ' -3', '4294967295', '99999999999999999999'].map(atoi), [12, 0, 0, -3, -1, -1]);
    assert.deepEqual(['0x10', '010', '-1', ' 5', '0'].map(strtolWhole), [16, 8, -1, 5, 0]);
    assert.deepEqual(['', '5 ', '0x', 'x', '-'].map(strtolWhole), [undefined, undefined, undefined, undefined, undefined]);
});
test('permissions: owner, ACL, default, privileged, target', () => {
    const p = Perms.parse(['n5', 'r6', 'w7', 'b8']);
    assert.equal(p.toWire().toString('latin1'), 'n5\0r6\0w7\0b8\0');
    const who = (domid, target, privileged = false) => ({ domid, privileged, target });
    assert.equal(permFor(who(5), p), XS_PERM_ALL);
    assert.equal(permFor(who(6), p), XS_PERM_READ);
    assert.equal(permFor(who(7), p), XS_PERM_WRITE);
    assert.equal(permFor(who(8), p), XS_PERM_READ | XS_PERM_WRITE);
    assert.equal(permFor(who(9), p), XS_PERM_NONE);
    assert.equal(permFor(who(9, 5), p), XS_PERM_ALL, 'acts as its target');
    assert.equal(permFor(who(9, undefined, true), p), XS_PERM_ALL);
    assert.equal(permFor(who(9), Perms.parse(['r0'])), XS_PERM_READ, 'first entry is everyone\'s default');
    assert.deepEqual(p.withOwner(3).toWire().toString('latin1'), 'n3\0r6\0w7\0b8\0');
    const ignoring7 = p.ignoring((d) => d === 7);
    assert.equal(permFor(who(7), ignoring7), XS_PERM_NONE, 'an ignored entry grants nothing: the default applies');
    assert.equal(ignoring7.toWire().toString('latin1'), 'n5\0r6\0w7\0b8\0', 'GET_PERMS still lists it, as cxenstored');
    assert.equal(p.ignoring((d) => d === 5), p, 'the owner entry is never ignored');
    assert.throws(() => Perms.parse(['q1']), /EINVAL/);
});
//# sourceMappingURL=path-perms.test.js.map