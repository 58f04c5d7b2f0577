// Where the XenAPI service keeps its files in a host's state dir.
import { join } from 'node:path';
export function xapiPaths(stateDir) {
    return {
        socket: join(stateDir, 'xapi.sock'),
        cert: join(stateDir, 'xapi-cert.pem'),
        key: join(stateDir, 'xapi-key.pem'),
        audit: join(stateDir, 'audit.log'),
    };
}
//# sourceMappingURL=paths.js.map