// dom0's virtual switch from the command line: bridge-list, capture, bridge-link, bridge-unlink.
// A capture is written by the host into the file named; without -w the command has the host
// write a private temporary file and copies it to stdout as it grows (`| tshark -r -`), so the
// control socket carries no stream and the capture stays bounded by its size limit.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BridgeInfo, CaptureSummary, LinkInfo, Toolstack } from '../toolstack/contract.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';

function pad(v: string | number, w: number): string {
  return String(v).padEnd(w);
}

/** brctl show's shape, with VLANs and counters; then brctl showmacs' per bridge. */
export function formatBridgeList(bridges: readonly BridgeInfo[], links: readonly LinkInfo[]): string {
  const cols = [16, 14, 6, 14, 18, 10, 10, 10, 10];
  const out = [['bridge name', 'port', 'tag', 'trunks', 'mac', 'rx-frames', 'tx-frames', 'rx-drops', 'tx-drops']
    .map((h, i) => pad(h, cols[i]!)).join(' ').trimEnd()];
  for (const b of bridges) {
    if (b.ports.length === 0) out.push(b.name);
    b.ports.forEach((p, i) => {
      // rx/tx as the port's interface counts them in Linux: rx is what the device sent in.
      const trunks = p.trunks === 'all' ? 'all' : p.trunks.join(',') || '-';
      out.push([i === 0 ? b.name : '', p.name, p.tag || '-', trunks, p.mac ?? 'any', p.counters.framesIn, p.counters.framesOut,
        p.counters.dropsIn, p.counters.dropsOut].map((v, j) => pad(v, cols[j]!)).join(' ').trimEnd());
    });
  }
  for (const b of bridges) {
    const c = b.counters;
    out.push('', `${b.name}: vlans ${b.vlans.map((v) => v || 'untagged').join(',') || '-'}; forwarded ${c.forwarded}, flooded ${c.flooded}; ` +
      `dropped: spoofed ${c.dropSpoof}, vlan ${c.dropVlan}, malformed ${c.dropMalformed}, link-local ${c.dropLinkLocal}; ` +
      `macs ${c.macs} (not learned: ${c.macsNotLearned})`);
    if (b.macs.length) {
      out.push(`${pad('port', 14)} ${pad('vlan', 6)} ${pad('mac addr', 18)} ageing timer`);
      for (const m of b.macs) out.push(`${pad(m.port, 14)} ${pad(m.vlan || '-', 6)} ${pad(m.mac, 18)} ${m.ageSeconds}s`);
    }
  }
  if (links.length) {
    out.push('', `${pad('link', 10)} ${pad('bridge', 16)} ${pad('local', 22)} ${pad('remote', 22)} vni`);
    for (const l of links) out.push(`${pad(l.name, 10)} ${pad(l.bridge, 16)} ${pad(l.local, 22)} ${pad(l.remote, 22)} ${l.vni}`);
  }
  return `${out.join('\n')}\n`;
}

/** Run a capture on the host; Ctrl-C stops it (the file is complete up to then). */
async function runCapture(ts: Toolstack, args: { target: string; file: string; count?: number; snaplen?: number; maxBytes?: number },
  onProgress?: () => Promise<void>): Promise<CaptureSummary> {
  const stop = () => void ts.call('captureStop', { file: args.file }).catch(() => {});
  process.once('SIGINT', stop);
  try {
    const done = ts.call('capture', args);
    if (!onProgress) return await done;
    let finished = false;
    const result = done.finally(() => (finished = true));
    while (!finished) {
      await onProgress();
      await Promise.race([result.catch(() => {}), new Promise((r) => setTimeout(r, 50))]);
    }
    await onProgress();
    return await result;
  } finally {
    process.off('SIGINT', stop);
  }
}

/** Copy a growing file to stdout: each call copies what was added since the last. */
async function follower(file: string): Promise<{ copy(): Promise<void>; close(): Promise<void> }> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let offset = 0;
  const buf = Buffer.alloc(1 << 20);
  return {
    async copy() {
      fh ??= await open(file, 'r').catch(() => undefined);
      if (!fh) return;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) return;
        offset += bytesRead;
        if (!process.stdout.write(buf.subarray(0, bytesRead))) await new Promise((r) => process.stdout.once('drain', r));
      }
    },
    async close() {
      await fh?.close();
    },
  };
}

function int(what: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) throw new Error(`${what} must be an integer in ${min}..${max}, not '${v}'`);
    return n;
  };
}

export function registerBridgeCommands(program: Command): void {
  withStateDir(program.command('bridge-list'))
    .description("dom0's bridges: ports, VLAN tags, learned MACs, counters; and VXLAN links")
    .option('--json', 'print the API result as JSON')
    .action(async (o: StateDirOpts & { json?: boolean }) => {
      const r = await withHost(o, (ts) => ts.call('bridgeList', {}));
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatBridgeList(r.bridges, r.links));
    });

  withStateDir(program.command('capture'))
    .description('capture a bridge or a port (vifD.N) as pcap: into FILE with -w, else to stdout (| tshark -r -)')
    .argument('<target>', 'a bridge (xenbr0) or a port (vif3.0)')
    .option('-w, --write <file>', 'the pcap file the host writes')
    .option('-c, --count <n>', 'stop after this many frames', int('count', 1, Number.MAX_SAFE_INTEGER))
    .option('-s, --snaplen <bytes>', 'bytes kept of each frame (default 262144)', int('snaplen', 1, 262_144))
    .option('--max-size <bytes>', 'stop before the file passes this size (default 256 MiB)', int('max-size', 24, 2 ** 32))
    .action(async (target: string, o: StateDirOpts & { write?: string; count?: number; snaplen?: number; maxSize?: number }) => {
      const opts = { ...(o.count !== undefined && { count: o.count }), ...(o.snaplen !== undefined && { snaplen: o.snaplen }),
        ...(o.maxSize !== undefined && { maxBytes: o.maxSize }) };
      if (o.write) {
        const s = await withHost(o, (ts) => runCapture(ts, { target, file: resolve(o.write!), ...opts }));
        say(`${s.frames} packets captured${s.dropped ? `, ${s.dropped} dropped (the writer was behind)` : ''}`);
        return;
      }
      const dir = await mkdtemp(join(tmpdir(), 'xenode-capture-'));
      const file = join(dir, 'capture.pcap');
      const f = await follower(file);
      try {
        const s = await withHost(o, (ts) => runCapture(ts, { target, file, ...opts }, () => f.copy()));
        say(`${s.frames} packets captured${s.dropped ? `, ${s.dropped} dropped (the reader was behind)` : ''}`);
      } finally {
        await f.close();
        await rm(dir, { recursive: true, force: true });
      }
    });

  withStateDir(program.command('bridge-link'))
    .description("link a bridge to the same-named bridge of another xenode host over VXLAN (RFC 7348, UDP)")
    .argument('<bridge>', 'the bridge, e.g. xenbr0')
    .argument('<remote>', "the other host's VXLAN endpoint, ADDRESS[:PORT] (port 4789 by default)")
    .option('--local <address:port>', 'where this host listens for it (default 127.0.0.1:4789)')
    .option('--vni <n>', 'VNI of the untagged segment; VLAN v uses VNI+v (default 1048576, the same on both hosts)', int('vni', 0, 0xff_ffff))
    .action(async (bridge: string, remote: string, o: StateDirOpts & { local?: string; vni?: number }) => {
      const l = await withHost(o, (ts) => ts.call('bridgeLink', { bridge, remote, ...(o.local && { local: o.local }), ...(o.vni !== undefined && { vni: o.vni }) }));
      say(`${l.name}: ${l.bridge} linked to ${l.remote} from ${l.local}, VNI ${l.vni}`);
    });

  withStateDir(program.command('bridge-tap'))
    .description("attach a Linux TAP device to a bridge (through socat; needs root), so the host's kernel reaches its guests without NAT")
    .argument('<bridge>', 'the bridge, e.g. xenbr1')
    .argument('<tap>', 'the TAP device to create, e.g. xntap0')
    .option('--address <a.b.c.d/len>', "the host's address on the TAP device (socat sets it and brings the device up)")
    .option('--remove', 'remove the TAP device from the bridge (socat ends, the device goes)')
    .action(async (bridge: string, tap: string, o: StateDirOpts & { address?: string; remove?: boolean }) => {
      const t = await withHost(o, (ts) => ts.call('bridgeTap', { bridge, tap, ...(o.address && { address: o.address }), remove: o.remove === true }));
      say(o.remove ? `${t.tap}: removed from ${t.bridge}` : `${t.tap}: a port of ${t.bridge} (${t.port})${t.address ? `, host address ${t.address}` : ''}, socat pid ${t.pid ?? '-'}`);
    });

  withStateDir(program.command('bridge-unlink'))
    .description('remove a VXLAN link')
    .argument('<bridge>', 'the bridge')
    .argument('<remote>', 'the VXLAN endpoint it is linked to, ADDRESS[:PORT]')
    .action(async (bridge: string, remote: string, o: StateDirOpts) => {
      const l = await withHost(o, (ts) => ts.call('bridgeUnlink', { bridge, remote }));
      say(`${l.name}: ${l.bridge} unlinked from ${l.remote}`);
    });
}
