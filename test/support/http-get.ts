// A plain HTTP GET from a host port, on a new connection each time (tests of forwards to guests).
import { request } from 'node:http';

/** GET `path` from 127.0.0.1:`port` on a new connection: status and body. */
export function httpGet(port: number, path = '/api/status'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
