import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACK, encodeHeader, optionsLength, parseSegment } from '../../../../src/tcpip/tcp/wire.js';
function header(opts) {
    const b = new Uint8Array(20 + opts.length);
    encodeHeader(b, 0, { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: ACK, window: 5 }, undefined);
    b[12] = ((20 + opts.length) / 4) << 4;
    b.set(opts, 20);
    return b;
}
test('TCP options: SACK blocks and a timestamp written and read back; lengths on the wire padded to 4', () => {
    const opts = { ts: { val: 0xfffffff0, ecr: 7 }, sack: [{ start: 0xffffff00, end: 0x100 }, { start: 1000, end: 2000 }, { start: 5, end: 6 }] };
    assert.equal(optionsLength(opts), 12 + 4 + 24);
    const b = new Uint8Array(20 + optionsLength(opts));
    encodeHeader(b, 0, { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: ACK, window: 5 }, opts);
    const s = parseSegment(b);
    assert.deepEqual(s.opts.ts, opts.ts);
    assert.deepEqual(s.opts.sack, opts.sack);
    assert.equal(s.payload.length, 0);
    const synOpts = { mss: 1460, wscale: 7, sackOk: true, ts: { val: 1, ecr: 0 } };
    const sb = new Uint8Array(20 + optionsLength(synOpts));
    encodeHeader(sb, 0, { srcPort: 1, dstPort: 2, seq: 3, ack: 0, flags: 2, window: 5 }, synOpts);
    assert.deepEqual(parseSegment(sb).opts, synOpts);
});
test('TCP options with bad lengths make the segment invalid: SACK without blocks or with a partial block', () => {
    assert.equal(parseSegment(header(Uint8Array.of(1, 1, 5, 2))), undefined, 'SACK of length 2');
    assert.equal(parseSegment(header(Uint8Array.of(5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0))), undefined, 'SACK of length 9');
    assert.equal(parseSegment(header(Uint8Array.of(5, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0))), undefined, 'SACK running past the header');
    assert.equal(parseSegment(header(Uint8Array.of(8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))), undefined, 'timestamp of length 9');
    assert.equal(parseSegment(header(Uint8Array.of(2, 0, 0, 0))), undefined, 'an option of length 0');
    assert.ok(parseSegment(header(Uint8Array.of(1, 1, 4, 2))), 'SACK-permitted is fine');
    assert.ok(parseSegment(header(Uint8Array.of(254, 4, 0, 0))), 'an unknown option is skipped by its length');
});
//# sourceMappingURL=wire.test.js.map