// xenbus for split drivers, against an in-process xenstored: the paths of both ends, state
// nodes read strictly (anything not a state is Unknown), a state watch that reports in order
// and stops, and integers and flags the other end wrote, checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XenbusState } from '../../../src/abi/xenbus.js';
import { backendPath, frontendPath, parseUint, readFlag, readState, readUint, switchState, watchState, } from '../../../src/drivers/xenbus.js';
import { isXenError } from '../../../src/errors.js';
import { XenstoreClient } from '../../../src/xenstore/client/client.js';
import { connectLocal } from '../../../src/xenstore/client/transport.js';
import { Xenstored } from '../../../src/xenstore/server/daemon.js';
import { within } from '../../support/hypervisor.js';
function store(t) {
    const xs = new XenstoreClient(connectLocal(new Xenstored(), 0));
    t.after(() => xs.close());
    return xs;
}
test('frontend and backend directories are where Xen puts them', () => {
    assert.equal(frontendPath(7, 'vbd', 51712), '/local/domain/7/device/vbd/51712');
    assert.equal(backendPath(0, 'vif', 7, 1), '/local/domain/0/backend/vif/7/1');
    assert.equal(backendPath(3, 'vbd', 7, 768), '/local/domain/3/backend/vbd/7/768');
});
test('readState: a state written by switchState; Unknown when absent or not a state', async (t) => {
    const xs = store(t);
    const dir = frontendPath(1, 'vbd', 768);
    assert.equal(await readState(xs, dir), XenbusState.Unknown);
    await switchState(xs, dir, XenbusState.Initialised);
    assert.equal(await xs.read(`${dir}/state`), '3');
    assert.equal(await readState(xs, dir), XenbusState.Initialised);
    for (const junk of ['banana', '99', '', ' 4', '4x']) {
        await xs.write(`${dir}/state`, junk);
        assert.equal(await readState(xs, dir), XenbusState.Unknown, JSON.stringify(junk));
    }
});
test('watchState reports the current state, then every change in order, until stopped', async (t) => {
    const xs = store(t);
    const dir = backendPath(0, 'vbd', 1, 768);
    await switchState(xs, dir, XenbusState.InitWait);
    const seen = [];
    let wake = null;
    const errors = [];
    const stop = await watchState(xs, dir, (s) => {
        seen.push(s);
        wake?.();
    }, (e) => errors.push(e));
    const until = (n) => within(new Promise((resolve) => {
        wake = () => seen.length >= n && resolve();
        wake();
    }), `${n} states`);
    await until(1);
    assert.deepEqual(seen, [XenbusState.InitWait]);
    await switchState(xs, dir, XenbusState.Connected);
    await until(2);
    await switchState(xs, dir, XenbusState.Closing);
    await until(3);
    assert.deepEqual(seen, [XenbusState.InitWait, XenbusState.Connected, XenbusState.Closing]);
    await stop();
    await switchState(xs, dir, XenbusState.Closed);
    await xs.read(`${dir}/state`); // a round trip: a watch event would have been delivered by now
    assert.equal(seen.length, 3, 'nothing after stop');
    assert.deepEqual(errors, []);
});
test('a handler that throws goes to onError, and later changes are still reported', async (t) => {
    const xs = store(t);
    const dir = frontendPath(2, 'vif', 0);
    await switchState(xs, dir, XenbusState.Initialising);
    const seen = [];
    const errors = [];
    let check = () => { };
    const until = (cond, what) => within(new Promise((resolve) => {
        check = () => cond() && resolve();
        check();
    }), what);
    const stop = await watchState(xs, dir, (s) => {
        seen.push(s);
        check();
        if (s === XenbusState.Initialising)
            throw new Error('boom');
    }, (e) => {
        errors.push(e.message);
        check();
    });
    t.after(stop);
    await until(() => errors.length === 1, 'the error');
    await switchState(xs, dir, XenbusState.Connected);
    await until(() => seen.includes(XenbusState.Connected), 'Connected');
    assert.deepEqual(errors, ['boom']);
    assert.deepEqual(seen, [XenbusState.Initialising, XenbusState.Connected]);
});
test('readUint: the value, the default when absent, ENOENT without one, EINVAL beyond max or not decimal', async (t) => {
    const xs = store(t);
    await xs.write('/d/n', '4096');
    assert.equal(await readUint(xs, '/d/n', 4096), 4096);
    assert.equal(await readUint(xs, '/d/missing', 10, 3), 3);
    await assert.rejects(readUint(xs, '/d/missing', 10), (e) => isXenError(e, 'ENOENT'));
    await assert.rejects(readUint(xs, '/d/n', 4095), (e) => isXenError(e, 'EINVAL') && /\/d\/n = "4096" is not an integer in 0\.\.4095/.test(e.message));
    for (const bad of ['-1', '0x10', '1e3', '', ' 1', '1.0', '1'.repeat(21)]) {
        assert.throws(() => parseUint(bad, 'v', Number.MAX_SAFE_INTEGER), (e) => isXenError(e, 'EINVAL'), JSON.stringify(bad));
    }
    assert.equal(parseUint('007', 'v', 10), 7);
});
test('readFlag: only "1" is on', async (t) => {
    const xs = store(t);
    assert.equal(await readFlag(xs, '/f/absent'), false);
    for (const [v, on] of [['1', true], ['0', false], ['true', false], ['11', false], [' 1', false]]) {
        await xs.write('/f/x', v);
        assert.equal(await readFlag(xs, '/f/x'), on, JSON.stringify(v));
    }
});
//# sourceMappingURL=xenbus.test.js.map