// wget: a client unikernel. It pings `ping=` (an address; `count=` echo requests, 3 unless
// given) with its stack's ICMP echo, then fetches `url=` (http://HOST[:PORT]/PATH, HOST an
// address or a name its DNS resolver finds) over one HTTP/1.1 connection that the server
// closes, and prints what it got:
//
//   ping 10.0.2.2: seq 1 time 0.4 ms                 (or `ping 10.0.2.2: ETIMEDOUT: ...`)
//   fetched http://10.0.2.2:8000/blob: 200, 1048576 bytes   (or `fetch URL: ERROR`)
//   done
//
// Its address comes from the vif's ip= or DHCP. Powers off when done.
import type { OS, TcpipStack } from 'xenode';

function option(cmdline: string, key: string): string | undefined {
  return cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
}

const URL_RE = /^http:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)?$/;
const HEAD_END = '\r\n\r\n';
/** Bytes of response kept at most; the rest is counted only. */
const MAX_HEAD = 16 * 1024;

/** GET `url`; resolves with the status and the body's length. */
async function get(stack: TcpipStack, url: string): Promise<{ status: number; bytes: number }> {
  const m = URL_RE.exec(url);
  if (!m) throw new Error(`'${url}' is not an http:// URL`);
  const host = m[1]!;
  const port = Number(m[2] ?? 80);
  const address = /^[0-9.]+$/.test(host) ? host : (await stack.dns.resolve(host))[0]!;
  const conn = await stack.tcp.connect(address, port);
  conn.end(new TextEncoder().encode(`GET ${m[3] ?? '/'} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nUser-Agent: xenode-wget\r\n\r\n`));
  let head = '';
  let headDone = false;
  let bytes = 0;
  const decoder = new TextDecoder('latin1');
  await new Promise<void>((resolve, reject) => {
    conn.on('data', (chunk: Uint8Array) => {
      if (headDone) return void (bytes += chunk.length);
      head += decoder.decode(chunk);
      const at = head.indexOf(HEAD_END);
      if (at >= 0) {
        headDone = true;
        bytes = head.length - at - HEAD_END.length;
        head = head.slice(0, at);
      } else if (head.length > MAX_HEAD) reject(new Error('no end of the response head'));
    });
    conn.on('end', resolve);
    conn.on('error', reject);
  });
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
  if (!headDone || !status) throw new Error('not an HTTP response');
  const length = /^content-length:\s*(\d+)\s*$/im.exec(head);
  if (length && Number(length[1]) !== bytes) throw new Error(`${bytes} bytes, not the ${length[1]} announced`);
  return { status: Number(status[1]), bytes };
}

export default async function main(os: OS): Promise<void> {
  const stack = await os.tcpip();
  const target = option(os.cmdline, 'ping');
  if (target) {
    const count = Number(option(os.cmdline, 'count') ?? 3);
    for (let seq = 1; seq <= count; seq++) {
      try {
        const rtt = await stack.icmp.ping(target, 2000);
        console.log(`ping ${target}: seq ${seq} time ${rtt.toFixed(1)} ms`);
      } catch (e) {
        console.log(`ping ${target}: ${(e as Error).message}`);
      }
    }
  }
  const url = option(os.cmdline, 'url');
  if (url) {
    try {
      const r = await get(stack, url);
      console.log(`fetched ${url}: ${r.status}, ${r.bytes} bytes`);
    } catch (e) {
      console.log(`fetch ${url}: ${(e as Error).message}`);
    }
  }
  console.log('done');
}
