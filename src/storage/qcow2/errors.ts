// The error every qcow2 refusal throws: which image, which field, what is wrong with it, so a
// corrupt or unsupported image is named precisely (issue 14's bad-input rule).
import { XenError, type XenErrnoName } from '../../errors.js';

export class Qcow2Error extends XenError {
  override name = 'Qcow2Error';
  constructor(errno: XenErrnoName, readonly file: string, readonly field: string, what: string) {
    super(errno, `qcow2 image ${file}: ${field}: ${what}`);
  }
}
