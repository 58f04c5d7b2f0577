// control/shutdown as a guest sees it: the features it advertises, a request acknowledged by
// clearing the node, handed to whoever waits for it or else acted on (Mirage's default).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GuestLifecycle } from '../../../src/guest/lifecycle.js';
/** The guest's own xenstore directory, with the one watch the lifecycle sets. */
class FakeStore {
    nodes = new Map();
    writes = [];
    #watch;
    get client() {
        return {
            write: async (path, value) => {
                this.writes.push([path, value]);
                this.nodes.set(path, value);
            },
            readOptional: async (path) => this.nodes.get(path),
            watch: async (path, cb) => {
                assert.equal(path, 'control/shutdown');
                this.#watch = cb;
                cb(); // a watch fires once when it is set, as xenstored's does
            },
        };
    }
    /** dom0 writes control/shutdown (xl shutdown / reboot) and the watch fires. */
    request(value) {
        this.nodes.set('control/shutdown', value);
        this.#watch();
    }
    fire() {
        this.#watch();
    }
}
/** Let the lifecycle's chain of xenstore calls run to its end. */
const settle = () => new Promise((r) => setImmediate(r));
function lifecycle() {
    const store = new FakeStore();
    const unhandled = [];
    return { store, life: new GuestLifecycle(store.client, (r) => unhandled.push(r)), unhandled };
}
test('start advertises feature-poweroff and feature-reboot, as Linux xenbus does at boot', async () => {
    const { store, life } = lifecycle();
    await life.start();
    assert.equal(store.nodes.get('control/feature-poweroff'), '1');
    assert.equal(store.nodes.get('control/feature-reboot'), '1');
});
test('a request nobody waits for is acknowledged and acted on; halt means poweroff', async () => {
    const { store, life, unhandled } = lifecycle();
    await life.start();
    for (const [value, want] of [['poweroff', 'poweroff'], ['halt', 'poweroff'], ['reboot', 'reboot'], ['suspend', 'suspend']]) {
        store.request(value);
        await settle();
        assert.equal(store.nodes.get('control/shutdown'), '', `${value} acknowledged by clearing the node`);
        assert.equal(unhandled.at(-1), want);
    }
    assert.equal(unhandled.length, 4);
});
test('a request already written before the watch was set is not lost', async () => {
    const { store, life, unhandled } = lifecycle();
    store.nodes.set('control/shutdown', 'reboot');
    await life.start();
    await settle();
    assert.deepEqual(unhandled, ['reboot']);
});
test('a guest waiting in awaitShutdownRequest gets the request instead of the default action', async () => {
    const { store, life, unhandled } = lifecycle();
    await life.start();
    const first = life.awaitShutdownRequest();
    const second = life.awaitShutdownRequest();
    store.request('reboot');
    assert.deepEqual(await Promise.all([first, second]), ['reboot', 'reboot']);
    assert.deepEqual(unhandled, [], 'nothing done behind the waiting guest');
    store.request('poweroff');
    await settle();
    assert.deepEqual(unhandled, ['poweroff'], 'a waiter is served once; the next request falls to the default');
});
test('unknown values, the cleared node and repeated watch events do nothing more', async () => {
    const { store, life, unhandled } = lifecycle();
    await life.start();
    const writes = store.writes.length;
    store.request('explode');
    await settle();
    store.request('');
    await settle();
    assert.deepEqual(unhandled, []);
    assert.equal(store.writes.length, writes, 'an unknown request is not acknowledged');
    // One request, several watch events queued before the first check ran: acted on once.
    store.request('poweroff');
    store.fire();
    store.fire();
    await settle();
    await settle();
    assert.deepEqual(unhandled, ['poweroff']);
});
test("with the runtime's suspend, a suspend request goes there, never to a waiting guest; onSuspend keeps one handler", async () => {
    const store = new FakeStore();
    const unhandled = [];
    let suspends = 0;
    const life = new GuestLifecycle(store.client, (r) => unhandled.push(r), () => suspends++);
    await life.start();
    let waited;
    void life.awaitShutdownRequest().then((r) => (waited = r));
    store.request('suspend');
    await settle();
    assert.equal(suspends, 1);
    assert.equal(store.nodes.get('control/shutdown'), '', 'acknowledged');
    assert.equal(waited, undefined);
    assert.deepEqual(unhandled, []);
    store.request('reboot');
    await settle();
    assert.equal(waited, 'reboot');
    assert.equal(life.suspendHandler, undefined);
    const first = () => 1;
    const second = () => 2;
    const offFirst = life.onSuspend(first);
    life.onSuspend(second);
    assert.equal(life.suspendHandler, second, 'a new handler replaces the old');
    offFirst();
    assert.equal(life.suspendHandler, second, "removing a replaced handler leaves the new one");
    assert.throws(() => life.onSuspend('x'), TypeError);
});
//# sourceMappingURL=lifecycle.test.js.map