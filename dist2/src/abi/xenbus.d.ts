export declare enum XenbusState {
    Unknown = 0,
    Initialising = 1,
    InitWait = 2,
    Initialised = 3,
    Connected = 4,
    Closing = 5,
    Closed = 6,
    Reconfiguring = 7,
    Reconfigured = 8
}
/** Names indexed by state, as Linux's xenbus_strstate prints them. */
export declare const XENBUS_STATE_NAMES: readonly ['Unknown', 'Initialising', 'InitWait', 'Initialised', 'Connected', 'Closing', 'Closed', 'Reconfiguring', 'Reconfigured'];
export type XenbusStateName = (typeof XENBUS_STATE_NAMES)[number];
export declare function xenbusStateName(state: XenbusState): XenbusStateName;
/**
 * Parse a `state` node. Only plain decimal digits naming a defined state are accepted: the node
 * is written by the peer, and a sloppy parse (parseInt's "4junk" -> 4) would let it smuggle
 * anything through.
 */
export declare function parseXenbusState(value: string): XenbusState;
