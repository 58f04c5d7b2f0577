export { HISTOGRAM_BUCKETS, bucketLimit, bucketOf, percentileOf } from './histogram.js';
export { XenError } from '../errors.js';
export { BlockError, Disconnected, IoError, OutOfRange, ReadOnly, Unaligned } from '../drivers/blk/front/errors.js';
export { NET_FRAME_PLAIN } from '../abi/netif.js';
export { BackendMisbehaved, Disconnected as NetDisconnected, InvalidLength, NetError, TxError, Unimplemented, } from '../drivers/net/front/errors.js';
export { ConnectionRefused, ConnectionReset, NoRoute, TcpipError, Timeout } from '../tcpip/index.js';
export { answerQuery, parseZone, ZoneError } from '../tcpip/index.js';
//# sourceMappingURL=library.js.map