export declare const PCAP_MAGIC_USEC = 2712847316;
export declare const PCAP_VERSION_MAJOR = 2;
export declare const PCAP_VERSION_MINOR = 4;
export declare const LINKTYPE_ETHERNET = 1;
export declare const PCAP_FILE_HEADER_SIZE = 24;
export declare const PCAP_RECORD_HEADER_SIZE = 16;
/** tcpdump's default snapshot length. */
export declare const PCAP_DEFAULT_SNAPLEN = 262144;
export declare function pcapFileHeader(snaplen: number): Uint8Array;
/** One record: header and the first `snaplen` bytes of the frame; `usecs` since the epoch. */
export declare function pcapRecord(frame: Uint8Array, usecs: number, snaplen: number): Uint8Array;
/** Now, in microseconds since the epoch, to the microsecond. */
export declare function nowUsecs(): number;
