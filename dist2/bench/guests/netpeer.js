// netpeer: one end of a frame stream between two guests, for `npm run bench -- net-guests`.
// role=send writes frames of each size in sizes= to peer= (a MAC) through its first vif, as
// fast as netfront takes them (`window` frames per write, two writes in flight); role=recv
// counts what arrives. For each size in turn (phase k): write data/netpeer/ready-k, wait for
// dom0's data/netpeer/go-k, run ramp= seconds unmeasured and runtime= seconds measured, and
// write data/netpeer/result-k: {"frames", "bytes", "start_ms", "end_ms"} (performance.timeOrigin
// based, so dom0 can line the guests up). A receiver first sends one broadcast frame, so the
// bridge learns where it is and forwards rather than floods.
//
// extra= words: role=send|recv  peer=00:16:3e:..  sizes=64,1514,65000  runtime=1  ramp=0.5  window=256
// A size above the MTU goes out as a TCPv4 GSO super-frame (csum_blank, MSS 1448).
import { NET_FRAME_PLAIN } from 'xenode';
function options(cmdline) {
    const o = {};
    for (const w of cmdline.split(/\s+/)) {
        const eq = w.indexOf('=');
        if (eq > 0)
            o[w.slice(0, eq)] = w.slice(eq + 1);
    }
    return o;
}
const mac = (s) => s.split(':').map((b) => Number.parseInt(b, 16));
const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
const MSS = 1448;
/** An Ethernet frame of `len` bytes; past 1514 an IPv4/TCP one with lengths to match (a GSO super-frame). */
function frameOf(len, src, dst) {
    const f = new Uint8Array(len);
    f.set(mac(dst), 0);
    f.set(mac(src), 6);
    f[12] = 0x08; // IPv4
    f[13] = 0x00;
    f[14] = 0x45;
    const ipLen = Math.min(0xffff, len - 14);
    f[16] = ipLen >> 8;
    f[17] = ipLen & 0xff;
    f[22] = 64; // TTL
    f[23] = 6; // TCP
    f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
    f[46] = 0x50; // TCP data offset: 5 words
    f[47] = 0x18; // PSH, ACK
    return f;
}
export default async function main(os) {
    const o = options(os.cmdline);
    const num = (k, d) => (o[k] === undefined ? d : Number(o[k]));
    const role = o['role'];
    if (role !== 'send' && role !== 'recv')
        throw new Error(`role= must be send or recv, not ${role}`);
    const sizes = (o['sizes'] ?? '64,1514,65000').split(',').map(Number);
    const runtimeMs = num('runtime', 1) * 1000;
    const rampMs = num('ramp', 0.5) * 1000;
    const window = num('window', 256);
    const net = await os.net();
    let frames = 0;
    let bytes = 0;
    let running = false;
    if (role === 'recv') {
        net.listen((frame) => {
            frames++;
            bytes += frame.length;
        });
        await net.write(frameOf(64, net.mac, 'ff:ff:ff:ff:ff:ff'));
    }
    for (let k = 0; k < sizes.length; k++) {
        const size = sizes[k];
        const info = size > 1514 ? { csumBlank: true, dataValidated: false, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: MSS } } : NET_FRAME_PLAIN;
        const batch = Array.from({ length: size > 1514 ? Math.max(1, window >> 4) : window }, () => frameOf(size, net.mac, o['peer'] ?? 'ff:ff:ff:ff:ff:ff'));
        await os.xenstore.write(`data/netpeer/ready-${k}`, '1');
        await os.xenstore.wait(`data/netpeer/go-${k}`, (v) => v === '1');
        const sender = async () => {
            while (running) {
                await net.write(batch, info);
                frames += batch.length;
                bytes += batch.length * size;
            }
        };
        running = true;
        const senders = role === 'send' ? [sender(), sender()] : [];
        await os.time.sleep(rampMs);
        frames = bytes = 0;
        const start = performance.timeOrigin + performance.now();
        await os.time.sleep(runtimeMs);
        const end = performance.timeOrigin + performance.now();
        const result = { frames, bytes, start_ms: start, end_ms: end };
        running = false;
        await Promise.all(senders);
        await os.xenstore.write(`data/netpeer/result-${k}`, JSON.stringify(result));
    }
    await os.lifecycle.awaitShutdownRequest();
    await os.shutdown('poweroff');
}
//# sourceMappingURL=netpeer.js.map