import { type IncomingHttpHeaders } from 'node:http';
import type { XapiRole } from '../../src/toolstack/contract.js';
import { type LocalHost } from '../../src/toolstack/local.js';
import { XapiServer, type XapiHttpLimits } from '../../src/xapi/server.js';
import { XapiService, type XapiServiceOptions } from '../../src/xapi/service.js';
import { HostDbUsers } from '../../src/xapi/users.js';
import { type DaemonRig } from './host-daemon.js';
export declare const GUESTS: string;
export interface XapiRig extends DaemonRig {
    /** https://127.0.0.1:PORT */
    readonly url: string;
    readonly port: number;
    readonly socket: string;
    /** Create a guest that runs until asked to stop; returns its domid. */
    ticker(name: string): Promise<number>;
}
export declare function startXapiRig(prefix: string): Promise<XapiRig>;
export interface HttpReply {
    readonly status: number;
    readonly headers: IncomingHttpHeaders;
    readonly body: string;
}
/** Where to send: the Unix socket (plain HTTP) or the TCP port (HTTPS). */
export type Target = {
    readonly socket: string;
} | {
    readonly port: number;
};
export declare function post(target: Target, path: string, body: string | Buffer, contentType: string, headers?: Record<string, string>): Promise<HttpReply>;
/** A JSON-RPC 2.0 call; its result, or its error object. */
export declare function jsonCall(target: Target, method: string, params: unknown[]): Promise<{
    result?: unknown;
    error?: {
        code: number;
        message: string;
        data: string[];
    };
}>;
/** A session of root on the Unix socket. */
export declare function rootSession(target: {
    socket: string;
}): Promise<string>;
/** One XML-RPC methodCall with string parameters. */
export declare function xmlCall(method: string, params: string[]): string;
/** XenAPI over an in-process host (no daemon): the service and its listeners, with the limits given. */
export interface InProcessXapi {
    /** A temporary dir, removed on close. */
    readonly dir: string;
    readonly local: LocalHost;
    readonly service: XapiService;
    readonly server: XapiServer;
    readonly users: HostDbUsers;
    readonly unix: {
        readonly socket: string;
    };
    readonly tcp: {
        readonly port: number;
    };
    /** A session of a new user of `role` (password: the role's name), logged in over HTTPS. */
    login(role: XapiRole): Promise<string>;
    close(): Promise<void>;
}
export declare function startInProcessXapi(prefix: string, opts?: XapiServiceOptions & {
    http?: Partial<XapiHttpLimits>;
}): Promise<InProcessXapi>;
