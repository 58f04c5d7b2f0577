// Output formats of xl and xentop, column for column (tools/xl/xl_info.c, tools/xentop/xentop.c),
// so that scripts that read xl's output read xenode's. Pure functions of API results.
import type { DiskDevice, DomainColumns, DomainInfo, HostEvent, HostEventBody, HostInfo, NicDevice } from '../toolstack/contract.js';

const padEnd = (s: string | number, n: number) => String(s).padEnd(n);
const padStart = (s: string | number, n: number) => String(s).padStart(n);

const XL_LIST_HEADER = 'Name                                        ID   Mem VCPUs\tState\tTime(s)';
const SPACE = 0x20;

/**
 * xl list, as the bytes to write; `cpupool` adds xl list -c's Cpupool column (printf("%16s", ...)).
 * Written into a buffer of spaces, so a field's padding is a skip: with 1,000 domains a string
 * per field (and their join) was most of a fresh `xenode list` process's own CPU, two scavenges
 * and the optimizing compiler's work included (docs/PERFORMANCE.md).
 */
export function xlList(c: DomainColumns, opts: { cpupool?: boolean } = {}): Buffer {
  const n = c.domid.length;
  // Room for every row at its columns' widths; a longer field (a name past 40 or not ASCII, a
  // huge number) may make the buffer grow.
  const width = opts.cpupool ? 96 : 80;
  let b: Buffer = Buffer.alloc(512 + n * width, SPACE);
  let o = put(b, 0, XL_LIST_HEADER);
  if (opts.cpupool) o += 9 + put(b, o + 9, 'Cpupool');
  b[o++] = 0x0a;
  for (let i = 0; i < n; i++) {
    const name = c.name[i]!;
    const state = c.state[i]!;
    const pool = opts.cpupool ? c.pool[i]! : '';
    // At most: the minimum widths (40 and 16 among them), four numbers of up to 24 characters
    // each, the strings in UTF-8.
    const most = 176 + 3 * (name.length + state.length + pool.length);
    if (b.length - o < most) b = grown(b, o, most + (n - i) * width);
    // printf("%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f")
    o = left(b, o, name, 40) + 1;
    o = right(b, o, `${c.domid[i]!}`, 5) + 1;
    o = right(b, o, `${Math.floor(c.memoryKiB[i]! / 1024)}`, 5) + 1;
    o = right(b, o, `${c.vcpus[i]!}`, 5) + 5;
    o += put(b, o, state) + 2;
    o = right(b, o, c.cpuSeconds[i]!.toFixed(1), 8);
    if (opts.cpupool) o = right(b, o, pool, 16);
    b[o++] = 0x0a;
  }
  return b.subarray(0, o);
}

/** `s` at b[o], left-aligned in `width` (the spaces are there): where the field ends. */
function left(b: Buffer, o: number, s: string, width: number): number {
  const end = o + put(b, o, s);
  return s.length < width ? end + width - s.length : end;
}

/** `s` right-aligned in `width` from b[o]: where the field ends. */
function right(b: Buffer, o: number, s: string, width: number): number {
  const at = s.length < width ? o + width - s.length : o;
  return at + put(b, at, s);
}

/**
 * `s` as UTF-8 at b[o]; the bytes written. ASCII byte by byte: buf.write's checks of its
 * arguments cost more than a short field (2 against 7 ms for 1,000 rows).
 */
function put(b: Buffer, o: number, s: string): number {
  for (let k = 0; k < s.length; k++) {
    const ch = s.charCodeAt(k);
    if (ch > 0x7f) return b.write(s, o);
    b[o + k] = ch;
  }
  return s.length;
}

/** A larger buffer of spaces holding b's first `used` bytes. */
function grown(b: Buffer, used: number, more: number): Buffer {
  const to = Buffer.alloc(used + more, SPACE);
  b.copy(to, 0, 0, used);
  return to;
}

/** xl's uptime_to_string: "[D day[s], ]HH:MM:SS", or without seconds in short mode. */
export function uptimeString(seconds: number, short = false): string {
  let s = Math.max(0, Math.floor(seconds));
  const day = Math.floor(s / 86400);
  s -= day * 86400;
  const hour = Math.floor(s / 3600);
  s -= hour * 3600;
  const min = Math.floor(s / 60);
  s -= min * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = short ? `${padStart(hour, 2)}:${two(min)}` : `${padStart(hour, 2)}:${two(min)}:${two(s)}`;
  return day > 1 ? `${day} days, ${clock}` : day === 1 ? `${day} day, ${clock}` : clock;
}

function clockTime(ms: number): string {
  const t = new Date(ms);
  return [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** xl uptime [-s]: Domain-0's uptime is the host's. */
export function xlUptime(domains: readonly DomainInfo[], now: number, short = false): string {
  let out = short ? '' : `${padEnd('Name', 33)} ${padStart('ID', 4)} Uptime\n`;
  for (const d of domains) {
    const up = (now - d.startTime) / 1000;
    out += short
      ? ` ${clockTime(now)} up ${uptimeString(up, true)}, ${d.name} (${d.domid})\n`
      : `${padEnd(d.name, 33)} ${padStart(d.domid, 4)} ${uptimeString(up)}\n`;
  }
  return out;
}

/** xl info: "key<padding>: value", keys in xl's order; `only` prints just that key's value (xl info KEY). */
export function xlInfo(h: HostInfo, only?: string): string {
  const [major = '0', minor = '0', ...extra] = h.xenodeVersion.split('.');
  const rows: [string, string | number][] = [
    ['host', h.host], ['release', h.release], ['version', h.version], ['machine', h.machine],
    ['nr_cpus', h.nrCpus], ['max_cpu_id', h.nrCpus - 1], ['nr_nodes', 1], ['cores_per_socket', h.nrCpus],
    ['threads_per_core', 1], ['cpu_mhz', `${h.cpuMhz}.000`], ['virt_caps', ''],
    ['total_memory', h.totalMemoryMiB], ['free_memory', h.freeMemoryMiB], ['sharing_freed_memory', 0],
    ['sharing_used_memory', 0], ['outstanding_claims', 0], ['free_cpus', 0],
    ['xen_major', major], ['xen_minor', minor], ['xen_extra', extra.length ? `.${extra.join('.')}` : ''],
    ['xen_version', h.xenodeVersion], ['xen_caps', `xenode-pv-${h.machine}`], ['xen_scheduler', 'os-threads'],
    ['xen_pagesize', h.pageSize], ['platform_params', 'virt_start=0x0'], ['xen_changeset', ''],
    ['xen_commandline', h.commandline], ['cc_compiler', `node ${h.nodeVersion}`], ['xend_config_format', 4],
  ];
  if (only !== undefined) return rows.filter(([k]) => k.startsWith(only)).map(([, v]) => `${v}\n`).join('');
  // virt_caps is printed as ":%s%s%s" in xl: no space before an empty list.
  return rows.map(([k, v]) => (k === 'virt_caps' ? `${padEnd(k, 23)}:${v}\n` : `${padEnd(k, 23)}: ${v}\n`)).join('');
}

/** What `xenode top` samples each refresh. */
export interface TopSample {
  /** ms since the epoch. */
  readonly time: number;
  readonly host: HostInfo;
  readonly domains: readonly DomainInfo[];
}

/** CPU(%) of each domain between two samples (0 without an earlier sample, as xentop). */
export function cpuPercents(cur: TopSample, prev: TopSample | undefined): Map<number, number> {
  const out = new Map<number, number>();
  const before = new Map(prev?.domains.map((d) => [d.domid, d.cpuSeconds]));
  const elapsed = prev ? (cur.time - prev.time) / 1000 : 0;
  for (const d of cur.domains) {
    const was = before.get(d.domid);
    out.set(d.domid, was === undefined || elapsed <= 0 ? 0 : Math.max(0, ((d.cpuSeconds - was) / elapsed) * 100));
  }
  return out;
}

/** xentop's state letters: d s b c p r, from xl list's r b p s <reason> d. */
export function xentopState(xlState: string): string {
  const has = (i: number, ch: string) => (xlState[i] === ch ? ch : '-');
  return has(5, 'd') + has(3, 's') + has(1, 'b') + has(4, 'c') + has(2, 'p') + has(0, 'r');
}

const TOP_COLUMNS: readonly [string, number][] = [
  ['NAME', 10], ['STATE', 6], ['CPU(sec)', 10], ['CPU(%)', 6], ['MEM(k)', 10], ['MEM(%)', 6], ['MAXMEM(k)', 10],
  ['MAXMEM(%)', 9], ['VCPUS', 5], ['NETS', 4], ['NETTX(k)', 8], ['NETRX(k)', 8], ['VBDS', 4], ['VBD_OO', 8],
  ['VBD_RD', 8], ['VBD_WR', 8], ['VBD_RSECT', 10], ['VBD_WSECT', 10], ['SSID', 4],
];

/** The column header line; `style` marks it up (xentop shows it in reverse video). */
export function xentopHeader(): string {
  return TOP_COLUMNS.map(([h, w]) => padStart(h, w)).join(' ');
}

/** xl block-list. */
export function xlBlockList(domid: number, disks: readonly DiskDevice[]): string {
  // printf("%-5d %-3d %-6d %-5d %-6d %-8d %-30s\n", devid, backend_id, frontend_id, state, evtch, rref, backend)
  return disks.map((d) => `${[padEnd(d.devid, 5), padEnd(d.backendId, 3), padEnd(domid, 6), padEnd(d.state, 5),
    padEnd(d.eventChannel ?? -1, 6), padEnd(d.ringRef ?? -1, 8), padEnd(d.backendPath, 30)].join(' ')}\n`).join('');
}

export const XL_BLOCK_LIST_HEADER = `${['Vdev', 'BE', 'handle', 'state', 'evt-ch', 'ring-ref', 'BE-path'].map((h, i) => padEnd(h, [5, 3, 6, 5, 6, 8, 30][i]!)).join(' ')}\n`;

/** xl network-list's rows (xl_vif.c's printf formats). */
export function xlNetworkList(nics: readonly NicDevice[]): string {
  // printf("%-3d %-2d ", devid, backend_id); the MAC; printf("%6d %5d %6d %5d/%-11d %-30s\n", ...)
  return nics.map((n) => `${padEnd(n.devid, 3)} ${padEnd(n.backendId, 2)} ${n.mac}${padStart(n.handle, 6)}${padStart(n.state, 6)}` +
    `${padStart(n.eventChannel ?? -1, 7)}${padStart(n.txRingRef ?? -1, 6)}/${padEnd(n.rxRingRef ?? -1, 11)} ${padEnd(n.backendPath, 30)}\n`).join('');
}

/** printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path") */
export const XL_NETWORK_LIST_HEADER = `${padEnd('Idx', 3)} ${padEnd('BE', 2)} ${padEnd('Mac Addr.', 17)} ${padEnd('handle', 6)} ${padEnd('state', 5)} ` +
  `${padEnd('evt-ch', 6)} ${padStart('tx-', 5)}/${padEnd('rx-ring-ref', 5)} ${padEnd('BE-path', 30)}\n`;

/**
 * VBD_OO, VBD_RD, VBD_WR, VBD_RSECT, VBD_WSECT: blkback's counters for the disks dom0 serves;
 * '-' for disks without statistics (served by a driver domain), as xentop shows them.
 */
function vbdColumns(d: DomainInfo): string[] {
  const widths = [8, 8, 8, 10, 10] as const;
  const s = d.vbdStats;
  if (!s) return widths.map((w) => padStart(d.vbds ? '-' : 0, w));
  return [s.oo, s.rd, s.wr, s.rsect, s.wsect].map((v, i) => padStart(v, widths[i]!));
}

/** xentop's summary lines and one row per domain (batch mode's frame, without the header). */
export function xentopFrame(cur: TopSample, prev: TopSample | undefined): { summary: string; rows: string[] } {
  const pct = cpuPercents(cur, prev);
  const totalKiB = cur.host.totalMemoryMiB * 1024;
  const freeKiB = cur.host.freeMemoryMiB * 1024;
  const count = { run: 0, block: 0, pause: 0, crash: 0, dying: 0, shutdown: 0 };
  for (const d of cur.domains) {
    // xentop's precedence: the first of these that applies.
    const s = d.state;
    if (s[0] === 'r') count.run++;
    else if (s[1] === 'b') count.block++;
    else if (s[2] === 'p') count.pause++;
    else if (s[3] === 's') count.shutdown++;
    else if (s[4] === 'c') count.crash++;
    else if (s[5] === 'd') count.dying++;
  }
  const summary =
    `xentop - ${clockTime(cur.time)}   Xen ${cur.host.xenodeVersion}\n` +
    `${cur.domains.length} domains: ${count.run} running, ${count.block} blocked, ${count.pause} paused, ` +
    `${count.crash} crashed, ${count.dying} dying, ${count.shutdown} shutdown \n` +
    `Mem: ${totalKiB}k total, ${totalKiB - freeKiB}k used, ${freeKiB}k free    CPUs: ${cur.host.nrCpus} @ ${cur.host.cpuMhz}MHz\n`;
  const rows = cur.domains.map((d) => [
    padStart(d.name.slice(0, 10), 10),
    xentopState(d.state),
    padStart(Math.floor(d.cpuSeconds), 10),
    padStart(pct.get(d.domid)!.toFixed(1), 6),
    padStart(d.memoryKiB, 10),
    padStart(((d.memoryKiB / totalKiB) * 100).toFixed(1), 6),
    d.maxmemKiB === null ? padStart('no limit', 10) : padStart(d.maxmemKiB, 10),
    d.maxmemKiB === null ? padStart('n/a', 9) : padStart(((d.maxmemKiB / totalKiB) * 100).toFixed(1), 9),
    padStart(d.vcpus, 5),
    padStart(d.nets, 4), padStart(Math.floor((d.netStats?.txBytes ?? 0) / 1024), 8), padStart(Math.floor((d.netStats?.rxBytes ?? 0) / 1024), 8),
    padStart(d.vbds, 4), ...vbdColumns(d),
    padStart(0, 4),
  ].join(' '));
  return { summary, rows };
}

/** The event as a sentence, the way dmesg shows it. */
function describeEvent(e: HostEventBody): string {
  switch (e.type) {
    case 'created': return `d${e.domid} '${e.name}': created`;
    case 'destroyed': return `d${e.domid} '${e.name}': destroyed`;
    case 'paused': return `d${e.domid} '${e.name}': paused`;
    case 'unpaused': return `d${e.domid} '${e.name}': unpaused`;
    case 'shutdown': return `d${e.domid} '${e.name}': shut down (${e.reason}); action ${e.action}`;
    case 'restarted': return `d${e.from} '${e.name}': restarted as d${e.domid}`;
    case 'restart-failed': return `d${e.domid} '${e.name}': restart failed: ${e.error}`;
    case 'renamed': return `d${e.domid}: renamed from '${e.from}' to '${e.name}'`;
    case 'message': return e.text;
    case 'host': return `host ${e.state} (pid ${e.pid})`;
  }
}

/** Xen's console timestamp format with console_timestamps=datems: [YYYY-MM-DD HH:MM:SS.mmm]. */
export function dmesgLine(e: HostEvent): string {
  // Each line of a multi-line entry (a debug key's dump) prefixed, as on Xen's console.
  const at = `(XEN) [${e.time.slice(0, 10)} ${e.time.slice(11, 23)}] `;
  return describeEvent(e).split('\n').map((l) => at + l).join('\n');
}
