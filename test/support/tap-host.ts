// Run by test/interop/tap-peer.test.ts inside a network namespace: an in-process host whose
// bridge xenbr9 gets TAP device xntap9 (10.98.0.1/24, through `bridgeTap`) and a www guest at
// 10.98.0.2 on it. Prints "ready" and the TAP and the bridge's ports as JSON, serves until its stdin
// closes, then stops the host (which must take the device away) and prints "closed".
//
//   node tap-host.js STATE_DIR WWW_KERNEL
import { startLocalHost } from '../../src/toolstack/local.js';

const [stateDir, kernel] = process.argv.slice(2);
if (!stateDir || !kernel) throw new Error('usage: tap-host.js STATE_DIR WWW_KERNEL');
const local = await startLocalHost({ stateDir, poolSize: 1 });
const tap = await local.api.call('bridgeTap', { bridge: 'xenbr9', tap: 'xntap9', address: '10.98.0.1/24' });
await local.api.call('create', {
  file: `${stateDir}/www.cfg`,
  text: `name = "www"\nkernel = "${kernel}"\nmemory = 64\nvif = [ 'bridge=xenbr9,ip=10.98.0.2/24' ]\nextra = "port=80"\n`,
});
const ports = (await local.api.call('bridgeList', {})).bridges.find((b) => b.name === 'xenbr9')?.ports.map((p) => p.name);
console.log(`ready ${JSON.stringify({ tap, ports })}`);
process.stdin.resume();
process.stdin.on('end', () => {
  void local.close().then(() => {
    console.log('closed');
    process.exit(0);
  });
});
