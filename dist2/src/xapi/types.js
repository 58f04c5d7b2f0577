// XAPI's value types as the two transports carry them, and the check of a call's parameters
// against its declared types (XAPI's FIELD_TYPE_ERROR for a mismatch). XML-RPC has no 64-bit
// integer, so XAPI sends int fields as strings there and takes either form: so do we.
import { fieldTypeError } from './errors.js';
/** A float field: JavaScript cannot tell 1.0 from 1, XML-RPC must (<double> vs an int64 string). */
export class Double {
    value;
    constructor(value) {
        this.value = value;
    }
    toJSON() {
        return this.value;
    }
}
/** XAPI's datetime form on the wire: 20261204T13:03:04Z. */
export function xapiDate(d) {
    return `${d.toISOString().slice(0, 19).replace(/-/g, '')}Z`;
}
const INT64 = /^-?[0-9]{1,19}$/;
/** A parameter checked against its type (int64 strings become numbers); FIELD_TYPE_ERROR otherwise. */
export function checkParam(type, v, field) {
    if (type === 'string') {
        if (typeof v !== 'string')
            throw fieldTypeError(field);
        return v;
    }
    if (type === 'int') {
        const n = typeof v === 'string' && INT64.test(v) ? Number(v) : v;
        if (typeof n !== 'number' || !Number.isSafeInteger(n))
            throw fieldTypeError(field);
        return n;
    }
    if (type === 'float') {
        const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
        if (typeof n !== 'number' || !Number.isFinite(n))
            throw fieldTypeError(field);
        return n;
    }
    if (type === 'bool') {
        if (typeof v !== 'boolean')
            throw fieldTypeError(field);
        return v;
    }
    if (type === 'record') {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date)
            throw fieldTypeError(field);
        return v;
    }
    if ('ref' in type) {
        if (typeof v !== 'string')
            throw fieldTypeError(field);
        return v;
    }
    if ('set' in type) {
        if (!Array.isArray(v))
            throw fieldTypeError(field);
        return v.map((x) => checkParam(type.set, x, field));
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date)
        throw fieldTypeError(field);
    const out = {};
    for (const [k, x] of Object.entries(v))
        out[k] = checkParam(type.map[1], x, field);
    return out;
}
//# sourceMappingURL=types.js.map