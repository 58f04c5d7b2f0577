// The xl-style subcommands that manage domains on a host daemon: create, list (list.ts), destroy,
// shutdown, reboot, pause, unpause, rename, console, domid, domname, uptime, info, dmesg. Each
// is one call of the command API (api.ts); output is xl's (format.ts).
import type { Command } from 'commander';
import { SHUTDOWN_REASONS } from '../abi/xen.js';
import type { DomainId, DomainRef, Toolstack } from '../toolstack/contract.js';
import { say, withHost, withStateDir, type StateDirOpts } from './common.js';
import { interactiveConsole } from './console.js';
import { createDomain } from './follow.js';
import { XL_BLOCK_LIST_HEADER, dmesgLine, xlBlockList, xlInfo, xlUptime } from './format.js';
import { registerListCommand } from './list.js';

const DOMAIN = ['<domain>', 'the domain, by name or id'] as const;

/** xl shutdown/reboot [-a] [-w]: ask, and with -w wait until each domain has shut down or gone. */
async function shutdownOrReboot(ts: Toolstack, refs: DomainRef[], reboot: boolean, wait: boolean): Promise<void> {
  const waiting = new Map<number, DomainId>();
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  // Listen before asking, or a quick guest could shut down unseen.
  const sub = wait
    ? await ts.events((e) => {
      if ((e.type !== 'shutdown' && e.type !== 'destroyed') || !waiting.has(e.domid)) return;
      waiting.delete(e.domid);
      say(e.type === 'shutdown'
        ? `Domain ${e.domid} has been shut down, reason code ${SHUTDOWN_REASONS.indexOf(e.reason)}`
        : `Domain ${e.domid} has been destroyed`);
      if (waiting.size === 0) allDone();
    }, () => allDone())
    : null;
  try {
    for (const ref of refs) {
      const d = await ts.call('lookup', { domain: ref });
      say(`${reboot ? 'Rebooting' : 'Shutting down'} domain ${d.domid}`);
      waiting.set(d.domid, d);
      await ts.call('shutdown', { domain: d.domid, reboot });
    }
    if (wait && waiting.size) {
      say(`Waiting for ${waiting.size} domains`);
      await done;
    }
  } finally {
    sub?.close();
  }
}

/** Every guest (for -a). */
async function allGuests(ts: Toolstack): Promise<DomainRef[]> {
  return (await ts.call('list', {})).filter((d) => d.domid !== 0 && d.state[5] !== 'd').map((d) => d.domid);
}

export function registerDomainCommands(program: Command): void {
  withStateDir(program.command('create'))
    .description('create a domain from an xl.cfg file')
    .argument('<config>', 'the domain configuration, in xl.cfg syntax')
    .argument('[settings...]', "KEY=VALUE settings applied after the file's own, as xl create takes them (e.g. 'memory=64')")
    .option('-c, --console', 'attach to its console (Ctrl-] detaches)')
    .option('-p, --paused', 'leave it paused')
    .option('-F, --foreground', 'stay until the domain is gone for good (following restarts); exit status as `xenode run`')
    .option('-q, --quiet', 'no notes, only the console')
    .action(async (config: string, settings: string[], o: StateDirOpts & { console?: boolean; paused?: boolean; foreground?: boolean; quiet?: boolean }) => {
      process.exitCode = await withHost(o, (ts) => createDomain(ts, config, {
        console: o.console === true, paused: o.paused === true, foreground: o.foreground === true, keyboard: true, quiet: o.quiet === true,
        overrides: settings,
      }));
    });

  registerListCommand(program);

  withStateDir(program.command('destroy'))
    .description('destroy a domain at once (its guest gets no say)')
    .argument(...DOMAIN)
    .action(async (domain: string, o: StateDirOpts) => {
      await withHost(o, (ts) => ts.call('destroy', { domain }));
    });

  for (const reboot of [false, true]) {
    withStateDir(program.command(reboot ? 'reboot' : 'shutdown'))
      .description(reboot ? 'ask a domain to reboot (control/shutdown = reboot)' : 'ask a domain to power off (control/shutdown = poweroff)')
      .argument('[domain]', 'the domain, by name or id')
      .option('-a, --all', 'every domain')
      .option('-w, --wait', 'wait until the domain has shut down')
      .action(async (domain: string | undefined, o: StateDirOpts & { all?: boolean; wait?: boolean }) => {
        if (!domain && !o.all) throw new Error('name a domain, or use -a for all of them');
        await withHost(o, async (ts) => shutdownOrReboot(ts, o.all ? await allGuests(ts) : [domain!], reboot, o.wait === true));
      });
  }

  for (const op of ['pause', 'unpause'] as const) {
    withStateDir(program.command(op))
      .description(op === 'pause' ? 'pause a domain (its vCPU stops at its next scheduling point)' : 'unpause a paused domain')
      .argument(...DOMAIN)
      .action(async (domain: string, o: StateDirOpts) => {
        await withHost(o, (ts) => ts.call(op, { domain }));
      });
  }

  withStateDir(program.command('rename'))
    .description('rename a domain')
    .argument(...DOMAIN)
    .argument('<new-name>', 'its new name')
    .action(async (domain: string, name: string, o: StateDirOpts) => {
      await withHost(o, (ts) => ts.call('rename', { domain, name }));
    });

  withStateDir(program.command('block-attach'))
    .description('attach a disk to a running domain')
    .argument(...DOMAIN)
    .argument('<disk-spec...>', "the disk in xl-disk-configuration(5) syntax, e.g. 'target=/tmp/b.img,format=raw,vdev=xvdb,access=rw'")
    .action(async (domain: string, spec: string[], o: StateDirOpts) => {
      // Several words are one spec, as xl joins them.
      await withHost(o, (ts) => ts.call('blockAttach', { domain, spec: spec.join(',') }));
    });

  withStateDir(program.command('block-detach'))
    .description('detach a disk from a domain (the guest closes it first)')
    .argument(...DOMAIN)
    .argument('<vdev>', 'the virtual device, e.g. xvdb, or its number')
    .option('-f, --force', 'remove it without waiting for the guest')
    .action(async (domain: string, vdev: string, o: StateDirOpts & { force?: boolean }) => {
      await withHost(o, (ts) => ts.call('blockDetach', { domain, vdev, force: o.force === true }));
    });

  withStateDir(program.command('block-list'))
    .description("list domains' disks")
    .argument('<domain...>', 'the domains, by name or id')
    .action(async (domains: string[], o: StateDirOpts) => {
      process.stdout.write(XL_BLOCK_LIST_HEADER);
      await withHost(o, async (ts) => {
        for (const domain of domains) {
          const { domid } = await ts.call('lookup', { domain });
          process.stdout.write(xlBlockList(domid, await ts.call('blockList', { domain: domid })));
        }
      });
    });

  withStateDir(program.command('console'))
    .description("attach to a domain's console (Ctrl-] detaches)")
    .argument(...DOMAIN)
    .option('--log', 'print the console output the host kept, and exit')
    .action(async (domain: string, o: StateDirOpts & { log?: boolean }) => {
      await withHost(o, async (ts) => {
        if (o.log) process.stdout.write(Buffer.from((await ts.call('consoleLog', { domain })).data, 'base64'));
        else await interactiveConsole(ts, domain);
      });
    });

  withStateDir(program.command('domid'))
    .description("print a domain's id")
    .argument('<name>', 'the domain name')
    .action(async (name: string, o: StateDirOpts) => {
      // Only a name: xl domid does not take ids.
      if (/^[0-9]+$/.test(name)) throw new Error(`'${name}' is an id, not a name: \`xenode domname ${name}\` gives its name`);
      process.stdout.write(`${(await withHost(o, (ts) => ts.call('lookup', { domain: name }))).domid}\n`);
    });

  withStateDir(program.command('domname'))
    .description("print a domain's name")
    .argument('<domid>', 'the domain id')
    .action(async (domid: string, o: StateDirOpts) => {
      if (!/^[0-9]+$/.test(domid)) throw new Error(`invalid domain id '${domid}': \`xenode domid ${domid}\` gives the id of a name`);
      process.stdout.write(`${(await withHost(o, (ts) => ts.call('lookup', { domain: Number(domid) }))).name}\n`);
    });

  withStateDir(program.command('uptime'))
    .description('how long the host and its domains have been up')
    .argument('[domain...]', 'only these domains, by name or id')
    .option('-s, --short', "one line per domain, as uptime(1) prints")
    .action(async (domains: string[], o: StateDirOpts & { short?: boolean }) => {
      const rows = await withHost(o, (ts) => ts.call('list', domains.length ? { domains } : {}));
      process.stdout.write(xlUptime(rows, Date.now(), o.short === true));
    });

  withStateDir(program.command('info'))
    .description('information about the host, as xl info prints it')
    .argument('[field]', 'print only this field')
    .action(async (field: string | undefined, o: StateDirOpts) => {
      process.stdout.write(xlInfo(await withHost(o, (ts) => ts.call('info', {})), field));
    });

  withStateDir(program.command('dmesg'))
    .description("the host's log: domain events and host messages, oldest first")
    .option('-c, --clear', 'clear the log after printing it')
    .action(async (o: StateDirOpts & { clear?: boolean }) => {
      const entries = await withHost(o, (ts) => ts.call('dmesg', { clear: o.clear === true }));
      process.stdout.write(entries.map((e) => `${dmesgLine(e)}\n`).join(''));
    });

  withStateDir(program.command('debug-keys'))
    .description("have the hypervisor dump state into the host's log, as xl debug-keys (read it with dmesg); e: event channels")
    .argument('<keys>', 'the keys, as one string')
    .action(async (keys: string, o: StateDirOpts) => {
      await withHost(o, (ts) => ts.call('debugKeys', { keys }));
    });
}
