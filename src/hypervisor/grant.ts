// Grant tables v1: map, unmap and copy of another domain's granted frames, as Xen's
// common/grant_table.c does them. The granting domain writes its entries directly in its own
// memory; the active entries (pin counts) and the table's lock live in its grant table's
// hypervisor side (layout.ts GT_*), which dom0 and the domains linked to it (its mappers among
// them) hold and its own thread does not, the mapping domain's handles in its maptrack. Every
// failure is a GrantError with Xen's GNTST_* status.
import {
  GNTMAP_host_map, GNTMAP_readonly, GNTST_bad_copy_arg, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_handle, GNTST_eagain,
  GNTST_bad_page, GNTST_general_error, GNTST_no_device_space, GNTST_no_space, GNTST_okay, GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_V1_SIZE, GTF_permit_access, GTF_readonly, GTF_reading, GTF_type_mask, GTF_writing, GrantError,
} from '../abi/grant_table.js';
import { PAGE_SIZE } from '../abi/xen.js';
import {
  ACT_BASE, ACT_DOMID, ACT_FRAME, ACT_PIN, ACT_WORDS, CB_NR_GRANT_FRAMES, GT_FOREIGN_PINS, GT_LOCK, GT_LOCK_OWNER, MT_FLAGS_DOM,
  MT_REF, MT_WORDS, PFN_CONSOLE, PFN_GRANT_TABLE, PFN_XENSTORE, PIN_MAX, PIN_READ, PIN_WRITE, firstRamPfn,
} from './layout.js';
import { breakAbandoned, lock, LockError, resetLock, unlock } from './lock.js';
import { copyBytes } from './copy.js';
import type { DomainView } from './memory.js';

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
  /** Live handles, for releasing a dead domain's mappings (within the table: its words are the mapper's thread's). */
  *live(): Generator<[number, number, number, number]> {
    const hwm = Math.min(this.words[MTH_HWM]!, this.capacity);
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

/** The entries of the table the domain set up, never past the frames its geometry reserves (its guest may raise the word). */
export function nrGrantEntries(g: DomainView): number {
  return Math.min(Atomics.load(g.ctl, CB_NR_GRANT_FRAMES), g.geometry.maxGrantFrames) * GRANT_ENTRIES_PER_FRAME;
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
    const flags = checkEntry(g, ref, cur, mapper, readonly);
    const want = flags | GTF_reading | (readonly ? 0 : GTF_writing);
    if (Atomics.compareExchange(m, w, cur, (cur & ~0xffff) | want) === cur) return;
  }
}

/** The flags of entry word `cur` of `ref`, if it permits `mapper` access in that mode; else GNTST_general_error. */
function checkEntry(g: DomainView, ref: number, cur: number, mapper: number, readonly: boolean): number {
  const flags = cur & 0xffff;
  const domid = cur >>> 16;
  if ((flags & GTF_type_mask) !== GTF_permit_access || domid !== mapper) {
    throw new GrantError(GNTST_general_error, `d${g.domid} ref ${ref}: bad flags (${flags.toString(16)}) or dom (${domid}); expected d${mapper}`);
  }
  if (!readonly && flags & GTF_readonly) {
    throw new GrantError(GNTST_general_error, `d${g.domid} ref ${ref}: attempt to write-pin a read-only grant`);
  }
  return flags;
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
  const c = activeOf(g);
  grantLock(c, mapper);
  try {
    const frame = pinLocked(g, ref, mapper, readonly);
    Atomics.add(c, GT_FOREIGN_PINS, 1);
    return frame;
  } finally {
    grantUnlock(c);
  }
}

export function unpin(g: DomainView, ref: number, readonly: boolean, mapper: number): void {
  const c = activeOf(g);
  grantLock(c, mapper);
  try {
    // What names the pin (a maptrack handle) is in memory the mapper's thread holds, where its
    // guest may reach it: a pin that is not the mapper's (another domain's, or none) stays, as
    // Xen's unmap finds its active entry through its own maptrack.
    if (!pinnedBy(g, c, ref, readonly, mapper)) {
      throw new GrantError(GNTST_bad_handle, `d${g.domid} ref ${ref} holds no ${readonly ? 'read' : 'write'} pin of d${mapper}`);
    }
    unpinLocked(g, ref, readonly);
    Atomics.sub(c, GT_FOREIGN_PINS, 1);
  } finally {
    grantUnlock(c);
  }
}

/**
 * pin()'s work on the active entry of a ref already range-checked, under g's grant lock. A copy
 * of the caller's own grant on its own thread (no active entries there: ownTable) only checks it.
 */
function pinLocked(g: DomainView, ref: number, mapper: number, readonly: boolean): number {
  const c = g.grants;
  if (!c) return ownFrame(g, ref, mapper, readonly);
  const a = ACT_BASE + ref * ACT_WORDS;
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
  return c[a + ACT_FRAME]!;
}

function pinnedBy(g: DomainView, c: Int32Array, ref: number, readonly: boolean, mapper: number): boolean {
  if (!(ref >>> 0 < g.geometry.maxGrantFrames * GRANT_ENTRIES_PER_FRAME)) return false;
  const a = ACT_BASE + ref * ACT_WORDS;
  const pins = c[a + ACT_PIN]!;
  return c[a + ACT_DOMID] === mapper && (readonly ? pins & READ_PINS : pins >>> 16) > 0;
}

/** unpin()'s work on the active entry, under g's grant lock (none for the caller's own: pinLocked). */
function unpinLocked(g: DomainView, ref: number, readonly: boolean): void {
  const c = g.grants;
  if (!c) return;
  const a = ACT_BASE + ref * ACT_WORDS;
  const pins = c[a + ACT_PIN]! - (readonly ? PIN_READ : PIN_WRITE);
  c[a + ACT_PIN] = pins;
  const bits = (!readonly && (pins & WRITE_PINS) === 0 ? GTF_writing : 0) | (pins === 0 ? GTF_reading : 0);
  if (bits !== 0) clearStatus(g, ref, bits);
}

/**
 * The granting domain's active entries and grant lock: on dom0's thread and those of the domains linked to it.
 * Its own thread has none (memory.ts guestBuffers): a domain does not pin its own grants here.
 */
function activeOf(g: DomainView): Int32Array {
  if (!g.grants) throw new GrantError(GNTST_bad_domain, `d${g.domid}: its own grants are not pinned on its own thread`);
  return g.grants;
}

/**
 * The active entries and lock a copy of `g`'s grants by `mapper` takes, or null where `g` is the
 * mapper itself on its own thread, which has none (guestBuffers): Xen lets a domain copy with its
 * own grants (GNTTABOP_copy naming its own domid), and its own memory needs no pin against its
 * own reap. Its entries are checked as for a pin, and their status bits left to its mappers' pins
 * (its guest may rewrite them under the copy: its own bytes only).
 */
function ownTable(g: DomainView, mapper: number): Int32Array | null {
  return g.grants === null && g.domid === mapper ? null : activeOf(g);
}

/** A copy's check of the caller's own grant `ref` (ownTable): its frame, validated as a first pin is, not pinned. */
function ownFrame(g: DomainView, ref: number, mapper: number, readonly: boolean): number {
  checkEntry(g, ref, Atomics.load(g.mem32, entryWord(ref)), mapper, readonly);
  const frame = frameOf(g, ref);
  if (frame < 0) throw new GrantError(GNTST_bad_page, `d${g.domid} ref ${ref}: granted frame is not the domain's RAM`);
  return frame;
}

/** Take a copy's grant lock, and a foreign pin so that `g` is not reaped under it; none for the caller's own (ownTable). */
function lockForCopy(c: Int32Array | null, mapper: number): void {
  if (!c) return;
  grantLock(c, mapper);
  Atomics.add(c, GT_FOREIGN_PINS, 1);
}

/** Undo lockForCopy. */
function unlockForCopy(c: Int32Array | null): void {
  if (!c) return;
  Atomics.sub(c, GT_FOREIGN_PINS, 1);
  grantUnlock(c);
}

function grantLock(c: Int32Array, holder: number): void {
  try {
    lock(c, GT_LOCK);
  } catch (e) {
    // A table whose lock died with its holder is not trusted again: as a dying domain's.
    if (!(e instanceof LockError)) throw e;
    throw new GrantError(e.state === 'timed-out' ? GNTST_eagain : GNTST_bad_domain, e.detail);
  }
  c[GT_LOCK_OWNER] = holder + 1;
}

function grantUnlock(c: Int32Array): void {
  c[GT_LOCK_OWNER] = 0;
  unlock(c, GT_LOCK);
}

/**
 * Free a grant lock that a vCPU which died inside a hypercall left held (or poisoned by its
 * death, lock.ts). True if it did: the table's active entries may be half-updated then, so the
 * caller does not trust that domain any more.
 */
export function breakGrantLock(g: DomainView, deadDomid: number): boolean {
  const c = activeOf(g);
  const heldByDead = Atomics.load(c, GT_LOCK_OWNER) === deadDomid + 1;
  if (heldByDead) {
    c[GT_LOCK_OWNER] = 0;
    resetLock(c, GT_LOCK);
    return true;
  }
  // Cleared only if still the dead holder's: a waiter may have taken the lock since the break.
  const owner = Atomics.load(c, GT_LOCK_OWNER);
  if (!breakAbandoned(c, GT_LOCK)) return false;
  Atomics.compareExchange(c, GT_LOCK_OWNER, owner, 0);
  return true;
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
      copyBytes(dst.mem, src.mem.subarray(src.at, src.at + len), dst.at);
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
    if (!ownTable(g, self.domid)) {
      checkRef(g, side.ref);
      return { mem: g.mem8, at: ownFrame(g, side.ref, self.domid, readonly) * PAGE_SIZE + side.offset, release: NOOP };
    }
    const frame = pin(g, side.ref, self.domid, readonly);
    return { mem: g.mem8, at: frame * PAGE_SIZE + side.offset, release: () => unpin(g, side.ref, readonly, self.domid) };
  }
  const first = firstRamPfn(self.geometry);
  if (!Number.isInteger(side.pfn) || side.pfn < first || side.pfn >= self.nrFrames) {
    throw new GrantError(GNTST_bad_page, `copy: pfn ${side.pfn} is not RAM of d${self.domid}`);
  }
  return { mem: self.mem8, at: side.pfn * PAGE_SIZE + side.offset, release: NOOP };
}

/**
 * A batch of GNTTABOP_copy ops between grants of one domain and memory private to the caller
 * (a backend's own buffer: what Xen's copy reaches as the caller's own frames). The ops live
 * in typed arrays that the caller keeps and refills, so a batch allocates nothing per op; one
 * direction for the whole batch, as netback's rx (to the guest) and tx (from it) each are.
 * Going to the grants, an op may instead take its bytes from a grant of a second domain
 * (GNTCOPY_source_gref with GNTCOPY_dest_gref, for a foreign page), or from a grant the caller
 * holds pinned already (a batch of its own that pinBatch pinned: the frame's pages netback holds
 * while the frame crosses the switch, which its rx copies from as Linux's netback copies from the
 * frags it mapped, with no second pin).
 */
export class GrantCopyBatch {
  readonly capacity: number;
  readonly ref: Uint32Array;
  readonly offset: Uint16Array;
  readonly len: Uint16Array;
  /** Where each op's bytes sit in `local`. */
  readonly at: Uint32Array;
  /** The source grant of an op that copies grant to grant, else -1; its offset in that page. */
  readonly srcRef: Int32Array;
  readonly srcOffset: Uint16Array;
  /** GNTST_* of each op after grantCopyLocal. */
  readonly status: Int8Array;
  /** Per op: the source frame's byte address while pinned, and whether this op holds the pin. */
  readonly #srcBase: Float64Array;
  readonly #srcPinned: Uint8Array;
  /** Per op: its source page is pinned (by this op or one before it of the same ref) from acquireSources to releaseSources. */
  readonly #srcHeld: Uint8Array;
  /** The batch whose pinned grants this batch's source ops name by index (usePins), or null. */
  #pins: GrantCopyBatch | null = null;
  count = 0;
  /** Ops that copy grant to grant. */
  sources = 0;
  /** True: local -> grants (the grants must be writable). False: grants -> local. */
  toGrant = false;
  local: Uint8Array = new Uint8Array(0);

  constructor(capacity: number) {
    this.capacity = capacity;
    this.ref = new Uint32Array(capacity);
    this.offset = new Uint16Array(capacity);
    this.len = new Uint16Array(capacity);
    this.at = new Uint32Array(capacity);
    this.srcRef = new Int32Array(capacity);
    this.srcOffset = new Uint16Array(capacity);
    this.status = new Int8Array(capacity);
    this.#srcBase = new Float64Array(capacity);
    this.#srcPinned = new Uint8Array(capacity);
    this.#srcHeld = new Uint8Array(capacity);
  }

  /** Empty the batch for ops in direction `toGrant` against `local`. */
  reset(local: Uint8Array, toGrant: boolean): void {
    this.local = local;
    this.toGrant = toGrant;
    this.count = 0;
    this.sources = 0;
    this.#pins = null;
  }

  /**
   * The source ops of this batch (until its next reset) name ops of `pins`, a batch the caller
   * holds pinned (pinBatch), by index: addFromPinned.
   */
  usePins(pins: GrantCopyBatch): void {
    if (this.sources !== 0) throw new GrantError(GNTST_bad_copy_arg, 'usePins after source ops were added');
    this.#pins = pins;
  }

  /**
   * One op of a batch to the grants (after usePins): `len` bytes at `srcOffset` of the page of
   * the pinned batch's op `k` into `offset` of grant `ref`. Checked when run: the pinned batch
   * must still be pinned, in the source domain named then, by the caller, and its op `k` pinned.
   */
  addFromPinned(k: number, srcOffset: number, ref: number, offset: number, len: number): void {
    const pins = this.#pins;
    if (!this.toGrant || !pins || k >>> 0 !== k || k >= pins.capacity || srcOffset >>> 0 !== srcOffset || srcOffset > 0xffff) {
      throw new GrantError(GNTST_bad_copy_arg, `copy op ${this.count}: pinned source ${k} offset ${srcOffset}`);
    }
    const i = this.#slot(ref, offset, len, 0);
    this.srcRef[i] = k;
    this.srcOffset[i] = srcOffset;
    this.sources++;
  }

  /**
   * Resolve the source ops of a batch that usePins: each op's bytes in `src`'s memory, from the
   * pinned batch, which pinBatch must hold pinned now in `src` for `mapper`, with that op's page
   * pinned; an op that fails gets its status. Nothing is pinned or locked: the pinned batch's
   * pins hold the pages, and its foreign pin the domain.
   */
  resolvePinned(src: DomainView, mapper: number): void {
    const pins = this.#pins!;
    const p = pinnedBatches.get(pins);
    const live = p !== undefined && p.g === src && p.mapper === mapper;
    for (let i = 0; i < this.count; i++) {
      const k = this.srcRef[i]!;
      if (k < 0) continue;
      if (!live || k >= pins.count || !pins.#srcHeld[k]) this.status[i] = GNTST_bad_domain;
      else if (this.srcOffset[i]! + this.len[i]! > PAGE_SIZE) this.status[i] = GNTST_bad_copy_arg;
      else this.#srcBase[i] = pins.#srcBase[k]! - pins.srcOffset[k]! + this.srcOffset[i]!;
    }
  }

  /**
   * Copy the bytes of every op of this batch, which pinBatch holds pinned now in `g` for
   * `mapper`, in op order into `local` from `at` on (a held frame's tail brought into dom0):
   * from the pins, not pinning the grants again. False, with nothing copied, if the batch is
   * not pinned there by `mapper`, one of its ops did not pin or is not the op pinned, an op
   * passes its page's end, `at` is no index, or `local` has no room.
   */
  copyFromPins(g: DomainView, mapper: number, local: Uint8Array, at: number): boolean {
    const p = pinnedBatches.get(this);
    if (p === undefined || p.g !== g || p.mapper !== mapper || !(Number.isSafeInteger(at) && at >= 0)) return false;
    let end = at;
    for (let k = 0; k < this.count; k++) {
      // Each op is the one pinned (a batch reset and refilled while pinned holds other pages).
      if (!this.#srcHeld[k] || this.ref[k] !== this.srcRef[k] || this.offset[k] !== this.srcOffset[k]) return false;
      if (this.offset[k]! + this.len[k]! > PAGE_SIZE) return false;
      end += this.len[k]!;
    }
    if (end > local.length) return false;
    try {
      for (let k = 0, to = at; k < this.count; to += this.len[k]!, k++) gather.add(g.mem8, this.#srcBase[k]!, local, to, this.len[k]!);
      gather.flush();
    } finally {
      gather.clear();
    }
    return true;
  }

  /** Whether source ops name a pinned batch (usePins) rather than grants. */
  get fromPins(): boolean {
    return this.#pins !== null;
  }

  /** One op: `len` bytes at `offset` of grant `ref`, at `at` of `local`. Checked when run. */
  add(ref: number, offset: number, len: number, at: number): void {
    const i = this.#slot(ref, offset, len, at);
    this.srcRef[i] = -1;
  }

  /**
   * One op of a batch to the grants: `len` bytes at `srcOffset` of the source domain's grant
   * `srcRef` into `offset` of grant `ref` (the source domain is named when the batch runs).
   */
  addFromGrant(srcRef: number, srcOffset: number, ref: number, offset: number, len: number): void {
    // After usePins a source op's number is an index into the pinned batch, not a grant ref.
    if (!this.toGrant || this.#pins !== null || srcRef >>> 0 !== srcRef || srcRef > 0x7fffffff || srcOffset >>> 0 !== srcOffset || srcOffset > 0xffff) {
      throw new GrantError(GNTST_bad_copy_arg, `copy op ${this.count}: source ref ${srcRef} offset ${srcOffset}`);
    }
    const i = this.#slot(ref, offset, len, 0);
    this.srcRef[i] = srcRef;
    this.srcOffset[i] = srcOffset;
    this.sources++;
  }

  #slot(ref: number, offset: number, len: number, at: number): number {
    const i = this.count;
    if (i === this.capacity) throw new GrantError(GNTST_bad_copy_arg, `copy batch full (${this.capacity} ops)`);
    // The arrays would wrap a value out of their range into some other, valid-looking one.
    if (ref >>> 0 !== ref || offset >>> 0 !== offset || len >>> 0 !== len || at >>> 0 !== at || offset > 0xffff || len > 0xffff) {
      throw new GrantError(GNTST_bad_copy_arg, `copy op ${i}: ref ${ref} offset ${offset} len ${len} at ${at}`);
    }
    this.ref[i] = ref;
    this.offset[i] = offset;
    this.len[i] = len;
    this.at[i] = at;
    this.count = i + 1;
    return i;
  }

  /** Every op failed with `status`. */
  fail(status: number): number {
    this.status.fill(status, 0, this.count);
    return this.count;
  }

  /**
   * Pin the source grants of the grant-to-grant ops in `src`, under its grant lock (Xen's
   * acquire_grant_for_copy on the source side, done for the batch before the destination's
   * lock is taken, so no two grant locks are ever held at once). A failed op gets its status.
   * Holds one foreign pin on `src` until releaseSources().
   */
  acquireSources(src: DomainView, mapper: number): void {
    const c = ownTable(src, mapper);
    const n = this.count;
    const status = this.status;
    lockForCopy(c, mapper);
    try {
      const dying = src.dying;
      const nr = nrGrantEntries(src);
      let held = -1;
      let base = 0;
      for (let i = 0; i < n; i++) {
        this.#srcPinned[i] = 0;
        this.#srcHeld[i] = 0;
        const ref = this.srcRef[i]!;
        if (ref < 0) continue;
        if (dying) {
          status[i] = GNTST_bad_domain;
          continue;
        }
        if (this.srcOffset[i]! + this.len[i]! > PAGE_SIZE) {
          status[i] = GNTST_bad_copy_arg;
          continue;
        }
        // A ref used by consecutive ops is pinned once.
        if (ref !== held) {
          held = -1;
          base = pinForOp(src, ref, nr, mapper, true, status, i);
          if (base < 0) continue;
          held = ref;
          this.#srcPinned[i] = 1;
        }
        this.#srcBase[i] = base + this.srcOffset[i]!;
        this.#srcHeld[i] = 1;
      }
    } finally {
      if (c) grantUnlock(c);
    }
  }

  /** Undo acquireSources(). */
  releaseSources(src: DomainView, mapper: number): void {
    const c = ownTable(src, mapper);
    if (c) grantLock(c, mapper);
    try {
      this.#srcHeld.fill(0, 0, this.count);
      for (let i = 0; i < this.count; i++) if (this.#srcPinned[i]) unpinLocked(src, this.srcRef[i]!, true);
    } finally {
      unlockForCopy(c);
    }
  }

  /** Where op `i`'s source bytes start in the source domain's memory (after acquireSources). */
  srcBase(i: number): number {
    return this.#srcBase[i]!;
  }
}

/**
 * Run `b` against the grants of `g` for `mapper`: GNTTABOP_copy with Xen's batch economies.
 * The grant lock is taken once for the batch and one foreign pin held for it, so that the
 * domain is not reaped under the copy; each op's ref is pinned and validated as pin() does
 * (a grant used by consecutive ops stays pinned between them, as Xen's gnttab_copy_buf keeps
 * its grant), and unpinned before the lock is let go. Grant-to-grant ops take their bytes from
 * `src` (pinned there first, see acquireSources). Returns how many ops failed; each op's
 * GNTST_* is in b.status. Copies are at most a page each, so the lock is held briefly.
 */
export function copyLocal(g: DomainView, mapper: number, b: GrantCopyBatch, src?: DomainView): number {
  const n = b.count;
  if (n === 0) return 0;
  const status = b.status;
  status.fill(GNTST_okay, 0, n);
  const acquire = b.sources !== 0 && src !== undefined && !b.fromPins;
  if (b.sources !== 0) {
    if (!src) {
      for (let i = 0; i < n; i++) if (b.srcRef[i]! >= 0) status[i] = GNTST_bad_domain;
    } else if (b.fromPins) {
      b.resolvePinned(src, mapper);
    } else {
      b.acquireSources(src, mapper);
    }
  }
  try {
    return copyPinned(g, mapper, b, src);
  } finally {
    if (acquire) b.releaseSources(src, mapper);
  }
}

/**
 * Ops whose bytes follow one another in both memories (a frame's pages, when the sender's and
 * the receiver's pages are consecutive frames of RAM, as netfront's are) go as one copy: a call
 * per op cost about what copying 8 KiB does. Each op is still validated and its grant pinned
 * on its own; the grants a gathered copy needs stay pinned until it is made (copyPinned).
 */
class Gather {
  src: Uint8Array = EMPTY;
  from = 0;
  dst: Uint8Array = EMPTY;
  to = 0;
  len = 0;

  /** Add a piece; true if the pieces gathered before it were copied first (they did not adjoin it). */
  add(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): boolean {
    // Not within one memory: ops run one after another there, which one overlapping copy is not.
    if (this.len !== 0 && src === this.src && dst === this.dst && src !== dst && from === this.from + this.len && to === this.to + this.len) {
      this.len += len;
      return false;
    }
    const flushed = this.flush();
    this.src = src;
    this.from = from;
    this.dst = dst;
    this.to = to;
    this.len = len;
    return flushed;
  }

  /** Copy what is gathered; true if there was anything. */
  flush(): boolean {
    if (this.len === 0) return false;
    copyRange(this.src, this.from, this.dst, this.to, this.len);
    this.clear();
    return true;
  }

  /** Forget the pieces, and the memories: a batch kept for reuse must not keep a destroyed domain's RAM alive. */
  clear(): void {
    this.len = 0;
    this.src = this.dst = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The copies' scratch (a copy runs to its end within one call, so one of each serves every
 * batch): the pieces gathered, and the refs whose unpin waits for a gathered copy.
 */
const gather = new Gather();
let unpinScratch = new Int32Array(256);

function copyPinned(g: DomainView, mapper: number, b: GrantCopyBatch, src: DomainView | undefined): number {
  const n = b.count;
  const c = ownTable(g, mapper);
  const mem = g.mem8;
  const local = b.local;
  const toGrant = b.toGrant;
  const readonly = !toGrant;
  const status = b.status;
  if (unpinScratch.length < n) unpinScratch = new Int32Array(n);
  const unpins = unpinScratch;
  let waiting = 0;
  let failed = 0;
  let held = -1;
  let base = 0;
  // The pin first, then the check: a domain seen alive here is not reaped before the pin goes.
  lockForCopy(c, mapper);
  try {
    if (g.dying) return b.fail(GNTST_bad_domain);
    const nr = nrGrantEntries(g);
    for (let i = 0; i < n; i++) {
      if (status[i] !== GNTST_okay) {
        // Its source would not pin.
        failed++;
        continue;
      }
      const ref = b.ref[i]!;
      const offset = b.offset[i]!;
      const len = b.len[i]!;
      const at = b.at[i]!;
      const fromGrant = b.srcRef[i]! >= 0;
      if (offset + len > PAGE_SIZE || (!fromGrant && at + len > local.length)) {
        status[i] = GNTST_bad_copy_arg;
        failed++;
        continue;
      }
      if (ref !== held) {
        // A grant whose bytes may be in the gathered copy stays pinned until it is made.
        if (held >= 0) {
          if (gather.len !== 0) unpins[waiting++] = held;
          else unpinLocked(g, held, readonly);
        }
        held = -1;
        base = pinForOp(g, ref, nr, mapper, readonly, status, i);
        if (base < 0) {
          failed++;
          continue;
        }
        held = ref;
      }
      const from = base + offset;
      const copied = fromGrant ? gather.add(src!.mem8, b.srcBase(i), mem, from, len) : toGrant ? gather.add(local, at, mem, from, len) : gather.add(mem, from, local, at, len);
      if (copied) {
        for (let k = 0; k < waiting; k++) unpinLocked(g, unpins[k]!, readonly);
        waiting = 0;
      }
    }
    gather.flush();
  } finally {
    gather.clear();
    for (let k = 0; k < waiting; k++) unpinLocked(g, unpins[k]!, readonly);
    if (held >= 0) unpinLocked(g, held, readonly);
    unlockForCopy(c);
  }
  return failed;
}

/** Pin `ref` of `g` (under its lock) for batch op `i`: the frame's byte address, or -1 with the op's status set. */
function pinForOp(g: DomainView, ref: number, nr: number, mapper: number, readonly: boolean, status: Int8Array, i: number): number {
  if (ref >= nr) {
    status[i] = GNTST_bad_gntref;
    return -1;
  }
  try {
    return pinLocked(g, ref, mapper, readonly) * PAGE_SIZE;
  } catch (e) {
    if (!(e instanceof GrantError)) throw e;
    status[i] = e.status;
    return -1;
  }
}

/**
 * Pin the grants of `b`'s ops read-only for `mapper` and keep them pinned (a backend holding a
 * guest's tx pages while a frame crosses the switch, as Linux's netback maps a packet's frags):
 * validated as a copy's source is. Each op's GNTST_* is in b.status; returns how many failed.
 * The caller must call unpinBatch with the same batch before its turn ends.
 */
export function pinBatch(g: DomainView, mapper: number, b: GrantCopyBatch): number {
  const n = b.count;
  if (n === 0) return 0;
  b.status.fill(GNTST_okay, 0, n);
  for (let i = 0; i < n; i++) {
    b.srcRef[i] = b.ref[i]!;
    b.srcOffset[i] = b.offset[i]!;
  }
  b.sources = n;
  b.acquireSources(g, mapper);
  pinnedBatches.set(b, { g, mapper });
  let failed = 0;
  for (let i = 0; i < n; i++) if (b.status[i] !== GNTST_okay) failed++;
  return failed;
}

/** Undo pinBatch(). */
export function unpinBatch(g: DomainView, mapper: number, b: GrantCopyBatch): void {
  pinnedBatches.delete(b);
  b.releaseSources(g, mapper);
}

/** The batches pinBatch holds pinned, with where and for whom: what addFromPinned ops may copy from. */
const pinnedBatches = new WeakMap<GrantCopyBatch, { readonly g: DomainView; readonly mapper: number }>();

/** `len` bytes of `src` from `from` to `dst` at `to`, with no view made when the whole source goes (a one-slot frame). */
function copyRange(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): void {
  copyBytes(dst, from === 0 && len === src.length ? src : src.subarray(from, from + len), to);
}
