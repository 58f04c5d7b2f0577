// resolve: a client unikernel for the dns example: it asks `server=` (its stack's DNS stub
// resolver, port 53) for each name in `names=` (comma-separated), prints `NAME -> ADDRESSES`
// or `NAME: ERROR` for each, and powers off.
import type { OS } from 'xenode';

export default async function main(os: OS): Promise<void> {
  const opt = (k: string) => os.cmdline.split(/\s+/).find((w) => w.startsWith(`${k}=`))?.slice(k.length + 1);
  const server = opt('server');
  if (!server) throw new Error('resolve needs server=ADDRESS');
  const stack = await os.tcpip({ dns: [server] });
  for (const name of (opt('names') ?? '').split(',').filter((n) => n !== '')) {
    try {
      console.log(`${name} -> ${(await stack.dns.resolve(name)).join(' ')}`);
    } catch (e) {
      console.log(`${name}: ${(e as Error).message}`);
    }
  }
}
