// The host database's WAL checkpoints, run on a thread of their own instead of dom0's. SQLite
// checkpoints inside the commit that fills the log past wal_autocheckpoint: that commit copies
// every distinct page the log holds into the database file and syncs both files, on dom0's
// thread. The distinct pages grow with the records (inserts by random ref and uuid land on a
// different leaf of each index once the tables outgrow a few pages): a create's commit paid for
// 2.1 checkpointed pages at 500 VMs and 6.2 at 3,000, and a checkpoint's two syncs held dom0 for
// 40-150 ms on a loaded machine. Here a second connection checkpoints (PASSIVE: it
// never blocks dom0's writers) when dom0 has made CHECKPOINT_EVERY commits, so dom0's commit
// only appends its frames to the log. dom0's own autocheckpoint stays, far larger, as the
// backstop should this thread fall behind or be gone.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Write commits between two checkpoints: a VM's create appends about 22 frames, so ~700 frames. */
export const CHECKPOINT_EVERY = 32;
/** dom0's wal_autocheckpoint (frames): 32 MiB of log before dom0 checkpoints itself. */
export const BACKSTOP_FRAMES = 8192;
/** Passes a round makes at most: each copies what dom0 committed during the previous one. */
const PASSES = 8;

// Words of the shared signal: dom0's commits, the rounds asked for (dom0 adds one every
// CHECKPOINT_EVERY commits), and 1 once dom0 closes.
const COMMITS = 0;
const ROUND = 1;
const STOP = 2;

// Blocks in Atomics.wait between rounds (a worker's wait blocks only itself). A pass copies the
// log as it was when the pass began; dom0's next write starts the log over only if nothing is
// left to copy then, so a round passes again while dom0 committed during the last pass.
// Lowest priority: this is housekeeping.
const SOURCE = `
const { workerData } = require('node:worker_threads');
try { require('node:os').setPriority(19); } catch {}
const Database = require(workerData.module);
const signal = new Int32Array(workerData.signal);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
let round = 0;
for (;;) {
  Atomics.wait(signal, ${ROUND}, round);
  if (Atomics.load(signal, ${STOP})) break;
  round = Atomics.load(signal, ${ROUND});
  for (let i = 0; i < ${PASSES}; i++) {
    const commits = Atomics.load(signal, ${COMMITS});
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r.busy || Atomics.load(signal, ${COMMITS}) === commits) break;
  }
}
db.close();
`;

export class Checkpointer {
  readonly #signal = new Int32Array(new SharedArrayBuffer(12));
  #worker: Worker | undefined;
  #exited: Promise<unknown> | undefined;

  constructor(readonly path: string) {}

  /** dom0 committed a write: every CHECKPOINT_EVERY, the thread is asked for a round. */
  committed(): void {
    if ((Atomics.add(this.#signal, COMMITS, 1) + 1) % CHECKPOINT_EVERY) return;
    // Started on first use: a host that writes little never pays for the thread.
    this.#worker ??= this.#start();
    Atomics.add(this.#signal, ROUND, 1);
    Atomics.notify(this.#signal, ROUND);
  }

  #start(): Worker {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(SOURCE, {
      eval: true, workerData: { module, path: this.path, signal: this.#signal.buffer }, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
    w.unref();
    this.#exited = new Promise((resolve) => w.once('exit', resolve));
    // A thread that failed leaves the checkpoints to dom0's backstop: nothing is lost.
    w.on('error', () => {});
    return w;
  }

  /** Ends the thread once its round is done (dom0's connection, closed after, checkpoints the rest). */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (!w) return;
    // Held until it exits: unreferenced, it would let the process end with close() pending.
    w.ref();
    Atomics.store(this.#signal, STOP, 1);
    Atomics.add(this.#signal, ROUND, 1);
    Atomics.notify(this.#signal, ROUND);
    await this.#exited;
  }
}
