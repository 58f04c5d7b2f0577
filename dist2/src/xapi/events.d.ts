import type { XValue } from './types.js';
export type EventOperation = 'add' | 'mod' | 'del';
export interface XapiEvent {
    readonly id: number;
    /** The class in lowercase, as XAPI names it in events. */
    readonly class: string;
    readonly operation: EventOperation;
    readonly ref: string;
    readonly snapshot?: XValue;
    readonly timestamp: string;
}
export interface EventLimits {
    /** Events kept for clients that are behind. */
    readonly keep: number;
    /** event.from calls waiting at once; more are answered at once, with what there is. */
    readonly maxWaiters: number;
    /** The longest an event.from waits. */
    readonly maxWaitMs: number;
}
export declare const EVENT_LIMITS: EventLimits;
/** XAPI writes a token as two 20-digit numbers; the first is ours. */
export declare function formatToken(id: number): string;
export declare function parseToken(token: string): number;
/** Which events a list of event.from classes asks for: "*", a class, or "class/ref". */
export declare function classFilter(classes: readonly string[]): (e: {
    class: string;
    ref: string;
}) => boolean;
export declare class EventLog {
    #private;
    readonly limits: EventLimits;
    constructor(limits?: EventLimits);
    get last(): number;
    record(cls: string, operation: EventOperation, ref: string, snapshot?: XValue): XapiEvent;
    /** Events after `since` that `matches` takes; EVENTS_LOST if some of them are no longer kept. */
    since(since: number, matches: (e: XapiEvent) => boolean): XapiEvent[];
    /**
     * The events after `since`, waiting up to `timeoutMs` for one when there are none yet, and
     * the last event looked at (the next token).
     */
    wait(since: number, matches: (e: XapiEvent) => boolean, timeoutMs: number): Promise<{
        events: XapiEvent[];
        last: number;
    }>;
    /** Wake every waiter (the service is stopping). */
    close(): void;
}
