// `xenode network-attach`, `network-list`, `network-detach`: vifs of running domains, as xl
// has them (xl_vif.c); and xenode's own `network-forward` (host port forwards, QEMU's hostfwd)
// and `network-gateway` (a bridge's gateway, QEMU's restrict=on|off).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ForwardInfo, GatewayInfo, SummonedForwardInfo } from '../toolstack/contract.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';
import { otherConfigChange } from './params.js';
import { XL_NETWORK_LIST_HEADER, xlNetworkList } from './format.js';

const DOMAIN = ['<domain>', 'the domain, by name or id'] as const;

export function registerNetworkCommands(program: Command): void {
  withStateDir(program.command('network-attach'))
    .description('attach a network interface to a running domain')
    .argument(...DOMAIN)
    .argument('[vif-spec...]', "the vif in xl-network-configuration(5) syntax, e.g. 'bridge=xenbr1,mac=00:16:3e:aa:bb:cc'")
    .action(async (domain: string, spec: string[], o: StateDirOpts) => {
      // Several words are one spec, as xl joins them.
      await withHost(o, (ts) => ts.call('networkAttach', { domain, spec: spec.join(',') }));
    });

  withStateDir(program.command('network-detach'))
    .description('detach a network interface from a domain (the guest closes it first)')
    .argument(...DOMAIN)
    .argument('<devid|mac>', "the vif's index or its MAC address")
    .option('-f, --force', 'remove it without waiting for the guest')
    .action(async (domain: string, vif: string, o: StateDirOpts & { force?: boolean }) => {
      await withHost(o, (ts) => ts.call('networkDetach', { domain, vif, force: o.force === true }));
    });

  withStateDir(program.command('vif-param-set'))
    .description("change a VM's vif locking mode, as XenAPI's VIF.set_locking_mode (and xe vif-param-set) do; a plugged vif takes it at once")
    .argument('<vm>', 'the VM, by name or uuid')
    .argument('<devid|mac>', "the vif's index or its MAC address")
    .option('--locking-mode <mode>', 'network_default (the MAC alone is checked), locked (the MAC and the allowed addresses only), unlocked or disabled')
    .option('--ipv4-allowed <addrs>', "the IPv4 addresses a locked vif may send from, space-separated ('' for none)")
    .option('--ipv6-allowed <addrs>', 'the IPv6 addresses likewise')
    .option('--other-config <key=value>', "set the VIF's other-config:key (key= with no value removes it)")
    .action(async (vm: string, vif: string, o: StateDirOpts & { lockingMode?: string; ipv4Allowed?: string; ipv6Allowed?: string; otherConfig?: string }) => {
      await withHost(o, async (ts) => {
        if (o.otherConfig !== undefined) await ts.call('recordSet', { cls: 'VIF', id: `${vm}/${vif}`, ...otherConfigChange(o.otherConfig) });
        if (o.lockingMode === undefined && o.ipv4Allowed === undefined && o.ipv6Allowed === undefined && o.otherConfig !== undefined) return;
        await ts.call('vifSet', {
          vm, vif, ...(o.lockingMode !== undefined && { lockingMode: o.lockingMode as 'locked' }),
          ...(o.ipv4Allowed !== undefined && { ipv4Allowed: o.ipv4Allowed }), ...(o.ipv6Allowed !== undefined && { ipv6Allowed: o.ipv6Allowed }),
        });
      });
    });

  withStateDir(program.command('network-list'))
    .description("list domains' network interfaces")
    .argument('<domain...>', 'the domains, by name or id')
    .action(async (domains: string[], o: StateDirOpts) => {
      process.stdout.write(XL_NETWORK_LIST_HEADER);
      await withHost(o, async (ts) => {
        for (const domain of domains) process.stdout.write(xlNetworkList(await ts.call('networkList', { domain })));
      });
    });

  withStateDir(program.command('network-forward'))
    .description("forward a host port to a domain's first vif through its bridge's gateway (xenode's own; QEMU's hostfwd); without a spec, list forwards")
    .argument('[domain]', 'the domain, by name or id (all domains when listing without one); with --summon, a halted VM or a config file')
    .argument('[spec]', 'PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT, e.g. tcp:8080:80 (HOSTADDR is 127.0.0.1 unless given)')
    .option('--remove', 'stop forwarding that host port')
    .option('--summon', "the guest need not run: the forward's first connection boots it (a halted VM by name or uuid, or a domain from a config file: a path, or a name ending in .cfg), and is answered once it listens; without a spec, list such forwards")
    .option('--json', 'print the API result as JSON')
    .action(async (domain: string | undefined, spec: string | undefined, o: StateDirOpts & { remove?: boolean; summon?: boolean; json?: boolean }) => {
      if (o.summon) return summonForward(domain, spec, o);
      await withHost(o, async (ts) => {
        if (spec === undefined) {
          if (o.remove) throw new Error('--remove needs a spec: xenode network-forward DOMAIN SPEC --remove');
          const rows = await ts.call('networkForwardList', domain === undefined ? {} : { domain });
          process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : formatForwards(rows));
          return;
        }
        const r = await ts.call('networkForward', { domain: domain!, spec, remove: o.remove === true });
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else say(`${o.remove ? 'removed' : 'forwarding'} ${describe(r)}`);
      });
    });

  withStateDir(program.command('network-gateway'))
    .description("show a bridge's gateway (xenode's own), or set QEMU's restrict=on|off for it: on, guests get no NAT to the host and no DNS relay")
    .argument('[bridge]', 'the bridge', 'xenbr0')
    .option('--restrict <on|off>', 'forbid (on) or allow (off) guest-initiated NAT and the DNS relay')
    .option('--json', 'print the API result as JSON')
    .action(async (bridge: string, o: StateDirOpts & { restrict?: string; json?: boolean }) => {
      if (o.restrict !== undefined && o.restrict !== 'on' && o.restrict !== 'off') throw new Error(`--restrict wants on or off, not '${o.restrict}'`);
      await withHost(o, async (ts) => {
        const r = await ts.call('networkGateway', { bridge, ...(o.restrict !== undefined && { restrict: o.restrict as 'on' | 'off' }) });
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${describeGateway(r)}\n`);
      });
    });
}

/** network-forward --summon: TARGET SPEC adds, SPEC --remove removes, nothing lists. */
async function summonForward(target: string | undefined, spec: string | undefined, o: StateDirOpts & { remove?: boolean; json?: boolean }): Promise<void> {
  await withHost(o, async (ts) => {
    if (target === undefined) {
      if (o.remove) throw new Error('--remove needs a spec: xenode network-forward SPEC --summon --remove');
      const rows = await ts.call('summonForwardList', {});
      process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : formatSummonedForwards(rows));
      return;
    }
    let r: SummonedForwardInfo;
    if (o.remove) {
      r = await ts.call('summonForward', { spec: spec ?? target, remove: true });
    } else {
      if (spec === undefined) throw new Error('--summon needs what to boot and a spec: xenode network-forward VM|CFG SPEC --summon');
      const file = target.includes('/') || target.endsWith('.cfg');
      r = await ts.call('summonForward', file ? { spec, file: resolve(target) } : { spec, vm: target });
    }
    if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else say(`${o.remove ? 'removed' : 'summoning'} tcp ${r.hostAddress}:${r.hostPort} -> ${r.vm === null ? `domain ${r.domain}` : `VM ${r.vm}`} port ${r.guestPort} (${r.guestAddress ?? 'address by DHCP'}, via ${r.bridge})`);
  });
}

/** One row per summoning forward: the host side, what it boots, the guest side, its boots. */
export function formatSummonedForwards(rows: readonly SummonedForwardInfo[]): string {
  const head = ['Host', 'Target', 'Guest', 'Bridge', 'Boots', 'Conns'];
  const body = rows.map((f) => [`${f.hostAddress}:${f.hostPort}`, f.vm === null ? f.domain : `VM ${f.vm}`, `${f.guestAddress ?? '-'}:${f.guestPort}`, f.bridge,
    String(f.boots), String(f.accepted)]);
  return table(head, body);
}

function describeGateway(g: GatewayInfo): string {
  const ports = (l: readonly number[]) => (l.length ? l.join(',') : '-');
  return [
    `${g.bridge}: gateway ${g.address}, DNS ${g.dns}, ${g.leases} lease(s)`,
    `restrict: ${g.restrict ? 'on (no NAT to the host, no DNS relay)' : 'off'}`,
    `host ports refused to guests: tcp ${ports(g.deniedHostPorts.tcp)}, udp ${ports(g.deniedHostPorts.udp)}`,
    `dropped: ${g.dropSpoof} spoofed frame(s); refused: ${g.denied} NAT flow(s)`,
    `held for host sockets: ${Math.ceil(g.spliceHeld / 1024)} KiB now, at most ${Math.ceil(g.spliceHeldPeak / 1024)} KiB by one connection, ${Math.ceil(g.readAheadHeld / 1024)} KiB read ahead for held connections`,
  ].join('\n');
}

function describe(f: ForwardInfo): string {
  return `${f.proto} ${f.hostAddress}:${f.hostPort} -> domain ${f.domid} port ${f.guestPort} (${f.guestAddress ?? 'no address yet'}, via ${f.bridge})`;
}

/** One row per forward: the domain, the host side, the guest side, the bridge. */
export function formatForwards(rows: readonly ForwardInfo[]): string {
  const head = ['Domid', 'Proto', 'Host', 'Guest', 'Bridge'];
  const body = rows.map((f) => [String(f.domid), f.proto, `${f.hostAddress}:${f.hostPort}`, `${f.guestAddress ?? '-'}:${f.guestPort}`, f.bridge]);
  return table(head, body);
}

function table(head: readonly string[], body: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
