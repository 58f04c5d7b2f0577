// The errors of Mirage's Block signature, as typed values a guest can tell apart:
// `Disconnected`, `Is_read_only` (ReadOnly) and the backend's I/O failures, plus OutOfRange
// for sectors past the end of the device and Unaligned for buffers that are not whole sectors
// (both checked before anything reaches the ring).

export type BlockErrorKind = 'Disconnected' | 'ReadOnly' | 'OutOfRange' | 'Unaligned' | 'IoError';

export abstract class BlockError extends Error {
  abstract readonly kind: BlockErrorKind;
}

/** The device is not connected (any more): closed by the guest, detached, or its backend gone. */
export class Disconnected extends BlockError {
  override name = 'Disconnected';
  readonly kind = 'Disconnected';
}

/** A write or discard on a read-only device. */
export class ReadOnly extends BlockError {
  override name = 'ReadOnly';
  readonly kind = 'ReadOnly';
}

/** Sectors outside the device. */
export class OutOfRange extends BlockError {
  override name = 'OutOfRange';
  readonly kind = 'OutOfRange';
}

/** Buffers that add up to a length that is not a whole number of sectors. */
export class Unaligned extends BlockError {
  override name = 'Unaligned';
  readonly kind = 'Unaligned';
}

/** The backend answered BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP (`unsupported`), or memory ran out. */
export class IoError extends BlockError {
  override name = 'IoError';
  readonly kind = 'IoError';
  constructor(message: string, readonly unsupported = false) {
    super(message);
  }
}
