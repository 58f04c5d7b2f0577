// The error every qcow2 refusal throws: which image, which field, what is wrong with it, so a
// corrupt or unsupported image is named precisely (issue 14's bad-input rule).
import { XenError } from '../../errors.js';
export class Qcow2Error extends XenError {
    file;
    field;
    name = 'Qcow2Error';
    constructor(errno, file, field, what) {
        super(errno, `qcow2 image ${file}: ${field}: ${what}`);
        this.file = file;
        this.field = field;
    }
}
//# sourceMappingURL=errors.js.map