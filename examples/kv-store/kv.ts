// kv-store: a key-value store unikernel on a PV disk (os.block). Every change is appended to
// a log on the disk and flushed before it is acknowledged, so the store survives a restart of
// the guest (and a kill -9 of the host). On boot it replays the log and counts the boot.
//
// extra= says what to do after that:
//   demo   (default) show the store; on an odd boot set a key and reboot, on an even one power off:
//          one `xenode run` shows the data surviving the restart.
//   serve  answer requests written to data/kv/request ("<id> get KEY", "<id> set KEY VALUE",
//          "<id> del KEY", "<id> list") in data/kv/response ("<id> ok [VALUE]" or "<id> error WHY").
//
// It registers os.lifecycle.onSuspend: after `xenode save` + `xenode restore` (or a migration)
// main(os) runs again with os.resumed holding the store's map and log position, so it carries
// on without replaying the log and without counting a boot. Puts that come after it handed its
// state over wait (os.lifecycle.onResume lets them go on if the domain runs on here).
import type { Block, OS } from 'xenode';
import { SECTOR, decodeRecord, encodeRecord, isFormatted, superblock, type Record } from './kvlog.js';

/** Sectors read at a time while replaying. */
const REPLAY_CHUNK = 256;

/** What the store hands over at a suspend (structured-cloneable). */
interface KvState {
  readonly entries: [string, string][];
  readonly tail: number;
  readonly seq: number;
}

class KvStore {
  readonly map = new Map<string, string>();
  #tail = 1;
  #seq = 0;
  constructor(private readonly disk: Block) {}

  state(): KvState {
    return { entries: [...this.map], tail: this.#tail, seq: this.#seq };
  }

  /** Carry on from a suspend's state instead of replaying the log. */
  adopt(s: KvState): void {
    for (const [k, v] of s.entries) this.map.set(k, v);
    this.#tail = s.tail;
    this.#seq = s.seq;
  }

  async open(): Promise<void> {
    const s0 = new Uint8Array(SECTOR);
    await this.disk.read(0, s0);
    if (!isFormatted(s0)) {
      console.log('kv-store: formatting the disk');
      await this.disk.write(0, superblock());
      await this.disk.write(1, new Uint8Array(SECTOR)); // an empty log
      await this.disk.flush();
      return;
    }
    const size = this.disk.info().sizeSectors;
    let buf = new Uint8Array(0);
    let bufSector = 1;
    for (;;) {
      const at = (this.#tail - bufSector) * SECTOR;
      const r = decodeRecord(buf.subarray(at), this.#seq);
      if (r === null) break;
      if (r === 'need-more') {
        const n = Math.min(REPLAY_CHUNK, size - bufSector - buf.length / SECTOR);
        if (n <= 0) break;
        const more = new Uint8Array(n * SECTOR);
        await this.disk.read(bufSector + buf.length / SECTOR, more);
        const next = new Uint8Array(buf.length - at + more.length);
        next.set(buf.subarray(at));
        next.set(more, buf.length - at);
        buf = next;
        bufSector = this.#tail;
        continue;
      }
      this.#apply(r.record);
      this.#tail += r.sectors;
      this.#seq++;
    }
  }

  #apply(r: Record): void {
    if (r.value === undefined) this.map.delete(r.key);
    else this.map.set(r.key, r.value);
  }

  /** Puts run one after another; a suspend's state waits for the one in flight. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Set while a suspend holds the state: puts wait here (resume() opens it). */
  #held: { gate: Promise<void>; open(): void } | undefined;

  /** Append, flush, then apply: acknowledged means durable. */
  put(key: string, value: string | undefined): Promise<void> {
    // The hold as the put comes: one queued before a suspend's state is part of it.
    const held = this.#held;
    const p = this.#queue.then(() => held?.gate).then(() => this.#append(key, value));
    this.#queue = p.catch(() => {});
    return p;
  }

  /**
   * The state once the puts before it are done. Later puts wait until resume(): one acknowledged
   * after the state was taken would be missing from it where the domain resumes. If it does
   * resume elsewhere they are never acknowledged here, and its client asks the new copy.
   */
  async settledState(): Promise<KvState> {
    const before = this.#queue;
    if (!this.#held) {
      let open = (): void => {};
      const gate = new Promise<void>((r) => (open = r));
      this.#held = { gate, open };
    }
    await before;
    return this.state();
  }

  /** The suspend ended with the domain here: the held puts go on. */
  resume(): void {
    const held = this.#held;
    this.#held = undefined;
    held?.open();
  }

  async #append(key: string, value: string | undefined): Promise<void> {
    const rec = encodeRecord(this.#seq, { key, value });
    const sectors = rec.length / SECTOR;
    if (this.#tail + sectors + 1 > this.disk.info().sizeSectors) throw new Error('the disk is full');
    // The sector after the record is zeroed so replay stops there even over an old, longer log.
    const out = new Uint8Array(rec.length + SECTOR);
    out.set(rec);
    await this.disk.write(this.#tail, out);
    await this.disk.flush();
    this.#tail += sectors;
    this.#seq++;
    this.#apply({ key, value });
  }
}

async function serve(os: OS, kv: KvStore): Promise<void> {
  const answer = async (req: string): Promise<string> => {
    const [id = '', op, key, ...rest] = req.split(' ');
    try {
      switch (op) {
        case 'get': return `${id} ok ${kv.map.get(key ?? '') ?? ''}`;
        case 'set': await kv.put(key!, rest.join(' ')); return `${id} ok`;
        case 'del': await kv.put(key!, undefined); return `${id} ok`;
        case 'list': return `${id} ok ${[...kv.map.keys()].join(' ')}`;
        default: return `${id} error unknown request`;
      }
    } catch (e) {
      return `${id} error ${(e as Error).message}`;
    }
  };
  let last = '';
  await os.xenstore.write('data/kv/response', '');
  await os.xenstore.watch('data/kv/request', () => {
    void os.xenstore.readOptional('data/kv/request').then(async (req) => {
      if (!req || req === last) return;
      last = req;
      await os.xenstore.write('data/kv/response', await answer(req));
    });
  });
  await os.xenstore.write('data/kv/ready', '1');
  const request = await os.lifecycle.awaitShutdownRequest();
  await os.shutdown(request === 'reboot' ? 'reboot' : 'poweroff');
}

export default async function main(os: OS): Promise<void> {
  const disk = await os.block();
  const kv = new KvStore(disk);
  os.lifecycle.onSuspend(() => kv.settledState());
  os.lifecycle.onResume(() => kv.resume());
  const resumed = os.resumed as KvState | undefined;
  if (resumed) {
    kv.adopt(resumed);
    console.log(`kv-store resumed on ${disk.vdev}: ${kv.map.size} keys`);
    if (os.cmdline.split(/\s+/).includes('serve')) return serve(os, kv);
  }
  await kv.open();
  const boots = Number(kv.map.get('boots') ?? '0') + 1;
  await kv.put('boots', String(boots));
  console.log(`kv-store on ${disk.vdev} (${disk.info().sizeSectors} sectors): boot ${boots}, ${kv.map.size} keys`);
  for (const [k, v] of kv.map) console.log(`  ${k} = ${v}`);
  if (os.cmdline.split(/\s+/).includes('serve')) return serve(os, kv);
  if (boots % 2 === 1) {
    await kv.put('written-at-boot', String(boots));
    console.log(`set written-at-boot = ${boots}; rebooting to show it survives`);
    await disk.disconnect();
    await os.shutdown('reboot');
  }
  console.log(`written-at-boot = ${kv.map.get('written-at-boot')} survived the restart; powering off`);
  await disk.disconnect();
}
