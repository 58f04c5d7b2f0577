// The Node side of `bench www-guests`, one worker thread per role from this module, as the two
// guests have a vCPU thread each: `serve` runs Node's http server with www's answer and posts
// its port; `load` runs the load loop of http-load.ts over node:net against 127.0.0.1:port for
// each LoadOptions it is sent and posts each LoadResult (one worker for every round, so that the
// rounds after the first find its code compiled, as the guests' are). It imports nothing of the
// host's: a worker that loads the host's modules moves loopback traffic several times slower
// (see bench/support/tcp-pump-worker.ts), which would flatter the guests' ratio. Each thread
// takes the `nice` it is given: the guests' vCPU threads run at GUEST_NICE (src/hypervisor/
// sched.ts), and at the bench's own priority Node's threads would get about three times their
// share of a loaded machine's CPU.
import { connect } from 'node:net';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { httpLoad, nodeHelloServer, type LoadOptions } from './http-load.js';

export interface HttpLoadJob {
  readonly role: 'serve' | 'load';
  /** The server's port, for `load`. */
  readonly port?: number;
  readonly nice: number;
}

if (parentPort) {
  const job = workerData as HttpLoadJob;
  const parent = parentPort;
  try {
    setPriority(job.nice); // this thread only (Linux)
  } catch {
    /* runs at the process's priority */
  }
  if (job.role === 'serve') parent.postMessage((await nodeHelloServer()).port);
  else {
    parent.on('message', (load: LoadOptions) => {
      void httpLoad(async () => {
        const s = connect({ port: job.port!, host: '127.0.0.1', noDelay: true });
        await new Promise<void>((ok, fail) => s.once('connect', ok).once('error', fail));
        return s;
      }, load, (ms) => new Promise<void>((r) => setTimeout(r, ms)), () => performance.now()).then((r) => parent.postMessage(r));
    });
  }
}
