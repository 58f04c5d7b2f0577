// Joining a host socket to a connection of the gateway's stack: bytes both ways with
// backpressure (a side that does not read stops the other side's reads, so buffers stay at the
// streams' high-water marks), FIN carried each way on its own (half-close), and a reset or
// error on either side resets the other.
//
// Host to guest, the host socket reads into one buffer (net's `onread`, src/readinto.ts) whose
// bytes go straight into the guest connection's send buffer: no Buffer per read. Through the
// stream's 'data' events, each 64 KiB read was a fresh Buffer whose external memory made dom0's
// heap collect in full every few hundred reads of a host stream (docs/PERFORMANCE.md, issue 13).
// Guest to host likewise: the guest connection hands over views of its received frames
// (TcpSocket.onBytes), copied into pooled blocks that the host socket gives back once written,
// where the stream made a fresh copy of each segment.
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { copyBytes } from '../../hypervisor/copy.js';
import { readingInto } from '../../readinto.js';
import { BufferPool } from '../../tcpip/bufferpool.js';
import type { TcpSocket } from '../../tcpip/index.js';

/**
 * What every spliced host socket of this thread reads into: a read is copied into its guest
 * connection before the callback returns, so the next read, of any connection, may reuse it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Blocks of guest bytes on their way into host sockets, back once the kernel took them. */
const WRITE_BLOCKS = new BufferPool();

/**
 * The most a splice holds in blocks not yet written to its host socket, by the blocks' own size:
 * a block is 2 KiB or 64 KiB whatever the segment it carries, so a guest sending 1-byte
 * segments to a host peer that does not read would hold 2,048 times what the socket's
 * high-water mark counts.
 */
export const SPLICE_HELD_LIMIT = 256 * 1024;

/**
 * What a gateway's splices hold in blocks for their host sockets (`xenode network-gateway`):
 * one splice stays within SPLICE_HELD_LIMIT plus the last run of bytes it was handed.
 */
export class SpliceHolds {
  /** Bytes held now, by all of them. */
  held = 0;
  /** The most one splice has held at once. */
  peak = 0;
  /** Bytes held connections have been read ahead of their splice, now (ReadAhead's buffers are under twice that). */
  readAhead = 0;
}

/** The most a ReadAhead keeps (plus its last read); the rest waits in the kernel's buffers. */
export const READ_AHEAD_LIMIT = 16 * 1024;

type Reads = (n: number, buf: Buffer) => boolean;

const NOTHING = Buffer.alloc(0);

/**
 * A host connection read while it waits for its guest (a summoning forward's hold), so that its
 * first bytes (a request) go to the guest the moment the two are spliced: left in the kernel,
 * they were read a turn of dom0's loop after the join. Reads stop once READ_AHEAD_LIMIT bytes
 * are kept, until the splice.
 *
 * The bytes are copied into one buffer, grown by doubling (up to READ_AHEAD_LIMIT, or the last
 * read's end past it): a copy per read (a Buffer each) let a client sending 1-byte segments make
 * 16,384 objects per held connection, 2.4 MB of dom0's memory for 16 KiB of bytes.
 */
export class ReadAhead {
  /** The connection from now on (`accepted` gives its handle to it). */
  readonly socket: Socket;
  #store = NOTHING;
  #size = 0;
  #ended = false;
  #reads: Reads | undefined;

  /** `holds.readAhead` counts what it keeps until the splice takes it or the connection closes. */
  constructor(accepted: Socket, private readonly holds: SpliceHolds) {
    this.socket = readingInto(accepted, READ_BUFFER, (n, buf) => (this.#reads ? this.#reads(n, buf) : this.#keep(buf, n)), { allowHalfOpen: true });
    this.socket.on('error', () => {});
    this.socket.once('end', () => (this.#ended = true));
    this.socket.once('close', () => this.#release());
  }

  /** Bytes kept now. */
  get kept(): number {
    return this.#size;
  }

  #keep(buf: Buffer, n: number): boolean {
    const size = this.#size + n;
    if (size > this.#store.byteLength) {
      const grown = Buffer.allocUnsafe(Math.max(size, Math.min(2 * this.#store.byteLength, READ_AHEAD_LIMIT)));
      grown.set(this.#store.subarray(0, this.#size));
      this.#store = grown;
    }
    this.#store.set(buf.subarray(0, n), this.#size);
    this.#size = size;
    this.holds.readAhead += n;
    return size < READ_AHEAD_LIMIT;
  }

  #release(): void {
    this.holds.readAhead -= this.#size;
    this.#store = NOTHING;
    this.#size = 0;
  }

  /** Reads go to `reads` from now on; the bytes kept, and whether the host's FIN came after them. */
  take(reads: Reads): { bytes: Buffer; ended: boolean } {
    this.#reads = reads;
    const bytes = this.#store.subarray(0, this.#size);
    this.#release();
    return { bytes, ended: this.#ended };
  }
}

/**
 * Splice `accepted` (paused since its creation, with its handle, or read ahead) and `guest`,
 * counting the blocks held in `holds`; `onClosed` runs once, when both are closed. Answers the
 * host socket that now carries the connection (`accepted` gives its handle to it).
 */
export function splice(accepted: Socket | ReadAhead, guest: TcpSocket, holds: SpliceHolds, onClosed: () => void): Socket {
  const resume = () => {
    if (!host.destroyed) host.resume();
  };
  const toGuest: Reads = (n, buf) => guest.writeNow(buf.subarray(0, n), resume);
  let early: { bytes: Buffer; ended: boolean } | undefined;
  let host: Socket;
  if (accepted instanceof ReadAhead) {
    host = accepted.socket;
    early = accepted.take(toGuest);
  } else {
    host = readingInto(accepted, READ_BUFFER, toGuest, { allowHalfOpen: true });
  }
  let open = 2;
  const closed = () => {
    if (--open === 0) onClosed();
  };
  host.once('close', closed);
  guest.once('close', closed);
  host.on('error', () => {
    if (!guest.destroyed) guest.reset();
  });
  guest.on('error', () => {
    if (!host.destroyed) host.resetAndDestroy();
  });
  // Both ended cleanly: nothing more will move.
  const ended = () => {
    if (host.readableEnded && guest.readableEnded && host.writableFinished && guest.writableFinished) {
      host.destroy();
      guest.destroy();
    }
  };
  for (const s of [host, guest]) {
    s.on('end', ended);
    s.on('finish', ended);
  }
  // The host's FIN after its last bytes, which writeNow has already queued.
  host.on('end', () => guest.end());
  // The guest's bytes stop coming (its window closes) while the kernel refuses some of ours or
  // the blocks they wait in pass SPLICE_HELD_LIMIT; each write's completion may start them again.
  let held = 0;
  let paused = false;
  const room = () => held < SPLICE_HELD_LIMIT && host.writableLength < host.writableHighWaterMark;
  guest.onBytes((bytes) => {
    const block = WRITE_BLOCKS.take(bytes.length);
    const size = block.buffer.byteLength;
    copyBytes(block, bytes);
    held += size;
    holds.held += size;
    if (held > holds.peak) holds.peak = held;
    host.write(block, () => {
      held -= size;
      holds.held -= size;
      WRITE_BLOCKS.give(block);
      if (paused && room() && !guest.destroyed) {
        paused = false;
        guest.resumeBytes();
      }
    });
    paused = !room();
    return !paused;
  });
  guest.on('end', () => host.end());
  // What was read ahead goes first; reads stopped at the limit go on once the guest has room.
  if (early) {
    if (early.bytes.length > 0 && guest.writeNow(early.bytes, resume) && early.bytes.length >= READ_AHEAD_LIMIT) resume();
    if (early.ended) guest.end();
  }
  return host;
}
