// The guest end of the console against a fake event channel and the daemon's end of the page
// played by hand: output goes into the out ring with one event per pass, output that does not
// fit waits for the daemon's event, input is handed to every listener, and a page the guest
// itself scribbled on silences the console without throwing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XENCONS_OUT_SIZE, XenconsInterface } from '../../../../src/abi/console.js';
import { PAGE_SIZE } from '../../../../src/abi/xen.js';
import { ConsoleFront, type ConsolePort } from '../../../../src/drivers/console/front.js';
import { ByteRing } from '../../../../src/drivers/console/ring.js';

class FakePort implements ConsolePort {
  notified = 0;
  #handlers = new Set<() => void>();
  notify(): void {
    this.notified++;
  }
  onEvent(handler: () => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }
  /** The daemon's event. */
  fire(): void {
    for (const h of this.#handlers) h();
  }
}

function setup() {
  const page = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
  const port = new FakePort();
  const front = new ConsoleFront(page, port);
  return { page, port, front, out: new ByteRing(page, 'out', 'consumer'), in: new ByteRing(page, 'in', 'producer') };
}

const text = (b: Uint8Array) => Buffer.from(b).toString();

test('output lands in the out ring and tells the daemon', async () => {
  const { port, front, out } = setup();
  front.write('hello, ');
  front.write(new TextEncoder().encode('world\n'));
  assert.equal(port.notified, 2);
  await front.flush();
  assert.equal(text(out.read()), 'hello, world\n');
});

test('output beyond the ring waits for the daemon to make room; flush waits with it', async () => {
  const { port, front, out } = setup();
  const big = 'x'.repeat(XENCONS_OUT_SIZE) + 'tail';
  front.write(big);
  let flushed = false;
  const f = front.flush().then(() => (flushed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(flushed, false, 'four bytes still wait');
  assert.equal(out.read().length, XENCONS_OUT_SIZE);
  port.fire();
  await f;
  assert.equal(text(out.read()), 'tail');
});

test('a buffer written is copied: changing it afterwards changes nothing', async () => {
  const { front, out } = setup();
  const b = new TextEncoder().encode('abc');
  front.write(b);
  b[0] = 0x7a;
  await front.flush();
  assert.equal(text(out.read()), 'abc');
});

test('input reaches every listener until it stops listening, and the daemon is told', () => {
  const { port, front, in: input } = setup();
  const a: string[] = [];
  const b: string[] = [];
  front.onInput((d) => a.push(text(d)));
  const stopB = front.onInput((d) => b.push(text(d)));
  input.write(new TextEncoder().encode('ls\r'));
  port.fire();
  assert.deepEqual(a, ['ls\r']);
  assert.deepEqual(b, ['ls\r']);
  assert.equal(port.notified, 1, 'room in the in ring');
  stopB();
  input.write(new TextEncoder().encode('q'));
  port.fire();
  assert.deepEqual(a, ['ls\r', 'q']);
  assert.deepEqual(b, ['ls\r']);
  port.fire();
  assert.equal(a.length, 2, 'no event without input');
});

test('corrupt out indices silence the console: writes are dropped, flush resolves, nothing throws', async () => {
  const { page, port, front } = setup();
  new XenconsInterface(page).outCons = 12345;
  front.write('lost');
  await front.flush();
  front.write('also lost');
  assert.equal(port.notified, 0);
});

/** Settle what the last events and timers started. */
const settle = () => new Promise((r) => setImmediate(r));

test('a flush bounded by stalls waits for a slow daemon for as long as it makes room, and ignores output written after it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { port, front, out } = setup();
  // Thirty rings' worth, the daemon taking one ring every 900 ms (27 s in all, under the 1 s stall bound each time).
  const big = 'y'.repeat(30 * XENCONS_OUT_SIZE);
  front.write(big);
  let flushed = false;
  const f = front.flush(1000).then(() => (flushed = true));
  let got = out.read().length;
  front.write('after the flush');
  for (let i = 0; i < 29; i++) {
    t.mock.timers.tick(900);
    await settle();
    assert.equal(flushed, false, `still waiting after ${i + 1} slow rounds`);
    port.fire();
    got += out.read().length;
  }
  await f;
  assert.equal(got, big.length, 'every byte written before the flush reached the daemon');
});

test('a flush bounded by stalls gives up once the daemon takes nothing for that long; a plain one waits on', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { front } = setup();
  front.write('z'.repeat(2 * XENCONS_OUT_SIZE));
  let bounded = false;
  let plain = false;
  void front.flush(1000).then(() => (bounded = true));
  void front.flush().then(() => (plain = true));
  t.mock.timers.tick(999);
  await settle();
  assert.equal(bounded, false);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(bounded, true, 'given up after 1 s without room');
  assert.equal(plain, false);
});
