// A thread that rewrites words of a guest's memory as fast as it can for a while: a frontend
// changing its ring slots while the backend reads them.
import { parentPort, workerData } from 'node:worker_threads';
if (parentPort) {
    const { memory, words, stop } = workerData;
    const m = new Int32Array(memory);
    const halt = new Int32Array(stop);
    let n = 0;
    parentPort.postMessage('started');
    while (Atomics.load(halt, 0) === 0) {
        for (const w of words)
            Atomics.store(m, w.offset >> 2, w.values[n % w.values.length] | 0);
        n++;
    }
    parentPort.postMessage(n);
}
//# sourceMappingURL=blk-flipper.js.map