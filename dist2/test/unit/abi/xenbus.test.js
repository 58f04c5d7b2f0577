import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XENBUS_STATE_NAMES, XenbusState, parseXenbusState, xenbusStateName } from '../../../src/abi/xenbus.js';
import { isXenError } from '../../../src/errors.js';
test('states and names', () => {
    assert.equal(XenbusState.Unknown, 0);
    assert.equal(XenbusState.Connected, 4);
    assert.equal(XenbusState.Reconfigured, 8);
    assert.equal(XENBUS_STATE_NAMES.length, 9);
    assert.equal(xenbusStateName(XenbusState.InitWait), 'InitWait');
    assert.throws(() => xenbusStateName(9), (e) => isXenError(e, 'EINVAL'));
});
test('parseXenbusState accepts the decimal form of each state', () => {
    for (let s = 0; s <= 8; s++)
        assert.equal(parseXenbusState(String(s)), s);
    assert.equal(parseXenbusState('04'), XenbusState.Connected);
});
test('parseXenbusState rejects garbage', () => {
    for (const bad of ['', ' 4', '4 ', '4\n', '+4', '-1', '9', '10', '4junk', '0x4', '4.0', 'Connected', '1e0', '0004']) {
        assert.throws(() => parseXenbusState(bad), (e) => isXenError(e, 'EINVAL'), JSON.stringify(bad));
    }
});
//# sourceMappingURL=xenbus.test.js.map