import type { Args, ConsoleHandlers, ConsoleSession, DomainRef, HostEvent, Op, Result, Subscription, Toolstack, UserDirectory } from './contract.js';
import type { Host } from './host.js';
import type { HostLog } from './hostlog.js';
export interface ToolstackApiOptions {
    readonly log: HostLog;
    /** How `stop` stops the host; absent for an in-process host, which refuses it. */
    readonly onStop?: () => void;
}
/** The command API over an in-process Host. */
export declare class ToolstackApi implements Toolstack {
    #private;
    constructor(host: Host, opts: ToolstackApiOptions);
    call<K extends Op>(op: K, args: Args<K>): Promise<Result<K>>;
    /** Where userAdd keeps users: the daemon sets it once its XenAPI service is up. */
    setUsers(users: UserDirectory): void;
    console(ref: DomainRef, handlers: ConsoleHandlers, opts?: {
        replay?: boolean;
    }): Promise<ConsoleSession>;
    events(onEvent: (e: HostEvent) => void): Promise<Subscription>;
    close(): void;
}
