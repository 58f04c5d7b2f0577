// The HTTPS certificate: self-signed, made once by openssl in the state dir (key 0600) and
// kept, so that a client that pinned it keeps trusting the host across restarts.
import { execFile } from 'node:child_process';
import { readFile, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
const run = promisify(execFile);
/** The certificate at `certFile`/`keyFile`, made first if either is missing. */
export async function ensureCertificate(certFile, keyFile) {
    const read = async () => ({ key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') });
    try {
        return await read();
    }
    catch (e) {
        if (e.code !== 'ENOENT')
            throw e;
    }
    const name = hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
    // Made beside the final names and renamed into place, so a crash never leaves half a pair.
    await run('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
        '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`,
        '-keyout', `${keyFile}.tmp`, '-out', `${certFile}.tmp`,
    ], { timeout: 30_000 }).catch((e) => {
        throw new Error(`could not make the XenAPI certificate with openssl: ${e.message}`);
    });
    await rename(`${keyFile}.tmp`, keyFile);
    await rename(`${certFile}.tmp`, certFile);
    return read();
}
//# sourceMappingURL=cert.js.map