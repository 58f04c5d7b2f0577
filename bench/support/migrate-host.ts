// The migration benchmark's destination host in a process of its own, as users run two hosts
// (`xenode host start --listen`): its own event loop for dom0, netback, the switch and the
// receiver, so that nothing the source host does (its pre-copy, its copy's destroy) waits in
// the destination's loop, nor the other way round. Forked by bench/migrate.ts (`--child`), it
// answers that process's requests over the IPC channel (MigrateHostRequest) and sends the
// receiver's log lines with the time they came (epoch ms); it exits when its parent goes.
// bench/migrate.ts --processes=1 runs it in its own process instead, as earlier figures were
// taken (both hosts on one event loop).
import '../../src/hypervisor/marking.js'; // V8's marking flags at the start of this forked host's process
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationReceiver } from '../../src/migration/receive.js';
import type { Endpoint } from '../../src/network/vxlan.js';
import { Host } from '../../src/toolstack/host.js';

export type MigrateHostRequest =
  | { readonly op: 'warm'; readonly heapMb: number }
  | { readonly op: 'link'; readonly bridge: string; readonly remote: Endpoint }
  /** The domain named `name` once xenstore's data/`key` under it passes (`value`, or any value). */
  | { readonly op: 'wait'; readonly name: string; readonly key: string; readonly value?: string }
  /** Its runtime's resume marks, once it reported them (within 1 s). */
  | { readonly op: 'marks'; readonly name: string }
  | { readonly op: 'destroy'; readonly name: string }
  /** A bridge's frames into a pcap file until captureStop (answered when the capture ends). */
  | { readonly op: 'capture'; readonly bridge: string; readonly file: string }
  | { readonly op: 'captureStop'; readonly file: string };

export type MigrateHostMessage =
  | { readonly type: 'ready'; readonly port: number; readonly token: string; readonly vtep: Endpoint }
  | { readonly type: 'log'; readonly at: number; readonly line: string }
  | { readonly type: 'reply'; readonly id: number; readonly value?: unknown; readonly error?: string };

const epoch = () => performance.timeOrigin + performance.now();

/** A destination host with its receiver and VXLAN endpoint; `serve` answers the benchmark's requests. */
export interface MigrateHost {
  readonly port: number;
  readonly token: string;
  readonly vtep: Endpoint;
  serve(r: MigrateHostRequest): Promise<unknown>;
  close(): Promise<void>;
}

/** Start the destination host (in this process, or in the forked child below); `log` gets the receiver's lines. */
export async function startMigrateHost(log: (at: number, line: string) => void): Promise<MigrateHost> {
  const dir = await mkdtemp(join(tmpdir(), 'xenode-bench-mighost-'));
  const host = await Host.start({ poolSize: 1 });
  const tokenFile = join(dir, 'token');
  const receiver = await MigrationReceiver.listen(host, { address: '127.0.0.1', port: 0, tokenFile, log: (line) => log(epoch(), line) });
  const vtep = await host.switch.vtep({ address: '127.0.0.1', port: 0 });
  const named = (name: string) => {
    const d = host.hv.domains().find((x) => x.name === name);
    if (!d) throw new Error(`no domain ${name} here`);
    return d;
  };
  async function serve(r: MigrateHostRequest): Promise<unknown> {
    switch (r.op) {
      case 'warm':
        host.pool.warm({ heapMb: r.heapMb });
        return undefined;
      case 'link':
        await host.switch.link(r.bridge, r.remote, { local: vtep.local });
        return undefined;
      case 'wait': {
        const d = named(r.name);
        return host.xs.wait(`/local/domain/${d.domid}/data/${r.key}`, (v) => (r.value === undefined ? v !== undefined : v === r.value), { timeout: 60_000 });
      }
      case 'marks': {
        const d = named(r.name);
        for (let i = 0; i < 100; i++) {
          const m = d.vcpu?.marks?.('resume');
          if (m) return m;
          await new Promise((res) => setTimeout(res, 10));
        }
        return undefined;
      }
      case 'destroy':
        await host.destroy(named(r.name).domid);
        return undefined;
      case 'capture':
        return host.switch.captureToFile(r.bridge, r.file);
      case 'captureStop':
        return host.switch.stopCapture(r.file);
    }
  }
  return {
    port: receiver.port, token: (await readFile(tokenFile, 'utf8')).trim(), vtep: vtep.local, serve,
    async close() {
      await receiver.close();
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The forked child's side: requests over the IPC channel, until the parent goes. */
if (process.argv[2] === '--child') {
  const send = (m: MigrateHostMessage) => process.send!(m);
  const h = await startMigrateHost((at, line) => send({ type: 'log', at, line }));
  process.on('message', (m: MigrateHostRequest & { id: number }) => {
    h.serve(m).then((value) => send({ type: 'reply', id: m.id, value }), (e: unknown) => send({ type: 'reply', id: m.id, error: String(e) }));
  });
  process.once('disconnect', () => void h.close().then(() => process.exit(0)));
  send({ type: 'ready', port: h.port, token: h.token, vtep: h.vtep });
}
