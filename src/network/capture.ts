// Packet capture: a bridge's or a port's frames to a classic pcap stream, as tcpdump -w writes
// one. A capture is a consumer without offloads, so it records checksummed, segmented frames,
// as they would be on a wire. It is bounded: it ends after `count` frames or when the file
// would pass `maxBytes`, and drops (and counts) frames while its writer is `maxBacklog` bytes
// behind, as a kernel's capture ring does, so a slow reader never grows dom0's memory.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { NetFrameInfo } from '../abi/netif.js';
import { XenError } from '../errors.js';
import { completeOffloads, needsCompletion } from './offload.js';
import { PCAP_DEFAULT_SNAPLEN, PCAP_FILE_HEADER_SIZE, PCAP_RECORD_HEADER_SIZE, pcapFileHeader, pcapRecord, usecsClock } from './pcap.js';

const NO_OFFLOADS = { csumOffload: false, gsoTcpv4: false, gsoTcpv6: false } as const;

export const CAPTURE_DEFAULTS = { snaplen: PCAP_DEFAULT_SNAPLEN, maxBytes: 256 * 2 ** 20, maxBacklog: 8 * 2 ** 20 } as const;
/** The largest file a capture may be asked for. */
export const CAPTURE_MAX_BYTES = 2 ** 32;

export interface CaptureOptions {
  /** Stop after this many frames (tcpdump -c). */
  readonly count?: number;
  /** Bytes of each frame kept (tcpdump -s). */
  readonly snaplen?: number;
  /** The file stops growing here: the capture ends before a frame would pass it. */
  readonly maxBytes?: number;
  /** Bytes queued to a slow writer before frames are dropped. */
  readonly maxBacklog?: number;
}

/** Where the pcap bytes go. */
export interface CaptureSink {
  write(chunk: Uint8Array): void;
  /** Bytes written but not yet taken by the reader. */
  readonly backlog: number;
}

export type CaptureEnd = 'count' | 'size' | 'stopped' | 'gone';

export interface CaptureSummary {
  /** Frames in the file. */
  readonly frames: number;
  /** The file's size. */
  readonly bytes: number;
  /** Frames not recorded because the writer was behind. */
  readonly dropped: number;
  readonly end: CaptureEnd;
}

/** What a bridge or port calls for each frame it sees. */
export interface Tap {
  frame(frame: Uint8Array, info: NetFrameInfo): void;
  /** The bridge or port went away. */
  gone(): void;
}

function checkPositive(v: number | undefined, max: number, what: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0 && v <= max)) throw new XenError('EINVAL', `capture ${what} must be an integer in 1..${max}`);
}

export function checkCaptureOptions(o: CaptureOptions): void {
  checkPositive(o.count, Number.MAX_SAFE_INTEGER, 'count');
  checkPositive(o.snaplen, PCAP_DEFAULT_SNAPLEN, 'snaplen');
  checkPositive(o.maxBytes, CAPTURE_MAX_BYTES, 'maxBytes');
  if (o.maxBytes !== undefined && o.maxBytes < PCAP_FILE_HEADER_SIZE) throw new XenError('EINVAL', `capture maxBytes must be at least ${PCAP_FILE_HEADER_SIZE}`);
  checkPositive(o.maxBacklog, CAPTURE_MAX_BYTES, 'maxBacklog');
}

export class Capture implements Tap {
  readonly #sink: CaptureSink;
  readonly #count: number;
  readonly #snaplen: number;
  readonly #maxBytes: number;
  readonly #maxBacklog: number;
  readonly #now = usecsClock();
  #frames = 0;
  #bytes = PCAP_FILE_HEADER_SIZE;
  #dropped = 0;
  #end: CaptureEnd | null = null;
  #detach: () => void = () => {};
  #resolve!: (s: CaptureSummary) => void;
  /** Settles when the capture ends, however it ends. */
  readonly done = new Promise<CaptureSummary>((resolve) => (this.#resolve = resolve));

  constructor(sink: CaptureSink, opts: CaptureOptions = {}) {
    checkCaptureOptions(opts);
    this.#sink = sink;
    this.#count = opts.count ?? Infinity;
    this.#snaplen = opts.snaplen ?? CAPTURE_DEFAULTS.snaplen;
    this.#maxBytes = opts.maxBytes ?? CAPTURE_DEFAULTS.maxBytes;
    this.#maxBacklog = opts.maxBacklog ?? CAPTURE_DEFAULTS.maxBacklog;
    sink.write(pcapFileHeader(this.#snaplen));
  }

  /** Called once the capture is tapped in: how to take it out again. */
  attached(detach: () => void): void {
    this.#detach = detach;
  }

  frame(frame: Uint8Array, info: NetFrameInfo): void {
    if (this.#end) return;
    const frames = needsCompletion(info, NO_OFFLOADS) ? completeOffloads(frame, info) ?? [frame] : [frame];
    for (const f of frames) {
      const size = PCAP_RECORD_HEADER_SIZE + Math.min(f.length, this.#snaplen);
      if (this.#bytes + size > this.#maxBytes) return this.#finish('size');
      if (this.#sink.backlog > this.#maxBacklog) {
        this.#dropped++;
        continue;
      }
      this.#sink.write(pcapRecord(f, this.#now(), this.#snaplen));
      this.#bytes += size;
      if (++this.#frames >= this.#count) return this.#finish('count');
    }
  }

  gone(): void {
    this.#finish('gone');
  }

  stop(): void {
    this.#finish('stopped');
  }

  get summary(): CaptureSummary {
    return { frames: this.#frames, bytes: this.#bytes, dropped: this.#dropped, end: this.#end ?? 'stopped' };
  }

  #finish(end: CaptureEnd): void {
    if (this.#end) return;
    this.#end = end;
    this.#detach();
    this.#resolve(this.summary);
  }
}

/** A pcap file for a capture: created (mode 0600) or truncated; only a regular file, never through a symlink. */
export async function openPcapFile(file: string): Promise<{ sink: CaptureSink; close(): Promise<void> }> {
  if (!isAbsolute(file)) throw new XenError('EINVAL', `the capture file must be an absolute path, not '${file}'`);
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600)
    .catch((e: NodeJS.ErrnoException) => {
      throw new XenError(e.code === 'ENOENT' ? 'ENOENT' : e.code === 'EACCES' ? 'EACCES' : 'EINVAL', `cannot write ${file}: ${e.message}`);
    });
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new XenError('EINVAL', `${file} is not a regular file`);
  }
  const stream = fh.createWriteStream();
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.on('error', () => {});
  return {
    sink: { write: (chunk) => void stream.write(chunk), get backlog() { return stream.writableLength; } },
    close: () => {
      stream.end();
      return closed;
    },
  };
}
