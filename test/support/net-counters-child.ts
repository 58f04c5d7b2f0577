// Run by test/unit/drivers/net/counters.test.ts as `node --allow-natives-syntax net-counters-child.js`:
// for each byte counter of netback's and netfront's stats, two fresh stats objects, one of them
// counted past 2^31; prints JSON of whether the two still share a hidden class (a field made a
// small integer is generalized to a double by the larger value, and the object's map changes).
import { emptyNetbackStats } from '../../src/drivers/net/back/stats.js';
import type { DriverContext } from '../../src/drivers/evtchn.js';
import { NetDatapath } from '../../src/drivers/net/front/datapath.js';

const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const front = () => new NetDatapath({} as DriverContext, 'vif', () => {}).stats as unknown as Record<string, number>;
const back = () => emptyNetbackStats() as unknown as Record<string, number>;
const out: Record<string, boolean> = {};
for (const [side, make] of [['netback', back], ['netfront', front]] as const) {
  for (const k of ['rxBytes', 'txBytes']) {
    const a = make();
    const b = make();
    b[k] = b[k]! + 2 ** 31 + 1;
    out[`${side}.${k}`] = sameMap(a, b) && Object.is(a[k], 0);
  }
}
process.stdout.write(JSON.stringify(out));
