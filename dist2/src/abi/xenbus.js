// enum xenbus_state (xen/io/xenbus.h): the frontend/backend handshake states, stored in
// xenstore as decimal strings under each end's `state` node.
import { XenError } from '../errors.js';
export var XenbusState;
(function (XenbusState) {
    XenbusState[XenbusState["Unknown"] = 0] = "Unknown";
    XenbusState[XenbusState["Initialising"] = 1] = "Initialising";
    XenbusState[XenbusState["InitWait"] = 2] = "InitWait";
    XenbusState[XenbusState["Initialised"] = 3] = "Initialised";
    XenbusState[XenbusState["Connected"] = 4] = "Connected";
    XenbusState[XenbusState["Closing"] = 5] = "Closing";
    XenbusState[XenbusState["Closed"] = 6] = "Closed";
    XenbusState[XenbusState["Reconfiguring"] = 7] = "Reconfiguring";
    XenbusState[XenbusState["Reconfigured"] = 8] = "Reconfigured";
})(XenbusState || (XenbusState = {}));
/** Names indexed by state, as Linux's xenbus_strstate prints them. */
export const XENBUS_STATE_NAMES = [
    'Unknown', 'Initialising', 'InitWait', 'Initialised', 'Connected', 'Closing', 'Closed',
    'Reconfiguring', 'Reconfigured',
];
export function xenbusStateName(state) {
    const name = XENBUS_STATE_NAMES[state];
    if (name === undefined)
        throw new XenError('EINVAL', `${state} is not a xenbus state`);
    return name;
}
/**
 * Parse a `state` node. Only plain decimal digits naming a defined state are accepted: the node
 * is written by the peer, and a sloppy parse (parseInt's "4junk" -> 4) would let it smuggle
 * anything through.
 */
export function parseXenbusState(value) {
    if (!/^[0-9]{1,3}$/.test(value) || Number(value) > XenbusState.Reconfigured) {
        throw new XenError('EINVAL', `xenbus state ${JSON.stringify(value.slice(0, 32))} is not one of 0..8`);
    }
    return Number(value);
}
//# sourceMappingURL=xenbus.js.map