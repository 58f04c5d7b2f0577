// A shared pCPU's serializer and deserializer of its realms' values (realm-bytes.ts): Node's
// format, byte for byte, and views that never share a buffer with anything but their own bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { types } from 'node:util';
import { deserialize, Deserializer, serialize } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeOwn, deserializeOwn, ownBytes, ownFloat64s, ownInt32s, RealmSerializer, unsharedBytes } from '../../../src/guest/realm-bytes.js';

const views = () => ({
  i8: new Int8Array([-1, 2]), u8: new Uint8Array([1, 2, 3]), c8: new Uint8ClampedArray([255]), i16: new Int16Array([-300]),
  u16: new Uint16Array([60000]), i32: new Int32Array([-7]), u32: new Uint32Array([7]), f32: new Float32Array([0.5]),
  f64: new Float64Array([1.5, -2]), dv: new DataView(new Uint8Array([9, 8, 7]).buffer), b64: new BigInt64Array([-1n]), bu64: new BigUint64Array([1n]),
  sub: new Uint16Array(new Uint8Array([0, 1, 2, 3, 4, 5]).buffer, 2, 2),
});

function realmSerialize(value: unknown): Uint8Array {
  const ser = new RealmSerializer();
  ser.writeHeader();
  ser.writeValue(value);
  return new Uint8Array(ser.releaseBuffer());
}

test("RealmSerializer writes every kind of view as Node's serialize does, byte for byte", () => {
  assert.deepEqual(Buffer.from(realmSerialize(views())), serialize(views()));
});

test('deserializeOwn reads what Node wrote, every kind of view, with its values', () => {
  assert.deepEqual(deserializeOwn(ownBytes(serialize(views()), 'test')), views());
});

test("a view whose bytes lie unaligned in the record gets a buffer of its own bytes, not a slice of Node's pool", () => {
  // Node copies such a view into Buffer.allocUnsafe, a slice of its 8 KiB pool: the view's buffer
  // is the whole pool slab, which a clone into a realm copies whole. Find a prefix that misaligns it.
  let found = false;
  for (let pad = 0; pad < 8; pad++) {
    const bytes = serialize(['x'.repeat(pad), new Float64Array([1.5, 2.5])]);
    const node = deserialize(bytes) as [string, Float64Array];
    const mine = deserializeOwn(ownBytes(bytes, 'test')) as [string, Float64Array];
    assert.deepEqual([...mine[1]], [1.5, 2.5]);
    assert.equal(mine[1].buffer.byteLength, 16, `pad ${pad}: the view's buffer holds its own 16 bytes`);
    assert.notEqual(mine[1].buffer, bytes.buffer, 'never the record');
    if (node[1].buffer.byteLength > 16 && node[1].buffer !== bytes.buffer) found = true;
  }
  assert.ok(found, "one of the prefixes misaligned the view, and Node's own deserialize handed out a larger buffer");
});

test('a record naming a view of an unknown kind, or of bytes not whole elements, is refused', () => {
  const bytes = Buffer.from(serialize(new Float64Array([1])));
  const kind = bytes.indexOf(8, 2); // Float64Array's index, after the header and the host-object tag
  const unknown = Buffer.from(bytes);
  unknown[kind] = 13;
  assert.throws(() => deserializeOwn(ownBytes(unknown, 'test')), /a view of kind 13/);
  const ragged = Buffer.from(serialize(new Uint8Array(3)));
  ragged[ragged.indexOf(1, 2)] = 8; // the same 3 bytes called a Float64Array
  assert.throws(() => deserializeOwn(ownBytes(ragged, 'test')), /not whole elements of 8/);
});

// V8 decodes UTF-8 in two passes and writes past the string it made if another thread changes the
// bytes between them (a SIGSEGV of the process): what a realm hands decode or deserialize from
// shared memory (a page dom0 writes) is copied before Node or V8 reads it.
test('unsharedBytes copies a view of shared memory, and only that', () => {
  const shared = new Uint8Array(new SharedArrayBuffer(8));
  shared.set([104, 105, 33, 0, 1, 2, 3, 4]);
  const view = shared.subarray(1, 4);
  const copy = unsharedBytes(view, 'test');
  assert.equal(types.isSharedArrayBuffer(copy.buffer), false);
  assert.deepEqual([...copy], [105, 33, 0]);
  shared[1] = 0;
  assert.equal(copy[0], 105, 'a copy: a later write to the shared page does not reach it');
  const plain = new Uint8Array([1, 2, 3]);
  assert.equal(unsharedBytes(plain, 'test').buffer, plain.buffer, 'bytes of no other thread are read in place');
});

test("decodeOwn and deserializeOwn hand Node and V8 a copy of a realm's bytes in shared memory", (t) => {
  const shared = (bytes: Uint8Array) => {
    const s = new Uint8Array(new SharedArrayBuffer(bytes.length));
    s.set(bytes);
    return s;
  };
  const decoded: boolean[] = [];
  const decode = TextDecoder.prototype.decode;
  t.mock.method(TextDecoder.prototype, 'decode', function (this: InstanceType<typeof TextDecoder>, input: Uint8Array) {
    decoded.push(types.isSharedArrayBuffer(input.buffer));
    return Reflect.apply(decode, this, [input]);
  });
  assert.equal(decodeOwn(shared(new TextEncoder().encode('héllo')), false), 'héllo');
  assert.equal(decodeOwn(shared(new TextEncoder().encode('ok')), true), 'ok');
  assert.deepEqual(decoded, [false, false]);
  const read: boolean[] = [];
  const readHeader = Deserializer.prototype.readHeader;
  t.mock.method(Deserializer.prototype, 'readHeader', function (this: Deserializer & { buffer: Uint8Array }) {
    read.push(types.isSharedArrayBuffer(this.buffer.buffer));
    return Reflect.apply(readHeader, this, []);
  });
  assert.deepEqual(deserializeOwn(shared(serialize({ s: 'héllo' }))), { s: 'héllo' });
  assert.deepEqual(read, [false]);
});

test("ownFloat64s and ownInt32s: a realm's array of that kind, seen with its true extent whatever its realm's getters say; any other kind, a proxy or a plain object refused", () => {
  // blkfront's staged requests and its poll's responses (host.blkPush, host.blkPoll): a lying
  // length read through the realm's getters would run its code on the pCPU and bound its loops.
  const realm = runInNewContext(`
    const f = new Float64Array(new ArrayBuffer(64), 8, 4);
    const i = new Int32Array(12);
    let ran = 0;
    for (const p of [Object.getPrototypeOf(Int8Array.prototype), Float64Array.prototype, Int32Array.prototype]) {
      for (const k of ['length', 'byteLength', 'byteOffset', 'buffer']) Object.defineProperty(p, k, { get() { ran++; return 1e9; }, configurable: true });
    }
    ({ f, i, ran: () => ran });
  `) as { f: Float64Array; i: Int32Array; ran(): number };
  const f = ownFloat64s(realm.f, 'test');
  assert.deepEqual([f.length, f.byteOffset, f.buffer.byteLength], [4, 8, 64]);
  f[0] = 2.5;
  assert.equal(new Float64Array(f.buffer)[1], 2.5, 'the same memory');
  assert.equal(ownInt32s(realm.i, 'test').length, 12);
  assert.equal(realm.ran(), 0, 'none of the realm\'s getters ran');
  for (const bad of [new Int32Array(2), new Uint8Array(8), new DataView(new ArrayBuffer(8)), new Proxy(new Float64Array(2), {}), { length: 2 }, [1, 2], null, 3]) {
    assert.throws(() => ownFloat64s(bad, 'blkPush'), /blkPush needs a Float64Array/);
  }
  for (const bad of [new Float64Array(2), new Uint32Array(2), new Proxy(new Int32Array(2), {}), null]) {
    assert.throws(() => ownInt32s(bad, 'blkPoll'), /blkPoll needs an Int32Array/);
  }
});
