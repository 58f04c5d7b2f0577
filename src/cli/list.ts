// `xenode list`, the command users run most, defined once as data: commander registers it from
// this spec (domains.ts), and main.ts runs the same action from node:util's parseArgs without
// loading commander and the other subcommands at all, so `xenode list` starts at nearly Node's
// own speed. Anything the quick parse is unsure of goes to commander, which then answers
// exactly as before (help, errors).
import type { Command } from 'commander';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { STATE_DIR_DESCRIPTION, withHost, type StateDirOpts } from './common.js';
import { xlList } from './format.js';

interface ListOpts extends StateDirOpts {
  readonly long?: boolean;
  readonly json?: boolean;
  readonly cpupool?: boolean;
}

/** One option: its commander flags and the parseArgs key it becomes (commander's camelCase name). */
interface OptionSpec {
  readonly flags: string;
  readonly description: string;
  readonly key: keyof ListOpts;
  readonly long: string;
  readonly short?: string;
  readonly takesValue: boolean;
}

const OPTIONS: readonly OptionSpec[] = [
  { flags: '--state-dir <dir>', description: STATE_DIR_DESCRIPTION, key: 'stateDir', long: 'state-dir', takesValue: true },
  { flags: '-l, --long', description: 'the full configuration of each domain, as JSON', key: 'long', long: 'long', short: 'l', takesValue: false },
  { flags: '-c, --cpupool', description: 'the cpupool each domain runs in', key: 'cpupool', long: 'cpupool', short: 'c', takesValue: false },
  { flags: '--json', description: 'the rows as JSON', key: 'json', long: 'json', takesValue: false },
];

export const LIST_NAMES: readonly string[] = ['list', 'li'];

async function list(domains: string[], o: ListOpts): Promise<void> {
  const which = domains.length ? { domains } : {};
  if (!o.long && !o.json) {
    // xl's table needs its columns only: listColumns' reply is a fifth of list's to send and parse.
    const columns = await withHost(o, (ts) => ts.call('listColumns', which));
    process.stdout.write(xlList(columns, { cpupool: o.cpupool === true }));
    return;
  }
  const rows = await withHost(o, (ts) => ts.call('list', { ...which, long: o.long === true }));
  if (o.long) {
    process.stdout.write(`${JSON.stringify(rows.filter((d) => d.config).map((d) => ({ domid: d.domid, config: d.config })), null, 4)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  }
}

export function registerListCommand(program: Command): void {
  const cmd = program.command(LIST_NAMES[0]!)
    .alias(LIST_NAMES[1]!)
    .description("list domains: xl's columns Name ID Mem VCPUs State Time(s)")
    .argument('[domain...]', 'only these domains, by name or id');
  for (const o of OPTIONS) cmd.option(o.flags, o.description);
  cmd.action((domains: string[], o: ListOpts) => list(domains, o));
}

/**
 * `list ARGS` as commander would parse them, if they are plainly ones it accepts; undefined for
 * help, unknown options or anything else parseArgs refuses (commander then answers).
 */
export function parseListArgs(args: readonly string[]): { domains: string[]; opts: ListOpts } | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(OPTIONS.map((o) => [o.long, { type: o.takesValue ? 'string' : 'boolean', ...(o.short && { short: o.short }) }])),
    });
  } catch {
    return undefined;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const opts: Record<string, string | boolean> = {};
  for (const o of OPTIONS) {
    const v = values[o.long];
    if (v !== undefined) opts[o.key] = v;
  }
  return { domains: parsed.positionals, opts };
}

/** Run `list ARGS` without commander; false (nothing done) if parseListArgs leaves them to commander. */
export async function quickList(args: readonly string[]): Promise<boolean> {
  const p = parseListArgs(args);
  if (p === undefined) return false;
  // A process that lives a few milliseconds gains nothing from V8's optimizing compilers: with
  // 1,000 domains they compiled the table's helpers on a second thread for as long as the
  // table took (docs/PERFORMANCE.md). Set before the work; other commands (the host daemon
  // among them) never come here.
  setFlagsFromString('--no-turbofan');
  setFlagsFromString('--no-maglev');
  await list(p.domains, p.opts);
  return true;
}
