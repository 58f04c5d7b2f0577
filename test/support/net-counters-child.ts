// Run by test/unit/drivers/net/counters.test.ts as `node --allow-natives-syntax net-counters-child.js`:
// for each byte counter of netback's and netfront's stats and a switch port's counters, two fresh stats objects, one of them
// counted past 2^31; prints JSON of whether the two still share a hidden class (a field made a
// small integer is generalized to a double by the larger value, and the object's map changes).
import { emptyNetbackStats } from '../../src/drivers/net/back/stats.js';
import type { DriverContext } from '../../src/drivers/evtchn.js';
import { NetDatapath } from '../../src/drivers/net/front/datapath.js';
import { BridgePort, type PortMode } from '../../src/network/bridge.js';
import type { PortDevice } from '../../src/network/port.js';

const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const front = () => new NetDatapath({} as DriverContext, 'vif', () => {}).stats as unknown as Record<string, number>;
const back = () => emptyNetbackStats() as unknown as Record<string, number>;
const port = () => new BridgePort({} as never, {} as PortDevice, { mac: null } as unknown as PortMode, () => {}).counters as unknown as Record<string, number>;
const out: Record<string, boolean> = {};
for (const [side, make, keys] of [['netback', back, ['rxBytes', 'txBytes']], ['netfront', front, ['rxBytes', 'txBytes']], ['bridge port', port, ['bytesIn', 'bytesOut']]] as const) {
  for (const k of keys) {
    const a = make();
    const b = make();
    b[k] = b[k]! + 2 ** 31 + 1;
    out[`${side}.${k}`] = sameMap(a, b) && Object.is(a[k], 0);
  }
}
process.stdout.write(JSON.stringify(out));
