// `xenode top`: a live view of the host's domains, as xentop shows it. On a terminal it
// redraws in place and q quits; with -b (or when stdout is not a terminal) it prints one frame
// after another, as xentop -b; --json prints one JSON object per refresh. `xenode device-stats`
// prints the counters of each disk and vif dom0 serves (what xentop -x and -n add per domain,
// and what XenAPI's per-VBD and per-VIF data sources are sampled from).
import type { Command } from 'commander';
import { styleText } from 'node:util';
import type { DomainDeviceStats, Toolstack } from '../toolstack/contract.js';
import { withHost, withStateDir, type StateDirOpts } from './common.js';
import { cpuPercents, xentopFrame, xentopHeader, type TopSample } from './format.js';

export interface TopOptions {
  /** Seconds between refreshes. */
  readonly delay: number;
  /** Stop after this many refreshes (xentop -i); forever when absent. */
  readonly iterations?: number;
  readonly batch?: boolean;
  readonly json?: boolean;
}

async function sample(ts: Toolstack): Promise<TopSample> {
  const [host, domains] = await Promise.all([ts.call('info', {}), ts.call('list', {})]);
  return { time: Date.now(), host, domains };
}

/** Run the view until its iterations are done or the user quits. */
export async function top(ts: Toolstack, o: TopOptions): Promise<void> {
  const live = !o.batch && !o.json && process.stdout.isTTY === true;
  let quit!: () => void;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  const onKey = (b: Buffer) => {
    // q, Q, Esc as xentop; Ctrl-C too, since raw mode turns it into a byte.
    if (b.some((c) => c === 0x71 || c === 0x51 || c === 0x1b || c === 0x03)) quit();
  };
  if (live && process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey).resume();
  }
  let prev: TopSample | undefined;
  try {
    for (let i = 0; o.iterations === undefined || i < o.iterations; i++) {
      if (i > 0) {
        let timer: NodeJS.Timeout | undefined;
        const stop = await Promise.race([quitting.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), o.delay * 1000)))]);
        clearTimeout(timer);
        if (stop) break;
      }
      const cur = await sample(ts);
      process.stdout.write(o.json ? jsonFrame(cur, prev) : textFrame(cur, prev, live));
      prev = cur;
    }
  } finally {
    if (live && process.stdin.isTTY) {
      process.stdin.off('data', onKey).pause();
      process.stdin.setRawMode(false);
    }
  }
}

function jsonFrame(cur: TopSample, prev: TopSample | undefined): string {
  const pct = cpuPercents(cur, prev);
  return `${JSON.stringify({ ...cur, domains: cur.domains.map((d) => ({ ...d, cpuPercent: pct.get(d.domid) })) })}\n`;
}

function textFrame(cur: TopSample, prev: TopSample | undefined, live: boolean): string {
  const { summary, rows } = xentopFrame(cur, prev);
  if (!live) return `${summary}${xentopHeader()}\n${rows.map((r) => `${r}\n`).join('')}`;
  // Clear and draw from the top; rows that do not fit the terminal are left out, as in xentop.
  const room = Math.max(0, (process.stdout.rows || 24) - summary.split('\n').length - 1);
  return `\x1b[H\x1b[2J${summary}${styleText('inverse', xentopHeader())}\n${rows.slice(0, room).join('\n')}`;
}

export function registerTopCommand(program: Command): void {
  withStateDir(program.command('top'))
    .description("a live view of the host's domains, like xentop (q quits)")
    .option('-d, --delay <seconds>', 'seconds between updates', '3')
    .option('-i, --iterations <n>', 'number of updates before exiting')
    .option('-b, --batch', 'print frames one after another, without redrawing')
    .option('--json', 'one JSON object per update')
    .action(async (o: StateDirOpts & { delay: string; iterations?: string; batch?: boolean; json?: boolean }) => {
      const delay = Number(o.delay);
      if (!(delay > 0)) throw new Error(`--delay wants a positive number of seconds, not '${o.delay}'`);
      const iterations = o.iterations === undefined ? undefined : Number(o.iterations);
      if (iterations !== undefined && !(Number.isInteger(iterations) && iterations > 0)) {
        throw new Error(`--iterations wants a positive whole number, not '${o.iterations}'`);
      }
      await withHost(o, (ts) => top(ts, { delay, batch: o.batch === true, json: o.json === true, ...(iterations && { iterations }) }));
    });
}

/** One row per disk and vif: domain, device, bytes read (received) and written (sent). */
export function deviceStatsTable(stats: readonly DomainDeviceStats[]): string {
  const rows = stats.flatMap((d) => [
    ...d.vbds.map((b) => [d.name, String(d.domid), `vbd ${b.vdev}`, String(b.readBytes), String(b.writeBytes)]),
    ...d.vifs.map((v) => [d.name, String(d.domid), `vif ${v.devid}`, String(v.rxBytes), String(v.txBytes)]),
  ]);
  const line = (r: readonly string[]) => `${r[0]!.padEnd(32)} ${r[1]!.padStart(5)} ${r[2]!.padEnd(10)} ${r[3]!.padStart(16)} ${r[4]!.padStart(16)}\n`;
  return line(['Name', 'ID', 'Device', 'Read/RX bytes', 'Write/TX bytes']) + rows.map(line).join('');
}

export function registerDeviceStatsCommand(program: Command): void {
  withStateDir(program.command('device-stats'))
    .description("each disk's and vif's byte counters, of the domains whose devices dom0 serves (xentop -x -n, per device)")
    .option('--json', 'the counters as JSON')
    .action(async (o: StateDirOpts & { json?: boolean }) => {
      const stats = await withHost(o, (ts) => ts.call('deviceStats', {}));
      process.stdout.write(o.json ? `${JSON.stringify(stats)}\n` : deviceStatsTable(stats));
    });
}
