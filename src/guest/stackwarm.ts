// An incoming migration's parked runtime has time; its resume, in the downtime, has none. V8
// compiles a function the first time it runs, and a stack's restore with its connections runs
// much code for the first time (a stack's create, freeze and restore took 5 ms cold and 0.15 ms
// warm on an idle machine; several times that under load). So while it is parked the runtime
// runs that path once on scratch: two stacks on an in-memory link, a TCP connection with data
// between them, a freeze, a restore, and a stop. No device or RAM frame is touched, and nothing
// outlives it but the stacks' shared clock waking once more to find its timers cancelled.
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../abi/netif.js';
import type { Net } from '../drivers/net/front/net.js';
import type { TcpipStack } from '../tcpip/stack.js';
import type { TcpSocket } from '../tcpip/tcp/socket.js';

type StackModule = typeof import('../tcpip/stack.js');

/** How long the warm-up may take before it is given up (it never holds the resume back). */
const WARM_MS = 1000;

const NO_STATS = Object.freeze({ rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 });

/** Two ends of a link that exists only in this thread: what one writes, the other hears. */
function scratchLink(): [Net, Net] {
  const heard = [new Set<(f: Uint8Array, i: NetFrameInfo) => void>(), new Set<(f: Uint8Array, i: NetFrameInfo) => void>()];
  const end = (me: number): Net => ({
    devid: me,
    mac: `02:00:00:00:00:0${me + 1}`,
    mtu: 1500,
    offloads: { csum: false, gsoTcpv4: false, gsoTcpv6: false },
    write(frames) {
      const list = frames instanceof Uint8Array ? [frames] : [...frames];
      queueMicrotask(() => {
        for (const f of list) for (const h of heard[1 - me]!) h(f, NET_FRAME_PLAIN);
      });
      return Promise.resolve();
    },
    listen(h) {
      heard[me]!.add(h);
      return () => heard[me]!.delete(h);
    },
    stats: () => NO_STATS,
    disconnect: () => Promise.resolve(),
  });
  return [end(0), end(1)];
}

async function exercise({ createStack }: StackModule, stacks: TcpipStack[]): Promise<boolean> {
  const [na, nb] = scratchLink();
  const a = createStack(na);
  const b = createStack(nb);
  stacks.push(a, b);
  a.configure({ ip: '192.0.2.1/24' });
  b.configure({ ip: '192.0.2.2/24' });
  // Every socket ends in an error when its stack stops: expected here.
  const quiet = (s: TcpSocket) => void s.on('error', () => {});
  const got = new Promise<void>((resolve) => {
    b.tcp.listen(80, (s) => {
      quiet(s);
      s.once('data', () => resolve());
    });
  });
  const c = await a.tcp.connect('192.0.2.2', 80);
  quiet(c);
  c.write(new Uint8Array(64));
  await got;
  // b's connection, listener and ARP cache carried into a fresh stack, as a resume does; the
  // resumed connection goes to the next listen() on its port.
  const again = createStack(nb);
  stacks.push(again);
  again.restore(b.freeze());
  const carried = new Promise<boolean>((resolve) => {
    again.tcp.listen(80, (s) => {
      quiet(s);
      resolve(true);
    });
  });
  b.stop();
  return carried;
}

/** Run a stack's resume path once on scratch stacks, within WARM_MS; never fails. True if every step ran. */
export async function warmStackResume(mod: StackModule): Promise<boolean> {
  const stacks: TcpipStack[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([exercise(mod, stacks), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), WARM_MS)))]);
  } catch {
    return false; // only warmth is lost
  } finally {
    clearTimeout(timer);
    for (const s of stacks) s.stop();
  }
}
