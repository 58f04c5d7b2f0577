// Offload completion: TCP/UDP checksums and GSO segmentation, against a reference checksum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6 } from '../../../src/abi/netif.js';
import { completeChecksum, locateL4, segmentGso } from '../../../src/network/offload.js';
import { finish, sumBytes } from '../../../src/tcpip/checksum.js';
import { ipPacket, referenceL4Checksum } from '../../support/switch.js';
function checksumAt(f, off) {
    return (f[off] << 8) | f[off + 1];
}
test("the reference checksum: RFC 1071's worked example", () => {
    // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (checksum 220d); the UDP reference below
    // gets the same from the same bytes laid out as a pseudo-header and segment.
    assert.equal(finish(sumBytes(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0, 8)), 0x220d);
    const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    assert.equal(finish(sumBytes(hdr, 0, 20)), 0xb861);
});
test('checksums filled for TCP and UDP over IPv4 and IPv6, tagged or not, padded or not', () => {
    let n = 0;
    for (const v of [4, 6]) {
        for (const proto of [6, 17]) {
            for (const size of [0, 1, 99, 1400]) {
                for (const extra of [{}, { vid: 20 }, { pad: 7 }, { hopByHop: true }]) {
                    const f = ipPacket(v, { proto, payload: new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff), ...extra });
                    const done = completeChecksum(f);
                    const { field, want } = referenceL4Checksum(f);
                    assert.equal(checksumAt(done, field), want, `v${v} proto ${proto} size ${size} ${JSON.stringify(extra)}`);
                    assert.equal(checksumAt(f, field), 0, 'the input is not written');
                    assert.deepEqual(done.subarray(0, field), f.subarray(0, field));
                    n++;
                }
            }
        }
    }
    assert.equal(n, 64);
});
test('UDP: a computed checksum of 0 is sent as ffff', () => {
    // Find a payload whose checksum comes out 0: vary two bytes until the reference says ffff.
    for (let a = 0; a < 65536; a++) {
        const f = ipPacket(4, { proto: 17, payload: Uint8Array.from([a >> 8, a & 0xff]) });
        const { field, want } = referenceL4Checksum(f);
        if (want !== 0xffff)
            continue;
        assert.equal(checksumAt(completeChecksum(f), field), 0xffff);
        return;
    }
    assert.fail('no payload gave a zero checksum');
});
test('not TCP/UDP, fragments and inconsistent lengths are refused', () => {
    const icmpish = ipPacket(4);
    icmpish[14 + 9] = 1;
    assert.equal(completeChecksum(icmpish), null);
    const frag = ipPacket(4);
    frag[14 + 6] = 0x20; // MF
    assert.equal(completeChecksum(frag), null);
    const long = ipPacket(4);
    long[14 + 2] = 0xff;
    assert.equal(completeChecksum(long), null);
    const badIhl = ipPacket(4);
    badIhl[14] = 0x44;
    assert.equal(completeChecksum(badIhl), null);
    const badThl = ipPacket(4);
    badThl[14 + 20 + 12] = 0x40;
    assert.equal(completeChecksum(badThl), null);
    const v6frag = ipPacket(6);
    v6frag[14 + 6] = 44;
    assert.equal(completeChecksum(v6frag), null);
    assert.equal(completeChecksum(ipPacket(6).subarray(0, 60)), null);
    assert.equal(locateL4(new Uint8Array(14)), null);
});
function tcpFields(f, v6) {
    const l3 = f[12] === 0x81 ? 18 : 14;
    const l4 = l3 + (v6 ? 40 : 20);
    const dv = new DataView(f.buffer, f.byteOffset);
    return {
        ipLen: v6 ? dv.getUint16(l3 + 4) : dv.getUint16(l3 + 2),
        id: v6 ? 0 : dv.getUint16(l3 + 4),
        ipCsumOk: v6 || finish(sumBytes(f, l3, 20)) === 0,
        seq: dv.getUint32(l4 + 4),
        flags: f[l4 + 13],
        payload: f.subarray(l4 + 32),
    };
}
test('GSO: a TCPv4 super-frame becomes MSS-sized segments with ids, lengths, seqs, flags and checksums', () => {
    const payload = new Uint8Array(64_000).map((_, i) => (i * 13) & 0xff);
    const f = ipPacket(4, { payload, seq: 0xffff_f000, id: 0xfffe, flags: 0x80 | 0x18 | 0x01, vid: 7 });
    const segs = segmentGso(f, { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 });
    assert.equal(segs.length, Math.ceil(64_000 / 1448));
    const joined = [];
    segs.forEach((s, i) => {
        const t = tcpFields(s, false);
        const len = Math.min(1448, 64_000 - i * 1448);
        assert.equal(t.payload.length, len);
        assert.equal(s.length, 18 + 20 + 32 + len);
        assert.equal(t.ipLen, 20 + 32 + len);
        assert.equal(t.id, (0xfffe + i) & 0xffff, 'ids count up and wrap');
        assert.ok(t.ipCsumOk);
        assert.equal(t.seq, (0xffff_f000 + i * 1448) >>> 0, 'sequence numbers wrap');
        const last = i === segs.length - 1;
        assert.equal(t.flags, (i === 0 ? 0x80 : 0) | 0x10 | (last ? 0x08 | 0x01 : 0), `flags of segment ${i}`);
        const { field, want } = referenceL4Checksum(s);
        assert.equal(checksumAt(s, field), want);
        joined.push(...t.payload);
    });
    assert.deepEqual(Uint8Array.from(joined), payload);
});
test('GSO: TCPv6 (with an extension header) and a payload that fits one segment', () => {
    const payload = new Uint8Array(5000).map((_, i) => i & 0xff);
    const segs = segmentGso(ipPacket(6, { payload, hopByHop: true }), { type: XEN_NETIF_GSO_TYPE_TCPV6, size: 1440 });
    assert.equal(segs.length, 4);
    for (const s of segs) {
        const { field, want } = referenceL4Checksum(s);
        assert.equal(checksumAt(s, field), want);
    }
    assert.equal(new DataView(segs[3].buffer).getUint16(14 + 4), 8 + 32 + 5000 - 3 * 1440);
    assert.equal(segmentGso(ipPacket(4, { payload: new Uint8Array(10) }), { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 }).length, 1);
});
test('GSO: bogus MSS, wrong type or not TCP is refused', () => {
    const f = ipPacket(4, { payload: new Uint8Array(3000) });
    assert.equal(segmentGso(f, { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 0 }), null);
    assert.equal(segmentGso(f, { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 87 }), null);
    assert.equal(segmentGso(f, { type: XEN_NETIF_GSO_TYPE_TCPV6, size: 1448 }), null);
    assert.equal(segmentGso(ipPacket(4, { proto: 17 }), { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 }), null);
    assert.equal(segmentGso(f, { type: 3, size: 1448 }), null);
});
//# sourceMappingURL=offload.test.js.map