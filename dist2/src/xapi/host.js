import { ensureCertificate } from './cert.js';
import { xapiPaths } from './paths.js';
import { XapiServer } from './server.js';
import { XapiService } from './service.js';
import { HostDbSessions } from './sessions.js';
import { HostDbUsers } from './users.js';
import { AuditLog } from './audit.js';
export async function startXapi(ts, opts) {
    const paths = xapiPaths(opts.stateDir);
    const users = new HostDbUsers(opts.db);
    const sessionStore = new HostDbSessions(opts.db, (e) => opts.log(`XenAPI: a session could not be kept in the host database: ${e.message}`));
    const audit = new AuditLog(paths.audit);
    let service;
    try {
        service = await new XapiService(ts, opts.db, users, { ...opts, sessionStore, audit }).start();
    }
    catch (e) {
        await audit.close();
        throw e;
    }
    try {
        const tls = opts.port === undefined ? undefined : await ensureCertificate(paths.cert, paths.key);
        const address = opts.address ?? '127.0.0.1';
        const listen = (tcp) => XapiServer.listen(service, {
            unixPath: paths.socket,
            ...(tcp && tls && { tcp: { host: address, port: opts.port, ...tls } }),
        }, opts.http);
        let server;
        let tcpRefused;
        try {
            server = await listen(true);
        }
        catch (e) {
            if (!opts.portOptional || e.code !== 'EADDRINUSE')
                throw e;
            tcpRefused = `${address}:${opts.port} is in use`;
            server = await listen(false);
        }
        return {
            paths, service, server, users, ...(tcpRefused && { tcpRefused }),
            async close() {
                service.close();
                await server.close();
                await audit.close();
            },
        };
    }
    catch (e) {
        service.close();
        await audit.close();
        throw e;
    }
}
//# sourceMappingURL=host.js.map