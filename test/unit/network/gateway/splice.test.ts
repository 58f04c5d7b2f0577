// The gateway's splice of host sockets to guest connections, read into one buffer (net's
// `onread`): many MiB through a forward and through the NAT with the guest stopping and starting
// its reads (the host side must stop and go on without losing or reordering a byte), the same
// the other way with the host not reading (the gateway's window to the guest closes), a host
// client that half-closes and then hears the guest's answer, one that resets mid-stream, and
// the forward's bound on its connections, which the server no longer counts once spliced; and a
// hostile guest whose tiny segments would make dom0 hold a pooled block for each byte.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { NET_FRAME_PLAIN } from '../../../../src/abi/netif.js';
import { parseForwardSpec } from '../../../../src/network/gateway/forwardspec.js';
import { TcpForward, type HostForward } from '../../../../src/network/gateway/forward.js';
import { GatewayPort } from '../../../../src/network/gateway/port.js';
import { SPLICE_HELD_LIMIT } from '../../../../src/network/gateway/splice.js';
import type { Switch } from '../../../../src/network/switch.js';
import { ETHERTYPE_IPV4, parseEthernet } from '../../../../src/tcpip/ethernet.js';
import { seqDiff, seqGt } from '../../../../src/tcpip/tcp/seq.js';
import { ACK, FIN, PSH, RST, SYN, parseSegment } from '../../../../src/tcpip/tcp/wire.js';
import { gatewayRig, rigWithGuest, waitFor } from '../../../support/gateway.js';
import { tcpFrame } from '../../../support/tcpip-link.js';

const MiB = 1 << 20;

/** A TCP forward's connections from accept until both sides closed. */
function connections(f: HostForward): number {
  assert.ok(f instanceof TcpForward);
  return f.connections;
}

/** Byte i of a stream: a pattern that a lost, doubled or reordered chunk breaks. */
const patternAt = (i: number) => (i * 7 + (i >> 13)) & 0xff;

function pattern(from: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = patternAt(from + i);
  return b;
}

/** Count and check what `s` reads against the pattern; resolves with the count at its end. */
function checkPattern(s: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let at = 0;
    s.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i++) {
        if (d[i] !== patternAt(at + i)) return reject(new Error(`byte ${at + i} is ${d[i]}, not ${patternAt(at + i)}`));
      }
      at += d.length;
    });
    s.on('end', () => resolve(at));
    s.on('error', reject);
  });
}

/** Write `total` bytes of the pattern into `w` with backpressure; `stalled` runs the first time the writer has to wait. */
async function writePattern(w: NodeJS.WritableStream, total: number, stalled: () => void = () => {}): Promise<void> {
  const chunk = 48 * 1024 + 13; // not a multiple of anything the path uses
  let waited = false;
  for (let at = 0; at < total; at += chunk) {
    if (!w.write(pattern(at, Math.min(chunk, total - at)))) {
      if (!waited) stalled();
      waited = true;
      await once(w, 'drain');
    }
  }
}

test('splice: 24 MiB from a host client through a forward, the guest stopping its reads; the client half-closes and reads the guest\'s answer', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t);
  let stalled!: () => void;
  const hostWaited = new Promise<void>((r) => (stalled = r));
  let counted: Promise<number> | undefined;
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    // Reads nothing until the host writer has had to wait.
    counted = hostWaited.then(() => checkPattern(s));
    void counted.then((n) => s.end(`got ${n}`), () => s.destroy());
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const c = connect(fwd.boundPort, '127.0.0.1');
  await once(c, 'connect');
  const answer: Buffer[] = [];
  c.on('data', (d: Buffer) => answer.push(d));
  const total = 24 * MiB + 5;
  // The guest reads only once the writer has waited: that it ends at all is the backpressure.
  await writePattern(c, total, stalled);
  c.end();
  await once(c, 'end');
  assert.equal(Buffer.concat(answer).toString(), `got ${total}`);
  assert.equal(await counted, total);
  assert.ok(await waitFor(() => connections(fwd) === 0), 'the forward counts the connection closed');
  c.destroy();
});

test('splice: a host client that resets mid-stream resets the guest\'s connection and frees the forward\'s slot', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t);
  let got = 0;
  let guestError: Error | undefined;
  let guestClosed = false;
  g.stack.tcp.listen(80, (s) => {
    s.on('data', (d: Buffer) => { got += d.length; });
    s.on('error', (e) => { guestError = e; });
    s.on('close', () => { guestClosed = true; });
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.on('error', () => {});
  await once(c, 'connect');
  const chunk = Buffer.alloc(64 * 1024, 1);
  // Enough that the guest has some of it, then a reset with more still on the way.
  while (got < 2 * MiB) {
    c.write(chunk);
    await new Promise((r) => setImmediate(r));
  }
  c.resetAndDestroy();
  assert.ok(await waitFor(() => guestClosed), 'the guest\'s connection closed');
  assert.ok(guestError, 'by a reset, not a FIN');
  assert.ok(await waitFor(() => connections(fwd) === 0), 'the forward counts the connection closed');
  // The forward still serves, through the slot the reset freed.
  const before = got;
  const d = connect(fwd.boundPort, '127.0.0.1');
  d.on('error', () => {});
  d.write('after the reset');
  assert.ok(await waitFor(() => got === before + 'after the reset'.length), 'the guest reads a new connection through the same forward');
  d.destroy();
});

test('splice: a forward bounds its connections itself (maxConnections); a slot frees when a connection closes', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t, { limits: { forward: { maxConnections: 2, maxUdpFlows: 8, udpIdleMs: 60_000 } } });
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.resume();
    s.write('hi');
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const open = async () => {
    const c = connect(fwd.boundPort, '127.0.0.1');
    c.on('error', () => {});
    const [d] = (await once(c, 'data')) as [Buffer];
    assert.equal(d.toString(), 'hi');
    return c;
  };
  const first = await open();
  await open();
  const third = connect(fwd.boundPort, '127.0.0.1');
  await assert.rejects(once(third, 'data'), /ECONNRESET/);
  assert.equal(fwd.counters.refused, 1);
  first.destroy();
  assert.ok(await waitFor(() => connections(fwd) === 1));
  (await open()).destroy();
});

test('splice: 16 MiB from a host server to a guest through the NAT, the guest stopping its reads, then the server\'s FIN', async (t) => {
  let stalled!: () => void;
  const serverWaited = new Promise<void>((r) => (stalled = r));
  const total = 16 * MiB + 3;
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    void writePattern(s, total, stalled).then(() => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { rig, g } = await rigWithGuest(t);
  const c = await g.stack.tcp.connect('10.0.2.2', (server.address() as { port: number }).port);
  c.on('error', () => {});
  // Reads nothing until the host server has had to wait.
  await serverWaited;
  assert.equal(await checkPattern(c), total);
  c.end();
  assert.ok(await waitFor(() => rig.gw.tcpNat.flows === 0), `${rig.gw.tcpNat.flows} flows left`);
});

test('splice: 16 MiB from a guest to a host client through a forward, the client not reading until the gateway\'s window to the guest closed', async (t) => {
  const { rig, g, lease } = await rigWithGuest(t);
  const total = 16 * MiB + 7;
  g.stack.tcp.listen(80, (s) => {
    s.on('error', () => {});
    void writePattern(s, total).then(() => s.end());
  });
  const fwd = await rig.gw.forward({ ...parseForwardSpec('tcp:1:80'), hostPort: 0 }, () => lease.address);
  const c = connect(fwd.boundPort, '127.0.0.1');
  c.on('error', () => {});
  await once(c, 'connect');
  // The gateway's connection to the guest: its window closes once the host socket backs up.
  const closed = () => [...rig.gw.main.stack.tcpLayer.connections()].some((x) => x.localPort !== 80 && x.stats.zeroWindowsOut > 0);
  assert.ok(await waitFor(closed, 20_000), 'the gateway stopped taking the guest\'s bytes');
  assert.equal(await checkPattern(c), total);
  c.end();
  assert.ok(await waitFor(() => connections(fwd) === 0), 'the forward counts the connection closed');
});

/**
 * A guest that speaks TCP by hand, so that it picks every segment's size: one connection from
 * 10.0.2.15 to the gateway's NAT carrying the bytes of `patternAt`, sent in bursts that begin
 * with BURST_TINY one-byte segments (each one a pooled block of its own if the splice takes it
 * straight from the frame) and go on with full ones up to the window.
 */
class HandTcp {
  static readonly MAC = '00:16:3e:00:00:01';
  static readonly ADDRESS = '10.0.2.15';
  static readonly GATEWAY_MAC = '52:55:0a:00:02:02';
  static readonly BURST = 2048; // below the port's queue of 4,096 frames
  static readonly BURST_TINY = 1024;
  /** Retransmissions in a row (2 s of silence each) with nothing acknowledged before a pump fails, not hangs. */
  static readonly GO_BACKS = 10;
  readonly #port: GatewayPort;
  readonly #srcPort = 40001;
  readonly #iss = 1000; // no wrap within the test's bytes: offsets are plain differences
  sndUna = this.#iss;
  sndNxt = this.#iss;
  /** SND.UNA + SND.WND as the last ACK put it. */
  edge = this.#iss;
  #rcvNxt = 0;
  #wscale = 0;
  synAcked = false;
  peerFin = false;
  /**
   * Segments from the gateway with RST; ACKs that moved the window's right edge back; answers to
   * a window probe that still said 0 (a burst that fills the window in one go closes it until
   * the splice's writes complete: a probe waits for quiet, so only a window that stays shut
   * counts).
   */
  resets = 0;
  shrinks = 0;
  closed = 0;
  #probed = false;
  #wake: (() => void) | undefined;

  constructor(sw: Switch, readonly dst: string, readonly dstPort: number) {
    this.#port = new GatewayPort('vif1.0', HandTcp.MAC, 1500, (f) => this.#input(f));
    this.#port.switchPort = sw.plug(this.#port, { bridge: 'xenbr0', mac: HandTcp.MAC });
  }

  /** Bytes of the stream the gateway has acknowledged, and sent. */
  get acked(): number {
    return Math.max(0, this.sndUna - this.#iss - 1);
  }

  get sent(): number {
    return Math.max(0, this.sndNxt - this.#iss - 1);
  }

  #send(flags: number, seq: number, payload?: Uint8Array, options?: Uint8Array): void {
    const f = tcpFrame({ src: HandTcp.ADDRESS, dst: this.dst, srcPort: this.#srcPort, dstPort: this.dstPort, seq, ack: this.#rcvNxt, flags, window: 0xffff, options, payload },
      HandTcp.GATEWAY_MAC, HandTcp.MAC);
    this.#port.send(f, NET_FRAME_PLAIN);
  }

  #input(f: Uint8Array): void {
    const h = parseEthernet(f);
    if (!h || h.ethertype !== ETHERTYPE_IPV4) return;
    const ip = h.payloadOffset;
    if (f[ip + 9] !== 6) return;
    const seg = parseSegment(f.subarray(ip + (f[ip]! & 15) * 4, ip + ((f[ip + 2]! << 8) | f[ip + 3]!)));
    if (!seg || seg.dstPort !== this.#srcPort) return;
    if (seg.flags & RST) this.resets++;
    if (seg.flags & SYN) {
      this.#rcvNxt = (seg.seq + 1) >>> 0;
      this.#wscale = seg.opts.wscale ?? 0;
      this.synAcked = true;
    }
    if (seg.flags & ACK && this.synAcked) {
      if (seqGt(seg.ack, this.sndUna)) this.sndUna = seg.ack;
      // A SYN's window is never scaled (RFC 7323 §2.2).
      const wnd = seg.flags & SYN ? seg.window : seg.window * 2 ** this.#wscale;
      const edge = seg.ack + wnd;
      if (edge < this.edge) this.shrinks++;
      this.edge = Math.max(this.edge, edge);
      if (wnd > 0) this.#probed = false;
      else if (this.#probed) this.closed++;
    }
    if (seg.flags & FIN) {
      if (!this.peerFin && seg.seq === this.#rcvNxt) {
        this.peerFin = true;
        this.#rcvNxt = (this.#rcvNxt + 1) >>> 0;
      }
      if (this.peerFin) this.#send(ACK, this.sndNxt); // a FIN sent again is answered again
    }
    this.#wake?.();
  }

  /** Until the next segment from the gateway or `ms`, whichever is first. */
  #next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  async connect(): Promise<void> {
    // MSS 1460 and window scaling (our shift 0), so that the gateway may open its whole buffer.
    this.#send(SYN, this.#iss, undefined, Uint8Array.of(2, 4, 0x05, 0xb4, 1, 3, 3, 0));
    assert.ok(await waitFor(() => this.synAcked || this.resets > 0, 20_000), 'the gateway answers the SYN');
    assert.equal(this.resets, 0, 'the host connect succeeded');
    this.sndUna = this.sndNxt = this.#iss + 1;
    this.#send(ACK, this.sndNxt);
  }

  /**
   * Send the stream's bytes up to `end` in bursts as far as the window lets them, until `stop()`
   * or all of them are acknowledged. When nothing moves for a while (a closed window), an
   * ACK-eliciting probe one below SND.NXT asks for the window (RFC 9293 §3.8.6.1), and at last
   * the bytes not acknowledged go again, at most GO_BACKS times in a row with nothing acknowledged.
   */
  async pump(end: number, stop: () => boolean = () => false): Promise<void> {
    const last = this.#iss + 1 + end;
    let quiet = 0;
    let goBacks = 0;
    let unaAtGoBack = this.sndUna;
    while (!stop() && this.sndUna < last) {
      assert.equal(this.resets, 0, 'the gateway never resets the connection');
      let frames = 0;
      while (frames < HandTcp.BURST && this.sndNxt < last && this.sndNxt < this.edge) {
        const n = Math.min(frames < HandTcp.BURST_TINY ? 1 : 1460, this.edge - this.sndNxt, last - this.sndNxt);
        const at = this.sndNxt - this.#iss - 1;
        this.#send(ACK | PSH, this.sndNxt, pattern(at, n));
        this.sndNxt += n;
        frames++;
      }
      const [una, edge] = [this.sndUna, this.edge];
      await this.#next(50);
      if (frames > 0 || this.sndUna !== una || this.edge !== edge) quiet = 0;
      else if (++quiet % 4 === 0) {
        this.#probed = true;
        this.#send(ACK, this.sndNxt - 1);
      }
      if (quiet >= 40) {
        goBacks = this.sndUna === unaAtGoBack ? goBacks + 1 : 1;
        unaAtGoBack = this.sndUna;
        assert.ok(goBacks <= HandTcp.GO_BACKS, `nothing acknowledged after ${HandTcp.GO_BACKS} retransmissions (${this.acked} bytes acknowledged, ${this.sent} sent)`);
        this.sndNxt = this.sndUna;
        quiet = 0;
      }
    }
  }

  /** FIN after the stream's bytes; resolves once the gateway acknowledged it. */
  async finish(): Promise<void> {
    const fin = this.sndNxt;
    this.#send(FIN | ACK, fin);
    this.sndNxt = fin + 1;
    for (let tries = 0; seqDiff(this.sndUna, fin) <= 0; tries++) {
      assert.ok(tries < HandTcp.GO_BACKS * 10, `the FIN was not acknowledged after ${tries} sends`);
      await this.#next(200);
      if (seqDiff(this.sndUna, fin) <= 0) this.#send(FIN | ACK, fin);
    }
  }
}

test('splice: a guest sending 1-byte segments to a host peer that does not read: dom0 holds at most the bound per flow, the guest\'s window closes without a reset, and every byte arrives once the peer reads', async (t) => {
  let accepted!: (s: Socket) => void;
  const peerSocket = new Promise<Socket>((r) => (accepted = r));
  // The host peer reads nothing until told: its socket is paused from the accept.
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => accepted(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const rig = gatewayRig();
  t.after(() => rig.close());
  const g = new HandTcp(rig.sw, '10.0.2.2', (server.address() as { port: number }).port);
  await g.connect();
  const peer = await peerSocket;
  peer.on('error', () => {});
  // A splice's blocks stay within the bound plus the last run of bytes it was handed: one
  // segment here (a 2 KiB block), or a run of the stack's receive queue (at most a 128 KiB slab,
  // src/tcpip/slab.ts). Without the bound each burst's 1,024 one-byte segments would hold 2 MiB.
  // The stack's receive queue itself (1 MiB, copied compactly) is the stack's own bound.
  const bound = SPLICE_HELD_LIMIT + 128 * 1024;
  // Until the gateway's window to the guest closes: the host socket's kernel buffers (about
  // 4 MiB with Linux's default tcp_wmem; whatever they are, at most `most`), the splice's blocks
  // and the gateway stack's receive queue full.
  const most = 256 * MiB;
  await g.pump(most, () => g.closed > 0);
  assert.ok(g.closed > 0, `the window closed (${g.acked} bytes acknowledged, ${g.sent} sent)`);
  assert.equal(g.resets, 0, 'no reset');
  assert.equal(g.shrinks, 0, 'the window\'s right edge never moved back');
  assert.ok(rig.gw.holds.peak <= bound, `the splice held ${rig.gw.holds.peak} bytes at most, above ${bound}`);
  assert.ok(rig.gw.info().spliceHeld <= bound, `${rig.gw.info().spliceHeld} bytes held`);
  // The peer reads: the splice resumes, the window opens again, the rest goes through.
  const total = g.sent + MiB + 5;
  const counted = checkPattern(peer);
  peer.resume(); // paused on accept: a 'data' listener alone does not start it
  await g.pump(total);
  await g.finish();
  assert.equal(await counted, total, 'every byte, in order');
  assert.equal(g.resets, 0, 'no reset');
  assert.ok(rig.gw.holds.peak <= bound, `the splice held ${rig.gw.holds.peak} bytes at most, above ${bound}`);
  // The peer's FIN reaches the guest; the flow ends and gives back every block.
  peer.end();
  assert.ok(await waitFor(() => g.peerFin, 20_000), 'the peer\'s FIN reaches the guest');
  assert.ok(await waitFor(() => rig.gw.tcpNat.flows === 0, 20_000), `${rig.gw.tcpNat.flows} flows left`);
  assert.equal(rig.gw.holds.held, 0, 'no block held once the flow ended');
});
