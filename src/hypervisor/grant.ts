// Grant tables v1: map, unmap and copy of another domain's granted frames, as Xen's
// common/grant_table.c does them. The granting domain writes its entries directly in its own
// memory; the active entries (pin counts) live in its control block, the mapping domain's
// handles in its maptrack. Every failure is a GrantError with Xen's GNTST_* status.
import {
  GNTMAP_host_map, GNTMAP_readonly, GNTST_bad_copy_arg, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_handle,
  GNTST_bad_page, GNTST_general_error, GNTST_no_device_space, GNTST_no_space, GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_V1_SIZE, GTF_permit_access, GTF_readonly, GTF_reading, GTF_type_mask, GTF_writing, GrantError,
} from '../abi/grant_table.js';
import { PAGE_SIZE } from '../abi/xen.js';
import {
  ACT_DOMID, ACT_FRAME, ACT_PIN, ACT_WORDS, CB_FOREIGN_PINS, CB_GRANT_LOCK, CB_GRANT_LOCK_OWNER, CB_NR_GRANT_FRAMES, MT_FLAGS_DOM,
  MT_REF, MT_WORDS, PFN_CONSOLE, PFN_GRANT_TABLE, PFN_XENSTORE, PIN_MAX, PIN_READ, PIN_WRITE, activeBase,
  firstRamPfn,
} from './layout.js';
import { lock, unlock } from './lock.js';
import type { DomainView } from './memory.js';

const ACTIVE_BASE = activeBase();
const GT_BASE_WORD = (PFN_GRANT_TABLE * PAGE_SIZE) >> 2;
const WRITE_PINS = 0xffff0000 | 0;
const READ_PINS = 0xffff;
const SET_STATUS_ATTEMPTS = 5;

// ---- maptrack ----
const MTH_FREE = 0;
const MTH_HWM = 1;
const MTH_USED = 2;
const MTH_WORDS = 4;

export class Maptrack {
  readonly words: Int32Array;
  readonly capacity: number;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.capacity = Math.floor((this.words.length - MTH_WORDS) / MT_WORDS);
    if (this.words[MTH_FREE] === 0 && this.words[MTH_HWM] === 0) this.words[MTH_FREE] = -1;
  }
  get used(): number {
    return this.words[MTH_USED]!;
  }
  get full(): boolean {
    return this.used >= this.capacity;
  }
  /** Callers check `full` first (before pinning anything). */
  alloc(ref: number, flags: number, domid: number): number {
    const w = this.words;
    let h = w[MTH_FREE]!;
    if (h >= 0) {
      w[MTH_FREE] = w[MTH_WORDS + h * MT_WORDS + MT_REF]!;
    } else {
      h = w[MTH_HWM]!;
      w[MTH_HWM] = h + 1;
    }
    w[MTH_WORDS + h * MT_WORDS + MT_REF] = ref;
    w[MTH_WORDS + h * MT_WORDS + MT_FLAGS_DOM] = (flags & 0xffff) | (domid << 16);
    w[MTH_USED]!++;
    return h;
  }
  /** [ref, flags, domid] of a live handle, or null for a free or out-of-range one. */
  get(handle: number): [number, number, number] | null {
    if (!Number.isInteger(handle) || handle < 0 || handle >= this.words[MTH_HWM]!) return null;
    const fd = this.words[MTH_WORDS + handle * MT_WORDS + MT_FLAGS_DOM]!;
    if ((fd & 0xffff) === 0) return null;
    return [this.words[MTH_WORDS + handle * MT_WORDS + MT_REF]!, fd & 0xffff, fd >>> 16];
  }
  free(handle: number): void {
    const w = this.words;
    w[MTH_WORDS + handle * MT_WORDS + MT_FLAGS_DOM] = 0;
    w[MTH_WORDS + handle * MT_WORDS + MT_REF] = w[MTH_FREE]!;
    w[MTH_FREE] = handle;
    w[MTH_USED]!--;
  }
  /** Live handles, for releasing a dead domain's mappings. */
  *live(): Generator<[number, number, number, number]> {
    const hwm = this.words[MTH_HWM]!;
    for (let h = 0; h < hwm; h++) {
      const e = this.get(h);
      if (e) yield [h, ...e];
    }
  }
}

// ---- grant entries of the granting domain ----

/**
 * Clear an entry unless the peer has it mapped (GTF_reading/GTF_writing), with Linux's
 * compare-and-swap loop (gnttab_end_foreign_access_ref). False while it is still in use.
 */
export function revokeGrantEntry(g: DomainView, ref: number): boolean {
  const w = entryWord(ref);
  for (;;) {
    const cur = Atomics.load(g.mem32, w);
    if (cur & (GTF_reading | GTF_writing)) return false;
    if (Atomics.compareExchange(g.mem32, w, cur, 0) === cur) return true;
  }
}

/**
 * Write a v1 entry the way a granting guest must: frame and domid first, then the flags that
 * make it valid. Used by a domain for itself and by the builder to seed the reserved entries.
 */
export function writeGrantEntry(g: DomainView, ref: number, domid: number, pfn: number, readonly: boolean): void {
  const w = entryWord(ref);
  Atomics.store(g.mem32, w + 1, pfn);
  Atomics.store(g.mem32, w, (domid << 16) | GTF_permit_access | (readonly ? GTF_readonly : 0));
}

export function nrGrantEntries(g: DomainView): number {
  return Atomics.load(g.ctl, CB_NR_GRANT_FRAMES) * GRANT_ENTRIES_PER_FRAME;
}

function entryWord(ref: number): number {
  return GT_BASE_WORD + (ref * GRANT_ENTRY_V1_SIZE) / 4;
}

function checkRef(g: DomainView, ref: number): void {
  if (!Number.isInteger(ref) || ref < 0 || ref >= nrGrantEntries(g)) {
    throw new GrantError(GNTST_bad_gntref, `d${g.domid}: grant ref ${ref} is outside its grant table (${nrGrantEntries(g)} entries)`);
  }
}

/**
 * _set_status_v1: atomically set GTF_reading (and GTF_writing) in the entry, provided it
 * still permits access to `mapper` with the right mode. The compare-and-swap covers flags and
 * domid together, so a guest rewriting its entry concurrently either loses or is seen.
 * Retries are bounded as in Xen, so a guest rewriting the entry without pause cannot keep
 * the mapper (which holds the grant lock) spinning.
 */
function setStatus(g: DomainView, ref: number, mapper: number, readonly: boolean): void {
  const m = g.mem32;
  const w = entryWord(ref);
  for (let attempt = 0; ; attempt++) {
    if (attempt === SET_STATUS_ATTEMPTS) {
      throw new GrantError(GNTST_general_error, `d${g.domid} ref ${ref}: shared grant entry is unstable`);
    }
    const cur = Atomics.load(m, w);
    const flags = cur & 0xffff;
    const domid = cur >>> 16;
    if ((flags & GTF_type_mask) !== GTF_permit_access || domid !== mapper) {
      throw new GrantError(GNTST_general_error, `d${g.domid} ref ${ref}: bad flags (${flags.toString(16)}) or dom (${domid}); expected d${mapper}`);
    }
    if (!readonly && flags & GTF_readonly) {
      throw new GrantError(GNTST_general_error, `d${g.domid} ref ${ref}: attempt to write-pin a read-only grant`);
    }
    const want = flags | GTF_reading | (readonly ? 0 : GTF_writing);
    if (Atomics.compareExchange(m, w, cur, (cur & ~0xffff) | want) === cur) return;
  }
}

function clearStatus(g: DomainView, ref: number, bits: number): void {
  Atomics.and(g.mem32, entryWord(ref), ~bits);
}

function frameOf(g: DomainView, ref: number): number {
  const frame = Atomics.load(g.mem32, entryWord(ref) + 1) >>> 0;
  // The domain's RAM and its two ring pages can be granted; shared_info, start_info and the
  // grant table itself cannot.
  if (frame === PFN_XENSTORE || frame === PFN_CONSOLE) return frame;
  return frame >= firstRamPfn(g.geometry) && frame < g.nrFrames ? frame : -1;
}

/**
 * Pin a grant for `mapper` (map or the duration of a copy). Returns the frame. The caller
 * must release with unpin(). Xen's order: validate the entry on the first pin and on the first
 * write pin; afterwards the active entry is the truth.
 */
export function pin(g: DomainView, ref: number, mapper: number, readonly: boolean): number {
  if (g.dying) throw new GrantError(GNTST_bad_domain, `d${g.domid} is dying`);
  checkRef(g, ref);
  const c = g.ctl;
  const a = ACTIVE_BASE + ref * ACT_WORDS;
  grantLock(c, mapper);
  try {
    const pins = c[a + ACT_PIN]!;
    if (pins !== 0 && c[a + ACT_DOMID] !== mapper) {
      throw new GrantError(GNTST_general_error, `d${g.domid} ref ${ref} is pinned by d${c[a + ACT_DOMID]}`);
    }
    const readers = pins & READ_PINS;
    const writers = pins >>> 16;
    if ((readonly ? readers : writers) >= PIN_MAX) {
      throw new GrantError(GNTST_no_device_space, `d${g.domid} ref ${ref}: pin count overflow`);
    }
    if (pins === 0 || (!readonly && writers === 0)) {
      setStatus(g, ref, mapper, readonly);
      if (pins === 0) {
        const frame = frameOf(g, ref);
        if (frame < 0) {
          clearStatus(g, ref, GTF_reading | GTF_writing);
          throw new GrantError(GNTST_bad_page, `d${g.domid} ref ${ref}: granted frame is not the domain's RAM`);
        }
        c[a + ACT_FRAME] = frame;
        c[a + ACT_DOMID] = mapper;
      }
    }
    c[a + ACT_PIN] = pins + (readonly ? PIN_READ : PIN_WRITE);
    Atomics.add(c, CB_FOREIGN_PINS, 1);
    return c[a + ACT_FRAME]!;
  } finally {
    grantUnlock(c);
  }
}

export function unpin(g: DomainView, ref: number, readonly: boolean, mapper: number): void {
  const c = g.ctl;
  const a = ACTIVE_BASE + ref * ACT_WORDS;
  grantLock(c, mapper);
  try {
    const pins = c[a + ACT_PIN]! - (readonly ? PIN_READ : PIN_WRITE);
    c[a + ACT_PIN] = pins;
    if (!readonly && (pins & WRITE_PINS) === 0) clearStatus(g, ref, GTF_writing);
    if (pins === 0) clearStatus(g, ref, GTF_reading);
    Atomics.sub(c, CB_FOREIGN_PINS, 1);
  } finally {
    grantUnlock(c);
  }
}

function grantLock(c: Int32Array, holder: number): void {
  lock(c, CB_GRANT_LOCK);
  c[CB_GRANT_LOCK_OWNER] = holder + 1;
}

function grantUnlock(c: Int32Array): void {
  c[CB_GRANT_LOCK_OWNER] = 0;
  unlock(c, CB_GRANT_LOCK);
}

/** Release a grant lock that a vCPU which died inside a hypercall left held. */
export function breakGrantLock(g: DomainView, deadDomid: number): void {
  if (Atomics.load(g.ctl, CB_GRANT_LOCK_OWNER) !== deadDomid + 1) return;
  grantUnlock(g.ctl);
}

export interface GrantMapping {
  readonly handle: number;
  /** A view of exactly the granted frame: the only way driver code reaches a peer's memory. */
  readonly page: Uint8Array;
}

/** GNTTABOP_map_grant_ref (host map). */
export function mapGrant(mt: Maptrack, mapper: number, g: DomainView, ref: number, readonly: boolean): GrantMapping {
  const flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
  if (mt.full) {
    throw new GrantError(GNTST_no_space, `d${mapper}: maptrack full (${mt.capacity} handles): raise max_maptrack_frames`);
  }
  const frame = pin(g, ref, mapper, readonly);
  const handle = mt.alloc(ref, flags, g.domid);
  return { handle, page: new Uint8Array(g.buffers.memory, frame * PAGE_SIZE, PAGE_SIZE) };
}

/** GNTTABOP_unmap_grant_ref. `lookup` finds the granting domain even while it is dying. */
export function unmapGrant(mt: Maptrack, mapper: number, handle: number, lookup: (domid: number) => DomainView | undefined): void {
  const e = mt.get(handle);
  if (!e) throw new GrantError(GNTST_bad_handle, `grant handle ${handle} is not mapped`);
  const [ref, flags, domid] = e;
  const g = lookup(domid);
  if (!g) throw new GrantError(GNTST_bad_domain, `grant handle ${handle}: granting domain d${domid} is unknown`);
  mt.free(handle);
  unpin(g, ref, (flags & GNTMAP_readonly) !== 0, mapper);
}

/** One side of a GNTTABOP_copy: a grant of `domid`, or a frame of the caller's own RAM. */
export type CopySide =
  | { readonly domid: number; readonly ref: number; readonly offset: number }
  | { readonly pfn: number; readonly offset: number };

export interface CopyOp {
  readonly source: CopySide;
  readonly dest: CopySide;
  readonly len: number;
}

/**
 * GNTTABOP_copy, one op. Both grants are pinned for the copy only. Returns GNTST_okay or
 * throws GrantError; a batch caller records each op's status as Xen does.
 */
export function copyGrant(self: DomainView, op: CopyOp, lookup: (domid: number) => DomainView | undefined): void {
  const { source, dest, len } = op;
  if (!Number.isInteger(len) || len < 0 || !inPage(source.offset, len) || !inPage(dest.offset, len)) {
    throw new GrantError(GNTST_bad_copy_arg, `copy of ${len} bytes at offsets ${source.offset}/${dest.offset} crosses a page`);
  }
  const src = acquire(self, source, true, lookup);
  try {
    const dst = acquire(self, dest, false, lookup);
    try {
      dst.mem.set(src.mem.subarray(src.at, src.at + len), dst.at);
    } finally {
      dst.release();
    }
  } finally {
    src.release();
  }
}

function inPage(offset: number, len: number): boolean {
  return Number.isInteger(offset) && offset >= 0 && offset + len <= PAGE_SIZE;
}

const NOOP = (): void => {};

function acquire(self: DomainView, side: CopySide, readonly: boolean, lookup: (domid: number) => DomainView | undefined) {
  if ('ref' in side) {
    const g = side.domid === self.domid ? self : lookup(side.domid);
    if (!g) throw new GrantError(GNTST_bad_domain, `copy: d${side.domid} is not connected to d${self.domid}`);
    const frame = pin(g, side.ref, self.domid, readonly);
    return { mem: g.mem8, at: frame * PAGE_SIZE + side.offset, release: () => unpin(g, side.ref, readonly, self.domid) };
  }
  const first = firstRamPfn(self.geometry);
  if (!Number.isInteger(side.pfn) || side.pfn < first || side.pfn >= self.nrFrames) {
    throw new GrantError(GNTST_bad_page, `copy: pfn ${side.pfn} is not RAM of d${self.domid}`);
  }
  return { mem: self.mem8, at: side.pfn * PAGE_SIZE + side.offset, release: NOOP };
}
