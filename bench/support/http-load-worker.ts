// The Node client of `bench www-guests`, run in a worker thread from this module: the load
// loop of http-load.ts over node:net against 127.0.0.1:port; posts its LoadResult. It imports
// nothing of the host's: a worker that loads the host's modules moves loopback traffic several
// times slower (see bench/support/tcp-pump-worker.ts), which would flatter the guests' ratio.
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { httpLoad, type LoadOptions } from './http-load.js';

export interface HttpLoadJob {
  readonly port: number;
  readonly load: LoadOptions;
}

if (parentPort) {
  const { port, load } = workerData as HttpLoadJob;
  const r = await httpLoad(async () => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((ok, fail) => s.once('connect', ok).once('error', fail));
    return s;
  }, load, (ms) => new Promise<void>((r) => setTimeout(r, ms)), () => performance.now());
  parentPort.postMessage(r);
}
