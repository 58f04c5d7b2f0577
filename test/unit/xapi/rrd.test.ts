// The round-robin archives behind /rrd_updates: counters become rates over a step, gauges stay,
// each archive is a fixed ring (old rows are overwritten, memory stays bounded), coarser
// archives average the base steps, and a VM's sources go with its domain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DomainInfo } from '../../../src/toolstack/contract.js';
import { ARCHIVES, RrdStore, STEP_S } from '../../../src/xapi/rrd.js';

const HOST = { memoryTotalKiB: 1024, memoryFreeKiB: 512, cpuAvg: 0.25 };

function dom(domid: number, uuid: string, cpuSeconds: number, rsect: number, txBytes: number): DomainInfo {
  return {
    domid, name: `d${domid}`, uuid, state: '-b----', memoryKiB: 32 * 1024, maxmemKiB: 32 * 1024, vcpus: 1, cpuSeconds, vbds: 1,
    vbdStats: { oo: 0, rd: 0, wr: 0, rsect, wsect: 0 }, nets: 1, netStats: { txBytes, rxBytes: 0 }, startTime: 0,
  };
}

test('counters become rates per second, gauges stay, and the rows come newest first', () => {
  const s = new RrdStore();
  s.sample(1000, 'h', HOST, [dom(1, 'u1', 10, 0, 0)]);
  s.sample(1005, 'h', HOST, [dom(1, 'u1', 12.5, 100, 5000)]);
  const u = s.updates(0, STEP_S, true);
  const col = (name: string) => u.meta.legend.indexOf(name);
  assert.ok(col('AVERAGE:host:h:cpu_avg') >= 0);
  assert.deepEqual(u.data.map((r) => r.t), [1005, 1000]);
  const last = u.data[0]!.values;
  assert.equal(last[col('AVERAGE:vm:u1:cpu0')], 0.5);
  assert.equal(last[col('AVERAGE:vm:u1:vbd_read')], (100 * 512) / 5);
  assert.equal(last[col('AVERAGE:vm:u1:vif_tx')], 1000);
  assert.equal(last[col('AVERAGE:vm:u1:memory')], 32 * 2 ** 20);
  // Only rows after start; without host=true, no host columns.
  assert.deepEqual(s.updates(1000, STEP_S, false).data.map((r) => r.t), [1005]);
  assert.ok(s.updates(0, STEP_S, false).meta.legend.every((l) => !l.includes(':host:')));
});

test('each disk and vif has its own sources, named as xcp-rrdd names them, in bytes per second', () => {
  const s = new RrdStore();
  const devices = (rd: number, tx: number) => [{ domid: 1, name: 'd1', vbds: [{ vdev: 'xvda', readBytes: rd, writeBytes: 0 }, { vdev: 'xvdb', readBytes: 0, writeBytes: 2 * rd }],
    vifs: [{ devid: 0, txBytes: tx, rxBytes: 0 }, { devid: 3, txBytes: 0, rxBytes: tx / 2 }] }];
  s.sample(1000, 'h', HOST, [dom(1, 'u1', 0, 0, 0)], devices(0, 0));
  s.sample(1005, 'h', HOST, [dom(1, 'u1', 0, 0, 0)], devices(5000, 500));
  const u = s.updates(0, STEP_S, false);
  const last = u.data[0]!.values;
  const at = (name: string) => last[u.meta.legend.indexOf(`AVERAGE:vm:u1:${name}`)];
  assert.deepEqual(['vbd_xvda_read', 'vbd_xvda_write', 'vbd_xvdb_read', 'vbd_xvdb_write', 'vif_0_tx', 'vif_0_rx', 'vif_3_tx', 'vif_3_rx'].map(at),
    [1000, 0, 0, 2000, 100, 0, 0, 50]);
  // A device that appears starts its source at the next sample (a rate needs two).
  s.sample(1010, 'h', HOST, [dom(1, 'u1', 0, 0, 0)], [{ ...devices(5000, 500)[0]!, vifs: [{ devid: 7, txBytes: 9, rxBytes: 9 }] }]);
  assert.ok(!s.updates(0, STEP_S, false).meta.legend.includes('AVERAGE:vm:u1:vif_7_tx'));
});

test('each archive is a bounded ring; a coarser one averages its steps; a VM that is gone loses its sources', () => {
  const s = new RrdStore();
  const rows = ARCHIVES[0].rows;
  for (let i = 0; i < rows * 3; i++) s.sample(3600 + i * STEP_S, 'h', { ...HOST, cpuAvg: i % 2 }, [dom(1, 'u1', i, 0, 0)]);
  const fine = s.updates(0, STEP_S, true);
  assert.equal(fine.data.length, rows);
  const minute = s.updates(0, 60, true);
  assert.equal(minute.meta.step, 60);
  const col = minute.meta.legend.indexOf('AVERAGE:host:h:cpu_avg');
  for (const r of minute.data.slice(0, -1)) assert.equal(r.values[col], 0.5);
  const before = s.sources;
  s.sample(3600 + rows * 3 * STEP_S, 'h', HOST, []);
  assert.equal(s.sources, 3, `${before} sources, then only the host's`);
});
