// The errors of Mirage's NETWORK signature (mirage-net's Net.error), as typed values a guest
// can tell apart: `Disconnected`, `Invalid_length` (InvalidLength) and `Unimplemented` (an
// offload the backend did not negotiate), plus the backend's refusal of a frame (TxError) and
// a backend that broke the protocol (BackendMisbehaved: the device is then closed).
import { ofKind as kindOf } from '../../errors.js';
export class NetError extends Error {
}
const ofKind = (kind) => kindOf(NetError, kind);
/** The device is not connected (any more): closed by the guest, detached, or its backend gone. */
export class Disconnected extends ofKind('Disconnected') {
}
/** An empty frame, one shorter than an Ethernet header, or one longer than the MTU allows. */
export class InvalidLength extends ofKind('InvalidLength') {
}
/** The frame asks for an offload (GSO) the backend did not negotiate. */
export class Unimplemented extends ofKind('Unimplemented') {
}
/** The backend answered NETIF_RSP_ERROR or NETIF_RSP_DROPPED for the frame. */
export class TxError extends ofKind('TxError') {
    status;
    constructor(message, status) {
        super(message);
        this.status = status;
    }
}
/** The backend's responses broke the protocol (an id not posted, a status out of range, ...). */
export class BackendMisbehaved extends ofKind('BackendMisbehaved') {
}
//# sourceMappingURL=errors.js.map