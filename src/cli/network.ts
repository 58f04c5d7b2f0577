// `xenode network-attach`, `network-list`, `network-detach`: vifs of running domains, as xl
// has them (xl_vif.c).
import type { Command } from 'commander';
import { withHost, withStateDir, type StateDirOpts } from './common.js';
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

  withStateDir(program.command('network-list'))
    .description("list domains' network interfaces")
    .argument('<domain...>', 'the domains, by name or id')
    .action(async (domains: string[], o: StateDirOpts) => {
      process.stdout.write(XL_NETWORK_LIST_HEADER);
      await withHost(o, async (ts) => {
        for (const domain of domains) process.stdout.write(xlNetworkList(await ts.call('networkList', { domain })));
      });
    });
}
