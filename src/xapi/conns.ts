// Connections per source address on XenAPI's TCP listener. The listener's own bound (XAPI's
// conn_limit_tcp) is shared: without this one, one address could hold every place with idle
// connections for the header timeouts, or with long polls, and no one else could connect. A
// connection counts as unauthenticated until a call on it carries a live session (or logs in):
// an address holds few of those, and more once its clients are logged in.
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The source a remote address counts as, for these bounds, the failed-login throttle and the
 * login queue's turns: one who holds many addresses is one source. An IPv4-mapped IPv6 address
 * is its IPv4 address; an IPv6 address counts as its /64 (a site's, which its holder chooses
 * addresses in freely); every loopback address (127/8, ::1) is one source, 'loopback' (any local
 * user can bind any of them). Anything else (a unix socket's 'unix') is itself.
 */
export function sourceKey(address: string): string {
  const a = /^::ffff:/i.test(address) && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(a)) return a.startsWith('127.') ? 'loopback' : a;
  if (!isIPv6(a)) return a;
  const g = ipv6Groups(a.split('%')[0]!);
  if (g.every((x, i) => x === (i === 7 ? 1 : 0))) return 'loopback';
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (no zone). */
function ipv6Groups(a: string): number[] {
  const parts = (s: string) => (s === '' ? [] : s.split(':').flatMap((x) => {
    if (!x.includes('.')) return [Number.parseInt(x, 16)];
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = x.split('.').map(Number);
    return [(b0 << 8) | b1, (b2 << 8) | b3];
  }));
  const [left = '', right] = a.split('::');
  if (right === undefined) return parts(left);
  const l = parts(left);
  const r = parts(right);
  return [...l, ...Array<number>(8 - l.length - r.length).fill(0), ...r];
}

export interface SourceLimits {
  /** Connections of one source address at once. */
  readonly perSource: number;
  /** Of those, not yet carrying a live session: a client that has not logged in holds few. */
  readonly unauthenticatedPerSource: number;
}

/** One admitted connection: authenticated() once a call on it had a live session; close() once. */
export interface SourceConnection {
  authenticated(): void;
  close(): void;
}

export class SourceConnections {
  readonly #sources = new Map<string, { total: number; unauthenticated: number }>();

  constructor(readonly limits: SourceLimits) {}

  /** The connection's hold, or undefined past the source's bound (the listener closes it). */
  admit(source: string): SourceConnection | undefined {
    const s = this.#sources.get(source) ?? { total: 0, unauthenticated: 0 };
    if (s.total >= this.limits.perSource || s.unauthenticated >= this.limits.unauthenticatedPerSource) return undefined;
    s.total++;
    s.unauthenticated++;
    this.#sources.set(source, s);
    let authenticated = false;
    let closed = false;
    return {
      authenticated: () => {
        if (authenticated || closed) return;
        authenticated = true;
        s.unauthenticated--;
      },
      close: () => {
        if (closed) return;
        closed = true;
        s.total--;
        if (!authenticated) s.unauthenticated--;
        if (s.total === 0) this.#sources.delete(source);
      },
    };
  }
}
