// A machine for block-driver tests on the test's own thread: a hypervisor (dom0 and guests as
// local domains, each with its upcall loop), an in-process xenstored with one connection per
// domain, dom0's blkback service started through the toolstack's device code, and disks the
// test chooses (RAM disks, or its own) registered under absolute targets that no file has.
import { switchState } from '../../src/drivers/xenbus.js';
import { XenbusState } from '../../src/abi/xenbus.js';
import { BlkFront, type BlkfrontOptions } from '../../src/drivers/blk/front/blkfront.js';
import type { BlkbackDaemonOptions } from '../../src/drivers/blk/back/devd.js';
import { BlkBack, type BlkbackOptions } from '../../src/drivers/blk/back/blkback.js';
import { attachDisk, dom0Blkback, type DeviceHost } from '../../src/toolstack/devices.js';
import { parseDiskSpec } from '../../src/toolstack/diskspec.js';
import { openDisk } from '../../src/storage/open.js';
import type { Disk } from '../../src/storage/disk.js';
import { ReadOnlyDisk } from '../../src/storage/readonly.js';
import type { TestContext } from 'node:test';
import { DriverRig, type GuestSide } from './driver-rig.js';
import { within } from './hypervisor.js';

export { within } from './hypervisor.js';

export type { GuestSide } from './driver-rig.js';

export class Rig extends DriverRig {
  readonly disks = new Map<string, Disk>();
  readonly host: DeviceHost;

  constructor(readonly backendOpts: BlkbackOptions = {}) {
    super();
    this.host = { hv: this.h.hv, xs: this.xs0, loop: this.h.dom0Events.loop, log: (l) => this.log.push(l) };
  }

  /** dom0's blkback service, with this rig's options and its test disks. */
  daemon() {
    const opts: BlkbackDaemonOptions = {
      blkback: this.backendOpts,
      openDisk: async (params, o) => {
        const d = this.disks.get(params.slice('raw:'.length));
        if (!d) return openDisk(params, o);
        return o.readOnly ? new ReadOnlyDisk(d) : d;
      },
    };
    return dom0Blkback(this.host, opts);
  }

  /** Attach `disk` (registered under its absolute target path) or a spec target through the toolstack's code. */
  async attach(g: GuestSide, spec: string, disk?: Disk): Promise<void> {
    await this.daemon();
    const parsed = parseDiskSpec(spec);
    if (disk) this.disks.set(parsed.target!, disk);
    await attachDisk(this.host, g.domid, parsed);
  }

  async front(g: GuestSide, devid = 51712, opts: BlkfrontOptions = {}): Promise<BlkFront> {
    return BlkFront.connect(g.ctx, g.domid, devid, 'xvda', opts);
  }

  /**
   * Replace the backend of `g`'s xvda under its frontend, as a reload of blkback would: the old
   * one stops (once `gated` lets its requests finish), unmaps and says Closed; a fresh one
   * starts on the same directory and disk, with `opts`.
   */
  async restartBackend(g: GuestSide, gated: GatedDisk, opts: BlkbackOptions = {}): Promise<BlkBack> {
    const old = (await this.daemon()).device(g.domid, 51712)!;
    const closing = old.close();
    gated.open();
    await closing;
    await switchState(this.xs0, old.dir, XenbusState.Closed);
    return BlkBack.start(this.dom0, old.dir, gated, opts);
  }

  override async close(): Promise<void> {
    const d = await this.daemon().catch(() => undefined);
    await d?.stop();
    await super.close();
  }
}

/** A rig whose one guest has connected blkfront to `disk` under `spec`; the rig closes after the test. */
export async function connected(t: TestContext, disk: Disk, spec = 'vdev=xvda, target=/test/a', opts: BlkfrontOptions = {}) {
  const rig = new Rig();
  t.after(() => rig.close());
  const g = rig.guest();
  await rig.attach(g, spec, disk);
  const f = await within(rig.front(g, 51712, opts), 'connect');
  return { rig, g, f };
}

/** Bytes with a recognizable pattern per sector: sector number and a salt. */
export function pattern(sector: number, sectors: number, salt: number): Uint8Array {
  const b = new Uint8Array(sectors * 512);
  const v = new DataView(b.buffer);
  for (let s = 0; s < sectors; s++) {
    for (let i = 0; i < 512; i += 8) {
      v.setUint32(s * 512 + i, sector + s, true);
      v.setUint32(s * 512 + i + 4, salt, true);
    }
  }
  return b;
}

/** A disk whose I/O waits for the test to open the gate: requests stay in flight. */
export class GatedDisk implements Disk {
  readonly features = { flush: true, discard: true, secureDiscard: true };
  readonly readOnly = false;
  #waiting: (() => void)[] = [];
  #open = true;
  started = 0;
  constructor(readonly inner: Disk) {}
  get sectors(): number {
    return this.inner.sectors;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  shut(): void {
    this.#open = false;
  }
  open(): void {
    this.#open = true;
    for (const w of this.#waiting.splice(0)) w();
  }
  async #gate(): Promise<void> {
    this.started++;
    if (!this.#open) await new Promise<void>((r) => this.#waiting.push(r));
  }
  async read(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    await this.#gate();
    await this.inner.read(sector, bufs);
  }
  async write(sector: number, bufs: readonly Uint8Array[]): Promise<void> {
    await this.#gate();
    await this.inner.write(sector, bufs);
  }
  async flush(): Promise<void> {
    await this.#gate();
  }
  async discard(sector: number, count: number, secure: boolean): Promise<void> {
    await this.#gate();
    await this.inner.discard(sector, count, secure);
  }
}

/** One read or write as the disk saw it: where each buffer it was given lies. */
export interface DiskCall {
  readonly op: 'read' | 'write';
  readonly sector: number;
  readonly runs: readonly { readonly buffer: ArrayBufferLike; readonly byteOffset: number; readonly byteLength: number }[];
}

/** A disk that records the buffers blkback hands it (so a test sees copies and runs), then passes them on. */
export class RecordingDisk implements Disk {
  readonly calls: DiskCall[] = [];
  constructor(readonly inner: Disk) {}
  get features() {
    return this.inner.features;
  }
  get readOnly(): boolean {
    return this.inner.readOnly;
  }
  get sectors(): number {
    return this.inner.sectors;
  }
  #record(op: DiskCall['op'], sector: number, bufs: readonly Uint8Array[]): void {
    this.calls.push({ op, sector, runs: bufs.map((b) => ({ buffer: b.buffer, byteOffset: b.byteOffset, byteLength: b.byteLength })) });
  }
  read(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    this.#record('read', sector, bufs);
    return this.inner.read(sector, bufs);
  }
  write(sector: number, bufs: readonly Uint8Array[]): Promise<void> | void {
    this.#record('write', sector, bufs);
    return this.inner.write(sector, bufs);
  }
  flush(): Promise<void> | void {
    return this.inner.flush();
  }
  discard(sector: number, count: number, secure: boolean): Promise<void> | void {
    return this.inner.discard(sector, count, secure);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
