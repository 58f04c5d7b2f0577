// The migration connection's preamble and xl's fixed messages: the token compared whole, the
// banner told apart from a refusal, and anything else refused.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isXenError } from '../../../src/errors.js';
import { MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_XENODE_BUILT, MIGRATE_XENODE_REFUSED } from '../../../src/migration/format.js';
import { ByteSource } from '../../../src/migration/source.js';
import { AUTH_BYTES, AUTH_REFUSED, authLine, authentic, readBanner, readBuilt, readFixed, refuse } from '../../../src/migration/wire.js';
import { XenError } from '../../../src/errors.js';
import type { Socket } from 'node:net';

const TOKEN = 'c0ffee'.repeat(10) + 'abcd';
const source = (...parts: (string | Buffer)[]) => new ByteSource(Readable.from(parts.map((p) => Buffer.from(p))), { stallMs: 1000 });

test('the preamble carries the token; only the same token is authentic', () => {
  const line = authLine(TOKEN);
  assert.equal(line.length, AUTH_BYTES);
  assert.ok(authentic(line, TOKEN));
  assert.ok(!authentic(authLine('0'.repeat(64)), TOKEN));
  assert.ok(!authentic(line.subarray(0, AUTH_BYTES - 1), TOKEN));
  assert.throws(() => authLine('ABC'), (e: Error) => isXenError(e, 'EINVAL'));
});

test("xl's banner, a refusal of the token, and a stranger are told apart", async () => {
  await readBanner(source(MIGRATE_RECEIVER_BANNER), MIGRATE_RECEIVER_BANNER);
  await assert.rejects(readBanner(source(AUTH_REFUSED), MIGRATE_RECEIVER_BANNER), (e: Error) => isXenError(e, 'EACCES'));
  await assert.rejects(readBanner(source('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' + 'x'.repeat(40)), MIGRATE_RECEIVER_BANNER), (e: Error) => isXenError(e, 'EBADMSG'));
  await assert.rejects(readBanner(source('xl migration'), MIGRATE_RECEIVER_BANNER), (e: Error) => isXenError(e, 'EINVAL') && /truncated/.test(e.message));
});

test('fixed messages arrive whole and exact, in pieces or not', async () => {
  const m = MIGRATE_RECEIVER_READY;
  await readFixed(source(m.subarray(0, 3), m.subarray(3, 10), m.subarray(10)), m, 'ready message');
  const wrong = Buffer.from(m);
  wrong[wrong.length - 1] = 0x21;
  await assert.rejects(readFixed(source(wrong), m, 'ready message'), (e: Error) => isXenError(e, 'EBADMSG') && /expected the ready message/.test(e.message));
});

test("the target's built message, or its refusal with the error it gave; a hostile refusal is refused", async () => {
  await readBuilt(source(MIGRATE_XENODE_BUILT.subarray(0, 5), MIGRATE_XENODE_BUILT.subarray(5)));
  // What refuse() writes, read back: the errno and text of the receiver's error.
  let written: Buffer = Buffer.alloc(0);
  const sock = { destroyed: false, writableEnded: false, end: (b: Buffer) => void (written = b) } as unknown as Socket;
  refuse(sock, new XenError('EEXIST', 'Domain with name "web" already exists.\nand a second line'));
  assert.ok(written.subarray(0, MIGRATE_XENODE_REFUSED.length).equals(MIGRATE_XENODE_REFUSED));
  await assert.rejects(readBuilt(source(written)), (e: Error) => isXenError(e, 'EEXIST') && e.message === 'EEXIST: the target refused the domain: Domain with name "web" already exists. and a second line');
  // Not an errno of Xen's: EIO, the text kept.
  await assert.rejects(readBuilt(source(MIGRATE_XENODE_REFUSED, 'EWHATEVER no\n')), (e: Error) => isXenError(e, 'EIO') && /refused the domain: no$/.test(e.message));
  await assert.rejects(readBuilt(source(MIGRATE_XENODE_REFUSED, 'x'.repeat(5000), '\n')), (e: Error) => isXenError(e, 'EBADMSG') && /longer than 1024/.test(e.message));
  await assert.rejects(readBuilt(source(MIGRATE_XENODE_REFUSED, 'EIO cut short')), (e: Error) => isXenError(e, 'EINVAL') && /truncated/.test(e.message));
  const wrong = Buffer.from(MIGRATE_XENODE_BUILT);
  wrong[60] = 0x21;
  await assert.rejects(readBuilt(source(wrong)), (e: Error) => isXenError(e, 'EBADMSG') && /expected the target's built message/.test(e.message));
});
