// dns: an authoritative DNS server unikernel for the zone its command line gives (in the form
// src/tcpip/dns-zone.ts reads), answering over UDP on `port=` (53). It takes its address from
// the vif's ip= or by DHCP and says `serving ZONE on ADDRESS:PORT` once it listens; runs
// until shut down.
import { answerQuery, parseZone } from 'xenode';
export default async function main(os) {
    const zone = parseZone(os.cmdline);
    const port = Number(/(?:^|\s)port=(\d{1,5})(?:\s|$)/.exec(os.cmdline)?.[1] ?? 53);
    const stack = await os.tcpip();
    const sock = stack.udp.bind(port, (msg, from) => {
        const r = answerQuery(msg, zone);
        if (r)
            sock.send(r, from.addr, from.port);
    });
    console.log(`serving ${zone.origin} (${zone.nodes.size} names) on ${stack.address?.address}:${port}`);
    return new Promise(() => { }); // until shut down
}
//# sourceMappingURL=dns.js.map