// XenAPI for a host daemon: the service over the host's command API, its users, and its
// listeners (the Unix socket always; HTTPS on TCP when a port is given).
import type { Toolstack } from '../toolstack/contract.js';
import { ensureCertificate } from './cert.js';
import { xapiPaths, type XapiPaths } from './paths.js';
import { XapiServer, type XapiHttpLimits } from './server.js';
import { XapiService, type XapiServiceOptions } from './service.js';
import { UserFile } from './users.js';

export interface XapiHostOptions extends XapiServiceOptions {
  readonly stateDir: string;
  /** HTTPS on this TCP port (0: any free one); none when absent. */
  readonly port?: number;
  /** The address HTTPS binds; 127.0.0.1 unless told otherwise. */
  readonly address?: string;
  readonly http?: Partial<XapiHttpLimits>;
}

export interface XapiHost {
  readonly paths: XapiPaths;
  readonly service: XapiService;
  readonly server: XapiServer;
  readonly users: UserFile;
  close(): Promise<void>;
}

export async function startXapi(ts: Toolstack, opts: XapiHostOptions): Promise<XapiHost> {
  const paths = xapiPaths(opts.stateDir);
  const users = await UserFile.open(paths.users);
  const service = await new XapiService(ts, users, opts).start();
  try {
    const tls = opts.port === undefined ? undefined : await ensureCertificate(paths.cert, paths.key);
    const server = await XapiServer.listen(service, {
      unixPath: paths.socket,
      ...(tls && { tcp: { host: opts.address ?? '127.0.0.1', port: opts.port!, ...tls } }),
    }, opts.http);
    return {
      paths, service, server, users,
      async close() {
        service.close();
        await server.close();
      },
    };
  } catch (e) {
    service.close();
    throw e;
  }
}
