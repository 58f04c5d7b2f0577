// Queries per second of the authoritative DNS server of examples/dns (src/tcpip/dns-server.ts)
// between two TCP/IP stacks in one process (./support/tcpip-pipe.ts), next to the same server
// code on Node's own UDP sockets over loopback in the same run. A client keeps --parallel
// queries outstanding (A, MX with glue, and a name that does not exist, in turn) for --ms.
//
//   npm run bench -- dns [--ms=1000] [--parallel=32] [--rounds=5] [--warmup=1]
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { answerQuery } from '../src/tcpip/dns-server.js';
import { parseZone } from '../src/tcpip/dns-zone.js';
import { emit, numberOptions } from './support/harness.js';
import { stackPair } from './support/tcpip-pipe.js';
const opts = numberOptions({ ms: 1000, parallel: 32, rounds: 5, warmup: 1 });
const zone = parseZone('zone=example.test ttl=300 records=@/NS/ns,ns/A/10.0.2.15,@/A/10.0.2.15,www/A/10.0.2.15,mail/A/10.0.2.16,@/MX/10/mail,ftp/CNAME/www');
function query(id, name, qtype) {
    const q = [id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for (const l of name.split('.'))
        q.push(l.length, ...Array.from(l, (c) => c.charCodeAt(0)));
    q.push(0, 0, qtype, 0, 1);
    return Uint8Array.from(q);
}
const QUERIES = [query(1, 'www.example.test', 1), query(2, 'example.test', 15), query(3, 'nope.example.test', 1)];
/**
 * Keep `parallel` queries outstanding for `ms` through `send`; `onAnswer` is to be called for each
 * answer. Returns answers per second.
 */
async function load(send, hook) {
    let answered = 0;
    let running = true;
    let next = 0;
    const fire = () => send(QUERIES[next++ % QUERIES.length]);
    hook(() => {
        answered++;
        if (running)
            fire();
    });
    const start = performance.now();
    for (let i = 0; i < opts.parallel; i++)
        fire();
    await new Promise((r) => setTimeout(r, opts.ms));
    running = false;
    return answered / ((performance.now() - start) / 1000);
}
async function ours() {
    const { a, b } = stackPair(true);
    const server = b.udp.bind(53, (msg, from) => {
        const r = answerQuery(msg, zone);
        if (r)
            server.send(r, from.addr, from.port);
    });
    await b.icmp.ping('10.0.0.1'); // ARP both ways first: a burst to an unresolved address is mostly dropped
    let onAnswer = () => { };
    const client = a.udp.bind(0, () => onAnswer());
    const rate = await load((q) => client.send(q, '10.0.0.2', 53), (f) => { onAnswer = f; });
    a.stop();
    b.stop();
    return rate;
}
async function nodeUdp() {
    const server = createSocket('udp4');
    server.on('message', (msg, rinfo) => {
        const r = answerQuery(msg, zone);
        if (r)
            server.send(r, rinfo.port, rinfo.address);
    });
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const port = server.address().port;
    const client = createSocket('udp4');
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    const rate = await load((q) => client.send(q, port, '127.0.0.1'), (f) => client.on('message', f));
    client.close();
    server.close();
    return rate;
}
const oursQps = [];
const nodeQps = [];
for (let r = 0; r < opts.warmup + opts.rounds; r++) {
    const o = await ours();
    const n = await nodeUdp();
    if (r < opts.warmup)
        continue;
    oursQps.push(o);
    nodeQps.push(n);
}
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`dns: ${med(oursQps).toFixed(0)} queries/s guest stack to guest stack; the same server on Node dgram over loopback ${med(nodeQps).toFixed(0)}`);
emit({
    bench: 'dns',
    parallel: opts.parallel,
    rounds: opts.rounds,
    loadavg: loadavg()[0],
    queriesPerSecond: { ours: med(oursQps), nodeDgramLoopback: med(nodeQps), ratio: med(oursQps) / med(nodeQps) },
});
//# sourceMappingURL=dns.js.map