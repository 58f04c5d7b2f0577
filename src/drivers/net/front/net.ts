// The guest's view of a network interface: Mirage's NETWORK signature (mirage-net's S), with
// frames as Uint8Arrays and errors as typed values carried by rejected promises. The TCP/IP
// stack (src/tcpip) is written against this interface and nothing below it.
import type { NetFrameInfo } from '../../../abi/netif.js';

/** Counters as Mirage's Mirage_net.stats keeps them. */
export interface NetStats {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly rxErrors: number;
  readonly txErrors: number;
  readonly rxDropped: number;
  readonly txDropped: number;
}

/** Offloads negotiated with the backend: what write() may be given and listen() may see. */
export interface NetOffloads {
  /** Frames may be sent and received with csumBlank (the checksum left to the peer on this host). */
  readonly csum: boolean;
  readonly gsoTcpv4: boolean;
  readonly gsoTcpv6: boolean;
}

export interface Net {
  /** The vif's device id (its index in vif=) and MAC (aa:bb:cc:dd:ee:ff). */
  readonly devid: number;
  readonly mac: string;
  /** Largest frame payload (1500 unless mtu= says otherwise); GSO frames may exceed it. */
  readonly mtu: number;
  readonly offloads: NetOffloads;
  /** Send one frame or several in order (each with `info`); resolves when the backend has consumed them. */
  write(frames: Uint8Array | readonly Uint8Array[], info?: NetFrameInfo): Promise<void>;
  /**
   * Zero-copy send, where the device has memory it shares with its backend (netfront's granted
   * pages): `fill` writes the whole `len`-byte frame there, at once, and it goes out after the
   * frames written before it (waiting there, with no copy, while the ring is full). False, with
   * `fill` not called, when it cannot be done now (no room in that memory, not connected, or a
   * frame write() would refuse): the caller builds the frame and write()s it. Errors the backend
   * answers are counted in stats(), not reported.
   */
  writeInPlace?(len: number, info: NetFrameInfo, fill: (frame: Uint8Array) => void): boolean;
  /** Receive frames; the Uint8Array is valid only during the call. Returns a function that stops listening. */
  listen(handler: (frame: Uint8Array, info: NetFrameInfo) => void): () => void;
  stats(): NetStats;
  /** Close the device (xenbus Closing, Closed); later writes reject with Disconnected. */
  disconnect(): Promise<void>;
}
