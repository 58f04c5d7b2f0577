// The TCP/IP stack's public surface.
export { createStack, TcpipStack, type StackOptions, type AddressInfo } from './stack.js';
export { clockFromTime, DeadlineClock, realClock, type Clock, type Timer } from './clock.js';
export { ConnectionRefused, ConnectionReset, NoRoute, TcpipError, Timeout, type TcpipErrorCode } from './errors.js';
export { parseStaticConfig, type StaticConfig, type StaticConfigInput } from './config.js';
export type { TcpSocket } from './tcp/socket.js';
export type { TcpServer, ConnectOptions } from './tcp/tcp.js';
export type { TcpConfig } from './tcp/settings.js';
export type { UdpSocket, UdpPeer } from './udp.js';
export type { DhcpLease } from './dhcp.js';
export { parseZone, ZoneError, type Zone } from './dns-zone.js';
export { answerQuery } from './dns-server.js';
