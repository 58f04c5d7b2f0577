// Disks compared through the whole block path in rounds (the qcow2 and vhd benches): each round
// runs every load once on each of its disks, back to back, the order reversed every other round,
// so that the machine's drift between rounds falls on all of them alike. A load's figures are
// each disk's median round (by IOPS) and, for each disk against the load's first (raw, or the
// chain of one):
// - `ratio`: the median of the rounds' own ratios (of the middle two with an even count), what the goals are judged on (a burst of load
//   that hit one side of one round moves it least);
// - `ratio_of_sums`: the disk's IOPS summed over the rounds over the reference's, the figure of
//   one long run (every round weighs by its length, a stalled one too);
// - `round_ratios`, sorted: the spread, and `iqr`, its middle half (the quartiles).
// A first round, run as the others, is left out of the figures: the guests' kernel image, the
// JIT and the files' metadata are warm for every measured round alike.
import { medianPoint, type Point } from './blkbench.js';
import { percentile } from './harness.js';

export interface Load {
  readonly name: string;
  /** The disks by name, the reference first: each runs the load once a round and gives its result. */
  readonly disks: Readonly<Record<string, (round: number) => Promise<Point>>>;
}

export type Figures = Record<string, Record<string, Point | Ratio | number | number[]>>;

export interface Ratio {
  readonly ratio: number;
  readonly ratio_of_sums: number;
  readonly round_ratios: number[];
  readonly iqr: [number, number];
}

/** `loads` (those named in `only`, all if it is empty) in `repeat` rounds; figures by load name. */
export async function compareInRounds(loads: readonly Load[], repeat: number, only: readonly string[] = []): Promise<Figures> {
  const unknown = only.filter((n) => !loads.some((l) => l.name === n));
  if (unknown.length > 0) throw new Error(`--loads: no load ${unknown.join(', ')} (known: ${loads.map((l) => l.name).join(', ')})`);
  const chosen = loads.filter((l) => only.length === 0 || only.includes(l.name));
  const points = new Map(chosen.map((l) => [l, Object.fromEntries(Object.keys(l.disks).map((d) => [d, [] as Point[]]))]));
  // Round -1 is the warm-up, its results dropped.
  for (let r = -1; r < repeat; r++) {
    for (const load of chosen) {
      const names = Object.keys(load.disks);
      const got: Record<string, Point> = {};
      for (const d of r % 2 === 0 ? names : [...names].reverse()) got[d] = await load.disks[d]!(r);
      if (r >= 0) for (const d of names) points.get(load)![d]!.push(got[d]!);
      process.stderr.write(`${r < 0 ? 'warm-up round' : `round ${r + 1}/${repeat}`} ${load.name}: ${names.map((d) => `${d} ${got[d]!.iops}`).join(', ')} IOPS\n`);
    }
  }
  return Object.fromEntries(chosen.map((load) => {
    const byDisk = points.get(load)!;
    const [ref, ...others] = Object.keys(load.disks);
    const out: Record<string, Point | Ratio | number | number[]> = Object.fromEntries(Object.entries(byDisk).map(([d, p]) => [d, medianPoint(p)]));
    for (const d of others) {
      const ratio = ratioOf(byDisk[ref!]!, byDisk[d]!);
      // With one disk against the reference its ratios stand at the load's top level.
      if (others.length === 1) Object.assign(out, ratio);
      else out[`ratio_${d}_to_${ref}`] = ratio;
    }
    return [load.name, out];
  }));
}

/** `disk` against `ref`, round by round. */
export function ratioOf(ref: readonly Point[], disk: readonly Point[]): Ratio {
  return roundRatio(ref.map((p) => p.iops), disk.map((p) => p.iops));
}

/** Round by round, `ours[i]` against `ref[i]` (any figure where more is better). */
export function roundRatio(ref: readonly number[], ours: readonly number[]): Ratio {
  const rounds = ref.map((r, i) => ours[i]! / r).sort((a, b) => a - b);
  const sum = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);
  const mid = rounds.length >> 1;
  const median = rounds.length % 2 === 1 ? rounds[mid]! : (rounds[mid - 1]! + rounds[mid]!) / 2;
  return { ratio: median, ratio_of_sums: sum(ours) / sum(ref), round_ratios: rounds, iqr: [percentile(rounds, 25), percentile(rounds, 75)] };
}

/** For each load named in `goals`, whether its ratio reached the goal (left out: the load did not run). */
export function goalsMet(figures: Figures, goals: Readonly<Record<string, number>>): Record<string, { goal: number; met: boolean }> {
  return Object.fromEntries(Object.entries(goals).filter(([name]) => figures[name]).map(([name, goal]) => [name, { goal, met: (figures[name]!['ratio'] as number) >= goal }]));
}
