import type { Socket } from 'node:net';
import type { TcpSocket } from '../../tcpip/index.js';
/** Splice `host` and `guest`; `onClosed` runs once, when both are closed. */
export declare function splice(host: Socket, guest: TcpSocket, onClosed: () => void): void;
