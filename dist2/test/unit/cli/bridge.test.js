// `xenode bridge-list`'s text, from the API's result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBridgeList } from '../../../src/cli/bridge.js';
import { bridgeInfos, linkInfo } from '../../../src/network/info.js';
import { Switch } from '../../../src/network/switch.js';
import { Sink, ethFrame, plain } from '../../support/switch.js';
test('ports with their VLANs, MACs and counters; learned MACs; links', async (t) => {
    const sw = new Switch();
    t.after(() => sw.close());
    const p = sw.plug(new Sink('vif1.0'), { bridge: 'xenbr0', mac: '00:16:3e:00:00:01' });
    sw.plug(new Sink('vif2.0'), { bridge: 'xenbr0.20:30:40' });
    sw.bridge('empty');
    p.input(ethFrame('ff:ff:ff:ff:ff:ff', '00:16:3e:00:00:01'), plain);
    p.input(ethFrame('ff:ff:ff:ff:ff:ff', '00:16:3e:00:00:02'), plain);
    const link = await sw.link('xenbr0', { address: '127.0.0.1', port: 4790 }, { local: { address: '127.0.0.1', port: 0 } });
    const text = formatBridgeList(bridgeInfos(sw), [linkInfo(link)]);
    const lines = text.split('\n');
    assert.match(lines[0], /^bridge name +port +tag +trunks +mac +rx-frames +tx-frames +rx-drops +tx-drops$/);
    assert.match(lines[1], /^xenbr0 +vif1\.0 +- +- +00:16:3e:00:00:01 +2 +0 +1 +0$/);
    assert.match(lines[2], /^ +vif2\.0 +20 +30,40 +any +0 +0 +0 +0$/);
    assert.match(lines[3], /^ +vxlan0 +- +all +any +0 +0 +0 +0$/);
    assert.equal(lines[4], 'empty');
    assert.match(text, /^xenbr0: vlans untagged,20,30,40; forwarded 0, flooded 1; dropped: spoofed 1, vlan 0, malformed 0, link-local 0; macs 1 \(not learned: 0\)$/m);
    assert.match(text, /^vif1\.0 +- +00:16:3e:00:00:01 +0s$/m);
    assert.match(text, /^vxlan0 +xenbr0 +127\.0\.0\.1:\d+ +127\.0\.0\.1:4790 +1048576$/m);
});
//# sourceMappingURL=bridge.test.js.map