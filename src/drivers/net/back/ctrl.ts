// The control ring (feature-ctrl-ring) and the queue a frame for the guest goes to: xen-netback's
// hash.c. The frontend picks the Toeplitz hash, the header fields it covers, a key and a table
// from hash to queue; every value it sends is checked on a private copy: a table entry naming
// a queue the vif does not have is refused (XSA-270), as are sizes past what is offered.
import {
  NETIF_CTRL_SLOT_SIZE, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ,
  XEN_NETIF_CTRL_HASH_TYPE_IPV4, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, XEN_NETIF_CTRL_HASH_TYPE_IPV6,
  XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP, XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER,
  XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED, XEN_NETIF_CTRL_STATUS_SUCCESS, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS,
  XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
  XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE,
  decodeNetifCtrlRequest, encodeNetifCtrlResponse, toeplitzHash, type NetifCtrlRequest,
} from '../../../abi/netif.js';
import type { BackRing } from '../../../abi/ring.js';
import { PAGE_SIZE } from '../../../abi/xen.js';
import { GrantCopyBatch } from '../../../hypervisor/grant.js';
import type { Hypercalls } from '../../../hypervisor/hypercalls.js';
import { inLaterTurn } from '../../turn.js';
import { MAX_HASH_KEY_SIZE, MAX_HASH_MAPPING_SIZE } from '../protocol.js';

const ALL_HASH_TYPES = XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
/** What #flowBytes covered, by its length: _XEN_NETIF_CTRL_HASH_TYPE_IPV4, _IPV4_TCP, _IPV6, _IPV6_TCP. */
const HASH_TYPE_OF_LENGTH: Readonly<Record<number, number>> = { 8: 0, 12: 1, 32: 2, 36: 3 };

/** What the frontend chose (struct xenvif_hash), and the queue each frame goes to. */
export class QueueSelector {
  algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
  flags = 0;
  readonly key = new Uint8Array(MAX_HASH_KEY_SIZE);
  /** The hash-to-queue table; empty means hash modulo the queue count. */
  mapping = new Uint32Array(0);
  readonly #buf = new Uint8Array(36);

  constructor(readonly numQueues: number) {}

  /**
   * The frontend's Toeplitz hash of the last frame select() saw: its type as the HASH
   * extra-info carries it (a _XEN_NETIF_CTRL_HASH_TYPE_* bit number), or -1 when there is
   * none (no Toeplitz chosen, or none of the chosen header types matched); and its value.
   */
  hashType = -1;
  hashValue = 0;

  /** The queue for a frame to the guest: the frontend's hash when set, else a flow hash of our own. */
  select(frame: Uint8Array): number {
    this.hashType = -1;
    if (this.algorithm === XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
      // Computed whatever the queue count: the frontend asked for the hash with its frames.
      const n = this.#flowBytes(frame, this.flags);
      const h = n === 0 ? 0 : toeplitzHash(this.key, this.#buf.subarray(0, n));
      if (n !== 0) {
        this.hashType = HASH_TYPE_OF_LENGTH[n]!;
        this.hashValue = h;
      }
      if (this.numQueues === 1) return 0;
      return this.mapping.length ? this.mapping[h % this.mapping.length]! : h % this.numQueues;
    }
    if (this.numQueues === 1) return 0;
    const n = this.#flowBytes(frame, ALL_HASH_TYPES);
    let h = 0x811c9dc5; // FNV-1a: any stable flow hash keeps a flow on one queue
    for (let i = 0; i < n; i++) h = Math.imul(h ^ this.#buf[i]!, 0x01000193) >>> 0;
    return h % this.numQueues;
  }

  /** The header fields the hash covers (addresses, then TCP ports), into #buf; their length. */
  #flowBytes(f: Uint8Array, types: number): number {
    if (f.length < 14) return 0;
    const proto = (f[12]! << 8) | f[13]!;
    if (proto === ETH_P_IP && f.length >= 34) {
      const ihl = (f[14]! & 0x0f) * 4;
      const tcp = f[23] === IPPROTO_TCP && f.length >= 14 + ihl + 4 && (types & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP) !== 0;
      if (!tcp && !(types & XEN_NETIF_CTRL_HASH_TYPE_IPV4)) return 0;
      this.#buf.set(f.subarray(26, 34), 0);
      if (!tcp) return 8;
      this.#buf.set(f.subarray(14 + ihl, 14 + ihl + 4), 8);
      return 12;
    }
    if (proto === ETH_P_IPV6 && f.length >= 54) {
      const tcp = f[20] === IPPROTO_TCP && f.length >= 58 && (types & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) !== 0;
      if (!tcp && !(types & XEN_NETIF_CTRL_HASH_TYPE_IPV6)) return 0;
      this.#buf.set(f.subarray(22, 54), 0);
      if (!tcp) return 32;
      this.#buf.set(f.subarray(54, 58), 32);
      return 36;
    }
    return 0;
  }
}

export interface CtrlRingOptions {
  readonly ring: BackRing;
  readonly hc: Hypercalls;
  readonly frontendId: number;
  readonly selector: QueueSelector;
  readonly notify: () => void;
  readonly onFatal: (why: string) => void;
}

/** xenvif_ctrl_action: one request at a time, answered in order. */
export class CtrlRing {
  readonly #o: CtrlRingOptions;
  readonly #slot = new Uint8Array(NETIF_CTRL_SLOT_SIZE);
  readonly #slotView = new DataView(this.#slot.buffer);
  readonly #page = new Uint8Array(PAGE_SIZE);
  readonly #batch = new GrantCopyBatch(1);
  #stopped = false;
  readonly #continue = inLaterTurn(() => this.service());

  constructor(o: CtrlRingOptions) {
    this.#o = o;
  }

  /**
   * Answer what the frontend published until the ring is empty and it knows to wake us, or a
   * ring's worth is answered: one that refills the ring as fast as it is answered (from another
   * core) would otherwise hold dom0's thread; the rest is taken in a later turn.
   */
  service(): void {
    const ring = this.#o.ring;
    let budget = ring.nrEnts;
    while (!this.#stopped) {
      const rp = ring.reqProd;
      if (ring.requestProdOverflow(rp)) {
        this.stop();
        this.#o.onFatal(`ctrl req_prod ${rp} is beyond the ${ring.nrEnts}-slot ring`);
        return;
      }
      while (ring.reqCons !== rp) {
        if (budget === 0) {
          this.#push();
          return this.#continue();
        }
        budget--;
        ring.copyRequest(ring.reqCons, this.#slot);
        ring.reqCons = ring.reqCons + 1;
        const req = decodeNetifCtrlRequest(this.#slotView, 0);
        const [status, data] = this.#handle(req);
        encodeNetifCtrlResponse(ring.view, ring.slotOffset(ring.rspProdPvt), { id: req.id, type: req.type, status, data });
        ring.rspProdPvt = ring.rspProdPvt + 1;
      }
      this.#push();
      if (!ring.finalCheckForRequests()) return;
    }
  }

  #push(): void {
    if (this.#o.ring.pushResponsesAndCheckNotify()) this.#o.notify();
  }

  #handle(req: NetifCtrlRequest): [number, number] {
    const s = this.#o.selector;
    const [d0, d1, d2] = req.data;
    switch (req.type) {
      case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        if (d0 !== XEN_NETIF_CTRL_HASH_ALGORITHM_NONE && d0 !== XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        s.algorithm = d0;
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, 0];
      case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
        if (s.algorithm === XEN_NETIF_CTRL_HASH_ALGORITHM_NONE) return [XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED, 0];
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, ALL_HASH_TYPES];
      case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
        if (d0 & ~ALL_HASH_TYPES) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        if (s.algorithm === XEN_NETIF_CTRL_HASH_ALGORITHM_NONE) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        s.flags = d0;
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, 0];
      case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY: {
        if (d1 > MAX_HASH_KEY_SIZE) return [XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, 0];
        if (!this.#copy(d0, d1)) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        s.key.fill(0);
        s.key.set(this.#page.subarray(0, d1));
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, 0];
      }
      case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, MAX_HASH_MAPPING_SIZE];
      case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
        if (d0 > MAX_HASH_MAPPING_SIZE) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        s.mapping = new Uint32Array(d0);
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, 0];
      case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING: {
        // d1 entries at entry offset d2 of the table, read from gref d0; every entry must name a queue.
        const len = d1;
        const off = d2;
        if (len > s.mapping.length || off > s.mapping.length - len) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        if (len * 4 > PAGE_SIZE) return [XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, 0];
        if (!this.#copy(d0, len * 4)) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        const v = new DataView(this.#page.buffer);
        for (let i = 0; i < len; i++) if (v.getUint32(i * 4, true) >= s.numQueues) return [XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER, 0];
        for (let i = 0; i < len; i++) s.mapping[off + i] = v.getUint32(i * 4, true);
        return [XEN_NETIF_CTRL_STATUS_SUCCESS, 0];
      }
      default:
        return [XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED, 0];
    }
  }

  /** Copy `len` bytes from the start of the frontend's page `gref` into #page; false if it will not map. */
  #copy(gref: number, len: number): boolean {
    if (len === 0) return true;
    const b = this.#batch;
    b.reset(this.#page, false);
    b.add(gref, 0, len, 0);
    return this.#o.hc.grantCopyLocal(this.#o.frontendId, b) === 0;
  }

  stop(): void {
    this.#stopped = true;
  }
}
