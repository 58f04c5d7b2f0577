// A pCPU thread (guest/pcpu.ts) that a test can leave where terminate() cannot end it: in a
// native read of a FIFO (XENODE_STUCK_FIFO), inside the turn of the domain named `stuck` as its
// heartbeat shows it, once it is placed; or, for one named `stuck-placing`, before its place
// has run (as a kernel's top level that does not return: the thread never says `placed`). The
// watchdog then resets the pCPU, and the old thread ends only once the test opens the FIFO for
// writing: a reset thread that overruns its bound, on demand. Just before the read it creates
// the file XENODE_STUCK_MARKER: from there on it runs no JavaScript that could read a message.
import { readFileSync, writeFileSync } from 'node:fs';
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import type { PcpuData, PcpuMessage, PcpuStatus } from '../../src/hypervisor/cpupool.js';
import { PcpuStats } from '../../src/hypervisor/doorbell.js';

const STUCK_NAME = 'stuck';
const STUCK_PLACING_NAME = 'stuck-placing';
const data = workerData as PcpuData;
const port = parentPort!;
const post = port.postMessage.bind(port);
// No thread id: the watchdog bounds the turn in wall time, which a blocked read spends.
port.postMessage = (m: PcpuStatus, t?: readonly TransferListItem[]) => post(m.type === 'ready' ? { type: 'ready' } : m, t);
const stick = (domid: number) => {
  const stats = new PcpuStats(data.stats, data.epoch);
  Atomics.store(stats.words, PcpuStats.TURN_START, stats.now());
  Atomics.store(stats.words, PcpuStats.RUNNING, domid + 1);
  writeFileSync(process.env.XENODE_STUCK_MARKER!, '');
  readFileSync(process.env.XENODE_STUCK_FIFO!);
};
// Registered before guest/pcpu.js's own listener, so this one runs first.
port.on('message', (m: PcpuMessage) => {
  if (m.type !== 'place') return;
  if (m.identity.name === STUCK_NAME) setTimeout(() => stick(m.domid), 0);
  else if (m.identity.name === STUCK_PLACING_NAME) stick(m.domid);
});
await import('../../src/guest/pcpu.js');
