// enum xenbus_state (xen/io/xenbus.h): the frontend/backend handshake states, stored in
// xenstore as decimal strings under each end's `state` node.
import { XenError } from '../errors.js';

export enum XenbusState {
  Unknown = 0,
  Initialising = 1,
  InitWait = 2,
  Initialised = 3,
  Connected = 4,
  Closing = 5,
  Closed = 6,
  Reconfiguring = 7,
  Reconfigured = 8,
}

/** Names indexed by state, as Linux's xenbus_strstate prints them. */
export const XENBUS_STATE_NAMES = [
  'Unknown', 'Initialising', 'InitWait', 'Initialised', 'Connected', 'Closing', 'Closed',
  'Reconfiguring', 'Reconfigured',
] as const;
export type XenbusStateName = (typeof XENBUS_STATE_NAMES)[number];

export function xenbusStateName(state: XenbusState): XenbusStateName {
  const name = XENBUS_STATE_NAMES[state];
  if (name === undefined) throw new XenError('EINVAL', `${state} is not a xenbus state`);
  return name;
}

/**
 * Parse a `state` node. Only plain decimal digits naming a defined state are accepted: the node
 * is written by the peer, and a sloppy parse (parseInt's "4junk" -> 4) would let it smuggle
 * anything through.
 */
export function parseXenbusState(value: string): XenbusState {
  if (!/^[0-9]{1,3}$/.test(value) || Number(value) > XenbusState.Reconfigured) {
    throw new XenError('EINVAL', `xenbus state ${JSON.stringify(value.slice(0, 32))} is not one of 0..8`);
  }
  return Number(value) as XenbusState;
}
