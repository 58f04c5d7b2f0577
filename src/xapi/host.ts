// XenAPI for a host daemon: the service over the host's command API, its users, and its
// listeners (the Unix socket always; HTTPS on TCP when a port is given).
import { homedir } from 'node:os';
import type { Toolstack } from '../toolstack/contract.js';
import { ensureCertificate } from './cert.js';
import { xapiPaths, type XapiPaths } from './paths.js';
import { XapiServer, type XapiHttpLimits } from './server.js';
import { XapiService, type XapiServiceOptions } from './service.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
import { HostDbSessions } from './sessions.js';
import { HostDbUsers } from './users.js';
import { AuditLog } from './audit.js';
import { checkKernelDirs } from './kernels.js';

export interface XapiHostOptions extends XapiServiceOptions {
  readonly stateDir: string;
  /** The host database: users live there. */
  readonly db: HostDb;
  /** Told of what goes wrong in the background (a session the database could not keep). */
  readonly log: (line: string) => void;
  /** HTTPS on this TCP port (0: any free one); none when absent. */
  readonly port?: number;
  /** The address HTTPS binds; 127.0.0.1 unless told otherwise. */
  readonly address?: string;
  /** The port is a default, not the user's choice: if it is taken, serve on the Unix socket only (and say so). */
  readonly portOptional?: boolean;
  readonly http?: Partial<XapiHttpLimits>;
  /** More directories of kernels XenAPI callers may name, besides the state dir's guest/ (`xenode host --kernel-dir`): each absolute, there, and private. */
  readonly moreKernelDirs?: readonly string[];
}

export interface XapiHost {
  readonly paths: XapiPaths;
  readonly service: XapiService;
  readonly server: XapiServer;
  readonly users: HostDbUsers;
  /** Why HTTPS is not served (an optional port was taken); undefined when it is, or was not asked for. */
  readonly tcpRefused?: string;
  close(): Promise<void>;
}

export async function startXapi(ts: Toolstack, opts: XapiHostOptions): Promise<XapiHost> {
  const paths = xapiPaths(opts.stateDir);
  // The state dir's guest/ may come later (a link made by hand): it is checked at each use.
  await checkKernelDirs(opts.moreKernelDirs ?? [], [opts.stateDir, homedir()]);
  const users = new HostDbUsers(opts.db);
  const sessionStore = new HostDbSessions(opts.db, (e) => opts.log(`XenAPI: a session could not be kept in the host database: ${e.message}`));
  const audit = new AuditLog(paths.audit);
  let service: XapiService;
  try {
    const kernelDirs = [paths.kernels, ...(opts.moreKernelDirs ?? [])];
    service = await new XapiService(ts, opts.db, users, { ...opts, sessionStore, audit, kernelDirs }).start();
  } catch (e) {
    await audit.close();
    throw e;
  }
  try {
    const tls = opts.port === undefined ? undefined : await ensureCertificate(paths.cert, paths.key);
    const address = opts.address ?? '127.0.0.1';
    const listen = (tcp: boolean) => XapiServer.listen(service, {
      unixPath: paths.socket,
      ...(tcp && tls && { tcp: { host: address, port: opts.port!, ...tls } }),
    }, opts.http);
    let server: XapiServer;
    let tcpRefused: string | undefined;
    try {
      server = await listen(true);
    } catch (e) {
      if (!opts.portOptional || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
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
  } catch (e) {
    service.close();
    await audit.close();
    throw e;
  }
}
