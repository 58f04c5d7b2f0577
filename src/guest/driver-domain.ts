// The kernel of a driver domain (xl's driver_domain=1 plus `xl devd`): it serves the disks, or
// the vifs, the toolstack assigns to it with backend=<its name> until it is asked to shut
// down. Its kernel file is two lines (examples/driver-domain/blkback.ts, netback.ts); a crash
// here takes down this domain only: dom0 removes its nodes and the guests it served see their
// devices close.
import type { OS } from './os.js';
import type { BlkbackDaemonOptions } from '../drivers/blk/back/devd.js';
import type { NetbackOptions } from '../drivers/net/back/netback.js';

// The backends (and the image formats and switch they bring) load only in a driver domain.

export async function serveBlockBackends(os: OS, opts: BlkbackDaemonOptions = {}): Promise<void> {
  const { BlkbackDaemon } = await import('../drivers/blk/back/devd.js');
  const daemon = await BlkbackDaemon.start(
    { hc: os.xen, evtchn: os.evtchn, xs: os.xenstore, log: (line) => os.console.log(line) }, os.domid, opts);
  const request = await os.lifecycle.awaitShutdownRequest();
  await daemon.stop();
  await os.shutdown(request === 'reboot' ? 'reboot' : 'poweroff');
}

/** A network driver domain: its own virtual switch, a netback for every vif it is given. */
export async function serveNetBackends(os: OS, opts: NetbackOptions = {}): Promise<void> {
  const [{ NetbackDaemon }, { Switch }] = await Promise.all([import('../drivers/net/back/devd.js'), import('../network/switch.js')]);
  const sw = new Switch();
  const daemon = await NetbackDaemon.start(
    { hc: os.xen, evtchn: os.evtchn, xs: os.xenstore, log: (line) => os.console.log(line) }, os.domid, { switch: sw, netback: opts });
  const request = await os.lifecycle.awaitShutdownRequest();
  await daemon.stop();
  sw.close();
  await os.shutdown(request === 'reboot' ? 'reboot' : 'poweroff');
}
