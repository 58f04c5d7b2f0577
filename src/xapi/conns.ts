// Connections per source address on XenAPI's TCP listener. The listener's own bound (XAPI's
// conn_limit_tcp) is shared: without this one, one address could hold every place with idle
// connections for the header timeouts, or with long polls, and no one else could connect. A
// connection counts as unauthenticated until a call on it carries a live session (or logs in):
// an address holds few of those, and more once its clients are logged in.

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

  /** Connections of `source` now, and of those unauthenticated. */
  count(source: string): { total: number; unauthenticated: number } {
    return { ...(this.#sources.get(source) ?? { total: 0, unauthenticated: 0 }) };
  }

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
