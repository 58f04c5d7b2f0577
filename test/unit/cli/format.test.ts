// xl's and xentop's output formats, column for column.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XL_BLOCK_LIST_HEADER, XL_NETWORK_LIST_HEADER, xlNetworkList, cpuPercents, uptimeString, xlBlockList, xentopFrame, xentopHeader, xentopState, xlInfo, xlList, xlUptime, type TopSample } from '../../../src/cli/format.js';
import type { DomainInfo, HostInfo } from '../../../src/toolstack/contract.js';
import { columnsOf } from '../../support/columns.js';

const dom0: DomainInfo = { domid: 0, name: 'Domain-0', uuid: '0', state: 'r-----', memoryKiB: 1024 * 1024, maxmemKiB: null, vcpus: 1, cpuSeconds: 12.34, vbds: 0, vbdStats: null, nets: 0, netStats: null, startTime: 0 };
const guest: DomainInfo = { domid: 7, name: 'kv-store', uuid: '1', state: '-b----', memoryKiB: 32 * 1024, maxmemKiB: 100 * 1024, vcpus: 1, cpuSeconds: 0.05, vbds: 1, vbdStats: null, nets: 1, netStats: null, startTime: 1000 };
const host: HostInfo = {
  host: 'h', release: 'r', version: 'v', machine: 'x86_64', nrCpus: 2, cpuMhz: 2400, totalMemoryMiB: 1024, freeMemoryMiB: 512,
  xenodeVersion: '0.1.0', nodeVersion: 'v20', pageSize: 4096, commandline: 'xenode host', startTime: 0, stateDir: null, domains: 2,
};

const table = (rows: readonly DomainInfo[], opts?: { cpupool?: boolean }) => xlList(columnsOf(rows), opts).toString();

test("xl list: xl's header and printf(\"%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f\")", () => {
  assert.equal(table([dom0, guest]),
    'Name                                        ID   Mem VCPUs\tState\tTime(s)\n' +
    'Domain-0                                     0  1024     1     r-----      12.3\n' +
    'kv-store                                     7    32     1     -b----       0.1\n');
  // Wider than its column: printed whole, as printf's minimum widths do.
  const wide = { ...guest, name: 'n'.repeat(45), domid: 123456, cpuSeconds: 123456789.04, pool: 'a-pool-named-at-length' };
  assert.equal(table([wide], { cpupool: true }).split('\n')[1],
    `${'n'.repeat(45)} 123456    32     1     -b----  123456789.0a-pool-named-at-length`);
  assert.equal(table([{ ...guest, pool: 'dense' }], { cpupool: true }).split('\n')[1],
    'kv-store                                     7    32     1     -b----       0.1           dense');
  assert.equal(table([]), 'Name                                        ID   Mem VCPUs\tState\tTime(s)\n');
});

test('xl list: names not in ASCII, fields at their widest, and more rows than the first guess of room', () => {
  // Padded by the name's length in characters, as String.padEnd did; written as UTF-8.
  const utf8 = { ...guest, name: 'gäst-€-😀' };
  assert.equal(table([utf8]).split('\n')[1], `gäst-€-😀${' '.repeat(40 - utf8.name.length)}     7    32     1     -b----       0.1`);
  const huge = { ...guest, name: '€'.repeat(300), domid: Number.MAX_SAFE_INTEGER, memoryKiB: -Number.MAX_VALUE, vcpus: 1e300, cpuSeconds: -Number.MAX_VALUE, state: 'ß'.repeat(50), pool: '€'.repeat(100) };
  assert.equal(table([huge], { cpupool: true }).split('\n')[1],
    `${huge.name} ${huge.domid} ${Math.floor(-Number.MAX_VALUE / 1024)} 1e+300     ${huge.state}  ${-Number.MAX_VALUE}${huge.pool}`);
  // Rows of every width, many: the buffer grows where a row may not fit, and no row is cut.
  const rows = Array.from({ length: 500 }, (_, i) => ({ ...guest, domid: i, name: i % 7 === 0 ? 'ü'.repeat(i % 97) : `g${i}`, pool: i % 5 === 0 ? 'p'.repeat(i % 41) : 'dense' }));
  const lines = table(rows, { cpupool: true }).split('\n');
  assert.equal(lines.length, 502);
  for (const [i, d] of rows.entries()) {
    assert.equal(lines[i + 1], `${d.name.padEnd(40)} ${String(i).padStart(5)}    32     1     -b----       0.1${d.pool.padStart(16)}`);
  }
});

test('uptime strings as xl prints them, long and short', () => {
  assert.equal(uptimeString(59), ' 0:00:59');
  assert.equal(uptimeString(3600 + 62), ' 1:01:02');
  assert.equal(uptimeString(86400 + 5), '1 day,  0:00:05');
  assert.equal(uptimeString(3 * 86400 + 7200), '3 days,  2:00:00');
  assert.equal(uptimeString(3 * 86400 + 7200, true), '3 days,  2:00');
  assert.equal(xlUptime([guest], 1000 + 61_000), 'Name                                ID Uptime\nkv-store                             7  0:01:01\n');
  assert.match(xlUptime([guest], 1000 + 61_000, true), /^ \d\d:\d\d:\d\d up  0:01, kv-store \(7\)\n$/);
});

test('xl info: "%-23s: %s" lines, and a single field on request', () => {
  const text = xlInfo(host);
  assert.match(text, /^host {19}: h\n/);
  assert.match(text, /\nnr_cpus {16}: 2\n/);
  assert.match(text, /\nvirt_caps {14}:\n/);
  assert.match(text, /\nxen_version {12}: 0\.1\.0\n/);
  assert.match(text, /\nxend_config_format {5}: 4\n$/);
  assert.equal(xlInfo(host, 'total_memory'), '1024\n');
});

test('xl block-list: "%-5d %-3d %-6d %-5d %-6d %-8d %-30s"', () => {
  assert.equal(XL_BLOCK_LIST_HEADER, 'Vdev  BE  handle state evt-ch ring-ref BE-path                       \n');
  assert.equal(xlBlockList(3, [{ vdev: 'xvda', devid: 51712, backendId: 0, state: 4, eventChannel: 5, ringRef: 8, backendPath: '/local/domain/0/backend/vbd/3/51712' }]),
    '51712 0   3      4     5      8        /local/domain/0/backend/vbd/3/51712\n');
});

test("xentop: state letters in xentop's order, summary counts, CPU% between samples", () => {
  assert.equal(xentopState('r-----'), '-----r');
  assert.equal(xentopState('---sc-'), '-s-c--');
  assert.equal(xentopState('--p--d'), 'd---p-');
  const a: TopSample = { time: 0, host, domains: [dom0, guest] };
  const b: TopSample = { time: 2000, host, domains: [dom0, { ...guest, cpuSeconds: 1.05 }] };
  assert.equal(cpuPercents(a, undefined).get(7), 0);
  assert.equal(cpuPercents(b, a).get(7), 50);
  const { summary, rows } = xentopFrame(b, a);
  assert.match(summary, /^xentop - \d\d:\d\d:\d\d   Xen 0\.1\.0\n2 domains: 1 running, 1 blocked, 0 paused, 0 crashed, 0 dying, 0 shutdown \n/);
  assert.match(summary, /Mem: 1048576k total, 524288k used, 524288k free    CPUs: 2 @ 2400MHz\n$/);
  assert.equal(xentopHeader().indexOf('STATE'), 12);
  const cols = rows[1]!.trim().split(/ +/);
  assert.deepEqual(cols.slice(0, 9), ['kv-store', '--b---', '1', '50.0', '32768', '3.1', '102400', '9.8', '1']);
  assert.deepEqual(cols.slice(9, 19), ['1', '0', '0', '1', '-', '-', '-', '-', '-', '0']);
  assert.match(rows[0]!, /no limit +n\/a/);
  const served = xentopFrame({ ...b, domains: [b.domains[0]!, { ...b.domains[1]!, vbdStats: { oo: 0, rd: 12, wr: 3, rsect: 96, wsect: 24 } }] }, a);
  assert.deepEqual(served.rows[1]!.trim().split(/ +/).slice(12, 18), ['1', '0', '12', '3', '96', '24'], 'blkback counters in the VBD columns');
  const sent = xentopFrame({ ...b, domains: [b.domains[0]!, { ...b.domains[1]!, netStats: { txBytes: 10 * 1024 + 5, rxBytes: 3 * 1024 } }] }, a);
  assert.deepEqual(sent.rows[1]!.trim().split(/ +/).slice(9, 12), ['1', '10', '3'], "netback's counters in NETS, NETTX(k), NETRX(k)");
});

test('xl network-list: the header and rows as xl_vif.c prints them', () => {
  assert.equal(XL_NETWORK_LIST_HEADER, 'Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       \n');
  const rows = xlNetworkList([
    { devid: 0, backendId: 0, mac: '00:16:3e:57:db:c5', handle: 0, state: 4, eventChannel: undefined, txRingRef: undefined, rxRingRef: undefined, backendPath: '/local/domain/0/backend/vif/2/0' },
    { devid: 1, backendId: 0, mac: '00:16:3e:10:8a:7e', handle: 1, state: 4, eventChannel: 12, txRingRef: 1282, rxRingRef: 1283, backendPath: '/local/domain/0/backend/vif/28/1' },
  ]);
  assert.equal(rows,
    '0   0  00:16:3e:57:db:c5     0     4     -1    -1/-1          /local/domain/0/backend/vif/2/0\n' +
    '1   0  00:16:3e:10:8a:7e     1     4     12  1282/1283        /local/domain/0/backend/vif/28/1\n');
});
