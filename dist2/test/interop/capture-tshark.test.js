// Debian's tshark reads what the switch's captures write: every frame decodes, 802.1Q tags
// and VXLAN included, with no malformed packets and no bad checksums (the switch completed them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6 } from '../../src/abi/netif.js';
import { Capture } from '../../src/network/capture.js';
import { completeChecksum } from '../../src/network/offload.js';
import { Switch } from '../../src/network/switch.js';
import { VXLAN_DEFAULT_VNI, VXLAN_PORT, vxlanEncap } from '../../src/network/vxlan.js';
import { MemorySink, Sink, ethFrame, ipPacket, plain } from '../support/switch.js';
const run = promisify(execFile);
const TSHARK = '/usr/bin/tshark';
const skip = existsSync(TSHARK) ? false : 'tshark not installed (apt-get install tshark)';
if (skip)
    console.log(`# skipping: ${skip}`);
const SRC = '00:16:3e:00:00:01';
const BCAST = 'ff:ff:ff:ff:ff:ff';
function arpRequest() {
    const arp = Uint8Array.from([0, 1, 8, 0, 6, 4, 0, 1, 0, 0x16, 0x3e, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
        ...new Array(18).fill(0)]);
    return ethFrame(BCAST, SRC, { type: 0x0806, payload: arp });
}
/** tshark's view of each frame: its protocols, and any expert message at warning or above. */
async function tshark(file) {
    const opts = ['-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
        '-o', 'tcp.analyze_sequence_numbers:FALSE'];
    const { stdout } = await run(TSHARK, ['-n', '-r', file, ...opts, '-T', 'fields', '-e', 'frame.protocols'], { timeout: 60_000 });
    const bad = await run(TSHARK, ['-n', '-r', file, ...opts, '-Y', '_ws.malformed || _ws.expert.severity >= "warning" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || ip.checksum.status == "Bad"'], { timeout: 60_000 });
    return { protocols: stdout.trim().split('\n'), problems: bad.stdout.trim() };
}
test('a bridge capture with VLANs, offloads completed, IPv4 and IPv6, decoded by tshark', { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-capture-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sw = new Switch();
    const guest = sw.plug(new Sink('vif1.0'), { bridge: 'xenbr0', mac: SRC });
    const tagged = sw.plug(new Sink('vif2.0'), { bridge: 'xenbr0.20', mac: SRC.replace(/01$/, '02') });
    sw.plug(new Sink('vif3.0'), { bridge: 'xenbr0:20' });
    const sink = new MemorySink();
    const cap = new Capture(sink);
    sw.capture('xenbr0', cap);
    const blank = { csumBlank: true, dataValidated: false };
    guest.input(arpRequest(), plain);
    guest.input(ipPacket(4, { flags: 0x02, payload: new Uint8Array(0) }), blank);
    guest.input(ipPacket(4, { proto: 17, payload: new Uint8Array(33).fill(7) }), blank);
    guest.input(ipPacket(6, { payload: new Uint8Array(500).fill(1) }), blank);
    guest.input(ipPacket(6, { proto: 17, hopByHop: true }), blank);
    guest.input(ipPacket(4, { payload: new Uint8Array(20_000).map((_, i) => i) }), { ...blank, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } });
    guest.input(ipPacket(6, { payload: new Uint8Array(9000).map((_, i) => i) }), { ...blank, gso: { type: XEN_NETIF_GSO_TYPE_TCPV6, size: 1428 } });
    const fromTagged = (f) => { f.set([0, 0x16, 0x3e, 0, 0, 2], 6); return f; };
    tagged.input(fromTagged(arpRequest()), plain);
    tagged.input(fromTagged(ipPacket(4, { proto: 17 })), blank);
    cap.stop();
    const file = join(dir, 'br.pcap');
    writeFileSync(file, sink.bytes());
    const { protocols, problems } = await tshark(file);
    assert.equal(problems, '', 'no malformed frames, warnings or bad checksums');
    const want = ['eth:ethertype:arp', 'eth:ethertype:ip:tcp', 'eth:ethertype:ip:udp:data', 'eth:ethertype:ipv6:tcp:data',
        'eth:ethertype:ipv6:ipv6.hopopts:udp:data',
        ...new Array(Math.ceil(20_000 / 1448)).fill('eth:ethertype:ip:tcp:data'),
        ...new Array(Math.ceil(9000 / 1428)).fill('eth:ethertype:ipv6:tcp:data'),
        'eth:ethertype:vlan:ethertype:arp', 'eth:ethertype:vlan:ethertype:ip:udp:data'];
    assert.deepEqual(protocols, want);
});
test('VXLAN datagrams as a link sends them, in Ethernet/IPv4/UDP to port 4789, decoded by tshark', { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xenode-capture-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const sink = new MemorySink();
    const cap = new Capture(sink);
    for (const [vni, inner] of [[VXLAN_DEFAULT_VNI, arpRequest()], [VXLAN_DEFAULT_VNI + 20, completeChecksum(ipPacket(4, { proto: 17 }))],
        [VXLAN_DEFAULT_VNI, completeChecksum(ipPacket(6))]]) {
        const outer = ipPacket(4, { proto: 17, dport: VXLAN_PORT, payload: vxlanEncap(inner, vni) });
        cap.frame(completeChecksum(outer), plain);
    }
    cap.stop();
    const file = join(dir, 'vxlan.pcap');
    writeFileSync(file, sink.bytes());
    const { protocols, problems } = await tshark(file);
    assert.equal(problems, '');
    assert.deepEqual(protocols, ['eth:ethertype:ip:udp:vxlan:eth:ethertype:arp', 'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp:data',
        'eth:ethertype:ip:udp:vxlan:eth:ethertype:ipv6:tcp:data']);
    const { stdout } = await run(TSHARK, ['-n', '-r', file, '-T', 'fields', '-e', 'vxlan.vni'], { timeout: 60_000 });
    assert.deepEqual(stdout.trim().split('\n').map(Number), [VXLAN_DEFAULT_VNI, VXLAN_DEFAULT_VNI + 20, VXLAN_DEFAULT_VNI]);
});
//# sourceMappingURL=capture-tshark.test.js.map