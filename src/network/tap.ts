// A bridge's kernel peer: a Linux TAP device whose frames socat relays to dom0 as UDP
// datagrams on loopback, one frame each (socat's TUN address with tun-type=tap and iff-no-pi),
// so the host's own kernel reaches the bridge's guests with no NAT and routes for them. The TAP
// is a port of the bridge's untagged segment (named after the device), without offloads: the
// switch completes checksums and splits GSO frames before they reach the kernel. Needs root
// (a TAP device) and socat; `xenode bridge-tap` attaches one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { NET_FRAME_PLAIN, type NetFrameInfo } from '../abi/netif.js';
import { XenError } from '../errors.js';
import type { BridgePort } from './bridge.js';
import { ETH_HLEN } from './mac.js';
import type { PortDevice, PortFeatures } from './port.js';
import type { Switch } from './switch.js';

const NO_OFFLOADS: PortFeatures = { csumOffload: false, gsoTcpv4: false, gsoTcpv6: false };
/** Linux's interface names: at most 15 bytes, no slash or space. */
const TAP_NAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
/** How long socat has to create the device. */
const START_MS = 5000;
/** The largest frame socat relays (its -b), and so the largest datagram we take. */
const MAX_FRAME = 65_535;

export interface TapCounters {
  rxFrames: number;
  txFrames: number;
  txDropped: number;
  rxDropped: number;
}

/** A TAP peer as `xenode bridge-tap` shows it. */
export interface TapInfo {
  readonly tap: string;
  /** Its port on the bridge. */
  readonly port: string;
  readonly bridge: string;
  readonly address: string | null;
  readonly pid: number | null;
  readonly rxFrames: number;
  readonly txFrames: number;
}

export interface TapOptions {
  /** The device's own address, A.B.C.D/LEN (socat sets it and brings the device up); none if absent. */
  readonly address?: string;
  /** The socat to run (`socat` from PATH unless given). */
  readonly socat?: string;
}

export class TapPeer implements PortDevice {
  readonly features = NO_OFFLOADS;
  readonly counters: TapCounters = { rxFrames: 0, txFrames: 0, txDropped: 0, rxDropped: 0 };
  port!: BridgePort;
  #closed = false;

  private constructor(readonly name: string, readonly tap: string, readonly address: string | undefined,
    private readonly socket: Socket, private readonly socat: ChildProcess, private readonly socatPort: number) {
    socket.on('message', (msg, rinfo) => {
      // Only socat's datagrams: another local process must not inject frames.
      if (rinfo.address !== '127.0.0.1' || rinfo.port !== socatPort || msg.length < ETH_HLEN) return void this.counters.rxDropped++;
      this.counters.rxFrames++;
      this.port.input(msg, NET_FRAME_PLAIN);
    });
    socket.on('error', () => {});
    socat.once('exit', () => this.close());
  }

  /** Create TAP device `tap` (through socat) and plug it into `bridge` of `sw`. */
  static async attach(sw: Switch, bridge: string, tap: string, opts: TapOptions = {}): Promise<TapPeer> {
    if (!TAP_NAME_RE.test(tap)) throw new XenError('EINVAL', `'${tap}' is not a network interface name (1 to 15 of A-Z a-z 0-9 _ . -)`);
    const m = opts.address === undefined ? undefined : CIDR_RE.exec(opts.address);
    if (opts.address !== undefined && (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)) {
      throw new XenError('EINVAL', `the TAP's address must be A.B.C.D/LEN, not '${opts.address}'`);
    }
    if (existsSync(`/sys/class/net/${tap}`)) throw new XenError('EEXIST', `a network interface named ${tap} exists already`);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const ours = socket.address().port;
    // socat's end: a port the kernel picks now and socat binds right after.
    const probe = createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const socatPort = probe.address().port;
    probe.close();
    const tun = [`TUN${opts.address ? `:${opts.address}` : ''}`, 'tun-type=tap', 'iff-no-pi', 'iff-up', `tun-name=${tap}`].join(',');
    const socat = spawn(opts.socat ?? 'socat', ['-b', String(MAX_FRAME), tun, `UDP:127.0.0.1:${ours},bind=127.0.0.1:${socatPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    socat.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const failed = new Promise<XenError>((resolve) => {
      socat.once('error', (e: NodeJS.ErrnoException) => resolve(new XenError(e.code === 'ENOENT' ? 'ENOENT' : 'EIO', `cannot run socat: ${e.message} (apt-get install socat)`)));
      socat.once('exit', (code) => resolve(new XenError(process.getuid?.() === 0 ? 'EIO' : 'EPERM',
        `socat could not create TAP device ${tap} (exit ${code}${process.getuid?.() === 0 ? '' : '; it needs root'}): ${stderr.trim()}`)));
    });
    const end = Date.now() + START_MS;
    for (;;) {
      const err = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
      if (err) {
        socket.close();
        throw err;
      }
      if (existsSync(`/sys/class/net/${tap}`)) break;
      if (Date.now() > end) {
        socat.kill();
        socket.close();
        throw new XenError('ETIMEDOUT', `socat did not create TAP device ${tap} in ${START_MS} ms: ${stderr.trim()}`);
      }
    }
    const peer = new TapPeer(`tap.${tap}`, tap, opts.address, socket, socat, socatPort);
    try {
      peer.port = sw.plugInternal(bridge, peer, {}, () => peer.close());
    } catch (e) {
      peer.close();
      throw e;
    }
    return peer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bridge(): string {
    return this.port.bridge.name;
  }

  get info(): TapInfo {
    return {
      tap: this.tap, port: this.name, bridge: this.port.bridge.name, address: this.address ?? null, pid: this.socat.pid ?? null,
      rxFrames: this.counters.rxFrames, txFrames: this.counters.txFrames,
    };
  }

  deliver(frame: Uint8Array, _info: NetFrameInfo): boolean {
    if (this.#closed || frame.length > MAX_FRAME) {
      this.counters.txDropped++;
      return false;
    }
    this.counters.txFrames++;
    // A copy: dgram sends later, and the frame is the switch's only during this call.
    this.socket.send(Buffer.from(frame), this.socatPort, '127.0.0.1');
    return true;
  }

  /** Unplug, end socat (which removes the device) and close the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.port?.unplug();
    if (this.socat.exitCode === null) this.socat.kill();
    this.socket.close();
  }
}
