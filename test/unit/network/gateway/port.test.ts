import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NET_FRAME_PLAIN } from '../../../../src/abi/netif.js';
import { TxError } from '../../../../src/drivers/net/front/errors.js';
import { GatewayPort } from '../../../../src/network/gateway/port.js';
import type { SwitchPort } from '../../../../src/network/port.js';

test('GatewayNet.write resolves once its frames went into the bridge, and rejects for frames dropped (port unplugged)', async () => {
  const port = new GatewayPort('gw.test', '52:55:0a:00:02:02', 1500, () => {});
  const net = port.net();
  const frame = new Uint8Array(60);
  // Unplugged: the frame goes nowhere, and the writer (which reuses frames once written) hears it.
  await assert.rejects(net.write(frame), (e: Error) => e instanceof TxError);
  assert.equal(port.counters.txDropped, 1);
  const into: Uint8Array[] = [];
  port.switchPort = { input: (f: Uint8Array) => into.push(f.slice()) } as unknown as SwitchPort;
  let resolved = false;
  const w = net.write([frame, frame.fill(7)], NET_FRAME_PLAIN).then(() => (resolved = true));
  assert.equal(resolved, false);
  assert.equal(into.length, 0, 'sent from a microtask, not inside write()');
  await w;
  assert.equal(into.length, 2, 'both frames were in the bridge when the write resolved');
  assert.equal(port.counters.txFrames, 2);
});

test("a frame the gateway's stacks throw on is dropped and counted there: the throw never reaches the bridge or the sender", () => {
  let calls = 0;
  const port = new GatewayPort('gw.test', '52:55:0a:00:02:02', 1500, (f) => {
    calls++;
    if (f[0] === 0xee) throw new Error('a bug of the stack');
  });
  assert.equal(port.deliver(new Uint8Array(60).fill(0xee), NET_FRAME_PLAIN), false, 'the bridge counts it dropped');
  assert.equal(port.deliver(new Uint8Array(60), NET_FRAME_PLAIN), true, 'the next frame is taken as ever');
  assert.deepEqual([calls, port.counters.rxFrames, port.counters.rxFailed], [2, 2, 1]);
});
