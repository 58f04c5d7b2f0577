// A thread waiting in the vCPU pool has time; a booting domain does not. So while it waits,
// the thread runs the code of a boot once on scratch memory that no other thread sees: the
// upcall path, the console, a xenstore request and its reply; a shell with a vif also its
// TCP/IP stack's, and an incoming migration's parked runtime its stack's resume path. V8
// compiles functions the first time they run, and the real boot or resume then finds them
// compiled.
import { EVTCHNSTAT_ipi } from '../abi/event_channel.js';
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../abi/netif.js';
import {
  XENSTORE_RING_SIZE, XSD_SOCKMSG_LEN, XSD_SOCKMSG_REQ_ID, XSD_SOCKMSG_SIZE, XSD_SOCKMSG_TYPE, XS_INTF_REQ,
  XS_INTF_RSP, XS_INTF_RSP_PROD, XS_READ,
} from '../abi/xs_wire.js';
import { ConsoleFront } from '../drivers/console/front.js';
import type { Net, NetOffloads, NetStats } from '../drivers/net/front/net.js';
import type { ControlChannel } from '../hypervisor/control.js';
import { setPort } from '../hypervisor/evtchn.js';
import { Hypercalls } from '../hypervisor/hypercalls.js';
import { PFN_CONSOLE, PFN_XENSTORE } from '../hypervisor/layout.js';
import { allocateDomainBuffers, DomainView } from '../hypervisor/memory.js';
import { BoundPort } from '../hypervisor/port.js';
import { UpcallLoop } from '../hypervisor/upcall.js';
import { XenstoreClient } from '../xenstore/client/client.js';
import { XenstoreRingClient } from '../xenstore/client/ring.js';
import type { Clock } from '../tcpip/clock.js';
import type { StackOptions, TcpipStack } from '../tcpip/stack.js';
import type { TcpSocket } from '../tcpip/tcp/socket.js';
import { pvConsole } from './os.js';
import { loadStack } from './tcpip.js';

const SCRATCH_DOMID = 0x7fef;
const CONSOLE_PORT = 1;
const STORE_PORT = 2;

const noControl: ControlChannel = { call: () => Promise.reject(new Error('no control plane during warm-up')) };

/** True if every step ran: a step that fails is skipped silently, and so would warm nothing. */
export async function warmUp(): Promise<boolean> {
  const view = new DomainView(
    allocateDomainBuffers(SCRATCH_DOMID, { maxGrantFrames: 1, ramFrames: 1, maxEvtchns: 4, initialGrantFrames: 1 }),
  );
  // Ports that raise events on the scratch domain itself stand in for dom0's ends.
  setPort(view, CONSOLE_PORT, EVTCHNSTAT_ipi, 0, 0);
  setPort(view, STORE_PORT, EVTCHNSTAT_ipi, 0, 0);
  const hc = new Hypercalls(view, noControl);
  const loop = new UpcallLoop(view, { pausable: false, onError: () => {} });
  loop.start();
  try {
    const front = new ConsoleFront(view.frame(PFN_CONSOLE), new BoundPort(hc, loop, CONSOLE_PORT));
    pvConsole(front).console.log('%s', 'warm-up');
    await front.flush();

    const store = view.frame(PFN_XENSTORE);
    const xs = new XenstoreClient(new XenstoreRingClient({ page: store, evtchn: new BoundPort(hc, loop, STORE_PORT) }));
    const reply = xs.read('name');
    await new Promise<void>((r) => setImmediate(r));
    // Answer the request the client wrote, as xenstored would.
    const req = new DataView(store.buffer, store.byteOffset + XS_INTF_REQ, XENSTORE_RING_SIZE);
    const rsp = new DataView(store.buffer, store.byteOffset + XS_INTF_RSP, XENSTORE_RING_SIZE);
    rsp.setUint32(XSD_SOCKMSG_TYPE, XS_READ, true);
    rsp.setUint32(XSD_SOCKMSG_REQ_ID, req.getUint32(XSD_SOCKMSG_REQ_ID, true), true);
    rsp.setUint32(XSD_SOCKMSG_LEN, 1, true);
    rsp.setUint8(XSD_SOCKMSG_SIZE, 0x78);
    Atomics.store(new Int32Array(store.buffer, store.byteOffset, 1024), XS_INTF_RSP_PROD >> 2, XSD_SOCKMSG_SIZE + 1);
    hc.evtchnSend(STORE_PORT);
    const answered = await Promise.race([reply.then((v) => v === 'x'), new Promise<false>((r) => setTimeout(r, 100, false))]);
    xs.close();
    return answered;
  } catch {
    return false; // warm-up is an optimisation only
  } finally {
    loop.stop();
  }
}

type Listener = (frame: Uint8Array, info: NetFrameInfo) => void;

/** One end of a link in memory: frames reach the other end's listeners on a later microtask, as copies. */
class LoopNet implements Net {
  readonly devid = 0;
  readonly mtu = 1500;
  // As netfront negotiates with netback: the stack takes the same paths as on a real vif.
  readonly offloads: NetOffloads = { csum: true, gsoTcpv4: true, gsoTcpv6: true };
  readonly #listeners = new Set<Listener>();
  peer: LoopNet | undefined;
  /** Frames written are lost, as a suspended domain's are. */
  cut = false;

  constructor(readonly mac: string) {}

  write(frames: Uint8Array | readonly Uint8Array[], info: NetFrameInfo = NET_FRAME_PLAIN): Promise<void> {
    const peer = this.cut ? undefined : this.peer;
    for (const f of frames instanceof Uint8Array ? [frames] : frames) {
      const copy = f.slice();
      if (peer) queueMicrotask(() => peer.#deliver(copy, info));
    }
    return Promise.resolve();
  }

  #deliver(frame: Uint8Array, info: NetFrameInfo): void {
    for (const l of this.#listeners) l(frame, info);
  }

  listen(handler: Listener): () => void {
    this.#listeners.add(handler);
    return () => this.#listeners.delete(handler);
  }

  stats(): NetStats {
    return { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
  }

  async disconnect(): Promise<void> {
    this.#listeners.clear();
  }
}

/**
 * How long a stack warm-up may run before it is given up, a shell's import of the stack's
 * modules included (a restored runtime's warm-up is handed them loaded). Its stacks are then
 * stopped, and one made later is stopped as it is made. It runs before the runtime parks: it
 * holds the park back this long at most, never the claimed guest's boot or its resume.
 */
const WARM_STACK_MS = 1000;

type StackModule = typeof import('../tcpip/stack.js');

/** Hands a scratch stack to its bound (bounded), which stops it. */
type Track = (s: TcpipStack) => void;

/** Two stacks on a link in memory (nothing reaches a vif), 192.0.2.1 and .2, each tracked for the stop. */
function scratchPair({ createStack }: StackModule, track: Track, clock?: Clock, clientTcp?: StackOptions['tcp']): [TcpipStack, TcpipStack, LoopNet, LoopNet] {
  const a = new LoopNet('02:00:00:00:00:01');
  const b = new LoopNet('02:00:00:00:00:02');
  a.peer = b;
  b.peer = a;
  const opts = clock ? { clock } : {};
  // Each tracked as it is made: past the bound, the first track throws and no second stack is made.
  const client = createStack(a, { ...opts, ...(clientTcp && { tcp: clientTcp }) });
  track(client);
  const server = createStack(b, opts);
  track(server);
  client.configure({ ip: '192.0.2.1/24' });
  server.configure({ ip: '192.0.2.2/24' });
  return [client, server, a, b];
}

/** Every scratch socket ends in an error when its stack stops: expected here. */
const quiet = (s: TcpSocket) => void s.on('error', () => {});

/**
 * `steps` within `ms`; never fails, and stops every stack they track. True if every step ran.
 * Steps still running at the bound (a thread held up past it) go no further once they make a
 * stack: it is stopped as it is made (a TIME-WAIT would hold the thread 2 MSL, 60 s), and its
 * track throws, so nothing is asked of it (a stopped stack's connect still sent ARP requests,
 * whose retries held the thread some 3 s more).
 */
async function bounded(steps: (track: Track) => Promise<boolean>, ms = WARM_STACK_MS): Promise<boolean> {
  const stacks: TcpipStack[] = [];
  let over = false;
  const track: Track = (s) => {
    if (!over) return void stacks.push(s);
    s.stop();
    throw new Error('the warm-up is over'); // the race is settled: nobody waits for the steps
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([steps(track), new Promise<false>((r) => (timer = setTimeout(r, ms, false)))]);
  } catch {
    return false; // an optimisation only
  } finally {
    over = true;
    clearTimeout(timer);
    for (const s of stacks) s.stop();
  }
}

/**
 * A shell whose guest will serve on its vif runs the TCP/IP stack's code once while it waits:
 * ARP, a connection accepted, a request and its answer, both closes. The guest's first
 * connection then finds that code compiled (in a fresh isolate it costs some 10-15 ms of CPU
 * the first time, 1 ms after). True if it ran.
 */
export function warmUpStack(clock: Clock): Promise<boolean> {
  return bounded(async (track) => {
    const [client, server] = scratchPair((await loadStack())[0], track, clock);
    return new Promise<boolean>((resolve) => {
      server.tcp.listen(80, (conn) => {
        conn.setNoDelay(true);
        quiet(conn);
        conn.on('data', () => conn.end(new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')));
      });
      void client.tcp.connect('192.0.2.2', 80, { noDelay: true }).then((s) => {
        quiet(s);
        s.on('data', () => {});
        s.on('end', () => {
          s.end();
          resolve(true);
        });
        s.write(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: warm-up\r\n\r\n'));
      }, () => resolve(false));
    });
  });
}

/** The scratch client's retransmission timeout: the lost request goes again within the warm-up. */
const SCRATCH_RTO = { rto: { minRtoMs: 2, maxRtoMs: 2, initialRtoMs: 2 } };
const REQUEST = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
const ANSWER = new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');

/** A count that promises to reach a value. */
function counter(): { add(n: number): void; reached(n: number): Promise<void> } {
  let value = 0;
  const waiting: [number, () => void][] = [];
  return {
    add(n) {
      value += n;
      for (const w of waiting.filter(([at]) => value >= at)) {
        waiting.splice(waiting.indexOf(w), 1);
        w[1]();
      }
    },
    reached: (n) => (value >= n ? Promise.resolve() : new Promise((r) => void waiting.push([n, r]))),
  };
}

/**
 * An incoming migration's parked runtime has time; its resume, in the downtime, has none. The
 * resume and the first answers after it run much code for the first time (a stack's create,
 * freeze and restore took 5 ms cold and 0.15 ms warm on an idle machine; a restored guest's
 * way from its stacks to its first answer, at its weight, 8 ms of CPU cold and 6.3 with this).
 * So while parked the runtime runs that path once, as a client sees a migration: a connection
 * answering requests; the server's next answer lost, then the client's next request, as at a
 * suspend; the server's stack frozen and restored into a fresh one (its gratuitous ARP, the lost
 * answer sent again at once), whose next listen() takes the connection; a request that arrives
 * before the lost one (out of order), then the lost one again; each answered. No device or RAM
 * frame is touched. `clock` is the one the guest's stacks use; `boundMs`, how long it may take
 * (a test's, which checks the steps and not their speed, is longer). True if every step ran.
 */
export function warmStackResume(mod: StackModule, clock?: Clock, boundMs = WARM_STACK_MS): Promise<boolean> {
  return bounded(async (track) => {
    const [client, server, clientNet, serverNet] = scratchPair(mod, track, clock, SCRATCH_RTO);
    const served = counter();
    const serve = (s: TcpSocket): void => {
      quiet(s);
      s.setNoDelay(true);
      let bytes = 0;
      s.on('data', (d: Uint8Array) => {
        for (bytes += d.length; bytes >= REQUEST.length; bytes -= REQUEST.length) {
          s.write(ANSWER);
          served.add(1);
        }
      });
    };
    server.tcp.listen(80, serve);
    const c = await client.tcp.connect('192.0.2.2', 80, { noDelay: true });
    quiet(c);
    const answered = counter();
    c.on('data', (d: Uint8Array) => answered.add(d.length));
    c.write(REQUEST);
    await answered.reached(ANSWER.length);
    serverNet.cut = true;
    c.write(REQUEST);
    await served.reached(2);
    clientNet.cut = true;
    c.write(REQUEST);
    const state = server.freeze();
    server.stop();
    const again = mod.createStack(serverNet, clock ? { clock } : {});
    track(again);
    serverNet.cut = false;
    clientNet.cut = false;
    again.restore(state);
    again.tcp.listen(80, serve);
    c.write(REQUEST);
    await answered.reached(4 * ANSWER.length);
    return true;
  }, boundMs);
}
