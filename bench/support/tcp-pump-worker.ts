// The host's programs of `bench tcp-guests`, each run in a worker thread from this module: it
// imports only node:net, tcp-pump.ts, readinto.ts and thread.ts (node:fs), since a worker that loads the host's modules too moves
// Node `net` loopback streams several times slower (measured: 0.2-0.5 against 1-13 Gb/s), which
// would flatter every ratio against it. Each thread takes the `nice` it is given (the guests'
// vCPU threads' GUEST_NICE): at the bench's own priority Node's threads got about three times
// the guests' share of a loaded machine's CPU.
// - role 'sink': the byte sink on a port and the request/answer exchange on the next; posts
//   its port and serves until terminated. The byte sink reads into one 64 KiB buffer (net's
//   `onread`, src/readinto.ts), as the sink guest reads views of its received pages
//   (TcpSocket.onBytes): through 'data' events Node paid a fresh Buffer per read that the guest
//   does not (its sink thread took 0.45-0.51 CPU-s per GiB, against 0.31-0.33 reading into one
//   buffer: docs/PERFORMANCE.md, tcp18);
// - role 'client': posts its thread id, then for each message `{ port, bytes }` pumps one stream
//   of `bytes` into 127.0.0.1:port and posts its result, and for `{ port, cps }` runs that many
//   exchanges against port+1, 16 at a time, and posts the rate; until terminated.
// Each thread's id lets the bench count the CPU of each thread (bench/support/threads.ts).
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { currentThreadId } from '../../src/hypervisor/thread.js';
import { readingInto } from '../../src/readinto.js';
import { answerExchange, connectionRate, CPS_PARALLEL, pumpBytes, sinkConnection, type PumpResult } from './tcp-pump.js';

export interface PumpJob { readonly role: 'sink' | 'client'; readonly nice: number }
/** A client's work: one stream of `bytes`, or `cps` exchanges. */
export type ClientRequest = { readonly port: number } & ({ readonly bytes: number } | { readonly cps: number });
/** What a worker posts first: the sink its port, each its thread id. */
export interface WorkerReady { readonly port?: number; readonly tid: number | undefined }

async function netConnect(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((ok, fail) => s.once('connect', ok).once('error', fail));
  return s;
}

/** Where the byte sink reads: each read is counted during its callback, so one buffer serves every connection. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** A byte-sink connection, re-wrapped to read into READ_BUFFER (paused since its accept). */
function sinkReadingInto(accepted: Socket): void {
  let count: (c: Uint8Array) => void = () => {};
  const s = readingInto(accepted, READ_BUFFER, (n, buf) => {
    count(buf.subarray(0, n));
    return true;
  }, { allowHalfOpen: true });
  sinkConnection(s, (onChunk) => {
    count = onChunk;
  });
}

async function sink(): Promise<number> {
  for (;;) {
    const bytes = createServer({ pauseOnConnect: true }, sinkReadingInto);
    await new Promise<void>((r) => bytes.listen(0, '127.0.0.1', r));
    const port = (bytes.address() as AddressInfo).port;
    const answer = createServer(answerExchange);
    const bound = await new Promise<boolean>((r) => answer.once('error', () => r(false)).listen(port + 1, '127.0.0.1', () => r(true)));
    if (bound) return port;
    bytes.close(); // port+1 was taken: try another pair
  }
}

async function client(req: ClientRequest): Promise<PumpResult | number> {
  if ('cps' in req) return connectionRate(req.cps, CPS_PARALLEL, () => netConnect(req.port + 1), () => performance.now());
  return pumpBytes(await netConnect(req.port), req.bytes, () => performance.now());
}

if (parentPort) {
  const job = workerData as PumpJob;
  try {
    setPriority(job.nice); // this thread only (Linux)
  } catch {
    /* runs at the process's priority */
  }
  const port = parentPort;
  if (job.role === 'sink') port.postMessage({ port: await sink(), tid: currentThreadId() } satisfies WorkerReady);
  else {
    port.on('message', (req: ClientRequest) => void client(req).then((r) => port.postMessage(r)));
    port.postMessage({ tid: currentThreadId() } satisfies WorkerReady);
  }
}
