// The backends (and the image formats and switch they bring) load only in a driver domain.
export async function serveBlockBackends(os, opts = {}) {
    const { BlkbackDaemon } = await import('../drivers/blk/back/devd.js');
    const daemon = await BlkbackDaemon.start({ hc: os.xen, evtchn: os.evtchn, xs: os.xenstore, log: (line) => os.console.log(line) }, os.domid, opts);
    const request = await os.lifecycle.awaitShutdownRequest();
    await daemon.stop();
    await os.shutdown(request === 'reboot' ? 'reboot' : 'poweroff');
}
/** A network driver domain: its own virtual switch, a netback for every vif it is given. */
export async function serveNetBackends(os, opts = {}) {
    const [{ NetbackDaemon }, { Switch }] = await Promise.all([import('../drivers/net/back/devd.js'), import('../network/switch.js')]);
    const sw = new Switch();
    const daemon = await NetbackDaemon.start({ hc: os.xen, evtchn: os.evtchn, xs: os.xenstore, log: (line) => os.console.log(line) }, os.domid, { switch: sw, netback: opts });
    const request = await os.lifecycle.awaitShutdownRequest();
    await daemon.stop();
    sw.close();
    await os.shutdown(request === 'reboot' ? 'reboot' : 'poweroff');
}
//# sourceMappingURL=driver-domain.js.map