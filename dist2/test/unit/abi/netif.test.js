import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NETIF_RSP_DROPPED, NETIF_TX_SLOT_SIZE, NETTXF_extra_info, NETTXF_more_data, XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_HASH, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_GSO_TYPE_TCPV4, decodeNetifExtraInfo, decodeNetifRxRequest, decodeNetifRxResponse, decodeNetifTxRequest, decodeNetifTxResponse, encodeNetifExtraInfo, encodeNetifRxRequest, encodeNetifRxResponse, encodeNetifTxRequest, encodeNetifTxResponse, NETIF_CTRL_SLOT_SIZE, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, decodeNetifCtrlRequest, decodeNetifCtrlResponse, encodeNetifCtrlRequest, encodeNetifCtrlResponse, toeplitzHash, } from '../../../src/abi/netif.js';
import { isXenError } from '../../../src/errors.js';
const view = () => new DataView(new SharedArrayBuffer(64));
test('tx and rx requests and responses round-trip', () => {
    const v = view();
    const tx = { gref: 0xfffffffe, offset: 4000, flags: NETTXF_more_data | NETTXF_extra_info, id: 65535, size: 1514 };
    encodeNetifTxRequest(v, 12, tx);
    assert.deepEqual(decodeNetifTxRequest(v, 12), tx);
    encodeNetifTxResponse(v, 24, { id: 9, status: NETIF_RSP_DROPPED });
    assert.deepEqual(decodeNetifTxResponse(v, 24), { id: 9, status: NETIF_RSP_DROPPED });
    encodeNetifRxRequest(v, 32, { id: 3, gref: 77 });
    assert.deepEqual(decodeNetifRxRequest(v, 32), { id: 3, gref: 77 });
    encodeNetifRxResponse(v, 40, { id: 3, offset: 0, flags: 1, status: 1500 });
    assert.deepEqual(decodeNetifRxResponse(v, 40), { id: 3, offset: 0, flags: 1, status: 1500 });
});
test('extra-info slots round-trip by type, and fit a tx slot', () => {
    const infos = [
        { kind: 'gso', type: XEN_NETIF_EXTRA_TYPE_GSO, flags: XEN_NETIF_EXTRA_FLAG_MORE, size: 1448, gsoType: XEN_NETIF_GSO_TYPE_TCPV4, features: 0 },
        { kind: 'mcast', type: XEN_NETIF_EXTRA_TYPE_MCAST_ADD, flags: 0, addr: Uint8Array.of(1, 0, 0x5e, 0, 0, 0xfb) },
        { kind: 'hash', type: XEN_NETIF_EXTRA_TYPE_HASH, flags: 0, hashType: 1, algorithm: 1, value: 0xdeadbeef },
        { kind: 'other', type: 0, flags: 0 },
    ];
    for (const info of infos) {
        const v = view();
        encodeNetifExtraInfo(v, NETIF_TX_SLOT_SIZE, info);
        assert.deepEqual(decodeNetifExtraInfo(v, NETIF_TX_SLOT_SIZE), info);
    }
});
test('encoders refuse values that do not fit', () => {
    const v = view();
    assert.throws(() => encodeNetifTxRequest(v, 0, { gref: 1, offset: 0, flags: 0, id: 0x10000, size: 1 }), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => encodeNetifRxResponse(v, 0, { id: 0, offset: 0, flags: 0, status: -40000 }), (e) => isXenError(e, 'EINVAL'));
    assert.throws(() => encodeNetifExtraInfo(v, 0, { kind: 'mcast', type: XEN_NETIF_EXTRA_TYPE_MCAST_ADD, flags: 0, addr: new Uint8Array(7) }), (e) => isXenError(e, 'EINVAL'));
});
test('ctrl ring requests and responses round-trip, and fit the ctrl slot', () => {
    const v = view();
    const req = { id: 0xffff, type: XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, data: [0xfffffffe, 128, 7] };
    encodeNetifCtrlRequest(v, NETIF_CTRL_SLOT_SIZE, req);
    assert.deepEqual(decodeNetifCtrlRequest(v, NETIF_CTRL_SLOT_SIZE), req);
    const rsp = { id: 1, type: XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, status: XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, data: 0xffffffff };
    encodeNetifCtrlResponse(v, 0, rsp);
    assert.deepEqual(decodeNetifCtrlResponse(v, 0), rsp);
    assert.throws(() => encodeNetifCtrlRequest(v, 0, { id: 0, type: 0x10000, data: [0, 0, 0] }), (e) => isXenError(e, 'EINVAL'));
});
// Microsoft's RSS verification suite (the key and the IPv4 rows of "Verifying the RSS hash calculation").
const RSS_KEY = Uint8Array.from(Buffer.from('6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa', 'hex'));
const ip4 = (a) => a.split('.').map(Number);
const port = (p) => [p >> 8, p & 0xff];
test('the Toeplitz hash gives the RSS verification values', () => {
    const rows = [
        ['66.9.149.187', '161.142.100.80', 2794, 1766, 0x323e8fc2, 0x51ccc178],
        ['199.92.111.2', '65.69.140.83', 14230, 4739, 0xd718262a, 0xc626b0ea],
        ['24.19.198.95', '12.22.207.184', 12898, 38024, 0xd2d0a5de, 0x5c2b394a],
    ];
    for (const [src, dst, sport, dport, ipOnly, withTcp] of rows) {
        const addrs = [...ip4(src), ...ip4(dst)];
        assert.equal(toeplitzHash(RSS_KEY, Uint8Array.from(addrs)), ipOnly, `${src} -> ${dst}`);
        assert.equal(toeplitzHash(RSS_KEY, Uint8Array.from([...addrs, ...port(sport), ...port(dport)])), withTcp, `${src}:${sport} -> ${dst}:${dport}`);
    }
    // An empty key hashes everything to 0 (netif.h: "the calculated hash will always be zero").
    assert.equal(toeplitzHash(new Uint8Array(0), Uint8Array.of(1, 2, 3, 4)), 0);
});
//# sourceMappingURL=netif.test.js.map