// A client of the echo service (examples/echo) for e2e and interop tests: send on a fresh
// connection, half-close, and collect the echo until the server's FIN.
import { connect, type Socket } from 'node:net';

/** Send `data` to 127.0.0.1:`port`, half-close, collect until the FIN; `readAfterMs` holds reading back that long first. */
export function echoed(port: number, data: Buffer, readAfterMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s: Socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
      s.end(data);
      if (readAfterMs > 0) {
        s.pause();
        setTimeout(() => s.resume(), readAfterMs);
      }
    });
    s.setTimeout(60_000, () => s.destroy(new Error('no echo in 60 s')));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      s.destroy();
      resolve(Buffer.concat(chunks));
    });
    s.on('error', reject);
  });
}
