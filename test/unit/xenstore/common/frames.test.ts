// The one xsd_sockmsg framer, as xenstored's connections and the client library drive it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, XS_READ, XS_WRITE } from '../../../../src/abi/xs_wire.js';
import { isXenError } from '../../../../src/errors.js';
import { XsFrameReader, encodeRequest, packetOf } from '../../../../src/xenstore/common/frames.js';

/** `whole`: the bytes packetOf gives, in hex (the packet as it came, header and all). */
interface Seen { type: number; reqId: number; txId: number; body: string; whole: string }

function reader(onOversize?: (len: number) => void): { r: XsFrameReader; seen: Seen[] } {
  const seen: Seen[] = [];
  const r = new XsFrameReader((h, payload) => {
    seen.push({ type: h.type, reqId: h.reqId, txId: h.txId, body: payload.toString('latin1'), whole: packetOf(payload).toString('hex') });
  }, onOversize);
  return { r, seen };
}

const a = encodeRequest(XS_READ, 1, 0, ['/local/domain/1/name']);
const b = encodeRequest(XS_WRITE, 2, 7, ['/tool/x', 'value'], true);
const c = encodeRequest(XS_READ, 3, 0, []);
const expected: Seen[] = [
  { type: XS_READ, reqId: 1, txId: 0, body: '/local/domain/1/name\0', whole: a.toString('hex') },
  { type: XS_WRITE, reqId: 2, txId: 7, body: '/tool/x\0value', whole: b.toString('hex') },
  { type: XS_READ, reqId: 3, txId: 0, body: '', whole: c.toString('hex') },
];

test('packets split across chunks at every byte are cut whole', () => {
  const stream = Buffer.concat([a, b, c]);
  for (let cut = 1; cut < stream.length; cut++) {
    const { r, seen } = reader();
    r.push(stream.subarray(0, cut));
    r.push(new Uint8Array(stream.subarray(cut)));
    assert.deepEqual(seen, expected, `cut at ${cut}`);
  }
  // One byte at a time, header included.
  const { r, seen } = reader();
  for (const byte of stream) r.push(Uint8Array.of(byte));
  assert.deepEqual(seen, expected);
});

test('several packets in one chunk are all delivered, in order', () => {
  const { r, seen } = reader();
  r.push(Buffer.concat([a, b, c]));
  assert.deepEqual(seen, expected);
});

test('an oversize length is rejected before its payload arrives and the stream is discarded', () => {
  const bad = Buffer.alloc(XSD_SOCKMSG_SIZE);
  bad.writeUInt32LE(XS_READ, 0);
  bad.writeUInt32LE(XENSTORE_PAYLOAD_MAX + 1, 12);
  // By default push() throws EIO.
  const dflt = reader();
  dflt.r.push(a);
  assert.throws(() => dflt.r.push(Buffer.concat([bad, b])), (e) => isXenError(e, 'EIO'));
  assert.deepEqual(dflt.seen, expected.slice(0, 1));
  // With a handler (xenstored drops the connection), nothing after the bad header is delivered.
  const lens: number[] = [];
  const { r, seen } = reader((len) => lens.push(len));
  r.push(Buffer.concat([a, bad, b]));
  assert.deepEqual(lens, [XENSTORE_PAYLOAD_MAX + 1]);
  assert.deepEqual(seen, expected.slice(0, 1));
  // A payload of exactly XENSTORE_PAYLOAD_MAX is fine.
  const max = Buffer.alloc(XSD_SOCKMSG_SIZE + XENSTORE_PAYLOAD_MAX);
  max.writeUInt32LE(XENSTORE_PAYLOAD_MAX, 12);
  const ok = reader(() => assert.fail('not oversize'));
  ok.r.push(max);
  assert.equal(ok.seen.length, 1);
});

test('hold stops after the current packet; after release, pull delivers what waited', () => {
  const seen: number[] = [];
  const r: XsFrameReader = new XsFrameReader((h) => {
    seen.push(h.reqId);
    if (h.reqId === 1) r.hold();
  });
  r.push(Buffer.concat([a, b]));
  r.append(c);
  assert.deepEqual(seen, [1]);
  assert.equal(r.ready, false, 'nothing is ready while held');
  r.release();
  assert.equal(r.ready, true);
  assert.equal(r.pull(10), 2);
  assert.deepEqual(seen, [1, 2, 3]);
});

test('append stores, pull delivers at most as many packets as asked', () => {
  const seen: number[] = [];
  const r = new XsFrameReader((h) => seen.push(h.reqId));
  const all = Buffer.concat([a, b, c]);
  r.append(all.subarray(0, 10));
  assert.deepEqual([r.ready, r.buffered, r.pull(5)], [false, 10, 0]);
  r.append(all.subarray(10));
  assert.equal(r.buffered, all.length);
  assert.equal(r.pull(2), 2);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(r.buffered, c.length);
  assert.equal(r.pull(2), 1);
  assert.deepEqual([seen, r.ready, r.buffered], [[1, 2, 3], false, 0]);
});

test('clear during delivery stops the cut and forgets buffered bytes', () => {
  const seen: number[] = [];
  const r: XsFrameReader = new XsFrameReader((h) => {
    seen.push(h.reqId);
    if (h.reqId === 1) r.clear();
  });
  r.push(Buffer.concat([a, b, c.subarray(0, 5)]));
  assert.deepEqual(seen, [1]);
  // The half packet went too: the next chunk starts a fresh stream.
  r.push(c);
  assert.deepEqual(seen, [1, 3]);
});

test('own copies stored packets out of a chunk the transport reuses', () => {
  const chunk = Buffer.concat([a, b, c, b.subarray(0, 5)]);
  const { r, seen } = reader();
  r.append(chunk);
  assert.equal(r.pull(1), 1);
  r.own(chunk);
  chunk.fill(0); // the transport's next read lands in the same memory
  r.push(b.subarray(5));
  assert.deepEqual(seen, [...expected, expected[1]]);
});
