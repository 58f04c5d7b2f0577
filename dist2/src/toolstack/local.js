// A host in this process with its command API: what `xenode run` (when no daemon is up),
// `xenode demo`, the host daemon and tests drive.
import { ToolstackApi } from './api.js';
import { Host } from './host.js';
import { HostLog } from './hostlog.js';
export async function startLocalHost(opts = {}) {
    const log = new HostLog({ ...(opts.logFile && { file: opts.logFile }), ...(opts.echo && { echo: opts.echo }) });
    let host;
    try {
        host = await Host.start({
            ...(opts.stateDir && { stateDir: opts.stateDir }),
            poolSize: opts.poolSize ?? 0,
            ...(opts.shells && { shells: opts.shells }),
            log: (line) => log.message(line),
        });
    }
    catch (e) {
        await log.close();
        throw e;
    }
    log.attach(host);
    const api = new ToolstackApi(host, { log, ...(opts.onStop && { onStop: opts.onStop }) });
    return {
        host,
        api,
        log,
        async close() {
            await host.close();
            await log.close();
        },
    };
}
//# sourceMappingURL=local.js.map