// A host daemon in a temporary state dir and a control-socket client to it, for e2e tests
// that drive the host as `xenode` does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteToolstack } from '../../src/toolstack/client.js';
import { HostDaemon } from '../../src/toolstack/daemon.js';
export async function startDaemonRig(prefix, opts = {}) {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `xenode-${prefix}-`));
    const stateDir = join(dir, 'state');
    const daemon = await HostDaemon.start({ stateDir, poolSize: opts.poolSize ?? 1, shutdownGraceMs: opts.shutdownGraceMs ?? 2000,
        ...(opts.xapiPort !== undefined && { xapiPort: opts.xapiPort }), ...(opts.migrationListen && { migrationListen: opts.migrationListen }) });
    const ts = await RemoteToolstack.connect(stateDir);
    return {
        dir,
        stateDir,
        daemon,
        ts,
        cfgFile(name, text) {
            const file = join(dir, `${name}.cfg`);
            writeFileSync(file, text);
            return file;
        },
        async close() {
            ts.close();
            await daemon.stop();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
//# sourceMappingURL=host-daemon.js.map