const ETH_ARP = 0x0806;
const ETH_IPV4 = 0x0800;
const IP_ICMP = 1;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
function option(cmdline, key) {
    return cmdline.split(/\s+/).find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1);
}
function ipBytes(s) {
    const parts = s.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
        throw new Error(`'${s}' is not an IPv4 address`);
    return Uint8Array.from(parts);
}
const macBytes = (mac) => Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
const fmtIp = (b) => [...b].join('.');
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
/** The Internet checksum (RFC 1071) of `b`. */
function checksum(b) {
    let sum = 0;
    for (let i = 0; i < b.length; i += 2)
        sum += (b[i] << 8) | (b[i + 1] ?? 0);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >>> 16);
    return ~sum & 0xffff;
}
function ethernet(dst, src, type, payload) {
    const f = new Uint8Array(14 + payload.length);
    f.set(dst, 0);
    f.set(src, 6);
    new DataView(f.buffer).setUint16(12, type);
    f.set(payload, 14);
    return f;
}
function arp(op, sha, spa, tha, tpa) {
    const a = new Uint8Array(28);
    const v = new DataView(a.buffer);
    v.setUint16(0, 1); // Ethernet
    v.setUint16(2, ETH_IPV4);
    a[4] = 6;
    a[5] = 4;
    v.setUint16(6, op);
    a.set(sha, 8);
    a.set(spa, 14);
    a.set(tha, 18);
    a.set(tpa, 24);
    return a;
}
function ipv4Icmp(src, dst, icmp) {
    const p = new Uint8Array(20 + icmp.length);
    const v = new DataView(p.buffer);
    p[0] = 0x45;
    v.setUint16(2, p.length);
    p[8] = 64;
    p[9] = IP_ICMP;
    p.set(src, 12);
    p.set(dst, 16);
    v.setUint16(10, checksum(p.subarray(0, 20)));
    p.set(icmp, 20);
    return p;
}
function echo(type, id, seq, data) {
    const m = new Uint8Array(8 + data.length);
    const v = new DataView(m.buffer);
    m[0] = type;
    v.setUint16(4, id);
    v.setUint16(6, seq);
    m.set(data, 8);
    v.setUint16(2, checksum(m));
    return m;
}
export default async function main(os) {
    const myIp = ipBytes(option(os.cmdline, 'ip') ?? '10.0.0.2');
    const net = await os.net();
    const myMac = macBytes(net.mac);
    const broadcast = new Uint8Array(6).fill(0xff);
    const arpCache = new Map();
    const replies = [];
    console.log(`pingable: ${fmtIp(myIp)} at ${net.mac} (vif ${net.devid}, mtu ${net.mtu})`);
    const send = (f) => void net.write(f).catch((e) => console.log(`pingable: send failed: ${e.name}: ${e.message}`));
    net.listen((frame) => {
        if (frame.length < 14)
            return;
        const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        const type = v.getUint16(12);
        const src = frame.slice(6, 12);
        if (type === ETH_ARP && frame.length >= 42) {
            const op = v.getUint16(20);
            const spa = frame.slice(28, 32);
            arpCache.set(fmtIp(spa), frame.slice(22, 28));
            if (op === 1 && same(frame.subarray(38, 42), myIp))
                send(ethernet(src, myMac, ETH_ARP, arp(2, myMac, myIp, frame.slice(22, 28), spa)));
            return;
        }
        if (type !== ETH_IPV4 || frame.length < 34 || frame[14] !== 0x45 || frame[23] !== IP_ICMP)
            return;
        if (!same(frame.subarray(30, 34), myIp))
            return;
        const total = v.getUint16(16);
        const icmp = frame.subarray(34, 14 + total);
        if (icmp.length < 8 || checksum(icmp) !== 0)
            return;
        const srcIp = frame.slice(26, 30);
        if (icmp[0] === ICMP_ECHO_REQUEST) {
            const id = v.getUint16(38);
            const seq = v.getUint16(40);
            send(ethernet(src, myMac, ETH_IPV4, ipv4Icmp(myIp, srcIp, echo(ICMP_ECHO_REPLY, id, seq, icmp.subarray(8)))));
        }
        else if (icmp[0] === ICMP_ECHO_REPLY) {
            const seq = v.getUint16(40);
            console.log(`pingable: ${icmp.length} bytes from ${fmtIp(srcIp)}: icmp_seq=${seq}`);
            for (const r of replies.splice(0))
                r(seq);
        }
    });
    const target = option(os.cmdline, 'ping');
    if (!target)
        return new Promise(() => { }); // serve until shut down
    const dst = ipBytes(target);
    const count = Number(option(os.cmdline, 'count') ?? 3);
    let mac;
    const arpTries = Number(option(os.cmdline, 'arp-tries') ?? 50);
    for (let tries = 0; !mac && tries < arpTries; tries++) {
        send(ethernet(broadcast, myMac, ETH_ARP, arp(1, myMac, myIp, new Uint8Array(6), dst)));
        await os.time.sleep(100);
        mac = arpCache.get(target);
    }
    if (!mac)
        throw new Error(`pingable: no ARP reply from ${target}`);
    console.log(`pingable: ${target} is at ${[...mac].map((b) => b.toString(16).padStart(2, '0')).join(':')}`);
    let received = 0;
    for (let seq = 1; seq <= count; seq++) {
        const got = new Promise((resolve) => {
            replies.push((s) => resolve(s === seq));
            void os.time.sleep(2000).then(() => resolve(false));
        });
        send(ethernet(mac, myMac, ETH_IPV4, ipv4Icmp(myIp, dst, echo(ICMP_ECHO_REQUEST, 0x1234, seq, new TextEncoder().encode('xenode pingable')))));
        if (await got)
            received++;
    }
    console.log(`pingable: ${count} packets transmitted, ${received} received`);
    await os.shutdown(received === count ? 'poweroff' : 'crash');
}
//# sourceMappingURL=pingable.js.map