import type { Args, ConsoleHandlers, ConsoleSession, DomainRef, HostEvent, Op, Result, Subscription, Toolstack } from './contract.js';
/** Nothing answers on the state dir's control socket. */
export declare class HostNotRunning extends Error {
    readonly stateDir: string;
    name: string;
    constructor(stateDir: string);
}
export declare class RemoteToolstack implements Toolstack {
    #private;
    readonly stateDir: string;
    private readonly sock;
    private constructor();
    /** The host on `stateDir`; HostNotRunning if there is none. */
    static connect(stateDir: string): Promise<RemoteToolstack>;
    call<K extends Op>(op: K, args: Args<K>): Promise<Result<K>>;
    console(domain: DomainRef, handlers: ConsoleHandlers, opts?: {
        replay?: boolean;
    }): Promise<ConsoleSession>;
    events(onEvent: (e: HostEvent) => void, onEnd?: () => void): Promise<Subscription>;
    close(): void;
}
