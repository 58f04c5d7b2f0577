// Run by test/interop/tap-peer.test.ts inside a network namespace: an in-process host whose
// bridge xenbr9 gets TAP device xntap9 (10.98.0.1/24, through `bridgeTap`) and a www guest at
// 10.98.0.2 on it. Prints "ready" and the TAP and the bridge's ports as JSON. Each stdin line
// `client EXTRA` boots CLIENT_KERNEL (examples/wget) at 10.98.0.3 with that extra=, waits for
// it to say "done" and prints "client" and its console as JSON. Serves until its stdin closes,
// then stops the host (which must take the device away) and prints "closed".
//
//   node tap-host.js STATE_DIR WWW_KERNEL [CLIENT_KERNEL]
import { createInterface } from 'node:readline';
import { startLocalHost } from '../../src/toolstack/local.js';

const [stateDir, kernel, clientKernel] = process.argv.slice(2);
if (!stateDir || !kernel) throw new Error('usage: tap-host.js STATE_DIR WWW_KERNEL [CLIENT_KERNEL]');
const local = await startLocalHost({ stateDir, poolSize: 1 });
const tap = await local.api.call('bridgeTap', { bridge: 'xenbr9', tap: 'xntap9', address: '10.98.0.1/24' });
await local.api.call('create', {
  file: `${stateDir}/www.cfg`,
  text: `name = "www"\nkernel = "${kernel}"\nmemory = 64\nvif = [ 'bridge=xenbr9,ip=10.98.0.2/24' ]\nextra = "port=80"\n`,
});
const ports = (await local.api.call('bridgeList', {})).bridges.find((b) => b.name === 'xenbr9')?.ports.map((p) => p.name);
console.log(`ready ${JSON.stringify({ tap, ports })}`);

/** Boot the client with `extra`, and its console once it says "done" (or what it said in 60 s). */
async function client(extra: string): Promise<string> {
  if (!clientKernel) return 'no CLIENT_KERNEL given';
  await local.api.call('create', {
    file: `${stateDir}/wget.cfg`,
    text: `name = "wget"\nkernel = "${clientKernel}"\nmemory = 32\nvif = [ 'bridge=xenbr9,ip=10.98.0.3/24' ]\nextra = "${extra}"\non_poweroff = "preserve"\n`,
  });
  let text = '';
  for (const end = Date.now() + 60_000; Date.now() < end && !/^done$/m.test(text);) {
    await new Promise((r) => setTimeout(r, 100));
    text = Buffer.from((await local.api.call('consoleLog', { domain: 'wget' })).data, 'base64').toString();
  }
  await local.api.call('destroy', { domain: 'wget' }).catch(() => {});
  return text;
}

let queue = Promise.resolve();
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (!line.startsWith('client ')) return;
  queue = queue.then(async () => console.log(`client ${JSON.stringify(await client(line.slice('client '.length)).catch((e: Error) => e.message))}`));
});
input.on('close', () => {
  void queue.then(() => local.close()).then(() => {
    console.log('closed');
    process.exit(0);
  });
});
