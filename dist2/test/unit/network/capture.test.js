// Capture to classic pcap: the format, its bounds, and what a bridge's and a port's captures see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XEN_NETIF_GSO_TYPE_TCPV4 } from '../../../src/abi/netif.js';
import { Capture } from '../../../src/network/capture.js';
import { Switch } from '../../../src/network/switch.js';
import { isXenError } from '../../../src/errors.js';
import { MemorySink, Sink, ethFrame, ipPacket, plain, readPcap, vidOf } from '../../support/switch.js';
const A = '00:16:3e:00:00:0a';
const B = '00:16:3e:00:00:0b';
const BCAST = 'ff:ff:ff:ff:ff:ff';
test('the file: header fields, records with microsecond timestamps, snaplen', () => {
    const sink = new MemorySink();
    const c = new Capture(sink, { snaplen: 64 });
    const before = Date.now() * 1000;
    c.frame(ethFrame(BCAST, A, { payload: new Uint8Array(100) }), plain);
    c.frame(ethFrame(BCAST, A), plain);
    const after = Date.now() * 1000 + 1000;
    const p = readPcap(sink.bytes());
    assert.deepEqual([p.magic, p.major, p.minor, p.snaplen, p.linktype], [0xa1b2c3d4, 2, 4, 64, 1]);
    assert.deepEqual(p.records.map((r) => [r.caplen, r.len]), [[64, 114], [60, 60]]);
    for (const r of p.records) {
        const t = r.secs * 1e6 + r.usecs;
        assert.ok(r.usecs < 1e6 && t >= before - 1000 && t <= after, `timestamp ${t} within ${before}..${after}`);
    }
    assert.equal(c.summary.bytes, sink.bytes().length);
});
test('bounds: count, file size, a writer that is behind', async () => {
    const counted = new MemorySink();
    const c = new Capture(counted, { count: 2 });
    for (let i = 0; i < 5; i++)
        c.frame(ethFrame(BCAST, A), plain);
    assert.deepEqual(await c.done, { frames: 2, bytes: 24 + 2 * 76, dropped: 0, end: 'count' });
    assert.equal(counted.bytes().length, 24 + 2 * 76);
    const sized = new MemorySink();
    const s = new Capture(sized, { maxBytes: 24 + 3 * 76 + 75 });
    for (let i = 0; i < 10; i++)
        s.frame(ethFrame(BCAST, A), plain);
    assert.deepEqual(await s.done, { frames: 3, bytes: 24 + 3 * 76, dropped: 0, end: 'size' });
    assert.ok(sized.bytes().length <= 24 + 3 * 76 + 75);
    const slow = new MemorySink();
    const d = new Capture(slow, { maxBacklog: 1000 });
    d.frame(ethFrame(BCAST, A), plain);
    slow.backlog = 1001;
    d.frame(ethFrame(BCAST, A), plain);
    slow.backlog = 0;
    d.frame(ethFrame(BCAST, A), plain);
    d.stop();
    assert.deepEqual(await d.done, { frames: 2, bytes: 24 + 2 * 76, dropped: 1, end: 'stopped' });
    for (const bad of [{ count: 0 }, { snaplen: 0 }, { snaplen: 1e9 }, { maxBytes: 10 }, { count: 1.5 }]) {
        assert.throws(() => new Capture(new MemorySink(), bad), (e) => isXenError(e, 'EINVAL'), JSON.stringify(bad));
    }
});
test("a bridge's capture sees every accepted frame, VLANs tagged; a port's sees both directions", async () => {
    const sw = new Switch();
    const p1 = sw.plug(new Sink('vif1.0'), { bridge: 'xenbr0.20', mac: A });
    sw.plug(new Sink('vif2.0'), { bridge: 'xenbr0.20' });
    const p3 = sw.plug(new Sink('vif3.0'), { bridge: 'xenbr0', mac: B });
    const brSink = new MemorySink();
    const br = new Capture(brSink);
    sw.capture('xenbr0', br);
    const portSink = new MemorySink();
    const port = new Capture(portSink);
    sw.capture('vif2.0', port);
    p1.input(ethFrame(BCAST, A), plain);
    p3.input(ethFrame(BCAST, B), plain);
    p1.input(ethFrame(BCAST, B), plain); // spoofed: not accepted by the bridge
    // A GSO super-frame is recorded as its segments, checksummed.
    p1.input(ipPacket(4, { payload: new Uint8Array(3000) }).map((b, i) => (i >= 6 && i < 12 ? [0, 0x16, 0x3e, 0, 0, 0x0a][i - 6] : b)), { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1000 } });
    br.stop();
    port.stop();
    const brRecords = readPcap(brSink.bytes()).records;
    assert.deepEqual(brRecords.map((r) => vidOf(r.data)), [20, undefined, 20, 20, 20]);
    const portRecords = readPcap(portSink.bytes()).records;
    assert.equal(portRecords.length, 4, 'the broadcast and three segments out to vif2.0');
    assert.equal(await br.done.then((s) => s.end), 'stopped');
    // Unplugging a captured port ends its capture.
    const again = new Capture(new MemorySink());
    sw.capture('vif2.0', again);
    sw.findPort('vif2.0').unplug();
    assert.equal((await again.done).end, 'gone');
    assert.throws(() => sw.capture('nothere', new Capture(new MemorySink())), (e) => isXenError(e, 'ENODEV'));
});
test('captures at once are bounded', () => {
    const sw = new Switch({ maxCaptures: 2 });
    sw.plug(new Sink('vif1.0'), { bridge: 'xenbr0' });
    const a = new Capture(new MemorySink());
    sw.capture('xenbr0', a);
    sw.capture('vif1.0', new Capture(new MemorySink()));
    assert.throws(() => sw.capture('xenbr0', new Capture(new MemorySink())), (e) => isXenError(e, 'EBUSY'));
    a.stop();
    sw.capture('xenbr0', new Capture(new MemorySink()));
});
//# sourceMappingURL=capture.test.js.map