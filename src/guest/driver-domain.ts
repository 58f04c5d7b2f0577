// The kernel of a block driver domain (xl's driver_domain=1 plus `xl devd`): it serves the
// disks the toolstack assigns to it with backend=<its name> until it is asked to shut down.
// Its kernel file is two lines (examples/driver-domain/blkback.ts); a crash here takes down
// this domain only: dom0 removes its nodes and the guests it served see their disks close.
import type { OS } from './os.js';
import { BlkbackDaemon, type BlkbackDaemonOptions } from '../drivers/blk/back/devd.js';

export async function serveBlockBackends(os: OS, opts: BlkbackDaemonOptions = {}): Promise<void> {
  const daemon = await BlkbackDaemon.start(
    { hc: os.xen, evtchn: os.evtchn, xs: os.xenstore, log: (line) => os.console.log(line) }, os.domid, opts);
  const request = await os.lifecycle.awaitShutdownRequest();
  await daemon.stop();
  await os.shutdown(request === 'reboot' ? 'reboot' : 'poweroff');
}
