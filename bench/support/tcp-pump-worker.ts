// The host's programs of `bench tcp-guests`, each run in a worker thread from this module: it
// imports only node:net and tcp-pump.ts, since a worker that loads the host's modules too moves
// Node `net` loopback streams several times slower (measured: 0.2-0.5 against 1-13 Gb/s), which
// would flatter every ratio against it. Each thread takes the `nice` it is given (the guests'
// vCPU threads' GUEST_NICE): at the bench's own priority Node's threads got about three times
// the guests' share of a loaded machine's CPU.
// - role 'sink': the byte sink on a port and the request/answer exchange on the next; posts
//   the first and serves until terminated;
// - role 'client': `runs` streams of `bytes` into 127.0.0.1:port (or, with `cps`, that many
//   exchanges against port+1, 16 at a time); posts the results.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { answerExchange, connectionRate, CPS_PARALLEL, pumpBytes, sinkConnection, type PumpResult } from './tcp-pump.js';

export type PumpJob = (
  | { readonly role: 'sink' }
  | { readonly role: 'client'; readonly port: number; readonly bytes: number; readonly runs: number; readonly cps?: number }
) & { readonly nice: number };

async function netConnect(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((ok, fail) => s.once('connect', ok).once('error', fail));
  return s;
}

async function sink(): Promise<number> {
  for (;;) {
    const bytes = createServer(sinkConnection);
    await new Promise<void>((r) => bytes.listen(0, '127.0.0.1', r));
    const port = (bytes.address() as AddressInfo).port;
    const answer = createServer(answerExchange);
    const bound = await new Promise<boolean>((r) => answer.once('error', () => r(false)).listen(port + 1, '127.0.0.1', () => r(true)));
    if (bound) return port;
    bytes.close(); // port+1 was taken: try another pair
  }
}

async function client(port: number, bytes: number, runs: number, cps?: number): Promise<PumpResult[] | number> {
  if (cps) return connectionRate(cps, CPS_PARALLEL, () => netConnect(port + 1), () => performance.now());
  const results: PumpResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await pumpBytes(await netConnect(port), bytes, () => performance.now()));
  return results;
}

if (parentPort) {
  const job = workerData as PumpJob;
  try {
    setPriority(job.nice); // this thread only (Linux)
  } catch {
    /* runs at the process's priority */
  }
  parentPort.postMessage(job.role === 'sink' ? await sink() : await client(job.port, job.bytes, job.runs, job.cps));
}
