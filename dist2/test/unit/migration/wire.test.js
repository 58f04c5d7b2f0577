// The migration connection's preamble and xl's fixed messages: the token compared whole, the
// banner told apart from a refusal, and anything else refused.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY } from '../../../src/migration/format.js';
import { ByteSource } from '../../../src/migration/source.js';
import { AUTH_BYTES, AUTH_REFUSED, authLine, authentic, readBanner, readFixed } from '../../../src/migration/wire.js';
const TOKEN = 'c0ffee'.repeat(10) + 'abcd';
const source = (...parts) => new ByteSource(Readable.from(parts.map((p) => Buffer.from(p))), { stallMs: 1000 });
test('the preamble carries the token; only the same token is authentic', () => {
    const line = authLine(TOKEN);
    assert.equal(line.length, AUTH_BYTES);
    assert.ok(authentic(line, TOKEN));
    assert.ok(!authentic(authLine('0'.repeat(64)), TOKEN));
    assert.ok(!authentic(line.subarray(0, AUTH_BYTES - 1), TOKEN));
    assert.throws(() => authLine('ABC'), (e) => isXenError(e, 'EINVAL'));
});
test("xl's banner, a refusal of the token, and a stranger are told apart", async () => {
    await readBanner(source(MIGRATE_RECEIVER_BANNER), MIGRATE_RECEIVER_BANNER);
    await assert.rejects(readBanner(source(AUTH_REFUSED), MIGRATE_RECEIVER_BANNER), (e) => isXenError(e, 'EACCES'));
    await assert.rejects(readBanner(source('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' + 'x'.repeat(40)), MIGRATE_RECEIVER_BANNER), (e) => isXenError(e, 'EBADMSG'));
    await assert.rejects(readBanner(source('xl migration'), MIGRATE_RECEIVER_BANNER), (e) => isXenError(e, 'EINVAL') && /truncated/.test(e.message));
});
test('fixed messages arrive whole and exact, in pieces or not', async () => {
    const m = MIGRATE_RECEIVER_READY;
    await readFixed(source(m.subarray(0, 3), m.subarray(3, 10), m.subarray(10)), m, 'ready message');
    const wrong = Buffer.from(m);
    wrong[wrong.length - 1] = 0x21;
    await assert.rejects(readFixed(source(wrong), m, 'ready message'), (e) => isXenError(e, 'EBADMSG') && /expected the ready message/.test(e.message));
});
//# sourceMappingURL=wire.test.js.map