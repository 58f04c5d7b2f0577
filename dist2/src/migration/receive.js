// xl migrate-receive as a host service (`xenode host --listen ADDRESS:PORT`): a TCP listener
// that takes one migration per connection. The sender proves it may send with the host's
// migration token before anything else is read; the whole stream is read and checked before a
// domain is created; the domain is built paused as NAME--incoming, and only the sender's
// permission to go lets it run, under its own name. A failure before that destroys the copy
// here, so the sender's stays the only one.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { XenError } from '../errors.js';
import { MIGRATE_PERMISSION_TO_GO, MIGRATE_RECEIVER_BANNER, MIGRATE_RECEIVER_READY, MIGRATE_REPORT } from './format.js';
import { readImage } from './image.js';
import { restoreImage } from './restore.js';
import { ByteSource } from './source.js';
import { AUTH_BYTES, AUTH_REFUSED, authentic, send, readFixed } from './wire.js';
/** Migrations received at once; more wait in the kernel's backlog. */
const MAX_INCOMING = 4;
const STALL_MS = 30_000;
export class MigrationReceiver {
    server;
    token;
    #active = 0;
    constructor(server, token) {
        this.server = server;
        this.token = token;
    }
    static async listen(host, opts) {
        const token = randomBytes(32).toString('hex');
        await writeFile(opts.tokenFile, `${token}\n`, { mode: 0o600 });
        const server = createServer();
        const r = new MigrationReceiver(server, token);
        server.on('connection', (sock) => void r.#serve(host, sock, opts));
        await new Promise((resolve, reject) => {
            server.once('error', reject);
            server.listen(opts.port, opts.address, () => {
                server.off('error', reject);
                resolve();
            });
        });
        return r;
    }
    get port() {
        const a = this.server.address();
        return typeof a === 'object' && a ? a.port : 0;
    }
    async #serve(host, sock, opts) {
        sock.on('error', () => { });
        if (this.#active >= MAX_INCOMING) {
            sock.end('xenode migration receiver: busy\n');
            return;
        }
        this.#active++;
        const src = new ByteSource(sock, { stallMs: opts.stallMs ?? STALL_MS });
        const peer = `${sock.remoteAddress}:${sock.remotePort}`;
        try {
            await receive(host, sock, src, this.token, (line) => opts.log(`migration from ${peer}: ${line}`));
        }
        catch (e) {
            opts.log(`migration from ${peer}: ${e.message}`);
        }
        finally {
            this.#active--;
            src.close();
            sock.destroy();
        }
    }
    close() {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}
async function receive(host, sock, src, token, log) {
    if (!authentic(await src.read(AUTH_BYTES, 'the authentication preamble'), token)) {
        sock.end(AUTH_REFUSED);
        throw new XenError('EACCES', 'refused: authentication failed (nothing was created)');
    }
    log('migration target: Ready to receive domain.');
    await send(sock, [MIGRATE_RECEIVER_BANNER]);
    const image = await readImage(src);
    const name = image.config.name;
    // Its own name must be free here, or it could never run here: refuse before building it.
    if (host.hv.domains().some((d) => d.name === name && !d.dying))
        throw new XenError('EEXIST', `Domain with name "${name}" already exists.`);
    const built = await restoreImage(host, image, { paused: true, name: `${name}--incoming` });
    const { domid } = built.domain;
    let rc = 0;
    try {
        log('migration target: Transfer complete, requesting permission to start domain.');
        await send(sock, [MIGRATE_RECEIVER_READY]);
        await readFixed(src, MIGRATE_PERMISSION_TO_GO, 'GO message');
    }
    catch (e) {
        // The sender keeps (or resumes) its copy: ours must go.
        await host.destroy(domid).catch(() => { });
        throw e;
    }
    log('migration target: Got permission, starting domain.');
    try {
        await host.rename(domid, name);
        host.unpause(domid);
        log('migration target: Domain started successsfully.');
    }
    catch (e) {
        log(`migration target: ${e.message}`);
        rc = 1;
    }
    await send(sock, [MIGRATE_REPORT, Buffer.from([rc])]);
    if (rc) {
        log('migration target: Failure, destroying our copy.');
        await host.destroy(domid).catch(() => { });
        log('migration target: Cleanup OK, granting sender permission to resume.');
        await send(sock, [MIGRATE_PERMISSION_TO_GO]);
    }
}
//# sourceMappingURL=receive.js.map