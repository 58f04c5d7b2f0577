// The floor of any Node xenstored, for bench/xenstore.ts: a server over the same kind of Unix
// socket that reads as xenstored's socket.ts does (every connection into one buffer through
// net's `onread`) and writes each read's bytes straight back, doing no work of its own. A
// request packet comes back as its own "reply", so the load generator's WRITE and READ loops run
// against it unchanged. `node echo-process.js SOCKET` prints "ready" once it serves and runs
// until killed.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:net';
import { readingInto } from '../../src/readinto.js';

const buffer = Buffer.allocUnsafe(64 * 1024);
const server = createServer({ pauseOnConnect: true }, (accepted) => {
  const sock = readingInto(accepted, buffer, (n, buf) => {
    // A copy: the buffer is reused by the next read of any connection.
    sock.write(Buffer.from(buf.subarray(0, n)));
    return true;
  });
  sock.on('error', () => undefined);
});
server.listen(process.argv[2]!, () => process.stdout.write('ready\n'));
