// Joining a host socket to a connection of the gateway's stack: bytes both ways with
// backpressure (a side that does not read stops the other side's reads, so buffers stay at the
// streams' high-water marks), FIN carried each way on its own (half-close), and a reset or
// error on either side resets the other.
import type { Socket } from 'node:net';
import type { TcpSocket } from '../../tcpip/index.js';

/** Splice `host` and `guest`; `onClosed` runs once, when both are closed. */
export function splice(host: Socket, guest: TcpSocket, onClosed: () => void): void {
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
  host.pipe(guest);
  guest.pipe(host);
  host.resume();
}
