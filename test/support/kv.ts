// The kv-store example's request/response protocol over xenstore, as the tests drive it.
import type { Host } from '../../src/toolstack/host.js';

let reqId = 0;
/** One kv-store request ("get KEY", "set KEY VALUE", ...) to the guest `domid`: its answer ("ok ...", "error ..."). */
export async function askKv(host: Host, domid: number, req: string, timeout = 20_000): Promise<string> {
  const id = String(++reqId);
  await host.xs.wait(`/local/domain/${domid}/data/kv/ready`, (v) => v === '1', { timeout });
  await host.xs.write(`/local/domain/${domid}/data/kv/request`, `${id} ${req}`);
  const rsp = await host.xs.wait(`/local/domain/${domid}/data/kv/response`, (v) => v?.startsWith(`${id} `) === true, { timeout });
  return rsp!.slice(id.length + 1);
}
