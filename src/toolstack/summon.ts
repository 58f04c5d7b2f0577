// Summoning, as Jitsu does it (Madhavapeddy et al., NSDI'15: "Jitsu: Just-In-Time Summoning of
// Unikernels"): dom0 answers DNS for names it has been told about, and the first query for a
// name whose guest is not running boots it (from a shell, when one fits) and answers once its
// main() runs, with the address of its first vif. A xenode extension: `xenode summon NAME CFG`
// registers the name; the host's summoning DNS server listens on a host UDP socket
// (`xenode host --summon-port`, loopback by default).
//
// Queries for other names are REFUSED (the server is authoritative for summoned names only);
// a boot that fails answers SERVFAIL. Each summoned name boots at most one guest at a time:
// queries that come while it boots wait for the same boot.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { XenError } from '../errors.js';
import { readName } from '../tcpip/dns.js';
import { answerQuery, RCODE } from '../tcpip/dns-server.js';
import { checkName, parseZone, type Zone } from '../tcpip/dns-zone.js';
import type { DomainConfig } from './domconfig.js';

/** Names one host may summon: each holds a configuration in memory. */
export const MAX_SUMMONED = 1024;
/** Answers say this: a client asks again soon, so a summoned guest that stopped is booted again. */
const SUMMON_TTL_S = 1;
const MIN_QUERY = 12;
const MAX_QUERY = 512;
const FLAG_QR = 0x80;

/** What the summoner needs of the host. */
export interface SummonHost {
  /** The running (not dying) domain named `name`, if any. */
  running(name: string): boolean;
  /**
   * Create the domain (start the halted VM `vm`, when given) and resolve once its main() has been
   * called; `served` settles once it has answered the request that summoned it (a shell taken for
   * it is replaced after that, so that the replacement's build does not compete with its boot).
   * `built` is called once the domain is built and its kernel handed over, before the create's end.
   */
  boot(config: DomainConfig, vm: string | undefined, served: Promise<void>, built: () => void): Promise<void>;
  log(line: string): void;
}

/** Where the summoning DNS server listens. */
export interface SummonDns {
  readonly address: string;
  readonly port: number;
}

export interface SummonedName {
  readonly name: string;
  /** The guest's address, from its first vif's ip=. */
  readonly address: string;
  readonly domain: string;
  /** Guests this name has booted. */
  readonly boots: number;
}

interface Entry {
  readonly guest: SummonedGuest;
  readonly zone: Zone;
  readonly address: string;
}

/** A guest booted on demand: at most one boot at a time, however many ask meanwhile. */
export class SummonedGuest {
  #booting: Promise<void> | undefined;
  /** Settles once the current boot's domain is built (SummonHost.boot's `built`). */
  #built: Promise<void> = Promise.resolve();
  /** Settles the current boot's `served` (SummonHost.boot). */
  #served: (() => void) | undefined;
  /** Guests booted so far. */
  boots = 0;

  /** `vm`: a halted persistent VM that `config` is the configuration of (it starts, rather than a new domain). */
  constructor(private readonly host: SummonHost, readonly config: DomainConfig, readonly vm?: string) {}

  /**
   * Running already (false), or booted for this or a call that came first (true). `built` is
   * called once the booting guest's domain is built (SummonHost.boot), if it is.
   */
  async summon(built?: () => void): Promise<boolean> {
    if (this.host.running(this.config.name)) return false;
    if (!this.#booting) {
      this.served();
      const served = new Promise<void>((r) => (this.#served = r));
      let done!: () => void;
      this.#built = new Promise<void>((r) => (done = r));
      this.#booting = this.host.boot(this.config, this.vm, served, done).then(() => void this.boots++).finally(() => (this.#booting = undefined));
    }
    if (built) void this.#built.then(built);
    await this.#booting;
    return true;
  }

  /** The guest answered (or the request that summoned it was given up). */
  served(): void {
    this.#served?.();
    this.#served = undefined;
  }
}

/** The first IPv4 address of the configuration's first vif (ip=), which the answers carry. */
export function summonAddress(config: DomainConfig): string {
  const ip = config.vifs[0]?.ip?.split(/\s+/).map((a) => a.replace(/\/\d+$/, '')).find((a) => /^\d{1,3}(\.\d{1,3}){3}$/.test(a));
  if (!ip) throw new XenError('EINVAL', `domain ${config.name}: a summoned guest needs an IPv4 address on its first vif (vif = [ 'bridge=xenbr0,ip=10.0.0.5' ]), which the DNS answer names`);
  return ip;
}

export class Summoner {
  readonly #host: SummonHost;
  readonly #names = new Map<string, Entry>();
  #socket: Socket | undefined;
  #bound: { address: string; port: number } | undefined;

  readonly #at: SummonDns;
  #listening: Promise<{ address: string; port: number }> | undefined;

  constructor(host: SummonHost, at: SummonDns = { address: '127.0.0.1', port: 0 }) {
    this.#host = host;
    this.#at = at;
  }

  /** Listen for queries (once; port 0: any free port); where it listens. */
  listen(): Promise<{ address: string; port: number }> {
    this.#listening ??= this.#bind().catch((e: Error) => {
      this.#listening = undefined;
      throw new XenError('EADDRINUSE', `summon: the DNS server cannot listen on ${this.#at.address}:${this.#at.port}: ${e.message}`);
    });
    return this.#listening;
  }

  async #bind(): Promise<{ address: string; port: number }> {
    const { address, port } = this.#at;
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => void this.#query(msg, rinfo.address, rinfo.port));
    s.on('error', (e) => this.#host.log(`summon: DNS socket: ${e.message}`));
    s.bind(port, address);
    await Promise.race([once(s, 'listening'), once(s, 'error').then(([e]) => Promise.reject(e as Error))]);
    this.#socket = s;
    const a = s.address();
    this.#bound = { address: a.address, port: a.port };
    return this.#bound;
  }

  get listening(): { address: string; port: number } | undefined {
    return this.#bound;
  }

  /** Register `name` (a DNS name) for the domain `config` describes; a name is summoned once. */
  add(name: string, config: DomainConfig): SummonedName {
    const n = checkName(name.replace(/\.$/, ''));
    if (this.#names.has(n)) throw new XenError('EEXIST', `${n} is summoned already`);
    if (this.#names.size >= MAX_SUMMONED) throw new XenError('ENOSPC', `${MAX_SUMMONED} names are summoned already`);
    const address = summonAddress(config);
    const zone = parseZone(`zone=${n} ttl=${SUMMON_TTL_S} records=@/A/${address}`);
    const e: Entry = { guest: new SummonedGuest(this.#host, config), zone, address };
    this.#names.set(n, e);
    return this.#info(n, e);
  }

  remove(name: string): void {
    const n = name.replace(/\.$/, '').toLowerCase();
    if (!this.#names.delete(n)) throw new XenError('ENOENT', `${n} is not summoned`);
  }

  list(): SummonedName[] {
    return [...this.#names].map(([n, e]) => this.#info(n, e));
  }

  #info(name: string, e: Entry): SummonedName {
    return { name, address: e.address, domain: e.guest.config.name, boots: e.guest.boots };
  }

  async #query(msg: Buffer, address: string, port: number): Promise<void> {
    if (msg.length < MIN_QUERY || msg.length > MAX_QUERY || (msg[2]! & FLAG_QR) !== 0) return;
    const q = readName(msg, 12);
    if (!q || q.end + 4 > msg.length) return this.#send(refusal(msg, 12, RCODE.FORMERR), address, port);
    const questionEnd = q.end + 4;
    const e = this.#names.get(q.name.toLowerCase());
    if (!e) return this.#send(refusal(msg, questionEnd, RCODE.REFUSED), address, port);
    try {
      await e.guest.summon();
    } catch (err) {
      this.#host.log(`summon: booting ${e.guest.config.name} for ${q.name} failed: ${(err as Error).message}`);
      return this.#send(refusal(msg, questionEnd, RCODE.SERVFAIL), address, port);
    }
    const answer = answerQuery(msg, e.zone);
    if (answer) this.#send(answer, address, port);
    e.guest.served();
  }

  #send(b: Uint8Array, address: string, port: number): void {
    this.#socket?.send(b, port, address);
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
    this.#bound = undefined;
    this.#listening = undefined;
  }
}

/** A reply with the query's id and its question (the first `end` bytes; none if 12) and no records. */
function refusal(query: Uint8Array, end: number, rcode: number): Uint8Array {
  const out = query.slice(0, end);
  out[2] = (out[2]! | FLAG_QR) & ~0x04; // QR set, AA clear, opcode and RD kept
  out[3] = (out[3]! & 0x70) | rcode; // RA clear
  out.fill(0, end === 12 ? 4 : 6, 12); // no answer, authority or additional records
  return out;
}
