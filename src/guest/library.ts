// What guest programs import from 'xenode', wherever they run: the types of the library OS.
// index.ts adds what only a domain with a thread of its own can use (driver domains' backends).
export type { OS, GuestConsole } from './os.js';
export type { Time } from './time.js';
export type { IoPages } from './iopages.js';
export type { Lifecycle, ShutdownRequest, SuspendHandler } from './lifecycle.js';
export { HISTOGRAM_BUCKETS, bucketLimit, bucketOf, percentileOf } from './histogram.js';
export type { XenstoreClient } from '../xenstore/client/client.js';
export { XenError } from '../errors.js';
export type { Block, BlockInfo } from '../drivers/blk/front/block.js';
export type { BlkfrontOptions } from '../drivers/blk/front/blkfront.js';
export { BlockError, Disconnected, IoError, OutOfRange, ReadOnly, Unaligned } from '../drivers/blk/front/errors.js';
export type { Net, NetOffloads, NetStats } from '../drivers/net/front/net.js';
export type { NetfrontOptions } from '../drivers/net/front/netfront.js';
export { NET_FRAME_PLAIN, type NetFrameInfo } from '../abi/netif.js';
export {
  BackendMisbehaved, Disconnected as NetDisconnected, InvalidLength, NetError, TxError, Unimplemented,
} from '../drivers/net/front/errors.js';
export type { EventChannels } from '../drivers/evtchn.js';
export type { TcpipOptions } from './tcpip.js';
export type { TcpipStack, AddressInfo, TcpSocket, TcpServer, UdpSocket, UdpPeer, DhcpLease } from '../tcpip/index.js';
// The values come from their own modules, not the stack's index: an idle guest never links the
// stack (a realm of a shared pCPU evaluated all of it, and readable-stream, at every boot).
export { ConnectionRefused, ConnectionReset, NoRoute, TcpipError, Timeout } from '../tcpip/errors.js';
export { parseZone, ZoneError, type Zone } from '../tcpip/dns-zone.js';
export { answerQuery } from '../tcpip/dns-server.js';
