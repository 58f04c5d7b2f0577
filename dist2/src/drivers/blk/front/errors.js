// The errors of Mirage's Block signature, as typed values a guest can tell apart:
// `Disconnected`, `Is_read_only` (ReadOnly) and the backend's I/O failures, plus OutOfRange
// for sectors past the end of the device and Unaligned for buffers that are not whole sectors
// (both checked before anything reaches the ring).
import { ofKind as kindOf } from '../../errors.js';
export class BlockError extends Error {
}
const ofKind = (kind) => kindOf(BlockError, kind);
/** The device is not connected (any more): closed by the guest, detached, or its backend gone. */
export class Disconnected extends ofKind('Disconnected') {
}
/** A write or discard on a read-only device. */
export class ReadOnly extends ofKind('ReadOnly') {
}
/** Sectors outside the device. */
export class OutOfRange extends ofKind('OutOfRange') {
}
/** Buffers that add up to a length that is not a whole number of sectors. */
export class Unaligned extends ofKind('Unaligned') {
}
/** The backend answered BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP (`unsupported`), or memory ran out. */
export class IoError extends ofKind('IoError') {
    unsupported;
    constructor(message, unsupported = false) {
        super(message);
        this.unsupported = unsupported;
    }
}
//# sourceMappingURL=errors.js.map