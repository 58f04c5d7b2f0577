// bridge= values as vif-openvswitch spells them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeSpec } from '../../../src/network/bridgespec.js';
import { isXenError } from '../../../src/errors.js';
test('NAME, NAME.TAG, NAME:TRUNKS and NAME.TAG:TRUNKS', () => {
    assert.deepEqual(parseBridgeSpec('xenbr0'), { bridge: 'xenbr0', tag: 0, trunks: [] });
    assert.deepEqual(parseBridgeSpec('xenbr0.20'), { bridge: 'xenbr0', tag: 20, trunks: [] });
    assert.deepEqual(parseBridgeSpec('br-lan:10:20'), { bridge: 'br-lan', tag: 0, trunks: [10, 20] });
    assert.deepEqual(parseBridgeSpec('xenbr1.4094:1:30:1'), { bridge: 'xenbr1', tag: 4094, trunks: [1, 30] });
    // The access VLAN is the untagged one; listing it as a trunk too changes nothing.
    assert.deepEqual(parseBridgeSpec('xenbr1.5:5:6'), { bridge: 'xenbr1', tag: 5, trunks: [6] });
});
test('VLANs outside 1..4094 and bad names are refused', () => {
    for (const bad of ['xenbr0.0', 'xenbr0.4095', 'xenbr0.99999', 'xenbr0:0', 'xenbr0:4095', 'xenbr0.', 'xenbr0.1.2', 'xenbr0:',
        '', '.5', 'a b', 'thisnameistoolong', 'br/0', 'xenbr0.-1', 'xenbr0.0x10']) {
        assert.throws(() => parseBridgeSpec(bad), (e) => isXenError(e, 'EINVAL'), bad);
    }
});
//# sourceMappingURL=bridgespec.test.js.map