import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NETIF_RSP_DROPPED, NETIF_TX_SLOT_SIZE, NETTXF_extra_info, NETTXF_more_data, XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_HASH, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_GSO_TYPE_TCPV4,
  type NetifExtraInfo, decodeNetifExtraInfo, decodeNetifRxRequest, decodeNetifRxResponse, decodeNetifTxRequest,
  decodeNetifTxResponse, encodeNetifExtraInfo, encodeNetifRxRequest, encodeNetifRxResponse, encodeNetifTxRequest,
  encodeNetifTxResponse,
} from '../../../src/abi/netif.js';
import { isXenError } from '../../../src/errors.js';

const view = (): DataView => new DataView(new SharedArrayBuffer(64));

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
  const infos: NetifExtraInfo[] = [
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
  assert.throws(
    () => encodeNetifExtraInfo(v, 0, { kind: 'mcast', type: XEN_NETIF_EXTRA_TYPE_MCAST_ADD, flags: 0, addr: new Uint8Array(7) }),
    (e) => isXenError(e, 'EINVAL'),
  );
});
