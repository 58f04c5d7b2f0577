// A rig for dom0's gateway: a switch with the gateway on xenbr0 and guests that are TCP/IP
// stacks on ports of the same bridge (no hypervisor: the bridge is the wire), a DNS server (UDP
// and TCP) on 127.0.0.1 for the relay to ask, and raw frames a hostile guest sends.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { NET_FRAME_PLAIN } from '../../src/abi/netif.js';
import { Gateway, type GatewayOptions } from '../../src/network/gateway/gateway.js';
import { GatewayPort, type GatewayNet } from '../../src/network/gateway/port.js';
import { Switch } from '../../src/network/switch.js';
import { parseIpv4, parseMac, writeIpv4 } from '../../src/tcpip/addr.js';
import { fillL4Checksum, finish, sumBytes } from '../../src/tcpip/checksum.js';
import { createStack, realClock, type TcpipStack } from '../../src/tcpip/index.js';

export interface Rig {
  sw: Switch;
  gw: Gateway;
  /** Guests' stacks, stopped by close(). */
  stacks: TcpipStack[];
  close(): void;
}

export function gatewayRig(opts: GatewayOptions = {}): Rig {
  const sw = new Switch();
  const gw = Gateway.attach(sw, 'xenbr0', { dnsUpstream: { address: '127.0.0.1', port: 9 }, ...opts });
  const stacks: TcpipStack[] = [];
  return {
    sw, gw, stacks, close: () => {
      for (const s of stacks) s.stop();
      sw.close();
    },
  };
}

export interface Guest {
  stack: TcpipStack;
  port: GatewayPort;
  /** Send a raw frame into the bridge as this guest. */
  send(frame: Uint8Array): void;
}

/** A guest on xenbr0 with MAC 00:16:3e:00:00:NN (its stack unconfigured: dhcp() or configure()). */
export function guest(rig: Rig, n: number): Guest {
  const { sw } = rig;
  const mac = `00:16:3e:00:00:${n.toString(16).padStart(2, '0')}`;
  let net: GatewayNet | undefined;
  const port = new GatewayPort(`vif${n}.0`, mac, 1500, (f, i) => net?.feed(f, i));
  net = port.net();
  port.switchPort = sw.plug(port, { bridge: 'xenbr0', mac });
  const stack = createStack(net, { clock: realClock });
  rig.stacks.push(stack);
  return { stack, port, send: (f) => port.send(f, NET_FRAME_PLAIN) };
}

/** A rig with guest 1 holding its DHCP lease; the rig closes after the test. */
export async function rigWithGuest(t: { after(fn: () => void): void }, opts: GatewayOptions = {}): Promise<{ rig: Rig; g: Guest; lease: Awaited<ReturnType<TcpipStack['dhcp']>> }> {
  const rig = gatewayRig(opts);
  t.after(() => rig.close());
  const g = guest(rig, 1);
  return { rig, g, lease: await g.stack.dhcp(5000) };
}

/** The answer to DNS query `q`: its question, and one A record `answer`; undefined for a runt. */
function dnsAnswer(q: Buffer, answer: string): Buffer | undefined {
  if (q.length < 12) return undefined;
  // Header: same id, QR+RD+RA, one question, one answer; the question copied; a pointer to it.
  let end = 12;
  while (end < q.length && q[end] !== 0) end += q[end]! + 1;
  end += 5;
  const a = Buffer.alloc(end + 16);
  q.copy(a, 0, 0, end);
  a[2] = 0x81; a[3] = 0x80;
  a.writeUInt16BE(1, 4); a.writeUInt16BE(1, 6); a.writeUInt16BE(0, 8); a.writeUInt16BE(0, 10);
  a.writeUInt16BE(0xc00c, end); a.writeUInt16BE(1, end + 2); a.writeUInt16BE(1, end + 4);
  a.writeUInt32BE(60, end + 6); a.writeUInt16BE(4, end + 10);
  writeIpv4(a, end + 12, parseIpv4(answer));
  return a;
}

/**
 * A DNS server on 127.0.0.1 that answers every A query with `answer`, over UDP and over TCP
 * (RFC 7766's two-byte length before each message) on the same port.
 */
export async function dnsServer(answer: string): Promise<{ port: number; queries: number; tcpQueries: number; close(): void }> {
  for (let attempt = 0; ; attempt++) {
    const s: Socket = createSocket('udp4');
    const tcp = createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + q.length);
          out.tcpQueries++;
          const a = dnsAnswer(q, answer);
          if (a) c.write(Buffer.concat([Buffer.from([a.length >> 8, a.length & 255]), a]));
        }
      });
    });
    const out = { port: 0, queries: 0, tcpQueries: 0, close: () => { s.close(); tcp.close(); } };
    s.on('message', (q, r) => {
      out.queries++;
      const a = dnsAnswer(q, answer);
      if (a) s.send(a, r.port, r.address);
    });
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    out.port = s.address().port;
    // The same port for TCP: another process may hold it, then try another.
    const bound = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(out.port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return out;
    s.close();
    if (attempt > 20) throw new Error('no port free for UDP and TCP at once');
  }
}

/** An Ethernet+IPv4+TCP/UDP frame from a guest to the gateway's MAC, checksums filled. */
export function l4Frame(o: {
  srcMac: string; dstMac?: string; src: string; dst: string; proto: 6 | 17; srcPort: number; dstPort: number;
  flags?: number; seq?: number; payload?: Uint8Array;
}): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0);
  const hl = o.proto === 6 ? 20 : 8;
  const f = new Uint8Array(14 + 20 + hl + payload.length);
  f.set(parseMac(o.dstMac ?? '52:55:0a:00:02:02'), 0);
  f.set(parseMac(o.srcMac), 6);
  f[12] = 0x08;
  const ip = 14;
  f[ip] = 0x45;
  const total = 20 + hl + payload.length;
  f[ip + 2] = total >> 8; f[ip + 3] = total;
  f[ip + 8] = 64; f[ip + 9] = o.proto;
  writeIpv4(f, ip + 12, parseIpv4(o.src));
  writeIpv4(f, ip + 16, parseIpv4(o.dst));
  const c = finish(sumBytes(f, ip, 20));
  f[ip + 10] = c >> 8; f[ip + 11] = c;
  const l4 = ip + 20;
  f[l4] = o.srcPort >> 8; f[l4 + 1] = o.srcPort; f[l4 + 2] = o.dstPort >> 8; f[l4 + 3] = o.dstPort;
  if (o.proto === 6) {
    const seq = o.seq ?? 1000;
    f[l4 + 4] = seq >>> 24; f[l4 + 5] = seq >>> 16; f[l4 + 6] = seq >>> 8; f[l4 + 7] = seq;
    f[l4 + 12] = 5 << 4; f[l4 + 13] = o.flags ?? 0x02;
    f[l4 + 14] = 0xff; f[l4 + 15] = 0xff;
  } else {
    f[l4 + 4] = (8 + payload.length) >> 8; f[l4 + 5] = 8 + payload.length;
  }
  f.set(payload, l4 + hl);
  fillL4Checksum(f, l4, hl + payload.length, l4 + (o.proto === 6 ? 16 : 6), parseIpv4(o.src), parseIpv4(o.dst), o.proto, false);
  return f;
}

export { waitFor } from './wait.js';
