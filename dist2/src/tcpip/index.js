// The TCP/IP stack's public surface.
export { createStack, TcpipStack } from './stack.js';
export { clockFromTime, realClock } from './clock.js';
export { ConnectionRefused, ConnectionReset, NoRoute, TcpipError, Timeout } from './errors.js';
export { parseStaticConfig } from './config.js';
export { parseZone, ZoneError } from './dns-zone.js';
export { answerQuery } from './dns-server.js';
//# sourceMappingURL=index.js.map