// Host sockets that read into one buffer (net's `onread`): no Buffer, stream push and nextTick
// per read. xenstored's socket (docs/PERFORMANCE.md, issue 17, xs5 and cli8) and the gateway's
// splices of host connections (issue 13, gw12) read this way.
import type { Buffer } from 'node:buffer';
import { Socket, type SocketConstructorOpts } from 'node:net';

/**
 * `sock`'s handle in a Socket that reads into `buffer`. Node's `onread` (an option of net.Socket's
 * constructor) needs a handle or a file descriptor, and a server's accepted sockets expose
 * neither (Node 20: net.Server takes no `onread`, a Socket shows no fd), so the Socket (paused
 * since its creation: pauseOnConnect, or pause() before its connect completed) gives up its
 * private `_handle` (and closes) to a Socket made with the undocumented `handle` option. It
 * stays private API because the supported way, 'data' events, cost xenstored 5-19% more CPU per
 * request and the gateway a full collection of dom0's heap every few hundred reads of a host
 * stream (docs/PERFORMANCE.md). A Node without `_handle` here gives dead connections, which the
 * socket and gateway tests catch; 'data' events are then the replacement.
 *
 * The new Socket is not the server's: net.Server's `maxConnections` and close() no longer
 * count it (the caller bounds its connections itself). It starts reading at once; `callback`
 * returning false stops reads until resume().
 */
export function readingInto(sock: Socket, buffer: Buffer, callback: (n: number, buf: Buffer) => boolean, options: { allowHalfOpen?: boolean } = {}): Socket {
  const a = sock as unknown as { _handle: unknown };
  const handle = a._handle;
  // A destroyed socket has none; a Socket without one would never emit 'close'.
  if (!handle) throw new Error('readingInto: the socket has no handle (destroyed)');
  a._handle = null;
  sock.destroy();
  return new Socket({ handle, onread: { buffer, callback }, ...options } as SocketConstructorOpts);
}
