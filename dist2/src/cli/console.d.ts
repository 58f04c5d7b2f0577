import type { ConsoleSession, DomainRef, Toolstack } from '../toolstack/contract.js';
/** This terminal's input, sent to whichever console session is current, until Ctrl-]. */
export declare class Keyboard {
    #private;
    /** Resolves when the user detaches. */
    readonly detached: Promise<void>;
    constructor();
    forwardTo(session: ConsoleSession | null): void;
    close(): void;
}
export interface Viewer {
    readonly session: ConsoleSession;
    /** Resolves when the console ends (the domain went away). */
    readonly ended: Promise<void>;
}
/** Attach to a domain's console; its output goes to stdout. */
export declare function view(ts: Toolstack, domain: DomainRef, opts?: {
    replay?: boolean;
}): Promise<Viewer>;
/** `xenode console DOMAIN`: view and type until Ctrl-] or until the domain goes. */
export declare function interactiveConsole(ts: Toolstack, domain: DomainRef): Promise<void>;
