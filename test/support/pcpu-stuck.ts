// A pCPU thread (guest/pcpu.ts) that a test can leave where terminate() cannot end it: in a
// native read of a FIFO (XENODE_STUCK_FIFO), inside the turn of the domain named `stuck` as its
// heartbeat shows it. The watchdog then resets the pCPU, and the old thread ends only once the
// test writes to the FIFO: a reset thread that overruns its bound, on demand.
import { readFileSync } from 'node:fs';
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import type { PcpuData, PcpuMessage, PcpuStatus } from '../../src/hypervisor/cpupool.js';
import { PcpuStats } from '../../src/hypervisor/doorbell.js';

const STUCK_NAME = 'stuck';
const data = workerData as PcpuData;
const port = parentPort!;
const post = port.postMessage.bind(port);
// No thread id: the watchdog bounds the turn in wall time, which a blocked read spends.
port.postMessage = (m: PcpuStatus, t?: readonly TransferListItem[]) => post(m.type === 'ready' ? { type: 'ready' } : m, t);
port.on('message', (m: PcpuMessage) => {
  if (m.type !== 'place' || m.identity.name !== STUCK_NAME) return;
  setTimeout(() => {
    const stats = new PcpuStats(data.stats, data.epoch);
    Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
    Atomics.store(stats.words, PcpuStats.RUNNING, m.domid + 1);
    readFileSync(process.env.XENODE_STUCK_FIFO!);
  }, 0);
});
await import('../../src/guest/pcpu.js');
