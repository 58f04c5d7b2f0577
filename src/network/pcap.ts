// The classic libpcap file format (pcap-savefile(5)): a 24-byte file header, then a 16-byte
// record header before each frame, microsecond timestamps, in this machine's byte order
// (readers tell it by the magic number), link type LINKTYPE_ETHERNET.

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_FILE_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;
/** tcpdump's default snapshot length. */
export const PCAP_DEFAULT_SNAPLEN = 262_144;

export function pcapFileHeader(snaplen: number): Uint8Array {
  const h = new Uint8Array(PCAP_FILE_HEADER_SIZE);
  const v = new DataView(h.buffer);
  v.setUint32(0, PCAP_MAGIC_USEC, true);
  v.setUint16(4, PCAP_VERSION_MAJOR, true);
  v.setUint16(6, PCAP_VERSION_MINOR, true);
  // thiszone and sigfigs: 0, as every writer today.
  v.setUint32(16, snaplen, true);
  v.setUint32(20, LINKTYPE_ETHERNET, true);
  return h;
}

/** One record: header and the first `snaplen` bytes of the frame; `usecs` since the epoch. */
export function pcapRecord(frame: Uint8Array, usecs: number, snaplen: number): Uint8Array {
  const caplen = Math.min(frame.length, snaplen);
  const r = new Uint8Array(PCAP_RECORD_HEADER_SIZE + caplen);
  const v = new DataView(r.buffer);
  const secs = Math.floor(usecs / 1e6);
  v.setUint32(0, secs, true);
  v.setUint32(4, Math.floor(usecs - secs * 1e6), true);
  v.setUint32(8, caplen, true);
  v.setUint32(12, frame.length, true);
  r.set(frame.subarray(0, caplen), PCAP_RECORD_HEADER_SIZE);
  return r;
}

/**
 * A clock in microseconds since the epoch, to the microsecond: the wall clock read once when the
 * clock is made, advanced by the monotonic clock. performance.timeOrigin is fixed at process start,
 * so in a long-running host it drifts from the wall clock; anchoring per capture keeps a file's
 * timestamps comparable with the host's logs.
 */
export function usecsClock(): () => number {
  // Read the two clocks back to back; retry if the thread was descheduled in between.
  let base = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    base = Date.now() * 1000 - before * 1000;
    if (performance.now() - before < 0.2) break;
  }
  return () => Math.round(base + performance.now() * 1000);
}
