export type XType = 'string' | 'int' | 'float' | 'bool'
/** A struct of named fields (VM.create's record), each checked by the call. */
 | 'record' | {
    readonly ref: string;
} | {
    readonly set: XType;
} | {
    readonly map: readonly [XType, XType];
};
/** A decoded parameter or a record field: what both transports can carry. */
export type XValue = string | number | boolean | Date | Double | null | readonly XValue[] | {
    readonly [k: string]: XValue;
};
/** A float field: JavaScript cannot tell 1.0 from 1, XML-RPC must (<double> vs an int64 string). */
export declare class Double {
    readonly value: number;
    constructor(value: number);
    toJSON(): number;
}
/** XAPI's datetime form on the wire: 20261204T13:03:04Z. */
export declare function xapiDate(d: Date): string;
/** A parameter checked against its type (int64 strings become numbers); FIELD_TYPE_ERROR otherwise. */
export declare function checkParam(type: XType, v: unknown, field: string): XValue;
