export declare function testBit(bm: Uint8Array, i: number): boolean;
export declare function setBits(bm: Uint8Array, first: number, count: number): void;
/** Every bit of [first, first+count) is set. */
export declare function allSet(bm: Uint8Array, first: number, count: number): boolean;
