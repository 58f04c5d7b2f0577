import { XenError, type XenErrnoName } from '../../errors.js';
export declare class Qcow2Error extends XenError {
    readonly file: string;
    readonly field: string;
    name: string;
    constructor(errno: XenErrnoName, file: string, field: string, what: string);
}
