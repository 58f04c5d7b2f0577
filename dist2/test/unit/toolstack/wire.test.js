// The control socket's framing and error transport.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenError, isXenError } from '../../../src/errors.js';
import { LineBuffer, decodeError, encodeError, parseRequest } from '../../../src/toolstack/wire.js';
test('lines split across chunks, several per chunk; the rest after the last line stays', () => {
    const b = new LineBuffer(100);
    b.push(Buffer.from('{"a":'));
    assert.equal(b.next(), undefined);
    b.push(Buffer.from('1}\nsecond\nraw'));
    assert.equal(b.next(), '{"a":1}');
    assert.equal(b.next(), 'second');
    assert.equal(b.next(), undefined);
    assert.equal(b.takeRest().toString(), 'raw');
});
test('a line past the limit is E2BIG, with or without its newline', () => {
    const b = new LineBuffer(8);
    b.push(Buffer.from('0123456789'));
    assert.throws(() => b.next(), (e) => isXenError(e, 'E2BIG'));
    const c = new LineBuffer(8);
    c.push(Buffer.from('0123456789\n'));
    assert.throws(() => c.next(), (e) => isXenError(e, 'E2BIG'));
});
test('requests must be JSON objects with an integer id and a string op', () => {
    assert.deepEqual(parseRequest('{"id":3,"op":"list","args":{}}'), { id: 3, op: 'list', args: {} });
    for (const bad of ['nope', '[]', '{"op":"list"}', '{"id":1.5,"op":"x"}', '{"id":1,"op":7}', 'null']) {
        assert.throws(() => parseRequest(bad), (e) => isXenError(e, 'EINVAL'), bad);
    }
});
test('a XenError crosses the wire as itself; other errors keep name and message', () => {
    const back = decodeError(JSON.parse(JSON.stringify(encodeError(new XenError('ESRCH', 'no domain named x')))));
    assert.ok(isXenError(back, 'ESRCH'));
    assert.equal(back.message, 'ESRCH: no domain named x');
    const other = decodeError(encodeError(Object.assign(new Error('x.cfg:1:2: bad'), { name: 'ConfigError' })));
    assert.equal(other.name, 'ConfigError');
    assert.equal(other.message, 'x.cfg:1:2: bad');
});
test('a line cut into single bytes, and lines cut anywhere, come out whole', () => {
    const text = '{"id":1,"op":"list"}\nsecond line\n\nlast';
    for (const cut of [1, 2, 3, 7, 64]) {
        const b = new LineBuffer(1 << 20);
        const out = [];
        for (let i = 0; i < text.length; i += cut) {
            b.push(Buffer.from(text.slice(i, i + cut)));
            for (let l = b.next(); l !== undefined; l = b.next())
                out.push(l);
        }
        assert.deepEqual(out, ['{"id":1,"op":"list"}', 'second line', ''], `cut ${cut}`);
        assert.equal(b.length, 4);
        assert.equal(b.takeRest().toString(), 'last');
        assert.equal(b.length, 0);
    }
});
test('a long line sent a byte at a time is refused once past the limit, and costs linear work', { timeout: 60_000 }, () => {
    const limit = 256 << 10;
    const b = new LineBuffer(limit);
    const one = Buffer.from('a');
    let pushed = 0;
    let refused = false;
    // Bounded by count; quadratic work would take minutes here and the test timeout catches it.
    while (!refused && pushed <= limit + 1) {
        b.push(one);
        pushed++;
        try {
            assert.equal(b.next(), undefined);
        }
        catch (e) {
            assert.ok(isXenError(e, 'E2BIG'));
            refused = true;
        }
    }
    assert.ok(refused, `not refused after ${pushed} bytes`);
    assert.equal(pushed, limit + 1);
});
//# sourceMappingURL=wire.test.js.map