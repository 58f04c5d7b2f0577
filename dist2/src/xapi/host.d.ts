import type { Toolstack } from '../toolstack/contract.js';
import { type XapiPaths } from './paths.js';
import { XapiServer, type XapiHttpLimits } from './server.js';
import { XapiService, type XapiServiceOptions } from './service.js';
import type { HostDb } from '../toolstack/db/hostdb.js';
import { HostDbUsers } from './users.js';
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
export declare function startXapi(ts: Toolstack, opts: XapiHostOptions): Promise<XapiHost>;
