// Types shared by xenstored's transports (Unix socket, per-domain ring page) and the daemon core,
// so the core never knows which transport carries a connection.
import type { DomainRing } from '../common/ring.js';

/**
 * Maps a guest's xenstore ring page for XS_INTRODUCE (domid, mfn, port). In xenode the host does
 * this through the hypervisor; without it, xenstored registers the domain with no ring.
 */
export type IntroduceHook = (domid: number, mfn: number, port: number) => Promise<DomainRing>;

/**
 * Hands bytes (replies, watch events) to the transport. It may return how many bytes the
 * transport still holds unsent afterwards: xenstored disconnects a peer whose backlog grows past
 * its limit (a client that never reads its replies).
 */
export type SendBytes = (bytes: Uint8Array) => number | void;

/** Why xenstored dropped a connection: the XENSTORE_ERROR_* code of xs_wire.h (0 = plain close). */
export type CloseReason = number;

/** The daemon side of one connection, as a transport drives it. */
export interface ConnectionSink {
  /** Bytes read from the peer, in order; any chunking. They are read during the call only: the transport may reuse their memory afterwards. */
  receive(bytes: Uint8Array): void;
  /** The peer reconnected (ring `connection` = XENSTORE_RECONNECT): drop watches, transactions and partial input. */
  reset(): void;
  /** The transport is gone: abort its transactions, remove its watches. */
  close(): void;
  /** False while the connection holds as much unprocessed input as it takes: stop reading. */
  readonly wantsInput?: boolean;
  /** Set by the transport: called when the connection takes input again. */
  onInputSpace?: (() => void) | undefined;
  /** The transport reports the output bytes the peer has not taken yet (it read some, or fell behind); inside `send`, its return reports them instead. */
  outputPending?(bytes: number): void;
}

/** The transport side of one connection, as xenstored drives it. */
export interface ServerTransport {
  send: SendBytes;
  /** xenstored dropped the peer; a ring transport records `reason` in the page's `error` field. */
  close(reason: CloseReason): void;
}

/**
 * The server end of a domain's ring (server/ring.ts exports one as `serveRing`): it moves request bytes
 * from the page's req ring into `sink.receive` and reply bytes from `send` into the rsp ring.
 */
export type ServeRing = (ring: DomainRing, sink: ConnectionSink) => ServerTransport;
