// Our stack as a peer of Linux's, for test/interop/tcpip-linux.test.ts: run inside the test's
// network namespace, it exchanges Ethernet frames with socat's TAP device as UDP datagrams on
// the namespace's loopback. It serves HTTP on :8080 (a 1 MiB body); on a "ping" line on stdin it
// pings 10.99.0.1, on "fetch PORT" it GETs /blob from 10.99.0.1:PORT and prints what it got.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { NET_FRAME_PLAIN } from '../../src/abi/netif.js';
import { createStack } from '../../src/tcpip/stack.js';
const [localPort, socatPort] = process.argv.slice(2).map(Number);
const sock = createSocket('udp4');
const handlers = new Set();
sock.on('message', (m) => { for (const h of handlers)
    h(m, NET_FRAME_PLAIN); });
const net = {
    devid: 0, mac: '02:00:00:00:99:02', mtu: 1500, offloads: { csum: false, gsoTcpv4: false, gsoTcpv6: false },
    // Resolves once the datagrams are sent: the stack reuses a frame after that.
    write(frames) {
        const list = frames instanceof Uint8Array ? [frames] : frames;
        return Promise.all(list.map((f) => new Promise((resolve) => sock.send(f, socatPort, '127.0.0.1', () => resolve())))).then(() => undefined);
    },
    listen(h) { handlers.add(h); return () => handlers.delete(h); },
    stats: () => ({ rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }),
    disconnect: () => Promise.resolve(),
};
sock.bind(localPort, '127.0.0.1', () => {
    const stack = createStack(net);
    stack.configure({ ip: '10.99.0.2/24' });
    const body = Buffer.alloc(1 << 20, 0x61);
    stack.tcp.listen(8080, (s) => {
        s.on('error', () => { });
        s.once('data', () => {
            s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
            s.end(body);
        });
    });
    createInterface({ input: process.stdin }).on('line', (line) => {
        const [cmd, arg] = line.split(' ');
        if (cmd === 'ping') {
            stack.icmp.ping('10.99.0.1', 5000).then((ms) => console.log(`pong ${ms}`), (e) => console.log(`ping error ${e.message}`));
            return;
        }
        if (cmd !== 'fetch')
            return;
        stack.tcp.connect('10.99.0.1', Number(arg)).then((c) => {
            let n = 0;
            c.on('data', (d) => { n += d.length; });
            c.on('end', () => { console.log(`fetched ${n}`); c.end(); });
            c.on('error', (e) => console.log(`fetch error ${e.message}`));
            c.write('GET /blob HTTP/1.0\r\nHost: 10.99.0.1\r\n\r\n');
        }, (e) => console.log(`fetch error ${e.message}`));
    });
    console.log('ready');
});
//# sourceMappingURL=tcpip-tap-peer.js.map